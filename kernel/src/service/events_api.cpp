// GET /api/events: the change feed's request checked, then a stream of the EventHub
// (docs/events.md).

#include "core/request_parsing.hpp"
#include "ctxmgr/sdk/request_text.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

// "create,update" -> its feed actions, each known, none twice.
sdk::Result<std::vector<std::string>> parse_actions(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = text.find(',');
    const std::string one(text.substr(0, comma));
    if (!is_feed_action(one)) {
      std::string known;
      for (auto a : feed_actions()) {
        if (!known.empty()) known += ", ";
        known += a;
      }
      return Error(Errc::invalid_request,
                   "action \"" + one + "\" is not a change the feed carries (" + known + ")");
    }
    if (std::find(out.begin(), out.end(), one) == out.end()) out.push_back(one);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

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
      auto actions = parse_actions(*p.action);
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
