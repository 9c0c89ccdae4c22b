#pragma once
// Provider plugins call an AI model with a conversation and the context the kernel selected.
//
// The kernel decides which contexts go in (under the caller's access rights) and renders them
// into one text block; a provider only turns the request into its API's wire format, calls it,
// and maps the answer and the errors back. Errors: Errc::provider_error (the provider's message;
// rejected credentials say so), Errc::rate_limited (with field "retry_after" in seconds when the
// provider gave one), Errc::provider_timeout, Errc::unavailable (no API key, or not reachable).
// Never an API key in a message.
//
// Thread-safety: complete() may be called concurrently from many threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/plugin.hpp"

namespace ctxmgr::sdk {

struct ChatMessage {
  std::string role;  // user | assistant
  std::string content;
};

struct CompletionRequest {
  std::string model;    // empty: the plugin's default model
  std::string system;   // the caller's system prompt, may be empty
  std::string context;  // the rendered context block, may be empty; a provider that caches
                        // prompts marks it cacheable (it repeats across calls)
  std::vector<ChatMessage> messages;
  std::int64_t max_tokens = 1024;
  std::optional<double> temperature;  // sent only when given
};

struct CompletionUsage {
  std::int64_t input_tokens = 0;  // the provider's own counts
  std::int64_t output_tokens = 0;
};

struct Completion {
  std::string model;  // as the provider reports it
  std::string output_text;
  std::string stop_reason;  // the provider's own value (end_turn, max_tokens, stop, length, ...)
  CompletionUsage usage;
};

// Receives a streamed answer's text as it arrives.
class CTXMGR_SDK_VISIBLE CompletionSink {
 public:
  virtual ~CompletionSink();
  // false: the client went away; the provider stops reading and returns.
  virtual bool on_text(std::string_view text) = 0;
};

class CTXMGR_SDK_VISIBLE Provider : public Plugin {
 public:
  ~Provider() override;
  // With sink == nullptr the whole answer comes back at once. With a sink, text goes to it as it
  // arrives and the Completion carries the whole text and the totals; once text reached the sink
  // a failure is returned as is (no retry: the client has seen part of an answer).
  virtual Result<Completion> complete(const CompletionRequest& request, CompletionSink* sink) = 0;
};

template <>
struct KindInterface<Kind::provider> {
  using type = Provider;
};

}  // namespace ctxmgr::sdk
