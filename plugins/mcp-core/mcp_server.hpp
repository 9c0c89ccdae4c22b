#pragma once
// The Model Context Protocol server logic, apart from any transport: one JSON-RPC message in,
// at most one out. Protocol versions 2025-11-25 (latest), 2025-06-18 and 2025-03-26; tools that
// mirror the REST operations (API.md, MCP section) through the kernel's ContextApi, so identity,
// access rules, versioning and audit are the REST ones; each readable context as a resource
// `context://{id}`. Kept free of sessions-as-state beyond "initialized", so the stateless
// 2026-07-28 revision can reuse it.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "ctxmgr/sdk/context_api.hpp"
#include "mcp_subscriptions.hpp"

namespace ctxmgr::mcp {

// The error body of API.md, {"error":{"code","message","request_id",<fields>}}: the one writer of
// it, for REST answers (transport-http) and for MCP tool errors alike.
std::string error_body(const sdk::Error& error, const std::string& request_id);

// Who sends a message: what the kernel authenticates, as REST headers would carry it.
struct Identity {
  std::string agent;          // X-Agent-Id equivalent (trust mode), may be empty
  std::string authorization;  // "Bearer <token>" (token mode), may be empty
};

// The protocol versions this server speaks, newest first.
inline constexpr const char* kProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};

class McpServer {
 public:
  McpServer(sdk::ContextApi& api, std::string version)
      : api_(api), version_(std::move(version)), subscriptions_(api) {}

  // Handles one JSON-RPC message from `who`; returns the message to send back, if any (a
  // notification gets none).
  std::optional<std::string> handle(std::string_view message, const Identity& who);

  // Server-to-client messages (resources/subscribe; mcp_subscriptions.hpp): `wake` is called
  // from the kernel's thread (it must not block) when some may be ready, and notifications()
  // hands them over. Both may be called from any thread, beside handle().
  void set_notification_wake(std::function<void()> wake) {
    subscriptions_.set_wake(std::move(wake));
  }
  std::vector<std::string> notifications() { return subscriptions_.take(); }

 private:
  // The result of a request, as JSON text.
  std::string dispatch(const std::string& method, const boost::json::object& params,
                       const boost::json::value& id, const Identity& who);
  // tools/call, with read-your-writes (docs/scaling.md): params._meta["ctxmgr/consistency"] is
  // the token for the tool's reads, and a tool that wrote answers its token there in the
  // result's _meta.
  std::string call_tool(const boost::json::object& params, const sdk::Caller& caller);
  std::string run_tool(const boost::json::object& params, const sdk::Caller& caller);
  boost::json::value read_resource(const boost::json::object& params, const sdk::Caller& caller);
  boost::json::value list_resources(const boost::json::object& params, const sdk::Caller& caller);
  // resources/subscribe (`on`) and resources/unsubscribe.
  std::string subscribe(const boost::json::object& params, const sdk::Caller& caller,
                        const Identity& who, bool on);

  sdk::ContextApi& api_;
  std::string version_;
  bool initialized_ = false;
  ResourceSubscriptions subscriptions_;
};

// A JSON-RPC error raised while handling a request.
struct RpcError {
  int code;
  std::string message;
  boost::json::value data;
};

}  // namespace ctxmgr::mcp
