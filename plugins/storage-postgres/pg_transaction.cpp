#include "pg_transaction.hpp"

#include <algorithm>

#include "pg_sql.hpp"
#include "pg_storage.hpp"

namespace ctxmgr::pg {

namespace {

// Held rows beyond this are placed in the pipeline (a restore inserts thousands in one
// transaction; a batch of creates stays far below).
constexpr std::size_t kHeldRowsMax = 512;

}  // namespace

PgTransaction::~PgTransaction() {
  if (done_) return;
  try {
    lease_.sql() << "ROLLBACK";
  } catch (const std::exception& e) {
    (void)storage_.fail(lease_, e, "rollback");
  }
}

sdk::Result<std::optional<sdk::ContextRow>> PgTransaction::get_for_update(std::string_view id) {
  try {
    // What is held goes first, in the same round trip.
    const auto rows =
        send("read context", storage_.sql().hot().context_for_update, {std::string(id)});
    if (rows.empty()) return std::optional<sdk::ContextRow>();
    return std::optional<sdk::ContextRow>(context_row(rows.front()));
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "read context");
  }
}

sdk::Status PgTransaction::insert_context(const sdk::ContextRow& r) {
  held_contexts_.push_back(r);
  return held();
}

sdk::Status PgTransaction::update_context(const sdk::ContextRow& r) {
  try {
    send_held();  // what is held goes first
    long long version = r.version, updated = r.updated_at_us;
    int deleted = r.deleted ? 1 : 0;
    int found = 0;
    soci::indicator ind = soci::i_ok;
    lease_.sql() << "UPDATE " + storage_.sql().table("context") +
                        " SET agent_id = :agent, context_data = :data, metadata = :meta, "
                        "version = :v, updated_at = " +
                        from_us("u") +
                        ", updated_by = :ub, deleted = :d <> 0 WHERE id = CAST(:id AS uuid) "
                        "RETURNING 1",
        soci::use(r.agent_id), soci::use(r.context_data), soci::use(r.metadata), soci::use(version),
        soci::use(updated), soci::use(r.updated_by), soci::use(deleted), soci::use(r.id),
        soci::into(found, ind);
    if (found != 1) return sdk::Error(sdk::Errc::not_found, "context " + r.id + " does not exist");
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "update context");
  }
}

sdk::Status PgTransaction::purge_context(std::string_view id) {
  try {
    send_held();  // what is held goes first
    std::string key(id);
    lease_.sql() << "DELETE FROM " + storage_.sql().table("context_history") +
                        " WHERE context_id = CAST(:id AS uuid)",
        soci::use(key);
    lease_.sql() << "DELETE FROM " + storage_.sql().table("context") +
                        " WHERE id = CAST(:id AS uuid)",
        soci::use(key);
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "purge context");
  }
}

sdk::Status PgTransaction::append_history(const sdk::HistoryRow& r) {
  held_history_.push_back(r);
  return held();
}

sdk::Result<std::int64_t> PgTransaction::append_audit(const sdk::AuditEvent& ev) {
  feed_change_ = feed_change_ || sdk::is_feed_action(ev.action);
  try {
    // Sent with everything held before it: a create is this one round trip.
    std::optional<std::string> ctx;
    if (!ev.context_id.empty()) ctx = ev.context_id;
    const auto seq = send("append audit event", storage_.sql().hot().append_audit,
                          {std::to_string(ev.at_us), ev.agent_id, ev.action, ctx, ev.transport,
                           ev.request_id, ev.details});
    if (seq.size() != 1 || seq.front().empty())
      return sdk::Error(sdk::Errc::internal, "append audit event: no seq");
    return static_cast<std::int64_t>(std::stoll(seq.front().front()));
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "append audit event");
  }
}

sdk::Status PgTransaction::insert_agent(const sdk::AgentRow& a) {
  try {
    send_held();  // what is held goes first
    long long created = a.created_at_us;
    int disabled = a.disabled ? 1 : 0;
    lease_.sql() << "INSERT INTO " + storage_.sql().table("agents") +
                        " (agent_id, display_name, role, created_at, disabled) VALUES (:id, :name, "
                        ":role, " +
                        from_us("c") + ", :d <> 0)",
        soci::use(a.agent_id), soci::use(a.display_name), soci::use(a.role), soci::use(created),
        soci::use(disabled);
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "insert agent");
  }
}

sdk::Status PgTransaction::update_agent(const sdk::AgentRow& a) {
  try {
    send_held();  // what is held goes first
    int disabled = a.disabled ? 1 : 0;
    int found = 0;
    soci::indicator ind = soci::i_ok;
    lease_.sql() << "UPDATE " + storage_.sql().table("agents") +
                        " SET display_name = :name, role = :role, disabled = :d <> 0 WHERE "
                        "agent_id = :id RETURNING 1",
        soci::use(a.display_name), soci::use(a.role), soci::use(disabled), soci::use(a.agent_id),
        soci::into(found, ind);
    if (found != 1)
      return sdk::Error(sdk::Errc::not_found, "agent " + a.agent_id + " does not exist");
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "update agent");
  }
}

sdk::Status PgTransaction::set_token(std::string_view agent_id, std::string_view token_hash,
                                     std::int64_t at_us) {
  try {
    send_held();  // what is held goes first
    std::string agent(agent_id), hash(token_hash);
    long long at = at_us;
    lease_.sql() << "DELETE FROM " + storage_.sql().table("agent_tokens") + " WHERE agent_id = :a",
        soci::use(agent);
    lease_.sql() << "INSERT INTO " + storage_.sql().table("agent_tokens") +
                        " (token_hash, agent_id, created_at) VALUES (:h, :a, " + from_us("t") + ")",
        soci::use(hash), soci::use(agent), soci::use(at);
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "set token");
  }
}

sdk::Result<bool> PgTransaction::put_grant(sdk::GrantScope scope, const sdk::GrantRow& g) {
  try {
    send_held();  // what is held goes first
    const bool ctx = scope == sdk::GrantScope::context;
    const std::string table = storage_.sql().table(ctx ? "context_grants" : "owner_grants");
    const std::string key = ctx ? "context_id" : "owner_id";
    const std::string id_expr = ctx ? "CAST(:s AS uuid)" : ":s";
    long long at = g.granted_at_us;
    int inserted = 0;
    // xmax = 0 on the returned row: it was inserted, not updated.
    lease_.sql() << "INSERT INTO " + table + " (" + key +
                        ", agent_id, permission, granted_by, granted_at) VALUES (" + id_expr +
                        ", :a, :p, :b, " + from_us("t") + ") ON CONFLICT (" + key +
                        ", agent_id) DO UPDATE SET permission = excluded.permission, granted_by = "
                        "excluded.granted_by, granted_at = excluded.granted_at "
                        "RETURNING CASE WHEN xmax = 0 THEN 1 ELSE 0 END",
        soci::use(g.scope_id), soci::use(g.agent_id), soci::use(g.permission),
        soci::use(g.granted_by), soci::use(at), soci::into(inserted);
    return inserted == 0;
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "put grant");
  }
}

sdk::Result<bool> PgTransaction::remove_grant(sdk::GrantScope scope, std::string_view scope_id,
                                              std::string_view agent_id) {
  try {
    send_held();  // what is held goes first
    const bool ctx = scope == sdk::GrantScope::context;
    std::string id(scope_id), agent(agent_id);
    int removed = 0;
    soci::indicator ind = soci::i_ok;
    lease_.sql() << "WITH d AS (DELETE FROM " +
                        storage_.sql().table(ctx ? "context_grants" : "owner_grants") + " WHERE " +
                        (ctx ? "context_id = CAST(:s AS uuid)" : "owner_id = :s") +
                        " AND agent_id = :a RETURNING 1) SELECT count(*) FROM d",
        soci::use(id), soci::use(agent), soci::into(removed, ind);
    return removed > 0;
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "remove grant");
  }
}

sdk::Result<std::optional<sdk::AuditSeal>> PgTransaction::last_seal() {
  try {
    send_held();  // what is held goes first
    // One sealer at a time across every process: a transaction-level advisory lock.
    lease_.sql() << "SELECT pg_advisory_xact_lock(7596390142265447250)";
    long long seq = 0;
    sdk::AuditSeal seal;
    lease_.sql() << "SELECT seq, hash FROM " + storage_.sql().table("access_log_seal") +
                        " ORDER BY seq DESC LIMIT 1",
        soci::into(seq), soci::into(seal.hash);
    if (!lease_.sql().got_data()) return std::optional<sdk::AuditSeal>();
    seal.seq = seq;
    return std::optional<sdk::AuditSeal>(seal);
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "read last seal");
  }
}

sdk::Status PgTransaction::append_seals(const std::vector<sdk::AuditSeal>& seals) {
  if (seals.empty()) return {};
  try {
    // One statement for the whole pass (the sealer seals thousands of events a second when
    // reads are audited): the seqs and hashes as two arrays, unnested side by side.
    ArrayLiteral seqs, hashes;
    for (const auto& seal : seals) {
      seqs.add(seal.seq);
      hashes.add(seal.hash);
    }
    send("append seals", storage_.sql().hot().append_seals,
         {std::move(seqs).close(), std::move(hashes).close()});
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "append seals");
  }
}

sdk::Status PgTransaction::mark() {
  if (broken_) return broken_error("mark");
  // Nothing is sent: the savepoint is placed with the change's first statement (Lazy marks).
  marked_ = true;
  placed_ = false;
  mark_contexts_ = held_contexts_.size();
  mark_history_ = held_history_.size();
  return {};
}

sdk::Status PgTransaction::undo_to_mark() {
  if (!marked_) return sdk::Error(sdk::Errc::internal, "undo_to_mark without a mark");
  if (broken_) return broken_error("undo to mark");
  if (!placed_) {  // nothing of the change reached the server: its rows are dropped here
    held_contexts_.resize(mark_contexts_);
    held_history_.resize(mark_history_);
    return {};
  }
  held_contexts_.clear();  // every row held since the savepoint is the change's own
  held_history_.clear();
  try {
    // What is held is sent first (the savepoint may be among it); a failure there is the very
    // thing being undone, unless it is a write of an earlier change (broken) or the connection is
    // gone — which the rollback below then reports.
    try {
      send_held();
    } catch (const std::exception&) {
      pipe_.clear();
    }
    if (broken_) return broken_error("undo to mark");
    pipe_.send(lease_, "undo to mark", "ROLLBACK TO SAVEPOINT m", {});
    return {};
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "undo to mark");
  }
}

sdk::Result<std::vector<std::int64_t>> PgTransaction::append_audits(
    const std::vector<sdk::AuditEvent>& events) {
  if (events.empty()) return std::vector<std::int64_t>();
  for (const auto& ev : events) feed_change_ = feed_change_ || sdk::is_feed_action(ev.action);
  try {
    // One statement text whatever the number of events, prepared once per connection; sent
    // with what is held.
    ArrayLiteral at, agent, action, context, transport, request, details;
    for (const auto& ev : events) {
      at.add(ev.at_us);
      agent.add(ev.agent_id);
      action.add(ev.action);
      if (ev.context_id.empty()) {
        context.add_null();
      } else {
        context.add(ev.context_id);
      }
      transport.add(ev.transport);
      request.add(ev.request_id);
      details.add(ev.details);
    }
    place_rows(false);  // after every change of a batch: nothing is undone past this
    const auto rows =
        send("append audit events", storage_.sql().hot().append_audits,
             {std::move(at).close(), std::move(agent).close(), std::move(action).close(),
              std::move(context).close(), std::move(transport).close(), std::move(request).close(),
              std::move(details).close()});
    std::vector<std::int64_t> seqs;
    seqs.reserve(rows.size());
    for (const auto& r : rows) seqs.push_back(std::stoll(r.at(0)));
    if (seqs.size() != events.size())
      return sdk::Error(sdk::Errc::internal, "append audit events: seq count differs");
    // Rows are inserted, and given their seq, in the order of the arrays.
    std::sort(seqs.begin(), seqs.end());
    return seqs;
  } catch (const std::exception& e) {
    return storage_.fail(lease_, e, "append audit events");
  }
}

sdk::Status PgTransaction::commit() {
  if (broken_) return broken_error("commit");  // the destructor rolls back
  try {
    place_rows(false);
    send("commit", "COMMIT", {});
    done_ = true;
    if (feed_change_) storage_.changes_committed();
    return {};
  } catch (const std::exception& e) {
    done_ = true;  // a failed COMMIT ends the transaction (ROLLBACK below is harmless if not)
    try {
      lease_.sql() << "ROLLBACK";
    } catch (const std::exception&) {
    }
    return storage_.fail(lease_, e, "commit");
  }
}

void PgTransaction::hold_rows(std::size_t contexts_from, std::size_t contexts_to,
                              std::size_t history_from, std::size_t history_to) {
  if (contexts_from < contexts_to) {
    ArrayLiteral id, agent, data, meta, version, created, updated, created_by, updated_by, deleted;
    for (std::size_t i = contexts_from; i < contexts_to; ++i) {
      const auto& r = held_contexts_[i];
      id.add(r.id);
      agent.add(r.agent_id);
      data.add(r.context_data);
      meta.add(r.metadata);
      version.add(r.version);
      created.add(r.created_at_us);
      updated.add(r.updated_at_us);
      created_by.add(r.created_by);
      updated_by.add(r.updated_by);
      deleted.add(std::string(r.deleted ? "t" : "f"));
    }
    pipe_.hold("insert context", storage_.sql().hot().insert_contexts,
               {std::move(id).close(), std::move(agent).close(), std::move(data).close(),
                std::move(meta).close(), std::move(version).close(), std::move(created).close(),
                std::move(updated).close(), std::move(created_by).close(),
                std::move(updated_by).close(), std::move(deleted).close()});
  }
  if (history_from < history_to) {
    ArrayLiteral id, version, action, agent, at, data, meta;
    for (std::size_t i = history_from; i < history_to; ++i) {
      const auto& r = held_history_[i];
      id.add(r.context_id);
      version.add(r.version);
      action.add(r.action);
      agent.add(r.agent_id);
      at.add(r.at_us);
      data.add(r.context_data);
      meta.add(r.metadata);
    }
    pipe_.hold("append history", storage_.sql().hot().append_histories,
               {std::move(id).close(), std::move(version).close(), std::move(action).close(),
                std::move(agent).close(), std::move(at).close(), std::move(data).close(),
                std::move(meta).close()});
  }
}

sdk::Status PgTransaction::held() {
  if (held_contexts_.size() + held_history_.size() >= kHeldRowsMax) place_rows();
  return {};
}

void PgTransaction::place_rows(bool for_marked_change) {
  if (for_marked_change && marked_ && !placed_) {
    // The earlier changes' rows, then the savepoint, then the marked change's own rows.
    hold_rows(0, mark_contexts_, 0, mark_history_);
    if (savepoint_) pipe_.hold("mark", "RELEASE SAVEPOINT m", {});
    pipe_.hold("mark", "SAVEPOINT m", {});
    earlier_ = pipe_.size();
    savepoint_ = placed_ = true;
    hold_rows(mark_contexts_, held_contexts_.size(), mark_history_, held_history_.size());
  } else {
    hold_rows(0, held_contexts_.size(), 0, held_history_.size());
    if (!for_marked_change) {  // the mark is spent: every row held is an earlier change's
      earlier_ = pipe_.size();
      marked_ = false;
    }
  }
  held_contexts_.clear();
  held_history_.clear();
  mark_contexts_ = mark_history_ = 0;
}

template <class Fn>
auto PgTransaction::guarded(Fn&& fn) -> decltype(fn()) {
  place_rows();
  const std::size_t earlier = earlier_;
  earlier_ = 0;
  try {
    return fn();
  } catch (const std::exception&) {
    // A refused statement before the savepoint wrote for an earlier change: none can be undone
    // alone now.
    if (pipe_.failed_at() != Pipeline::kNone && pipe_.failed_at() < earlier) broken_ = true;
    throw;
  }
}

void PgTransaction::send_held() {
  guarded([&] { pipe_.send(lease_); });
}

Rows PgTransaction::send(std::string what, const Prepared& statement, Params params) {
  return guarded([&] { return pipe_.send(lease_, std::move(what), statement, std::move(params)); });
}

Rows PgTransaction::send(std::string what, std::string sql, Params params) {
  return guarded(
      [&] { return pipe_.send(lease_, std::move(what), std::move(sql), std::move(params)); });
}

sdk::Error PgTransaction::broken_error(const char* what) {
  return sdk::Error(sdk::Errc::internal,
                    std::string(what) +
                        ": a write of an earlier change in this transaction was "
                        "refused, so the transaction cannot go on");
}

}  // namespace ctxmgr::pg
