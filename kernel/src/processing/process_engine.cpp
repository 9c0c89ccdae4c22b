#include "processing/process_engine.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "core/access.hpp"
#include "core/ids.hpp"
#include "core/request_parsing.hpp"
#include "core/time_text.hpp"
#include "ctxmgr/sdk/memory_tool.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;
using sdk::Errc;
using sdk::Error;

namespace {

constexpr std::size_t kMaxContextIds = 100;
constexpr std::size_t kMaxMessages = 1000;

struct ProcessRequest {
  std::string provider;
  sdk::CompletionRequest completion;
  std::vector<std::string> context_ids;
  std::optional<json::object> selection;  // the select body, when context.query is given
  bool stream = false;
  bool memory = false;  // the model may call the memory tool (docs/memory-tool.md)
};

sdk::Result<ProcessRequest> parse_request(std::string_view body, std::size_t max_depth) {
  auto obj = parse_body_object(body, max_depth,
                               {"provider", "model", "system", "messages", "context", "max_tokens",
                                "temperature", "stream", "memory"});
  if (!obj) return obj.error();
  ProcessRequest r;
  for (auto [name, out] : {std::pair<const char*, std::string*>{"provider", &r.provider},
                           std::pair<const char*, std::string*>{"model", &r.completion.model},
                           std::pair<const char*, std::string*>{"system", &r.completion.system}}) {
    if (const auto* v = obj->if_contains(name)) {
      if (!v->is_string()) return invalid_request(std::string(name) + " must be a string");
      *out = std::string(v->as_string());
    }
  }
  const auto* messages = obj->if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->as_array().empty()) {
    return invalid_request("messages is required: a non-empty array of {role, content}");
  }
  if (messages->as_array().size() > kMaxMessages) {
    return invalid_request("messages holds more than " + std::to_string(kMaxMessages) + " items");
  }
  for (const auto& m : messages->as_array()) {
    const auto* o = m.if_object();
    const json::value* role = o != nullptr ? o->if_contains("role") : nullptr;
    const json::value* content = o != nullptr ? o->if_contains("content") : nullptr;
    if (o == nullptr || o->size() != 2 || role == nullptr || content == nullptr ||
        !role->is_string() || !content->is_string() ||
        (role->as_string() != "user" && role->as_string() != "assistant")) {
      return invalid_request("messages: each item is {role: user|assistant, content: string}");
    }
    r.completion.messages.push_back(
        {std::string(role->as_string()), std::string(content->as_string())});
  }
  if (const auto* v = obj->if_contains("max_tokens")) {
    if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > 1'000'000) {
      return invalid_request("max_tokens must be an integer from 1 to 1000000");
    }
    r.completion.max_tokens = v->as_int64();
  }
  if (const auto* v = obj->if_contains("temperature"); v != nullptr && !v->is_null()) {
    if (!v->is_number() || v->to_number<double>() < 0 || v->to_number<double>() > 2) {
      return invalid_request("temperature must be a number from 0 to 2");
    }
    r.completion.temperature = v->to_number<double>();
  }
  if (const auto* v = obj->if_contains("stream")) {
    if (!v->is_bool()) return invalid_request("stream must be true or false");
    r.stream = v->as_bool();
  }
  if (const auto* v = obj->if_contains("memory")) {
    if (!v->is_bool()) return invalid_request("memory must be true or false");
    r.memory = v->as_bool();
  }
  if (const auto* c = obj->if_contains("context"); c != nullptr && !c->is_null()) {
    if (!c->is_object()) return invalid_request("context must be an object");
    json::object select;
    for (const auto& [key, value] : c->as_object()) {
      if (key == "context_ids") {
        if (!value.is_array() || value.as_array().size() > kMaxContextIds) {
          return invalid_request("context.context_ids must be an array of at most " +
                                 std::to_string(kMaxContextIds) + " context ids");
        }
        for (const auto& id : value.as_array()) {
          if (!id.is_string()) return invalid_request("context.context_ids must hold context ids");
          auto canonical = parse_context_id(id.as_string());
          if (!canonical) return canonical.error();
          if (std::find(r.context_ids.begin(), r.context_ids.end(), *canonical) ==
              r.context_ids.end()) {
            r.context_ids.push_back(*canonical);
          }
        }
      } else {
        // query, token_budget, selector, include_shared, limit, filter, translate: the select
        // body, checked by the selection engine.
        select[key] = value;
      }
    }
    if (!select.empty()) {
      if (!select.contains("query")) {
        return invalid_request("context: token_budget, selector and the like need a query");
      }
      r.selection = std::move(select);
    }
  }
  return r;
}

// One entry of the answer's "memory" list: the command, the path(s) it named, its outcome.
std::string memory_log_entry(std::string_view input_json, const ToolOutcome& outcome) {
  boost::system::error_code ec;
  const auto input = json::parse(input_json, ec);
  json::object entry;
  const json::object* in = ec ? nullptr : input.if_object();
  for (const char* key : {"command", "path", "old_path", "new_path"}) {
    const json::value* v = in != nullptr ? in->if_contains(key) : nullptr;
    if (v != nullptr && v->is_string()) entry[key] = v->as_string();
  }
  if (!entry.contains("command")) entry["command"] = nullptr;
  entry["is_error"] = outcome.is_error;
  return json::serialize(entry);
}

// The server-run memory loop: the model is called with the memory tool, every call it makes is
// run, and it is called again with the rounds so far, until it ends its turn or `max_steps`
// calls were made. Usage is summed over the calls; `log` gets one entry per command run.
sdk::Result<sdk::Completion> memory_loop(sdk::ProviderTools& tools,
                                         const sdk::CompletionRequest& request,
                                         const MemoryRunner& run, std::int64_t max_steps,
                                         std::vector<std::string>& log) {
  const std::vector<sdk::ToolSpec> specs = {
      {std::string(sdk::kMemoryToolName), std::string(sdk::kMemoryToolDescription),
       std::string(sdk::kMemoryToolInputSchema), std::string(sdk::kMemoryToolType)}};
  std::vector<sdk::ToolRound> rounds;
  sdk::CompletionUsage usage;
  for (std::int64_t step = 1;; ++step) {
    auto answer = tools.complete_with_tools(request, specs, rounds);
    if (!answer) return answer.error();
    usage.input_tokens += answer->completion.usage.input_tokens;
    usage.output_tokens += answer->completion.usage.output_tokens;
    if (answer->calls.empty()) {
      answer->completion.usage = usage;
      return std::move(answer->completion);
    }
    if (step >= max_steps) {
      return Error(Errc::provider_error,
                   "the model was still calling tools after " + std::to_string(max_steps) +
                       " model calls (memory.max_steps); the commands run so far are kept");
    }
    sdk::ToolRound round{answer->completion.output_text, std::move(answer->calls), {}};
    for (const auto& call : round.calls) {
      const ToolOutcome outcome = call.name == sdk::kMemoryToolName
                                      ? run(call.input_json)
                                      : ToolOutcome{"Error: there is no tool named `" + call.name +
                                                        "`; the only tool is `memory`",
                                                    true};
      log.push_back(memory_log_entry(call.input_json, outcome));
      round.results.push_back({call.id, outcome.content, outcome.is_error});
    }
    rounds.push_back(std::move(round));
  }
}

}  // namespace

std::string render_context_block(const std::vector<sdk::ContextRow>& rows) {
  std::string out;
  for (const auto& r : rows) {
    if (!out.empty()) out += "\n\n";
    out += "<context id=\"" + r.id + "\" owner=\"" + r.agent_id + "\" version=\"" +
           std::to_string(r.version) + "\" updated_at=\"" + format_rfc3339_ms(r.updated_at_us) +
           "\">\n<metadata>" + r.metadata + "</metadata>\n<data>" + r.context_data +
           "</data>\n</context>";
  }
  return out;
}

ProcessEngine::ProcessEngine(
    AccessCache& access, SelectionEngine* selection,
    std::vector<std::pair<std::string, sdk::Provider*>> providers,
    std::vector<std::pair<std::string, sdk::ProviderTools*>> tool_providers, std::int64_t max_steps)
    : access_(access),
      storage_(access.storage()),
      selection_(selection),
      providers_(std::move(providers)),
      tool_providers_(std::move(tool_providers)),
      max_steps_(max_steps) {}

sdk::Result<ProcessOutcome> ProcessEngine::process(const Identity& view, std::string_view body,
                                                   std::size_t max_depth,
                                                   sdk::ProcessStream& stream,
                                                   std::string_view request_id,
                                                   const MemoryRunner* memory) {
  auto req = parse_request(body, max_depth);
  if (!req) return req.error();
  if (providers_.empty()) return Error(Errc::unavailable, "no provider is configured");
  sdk::Provider* provider = nullptr;
  std::string provider_name = req->provider.empty() ? providers_.front().first : req->provider;
  for (const auto& [name, p] : providers_) {
    if (name == provider_name) provider = p;
  }
  if (provider == nullptr) {
    std::string names;
    for (const auto& [name, p] : providers_) names += (names.empty() ? "" : ", ") + name;
    return invalid_request("provider '" + provider_name +
                           "' is not configured; configured: " + names);
  }
  sdk::ProviderTools* tools = nullptr;
  if (req->memory) {
    for (const auto& [name, t] : tool_providers_) {
      if (name == provider_name) tools = t;
    }
    if (tools == nullptr) {
      return invalid_request("provider '" + provider_name +
                             "' cannot run tools, so it cannot use memory");
    }
    if (memory == nullptr) return Error(Errc::unavailable, "memory is not available here");
  }

  // Named contexts first, each readable by the view (else 404, as a read would be), then what
  // the query selected that is not among them.
  std::vector<sdk::ContextRow> rows;
  for (const auto& id : req->context_ids) {
    auto row = storage_.get(id);
    if (!row) return row.error();
    if (!*row || (*row)->deleted) {
      return Error(Errc::not_found, "context " + id + " does not exist");
    }
    auto access = access_of(access_, view, **row);
    if (!access) return access.error();
    if (auto st = require(*access, Access::read, id, "read"); !st) return st.error();
    rows.push_back(std::move(**row));
  }
  ProcessOutcome out;
  if (req->selection) {
    if (selection_ == nullptr) return Error(Errc::unavailable, "selection is not configured");
    auto selected = selection_->select(view.agent_id, json::serialize(*req->selection), max_depth);
    if (!selected) return selected.error();
    out.selection_id = selected->selection_id;
    for (auto& r : selected->rows) {
      const bool named = std::any_of(rows.begin(), rows.end(),
                                     [&](const sdk::ContextRow& x) { return x.id == r.id; });
      if (!named) rows.push_back(std::move(r));
    }
  }
  req->completion.context = render_context_block(rows);
  for (const auto& r : rows) out.context_ids.push_back(r.id);
  out.provider = provider_name;

  // Streaming: the request is valid, so the stream starts; text goes out as `delta` events and
  // the end is one `done` (the answer) or `error` (the error body) event.
  struct DeltaSink final : sdk::CompletionSink {
    sdk::ProcessStream& stream;
    bool open = true;
    explicit DeltaSink(sdk::ProcessStream& s) : stream(s) {}
    bool on_text(std::string_view text) override {
      if (open && !text.empty())
        open = stream.event("delta", "{\"text\":" + json_quote(text) + "}");
      return open;
    }
  };
  std::optional<DeltaSink> sink;
  if (req->stream) {
    if (!stream.begin()) return Error(Errc::unavailable, "the client went away");
    out.streamed = true;
    sink.emplace(stream);
  }
  // With memory, the tool turns are not streamed: the loop runs whole and its final text goes
  // out as one delta.
  std::vector<std::string> log;
  auto completion = tools != nullptr
                        ? memory_loop(*tools, req->completion, *memory, max_steps_, log)
                        : provider->complete(req->completion, sink ? &*sink : nullptr);
  if (req->memory) {
    out.memory_log = "[";
    for (std::size_t i = 0; i < log.size(); ++i) out.memory_log += (i > 0 ? "," : "") + log[i];
    out.memory_log += "]";
    out.memory_commands = log.size();
  }
  if (!completion) {
    if (!req->stream) {
      if (log.empty()) return completion.error();
      out.failed = completion.error();  // commands ran: the audit must still name them
      return out;
    }
    const auto& e = completion.error();
    // The error body of API.md, as a REST error would carry it.
    std::string error = "{\"error\":{\"code\":\"" + std::string(sdk::code_name(e.code())) +
                        "\",\"message\":" + json_quote(e.message()) +
                        ",\"request_id\":" + json_quote(request_id);
    for (const auto& [key, value] : e.fields()) {
      error += "," + json_quote(key) + ":" + std::to_string(value);
    }
    error += "}}";
    stream.event("error", error);
    out.failed = e;
    return out;
  }
  if (tools != nullptr && sink) sink->on_text(completion->output_text);
  out.model = completion->model;
  out.usage = completion->usage;
  out.json = "{\"provider\":" + json_quote(provider_name) +
             ",\"model\":" + json_quote(completion->model) +
             ",\"output_text\":" + json_quote(completion->output_text) +
             ",\"stop_reason\":" + json_quote(completion->stop_reason) +
             ",\"usage\":{\"input_tokens\":" + std::to_string(completion->usage.input_tokens) +
             ",\"output_tokens\":" + std::to_string(completion->usage.output_tokens) +
             "},\"context_ids\":" + json_string_array(out.context_ids) +
             (out.selection_id > 0 ? ",\"selection_id\":" + std::to_string(out.selection_id)
                                   : std::string()) +
             (req->memory ? ",\"memory\":" + out.memory_log : std::string()) + "}";
  if (req->stream) stream.event("done", out.json);
  return out;
}

}  // namespace ctxmgr::kernel
