// PgStorage's search capability: BM25 computed in SQL over the postings table
// (10_search_postings.sql: lexeme, context, term frequency, document length), and the selection
// log.
//
// BM25 (k1 = 1.2, b = 0.75) over the query's words: a word's forms are the lexemes the four
// analyses give it (see 06_search.sql); its frequency in a context is that of its most frequent
// form, its document frequency the largest of its forms' (from ANALYZE's lexeme statistics, or
// counted in the postings while the table has none), and a context's length the number of
// lexemes in its vector. The candidates (as many as asked, at least 100) are the best by the
// BM25 of the words that pick them, from about `rank_budget` (an option, 2 000) postings at most
// (below); every word's BM25 then orders them. No context's vector is unpacked: before the
// postings table, ranking unpacked each match's vector and read its row, ~25 us a match.

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <soci/postgresql/soci-postgresql.h>

#include "pg_storage.hpp"

namespace ctxmgr::pg {

namespace {

constexpr auto kCorpusRefresh = std::chrono::seconds(30);

// A PostgreSQL array literal of texts: {"a","b\"c"}.
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& s : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string int_array(const std::vector<int>& items) {
  std::string out = "{";
  for (int n : items) {
    if (out.size() > 1) out += ',';
    out += std::to_string(n);
  }
  return out + "}";
}

// A lexeme as a tsquery operand: quoted, with ' doubled and \ escaped.
std::string tsquery_lexeme(const std::string& lex) {
  std::string out = "'";
  for (char c : lex) {
    if (c == '\'') out += '\'';
    if (c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

PgStorage::Corpus PgStorage::corpus(PgPool::Lease& lease) {
  {
    std::lock_guard lock(corpus_mu_);
    if (corpus_at_ != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() - corpus_at_ < kCorpusRefresh) {
      return corpus_;
    }
  }
  Corpus c;
  // ANALYZE's lexeme statistics (what the planner estimates @@ with): the most common lexemes'
  // frequencies, and the least of them, which bounds every other lexeme's.
  std::string schema = sql_.schema();
  std::vector<std::string> elems(2000);
  std::vector<double> freqs(2000);
  lease.sql() << "SELECT u.e, s.most_common_elem_freqs[u.i] FROM pg_stats s, unnest(CAST(CAST("
                 "s.most_common_elems AS text) AS text[])) WITH ORDINALITY AS u(e, i) WHERE "
                 "s.schemaname = :s AND s.tablename = 'context' AND s.attname = 'search'",
      soci::into(elems), soci::into(freqs), soci::use(schema);
  if (lease.sql().got_data() && !elems.empty()) {
    double least = 1;
    for (std::size_t i = 0; i < elems.size(); ++i) {
      c.lexeme_freq[elems[i]] = freqs[i];
      least = std::min(least, freqs[i]);
    }
    c.other_freq = least / 2;  // as PostgreSQL's own estimate for a lexeme not in the list
  }
  // The number of contexts: ANALYZE's row estimate beside its statistics (counting would read
  // the whole table, most of a second at 100 000 contexts with a cold cache), else a count
  // (a table never analysed is small or new). The mean vector length from 1 000 vectors.
  double rows = -1;
  if (!c.lexeme_freq.empty()) {
    const std::string table = sql_.table("context");
    lease.sql() << "SELECT CAST(reltuples AS float8) FROM pg_class WHERE oid = CAST(:t AS "
                   "regclass)",
        soci::use(table), soci::into(rows);
  }
  if (rows < 0) {
    long long n = 0;
    lease.sql() << "SELECT count(*) FROM " + sql_.table("context") + " WHERE NOT deleted",
        soci::into(n);
    rows = static_cast<double>(n);
  }
  double avg = 0;
  lease.sql() << "SELECT coalesce(avg(length(search)), 0) FROM (SELECT search FROM " +
                     sql_.table("context") + " WHERE search IS NOT NULL LIMIT 1000) s",
      soci::into(avg);
  c.docs = std::max(rows, 1.0);
  c.avg_length = avg > 0 ? avg : 1.0;
  std::lock_guard lock(corpus_mu_);
  corpus_ = std::move(c);
  corpus_at_ = std::chrono::steady_clock::now();
  return corpus_;
}

namespace {

// The query's filters, bound by name in both searches (SOCI binds by reference: they live here).
struct Scope {
  explicit Scope(const sdk::SearchQuery& q)
      : agent(q.agent_id),
        agent2(q.agent_id),
        agent3(q.agent_id),
        shared(q.include_shared ? 1 : 0),
        ntags(static_cast<int>(q.tags.size())),
        tags(text_array(q.tags)),
        haspri(q.priority ? 1 : 0),
        pri(q.priority.value_or("")) {}
  // The WHERE condition on `c`: the agent's view (its own, and what grants share with it), not
  // deleted, and the tag and priority filters.
  static std::string condition(const Sql& sql) {
    return " NOT c.deleted AND (c.agent_id = :agent OR (:shared = 1 AND ("
           " EXISTS (SELECT 1 FROM " +
           sql.table("owner_grants") +
           " og WHERE og.owner_id = c.agent_id AND og.agent_id = :agent2)"
           " OR EXISTS (SELECT 1 FROM " +
           sql.table("context_grants") +
           " cg WHERE cg.context_id = c.id AND cg.agent_id = :agent3))))"
           " AND (:ntags = 0 OR (c.metadata_jsonb -> 'tags') ?| CAST(:tags AS text[]))"
           " AND (:haspri = 0 OR coalesce(c.metadata_jsonb ->> 'priority', 'medium') = :pri)";
  }
  std::string agent, agent2, agent3;
  int shared;
  int ntags;
  std::string tags;
  int haspri;
  std::string pri;
  std::string candidates;  // the tsquery of the words that pick candidates (rank_by_bm25)
};

// The forms of each word (numbered from 1, in the query's order), as the index analysed its text.
std::map<int, std::vector<std::string>> word_forms(PgPool::Lease& lease, const Sql& sql,
                                                   const std::vector<std::string>& terms) {
  std::map<int, std::vector<std::string>> forms;
  const std::string schema = "\"" + sql.schema() + "\".";
  std::string words = text_array(terms);
  const std::size_t cap = terms.size() * 8 + 8;
  std::vector<int> term(cap);
  std::vector<std::string> lexeme(cap);
  lease.sql() << "SELECT CAST(t.n AS INTEGER), l FROM unnest(CAST(:words AS text[])) WITH "
                 "ORDINALITY AS t(w, n), unnest(tsvector_to_array("
                 "to_tsvector('pg_catalog.spanish', t.w) || to_tsvector(CAST('" +
                     schema +
                     "ctxmgr_es_plain' AS regconfig), t.w) || "
                     "to_tsvector('pg_catalog.english', t.w) || to_tsvector(CAST('" +
                     schema + "ctxmgr_en_plain' AS regconfig), t.w))) AS l",
      soci::into(term), soci::into(lexeme), soci::use(words);
  if (lease.sql().got_data()) {
    for (std::size_t i = 0; i < term.size(); ++i) forms[term[i]].push_back(lexeme[i]);
  }
  return forms;
}

// The words as BM25 weighs them: per word its number, tsquery (its forms or'ed), document
// frequency and idf; per form its word's number and the lexeme.
struct Words {
  std::vector<int> number;
  std::vector<std::string> tsquery;
  std::vector<double> df, idf;
  std::vector<int> form_number;
  std::vector<std::string> form_lexeme;
};

// Each word's idf from its document frequency: ANALYZE's statistics when the table has them (no
// table scan), else the contexts holding any of its forms, counted in the postings' primary key
// (small or new tables).
Words weigh(PgPool::Lease& lease, const std::string& postings,
            const std::map<int, std::vector<std::string>>& forms, const SearchCorpus& corp) {
  Words w;
  for (const auto& [t, lexemes] : forms) {
    std::string one;
    for (const auto& l : lexemes) {
      if (!one.empty()) one += " | ";
      one += tsquery_lexeme(l);
      w.form_number.push_back(t);
      w.form_lexeme.push_back(l);
    }
    w.number.push_back(t);
    w.tsquery.push_back(one);
  }
  for (std::size_t i = 0; i < w.number.size(); ++i) {
    double df = 0;
    if (!corp.lexeme_freq.empty()) {
      for (const auto& l : forms.at(w.number[i])) {
        auto f = corp.lexeme_freq.find(l);
        df = std::max(df, (f != corp.lexeme_freq.end() ? f->second : corp.other_freq) * corp.docs);
      }
    } else {
      long long matches = 0;
      const std::string lexemes = text_array(forms.at(w.number[i]));
      lease.sql() << "SELECT count(DISTINCT context_id) FROM " + postings +
                         " WHERE lexeme = ANY(CAST(:l AS text[]))",
          soci::use(lexemes), soci::into(matches);
      df = static_cast<double>(matches);
    }
    df = std::min(df, corp.docs);
    w.idf.push_back(std::log(1 + (corp.docs - df + 0.5) / (df + 0.5)));
    w.df.push_back(df);
  }
  return w;
}

// Which words pick the candidates. Candidates come from at most about `budget` postings, so a
// query's most common words leave the picking (they still score the candidates that have them)
// while the rest would match more; if a single word still does, its newest matches in the view
// are the candidates instead of its best (`newest`).
struct CandidateWords {
  std::vector<int> pick;  // per word of Words: 1 when it picks candidates
  std::string tsquery;    // the picking words' forms or'ed, for the newest matches
  bool newest = false;
};

CandidateWords candidate_words(const Words& w, double budget) {
  std::vector<std::size_t> by_df(w.number.size());
  std::iota(by_df.begin(), by_df.end(), std::size_t{0});
  std::sort(by_df.begin(), by_df.end(),
            [&](std::size_t a, std::size_t b) { return w.df[a] < w.df[b]; });
  CandidateWords c;
  c.pick.assign(w.number.size(), 1);
  double estimate = std::accumulate(w.df.begin(), w.df.end(), 0.0);
  for (std::size_t k = by_df.size(); k-- > 1 && estimate > budget;) {
    c.pick[by_df[k]] = 0;
    estimate -= w.df[by_df[k]];
  }
  for (std::size_t i = 0; i < w.number.size(); ++i) {
    if (c.pick[i] == 0) continue;
    if (!c.tsquery.empty()) c.tsquery += " | ";
    c.tsquery += w.tsquery[i];
  }
  c.newest = estimate > budget;
  return c;
}

// BM25 of a word in a context from its postings row(s): `f` its frequency (its most frequent
// form's), `dl` the context's length.
constexpr const char* kBm25Term =
    "idf.w * x.f * 2.2 / (x.f + 1.2 * (0.25 + 0.75 * x.dl / CAST(:avgdl AS float8)))";

// The candidates (`picked`, ids) by the picking words' BM25, read from the postings' primary key
// alone; the view is checked in score order, each candidate by its id, until `depth` pass.
std::string picked_by_postings(const Sql& sql) {
  return " ptf AS (SELECT p.context_id AS id, l.n, max(p.tf) AS f, max(p.dl) AS dl FROM lex l "
         "JOIN idf USING (n) JOIN " +
         sql.table("context_postings") +
         " p ON p.lexeme = l.lexeme WHERE idf.pick = 1 GROUP BY p.context_id, l.n),"
         " partial AS (SELECT x.id, sum(" +
         kBm25Term +
         ") AS s FROM ptf x JOIN idf USING (n) GROUP BY x.id),"
         " picked AS (SELECT pr.id FROM (SELECT id, s FROM partial ORDER BY s DESC) pr"
         " CROSS JOIN LATERAL (SELECT 1 FROM " +
         sql.table("context") + " c WHERE c.id = pr.id AND" + Scope::condition(sql) +
         ") v ORDER BY pr.s DESC LIMIT :depth),";
}

// The newest matches in the view (`picked`, ids), one branch per way into it so that each walks
// an owner's (agent_id, updated_at) index and stops at `depth`: with the view's OR in one
// condition PostgreSQL reads every match's row and sorts them all.
std::string picked_newest(const Sql& sql) {
  const std::string ctx = sql.table("context");
  auto filters = [](const std::string& k) {
    return " AND NOT c.deleted AND c.search @@ CAST(:q" + k + " AS tsquery) AND (:nt" + k +
           " = 0 OR (c.metadata_jsonb -> 'tags') ?| CAST(:tg" + k + " AS text[])) AND (:hp" + k +
           " = 0 OR coalesce(c.metadata_jsonb ->> 'priority', 'medium') = :pr" + k + ")";
  };
  return " picked AS (SELECT id FROM ((SELECT c.id, c.updated_at FROM " + ctx +
         " c WHERE c.agent_id = :ag1" + filters("1") +
         " ORDER BY c.updated_at DESC, c.id DESC LIMIT :dp1) UNION"
         " (SELECT x.id, x.updated_at FROM " +
         sql.table("owner_grants") + " og CROSS JOIN LATERAL (SELECT c.id, c.updated_at FROM " +
         ctx + " c WHERE c.agent_id = og.owner_id" + filters("2") +
         " ORDER BY c.updated_at DESC, c.id DESC LIMIT :dp2) x WHERE :sh2 = 1 AND og.agent_id = "
         ":ag2 AND og.owner_id <> :ag2b) UNION"
         " (SELECT c.id, c.updated_at FROM " +
         sql.table("context_grants") + " cg JOIN " + ctx +
         " c ON c.id = cg.context_id WHERE :sh3 = 1 AND cg.agent_id = :ag3" + filters("3") +
         ")) u ORDER BY updated_at DESC, id DESC LIMIT :depth),";
}

// The candidates ranked by BM25 over every word, into `rows` and `scores` (bound by reference:
// the query runs as this function returns).
void rank_by_bm25(PgPool::Lease& lease, const Sql& sql, const sdk::SearchQuery& q,
                  const std::map<int, std::vector<std::string>>& forms, const SearchCorpus& corp,
                  double rank_budget, Scope& scope, ContextRows& rows,
                  std::vector<double>& scores) {
  const Words words = weigh(lease, sql.table("context_postings"), forms, corp);
  const CandidateWords cand = candidate_words(words, rank_budget);
  scope.candidates = cand.tsquery;
  long long lim = q.limit;
  long long depth = std::max<long long>(lim, 100);
  double avgdl = corp.avg_length;
  std::string tw_s = "{";
  for (std::size_t i = 0; i < words.idf.size(); ++i) {
    tw_s += (i > 0 ? "," : "") + std::to_string(words.idf[i]);
  }
  tw_s += "}";
  std::string tn_s = int_array(words.number), tp_s = int_array(cand.pick),
              ln_s = int_array(words.form_number), ll_s = text_array(words.form_lexeme);
  auto query =
      (lease.sql()
       << "WITH idf(n, w, pick) AS (SELECT * FROM unnest(CAST(:tn AS int[]), CAST(:tw AS "
          "float8[]), CAST(:tp AS int[]))),"
          " lex(n, lexeme) AS (SELECT * FROM unnest(CAST(:ln AS int[]), CAST(:ll AS text[])))," +
              (cand.newest ? picked_newest(sql) : picked_by_postings(sql)) +
              // Every word's BM25 for the candidates: a primary-key probe per candidate and form
              // (LIMIT 1 keeps the probe a nested loop: as a join, the planner may read every
              // posting of a common word instead).
              " full_tf AS (SELECT pk.id, l.n, max(p.tf) AS f, max(p.dl) AS dl FROM picked pk "
              "CROSS "
              "JOIN lex l CROSS JOIN LATERAL (SELECT p.tf, p.dl FROM " +
              sql.table("context_postings") +
              " p WHERE p.lexeme = l.lexeme AND p.context_id = pk.id LIMIT 1) p GROUP BY pk.id, "
              "l.n),"
              " scored AS (SELECT x.id, sum(" +
              kBm25Term +
              ") AS s FROM full_tf x JOIN idf USING (n) GROUP BY x.id)"
              " SELECT " +
              Sql::context_columns() + ", scored.s FROM " + sql.table("context") +
              " c JOIN scored USING (id) ORDER BY scored.s DESC, c.updated_at DESC LIMIT :lim");
  rows.bind_into(query);
  query, soci::into(scores), soci::use(tn_s, "tn"), soci::use(tw_s, "tw"), soci::use(tp_s, "tp"),
      soci::use(ln_s, "ln"), soci::use(ll_s, "ll"), soci::use(depth, "depth"),
      soci::use(avgdl, "avgdl"), soci::use(lim, "lim");
  if (cand.newest) {
    for (const std::string b : {"1", "2", "3"}) {
      query, soci::use(scope.candidates, "q" + b), soci::use(scope.ntags, "nt" + b),
          soci::use(scope.tags, "tg" + b), soci::use(scope.haspri, "hp" + b),
          soci::use(scope.pri, "pr" + b);
    }
    query, soci::use(scope.agent, "ag1"), soci::use(depth, "dp1"), soci::use(depth, "dp2"),
        soci::use(scope.shared, "sh2"), soci::use(scope.agent, "ag2"),
        soci::use(scope.agent, "ag2b"), soci::use(scope.shared, "sh3"),
        soci::use(scope.agent, "ag3");
  } else {
    query, soci::use(scope.agent, "agent"), soci::use(scope.shared, "shared"),
        soci::use(scope.agent2, "agent2"), soci::use(scope.agent3, "agent3"),
        soci::use(scope.ntags, "ntags"), soci::use(scope.tags, "tags"),
        soci::use(scope.haspri, "haspri"), soci::use(scope.pri, "pri");
  }
}

}  // namespace

sdk::Result<std::vector<sdk::SearchHit>> PgStorage::search(const sdk::SearchQuery& q) {
  return replica_reading(
      "search contexts", [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::SearchHit>> {
        const bool relevance = q.order == sdk::SearchOrder::relevance && !q.terms.empty();
        const auto forms = relevance ? word_forms(lease, sql_, q.terms)
                                     : std::map<int, std::vector<std::string>>();
        // Words without a searchable form (stop words only): nothing matches.
        if (relevance && forms.empty()) return std::vector<sdk::SearchHit>();
        Scope scope(q);
        long long lim = q.limit;
        const auto n = static_cast<std::size_t>(std::max<long long>(lim, 1));
        ContextRows rows(n);
        std::vector<double> scores(n);
        if (relevance) {
          rank_by_bm25(lease, sql_, q, forms, corpus(lease), rank_budget_, scope, rows, scores);
        } else {
          auto query = (lease.sql() << "SELECT " + std::string(Sql::context_columns()) +
                                           ", CAST(0 AS float8) FROM " + sql_.table("context") +
                                           " c WHERE" + Scope::condition(sql_) +
                                           " ORDER BY c.updated_at DESC, c.id DESC LIMIT :lim");
          rows.bind_into(query);
          query, soci::into(scores), soci::use(scope.agent), soci::use(scope.shared),
              soci::use(scope.agent2), soci::use(scope.agent3), soci::use(scope.ntags),
              soci::use(scope.tags), soci::use(scope.haspri), soci::use(scope.pri), soci::use(lim);
        }
        rows.settle(lease.sql());
        std::vector<sdk::SearchHit> out;
        for (std::size_t i = 0; i < rows.size(); ++i) {
          out.push_back(sdk::SearchHit{rows.row(i), scores[i]});
        }
        return out;
      });
}

sdk::Result<std::vector<sdk::SearchHit>> PgStorage::in_view(const sdk::SearchQuery& q,
                                                            const std::vector<std::string>& ids) {
  if (ids.empty()) return std::vector<sdk::SearchHit>();
  return replica_reading(
      "read contexts in view",
      [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::SearchHit>> {
        Scope scope(q);
        std::string list = text_array(ids);
        const auto n = ids.size();
        ContextRows rows(n);
        std::vector<double> scores(n);
        {  // the statement runs when `query` goes out of this scope
          auto query = (lease.sql() << "SELECT " + std::string(Sql::context_columns()) +
                                           ", CAST(0 AS float8) FROM " + sql_.table("context") +
                                           " c WHERE c.id = ANY(CAST(:ids AS uuid[])) AND" +
                                           Scope::condition(sql_));
          rows.bind_into(query);
          query, soci::into(scores), soci::use(list), soci::use(scope.agent),
              soci::use(scope.shared), soci::use(scope.agent2), soci::use(scope.agent3),
              soci::use(scope.ntags), soci::use(scope.tags), soci::use(scope.haspri),
              soci::use(scope.pri);
        }
        rows.settle(lease.sql());
        std::vector<sdk::SearchHit> out;
        for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(sdk::SearchHit{rows.row(i), 0});
        return out;
      });
}

sdk::Result<std::int64_t> PgStorage::append_selection(const sdk::SelectionRecord& r) {
  return with_connection(
      "record selection", [&](PgPool::Lease& lease) -> sdk::Result<std::int64_t> {
        long long at = r.at_us;
        long long id = 0;
        lease.sql() << "INSERT INTO " + sql_.table("selection_log") +
                           " (at, agent_id, query, selector, params, results) VALUES (" +
                           from_us("at") +
                           ", :agent, :query, :selector, :params, :results) "
                           "RETURNING id",
            soci::use(at), soci::use(r.agent_id), soci::use(r.query), soci::use(r.selector),
            soci::use(r.params), soci::use(r.results), soci::into(id);
        return static_cast<std::int64_t>(id);
      });
}

sdk::Result<std::vector<sdk::SelectionRecord>> PgStorage::query_selections(const std::string& where,
                                                                           const std::string& key,
                                                                           long long before,
                                                                           long long limit) {
  return replica_reading(
      "read selections",
      [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::SelectionRecord>> {
        const auto n = static_cast<std::size_t>(std::max<long long>(limit, 1));
        std::vector<long long> id(n), at(n);
        std::vector<std::string> agent(n), query(n), selector(n), params(n), results(n);
        lease.sql()
            << "SELECT id, CAST(EXTRACT(EPOCH FROM at) * 1000000 AS BIGINT), agent_id, query, "
               "selector, params, results FROM " +
                   sql_.table("selection_log") + " WHERE " + where + " ORDER BY id DESC LIMIT :lim",
            soci::into(id), soci::into(at), soci::into(agent), soci::into(query),
            soci::into(selector), soci::into(params), soci::into(results), soci::use(key),
            soci::use(before), soci::use(limit);
        std::vector<sdk::SelectionRecord> out;
        if (!lease.sql().got_data()) return out;
        for (std::size_t i = 0; i < id.size(); ++i) {
          out.push_back({id[i], at[i], agent[i], query[i], selector[i], params[i], results[i]});
        }
        return out;
      });
}

sdk::Result<std::optional<sdk::SelectionRecord>> PgStorage::selection(std::int64_t id) {
  auto rows = query_selections("id = CAST(:key AS BIGINT) AND id < :before", std::to_string(id),
                               INT64_MAX, 1);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<sdk::SelectionRecord>();
  return std::optional<sdk::SelectionRecord>(rows->front());
}

sdk::Result<std::vector<sdk::SelectionRecord>> PgStorage::selections(std::string_view agent_id,
                                                                     std::int64_t before_id,
                                                                     std::int64_t limit) {
  return query_selections("agent_id = :key AND id < :before", std::string(agent_id),
                          before_id > 0 ? before_id : INT64_MAX, limit);
}

}  // namespace ctxmgr::pg
