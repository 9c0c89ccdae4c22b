// embedder-openai: POST {base_url}/embeddings {"model", "input": [texts], "dimensions"?} with
// `Authorization: Bearer <api_key>` when a key is set (local servers need none). Texts go in
// batches of `batch_size`; each is cut to `max_input_chars` (at a UTF-8 boundary) so one long
// context cannot make the server refuse a whole batch. Retries, timeouts and the error mapping
// are provider-core's (provider_call.hpp), counted as ctxmgr_embedder_*; an answer that is not
// one vector per text, all of one length, is provider_error and nothing of it is used.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "ctxmgr/sdk/embedder.hpp"
#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "http_post.hpp"
#include "provider_call.hpp"
#include "provider_options.hpp"

namespace {

namespace sdk = ctxmgr::sdk;
namespace json = boost::json;
using sdk::Errc;
using sdk::Error;

constexpr std::array<ctxmgr_option_spec, 6> kOwnOptions = {
    {sdk::option::secret("api_key", "\"\"",
                         "the API key, e.g. ${CTXMGR_EMBEDDINGS_KEY}; none for local servers"),
     sdk::option::string("base_url", "\"https://api.openai.com/v1\"",
                         "the API's root: http://127.0.0.1:11434/v1 for Ollama, :8080/v1 for "
                         "llama.cpp or TEI, :8000/v1 for vLLM"),
     sdk::option::string("model", "\"text-embedding-3-small\"", "the embedding model"),
     sdk::option::integer("dimensions", 0, 65536, "0",
                          "ask for vectors of this length (models that can shorten them); 0: the "
                          "model's own"),
     sdk::option::integer("batch_size", 1, 2048, "64", "texts per request"),
     sdk::option::integer("max_input_chars", 100, 1000000, "16000",
                          "each text is cut to this many bytes (at a character boundary)")}};
constexpr auto kOptions = ctxmgr::provider::with_call_options(kOwnOptions);

// `text` cut to at most `max` bytes without splitting a UTF-8 sequence.
std::string clipped(const std::string& text, std::size_t max) {
  if (text.size() <= max) return text;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

class OpenAiEmbedder final : public sdk::Embedder {
 public:
  OpenAiEmbedder(sdk::Host& host, const sdk::Options& o)
      : host_(host),
        key_(o.get_string("api_key")),
        base_url_(ctxmgr::provider::trimmed_base_url(
            o.get_string("base_url", "https://api.openai.com/v1"))),
        model_(o.get_string("model", "text-embedding-3-small")),
        dimensions_(static_cast<std::int32_t>(o.get_int("dimensions", 0))),
        batch_size_(static_cast<std::size_t>(o.get_int("batch_size", 64))),
        max_chars_(static_cast<std::size_t>(o.get_int("max_input_chars", 16000))),
        call_(ctxmgr::provider::call_settings(o)) {
    if (model_.empty()) throw std::invalid_argument("option model must not be empty");
    ctxmgr::provider::init_http();
  }

  // The model, and the length asked for when it was: shortened vectors are another space.
  std::string model_id() const override {
    return dimensions_ > 0 ? model_ + "@" + std::to_string(dimensions_) : model_;
  }
  std::int32_t dimensions() const override { return dimensions_; }

  sdk::Result<std::vector<std::vector<float>>> embed(
      const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (std::size_t at = 0; at < texts.size(); at += batch_size_) {
      const std::size_t n = std::min(batch_size_, texts.size() - at);
      auto batch = embed_batch(texts, at, n);
      if (!batch) return batch.error();
      for (auto& v : *batch) {
        if (!out.empty() && v.size() != out.front().size())
          return malformed("vectors of two lengths");
        out.push_back(std::move(v));
      }
    }
    return out;
  }

 private:
  static Error malformed(const std::string& why) {
    return Error(Errc::provider_error,
                 "embedder openai answered with malformed embeddings: " + why);
  }

  sdk::Result<std::vector<std::vector<float>>> embed_batch(const std::vector<std::string>& texts,
                                                           std::size_t at, std::size_t n) {
    json::array input;
    for (std::size_t i = at; i < at + n; ++i) input.emplace_back(clipped(texts[i], max_chars_));
    json::object body{{"model", model_}, {"input", std::move(input)}};
    if (dimensions_ > 0) body["dimensions"] = dimensions_;
    ctxmgr::provider::HttpRequest req;
    req.url = base_url_ + "/embeddings";
    req.headers = {"Content-Type: application/json", "Accept: application/json"};
    if (!key_.empty()) req.headers.push_back("Authorization: Bearer " + key_);
    req.body = json::serialize(body);
    req.connect_timeout = call_.connect_timeout;
    req.total_timeout = call_.total_timeout;
    auto answer =
        ctxmgr::provider::call_with_retries(req, "embedder openai", call_.max_retries, host_,
                                            &ctxmgr::provider::error_message, "embedder");
    if (!answer) return answer.error();
    return parse(*answer, n);
  }

  // {"data": [{"index": i, "embedding": [numbers]}, ...]}: one per text, put in index order.
  sdk::Result<std::vector<std::vector<float>>> parse(const std::string& text, std::size_t n) const {
    boost::system::error_code ec;
    const auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return malformed("not a JSON object");
    const auto* data = v.as_object().if_contains("data");
    if (data == nullptr || !data->is_array()) return malformed("no data array");
    if (data->as_array().size() != n) {
      return malformed(std::to_string(data->as_array().size()) + " vectors for " +
                       std::to_string(n) + " texts");
    }
    std::vector<std::vector<float>> out(n);
    std::size_t position = 0;
    for (const auto& item : data->as_array()) {
      const auto* o = item.if_object();
      const auto* embedding = o != nullptr ? o->if_contains("embedding") : nullptr;
      if (embedding == nullptr || !embedding->is_array() || embedding->as_array().empty()) {
        return malformed("an item without an embedding array");
      }
      std::size_t index = position++;
      if (const auto* i = o->if_contains("index"); i != nullptr) {
        if (!i->is_int64() || i->as_int64() < 0 || static_cast<std::size_t>(i->as_int64()) >= n) {
          return malformed("an index out of range");
        }
        index = static_cast<std::size_t>(i->as_int64());
      }
      if (!out[index].empty()) return malformed("two vectors for one text");
      auto& values = out[index];
      values.reserve(embedding->as_array().size());
      for (const auto& x : embedding->as_array()) {
        if (!x.is_number()) return malformed("a value that is not a number");
        values.push_back(static_cast<float>(x.to_number<double>()));
      }
      if (dimensions_ > 0 && values.size() != static_cast<std::size_t>(dimensions_)) {
        return malformed(std::to_string(values.size()) + " dimensions where " +
                         std::to_string(dimensions_) + " were asked for");
      }
      if (values.size() != out[0].size() && !out[0].empty()) {
        return malformed("vectors of two lengths");
      }
    }
    return out;
  }

  sdk::Host& host_;
  std::string key_;
  std::string base_url_;
  std::string model_;
  std::int32_t dimensions_;
  std::size_t batch_size_;
  std::size_t max_chars_;
  ctxmgr::provider::CallSettings call_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::embedder, "openai", "1.0.0",
              "OpenAI-compatible embeddings (OpenAI, Ollama, llama.cpp, vLLM, TEI) through libcurl",
              OpenAiEmbedder, kOptions)
