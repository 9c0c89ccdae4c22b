// provider-anthropic: POST {base_url}/v1/messages with `x-api-key` and `anthropic-version`.
// `system` is an array of text blocks: the caller's system prompt, then the context block marked
// `cache_control: {type: ephemeral}`, so that a context repeated across calls is read from the
// prompt cache. `temperature` is sent only when given (newer models accept only the default).
// Retries and error mapping: provider_call.hpp (Anthropic's 529 "overloaded" is a 5xx: retried);
// a missing key is 503 and an answer that is not the API's shape 502.

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
constexpr std::array<ctxmgr_option_spec, 5> kOwnOptions = {
    {sdk::option::secret("api_key", "\"\"", "the API key, e.g. ${ANTHROPIC_API_KEY}; never logged"),
     sdk::option::string("base_url", "\"https://api.anthropic.com\"",
                         "the API's root (the request goes to {base_url}/v1/messages)"),
     sdk::option::string("default_model", "\"claude-sonnet-4-5\"",
                         "the model when a request names none"),
     sdk::option::string("anthropic_version", "\"2023-06-01\"", "the anthropic-version header"),
     sdk::option::string(
         "beta", "\"\"",
         "an anthropic-beta header (comma-separated beta names), or empty for none")}};
constexpr auto kOptions = ctxmgr::provider::with_call_options(kOwnOptions);

// Input tokens as Anthropic counts them: uncached, written to the cache, read from it.
void add_input_usage(const json::object& usage, sdk::CompletionUsage& out) {
  for (const char* key :
       {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}) {
    if (const auto* n = usage.if_contains(key); n != nullptr && n->is_int64()) {
      out.input_tokens += n->as_int64();
    }
  }
}

class AnthropicProvider final : public sdk::Provider, public sdk::ProviderTools {
 public:
  AnthropicProvider(sdk::Host& host, const sdk::Options& o)
      : host_(host),
        key_(o.get_string("api_key")),
        base_url_(ctxmgr::provider::trimmed_base_url(
            o.get_string("base_url", "https://api.anthropic.com"))),
        default_model_(o.get_string("default_model", "claude-sonnet-4-5")),
        version_(o.get_string("anthropic_version", "2023-06-01")),
        beta_(o.get_string("beta", "")),
        call_(ctxmgr::provider::call_settings(o)) {
    ctxmgr::provider::init_http();
  }

  sdk::Result<sdk::Completion> complete(const sdk::CompletionRequest& r,
                                        sdk::CompletionSink* sink) override {
    if (key_.empty()) {
      return Error(Errc::unavailable,
                   "provider anthropic has no API key (options.api_key, e.g. "
                   "${ANTHROPIC_API_KEY})");
    }
    json::object body = request_body(r);
    ctxmgr::provider::HttpRequest req = http_request();
    if (sink == nullptr) {
      req.body = json::serialize(body);
      auto answer = ctxmgr::provider::call_with_retries(req, "anthropic", call_.max_retries, host_,
                                                        &ctxmgr::provider::error_message);
      if (!answer) return answer.error();
      return parse_message(*answer, nullptr);
    }
    body["stream"] = true;
    req.body = json::serialize(body);
    sdk::Completion c;
    auto st = ctxmgr::provider::stream_with_retries(
        std::move(req), "anthropic", call_.max_retries, host_, &ctxmgr::provider::error_message,
        "message_stop", [&](std::string_view event, std::string_view data) {
          return on_event(event, data, c, *sink);
        });
    if (!st) return st.error();
    return c;
  }

  // The tools as `tools` (a native type as {type, name}, else a custom tool with its schema), and
  // each round as an assistant message of text and tool_use blocks followed by a user message of
  // tool_result blocks.
  sdk::Result<sdk::ToolCompletion> complete_with_tools(
      const sdk::CompletionRequest& r, const std::vector<sdk::ToolSpec>& tools,
      const std::vector<sdk::ToolRound>& rounds) override {
    if (key_.empty()) {
      return Error(Errc::unavailable,
                   "provider anthropic has no API key (options.api_key, e.g. "
                   "${ANTHROPIC_API_KEY})");
    }
    json::object body = request_body(r);
    json::array declared;
    for (const auto& t : tools) {
      if (!t.native_type.empty()) {
        declared.push_back(json::object{{"type", t.native_type}, {"name", t.name}});
      } else {
        declared.push_back(json::object{{"name", t.name},
                                        {"description", t.description},
                                        {"input_schema", json::parse(t.input_schema)}});
      }
    }
    body["tools"] = std::move(declared);
    auto& messages = body["messages"].as_array();
    for (const auto& round : rounds) {
      json::array said;
      if (!round.text.empty()) said.push_back(json::object{{"type", "text"}, {"text", round.text}});
      for (const auto& c : round.calls) {
        boost::system::error_code ec;
        json::value input = json::parse(c.input_json, ec);
        if (ec || !input.is_object()) input = json::object();
        said.push_back(
            json::object{{"type", "tool_use"}, {"id", c.id}, {"name", c.name}, {"input", input}});
      }
      messages.push_back(json::object{{"role", "assistant"}, {"content", std::move(said)}});
      json::array results;
      for (const auto& res : round.results) {
        json::object block{
            {"type", "tool_result"}, {"tool_use_id", res.call_id}, {"content", res.content}};
        if (res.is_error) block["is_error"] = true;
        results.push_back(std::move(block));
      }
      messages.push_back(json::object{{"role", "user"}, {"content", std::move(results)}});
    }
    ctxmgr::provider::HttpRequest req = http_request();
    req.body = json::serialize(body);
    auto answer = ctxmgr::provider::call_with_retries(req, "anthropic", call_.max_retries, host_,
                                                      &ctxmgr::provider::error_message);
    if (!answer) return answer.error();
    sdk::ToolCompletion out;
    auto message = parse_message(*answer, &out.calls);
    if (!message) return message.error();
    out.completion = std::move(*message);
    return out;
  }

 private:
  ctxmgr::provider::HttpRequest http_request() const {
    ctxmgr::provider::HttpRequest req;
    req.url = base_url_ + "/v1/messages";
    req.headers = {"x-api-key: " + key_, "anthropic-version: " + version_,
                   "Content-Type: application/json", "Accept: application/json"};
    if (!beta_.empty()) req.headers.push_back("anthropic-beta: " + beta_);
    req.connect_timeout = call_.connect_timeout;
    req.total_timeout = call_.total_timeout;
    return req;
  }

  // The Messages API body of a request: the system prompt and the selected context as system
  // blocks (the context marked for prompt caching), then the conversation.
  json::object request_body(const sdk::CompletionRequest& r) const {
    json::object body;
    body["model"] = r.model.empty() ? default_model_ : r.model;
    body["max_tokens"] = r.max_tokens;
    json::array system;
    if (!r.system.empty()) system.push_back(json::object{{"type", "text"}, {"text", r.system}});
    if (!r.context.empty()) {
      system.push_back(json::object{{"type", "text"},
                                    {"text", r.context},
                                    {"cache_control", json::object{{"type", "ephemeral"}}}});
    }
    if (!system.empty()) body["system"] = std::move(system);
    json::array messages;
    for (const auto& m : r.messages) {
      messages.push_back(json::object{{"role", m.role}, {"content", m.content}});
    }
    body["messages"] = std::move(messages);
    if (r.temperature) body["temperature"] = *r.temperature;
    return body;
  }

  // One event of a streamed Message into `c`: message_start (model, input usage),
  // content_block_delta (text_delta, passed to the sink), ping, message_delta (stop_reason,
  // output usage), message_stop; or an `error` event.
  static sdk::Result<ctxmgr::provider::StreamStep> on_event(std::string_view event,
                                                            std::string_view data,
                                                            sdk::Completion& c,
                                                            sdk::CompletionSink& sink) {
    using ctxmgr::provider::StreamStep;
    boost::system::error_code ec;
    const auto v = json::parse(data, ec);
    if (ec || !v.is_object())
      return Error(Errc::provider_error, "anthropic streamed a malformed event");
    const auto& o = v.as_object();
    if (event == "error") {
      const std::string m = ctxmgr::provider::error_message(std::string(data));
      return Error(Errc::provider_error, "anthropic: " + (m.empty() ? "error in the stream" : m));
    }
    if (event == "message_start") {
      if (const auto* m = o.if_contains("message"); m != nullptr && m->is_object()) {
        const auto& msg = m->as_object();
        if (const auto* model = msg.if_contains("model"); model != nullptr && model->is_string()) {
          c.model = std::string(model->as_string());
        }
        if (const auto* u = msg.if_contains("usage"); u != nullptr && u->is_object()) {
          add_input_usage(u->as_object(), c.usage);
        }
      }
    } else if (event == "content_block_delta") {
      const auto* d = o.if_contains("delta");
      if (d != nullptr && d->is_object()) {
        const auto* type = d->as_object().if_contains("type");
        const auto* text = d->as_object().if_contains("text");
        if (type != nullptr && type->is_string() && type->as_string() == "text_delta" &&
            text != nullptr && text->is_string()) {
          c.output_text += std::string(text->as_string());
          if (!sink.on_text(text->as_string())) return StreamStep::client_gone;
        }
      }
    } else if (event == "message_delta") {
      if (const auto* d = o.if_contains("delta"); d != nullptr && d->is_object()) {
        if (const auto* s = d->as_object().if_contains("stop_reason");
            s != nullptr && s->is_string()) {
          c.stop_reason = std::string(s->as_string());
        }
      }
      if (const auto* u = o.if_contains("usage"); u != nullptr && u->is_object()) {
        if (const auto* n = u->as_object().if_contains("output_tokens");
            n != nullptr && n->is_int64()) {
          c.usage.output_tokens = n->as_int64();
        }
      }
    } else if (event == "message_stop") {
      return StreamStep::done;
    }
    return StreamStep::more;
  }

  // A Message: the text of its text blocks, stop_reason, usage (cache reads and writes count as
  // input), model; and its tool_use blocks into `calls` when given.
  static sdk::Result<sdk::Completion> parse_message(const std::string& text,
                                                    std::vector<sdk::ToolCall>* calls) {
    const Error malformed(Errc::provider_error, "anthropic answered with a malformed message");
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return malformed;
    const auto& o = v.as_object();
    const auto* content = o.if_contains("content");
    if (content == nullptr || !content->is_array()) return malformed;
    sdk::Completion c;
    for (const auto& block : content->as_array()) {
      if (!block.is_object()) return malformed;
      const auto* type = block.as_object().if_contains("type");
      const auto* t = block.as_object().if_contains("text");
      if (type != nullptr && type->is_string() && type->as_string() == "text" && t != nullptr &&
          t->is_string()) {
        c.output_text += std::string(t->as_string());
      }
      if (calls != nullptr && type != nullptr && type->is_string() &&
          type->as_string() == "tool_use") {
        const auto& b = block.as_object();
        const auto* id = b.if_contains("id");
        const auto* name = b.if_contains("name");
        const auto* input = b.if_contains("input");
        if (id == nullptr || !id->is_string() || name == nullptr || !name->is_string() ||
            input == nullptr) {
          return malformed;
        }
        calls->push_back({std::string(id->as_string()), std::string(name->as_string()),
                          json::serialize(*input)});
      }
    }
    if (const auto* s = o.if_contains("stop_reason"); s != nullptr && s->is_string()) {
      c.stop_reason = std::string(s->as_string());
    }
    if (const auto* m = o.if_contains("model"); m != nullptr && m->is_string()) {
      c.model = std::string(m->as_string());
    }
    if (const auto* u = o.if_contains("usage"); u != nullptr && u->is_object()) {
      add_input_usage(u->as_object(), c.usage);
      if (const auto* n = u->as_object().if_contains("output_tokens");
          n != nullptr && n->is_int64()) {
        c.usage.output_tokens = n->as_int64();
      }
    }
    return c;
  }

  sdk::Host& host_;
  std::string key_;
  std::string base_url_;
  std::string default_model_;
  std::string version_;
  std::string beta_;
  ctxmgr::provider::CallSettings call_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::provider, "anthropic", "1.0.0",
              "Anthropic Messages API through libcurl, the context block prompt-cached",
              AnthropicProvider, kOptions)
