#pragma once
// The Model Context Protocol server logic, apart from any transport: one JSON-RPC message in,
// at most one out. Protocol versions 2025-11-25 (latest), 2025-06-18 and 2025-03-26; tools that
// mirror the REST operations (API.md, MCP section) through the kernel's ContextApi, so identity,
// access rules, versioning and audit are the REST ones; each readable context as a resource
// `context://{id}`. Kept free of sessions-as-state beyond "initialized", so the stateless
// 2026-07-28 revision can reuse it.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "ctxmgr/sdk/context_api.hpp"

namespace ctxmgr::mcp {

struct Identity {
  std::string agent;  // X-Agent-Id equivalent (trust mode), may be empty
  std::string token;  // bearer token (token mode), may be empty
};

class McpServer {
 public:
  McpServer(sdk::ContextApi& api, Identity identity, std::string version)
      : api_(api), identity_(std::move(identity)), version_(std::move(version)) {}

  // Handles one line of JSON-RPC; returns the line to send back, if any.
  std::optional<std::string> handle(std::string_view line);

 private:
  // The result of a request, as JSON text.
  std::string dispatch(const std::string& method, const boost::json::object& params,
                       const boost::json::value& id);
  std::string call_tool(const boost::json::object& params, const std::string& request_id);
  boost::json::value read_resource(const boost::json::object& params,
                                   const std::string& request_id);
  boost::json::value list_resources(const boost::json::object& params,
                                    const std::string& request_id);
  sdk::Caller caller(const std::string& request_id, std::string& auth_storage) const;

  sdk::ContextApi& api_;
  Identity identity_;
  std::string version_;
  bool initialized_ = false;
};

// A JSON-RPC error raised while handling a request.
struct RpcError {
  int code;
  std::string message;
  boost::json::value data;
};

}  // namespace ctxmgr::mcp
