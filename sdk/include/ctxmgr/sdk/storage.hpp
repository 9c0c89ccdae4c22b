#pragma once
// Storage plugins: transactional primitives in their own SQL dialect. Versioning, JSON handling
// and access rules stay in the kernel; a storage never interprets a document.
//
// Thread-safety: every Storage method may be called concurrently from many threads. A
// Transaction is used by one thread at a time and must be destroyed before its Storage is
// stopped.
//
// Errors: Errc::unavailable when the store cannot be reached (the kernel answers 503),
// Errc::conflict for a uniqueness violation, Errc::internal for anything else. Messages never
// hold SQL text or credentials.

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/plugin.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

// A write transaction. Everything done through it commits together or not at all; destroying it
// without commit() rolls it back. A write that returns nothing (insert, update, history) may be
// sent later together with the next call that needs an answer (since ABI 1.4: PostgreSQL sends a
// create in one round trip), so its error may be reported by that later call of the same
// transaction, or by commit() — with the same code (a uniqueness conflict is still `conflict`).
class CTXMGR_SDK_VISIBLE Transaction {
 public:
  virtual ~Transaction();
  Transaction() = default;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Reads a context and holds it against concurrent writers until the transaction ends, so a
  // read-modify-write through one transaction loses no concurrent update (also across processes).
  virtual Result<std::optional<ContextRow>> get_for_update(std::string_view id) = 0;
  virtual Status insert_context(const ContextRow& row) = 0;
  // Replaces the row with row.id (every column but id and created_*).
  virtual Status update_context(const ContextRow& row) = 0;
  // Erases the context and its whole history (a purge). Audit events stay.
  virtual Status purge_context(std::string_view id) = 0;
  virtual Status append_history(const HistoryRow& row) = 0;
  // Appends an event; returns the sequence number it was given.
  virtual Result<std::int64_t> append_audit(const AuditEvent& event) = 0;
  // The newest link of the audit chain, after taking the sealing lock (one sealer at a time,
  // across processes, until the transaction ends).
  virtual Result<std::optional<AuditSeal>> last_seal() = 0;
  virtual Status append_seals(const std::vector<AuditSeal>& seals) = 0;
  virtual Status commit() = 0;

  // Agents. insert_agent: conflict when the id exists. update_agent: display name, role, disabled.
  virtual Status insert_agent(const AgentRow& agent) = 0;
  virtual Status update_agent(const AgentRow& agent) = 0;
  // Replaces every token of the agent by this one (given as its hash).
  virtual Status set_token(std::string_view agent_id, std::string_view token_hash,
                           std::int64_t at_us) = 0;
  // Grants: put replaces an existing grant's permission (returns true when it replaced one);
  // remove returns whether there was one.
  virtual Result<bool> put_grant(GrantScope scope, const GrantRow& grant) = 0;
  virtual Result<bool> remove_grant(GrantScope scope, std::string_view scope_id,
                                    std::string_view agent_id) = 0;
};

class CTXMGR_SDK_VISIBLE Storage : public Plugin {
 public:
  ~Storage() override;

  // Begins a write transaction.
  virtual Result<std::unique_ptr<Transaction>> begin() = 0;

  virtual Result<std::optional<ContextRow>> get(std::string_view id) = 0;
  virtual Result<std::optional<HistoryRow>> get_version(std::string_view id,
                                                        std::int64_t version) = 0;
  // Versions newest first, at most `limit`, only those below `before_version` when it is > 0.
  virtual Result<std::vector<HistoryRow>> history(std::string_view id, std::int64_t before_version,
                                                  std::int64_t limit) = 0;
  virtual Result<std::vector<ContextRow>> list(const ListQuery& query) = 0;
  // Audit events, newest first, as the query filters them.
  virtual Result<std::vector<AuditEvent>> audit(const AuditQuery& query) = 0;
  // Events with after_seq < seq <= through_seq, oldest first, at most `limit`.
  virtual Result<std::vector<AuditEvent>> audit_range(std::int64_t after_seq,
                                                     std::int64_t through_seq,
                                                     std::int64_t limit) = 0;
  // The highest seq below which every event is committed: no transaction still in flight holds
  // a smaller one, so the sealer may seal up to it without leaving a hole behind.
  virtual Result<std::int64_t> audit_horizon() = 0;
  // Links of the chain with seq > after_seq, oldest first, at most `limit`.
  virtual Result<std::vector<AuditSeal>> seals(std::int64_t after_seq, std::int64_t limit) = 0;

  virtual Result<std::optional<AgentRow>> get_agent(std::string_view agent_id) = 0;
  // Agents in id order, after `after_id` when it is not empty.
  virtual Result<std::vector<AgentRow>> list_agents(std::string_view after_id,
                                                    std::int64_t limit) = 0;
  // The agent a token hash belongs to, if any (disabled agents included: the kernel decides).
  virtual Result<std::optional<AgentRow>> agent_by_token(std::string_view token_hash) = 0;
  // Grants of one context or one owner, by grantee.
  virtual Result<std::vector<GrantRow>> grants(GrantScope scope, std::string_view scope_id) = 0;
  // The permissions `agent_id` holds on a context through a grant of the context or of its owner
  // (zero, one or two of "read"/"write").
  virtual Result<std::vector<std::string>> permissions(std::string_view context_id,
                                                       std::string_view owner_id,
                                                       std::string_view agent_id) = 0;

  virtual Result<StoreStats> stats() = 0;

  // Whether the store is reachable now (for /readyz and `db check`).
  virtual Status ping() = 0;
  virtual Result<SchemaStatus> schema_status() = 0;
  // Applies the pending migrations in order, each in its own transaction; returns their names.
  // Safe to call on an up-to-date store (does nothing) and from several processes at once.
  virtual Result<std::vector<std::string>> migrate() = 0;
};

template <>
struct KindInterface<Kind::storage> {
  using type = Storage;
};

}  // namespace ctxmgr::sdk
