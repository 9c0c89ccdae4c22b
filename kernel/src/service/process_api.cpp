// ContextService's processing endpoint: who may process with whose view, and the audit of it.
// The work itself is the ProcessEngine's.

#include "core/request_parsing.hpp"
#include "json/json_text.hpp"
#include "processing/process_engine.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;

sdk::Result<ApiResponse> ContextService::process(const sdk::Caller& caller,
                                                 std::string_view agent_text, std::string_view body,
                                                 sdk::ProcessStream& stream) {
  return as_caller("process", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto agent = parse_agent_id(agent_text, "agent id");
    if (!agent) return agent.error();
    if (!who.admin && who.agent_id != *agent) {
      return Error(Errc::forbidden, "only " + *agent + " or an admin may process with its context");
    }
    if (settings_.processing == nullptr) {
      return Error(Errc::unavailable, "processing is not configured on this server");
    }
    // An admin acting for an agent sees what that agent sees, not everything.
    const Identity view = who.agent_id == *agent ? who : Identity{*agent, false};
    auto out = settings_.processing->process(view, body, settings_.max_json_depth, stream,
                                             caller.request_id);
    if (!out) return out.error();
    const std::string provider_label = "provider=\"" + out->provider + "\"";
    metrics_.counter_add("ctxmgr_provider_tokens_total", provider_label + ",direction=\"input\"",
                         static_cast<double>(out->usage.input_tokens));
    metrics_.counter_add("ctxmgr_provider_tokens_total", provider_label + ",direction=\"output\"",
                         static_cast<double>(out->usage.output_tokens));
    if (auto st = audit_read(
            caller, who, "process", "",
            "{\"agent_id\":" + json_quote(*agent) + ",\"provider\":" + json_quote(out->provider) +
                ",\"model\":" + json_quote(out->model) +
                ",\"context_ids\":" + json_string_array(out->context_ids) +
                ",\"usage\":{\"input_tokens\":" + std::to_string(out->usage.input_tokens) +
                ",\"output_tokens\":" + std::to_string(out->usage.output_tokens) +
                "},\"stream\":" + (out->streamed ? "true" : "false") +
                (out->stream_error
                     ? ",\"error\":" + json_quote(sdk::code_name(out->stream_error->code()))
                     : std::string()) +
                "}");
        !st && !out->streamed) {
      return st.error();  // once a stream began, its answer is out: a failed record is logged
    }
    ApiResponse r;
    r.json = std::move(out->json);
    return r;
  });
}

}  // namespace ctxmgr::kernel
