#include "core/audit_render.hpp"

#include "core/time_text.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

std::string render_event(const sdk::AuditEvent& e) {
  return "{\"seq\":" + std::to_string(e.seq) + ",\"at\":\"" + format_rfc3339_ms(e.at_us) +
         "\",\"agent_id\":" + json_quote(e.agent_id) + ",\"action\":" + json_quote(e.action) +
         ",\"context_id\":" +
         (e.context_id.empty() ? std::string("null") : json_quote(e.context_id)) +
         ",\"transport\":" + json_quote(e.transport) +
         ",\"request_id\":" + json_quote(e.request_id) + ",\"details\":" + e.details + "}";
}

std::string render_stats(const sdk::StoreStats& st, const std::vector<sdk::AuditEvent>& recent) {
  std::string out = "{\"contexts_per_agent\":[";
  for (std::size_t i = 0; i < st.contexts_per_agent.size(); ++i) {
    if (i != 0) out += ',';
    out += "{\"agent_id\":" + json_quote(st.contexts_per_agent[i].first) +
           ",\"contexts\":" + std::to_string(st.contexts_per_agent[i].second) + "}";
  }
  out += "],\"recent_accesses\":[";
  for (std::size_t i = 0; i < recent.size(); ++i) {
    if (i != 0) out += ',';
    out += render_event(recent[i]);
  }
  out += "],\"totals\":{\"contexts\":" + std::to_string(st.contexts) +
         ",\"deleted\":" + std::to_string(st.deleted) +
         ",\"versions\":" + std::to_string(st.versions) +
         ",\"agents\":" + std::to_string(st.agents) +
         ",\"audit_events\":" + std::to_string(st.audit_events) + "}}";
  return out;
}

}  // namespace ctxmgr::kernel
