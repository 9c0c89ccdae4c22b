#pragma once
// Claude's memory tool (docs/memory-tool.md) as every part of the server declares it: its name,
// Anthropic's native tool type, and for clients without the native tool (MCP, OpenAI-compatible
// providers) a description and the JSON Schema of its input — one definition, so the MCP tool and
// the server-run loop offer the same tool.

#include <string_view>

namespace ctxmgr::sdk {

inline constexpr std::string_view kMemoryToolName = "memory";
inline constexpr std::string_view kMemoryToolType = "memory_20250818";
inline constexpr std::string_view kMemoryToolDescription =
    "The memory directory, as Claude's memory tool (memory_20250818) sees it: view a folder or a "
    "file under /memories, create a file, str_replace or insert in one, delete or rename a file "
    "or folder. Every change is a new version of the file, kept and audited.";
inline constexpr std::string_view kMemoryToolInputSchema = R"json({"type":"object","properties":{
  "command":{"type":"string","enum":["view","create","str_replace","insert","delete","rename"]},
  "path":{"type":"string","description":"/memories or a path below it"},
  "view_range":{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2,"description":"view: [first_line, last_line], last_line -1 for the end"},
  "file_text":{"type":"string","description":"create: the file's text"},
  "old_str":{"type":"string","description":"str_replace: the exact text to replace, once in the file"},
  "new_str":{"type":"string","description":"str_replace: its replacement"},
  "insert_line":{"type":"integer","minimum":0,"description":"insert: the line after which the text goes (0: at the top)"},
  "insert_text":{"type":"string","description":"insert: the text"},
  "old_path":{"type":"string","description":"rename: from"},
  "new_path":{"type":"string","description":"rename: to"}},
  "required":["command"],"additionalProperties":false})json";

}  // namespace ctxmgr::sdk
