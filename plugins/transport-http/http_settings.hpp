#pragma once
// The options of transport-http, after validation.

#include <chrono>
#include <cstddef>
#include <string>

namespace ctxmgr::http {

struct HttpSettings {
  std::string host = "127.0.0.1";
  unsigned short port = 5000;
  std::size_t threads = 0;  // 0: one per core
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds request_timeout{30000};  // to receive one request, idle included
  std::chrono::milliseconds drain_timeout{10000};    // to finish requests in flight on stop
};

}  // namespace ctxmgr::http
