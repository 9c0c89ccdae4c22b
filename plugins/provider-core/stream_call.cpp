#include "stream_call.hpp"

#include <optional>

#include "sse_parser.hpp"

namespace ctxmgr::provider {

using sdk::Errc;
using sdk::Error;

sdk::Status stream_with_retries(HttpRequest request, std::string_view provider, int max_retries,
                                sdk::Host& host, const MessageOf& message_of,
                                std::string_view end_marker, const OnStreamEvent& on_event) {
  std::optional<Error> failed;
  bool done = false;
  bool client_gone = false;
  SseParser parser([&](std::string_view event, std::string_view data) {
    auto step = on_event(event, data);
    if (!step) {
      failed = step.error();
      return false;
    }
    done = *step == StreamStep::done;
    client_gone = *step == StreamStep::client_gone;
    return *step == StreamStep::more;
  });
  request.on_data = [&](std::string_view bytes) { return parser.feed(bytes); };
  auto answer = call_with_retries(request, provider, max_retries, host, message_of);
  if (failed) return *failed;
  if (!answer) return answer.error();
  if (client_gone) return Error(Errc::unavailable, "the client went away");
  if (!done) {
    return Error(Errc::provider_error,
                 std::string(provider) + "'s stream ended before " + std::string(end_marker));
  }
  return {};
}

}  // namespace ctxmgr::provider
