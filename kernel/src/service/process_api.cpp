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
    // The memory tool's commands run as the caller on the agent's memory files, each a change
    // of its own (versioned, audited); an API error (a right missing, a malformed input) is
    // handed to the model as a tool error.
    const MemoryRunner memory = [&](std::string_view input) -> ToolOutcome {
      auto r = memory_command(caller, *agent, input);
      if (!r) return {"Error: " + r.error().message(), true};
      auto answer = parse_json(r->json, 8);
      if (!answer || !answer->is_object()) return {"Error: the memory command failed", true};
      const auto& o = answer->get_object();
      return {std::string(o.at("content").as_string()), o.at("is_error").as_bool()};
    };
    auto out = settings_.processing->process(view, body, settings_.max_json_depth, stream,
                                             caller.request_id, &memory);
    if (!out) return out.error();
    const std::string provider_label = "provider=\"" + out->provider + "\"";
    metrics_.counter_add("ctxmgr_provider_tokens_total", provider_label + ",direction=\"input\"",
                         static_cast<double>(out->usage.input_tokens));
    metrics_.counter_add("ctxmgr_provider_tokens_total", provider_label + ",direction=\"output\"",
                         static_cast<double>(out->usage.output_tokens));
    std::string details =
        "{\"agent_id\":" + json_quote(*agent) + ",\"provider\":" + json_quote(out->provider) +
        ",\"model\":" + json_quote(out->model) +
        ",\"context_ids\":" + json_string_array(out->context_ids) +
        ",\"usage\":{\"input_tokens\":" + std::to_string(out->usage.input_tokens) +
        ",\"output_tokens\":" + std::to_string(out->usage.output_tokens) +
        "},\"stream\":" + (out->streamed ? "true" : "false") +
        (out->failed ? ",\"error\":" + json_quote(sdk::code_name(out->failed->code()))
                     : std::string()) +
        (out->memory_log.empty() ? std::string() : ",\"memory\":" + out->memory_log) + "}";
    // A loop that ran memory commands changed things: its event is recorded whatever the read
    // audit mode, naming each command (their changes have events of their own).
    const bool changed = out->memory_commands > 0;
    auto st = changed ? record(caller, who.agent_id, "process", "", std::move(details))
                      : audit_read(caller, who, "process", "", std::move(details));
    if (!st && !out->streamed) {
      return st.error();  // once a stream began, its answer is out: a failed record is logged
    }
    if (out->failed && !out->streamed) return *out->failed;
    ApiResponse r;
    r.json = std::move(out->json);
    return r;
  });
}

}  // namespace ctxmgr::kernel
