#pragma once
// MCP's Streamable HTTP transport (2025-11-25) on a path of this listener (/mcp by default):
// POST carries one JSON-RPC message (202 for a notification, else the answer as JSON), the
// `initialize` answer opens a session (Mcp-Session-Id), DELETE ends it, GET opens the session's
// server-to-client stream (SSE) that carries the notifications of resources/subscribe. Every Origin
// is checked (RequestGuard: loopback origins and the allowed ones) against DNS rebinding. Identity
// per request, as REST: Bearer token or X-Agent-Id; a session belongs to the agent that opened it
// (another agent gets 404 for it, DELETE included). At most `max_sessions_per_agent` per agent (a
// new one evicts that agent's least recently used) and `max_sessions` in all (a new one evicts the
// least recently used session of the agent that holds the most), so abandoned sessions never lock
// new clients out and one agent cannot push out the others'.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "http_router.hpp"
#include "mcp_server.hpp"
#include "request_guard.hpp"

namespace ctxmgr::http {

class McpEndpoint {
 public:
  McpEndpoint(sdk::ContextApi& api, const RequestGuard& guard, std::size_t max_sessions,
              std::size_t max_sessions_per_agent)
      : api_(api),
        guard_(guard),
        max_sessions_(max_sessions),
        max_sessions_per_agent_(max_sessions_per_agent) {}

  // nullopt: the answer is the session's stream, handed to `writer` (GET).
  std::optional<Response> handle(const Request& req, const std::string& request_id,
                                 RawWriter& writer);

 private:
  class NotificationStream;
  struct Session {
    std::mutex mu;                            // one message of a session at a time
    std::atomic<std::uint64_t> last_used{0};  // McpEndpoint::uses_ at its latest use
    const std::string agent;                  // who opened it
    mcp::McpServer server;
    std::atomic<bool> ended{false};  // deleted or evicted: its stream ends
    // Who the session's stream wakes: the kernel may hold it past the session's end.
    std::shared_ptr<mcp::WakeBox> stream_wake = std::make_shared<mcp::WakeBox>();
    Session(sdk::ContextApi& api, std::string owner)
        : agent(std::move(owner)), server(api, CTXMGR_MCP_SERVER_VERSION) {
      server.set_notification_wake([slot = stream_wake] { slot->call(); });
    }
    void end() {
      ended = true;
      stream_wake->call();
    }
  };
  // A session, or the response that refuses the message.
  struct SessionOr {
    explicit SessionOr(std::shared_ptr<Session> s) : session(std::move(s)) {}
    explicit SessionOr(Response r) : refusal(std::move(r)) {}
    std::shared_ptr<Session> session;
    std::optional<Response> refusal;
  };
  // The steps of handle(), in order. Each refusal is the response to send.
  std::optional<Response> refuse_headers(const Request& req, const std::string& request_id) const;
  std::optional<Response> authenticate(const Request& req, const std::string& request_id,
                                       const mcp::Identity& who);
  Response close(const Request& req, const std::string& request_id, const std::string& session_id,
                 const std::string& agent);  // DELETE
  std::optional<Response> stream(const Request& req, const std::string& request_id,
                                 const std::string& session_id, const std::string& agent,
                                 RawWriter& writer);  // GET
  std::optional<Response> refuse_post(const Request& req, const std::string& request_id) const;
  SessionOr open(const Request& req, const std::string& request_id, const std::string& session_id,
                 const std::string& agent,
                 std::string& new_session_id);  // initialize
  SessionOr existing(const Request& req, const std::string& request_id,
                     const std::string& session_id, const std::string& agent);
  Response answer(const Request& req, const std::string& request_id,
                  const std::optional<std::string>& reply, const std::string& new_session_id) const;
  // The session `id` if `agent` opened it.
  std::shared_ptr<Session> find(const std::string& id, const std::string& agent);
  // With mu_ held: makes room for one more session of `agent`.
  void evict_for(const std::string& agent);

  sdk::ContextApi& api_;
  const RequestGuard& guard_;
  std::size_t max_sessions_;
  std::size_t max_sessions_per_agent_;
  std::atomic<std::uint64_t> uses_{0};  // orders uses, for eviction (a clock can tie)
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>, std::less<>> sessions_;
};

}  // namespace ctxmgr::http
