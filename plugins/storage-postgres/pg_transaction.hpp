#pragma once
// A write transaction on one pooled connection: BEGIN at creation, COMMIT on commit(), ROLLBACK
// when destroyed uncommitted. Writes that need no answer (insert, update, history, marks) are held
// and sent with the next statement that does (pg_pipeline.hpp): a create is one round trip. get_for_update() takes the row lock (SELECT ... FOR UPDATE), which
// holds concurrent writers of that context — in this process or another — until the end.

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
  // BatchTransaction: a savepoint (RELEASE of the last one and SAVEPOINT in one round trip).
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
  // is held (nothing, right after begin()).
  soci::session& session() {
    pipe_.send(lease_);
    return lease_.sql();
  }
  const PgPool::Lease& lease() const { return lease_; }

 private:
  PgStorage& storage_;
  PgPool::Lease lease_;
  bool done_ = false;
  bool marked_ = false;
  bool feed_change_ = false;  // an audit event of the change feed was appended: notify on commit
  Pipeline pipe_;  // statements held until one needs an answer (pg_pipeline.hpp)
};

}  // namespace ctxmgr::pg
