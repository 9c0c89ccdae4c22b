#include "sqlite_transaction.hpp"

#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"

namespace ctxmgr::sqlite {

SqliteTransaction::~SqliteTransaction() {
  if (done_) return;
  try {
    sql_ << "ROLLBACK";
  } catch (const std::exception& e) {
    // SQLite may already have rolled back (e.g. after SQLITE_FULL); nothing else to undo.
    (void)storage_.fail(e, "rollback");
  }
}

sdk::Result<std::optional<sdk::ContextRow>> SqliteTransaction::get_for_update(std::string_view id) {
  try {
    ContextInto into;
    std::string key(id);
    auto st = prepare_query(
        sql_, std::string("SELECT ") + kContextColumns + " FROM context WHERE id = :id", into, key);
    st.execute();
    if (!st.fetch()) return std::optional<sdk::ContextRow>();
    return std::optional<sdk::ContextRow>(into.row());
  } catch (const std::exception& e) {
    return storage_.fail(e, "read context");
  }
}

sdk::Status SqliteTransaction::insert_context(const sdk::ContextRow& r) {
  try {
    statements_.run(
        "INSERT INTO context (id, agent_id, context_data, metadata, version, created_at, "
        "updated_at, created_by, updated_by, deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10)",
        {r.id, r.agent_id, r.context_data, r.metadata, r.version, r.created_at_us, r.updated_at_us,
         r.created_by, r.updated_by, std::int64_t{r.deleted ? 1 : 0}});
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "insert context");
  }
}

sdk::Status SqliteTransaction::update_context(const sdk::ContextRow& r) {
  try {
    const int changed = statements_.run(
        "UPDATE context SET agent_id = ?1, context_data = ?2, metadata = ?3, version = ?4, "
        "updated_at = ?5, updated_by = ?6, deleted = ?7 WHERE id = ?8",
        {r.agent_id, r.context_data, r.metadata, r.version, r.updated_at_us, r.updated_by,
         std::int64_t{r.deleted ? 1 : 0}, r.id});
    if (changed != 1) {
      return sdk::Error(sdk::Errc::not_found, "context " + r.id + " does not exist");
    }
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "update context");
  }
}

sdk::Status SqliteTransaction::purge_context(std::string_view id) {
  try {
    std::string key(id);
    sql_ << "DELETE FROM context_history WHERE context_id = :id", soci::use(key);
    sql_ << "DELETE FROM context WHERE id = :id", soci::use(key);
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "purge context");
  }
}

sdk::Status SqliteTransaction::append_history(const sdk::HistoryRow& r) {
  try {
    statements_.run(
        "INSERT INTO context_history (context_id, version, action, agent_id, at, context_data, "
        "metadata) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        {r.context_id, r.version, r.action, r.agent_id, r.at_us, r.context_data, r.metadata});
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "append history");
  }
}

sdk::Result<std::int64_t> SqliteTransaction::append_audit(const sdk::AuditEvent& ev) {
  try {
    WriterStatements::Value context;  // NULL for an event about no context
    if (!ev.context_id.empty()) context = std::string_view(ev.context_id);
    statements_.run(
        "INSERT INTO access_log (at, agent_id, action, context_id, transport, request_id, "
        "details) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        {ev.at_us, ev.agent_id, ev.action, context, ev.transport, ev.request_id, ev.details});
    return statements_.last_insert_rowid();
  } catch (const std::exception& e) {
    return storage_.fail(e, "append audit event");
  }
}

sdk::Status SqliteTransaction::mark() {
  try {
    if (marked_) statements_.run("RELEASE SAVEPOINT m");
    statements_.run("SAVEPOINT m");
    marked_ = true;
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "mark");
  }
}

sdk::Status SqliteTransaction::undo_to_mark() {
  if (!marked_) return sdk::Error(sdk::Errc::internal, "undo_to_mark without a mark");
  try {
    statements_.run("ROLLBACK TO SAVEPOINT m");
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "undo to mark");
  }
}

sdk::Result<std::vector<std::int64_t>> SqliteTransaction::append_audits(
    const std::vector<sdk::AuditEvent>& events) {
  // SQLite runs in the process: a statement per event costs no round trip. append_audit's
  // statement is prepared once per writer and kept (writer_statements.hpp), for a batch of
  // creates' events as for thousands of read events.
  std::vector<std::int64_t> seqs;
  seqs.reserve(events.size());
  for (const auto& ev : events) {
    auto seq = append_audit(ev);
    if (!seq) return seq.error();
    seqs.push_back(*seq);
  }
  return seqs;
}

sdk::Status SqliteTransaction::insert_agent(const sdk::AgentRow& a) {
  try {
    long long created = a.created_at_us;
    int disabled = a.disabled ? 1 : 0;
    sql_ << "INSERT INTO agents (agent_id, display_name, role, created_at, disabled) VALUES (:id, "
            ":name, :role, :c, :d)",
        soci::use(a.agent_id), soci::use(a.display_name), soci::use(a.role), soci::use(created),
        soci::use(disabled);
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "insert agent");
  }
}

sdk::Status SqliteTransaction::update_agent(const sdk::AgentRow& a) {
  try {
    int disabled = a.disabled ? 1 : 0;
    soci::statement st =
        (sql_.prepare << "UPDATE agents SET display_name = :name, role = :role, "
                         "disabled = :d WHERE agent_id = :id",
         soci::use(a.display_name), soci::use(a.role), soci::use(disabled), soci::use(a.agent_id));
    st.execute(true);
    if (st.get_affected_rows() != 1) {
      return sdk::Error(sdk::Errc::not_found, "agent " + a.agent_id + " does not exist");
    }
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "update agent");
  }
}

sdk::Status SqliteTransaction::set_token(std::string_view agent_id, std::string_view token_hash,
                                         std::int64_t at_us) {
  try {
    std::string agent(agent_id), hash(token_hash);
    long long at = at_us;
    sql_ << "DELETE FROM agent_tokens WHERE agent_id = :a", soci::use(agent);
    sql_ << "INSERT INTO agent_tokens (token_hash, agent_id, created_at) VALUES (:h, :a, :t)",
        soci::use(hash), soci::use(agent), soci::use(at);
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "set token");
  }
}

sdk::Result<bool> SqliteTransaction::put_grant(sdk::GrantScope scope, const sdk::GrantRow& g) {
  try {
    const bool ctx = scope == sdk::GrantScope::context;
    const std::string table = ctx ? "context_grants" : "owner_grants";
    const std::string key = ctx ? "context_id" : "owner_id";
    int existed = 0;
    sql_ << "SELECT count(*) FROM " + table + " WHERE " + key + " = :s AND agent_id = :a",
        soci::into(existed), soci::use(g.scope_id), soci::use(g.agent_id);
    long long at = g.granted_at_us;
    sql_ << "INSERT INTO " + table + " (" + key +
                ", agent_id, permission, granted_by, granted_at) VALUES (:s, :a, :p, :b, :t) "
                "ON CONFLICT (" +
                key +
                ", agent_id) DO UPDATE SET permission = excluded.permission, "
                "granted_by = excluded.granted_by, granted_at = excluded.granted_at",
        soci::use(g.scope_id), soci::use(g.agent_id), soci::use(g.permission),
        soci::use(g.granted_by), soci::use(at);
    return existed != 0;
  } catch (const std::exception& e) {
    return storage_.fail(e, "put grant");
  }
}

sdk::Result<bool> SqliteTransaction::remove_grant(sdk::GrantScope scope, std::string_view scope_id,
                                                  std::string_view agent_id) {
  try {
    const bool ctx = scope == sdk::GrantScope::context;
    std::string id(scope_id), agent(agent_id);
    soci::statement st = (sql_.prepare << std::string("DELETE FROM ") +
                                              (ctx ? "context_grants WHERE context_id"
                                                   : "owner_grants WHERE owner_id") +
                                              " = :s AND agent_id = :a",
                          soci::use(id), soci::use(agent));
    st.execute(true);
    return st.get_affected_rows() > 0;
  } catch (const std::exception& e) {
    return storage_.fail(e, "remove grant");
  }
}

sdk::Result<std::optional<sdk::AuditSeal>> SqliteTransaction::last_seal() {
  try {
    // The write transaction is already exclusive: it is the sealing lock.
    sdk::AuditSeal seal;
    long long seq = 0;
    sql_ << "SELECT seq, hash FROM access_log_seal ORDER BY seq DESC LIMIT 1", soci::into(seq),
        soci::into(seal.hash);
    if (!sql_.got_data()) return std::optional<sdk::AuditSeal>();
    seal.seq = seq;
    return std::optional<sdk::AuditSeal>(seal);
  } catch (const std::exception& e) {
    return storage_.fail(e, "read last seal");
  }
}

sdk::Status SqliteTransaction::append_seals(const std::vector<sdk::AuditSeal>& seals) {
  try {
    long long seq = 0;
    std::string hash;
    soci::statement st = (sql_.prepare << "INSERT INTO access_log_seal (seq, hash) VALUES (:s, :h)",
                          soci::use(seq), soci::use(hash));
    for (const auto& s : seals) {
      seq = s.seq;
      hash = s.hash;
      st.execute(true);
    }
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "append seals");
  }
}

sdk::Status SqliteTransaction::commit() {
  try {
    // Whatever wrote context rows (these calls, a restore, an erasure) left them noted.
    const bool search_changed = storage_.index_pending(statements_);
    statements_.run("COMMIT");
    done_ = true;
    if (search_changed) storage_.after_search_change();  // still the only writer
    lock_.unlock();
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(e, "commit");
  }
}

}  // namespace ctxmgr::sqlite
