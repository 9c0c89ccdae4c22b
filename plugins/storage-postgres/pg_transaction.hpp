#pragma once
// A write transaction on one pooled connection: BEGIN at creation, COMMIT on commit(), ROLLBACK
// when destroyed uncommitted. get_for_update() takes the row lock (SELECT ... FOR UPDATE), which
// holds concurrent writers of that context — in this process or another — until the end.
//
// Held rows. The rows of insert_context and append_history are kept here and inserted many per
// statement (unnested arrays) just before the next statement that must be sent, in the same round
// trip (pg_pipeline.hpp): a create is one round trip, and a batch of creates is two inserts, not
// two per create — PostgreSQL spends most of a small insert's time on the statement, not the row
// (bench/README.md: statements per batch).
//
// Lazy marks. mark() only notes where the change's held rows begin; its savepoint reaches the
// server when the change first sends a statement of its own (a read, an update, its audit event),
// after the rows of the changes before it. A change that only inserts has no savepoint at all:
// undo_to_mark() drops its rows before they were sent. If a statement holding rows of changes
// before the mark fails, no savepoint can undo that alone: the transaction is then broken — every
// later undo_to_mark() and commit() fails, and the kernel fails or retries the batch's changes.

#include <cstddef>
#include <string>
#include <vector>

#include "ctxmgr/sdk/storage_batch.hpp"
#include "pg_pipeline.hpp"
#include "pg_pool.hpp"

namespace ctxmgr::pg {

class PgStorage;

class PgTransaction final : public sdk::BatchTransaction {
 public:
  PgTransaction(PgStorage& storage, PgPool::Lease lease)
      : storage_(storage), lease_(std::move(lease)) {}
  ~PgTransaction() override;

  sdk::Result<std::optional<sdk::ContextRow>> get_for_update(std::string_view id) override;
  sdk::Status insert_context(const sdk::ContextRow& row) override;
  sdk::Status update_context(const sdk::ContextRow& row) override;
  sdk::Status purge_context(std::string_view id) override;
  sdk::Status append_history(const sdk::HistoryRow& row) override;
  sdk::Result<std::int64_t> append_audit(const sdk::AuditEvent& event) override;
  sdk::Status commit() override;
  // BatchTransaction: a savepoint, placed lazily (see Lazy marks above).
  sdk::Status mark() override;
  sdk::Status undo_to_mark() override;
  // One INSERT ... VALUES (...), (...) RETURNING seq.
  sdk::Result<std::vector<std::int64_t>> append_audits(
      const std::vector<sdk::AuditEvent>& events) override;
  sdk::Result<std::optional<sdk::AuditSeal>> last_seal() override;
  sdk::Status append_seals(const std::vector<sdk::AuditSeal>& seals) override;
  sdk::Status insert_agent(const sdk::AgentRow& agent) override;
  sdk::Status update_agent(const sdk::AgentRow& agent) override;
  sdk::Status set_token(std::string_view agent_id, std::string_view token_hash,
                        std::int64_t at_us) override;
  sdk::Result<bool> put_grant(sdk::GrantScope scope, const sdk::GrantRow& grant) override;
  sdk::Result<bool> remove_grant(sdk::GrantScope scope, std::string_view scope_id,
                                 std::string_view agent_id) override;

  // The connection this transaction runs on (for the restore's own inserts), after sending what
  // is held.
  soci::session& session() {
    send_held();
    return lease_.sql();
  }
  const PgPool::Lease& lease() const { return lease_; }

 private:
  // Moves the held rows into pipe_ as statements, placing a pending mark's savepoint between the
  // rows of earlier changes and the change's own — unless the statement to follow is no change's
  // own (a batch's audit events, its commit): then the mark is spent and no savepoint is placed.
  void place_rows(bool for_marked_change = true);
  // After a row was held: places the rows beyond kHeldRowsMax (a restore's thousands).
  sdk::Status held();
  // Holds the insert statements of held rows [contexts_from, ..) and [history_from, ..).
  void hold_rows(std::size_t contexts_from, std::size_t contexts_to, std::size_t history_from,
                 std::size_t history_to);
  // pipe_.send with the rows placed first; a refusal of what earlier changes wrote breaks the
  // transaction.
  void send_held();
  Rows send(std::string what, const Prepared& statement, Params params);
  Rows send(std::string what, std::string sql, Params params);
  template <class Fn>
  auto guarded(Fn&& fn) -> decltype(fn());
  static sdk::Error broken_error(const char* what);

  PgStorage& storage_;
  PgPool::Lease lease_;
  bool done_ = false;
  bool feed_change_ = false;  // an audit event of the change feed was appended: notify on commit
  Pipeline pipe_;             // statements held until one needs an answer (pg_pipeline.hpp)

  std::vector<sdk::ContextRow> held_contexts_;  // rows not yet in pipe_ (see Held rows above)
  std::vector<sdk::HistoryRow> held_history_;
  bool marked_ = false;            // a mark exists
  bool placed_ = false;            // its savepoint is on the server, or held in pipe_
  bool savepoint_ = false;         // savepoint m exists (released before the next one)
  std::size_t mark_contexts_ = 0;  // where the marked change's held rows begin
  std::size_t mark_history_ = 0;
  std::size_t earlier_ = 0;  // statements in pipe_ that hold earlier changes' rows
  bool broken_ = false;      // earlier changes' rows were refused (see Lazy marks)
};

}  // namespace ctxmgr::pg
