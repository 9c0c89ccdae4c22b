// StorageBackup of the SQLite storage: the export reads one WAL snapshot on a reader connection
// (writers go on), the restore is one write transaction on the writer connection.

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"
#include "sqlite_transaction.hpp"

namespace ctxmgr::sqlite {

namespace {

// Runs `select` with each output bound to one of `into` and calls `emit()` after every row.
template <class Emit, class... Into>
sdk::Status each_row(soci::session& sql, const std::string& select, Emit&& emit, Into&... into) {
  soci::statement st(sql);
  (st.exchange(soci::into(into)), ...);
  st.alloc();
  st.prepare(select);
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    if (auto s = emit(); !s) return s;
  }
  return {};
}

sdk::Status export_tables(soci::session& sql, sdk::BackupSink& sink) {
  sdk::AgentRow agent;
  long long created = 0, at = 0, seq = 0;
  int flag = 0;
  if (auto s = each_row(
          sql,
          "SELECT agent_id, display_name, role, created_at, disabled FROM agents ORDER BY agent_id",
          [&] {
            agent.created_at_us = created;
            agent.disabled = flag != 0;
            return sink.agent(agent);
          },
          agent.agent_id, agent.display_name, agent.role, created, flag);
      !s) {
    return s;
  }
  sdk::TokenRow token;
  if (auto s = each_row(
          sql,
          "SELECT agent_id, token_hash, created_at FROM agent_tokens ORDER BY agent_id, token_hash",
          [&] {
            token.created_at_us = created;
            return sink.token(token);
          },
          token.agent_id, token.token_hash, created);
      !s) {
    return s;
  }
  {
    ContextInto into;
    auto st = prepare_query(
        sql, std::string("SELECT ") + kContextColumns + " FROM context ORDER BY id", into);
    st.execute();
    while (st.fetch()) {
      if (auto s = sink.context(into.row()); !s) return s;
    }
  }
  {
    HistoryInto into;
    auto st = prepare_query(sql,
                            std::string("SELECT ") + kHistoryColumns +
                                " FROM context_history ORDER BY context_id, version",
                            into);
    st.execute();
    while (st.fetch()) {
      if (auto s = sink.history(into.row()); !s) return s;
    }
  }
  sdk::GrantRow grant;
  for (const auto& [scope, table, key] :
       {std::tuple{sdk::GrantScope::context, "context_grants", "context_id"},
        std::tuple{sdk::GrantScope::owner, "owner_grants", "owner_id"}}) {
    if (auto s = each_row(
            sql,
            std::string("SELECT ") + key + ", agent_id, permission, granted_by, granted_at FROM " +
                table + " ORDER BY " + key + ", agent_id",
            [&, scope = scope] {
              grant.granted_at_us = at;
              return sink.grant(scope, grant);
            },
            grant.scope_id, grant.agent_id, grant.permission, grant.granted_by, at);
        !s) {
      return s;
    }
  }
  sdk::AuditEvent ev;
  if (auto s = each_row(
          sql,
          "SELECT seq, at, agent_id, action, coalesce(context_id, ''), transport, request_id, "
          "details FROM access_log ORDER BY seq",
          [&] {
            ev.seq = seq;
            ev.at_us = at;
            return sink.audit(ev);
          },
          seq, at, ev.agent_id, ev.action, ev.context_id, ev.transport, ev.request_id, ev.details);
      !s) {
    return s;
  }
  sdk::AuditSeal seal;
  if (auto s = each_row(
          sql, "SELECT seq, hash FROM access_log_seal ORDER BY seq",
          [&] {
            seal.seq = seq;
            return sink.seal(seal);
          },
          seq, seal.hash);
      !s) {
    return s;
  }
  sdk::SelectionRecord rec;
  return each_row(
      sql,
      "SELECT id, at, agent_id, query, selector, params, results FROM selection_log ORDER BY id",
      [&] {
        rec.id = seq;
        rec.at_us = at;
        return sink.selection(rec);
      },
      seq, at, rec.agent_id, rec.query, rec.selector, rec.params, rec.results);
}

// The restore transaction: the ordinary write transaction for what it already knows how to write,
// plus the inserts that keep given seq and ids.
class SqliteRestore final : public sdk::RestoreTransaction {
 public:
  SqliteRestore(SqliteStorage& storage, std::unique_ptr<SqliteTransaction> tx)
      : storage_(storage), tx_(std::move(tx)), sql_(tx_->session()) {}

  sdk::Status agent(const sdk::AgentRow& row) override { return tx_->insert_agent(row); }
  sdk::Status token(const sdk::TokenRow& row) override {
    return run("restore token", [&] {
      long long at = row.created_at_us;
      sql_ << "INSERT INTO agent_tokens (token_hash, agent_id, created_at) VALUES (:h, :a, :t)",
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
    return run("restore audit event", [&] {
      long long seq = ev.seq, at = ev.at_us;
      soci::indicator ctx_ind = ev.context_id.empty() ? soci::i_null : soci::i_ok;
      sql_ << "INSERT INTO access_log (seq, at, agent_id, action, context_id, transport, "
              "request_id, details) VALUES (:seq, :at, :agent, :action, :ctx, :tr, :rid, :details)",
          soci::use(seq), soci::use(at), soci::use(ev.agent_id), soci::use(ev.action),
          soci::use(ev.context_id, ctx_ind), soci::use(ev.transport), soci::use(ev.request_id),
          soci::use(ev.details);
    });
  }
  sdk::Status seal(const sdk::AuditSeal& seal) override { return tx_->append_seals({seal}); }
  sdk::Status selection(const sdk::SelectionRecord& r) override {
    return run("restore selection record", [&] {
      long long id = r.id, at = r.at_us;
      sql_ << "INSERT INTO selection_log (id, at, agent_id, query, selector, params, results) "
              "VALUES (:id, :at, :agent, :query, :selector, :params, :results)",
          soci::use(id), soci::use(at), soci::use(r.agent_id), soci::use(r.query),
          soci::use(r.selector), soci::use(r.params), soci::use(r.results);
    });
  }

  sdk::Status erase_all() override {
    return run("erase store", [&] {
      without_log_guards(sql_, [&] {
        for (const char* table :
             {"context_grants", "owner_grants", "context_vectors", "context_history", "context",
              "agent_tokens", "agents", "access_log_seal", "access_log", "selection_log",
              "webhook_deliveries", "webhooks"}) {
          sql_ << std::string("DELETE FROM ") + table;
        }
        sql_ << "DELETE FROM sqlite_sequence WHERE name IN ('access_log', 'selection_log')";
      });
    });
  }

  sdk::Status commit() override { return tx_->commit(); }

 private:
  template <class Fn>
  sdk::Status run(const std::string& what, Fn&& fn) {
    try {
      fn();
      return {};
    } catch (const std::exception& e) {
      return storage_.fail(e, what);
    }
  }

  SqliteStorage& storage_;
  std::unique_ptr<SqliteTransaction> tx_;
  soci::session& sql_;
};

}  // namespace

sdk::Status SqliteStorage::export_all(sdk::BackupSink& sink) {
  if (!readers_.is_open()) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  try {
    auto slot = readers_.acquire();
    // A read transaction on a WAL database sees one snapshot from its first read to its end.
    slot->sql << "BEGIN";
    sdk::Status status;
    try {
      status = export_tables(slot->sql, sink);
    } catch (...) {
      slot->sql << "ROLLBACK";
      throw;
    }
    slot->sql << "ROLLBACK";  // nothing was written; ending it releases the snapshot
    return status;
  } catch (const std::exception& e) {
    return fail(e, "export store");
  }
}

sdk::Result<bool> SqliteStorage::is_empty() {
  if (!readers_.is_open()) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  try {
    auto slot = readers_.acquire();
    int any = 0;
    slot->sql << "SELECT EXISTS (SELECT 1 FROM agents) OR EXISTS (SELECT 1 FROM context) OR "
                 "EXISTS (SELECT 1 FROM access_log) OR EXISTS (SELECT 1 FROM selection_log)",
        soci::into(any);
    return any == 0;
  } catch (const std::exception& e) {
    return fail(e, "read store");
  }
}

sdk::Result<std::unique_ptr<sdk::RestoreTransaction>> SqliteStorage::begin_restore() {
  auto tx = begin();
  if (!tx) return tx.error();
  // begin() makes nothing but SqliteTransactions.
  std::unique_ptr<SqliteTransaction> own(static_cast<SqliteTransaction*>(tx->release()));
  return std::unique_ptr<sdk::RestoreTransaction>(
      std::make_unique<SqliteRestore>(*this, std::move(own)));
}

}  // namespace ctxmgr::sqlite
