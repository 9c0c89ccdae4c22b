#pragma once
// A write transaction on the writer connection: holds the writer mutex and SQLite's write lock
// (BEGIN IMMEDIATE) from begin() until commit or destruction (which rolls back).

#include <mutex>

#include <soci/soci.h>

#include "ctxmgr/sdk/storage_batch.hpp"
#include "writer_statements.hpp"

namespace ctxmgr::sqlite {

class SqliteStorage;

class SqliteTransaction final : public sdk::BatchTransaction {
 public:
  SqliteTransaction(SqliteStorage& storage, soci::session& sql, WriterStatements& statements,
                    std::unique_lock<std::mutex> lock)
      : storage_(storage), sql_(sql), statements_(statements), lock_(std::move(lock)) {}
  ~SqliteTransaction() override;

  sdk::Result<std::optional<sdk::ContextRow>> get_for_update(std::string_view id) override;
  sdk::Status insert_context(const sdk::ContextRow& row) override;
  sdk::Status update_context(const sdk::ContextRow& row) override;
  sdk::Status purge_context(std::string_view id) override;
  sdk::Status append_history(const sdk::HistoryRow& row) override;
  sdk::Result<std::int64_t> append_audit(const sdk::AuditEvent& event) override;
  sdk::Status commit() override;
  // BatchTransaction: a savepoint; events one statement each (no round trips to save here).
  sdk::Status mark() override;
  sdk::Status undo_to_mark() override;
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

  // The writer connection this transaction runs on (for the restore's own inserts).
  soci::session& session() const { return sql_; }

 private:
  SqliteStorage& storage_;
  soci::session& sql_;
  WriterStatements& statements_;  // the hot statements, prepared once on sql_
  std::unique_lock<std::mutex> lock_;
  bool done_ = false;
  bool marked_ = false;
};

}  // namespace ctxmgr::sqlite
