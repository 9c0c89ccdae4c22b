// provider-offline: a provider for dry runs. It calls nothing and answers with exactly what the
// kernel would have sent a provider — model, system prompt, the rendered context block, the
// messages, max_tokens, temperature — as JSON in output_text, so an operator sees the prompt.
// usage estimates input tokens as ceil(bytes / 4) and counts no output tokens; stop_reason is
// "offline". Streamed, the same text arrives in one piece.

#include <cmath>

#include <boost/json.hpp>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/provider.hpp"

namespace {

namespace sdk = ctxmgr::sdk;

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::string("default_model", "\"offline\"", "the model reported when a request names none"),
};

class OfflineProvider final : public sdk::Provider {
 public:
  OfflineProvider(sdk::Host& /*host*/, const sdk::Options& options)
      : default_model_(options.get_string("default_model", "offline")) {}

  sdk::Result<sdk::Completion> complete(const sdk::CompletionRequest& r,
                                        sdk::CompletionSink* sink) override {
    boost::json::object sent;
    sent["model"] = r.model.empty() ? default_model_ : r.model;
    sent["system"] = r.system;
    sent["context"] = r.context;
    boost::json::array messages;
    std::size_t bytes = r.system.size() + r.context.size();
    for (const auto& m : r.messages) {
      messages.push_back(boost::json::object{{"role", m.role}, {"content", m.content}});
      bytes += m.content.size();
    }
    sent["messages"] = std::move(messages);
    sent["max_tokens"] = r.max_tokens;
    if (r.temperature) sent["temperature"] = *r.temperature;
    sdk::Completion c;
    c.model = std::string(sent["model"].as_string());
    c.output_text = boost::json::serialize(sent);
    c.stop_reason = "offline";
    c.usage.input_tokens = static_cast<std::int64_t>(std::ceil(static_cast<double>(bytes) / 4));
    if (sink != nullptr) sink->on_text(c.output_text);
    return c;
  }

 private:
  std::string default_model_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::provider, "offline", "1.0.0",
              "dry runs: calls nothing, answers with the request it would have sent",
              OfflineProvider, kOptions)
