// SqliteStorage's search capability: candidates through FTS5 (BM25) and the selection log.

#include <algorithm>
#include <chrono>

#include <soci/sqlite3/soci-sqlite3.h>

#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"

namespace ctxmgr::sqlite {

namespace {

// A context row followed by one number (the relevance).
struct ScoredInto {
  ContextInto context;
  double score = 0;
  void bind(soci::statement& st) {
    context.bind(st);
    st.exchange(soci::into(score));
  }
};

// FTS5 query text: every word a quoted string (its own tokens, analysed by the `ctxmgr`
// tokenizer), joined by OR so that any of them makes a candidate and more of them rank higher.
std::string match_expression(const std::vector<std::string>& terms) {
  std::string out;
  for (const auto& t : terms) {
    if (!out.empty()) out += " OR ";
    out += '"';
    for (char c : t) {
      out += c;
      if (c == '"') out += '"';
    }
    out += '"';
  }
  return out;
}

// Candidates' filters, on the alias `c`: whose view, tags, priority. Binds, in order:
// :agent, :shared, :agent2, :agent3, :ntags, :tags (JSON array), :haspri, :pri.
constexpr const char* kScopeFilter =
    " c.deleted = 0"
    " AND (c.agent_id = :agent OR (:shared = 1 AND ("
    "   EXISTS (SELECT 1 FROM owner_grants og WHERE og.owner_id = c.agent_id AND og.agent_id = "
    ":agent2)"
    "   OR EXISTS (SELECT 1 FROM context_grants cg WHERE cg.context_id = c.id AND cg.agent_id = "
    ":agent3))))"
    " AND (:ntags = 0 OR EXISTS (SELECT 1 FROM json_each(c.metadata, '$.tags') mt"
    "   WHERE mt.type = 'text' AND mt.value IN (SELECT value FROM json_each(:tags))))"
    " AND (:haspri = 0 OR coalesce(json_extract(c.metadata, '$.priority'), 'medium') = :pri)";

std::string json_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (unsigned char ch : s) {
      if (ch == '"' || ch == '\\') {
        out += '\\';
        out += static_cast<char>(ch);
      } else if (ch < 0x20) {
        static constexpr char kHex[] = "0123456789abcdef";
        out += "\\u00";
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
      } else {
        out += static_cast<char>(ch);
      }
    }
    out += '"';
  }
  return out + "]";
}

// The values kScopeFilter binds, from a query (SOCI binds by reference: they live here).
struct ScopeBinds {
  explicit ScopeBinds(const sdk::SearchQuery& q)
      : agent(q.agent_id),
        agent2(q.agent_id),
        agent3(q.agent_id),
        shared(q.include_shared ? 1 : 0),
        ntags(static_cast<int>(q.tags.size())),
        tags(json_string_array(q.tags)),
        haspri(q.priority ? 1 : 0),
        pri(q.priority.value_or("")) {}
  std::string agent, agent2, agent3;
  int shared;
  int ntags;
  std::string tags;
  int haspri;
  std::string pri;
};

std::string columns_of(const char* alias) {
  std::string cols;
  std::string_view all = kContextColumns;
  while (!all.empty()) {
    const auto comma = all.find(',');
    std::string_view col = all.substr(0, comma);
    while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
    if (!cols.empty()) cols += ", ";
    cols += alias;
    cols += '.';
    cols += col;
    all = comma == std::string_view::npos ? std::string_view{} : all.substr(comma + 1);
  }
  return cols;
}

}  // namespace

sdk::Result<std::vector<sdk::SearchHit>> SqliteStorage::search(const sdk::SearchQuery& q) {
  if (!readers_.is_open()) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  try {
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    ScoredInto into;
    ScopeBinds b(q);
    long long lim = q.limit;
    const bool text = q.order == sdk::SearchOrder::relevance && !q.terms.empty();
    std::string match = match_expression(q.terms);
    static const std::string cols = columns_of("c");  // the same text every time
    std::vector<sdk::SearchHit> out;
    auto collect = [&](soci::statement& st) {
      st.execute();
      while (st.fetch()) out.push_back(sdk::SearchHit{into.context.row(), into.score});
    };
    if (text) {
      // FTS5 ranks every match of its expression (~1 us each). So that a query does not rank
      // tens of thousands, the words matching the most leave the candidate expression while
      // the rest would match more than rank_budget (they still count in bm25: the expression
      // becomes `(rarer) AND (every word)`), and a single word still over the budget takes its
      // newest matches (FTS5 walks rowids backwards and ranks only what it returns).
      std::vector<std::pair<long long, std::size_t>> counts;  // matches (capped), term
      for (std::size_t i = 0; i < q.terms.size(); ++i) {
        std::string one = match_expression({q.terms[i]});
        long long cap = rank_budget_ + 1, n = 0;
        sql << "SELECT count(*) FROM (SELECT rowid FROM context_fts WHERE context_fts MATCH :m "
               "LIMIT :cap)",
            soci::use(one), soci::use(cap), soci::into(n);
        counts.emplace_back(n, i);
      }
      std::sort(counts.begin(), counts.end());
      long long estimate = 0;
      for (const auto& [n, i] : counts) estimate += n;
      std::size_t kept = counts.size();
      while (kept > 1 && estimate > rank_budget_) estimate -= counts[--kept].first;
      if (kept < counts.size()) {
        std::vector<std::string> rarer;
        for (std::size_t k = 0; k < kept; ++k) rarer.push_back(q.terms[counts[k].second]);
        match = "(" + match_expression(rarer) + ") AND (" + match + ")";
      }
      const std::string order = estimate > rank_budget_ ? "rowid DESC" : "rank";
      // Only the best `depth` of FTS5's order are looked up in `context` for the view and
      // filters. When that leaves fewer than `limit`, the next pass takes every match (depth
      // -1): an agent whose view is a small part of the store costs one more pass, not a wrong
      // answer.
      long long depth = std::max<long long>(lim * 4, 400);
      for (;;) {
        auto st = prepare_query(
            sql,
            "SELECT " + cols +
                ", t.s FROM (SELECT rowid AS rid, -rank AS s FROM context_fts WHERE context_fts "
                "MATCH :match ORDER BY " +
                order +
                " LIMIT :depth) t JOIN context c ON c.rowid = "
                "t.rid WHERE" +
                kScopeFilter + " ORDER BY t.s DESC, c.updated_at DESC LIMIT :lim",
            into, match, depth, b.agent, b.shared, b.agent2, b.agent3, b.ntags, b.tags, b.haspri,
            b.pri, lim);
        out.clear();
        collect(st);
        if (static_cast<long long>(out.size()) >= lim || depth < 0) break;
        long long matches = 0;  // counting without ranking is cheap
        sql << "SELECT count(*) FROM (SELECT rowid FROM context_fts WHERE context_fts MATCH :m "
               "LIMIT :d)",
            soci::use(match), soci::use(depth), soci::into(matches);
        if (matches < depth) break;  // the first pass saw every match
        depth = -1;
      }
    } else {
      auto st = prepare_query(sql,
                              "SELECT " + cols + ", 0.0 FROM context c WHERE" + kScopeFilter +
                                  " ORDER BY c.updated_at DESC, c.id DESC LIMIT :lim",
                              into, b.agent, b.shared, b.agent2, b.agent3, b.ntags, b.tags,
                              b.haspri, b.pri, lim);
      collect(st);
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "search contexts");
  }
}

sdk::Result<std::vector<sdk::SearchHit>> SqliteStorage::in_view(
    const sdk::SearchQuery& q, const std::vector<std::string>& ids) {
  if (!readers_.is_open()) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  if (ids.empty()) return std::vector<sdk::SearchHit>();
  try {
    auto slot = readers_.acquire();
    ScoredInto into;
    std::string list = json_string_array(ids);
    ScopeBinds b(q);
    static const std::string cols = columns_of("c");
    auto st = prepare_query(slot->sql,
                            "SELECT " + cols +
                                ", 0.0 FROM context c WHERE c.id IN (SELECT value FROM "
                                "json_each(:ids)) AND" +
                                kScopeFilter,
                            into, list, b.agent, b.shared, b.agent2, b.agent3, b.ntags, b.tags,
                            b.haspri, b.pri);
    std::vector<sdk::SearchHit> out;
    st.execute();
    while (st.fetch()) out.push_back(sdk::SearchHit{into.context.row(), 0.0});
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read contexts in view");
  }
}

bool SqliteStorage::index_pending(WriterStatements& statements) {
  // 18_search_deferred: a change's triggers note its row in context_fts_pending; its index
  // entries are written here, once per transaction: FTS5 writes what it holds in memory as a new
  // segment at every savepoint, so entries written by the triggers themselves cost a segment
  // per change of a group commit. A row noted several times is indexed once, as it is now.
  if (statements.query_int("SELECT EXISTS (SELECT 1 FROM context_fts_pending)") == 0) return false;
  statements.run("DELETE FROM context_fts WHERE rowid IN (SELECT rid FROM context_fts_pending)");
  // CROSS JOIN keeps that order: the planner, without statistics, would walk every context.
  statements.run(
      "INSERT INTO context_fts (rowid, body, id) SELECT s.rid, coalesce(s.body, ''), c.id "
      "FROM context_fts_pending p CROSS JOIN context c CROSS JOIN context_search_text s "
      "WHERE c.rowid = p.rid AND c.deleted = 0 AND s.rid = c.rowid");
  statements.run("DELETE FROM context_fts_pending");
  return true;
}

void SqliteStorage::after_search_change() {
  // Every patch of a context deletes its old row from context_fts and inserts the new one, and a
  // purge deletes one: FTS5 writes each change as a new small segment holding the new entries
  // and delete markers, and its own merging (automerge) keeps the old entries and markers until
  // a merge reaches the oldest segment. Under steady churn the index so grows fragmented between
  // rare big merges, and a common word's doclist is read across every segment: in the soak
  // (docs/reliability.md) a selection's FTS5 part grew 3x in 20 minutes at a constant store
  // size. A negative 'merge' merges whatever segments there are, at most that many pages per
  // call (bounded work on this one commit), and drops the markers once it reaches the oldest:
  // an optimize done in small steps.
  constexpr int kMergePages = 200;
  if (search_merge_every_ <= 0 || ++search_changes_ < search_merge_every_) return;
  search_changes_ = 0;
  const auto started = std::chrono::steady_clock::now();
  try {
    *writer_ << "INSERT INTO context_fts (context_fts, rank) VALUES ('merge', " << -kMergePages
             << ")";
  } catch (const std::exception& e) {
    // The change itself is committed; a merge that fails (e.g. a full disk) is retried later.
    (void)fail(e, "merge the full-text index");
    return;
  }
  host_.metrics().observe(
      "ctxmgr_sqlite_search_merge_seconds", "",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

sdk::Result<std::int64_t> SqliteStorage::append_selection(const sdk::SelectionRecord& r) {
  std::lock_guard lock(writer_mu_);
  if (!writer_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  try {
    long long at = r.at_us;
    *writer_ << "INSERT INTO selection_log (at, agent_id, query, selector, params, results) "
                "VALUES (:at, :agent, :query, :selector, :params, :results)",
        soci::use(at), soci::use(r.agent_id), soci::use(r.query), soci::use(r.selector),
        soci::use(r.params), soci::use(r.results);
    long long id = 0;
    *writer_ << "SELECT last_insert_rowid()", soci::into(id);
    return static_cast<std::int64_t>(id);
  } catch (const std::exception& e) {
    return fail(e, "record selection");
  }
}

namespace {

struct SelectionInto {
  long long id = 0, at = 0;
  std::string agent, query, selector, params, results;
  void bind(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(at));
    st.exchange(soci::into(agent));
    st.exchange(soci::into(query));
    st.exchange(soci::into(selector));
    st.exchange(soci::into(params));
    st.exchange(soci::into(results));
  }
  sdk::SelectionRecord record() const {
    return sdk::SelectionRecord{id, at, agent, query, selector, params, results};
  }
};

constexpr const char* kSelectionColumns =
    "SELECT id, at, agent_id, query, selector, params, results FROM selection_log ";

}  // namespace

sdk::Result<std::optional<sdk::SelectionRecord>> SqliteStorage::selection(std::int64_t id) {
  try {
    auto slot = readers_.acquire();
    SelectionInto into;
    long long key = id;
    auto st =
        prepare_query(slot->sql, std::string(kSelectionColumns) + "WHERE id = :id", into, key);
    st.execute();
    std::optional<sdk::SelectionRecord> out;
    while (st.fetch()) out = into.record();
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read selection");
  }
}

sdk::Result<std::vector<sdk::SelectionRecord>> SqliteStorage::selections(std::string_view agent_id,
                                                                         std::int64_t before_id,
                                                                         std::int64_t limit) {
  try {
    auto slot = readers_.acquire();
    SelectionInto into;
    std::string agent(agent_id);
    long long before = before_id > 0 ? before_id : INT64_MAX;
    long long lim = limit;
    auto st = prepare_query(slot->sql,
                            std::string(kSelectionColumns) +
                                "WHERE agent_id = :agent AND id < :before ORDER BY id DESC LIMIT "
                                ":lim",
                            into, agent, before, lim);
    st.execute();
    std::vector<sdk::SelectionRecord> out;
    while (st.fetch()) out.push_back(into.record());
    return out;
  } catch (const std::exception& e) {
    return fail(e, "list selections");
  }
}

}  // namespace ctxmgr::sqlite
