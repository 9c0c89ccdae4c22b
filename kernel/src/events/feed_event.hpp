#pragma once
// One change as the change feed carries it (docs/events.md), made from its audit event: the audit
// log is the feed's truth, so the feed is durable, ordered by seq and gap-free. Only changes are
// carried (create, update, delete, purge, revert, redact, grant, revoke; the memory tool's
// commands are creates, updates and deletes); reads and agent administration are not. Nothing of
// a context's content is in an event.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::kernel {

struct FeedEvent {
  std::int64_t seq = 0;
  std::int64_t at_us = 0;
  std::string action;
  std::string context_id;  // empty for a grant or revoke on all of an owner's contexts
  std::string owner;       // the owner of the context(s); empty when it could not be known
  std::string actor;
  std::optional<std::int64_t> version;  // the version the change wrote, when it wrote one
  std::string grantee;                  // grant, revoke: the agent given or refused access
  std::string permission;               // grant: read or write
};

// The feed's actions are sdk::kFeedActions (storage_change_wake.hpp).
// "create,update" as its feed actions, each known, none twice; invalid_request naming the ones
// the feed carries otherwise.
sdk::Result<std::vector<std::string>> parse_feed_actions(std::string_view text);

// The feed event of an audit event, its owner left to the caller unless the event names it
// (a purge, a grant on an owner); nullopt when the action is not a change the feed carries.
std::optional<FeedEvent> to_feed_event(const sdk::AuditEvent& event);

// The event as JSON: {seq, action, context_id, agent_id (the owner), actor, version, at[,
// grantee, permission]}.
std::string render_feed_event(const FeedEvent& event);
// The event as one server-sent event: "id: SEQ\ndata: JSON\n\n".
std::string sse_text(const FeedEvent& event);

}  // namespace ctxmgr::kernel
