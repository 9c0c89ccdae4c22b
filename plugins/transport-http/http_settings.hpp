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
  std::size_t threads = 0;  // 0: threads_per_core per core
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds request_timeout{30000};  // to receive one request, idle included
  std::chrono::milliseconds header_timeout{10000};   // from a request's first byte to its header
  std::chrono::milliseconds drain_timeout{10000};    // to finish requests in flight on stop
  std::string mcp_path = "/mcp";                     // empty: no MCP endpoint
  std::vector<std::string> allowed_hosts;            // Host names answered beside loopback ones
  std::vector<std::string> allowed_origins;          // browser Origins allowed beside loopback ones
  std::size_t mcp_max_sessions = 1000;
  std::size_t mcp_max_sessions_per_agent = 100;
  bool access_log = true;              // one info line per request
  bool console = false;                // the operator's console at /console/ (docs/console.md)
  std::size_t max_connections = 1024;  // more are answered 503 and closed at once
  std::size_t max_connections_per_address = 256;
  std::size_t provider_workers = 8;  // threads for requests that wait on an AI provider
  std::size_t provider_queue = 64;   // such requests running or waiting; more get 503
  std::size_t write_workers = 32;    // threads for writes (POST, PATCH, PUT, DELETE)
  std::size_t write_queue = 1024;    // writes running or waiting; more get 503
  double failed_auth_rate = 5;    // failed authentications a second per address (0: off)
  double failed_auth_burst = 20;  // ... at once
  std::chrono::milliseconds event_heartbeat{15000};  // an idle event stream's comment line
  int event_send_buffer = 65536;  // SO_SNDBUF of an event stream: what the kernel holds for it
};

}  // namespace ctxmgr::http
