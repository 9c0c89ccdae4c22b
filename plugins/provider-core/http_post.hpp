#pragma once
// One HTTP POST through libcurl (an easy handle per call: calls on many threads at once share
// nothing). Response headers come back with lower-case names.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ctxmgr::provider {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{120000};
  // When set, a 2xx answer's body goes here as it arrives instead of into HttpResult::body;
  // false stops the transfer.
  std::function<bool(std::string_view)> on_data;
};

struct HttpResult {
  enum class Failure { none, timeout, connect, other };
  Failure failure = Failure::none;  // none: `status` is the server's answer
  std::string failure_text;         // libcurl's description, never a header or the body sent
  long status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  bool streamed = false;  // some of a 2xx body went to on_data
  bool stopped = false;   // on_data asked to stop
};

// Call once from the main thread before any post() (libcurl's global init is not thread-safe).
void init_http();
HttpResult post(const HttpRequest& request);

}  // namespace ctxmgr::provider
