#pragma once
// MCP's Streamable HTTP transport (2025-11-25) on a path of this listener (/mcp by default):
// POST carries one JSON-RPC message (202 for a notification, else the answer as JSON), the
// `initialize` answer opens a session (Mcp-Session-Id), DELETE ends it, GET is 405 (no
// server-initiated stream). Origin is checked against an allow-list (loopback origins by default)
// against DNS rebinding. Identity per request, as REST: Bearer token or X-Agent-Id. At most
// `max_sessions` live: a new one evicts the least recently used (its client gets 404 and
// initializes again), so abandoned sessions never lock new clients out.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http_router.hpp"
#include "mcp_server.hpp"

namespace ctxmgr::http {

class McpEndpoint {
 public:
  McpEndpoint(sdk::ContextApi& api, std::vector<std::string> allowed_origins,
              std::size_t max_sessions)
      : api_(api), allowed_origins_(std::move(allowed_origins)), max_sessions_(max_sessions) {}

  Response handle(const Request& req, const std::string& request_id);

 private:
  struct Session {
    std::mutex mu;                           // one message of a session at a time
    std::atomic<std::int64_t> last_used{0};  // steady clock, ms; for eviction
    mcp::McpServer server;
    explicit Session(sdk::ContextApi& api) : server(api, CTXMGR_MCP_SERVER_VERSION) {}
  };
  std::shared_ptr<Session> find(const std::string& id);
  bool origin_allowed(std::string_view origin) const;

  sdk::ContextApi& api_;
  std::vector<std::string> allowed_origins_;
  std::size_t max_sessions_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>, std::less<>> sessions_;
};

}  // namespace ctxmgr::http
