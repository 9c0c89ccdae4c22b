#pragma once
// The options of transport-http, after validation.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace ctxmgr::http {

struct HttpSettings {
  std::string host = "127.0.0.1";
  unsigned short port = 5000;
  std::size_t threads = 0;  // 0: one per core
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds request_timeout{30000};  // to receive one request, idle included
  std::chrono::milliseconds drain_timeout{10000};    // to finish requests in flight on stop
  std::string mcp_path = "/mcp";                     // empty: no MCP endpoint
  std::vector<std::string> mcp_allowed_origins;      // beside the loopback origins
  std::size_t mcp_max_sessions = 1000;
  bool access_log = true;  // one info line per request
  std::size_t max_connections = 1024;  // more are answered 503 and closed at once
};

}  // namespace ctxmgr::http
