// provider-openai: POST {base_url}/chat/completions with `Authorization: Bearer <api_key>`.
// The caller's system prompt and the context block go in one `system` message (system first,
// then the block; some compatible servers take one system message only), then the
// conversation. Retries and error mapping: provider_call.hpp; a missing key is 503 and an
// answer that is not the API's shape 502.

#include <array>
#include <optional>

#include <boost/json.hpp>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/provider.hpp"
#include "ctxmgr/sdk/provider_tools.hpp"
#include "http_post.hpp"
#include "provider_call.hpp"
#include "provider_options.hpp"
#include "stream_call.hpp"

namespace {

namespace sdk = ctxmgr::sdk;
namespace json = boost::json;
using sdk::Errc;
using sdk::Error;

// The plugin's own options; the call options (timeouts, retries) come from provider-core.
constexpr std::array<ctxmgr_option_spec, 4> kOwnOptions = {
    {sdk::option::secret("api_key", "\"\"", "the API key, e.g. ${OPENAI_API_KEY}; never logged"),
     sdk::option::string("base_url", "\"https://api.openai.com/v1\"",
                         "the API's root; http://127.0.0.1:8000/v1 for vLLM, :11434/v1 for Ollama"),
     sdk::option::string("default_model", "\"gpt-4o-mini\"", "the model when a request names none"),
     sdk::option::choice("max_tokens_field", "max_completion_tokens|max_tokens",
                         "\"max_completion_tokens\"",
                         "max_tokens for servers that do not know max_completion_tokens")}};
constexpr auto kOptions = ctxmgr::provider::with_call_options(kOwnOptions);

class OpenAiProvider final : public sdk::Provider, public sdk::ProviderTools {
 public:
  OpenAiProvider(sdk::Host& host, const sdk::Options& o)
      : host_(host),
        key_(o.get_string("api_key")),
        base_url_(ctxmgr::provider::trimmed_base_url(
            o.get_string("base_url", "https://api.openai.com/v1"))),
        default_model_(o.get_string("default_model", "gpt-4o-mini")),
        max_tokens_field_(o.get_string("max_tokens_field", "max_completion_tokens")),
        call_(ctxmgr::provider::call_settings(o)) {
    ctxmgr::provider::init_http();
  }

  sdk::Result<sdk::Completion> complete(const sdk::CompletionRequest& r,
                                        sdk::CompletionSink* sink) override {
    if (key_.empty()) {
      return Error(Errc::unavailable,
                   "provider openai has no API key (options.api_key, e.g. "
                   "${OPENAI_API_KEY})");
    }
    json::object body = request_body(r);
    ctxmgr::provider::HttpRequest req = http_request();
    if (sink == nullptr) {
      req.body = json::serialize(body);
      auto answer = ctxmgr::provider::call_with_retries(req, "openai", call_.max_retries, host_,
                                                        &ctxmgr::provider::error_message);
      if (!answer) return answer.error();
      return parse_completion(*answer, nullptr);
    }
    // Streamed: chunks until `data: [DONE]`; the last chunk before it carries the usage.
    body["stream"] = true;
    body["stream_options"] = json::object{{"include_usage", true}};
    req.body = json::serialize(body);
    sdk::Completion c;
    auto st = ctxmgr::provider::stream_with_retries(
        std::move(req), "openai", call_.max_retries, host_, &ctxmgr::provider::error_message,
        "[DONE]",
        [&](std::string_view, std::string_view data) { return on_chunk(data, c, *sink); });
    if (!st) return st.error();
    return c;
  }

  // Every tool as a function tool with its JSON schema (Chat Completions has no native memory
  // tool); each round as an assistant message with `tool_calls`, then one `tool` message per
  // result (the protocol has no error flag: the content says it).
  sdk::Result<sdk::ToolCompletion> complete_with_tools(
      const sdk::CompletionRequest& r, const std::vector<sdk::ToolSpec>& tools,
      const std::vector<sdk::ToolRound>& rounds) override {
    if (key_.empty()) {
      return Error(Errc::unavailable,
                   "provider openai has no API key (options.api_key, e.g. "
                   "${OPENAI_API_KEY})");
    }
    json::object body = request_body(r);
    json::array declared;
    for (const auto& t : tools) {
      declared.push_back(
          json::object{{"type", "function"},
                       {"function", json::object{{"name", t.name},
                                                 {"description", t.description},
                                                 {"parameters", json::parse(t.input_schema)}}}});
    }
    body["tools"] = std::move(declared);
    auto& messages = body["messages"].as_array();
    for (const auto& round : rounds) {
      json::array calls;
      for (const auto& c : round.calls) {
        calls.push_back(json::object{
            {"id", c.id},
            {"type", "function"},
            {"function", json::object{{"name", c.name}, {"arguments", c.input_json}}}});
      }
      json::object said{{"role", "assistant"}, {"tool_calls", std::move(calls)}};
      said["content"] = round.text.empty() ? json::value(nullptr) : json::value(round.text);
      messages.push_back(std::move(said));
      for (const auto& res : round.results) {
        messages.push_back(json::object{
            {"role", "tool"}, {"tool_call_id", res.call_id}, {"content", res.content}});
      }
    }
    ctxmgr::provider::HttpRequest req = http_request();
    req.body = json::serialize(body);
    auto answer = ctxmgr::provider::call_with_retries(req, "openai", call_.max_retries, host_,
                                                      &ctxmgr::provider::error_message);
    if (!answer) return answer.error();
    sdk::ToolCompletion out;
    auto completion = parse_completion(*answer, &out.calls);
    if (!completion) return completion.error();
    out.completion = std::move(*completion);
    return out;
  }

 private:
  ctxmgr::provider::HttpRequest http_request() const {
    ctxmgr::provider::HttpRequest req;
    req.url = base_url_ + "/chat/completions";
    req.headers = {"Authorization: Bearer " + key_, "Content-Type: application/json",
                   "Accept: application/json"};
    req.connect_timeout = call_.connect_timeout;
    req.total_timeout = call_.total_timeout;
    return req;
  }

  // The Chat Completions body of a request: the system prompt and the selected context as one
  // system message, then the conversation.
  json::object request_body(const sdk::CompletionRequest& r) const {
    json::object body;
    body["model"] = r.model.empty() ? default_model_ : r.model;
    json::array messages;
    std::string system = r.system;
    if (!r.context.empty()) system += (system.empty() ? "" : "\n\n") + r.context;
    if (!system.empty()) messages.push_back(json::object{{"role", "system"}, {"content", system}});
    for (const auto& m : r.messages) {
      messages.push_back(json::object{{"role", m.role}, {"content", m.content}});
    }
    body["messages"] = std::move(messages);
    body[max_tokens_field_] = r.max_tokens;
    if (r.temperature) body["temperature"] = *r.temperature;
    return body;
  }

  // One `chat.completion.chunk` of a stream into `c` (model, the delta's text passed to the sink,
  // finish_reason, usage), or `[DONE]`.
  static sdk::Result<ctxmgr::provider::StreamStep> on_chunk(std::string_view data,
                                                            sdk::Completion& c,
                                                            sdk::CompletionSink& sink) {
    using ctxmgr::provider::StreamStep;
    if (data == "[DONE]") return StreamStep::done;
    boost::system::error_code ec;
    const auto v = json::parse(data, ec);
    if (ec || !v.is_object())
      return Error(Errc::provider_error, "openai streamed a malformed chunk");
    const auto& o = v.as_object();
    if (o.contains("error")) {
      const std::string m = ctxmgr::provider::error_message(std::string(data));
      return Error(Errc::provider_error, "openai: " + (m.empty() ? "error in the stream" : m));
    }
    if (const auto* m = o.if_contains("model"); m != nullptr && m->is_string()) {
      c.model = std::string(m->as_string());
    }
    if (const auto* choices = o.if_contains("choices"); choices != nullptr && choices->is_array() &&
                                                        !choices->as_array().empty() &&
                                                        choices->as_array()[0].is_object()) {
      const auto& choice = choices->as_array()[0].as_object();
      if (const auto* f = choice.if_contains("finish_reason"); f != nullptr && f->is_string()) {
        c.stop_reason = std::string(f->as_string());
      }
      const auto* delta = choice.if_contains("delta");
      const json::value* text = delta != nullptr && delta->is_object()
                                    ? delta->as_object().if_contains("content")
                                    : nullptr;
      if (text != nullptr && text->is_string() && !text->as_string().empty()) {
        c.output_text += std::string(text->as_string());
        if (!sink.on_text(text->as_string())) return StreamStep::client_gone;
      }
    }
    if (const auto* u = o.if_contains("usage"); u != nullptr && u->is_object()) {
      const auto& usage = u->as_object();
      if (const auto* p = usage.if_contains("prompt_tokens"); p != nullptr && p->is_int64()) {
        c.usage.input_tokens = p->as_int64();
      }
      if (const auto* p = usage.if_contains("completion_tokens"); p != nullptr && p->is_int64()) {
        c.usage.output_tokens = p->as_int64();
      }
    }
    return StreamStep::more;
  }

  // A completion's first choice; its function calls into `calls` when given.
  static sdk::Result<sdk::Completion> parse_completion(const std::string& text,
                                                       std::vector<sdk::ToolCall>* calls) {
    const Error malformed(Errc::provider_error, "openai answered with a malformed completion");
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return malformed;
    const auto& o = v.as_object();
    const auto* choices = o.if_contains("choices");
    if (choices == nullptr || !choices->is_array() || choices->as_array().empty() ||
        !choices->as_array()[0].is_object()) {
      return malformed;
    }
    const auto& choice = choices->as_array()[0].as_object();
    const auto* message = choice.if_contains("message");
    if (message == nullptr || !message->is_object()) return malformed;
    sdk::Completion c;
    if (const auto* content = message->as_object().if_contains("content");
        content != nullptr && content->is_string()) {
      c.output_text = std::string(content->as_string());
    } else if (const auto* refusal = message->as_object().if_contains("refusal");
               refusal != nullptr && refusal->is_string()) {
      c.output_text = std::string(refusal->as_string());
    }
    if (const auto* f = choice.if_contains("finish_reason"); f != nullptr && f->is_string()) {
      c.stop_reason = std::string(f->as_string());
    }
    if (const auto* m = o.if_contains("model"); m != nullptr && m->is_string()) {
      c.model = std::string(m->as_string());
    }
    if (const auto* u = o.if_contains("usage"); u != nullptr && u->is_object()) {
      const auto& usage = u->as_object();
      if (const auto* p = usage.if_contains("prompt_tokens"); p != nullptr && p->is_int64()) {
        c.usage.input_tokens = p->as_int64();
      }
      if (const auto* p = usage.if_contains("completion_tokens"); p != nullptr && p->is_int64()) {
        c.usage.output_tokens = p->as_int64();
      }
    }
    const auto* tool_calls = message->as_object().if_contains("tool_calls");
    if (calls != nullptr && tool_calls != nullptr && tool_calls->is_array()) {
      for (const auto& call : tool_calls->as_array()) {
        const auto* co = call.if_object();
        const json::value* id = co != nullptr ? co->if_contains("id") : nullptr;
        const json::value* fn = co != nullptr ? co->if_contains("function") : nullptr;
        const json::object* f = fn != nullptr ? fn->if_object() : nullptr;
        const json::value* name = f != nullptr ? f->if_contains("name") : nullptr;
        const json::value* args = f != nullptr ? f->if_contains("arguments") : nullptr;
        if (id == nullptr || !id->is_string() || name == nullptr || !name->is_string() ||
            args == nullptr || !args->is_string()) {
          return malformed;
        }
        calls->push_back({std::string(id->as_string()), std::string(name->as_string()),
                          std::string(args->as_string())});
      }
    }
    return c;
  }

  sdk::Host& host_;
  std::string key_;
  std::string base_url_;
  std::string default_model_;
  std::string max_tokens_field_;
  ctxmgr::provider::CallSettings call_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::provider, "openai", "1.0.0",
              "OpenAI Chat Completions (and compatible servers) through libcurl", OpenAiProvider,
              kOptions)
