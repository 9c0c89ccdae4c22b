#pragma once
// What the end-to-end tests send to MCP's Streamable HTTP endpoint (/mcp) when they speak it
// without the official client: the initialize message and the headers of every POST.

#include <map>
#include <string>

namespace ctxmgr::test {

inline constexpr const char* kMcpInitialize =
    R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",)"
    R"("capabilities":{},"clientInfo":{"name":"t","version":"1"}}})";

// Accept and MCP-Protocol-Version, plus `extra` (identity, Mcp-Session-Id).
inline std::map<std::string, std::string> mcp_headers(
    std::map<std::string, std::string> extra = {}) {
  extra.emplace("Accept", "application/json, text/event-stream");
  extra.emplace("MCP-Protocol-Version", "2025-06-18");
  return extra;
}

}  // namespace ctxmgr::test
