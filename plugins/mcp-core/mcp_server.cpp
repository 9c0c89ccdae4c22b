#include "mcp_server.hpp"

#include <cstdint>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "mcp_tools.hpp"

namespace ctxmgr::mcp {

namespace json = boost::json;

namespace {

constexpr std::string_view kScheme = "context://";

// Results are JSON text: tool results embed the kernel's JSON verbatim, so that number forms
// survive (Boost.JSON 1.81 would print 1.0 as 1E0).
std::string rpc_result(const json::value& id, const std::string& result) {
  return "{\"jsonrpc\":\"2.0\",\"id\":" + json::serialize(id) + ",\"result\":" + result + "}";
}

json::value rpc_error(const json::value& id, const RpcError& e) {
  json::object err{{"code", e.code}, {"message", e.message}};
  if (!e.data.is_null()) err["data"] = e.data;
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(err)}};
}

std::string text_of(const json::value& v) { return json::serialize(v); }

// Read-your-writes across calls (docs/scaling.md): the key in a tools/call's and a result's _meta.
constexpr const char* kConsistencyMeta = "ctxmgr/consistency";

// A tool result: the REST answer as structured content and as text, or the REST error body as
// text with isError (an operation's failure is a result, not a protocol error).
std::string tool_result(const sdk::Result<sdk::ApiResponse>& r, const std::string& request_id) {
  const std::string body = !r.ok()           ? error_body(r.error(), request_id)
                           : r->json.empty() ? std::string("{}")
                                             : r->json;
  const std::string content =
      "{\"content\":[{\"type\":\"text\",\"text\":" + text_of(json::value(json::string(body))) +
      "}]";
  // A failure carries the REST error body as its text only: structuredContent must match the
  // tool's output schema, which describes the success.
  if (!r.ok()) return content + ",\"isError\":true}";
  return content + ",\"structuredContent\":" + body + "}";
}

std::string invalid_arguments(const std::string& message, const std::string& request_id) {
  return tool_result(sdk::Error(sdk::Errc::invalid_request, message), request_id);
}

std::optional<std::string> string_arg(const json::object& a, const char* key) {
  const auto* v = a.if_contains(key);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

// An integer argument: absent, a number (a huge unsigned one saturates: the kernel's range
// check answers it), or an error naming the argument.
sdk::Result<std::optional<std::int64_t>> int_arg(const json::object& a, const char* key) {
  const auto* v = a.if_contains(key);
  if (v == nullptr) return std::optional<std::int64_t>();
  if (v->is_int64()) return std::optional<std::int64_t>(v->get_int64());
  if (v->is_uint64()) return std::optional<std::int64_t>(INT64_MAX);
  return sdk::Error(sdk::Errc::invalid_request, std::string(key) + " must be an integer");
}

}  // namespace

std::optional<std::string> McpServer::handle(std::string_view line, const Identity& who) {
  boost::system::error_code ec;
  json::value msg = json::parse(json::string_view(line.data(), line.size()), ec);
  if (ec) return text_of(rpc_error(nullptr, {-32700, "Parse error", nullptr}));
  if (!msg.is_object()) {
    return text_of(rpc_error(
        nullptr, {-32600, "Invalid Request: expected one JSON object (no batches)", nullptr}));
  }
  const auto& obj = msg.get_object();
  const auto* method = obj.if_contains("method");
  const auto* id = obj.if_contains("id");
  // MCP ids are strings or integers; anything else (null, a fraction, 1e999 read as infinity)
  // could not be echoed back as valid JSON-RPC.
  if (id != nullptr && !id->is_string() && !id->is_int64() && !id->is_uint64()) {
    return text_of(rpc_error(
        nullptr, {-32600, "Invalid Request: id must be a string or an integer", nullptr}));
  }
  if (method == nullptr || !method->is_string()) {
    if (id == nullptr) return std::nullopt;  // a response to us, or garbage without an id
    return text_of(rpc_error(*id, {-32600, "Invalid Request: no method", nullptr}));
  }
  json::object params;
  if (const auto* p = obj.if_contains("params"); p != nullptr && p->is_object()) {
    params = p->get_object();
  }
  const std::string name(method->get_string());
  if (id == nullptr) {  // a notification: act, never answer
    if (name == "notifications/initialized") initialized_ = true;
    return std::nullopt;
  }
  try {
    return rpc_result(*id, dispatch(name, params, *id, who));
  } catch (const RpcError& e) {
    return text_of(rpc_error(*id, e));
  } catch (const std::exception& e) {
    return text_of(rpc_error(*id, {-32603, std::string("Internal error: ") + e.what(), nullptr}));
  }
}

std::string McpServer::dispatch(const std::string& method, const json::object& params,
                                const json::value& id, const Identity& who) {
  const std::string request_id = "mcp-" + text_of(id);
  const sdk::Caller caller{who.agent, who.authorization, "mcp", request_id};
  if (method == "ping") return "{}";
  if (method == "initialize") {
    std::string version = kProtocolVersions[0];
    if (const auto* v = params.if_contains("protocolVersion"); v != nullptr && v->is_string()) {
      for (const char* s : kProtocolVersions) {
        if (v->get_string() == s) version = s;
      }
    }
    initialized_ = true;
    return text_of(json::object{
        {"protocolVersion", version},
        {"capabilities",
         json::object{{"tools", json::object{{"listChanged", false}}},
                      {"resources", json::object{{"subscribe", true}, {"listChanged", true}}}}},
        {"serverInfo",
         json::object{
             {"name", "context-manager"}, {"title", "Context Manager"}, {"version", version_}}},
        {"instructions",
         "Store, version, share and read the context of agents. Contexts are JSON objects; "
         "updates are JSON Merge Patches; every change is a new version."}});
  }
  if (!initialized_) throw RpcError{-32600, "Invalid Request: initialize first", nullptr};
  if (method == "tools/list") {
    if (params.contains("cursor")) throw RpcError{-32602, "Invalid cursor", nullptr};
    return text_of(json::object{{"tools", tool_definitions()}});
  }
  if (method == "tools/call") return call_tool(params, caller);
  if (method == "resources/list") return text_of(list_resources(params, caller));
  if (method == "resources/templates/list") {
    if (params.contains("cursor")) throw RpcError{-32602, "Invalid cursor", nullptr};
    return text_of(json::object{
        {"resourceTemplates",
         json::array{json::object{{"uriTemplate", "context://{id}"},
                                  {"name", "context"},
                                  {"title", "A context by id"},
                                  {"description", "The context's JSON, as GET /api/context/{id}"},
                                  {"mimeType", "application/json"}}}}});
  }
  if (method == "resources/read") return text_of(read_resource(params, caller));
  if (method == "resources/subscribe") return subscribe(params, caller, who, true);
  if (method == "resources/unsubscribe") return subscribe(params, caller, who, false);
  throw RpcError{-32601, "Method not found: " + method, nullptr};
}

std::string McpServer::call_tool(const json::object& params, const sdk::Caller& who) {
  std::string token;
  if (const auto* meta = params.if_contains("_meta"); meta != nullptr && meta->is_object()) {
    if (const auto* t = meta->get_object().if_contains(kConsistencyMeta); t != nullptr) {
      if (!t->is_string()) {
        return invalid_arguments(std::string(kConsistencyMeta) + " must be a string",
                                 std::string(who.request_id));
      }
      token = std::string(t->get_string());
    }
  }
  // Always set (empty when absent): nothing of an earlier call on this thread is left over.
  if (auto st = api_.set_consistency(token); !st) {
    return tool_result(st.error(), std::string(who.request_id));
  }
  std::string result = run_tool(params, who);
  const std::string written = api_.consistency();
  if (!written.empty() && !result.empty() && result.back() == '}') {
    result.pop_back();
    result += ",\"_meta\":{\"" + std::string(kConsistencyMeta) +
              "\":" + text_of(json::value(json::string(written))) + "}}";
  }
  return result;
}

std::string McpServer::run_tool(const json::object& params, const sdk::Caller& who) {
  const std::string request_id(who.request_id);
  const auto* name_v = params.if_contains("name");
  if (name_v == nullptr || !name_v->is_string()) {
    throw RpcError{-32602, "tools/call needs a tool name", nullptr};
  }
  const std::string name(name_v->get_string());
  json::object args;
  if (const auto* a = params.if_contains("arguments"); a != nullptr) {
    if (!a->is_object()) return invalid_arguments("arguments must be an object", request_id);
    args = a->get_object();
  }
  auto need_id = [&]() -> std::optional<std::string> { return string_arg(args, "id"); };

  if (name == "context_create") {
    // idempotency_key is the REST Idempotency-Key header (docs/reliability.md).
    if (const auto* key = args.if_contains("idempotency_key"); key != nullptr) {
      if (!key->is_string()) {
        return invalid_arguments("idempotency_key must be a string", request_id);
      }
      const std::string k(key->get_string());
      args.erase("idempotency_key");
      return tool_result(api_.create_context_once(who, text_of(args), k), request_id);
    }
    return tool_result(api_.create_context(who, text_of(args)), request_id);
  }
  if (name == "context_get") {
    auto id = need_id();
    if (!id) return invalid_arguments("id is required: a string", request_id);
    auto version = int_arg(args, "version");
    if (!version) return tool_result(version.error(), request_id);
    return tool_result(api_.read_context(who, *id, *version), request_id);
  }
  if (name == "context_update") {
    auto id = need_id();
    if (!id) return invalid_arguments("id is required: a string", request_id);
    json::object body;
    for (const char* key : {"context_data", "metadata"}) {
      if (const auto* v = args.if_contains(key)) body[key] = *v;
    }
    for (const auto& kv : args) {
      if (kv.key() != "id" && kv.key() != "context_data" && kv.key() != "metadata" &&
          kv.key() != "if_match") {
        return invalid_arguments("unknown argument '" + std::string(kv.key()) + "'", request_id);
      }
    }
    auto if_match = int_arg(args, "if_match");
    if (!if_match) return tool_result(if_match.error(), request_id);
    return tool_result(api_.update_context(who, *id, text_of(body), *if_match), request_id);
  }
  if (name == "context_delete") {
    auto id = need_id();
    if (!id) return invalid_arguments("id is required: a string", request_id);
    return tool_result(api_.delete_context(who, *id, std::nullopt), request_id);
  }
  if (name == "context_history") {
    auto id = need_id();
    if (!id) return invalid_arguments("id is required: a string", request_id);
    auto limit = int_arg(args, "limit");
    if (!limit) return tool_result(limit.error(), request_id);
    return tool_result(
        api_.context_history(who, *id, {*limit, string_arg(args, "cursor"), {}, false}),
        request_id);
  }
  if (name == "context_revert") {
    auto id = need_id();
    if (!id) return invalid_arguments("id is required: a string", request_id);
    json::object body;
    if (const auto* v = args.if_contains("version")) body["version"] = *v;
    return tool_result(api_.revert_context(who, *id, text_of(body)), request_id);
  }
  if (name == "context_list") {
    auto agent = string_arg(args, "agent_id");
    if (!agent) return invalid_arguments("agent_id is required: a string", request_id);
    auto limit = int_arg(args, "limit");
    if (!limit) return tool_result(limit.error(), request_id);
    return tool_result(
        api_.agent_contexts(who, *agent,
                            {*limit, string_arg(args, "cursor"), string_arg(args, "tag"), false}),
        request_id);
  }
  if (name == "context_select") {
    auto agent = string_arg(args, "agent_id");
    if (!agent) return invalid_arguments("agent_id is required: a string", request_id);
    // The rest is the REST body as is; the kernel checks every field.
    json::object body = args;
    body.erase("agent_id");
    return tool_result(api_.select_contexts(who, *agent, text_of(body)), request_id);
  }
  if (name == "memory") {
    // The tool's own input, on the calling agent's memory files; the answer's content is what
    // the model reads, and a command the model got wrong is an isError result.
    auto agent = api_.whoami(who);
    if (!agent) return tool_result(agent.error(), request_id);
    auto r = api_.memory_command(who, *agent, text_of(args));
    if (!r) return tool_result(r.error(), request_id);
    const auto answer = json::parse(r->json).as_object();
    const bool is_error = answer.at("is_error").as_bool();
    std::string out =
        "{\"content\":[{\"type\":\"text\",\"text\":" + text_of(answer.at("content")) + "}]";
    if (is_error) return out + ",\"isError\":true}";
    return out + ",\"structuredContent\":" + r->json + "}";
  }
  throw RpcError{-32602, "Unknown tool: " + name, nullptr};
}

json::value McpServer::list_resources(const json::object& params, const sdk::Caller& who) {
  auto agent = api_.whoami(who);
  if (!agent) throw RpcError{-32603, agent.error().message(), nullptr};
  std::optional<std::string> cursor;
  if (const auto* c = params.if_contains("cursor")) {
    if (!c->is_string()) throw RpcError{-32602, "Invalid cursor", nullptr};
    cursor = std::string(c->get_string());
  }
  auto page = api_.agent_context_rows(who, *agent, {100, cursor, {}, false});
  if (!page) {
    if (page.error().code() == sdk::Errc::invalid_request) {
      throw RpcError{-32602, "Invalid cursor", nullptr};
    }
    throw RpcError{-32603, page.error().message(), nullptr};
  }
  json::array resources;
  for (const auto& row : page->items) {
    resources.push_back(json::object{{"uri", std::string(kScheme) + row.id},
                                     {"name", row.id},
                                     {"title", "context " + row.id + " of " + row.agent_id},
                                     {"mimeType", "application/json"}});
  }
  json::object out{{"resources", std::move(resources)}};
  if (page->next_cursor) out["nextCursor"] = *page->next_cursor;
  return out;
}

json::value McpServer::read_resource(const json::object& params, const sdk::Caller& who) {
  const auto* uri_v = params.if_contains("uri");
  if (uri_v == nullptr || !uri_v->is_string()) {
    throw RpcError{-32602, "resources/read needs a uri", nullptr};
  }
  const std::string uri(uri_v->get_string());
  auto not_found = [&] {
    return RpcError{-32002, "Resource not found", json::object{{"uri", uri}}};
  };
  if (!uri.starts_with(kScheme)) throw not_found();
  auto r = api_.read_context(who, uri.substr(kScheme.size()), std::nullopt);
  if (!r) {
    if (r.error().code() == sdk::Errc::not_found ||
        r.error().code() == sdk::Errc::invalid_request) {
      throw not_found();
    }
    throw RpcError{-32603, r.error().message(), nullptr};
  }
  return json::object{
      {"contents", json::array{json::object{
                       {"uri", uri}, {"mimeType", "application/json"}, {"text", r->json}}}}};
}

std::string McpServer::subscribe(const json::object& params, const sdk::Caller& caller,
                                 const Identity& who, bool on) {
  const auto* uri_v = params.if_contains("uri");
  if (uri_v == nullptr || !uri_v->is_string()) {
    throw RpcError{
        -32602, std::string(on ? "resources/subscribe" : "resources/unsubscribe") + " needs a uri",
        nullptr};
  }
  const std::string uri(uri_v->get_string());
  if (!on) {
    if (uri.starts_with(kScheme)) subscriptions_.unsubscribe(uri.substr(kScheme.size()));
    return "{}";
  }
  // What may be read may be watched: the same answer as resources/read for anything else.
  read_resource(params, caller);
  auto agent = api_.whoami(caller);
  if (!agent) throw RpcError{-32603, agent.error().message(), nullptr};
  if (auto st = subscriptions_.subscribe(uri.substr(kScheme.size()), *agent, who.agent,
                                         who.authorization);
      !st) {
    throw RpcError{-32603, "cannot watch " + uri + ": " + st.error().message(), nullptr};
  }
  return "{}";
}

std::string error_body(const sdk::Error& error, const std::string& request_id) {
  json::object err{{"code", sdk::code_name(error.code())},
                   {"message", error.message()},
                   {"request_id", request_id}};
  for (const auto& [k, v] : error.fields()) err[k] = v;
  return json::serialize(json::object{{"error", std::move(err)}});
}

}  // namespace ctxmgr::mcp
