// ContextService's selection endpoints: who may select over whose view, and the audit of it.
// The selection itself is the SelectionEngine's.

#include "core/access.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "json/json_text.hpp"
#include "selection/selection_engine.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;

sdk::Result<SelectionEngine*> ContextService::selection_engine() const {
  if (settings_.selection == nullptr) {
    return Error(Errc::unavailable, "selection is not configured on this server");
  }
  return settings_.selection;
}

sdk::Result<ApiResponse> ContextService::select_contexts(const sdk::Caller& caller,
                                                         std::string_view agent_text,
                                                         std::string_view body) {
  return as_caller("select", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto agent = parse_agent_id(agent_text, "agent id");
    if (!agent) return agent.error();
    if (auto st = require_self_or_admin(who, *agent, "select over its contexts"); !st)
      return st.error();
    auto engine = selection_engine();
    if (!engine) return engine.error();
    auto out = (*engine)->select(*agent, body, settings_.max_json_depth);
    if (!out) return out.error();
    if (auto st = audit_read(caller, who, "select", "",
                             "{\"agent_id\":" + json_quote(*agent) +
                                 ",\"selection_id\":" + std::to_string(out->selection_id) +
                                 ",\"items\":" + std::to_string(out->items) + "}");
        !st) {
      return st.error();
    }
    ApiResponse r;
    r.json = std::move(out->json);
    return r;
  });
}

sdk::Result<ApiResponse> ContextService::get_selection(const sdk::Caller& caller,
                                                       std::string_view id_text) {
  return as_caller("selection.get", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto id = parse_positive(id_text, "selection id");
    if (!id) return id.error();
    auto engine = selection_engine();
    if (!engine) return engine.error();
    auto rec = (*engine)->record(*id);
    if (!rec) return rec.error();
    // Another agent's record is as absent as a missing one.
    if (!*rec || (!who.admin && (*rec)->agent_id != who.agent_id)) {
      return Error(Errc::not_found, "selection " + std::to_string(*id) + " does not exist");
    }
    ApiResponse r;
    r.json = SelectionEngine::render_record(**rec);
    return r;
  });
}

sdk::Result<ApiResponse> ContextService::list_selections(const sdk::Caller& caller,
                                                         std::string_view agent_text,
                                                         const sdk::PageParams& page) {
  return as_caller("selection.list", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto agent = parse_agent_id(agent_text, "agent id");
    if (!agent) return agent.error();
    if (auto st = require_self_or_admin(who, *agent, "read its selections"); !st) return st.error();
    auto limit = parse_limit(page.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    std::int64_t before = 0;
    if (page.cursor) {
      auto c = parse_positive(*page.cursor, "cursor");
      if (!c) return Error(Errc::invalid_request, "cursor is not one this server gave out");
      before = *c;
    }
    auto engine = selection_engine();
    if (!engine) return engine.error();
    auto rows = (*engine)->records(*agent, before, *limit + 1);
    if (!rows) return rows.error();
    ApiResponse r;
    r.json = render_page(*rows, *limit, &SelectionEngine::render_record,
                         [](const sdk::SelectionRecord& s) { return std::to_string(s.id); });
    return r;
  });
}

}  // namespace ctxmgr::kernel
