// StorageBackup of the PostgreSQL storage: the export reads one REPEATABLE READ snapshot through
// cursors (bounded memory at any size); the restore is one transaction that keeps the given seq
// and ids (OVERRIDING SYSTEM VALUE) and moves the identity sequences past them.

#include <charconv>
#include <string>
#include <utility>
#include <vector>

#include "pg_sql.hpp"
#include "pg_storage.hpp"
#include "pg_transaction.hpp"

namespace ctxmgr::pg {

namespace {

constexpr std::size_t kBatch = 500;

std::int64_t to_i64(const std::string& text) {
  std::int64_t v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

// A timestamp column as text microseconds (every column is read as text here).
std::string us(const char* column) { return "CAST(" + to_us(column) + " AS TEXT)"; }

// Runs `select` through a cursor, kBatch rows at a time, every column read as text (NULL as "");
// calls emit(row) for each row.
template <class Emit>
sdk::Status each_row(soci::session& sql, const std::string& select, std::size_t columns,
                     Emit&& emit) {
  sql << "DECLARE ctxmgr_backup NO SCROLL CURSOR FOR " + select;
  std::vector<std::string> row(columns);
  for (;;) {
    std::vector<std::vector<std::string>> cols(columns, std::vector<std::string>(kBatch));
    std::vector<std::vector<soci::indicator>> inds(columns, std::vector<soci::indicator>(kBatch));
    soci::statement st(sql);
    for (std::size_t c = 0; c < columns; ++c) st.exchange(soci::into(cols[c], inds[c]));
    st.alloc();
    st.prepare("FETCH " + std::to_string(kBatch) + " FROM ctxmgr_backup");
    st.define_and_bind();
    const bool got = st.execute(true);
    const std::size_t n = got ? cols[0].size() : 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < columns; ++c) {
        row[c] = inds[c][i] == soci::i_null ? std::string() : cols[c][i];
      }
      if (auto s = emit(row); !s) return s;
    }
    if (n < kBatch) break;
  }
  sql << "CLOSE ctxmgr_backup";
  return {};
}

// Every table is read in its key's order, named through the alias `t`: an ORDER BY on a bare
// name would sort by the output column, the key cast to text ("10" before "9").
sdk::Status export_tables(soci::session& sql, const Sql& q, sdk::BackupSink& sink) {
  using Row = std::vector<std::string>;
  if (auto s = each_row(sql,
                        "SELECT agent_id, display_name, role, " + us("created_at") +
                            ", CASE WHEN disabled THEN '1' ELSE '0' END FROM " + q.table("agents") +
                            " ORDER BY agent_id",
                        5,
                        [&](const Row& r) {
                          return sink.agent({r[0], r[1], r[2], to_i64(r[3]), r[4] == "1"});
                        });
      !s) {
    return s;
  }
  if (auto s = each_row(sql,
                        "SELECT agent_id, token_hash, " + us("created_at") + " FROM " +
                            q.table("agent_tokens") + " ORDER BY agent_id, token_hash",
                        3,
                        [&](const Row& r) {
                          return sink.token({r[0], r[1], to_i64(r[2])});
                        });
      !s) {
    return s;
  }
  if (auto s = each_row(sql,
                        "SELECT CAST(id AS TEXT), agent_id, context_data, metadata, "
                        "CAST(version AS TEXT), " +
                            us("created_at") + ", " + us("updated_at") +
                            ", created_by, updated_by, CASE WHEN deleted THEN '1' ELSE '0' END "
                            "FROM " +
                            q.table("context") + " AS t ORDER BY t.id",
                        10,
                        [&](const Row& r) {
                          return sink.context({r[0], r[1], r[2], r[3], to_i64(r[4]), to_i64(r[5]),
                                               to_i64(r[6]), r[7], r[8], r[9] == "1"});
                        });
      !s) {
    return s;
  }
  if (auto s = each_row(
          sql,
          "SELECT CAST(context_id AS TEXT), CAST(version AS TEXT), action, "
          "agent_id, " +
              us("at") + ", context_data, metadata FROM " + q.table("context_history") +
              " AS t ORDER BY t.context_id, t.version",
          7,
          [&](const Row& r) {
            return sink.history({r[0], to_i64(r[1]), r[2], r[3], to_i64(r[4]), r[5], r[6]});
          });
      !s) {
    return s;
  }
  for (const auto& [scope, table, key] :
       {std::tuple{sdk::GrantScope::context, "context_grants", "CAST(context_id AS TEXT)"},
        std::tuple{sdk::GrantScope::owner, "owner_grants", "owner_id"}}) {
    if (auto s = each_row(sql,
                          std::string("SELECT ") + key + ", agent_id, permission, granted_by, " +
                              us("granted_at") + " FROM " + q.table(table) + " ORDER BY 1, 2",
                          5,
                          [&, scope = scope](const Row& r) {
                            return sink.grant(scope, {r[0], r[1], r[2], r[3], to_i64(r[4])});
                          });
        !s) {
      return s;
    }
  }
  if (auto s = each_row(
          sql,
          "SELECT CAST(seq AS TEXT), " + us("at") +
              ", agent_id, action, CAST(context_id AS TEXT), transport, request_id, "
              "details FROM " +
              q.table("access_log") + " AS t ORDER BY t.seq",
          8,
          [&](const Row& r) {
            return sink.audit({to_i64(r[0]), to_i64(r[1]), r[2], r[3], r[4], r[5], r[6], r[7]});
          });
      !s) {
    return s;
  }
  if (auto s = each_row(
          sql,
          "SELECT CAST(seq AS TEXT), hash FROM " + q.table("access_log_seal") + " AS t ORDER BY t.seq", 2,
          [&](const Row& r) {
            return sink.seal({to_i64(r[0]), r[1]});
          });
      !s) {
    return s;
  }
  return each_row(
      sql,
      "SELECT CAST(id AS TEXT), " + us("at") +
          ", agent_id, query, selector, params, results FROM " + q.table("selection_log") +
          " AS t ORDER BY t.id",
      7, [&](const Row& r) {
        return sink.selection({to_i64(r[0]), to_i64(r[1]), r[2], r[3], r[4], r[5], r[6]});
      });
}

// The restore transaction: the ordinary write transaction for what it already knows how to write,
// plus the inserts that keep given seq and ids.
class PgRestore final : public sdk::RestoreTransaction {
 public:
  PgRestore(PgStorage& storage, std::unique_ptr<PgTransaction> tx)
      : storage_(storage), tx_(std::move(tx)) {}

  sdk::Status agent(const sdk::AgentRow& row) override { return tx_->insert_agent(row); }
  sdk::Status token(const sdk::TokenRow& row) override {
    return run("restore token", [&](soci::session& sql) {
      long long at = row.created_at_us;
      sql << "INSERT INTO " + storage_.sql().table("agent_tokens") +
                 " (token_hash, agent_id, created_at) VALUES (:h, :a, " + from_us("t") + ")",
          soci::use(row.token_hash), soci::use(row.agent_id), soci::use(at);
    });
  }
  sdk::Status context(const sdk::ContextRow& row) override { return tx_->insert_context(row); }
  sdk::Status history(const sdk::HistoryRow& row) override { return tx_->append_history(row); }
  sdk::Status grant(sdk::GrantScope scope, const sdk::GrantRow& row) override {
    auto put = tx_->put_grant(scope, row);
    if (!put) return put.error();
    return {};
  }
  sdk::Status audit(const sdk::AuditEvent& ev) override {
    return run("restore audit event", [&](soci::session& sql) {
      long long seq = ev.seq, at = ev.at_us;
      soci::indicator ctx_ind = ev.context_id.empty() ? soci::i_null : soci::i_ok;
      sql << "INSERT INTO " + storage_.sql().table("access_log") +
                 " (seq, at, agent_id, action, context_id, transport, request_id, details) "
                 "OVERRIDING SYSTEM VALUE VALUES (:seq, " +
                 from_us("at") + ", :agent, :action, CAST(:ctx AS uuid), :tr, :rid, :details)",
          soci::use(seq), soci::use(at), soci::use(ev.agent_id), soci::use(ev.action),
          soci::use(ev.context_id, ctx_ind), soci::use(ev.transport), soci::use(ev.request_id),
          soci::use(ev.details);
    });
  }
  sdk::Status seal(const sdk::AuditSeal& seal) override { return tx_->append_seals({seal}); }
  sdk::Status selection(const sdk::SelectionRecord& r) override {
    return run("restore selection record", [&](soci::session& sql) {
      long long id = r.id, at = r.at_us;
      sql << "INSERT INTO " + storage_.sql().table("selection_log") +
                 " (id, at, agent_id, query, selector, params, results) OVERRIDING SYSTEM VALUE "
                 "VALUES (:id, " +
                 from_us("at") + ", :agent, :query, :selector, :params, :results)",
          soci::use(id), soci::use(at), soci::use(r.agent_id), soci::use(r.query),
          soci::use(r.selector), soci::use(r.params), soci::use(r.results);
    });
  }

  sdk::Status erase_all() override {
    return run("erase store", [&](soci::session& sql) {
      const auto& q = storage_.sql();
      // The append-only triggers refuse UPDATE, DELETE and TRUNCATE; they are off only inside this
      // transaction (ALTER TABLE is transactional), and TRUNCATE takes the tables' exclusive locks
      // until it ends.
      for (const char* t : {"access_log", "access_log_seal"}) {
        sql << "ALTER TABLE " + q.table(t) + " DISABLE TRIGGER USER";
      }
      sql << "TRUNCATE " + q.table("context_grants") + ", " + q.table("owner_grants") + ", " +
                 q.table("context_vectors") + ", " + q.table("context_postings") + ", " +
                 q.table("context_history") + ", " +
                 q.table("context") + ", " +
                 q.table("agent_tokens") + ", " + q.table("agents") + ", " +
                 q.table("access_log_seal") + ", " + q.table("access_log") + ", " +
                 q.table("selection_log") + ", " + q.table("webhook_deliveries") + ", " +
                 q.table("webhooks") + " RESTART IDENTITY";
      for (const char* t : {"access_log", "access_log_seal"}) {
        sql << "ALTER TABLE " + q.table(t) + " ENABLE TRIGGER USER";
      }
    });
  }

  sdk::Status commit() override {
    auto moved = run("advance sequences", [&](soci::session& sql) {
      // New events and selections continue after the restored ones.
      for (const auto& [table, column] :
           {std::pair{"access_log", "seq"}, std::pair{"selection_log", "id"}}) {
        // Named: a bound value must outlive the statement, which runs at the end of the line.
        const std::string name = storage_.sql().table(table);
        const std::string col = column;
        sql << "SELECT setval(pg_get_serial_sequence(:t, :c), max(" + col + ")) FROM " + name +
                   " HAVING max(" + col + ") IS NOT NULL",
            soci::use(name), soci::use(col);
      }
    });
    if (!moved) return moved;
    return tx_->commit();
  }

 private:
  template <class Fn>
  sdk::Status run(const std::string& what, Fn&& fn) {
    try {
      fn(tx_->session());
      return {};
    } catch (const std::exception& e) {
      return storage_.fail(tx_->lease(), e, what);
    }
  }

  PgStorage& storage_;
  std::unique_ptr<PgTransaction> tx_;
};

}  // namespace

sdk::Status PgStorage::export_all(sdk::BackupSink& sink) {
  return with_connection("export store", [&](PgPool::Lease& lease) -> sdk::Status {
    auto& sql = lease.sql();
    // One snapshot for every table; writers are not blocked by it.
    sql << "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    sdk::Status status;
    try {
      status = export_tables(sql, sql_, sink);
    } catch (...) {
      sql << "ROLLBACK";
      throw;
    }
    sql << "ROLLBACK";
    return status;
  });
}

sdk::Result<bool> PgStorage::is_empty() {
  return reading("read store", [&](PgPool::Lease& lease) -> sdk::Result<bool> {
    int any = 0;
    lease.sql() << "SELECT CASE WHEN EXISTS (SELECT 1 FROM " + sql_.table("agents") +
                       ") OR EXISTS (SELECT 1 FROM " + sql_.table("context") +
                       ") OR EXISTS (SELECT 1 FROM " + sql_.table("access_log") +
                       ") OR EXISTS (SELECT 1 FROM " + sql_.table("selection_log") +
                       ") THEN 1 ELSE 0 END",
        soci::into(any);
    return any == 0;
  });
}

sdk::Result<std::unique_ptr<sdk::RestoreTransaction>> PgStorage::begin_restore() {
  auto tx = begin();
  if (!tx) return tx.error();
  // begin() makes nothing but PgTransactions.
  std::unique_ptr<PgTransaction> own(static_cast<PgTransaction*>(tx->release()));
  return std::unique_ptr<sdk::RestoreTransaction>(
      std::make_unique<PgRestore>(*this, std::move(own)));
}

}  // namespace ctxmgr::pg
