#pragma once
// Value types that cross between the kernel and storage plugins. std-only; JSON documents are
// text (the exact bytes the kernel wrote). Times are microseconds since the Unix epoch, UTC.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ctxmgr::sdk {

// The current state of one context (a row of `context`).
struct ContextRow {
  std::string id;            // UUID, lower-case text
  std::string agent_id;      // the owner
  std::string context_data;  // JSON object text
  std::string metadata;      // JSON object text
  std::int64_t version = 0;
  std::int64_t created_at_us = 0;
  std::int64_t updated_at_us = 0;
  std::string created_by;
  std::string updated_by;
  bool deleted = false;
};

// One version of a context (a row of `context_history`).
struct HistoryRow {
  std::string context_id;
  std::int64_t version = 0;
  std::string action;    // create | update | delete | revert
  std::string agent_id;  // the actor who made this version
  std::int64_t at_us = 0;
  std::string context_data;
  std::string metadata;
};

// One audit event (a row of `access_log`). `seq` is assigned by the storage.
struct AuditEvent {
  std::int64_t seq = 0;
  std::int64_t at_us = 0;
  std::string agent_id;  // the actor
  std::string action;
  std::string context_id;  // empty when the event is not about one context
  std::string transport;
  std::string request_id;
  std::string details;  // JSON object text
};

// One link of the audit hash chain.
struct AuditSeal {
  std::int64_t seq = 0;
  std::string hash;  // hex SHA-256
};

// Audit events, newest first, filtered. Empty optionals do not filter.
struct AuditQuery {
  std::optional<std::string> context_id;
  std::optional<std::string> agent_id;  // the actor
  std::optional<std::string> action;
  std::optional<std::int64_t> since_us;  // at >= since
  std::optional<std::int64_t> until_us;  // at < until
  std::optional<std::string> owner;      // only events on contexts this agent owns
  std::int64_t before_seq = 0;           // only seq < before_seq when > 0
  std::int64_t limit = 50;
};

// The seed's monitoring queries: contexts per agent and totals.
struct StoreStats {
  std::vector<std::pair<std::string, std::int64_t>> contexts_per_agent;  // live contexts, by agent
  std::int64_t contexts = 0;      // live (not deleted)
  std::int64_t deleted = 0;       // soft-deleted
  std::int64_t versions = 0;      // history rows
  std::int64_t agents = 0;        // registered
  std::int64_t audit_events = 0;
};

// A page of an owner's contexts, newest update first: (updated_at, id) descending, strictly
// after the cursor when one is given.
struct ListQuery {
  std::string agent_id;
  bool include_deleted = false;
  std::optional<std::string> tag;  // contexts whose metadata.tags holds this string
  // Only contexts that have a context grant for this agent (a caller who may not read every
  // context of the owner sees the ones shared with it one by one).
  std::optional<std::string> granted_to;
  std::int64_t limit = 50;
  std::optional<std::int64_t> after_updated_at_us;
  std::optional<std::string> after_id;
};

// A registered agent (a row of `agents`).
struct AgentRow {
  std::string agent_id;
  std::string display_name;
  std::string role = "agent";  // agent | admin
  std::int64_t created_at_us = 0;
  bool disabled = false;
};

// What a grant shares: one context, or every context of an owner.
enum class GrantScope { context, owner };

// A grant (a row of `context_grants` or `owner_grants`). `scope_id` is the context id or the
// owner's agent id.
struct GrantRow {
  std::string scope_id;
  std::string agent_id;    // the grantee
  std::string permission;  // read | write
  std::string granted_by;
  std::int64_t granted_at_us = 0;
};

// Where a store's schema stands.
struct SchemaStatus {
  std::int64_t current = 0;  // highest applied migration number (0: none)
  std::int64_t latest = 0;   // highest migration this plugin knows
  std::string applied;       // "00_base, 01_immutable_log, ..." in order
  std::string pending;       // the ones not applied yet
};

}  // namespace ctxmgr::sdk
