// One MCP JSON-RPC message into the MCP server (framing, ids, methods, params, tool arguments);
// whatever comes in, an answer is valid JSON or there is none (a notification).
#include <cstdio>

#include <boost/json/parse.hpp>

#include "mcp_server.hpp"
#include "stub_context_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static ctxmgr::fuzz::StubContextApi api;
  static ctxmgr::mcp::McpServer server(api, "fuzz");
  const ctxmgr::mcp::Identity who{"agent-1", ""};
  auto answer = server.handle(std::string_view(reinterpret_cast<const char*>(data), size), who);
  if (answer) {
    boost::system::error_code ec;
    (void)boost::json::parse(*answer, ec);
    if (ec) {
      std::fprintf(stderr, "not JSON: %s\n", answer->c_str());
      __builtin_trap();
    }
  }
  return 0;
}
