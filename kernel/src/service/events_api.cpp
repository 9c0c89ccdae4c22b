// GET /api/events: the change feed's request checked, then a stream of the EventHub
// (docs/events.md).

#include "core/request_parsing.hpp"
#include "ctxmgr/sdk/request_text.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

sdk::Result<std::unique_ptr<sdk::EventStream>> ContextService::open_events(
    const sdk::Caller& caller, const sdk::EventParams& p) {
  using R = sdk::Result<std::unique_ptr<sdk::EventStream>>;
  return as_caller("events", caller, [&](const Identity& who) -> R {
    if (settings_.events == nullptr) {
      return Error(Errc::unavailable, "the change feed is off on this server (events.enabled)");
    }
    EventFilter filter;
    if (p.agent_id) {
      auto a = parse_agent_id(*p.agent_id, "agent_id");
      if (!a) return a.error();
      filter.owner = *a;
    }
    if (p.context_id) {
      auto id = parse_context_id(*p.context_id);
      if (!id) return id.error();
      filter.context_id = *id;
    }
    if (p.action) {
      auto actions = parse_feed_actions(*p.action);
      if (!actions) return actions.error();
      filter.actions = std::move(*actions);
    }
    std::optional<std::int64_t> after;
    if (p.after) {
      if (*p.after == "0") {
        after = 0;
      } else {
        auto seq = sdk::parse_positive(*p.after, "after (or Last-Event-ID)");
        if (!seq) return seq.error();
        after = *seq;
      }
    }
    return settings_.events->subscribe(who, std::move(filter), after);
  });
}

}  // namespace ctxmgr::kernel
