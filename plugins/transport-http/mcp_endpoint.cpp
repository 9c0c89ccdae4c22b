#include "mcp_endpoint.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

namespace ctxmgr::http {

namespace bhttp = boost::beast::http;

namespace {

// The transport-level rejections of the MCP specification: an HTTP status and a JSON-RPC error
// without an id.
Response rejection(const Request& req, bhttp::status status, int code, const std::string& message,
                   const std::string& request_id) {
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, "application/json");
  res.set("X-Request-Id", request_id);
  res.keep_alive(req.keep_alive());
  res.body() = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":" + std::to_string(code) +
               ",\"message\":" + boost::json::serialize(boost::json::string(message)) +
               "},\"id\":null}";
  res.prepare_payload();
  return res;
}

bool contains_ci(std::string_view haystack, std::string_view needle) {
  std::string h(haystack);
  for (auto& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h.find(needle) != std::string::npos;
}

bool supported_version(std::string_view v) {
  for (const char* s : mcp::kProtocolVersions) {
    if (v == s) return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<McpEndpoint::Session> McpEndpoint::find(const std::string& id,
                                                        const std::string& agent) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->agent != agent) return nullptr;
  return it->second;
}

void McpEndpoint::evict_for(const std::string& agent) {
  std::map<std::string_view, std::size_t> per_agent;
  for (const auto& [id, s] : sessions_) ++per_agent[s->agent];
  // The agent's own oldest when it is at its cap; else, when all are taken, the oldest of the
  // agent holding the most.
  std::string_view victim_agent;
  if (per_agent[agent] >= max_sessions_per_agent_) {
    victim_agent = agent;
  } else if (sessions_.size() >= max_sessions_) {
    std::size_t most = 0;
    for (const auto& [a, n] : per_agent) {
      if (n > most) most = n, victim_agent = a;
    }
  } else {
    return;
  }
  auto oldest = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second->agent != victim_agent) continue;
    if (oldest == sessions_.end() || it->second->last_used < oldest->second->last_used) oldest = it;
  }
  if (oldest != sessions_.end()) {
    oldest->second->end();
    sessions_.erase(oldest);
  }
}

// A session's server-to-client stream: its notifications as SSE `message` events, until the
// session ends.
class McpEndpoint::NotificationStream final : public sdk::EventStream {
 public:
  explicit NotificationStream(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  ~NotificationStream() override { on_ready({}); }
  void on_ready(std::function<void()> wake) override {
    session_->stream_wake->set(wake);
    if (wake) wake();  // what is already waiting
  }
  sdk::EventBatch take() override {
    sdk::EventBatch batch;
    for (const auto& m : session_->server.notifications()) {
      batch.text += "event: message\ndata: " + m + "\n\n";
    }
    batch.closed = session_->ended.load();
    return batch;
  }

 private:
  std::shared_ptr<Session> session_;
};

std::optional<Response> McpEndpoint::handle(const Request& req, const std::string& request_id,
                                            RawWriter& writer) {
  if (auto refused = refuse_headers(req, request_id)) return std::move(*refused);
  // Authentication as for REST, before anything else of the message is looked at.
  const mcp::Identity who{std::string(req["X-Agent-Id"]),
                          std::string(req[bhttp::field::authorization])};
  if (auto refused = authenticate(req, request_id, who)) return std::move(*refused);
  const std::string agent = api_.authenticated_agent(request_id);
  const std::string session_id(req["Mcp-Session-Id"]);
  if (req.method() == bhttp::verb::delete_) return close(req, request_id, session_id, agent);
  if (req.method() == bhttp::verb::get) return stream(req, request_id, session_id, agent, writer);
  if (auto refused = refuse_post(req, request_id)) return std::move(*refused);
  boost::system::error_code ec;
  const auto msg = boost::json::parse(req.body(), ec);
  if (ec || !msg.is_object()) {
    return rejection(req, bhttp::status::bad_request, -32700, "Parse error: Invalid JSON",
                     request_id);
  }
  const auto* method = msg.as_object().if_contains("method");
  const bool initialize =
      method != nullptr && method->is_string() && method->as_string() == "initialize";
  std::string new_session_id;
  SessionOr found = initialize ? open(req, request_id, session_id, agent, new_session_id)
                               : existing(req, request_id, session_id, agent);
  if (!found.session) return std::move(*found.refusal);
  std::optional<std::string> reply;
  found.session->last_used = ++uses_;
  {
    std::lock_guard lock(found.session->mu);
    reply = found.session->server.handle(req.body(), who);
  }
  return answer(req, request_id, reply, new_session_id);
}

std::optional<Response> McpEndpoint::refuse_headers(const Request& req,
                                                    const std::string& request_id) const {
  if (req.count(bhttp::field::origin) != 0 && !guard_.origin_allowed(req[bhttp::field::origin])) {
    return rejection(req, bhttp::status::forbidden, -32000, "Forbidden: Origin not allowed",
                     request_id);
  }
  const std::string_view version = req["MCP-Protocol-Version"];
  if (!version.empty() && !supported_version(version)) {
    return rejection(req, bhttp::status::bad_request, -32000,
                     "Bad Request: Unsupported protocol version: " + std::string(version) +
                         " (supported versions: 2025-11-25, 2025-06-18, 2025-03-26)",
                     request_id);
  }
  return std::nullopt;
}

std::optional<Response> McpEndpoint::authenticate(const Request& req, const std::string& request_id,
                                                  const mcp::Identity& who) {
  auto me = api_.whoami(sdk::Caller{who.agent, who.authorization, "mcp", request_id});
  if (me) return std::nullopt;
  const bool unauthenticated = me.error().code() == sdk::Errc::unauthenticated;
  auto res =
      rejection(req,
                unauthenticated ? bhttp::status::unauthorized
                                : static_cast<bhttp::status>(sdk::http_status(me.error().code())),
                -32000, me.error().message(), request_id);
  if (unauthenticated) res.set(bhttp::field::www_authenticate, "Bearer");
  return res;
}

Response McpEndpoint::close(const Request& req, const std::string& request_id,
                            const std::string& session_id, const std::string& agent) {
  if (session_id.empty()) {
    return rejection(req, bhttp::status::bad_request, -32000,
                     "Bad Request: Mcp-Session-Id header is required", request_id);
  }
  if (!find(session_id, agent)) {
    return rejection(req, bhttp::status::not_found, -32001, "Session not found", request_id);
  }
  std::shared_ptr<Session> gone;
  {
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(session_id); it != sessions_.end()) {
      gone = std::move(it->second);
      sessions_.erase(it);
    }
  }
  if (gone) gone->end();
  Response res{bhttp::status::ok, req.version()};
  res.set("X-Request-Id", request_id);
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

std::optional<Response> McpEndpoint::refuse_post(const Request& req,
                                                 const std::string& request_id) const {
  if (req.method() != bhttp::verb::post) {
    auto res =
        rejection(req, bhttp::status::method_not_allowed, -32000,
                  "Method Not Allowed: POST, GET (the session's stream) or DELETE", request_id);
    res.set(bhttp::field::allow, "POST, GET, DELETE");
    return res;
  }
  const std::string_view accept = req[bhttp::field::accept];
  if (!contains_ci(accept, "application/json") && !contains_ci(accept, "text/event-stream") &&
      !contains_ci(accept, "*/*")) {
    return rejection(req, bhttp::status::not_acceptable, -32000,
                     "Not Acceptable: Client must accept application/json or text/event-stream",
                     request_id);
  }
  if (!contains_ci(req[bhttp::field::content_type], "application/json")) {
    return rejection(req, bhttp::status::unsupported_media_type, -32000,
                     "Unsupported Media Type: Content-Type must be application/json", request_id);
  }
  return std::nullopt;
}

std::optional<Response> McpEndpoint::stream(const Request& req, const std::string& request_id,
                                            const std::string& session_id, const std::string& agent,
                                            RawWriter& writer) {
  if (!contains_ci(req[bhttp::field::accept], "text/event-stream")) {
    return rejection(req, bhttp::status::not_acceptable, -32000,
                     "Not Acceptable: Client must accept text/event-stream", request_id);
  }
  SessionOr found = existing(req, request_id, session_id, agent);
  if (!found.session) return std::move(*found.refusal);
  found.session->last_used = ++uses_;
  writer.stream_events(std::make_unique<NotificationStream>(std::move(found.session)), request_id);
  return std::nullopt;
}

McpEndpoint::SessionOr McpEndpoint::open(const Request& req, const std::string& request_id,
                                         const std::string& session_id, const std::string& agent,
                                         std::string& new_session_id) {
  if (!session_id.empty()) {
    return SessionOr(rejection(req, bhttp::status::bad_request, -32600,
                               "Invalid Request: Server already initialized", request_id));
  }
  auto session = std::make_shared<Session>(api_, agent);
  session->last_used = ++uses_;
  new_session_id = new_request_id();  // a random UUID
  std::lock_guard lock(mu_);
  evict_for(agent);
  sessions_.emplace(new_session_id, session);
  return SessionOr(std::move(session));
}

McpEndpoint::SessionOr McpEndpoint::existing(const Request& req, const std::string& request_id,
                                             const std::string& session_id,
                                             const std::string& agent) {
  if (session_id.empty()) {
    return SessionOr(rejection(req, bhttp::status::bad_request, -32000,
                               "Bad Request: Mcp-Session-Id header is required", request_id));
  }
  auto session = find(session_id, agent);
  if (!session) {
    return SessionOr(
        rejection(req, bhttp::status::not_found, -32001, "Session not found", request_id));
  }
  return SessionOr(std::move(session));
}

Response McpEndpoint::answer(const Request& req, const std::string& request_id,
                             const std::optional<std::string>& reply,
                             const std::string& new_session_id) const {
  Response res{reply ? bhttp::status::ok : bhttp::status::accepted, req.version()};
  res.set("X-Request-Id", request_id);
  if (!new_session_id.empty()) res.set("Mcp-Session-Id", new_session_id);
  res.keep_alive(req.keep_alive());
  if (reply) {
    // JSON when the client takes it (the usual Accept lists both); a client that accepts only
    // text/event-stream gets the answer as one SSE `message` event, and the stream ends.
    const std::string_view accept = req[bhttp::field::accept];
    const bool json = contains_ci(accept, "application/json") || contains_ci(accept, "*/*");
    if (json) {
      res.set(bhttp::field::content_type, "application/json");
      res.body() = *reply;
    } else {
      res.set(bhttp::field::content_type, "text/event-stream");
      res.set(bhttp::field::cache_control, "no-cache");
      res.body() = "event: message\ndata: " + *reply + "\n\n";
    }
  }
  res.prepare_payload();
  return res;
}

}  // namespace ctxmgr::http
