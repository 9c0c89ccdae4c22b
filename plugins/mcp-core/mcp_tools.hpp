#pragma once
// The tools of API.md's MCP section: names, descriptions and input schemas.

#include <boost/json/array.hpp>

namespace ctxmgr::mcp {

// The `tools` array of tools/list.
boost::json::array tool_definitions();

}  // namespace ctxmgr::mcp
