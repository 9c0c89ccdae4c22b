// provider-anthropic: POST {base_url}/v1/messages with `x-api-key` and `anthropic-version`.
// `system` is an array of text blocks: the caller's system prompt, then the context block marked
// `cache_control: {type: ephemeral}`, so that a context repeated across calls is read from the
// prompt cache. `temperature` is sent only when given (newer models accept only the default).
// Retries and error mapping: provider_call.hpp (Anthropic's 529 "overloaded" is a 5xx: retried);
// a missing key is 503 and an answer that is not the API's shape 502.

#include <boost/json.hpp>

#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/provider.hpp"
#include "http_post.hpp"
#include "provider_call.hpp"

namespace {

namespace sdk = ctxmgr::sdk;
namespace json = boost::json;
using sdk::Errc;
using sdk::Error;

constexpr ctxmgr_option_spec kOptions[] = {
    {.name = "api_key",
     .type = CTXMGR_OPT_STRING,
     .flags = CTXMGR_OPT_SECRET,
     .default_json = "\"\"",
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "the API key, e.g. ${ANTHROPIC_API_KEY}; never logged"},
    {.name = "base_url",
     .type = CTXMGR_OPT_STRING,
     .flags = 0,
     .default_json = "\"https://api.anthropic.com\"",
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "the API's root (the request goes to {base_url}/v1/messages)"},
    {.name = "default_model",
     .type = CTXMGR_OPT_STRING,
     .flags = 0,
     .default_json = "\"claude-sonnet-4-5\"",
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "the model when a request names none"},
    {.name = "anthropic_version",
     .type = CTXMGR_OPT_STRING,
     .flags = 0,
     .default_json = "\"2023-06-01\"",
     .min = 0,
     .max = 0,
     .allowed = nullptr,
     .description = "the anthropic-version header"},
    {.name = "connect_timeout_ms",
     .type = CTXMGR_OPT_INTEGER,
     .flags = CTXMGR_OPT_HAS_MIN | CTXMGR_OPT_HAS_MAX,
     .default_json = "10000",
     .min = 1,
     .max = 600000,
     .allowed = nullptr,
     .description = "connecting to the provider, per attempt"},
    {.name = "timeout_ms",
     .type = CTXMGR_OPT_INTEGER,
     .flags = CTXMGR_OPT_HAS_MIN | CTXMGR_OPT_HAS_MAX,
     .default_json = "120000",
     .min = 1,
     .max = 3600000,
     .allowed = nullptr,
     .description = "a whole attempt, answer included (then 504)"},
    {.name = "max_retries",
     .type = CTXMGR_OPT_INTEGER,
     .flags = CTXMGR_OPT_HAS_MIN | CTXMGR_OPT_HAS_MAX,
     .default_json = "2",
     .min = 0,
     .max = 10,
     .allowed = nullptr,
     .description = "retries after 408, 409, 429, 5xx (529 too) and connection failures"},
};

// {"type": "error", "error": {"type": ..., "message": ...}}
std::string message_of(const std::string& body) {
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    if (const auto* e = v.as_object().if_contains("error"); e != nullptr && e->is_object()) {
      if (const auto* m = e->as_object().if_contains("message"); m != nullptr && m->is_string()) {
        return std::string(m->as_string());
      }
    }
  }
  return {};
}

class AnthropicProvider final : public sdk::Provider {
 public:
  AnthropicProvider(sdk::Host& host, const sdk::Options& o)
      : log_(host.log()),
        key_(o.get_string("api_key")),
        base_url_(o.get_string("base_url", "https://api.anthropic.com")),
        default_model_(o.get_string("default_model", "claude-sonnet-4-5")),
        version_(o.get_string("anthropic_version", "2023-06-01")),
        connect_timeout_(o.get_int("connect_timeout_ms", 10000)),
        timeout_(o.get_int("timeout_ms", 120000)),
        max_retries_(static_cast<int>(o.get_int("max_retries", 2))) {
    while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
    ctxmgr::provider::init_http();
  }

  sdk::Result<sdk::Completion> complete(const sdk::CompletionRequest& r,
                                        sdk::CompletionSink* sink) override {
    if (key_.empty()) {
      return Error(Errc::unavailable,
                   "provider anthropic has no API key (options.api_key, e.g. "
                   "${ANTHROPIC_API_KEY})");
    }
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
    ctxmgr::provider::HttpRequest req;
    req.url = base_url_ + "/v1/messages";
    req.headers = {"x-api-key: " + key_, "anthropic-version: " + version_,
                   "Content-Type: application/json", "Accept: application/json"};
    req.body = json::serialize(body);
    req.connect_timeout = connect_timeout_;
    req.total_timeout = timeout_;
    auto answer =
        ctxmgr::provider::call_with_retries(req, "anthropic", max_retries_, log_, &message_of);
    if (!answer) return answer.error();
    auto c = parse_message(*answer);
    if (c && sink != nullptr) sink->on_text(c->output_text);
    return c;
  }

 private:
  // A Message: the text of its text blocks, stop_reason, usage (cache reads and writes count as
  // input), model.
  static sdk::Result<sdk::Completion> parse_message(const std::string& text) {
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
    }
    if (const auto* s = o.if_contains("stop_reason"); s != nullptr && s->is_string()) {
      c.stop_reason = std::string(s->as_string());
    }
    if (const auto* m = o.if_contains("model"); m != nullptr && m->is_string()) {
      c.model = std::string(m->as_string());
    }
    if (const auto* u = o.if_contains("usage"); u != nullptr && u->is_object()) {
      for (const char* key :
           {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}) {
        if (const auto* n = u->as_object().if_contains(key); n != nullptr && n->is_int64()) {
          c.usage.input_tokens += n->as_int64();
        }
      }
      if (const auto* n = u->as_object().if_contains("output_tokens");
          n != nullptr && n->is_int64()) {
        c.usage.output_tokens = n->as_int64();
      }
    }
    return c;
  }

  sdk::Logger& log_;
  std::string key_;
  std::string base_url_;
  std::string default_model_;
  std::string version_;
  std::chrono::milliseconds connect_timeout_;
  std::chrono::milliseconds timeout_;
  int max_retries_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::provider, "anthropic", "1.0.0",
              "Anthropic Messages API through libcurl, the context block prompt-cached",
              AnthropicProvider, kOptions)
