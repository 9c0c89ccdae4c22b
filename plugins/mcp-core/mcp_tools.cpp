#include "mcp_tools.hpp"

#include <boost/json/parse.hpp>

#include "ctxmgr/sdk/memory_tool.hpp"

namespace ctxmgr::mcp {

boost::json::array tool_definitions() {
  // Input schemas in JSON Schema 2020-12; arguments mirror REST.
  static const char* kTools = R"json([
  {"name":"context_create","title":"Create context",
   "description":"Store a new context for an agent. Returns the context (version 1).",
   "inputSchema":{"type":"object","properties":{
     "agent_id":{"type":"string","description":"the owner"},
     "context_data":{"type":"object","description":"the context itself, any JSON object"},
     "metadata":{"type":"object","description":"priority (high|medium|low), tags, expires_at, ..."},
     "idempotency_key":{"type":"string","minLength":1,"maxLength":255,"description":"a retry with the same key and arguments creates nothing and returns the first result"}},
     "required":["agent_id","context_data"],"additionalProperties":false},
   "annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false}},
  {"name":"context_get","title":"Get context",
   "description":"Read a context: the current version, or an older one with version.",
   "inputSchema":{"type":"object","properties":{
     "id":{"type":"string","description":"context id (UUID)"},
     "version":{"type":"integer","minimum":1}},
     "required":["id"],"additionalProperties":false},
   "annotations":{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}},
  {"name":"context_update","title":"Update context",
   "description":"Apply JSON Merge Patches (RFC 7396) to context_data and/or metadata; with if_match, only if the current version is that one.",
   "inputSchema":{"type":"object","properties":{
     "id":{"type":"string"},
     "context_data":{"type":"object","description":"merge patch: null removes a key"},
     "metadata":{"type":"object","description":"merge patch"},
     "if_match":{"type":"integer","minimum":1,"description":"expected current version"}},
     "required":["id"],"additionalProperties":false},
   "annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false}},
  {"name":"context_delete","title":"Delete context",
   "description":"Soft-delete a context: a new version; its history stays and revert brings it back.",
   "inputSchema":{"type":"object","properties":{"id":{"type":"string"}},
     "required":["id"],"additionalProperties":false},
   "annotations":{"readOnlyHint":false,"destructiveHint":true,"idempotentHint":false,"openWorldHint":false}},
  {"name":"context_history","title":"Context history",
   "description":"Every version of a context, newest first.",
   "inputSchema":{"type":"object","properties":{
     "id":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":1000},
     "cursor":{"type":"string"}},
     "required":["id"],"additionalProperties":false},
   "annotations":{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}},
  {"name":"context_revert","title":"Revert context",
   "description":"Write a new version equal to an older one (also undeletes).",
   "inputSchema":{"type":"object","properties":{
     "id":{"type":"string"},"version":{"type":"integer","minimum":1}},
     "required":["id","version"],"additionalProperties":false},
   "annotations":{"readOnlyHint":false,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false}},
  {"name":"context_list","title":"List an agent's contexts",
   "description":"The contexts of an agent that the caller may read, newest update first.",
   "inputSchema":{"type":"object","properties":{
     "agent_id":{"type":"string"},"limit":{"type":"integer","minimum":1,"maximum":1000},
     "cursor":{"type":"string"},"tag":{"type":"string"}},
     "required":["agent_id"],"additionalProperties":false},
   "annotations":{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":true,"openWorldHint":false}},
  {"name":"context_select","title":"Select relevant contexts",
   "description":"The contexts most relevant to a query among those the agent may read (its own, and shared ones with include_shared), best first, within limit and token_budget. Matching ignores case and accents, matches word stems in Spanish and English, and finds context written in the other language.",
   "inputSchema":{"type":"object","properties":{
     "agent_id":{"type":"string","description":"whose view to search"},
     "query":{"type":"string","description":"what the contexts should be about"},
     "limit":{"type":"integer","minimum":1,"maximum":1000},
     "token_budget":{"type":"integer","minimum":1,"description":"the tokens the results may use"},
     "selector":{"type":"string","description":"hybrid (default), keyword, recency, priority"},
     "include_shared":{"type":"boolean"},
     "translate":{"type":"boolean","description":"also search the query's translations (default true)"},
     "filter":{"type":"object","properties":{
       "tags":{"type":"array","items":{"type":"string"}},
       "priority":{"type":"string","enum":["high","medium","low"]}},"additionalProperties":false}},
     "required":["agent_id","query"],"additionalProperties":false},
   "annotations":{"readOnlyHint":true,"destructiveHint":false,"idempotentHint":false,"openWorldHint":false}}
])json";
  // Output schemas: what structuredContent holds on success (an isError result carries the REST
  // error body instead, which clients do not validate).
  static const char* kContext = R"json({"type":"object","properties":{
    "id":{"type":"string"},"agent_id":{"type":"string"},"context_data":{"type":"object"},
    "metadata":{"type":"object"},"version":{"type":"integer","minimum":1},
    "created_at":{"type":"string"},"updated_at":{"type":"string"},
    "created_by":{"type":"string"},"updated_by":{"type":"string"},"deleted":{"type":"boolean"}},
    "required":["id","agent_id","context_data","metadata","version","created_at","updated_at",
                "created_by","updated_by"]})json";
  static const char* kPage = R"json({"type":"object","properties":{
    "items":{"type":"array","items":{"type":"object"}},
    "next_cursor":{"type":["string","null"]}},"required":["items","next_cursor"]})json";
  static const char* kSelection = R"json({"type":"object","properties":{
    "selection_id":{"type":"integer"},"selector":{"type":"string"},"query":{"type":"string"},
    "items":{"type":"array","items":{"type":"object","properties":{
      "context":{"type":"object"},"score":{"type":"number"},"scores":{"type":"object"},
      "tokens":{"type":"integer"}},"required":["context","score","scores","tokens"]}},
    "total_tokens":{"type":"integer"},"truncated":{"type":"boolean"}},
    "required":["selector","query","items","total_tokens","truncated"]})json";
  static const char* kMemory = R"json({"type":"object","properties":{
    "content":{"type":"string"},"is_error":{"type":"boolean"}},
    "required":["content","is_error"]})json";
  auto tools = boost::json::parse(kTools).as_array();
  // The memory tool as the SDK defines it for clients without the native one.
  tools.push_back(boost::json::object{
      {"name", sdk::kMemoryToolName},
      {"title", "Memory files"},
      {"description", std::string(sdk::kMemoryToolDescription) +
                          " On the calling agent's memory files (docs/memory-tool.md)."},
      {"inputSchema", boost::json::parse(sdk::kMemoryToolInputSchema)},
      {"annotations", boost::json::object{{"readOnlyHint", false},
                                          {"destructiveHint", true},
                                          {"idempotentHint", false},
                                          {"openWorldHint", false}}}});
  const auto context = boost::json::parse(kContext);
  const auto page = boost::json::parse(kPage);
  for (auto& tool : tools) {
    auto& t = tool.as_object();
    const auto name = t.at("name").as_string();
    if (name == "context_history" || name == "context_list") {
      t["outputSchema"] = page;
    } else if (name == "context_select") {
      t["outputSchema"] = boost::json::parse(kSelection);
    } else if (name == "memory") {
      t["outputSchema"] = boost::json::parse(kMemory);
    } else if (name == "context_delete") {
      t["outputSchema"] = boost::json::object{{"type", "object"}};
    } else {
      t["outputSchema"] = context;
    }
  }
  return tools;
}

}  // namespace ctxmgr::mcp
