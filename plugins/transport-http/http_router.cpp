#include "http_router.hpp"

#include "openapi_document.hpp"

#include "mcp_endpoint.hpp"
#include "failed_auth_limiter.hpp"
#include "request_guard.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/url/parse.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace ctxmgr::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using sdk::Errc;
using sdk::Error;

namespace {

std::string quote(std::string_view s) {
  return boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

Response json_response(bhttp::status status, std::string body, const Request& req) {
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// The query of a request, decoded; repeated or unknown parameters are refused.
struct Query {
  std::vector<std::pair<std::string, std::string>> params;

  std::optional<std::string> get(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
};

sdk::Result<Query> parse_query(const boost::urls::url_view& url,
                               std::initializer_list<std::string_view> allowed) {
  Query q;
  for (const auto& p : url.params()) {
    bool known = false;
    for (auto a : allowed) known = known || p.key == a;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return Error(Errc::invalid_request, "unknown query parameter '" + p.key + "'" +
                                              (list.empty() ? "" : "; allowed: " + list));
    }
    if (q.get(p.key)) {
      return Error(Errc::invalid_request, "query parameter '" + p.key + "' is given twice");
    }
    q.params.emplace_back(p.key, p.value);
  }
  return q;
}

// POST and PATCH bodies must be JSON (PATCH may say merge-patch+json), in UTF-8.
sdk::Status check_content_type(const Request& req, bool merge_patch_ok) {
  const std::string_view ct = req[bhttp::field::content_type];
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  std::string lower(media);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const bool ok =
      lower == "application/json" || (merge_patch_ok && lower == "application/merge-patch+json");
  if (!ok) {
    return Error(Errc::unsupported_media_type,
                 std::string("Content-Type must be application/json") +
                     (merge_patch_ok ? " or application/merge-patch+json" : "") +
                     (ct.empty() ? "; none was sent" : "; got " + std::string(ct)));
  }
  const auto charset = ct.find("charset=");
  if (charset != std::string_view::npos) {
    std::string cs(ct.substr(charset + 8));
    for (auto& c : cs) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (cs != "utf-8" && cs != "\"utf-8\"") {
      return Error(Errc::unsupported_media_type, "only charset=utf-8 is accepted");
    }
  }
  return {};
}

Error method_not_allowed(const Request& req, std::string_view allow) {
  return Error(
      Errc::method_not_allowed,
      std::string(req.method_string()) + " is not allowed here; allowed: " + std::string(allow));
}

struct Outcome {
  sdk::Result<sdk::ApiResponse> result = sdk::ApiResponse{};
};

}  // namespace

std::string new_request_id() {
  thread_local boost::uuids::random_generator_mt19937 random;  // seeded from the OS once
  return boost::uuids::to_string(random());
}

std::string choose_request_id(const Request& req) {
  const std::string_view sent = req["X-Request-Id"];
  bool ok = !sent.empty() && sent.size() <= 128;
  for (char c : sent) ok = ok && c >= 0x21 && c <= 0x7e;
  return ok ? std::string(sent) : new_request_id();
}

Response error_response(const Error& error, const std::string& request_id, unsigned version,
                        bool keep_alive) {
  std::string body = "{\"error\":{\"code\":\"" + std::string(sdk::code_name(error.code())) +
                     "\",\"message\":" + quote(error.message()) +
                     ",\"request_id\":" + quote(request_id);
  for (const auto& [key, value] : error.fields()) {
    body += "," + quote(key) + ":" + std::to_string(value);
  }
  body += "}}";
  Response res{static_cast<bhttp::status>(sdk::http_status(error.code())), version};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  res.set("X-Request-Id", request_id);
  for (const auto& [key, value] : error.fields()) {
    if (key == "retry_after") res.set(bhttp::field::retry_after, std::to_string(value));
  }
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

namespace {

// A processing answer as server-sent events, written as they come: the head on begin(), then
// `event: NAME` / `data: JSON` blocks.
class SseStream final : public sdk::ProcessStream {
 public:
  SseStream(RawWriter& writer, const std::string& request_id)
      : writer_(writer), request_id_(request_id) {}
  bool begin() override {
    began_ = true;
    return writer_.write(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Cache-Control: no-cache\r\nServer: ctxmgr\r\nX-Request-Id: " +
        request_id_ + "\r\nConnection: close\r\n\r\n");
  }
  bool event(std::string_view name, std::string_view data) override {
    return writer_.write("event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n");
  }
  bool began() const { return began_; }

 private:
  RawWriter& writer_;
  const std::string& request_id_;
  bool began_ = false;
};

}  // namespace

bool Router::calls_a_provider(const Request& req) const {
  if (req.method() != bhttp::verb::post) return false;
  // Decoded as handle() routes it, so "%70rocess" is caught too.
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return false;
  const auto segs = url->segments();
  if (segs.size() != 4) return false;
  auto it = segs.begin();
  const std::string first = *it++;
  const std::string second = *it++;
  ++it;
  return first == "api" && second == "agent" && *it == "process";
}

std::optional<Response> Router::handle(const Request& req, const std::string& request_id,
                                       RawWriter& writer, std::string_view peer) {
  const auto started = std::chrono::steady_clock::now();
  const sdk::Caller caller{req["X-Agent-Id"], req[bhttp::field::authorization], "http", request_id};
  std::string route = "unknown";
  // Every answered request, streamed or not: the request metrics and the access line (the path
  // without its query, the agent the request authenticated as — never a header's unverified
  // claim nor a token — and the client's address).
  auto record = [&](int status) {
    if (status == 401 && failed_auth_ != nullptr) failed_auth_->failed(peer);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    host_.metrics().counter_add("ctxmgr_http_requests_total",
                                "route=\"" + route + "\",status=\"" + std::to_string(status) + "\"",
                                1);
    host_.metrics().observe("ctxmgr_http_request_duration_seconds", "route=\"" + route + "\"",
                            secs);
    if (!access_log_) return;
    const std::string_view target = req.target();
    const std::string agent = api_.authenticated_agent(request_id);
    char duration[32];
    std::snprintf(duration, sizeof duration, "%.3f", secs * 1000);
    host_.log().info("request method=" + std::string(req.method_string()) + " path=" +
                     std::string(target.substr(0, target.find('?'))) + " route=" + route +
                     " status=" + std::to_string(status) + " duration_ms=" + duration +
                     " agent=" + (agent.empty() ? std::string("-") : agent) +
                     " peer=" + std::string(peer) + " request_id=" + request_id);
  };
  // HEAD is GET without the body (its Content-Length stays that of the GET).
  const bool head = req.method() == bhttp::verb::head;
  auto finish = [&](Response res) {
    res.set("X-Request-Id", request_id);
    res.set(bhttp::field::server, "ctxmgr");
    if (head) res.body().clear();
    record(res.result_int());
    return res;
  };
  auto fail = [&](const Error& e) {
    Response res = error_response(e, request_id, req.version(), req.keep_alive());
    return finish(std::move(res));
  };
  // 405 names the allowed methods in the Allow header too; HEAD goes wherever GET does.
  auto not_allowed = [&](std::string_view allow) {
    std::string methods(allow);
    if (methods.starts_with("GET")) methods.insert(3, ", HEAD");
    Response res = error_response(method_not_allowed(req, methods), request_id, req.version(),
                                  req.keep_alive());
    res.set(bhttp::field::allow, methods);
    return finish(std::move(res));
  };

  // Before anything is read or written: the Host and Origin a page could have forged.
  if (auto refused = guard_.check(req, api_.identity_from_headers())) {
    Response res = error_response(*refused, request_id, req.version(), false);
    return finish(std::move(res));
  }

  auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) return fail(Error(Errc::invalid_request, "the request target is not a valid path"));
  const boost::urls::url_view url = *parsed;
  const bool health = url.path() == "/healthz" || url.path() == "/readyz";
  // An address that keeps failing to authenticate waits before it may try again.
  if (const auto wait = failed_auth_ == nullptr || health ? 0 : failed_auth_->wait(peer);
      wait > 0) {
    host_.metrics().counter_add("ctxmgr_http_failed_auth_limited_total", "", 1);
    return fail(Error(Errc::rate_limited, "too many failed authentications from your address; "
                                          "retry in " + std::to_string(wait) + " s")
                    .with_field("retry_after", wait));
  }
  if (mcp_ != nullptr && url.path() == mcp_path_) {
    route = "mcp";
    return finish(mcp_->handle(req, request_id));
  }
  std::vector<std::string> seg;
  for (auto s : url.segments()) seg.push_back(s);
  const auto method = req.method();
  const bool get = method == bhttp::verb::get || head;

  // Health and metrics need no identity.
  if (seg.size() == 1 && (seg[0] == "healthz" || seg[0] == "readyz" || seg[0] == "metrics")) {
    route = seg[0];
    if (!get) return not_allowed("GET");
    if (seg[0] == "healthz")
      return finish(json_response(bhttp::status::ok, R"({"status":"ok"})", req));
    if (seg[0] == "readyz") {
      auto st = api_.ready();
      if (!st) return fail(Error(Errc::unavailable, "not ready: " + st.error().message()));
      return finish(json_response(bhttp::status::ok, R"({"status":"ready"})", req));
    }
    Response res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.keep_alive(req.keep_alive());
    res.body() = api_.metrics_text();
    res.prepare_payload();
    return finish(std::move(res));
  }

  if (seg.size() == 2 && seg[0] == "api" && seg[1] == "openapi.json") {
    route = "openapi";
    if (!get) return not_allowed("GET");
    return finish(json_response(bhttp::status::ok, std::string(openapi_document()), req));
  }

  Outcome out;
  const bool api = seg.size() >= 2 && seg[0] == "api";
  if (api && seg[1] == "context" && seg.size() == 2) {
    route = "context";
    if (method == bhttp::verb::post) {
      if (auto st = check_content_type(req, false); !st) return fail(st.error());
      if (auto q = parse_query(url, {}); !q) return fail(q.error());
      // A retried POST with the same Idempotency-Key makes one context (docs/reliability.md).
      if (const auto key = req.find("Idempotency-Key"); key != req.end()) {
        out.result = api_.create_context_once(caller, req.body(), key->value());
      } else {
        out.result = api_.create_context(caller, req.body());
      }
    } else {
      return not_allowed("POST");
    }
  } else if (api && seg[1] == "context" && seg.size() == 3) {
    route = "context_id";
    const std::string& id = seg[2];
    if (get) {
      auto q = parse_query(url, {"version"});
      if (!q) return fail(q.error());
      auto v = q->get("version");
      out.result =
          api_.get_context(caller, id, v ? std::optional<std::string_view>(*v) : std::nullopt);
    } else if (method == bhttp::verb::patch) {
      if (auto st = check_content_type(req, true); !st) return fail(st.error());
      if (auto q = parse_query(url, {}); !q) return fail(q.error());
      const std::string_view if_match = req[bhttp::field::if_match];
      out.result = api_.patch_context(
          caller, id, req.body(),
          req.find(bhttp::field::if_match) != req.end() ? std::optional(if_match) : std::nullopt);
    } else if (method == bhttp::verb::delete_) {
      auto q = parse_query(url, {"purge"});
      if (!q) return fail(q.error());
      auto purge = q->get("purge");
      out.result = api_.delete_context(
          caller, id, purge ? std::optional<std::string_view>(*purge) : std::nullopt);
    } else {
      return not_allowed("GET, PATCH, DELETE");
    }
  } else if (api && seg[1] == "context" && seg.size() == 4 && seg[3] == "history") {
    route = "history";
    if (!get) return not_allowed("GET");
    auto q = parse_query(url, {"limit", "cursor"});
    if (!q) return fail(q.error());
    out.result = api_.history(caller, seg[2], {q->get("limit"), q->get("cursor"), {}, {}});
  } else if (api && seg[1] == "context" && seg.size() == 4 && seg[3] == "revert") {
    route = "revert";
    if (method != bhttp::verb::post) return not_allowed("POST");
    if (auto st = check_content_type(req, false); !st) return fail(st.error());
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.revert_context(caller, seg[2], req.body());
  } else if (api && seg[1] == "agent" && seg.size() == 4 && seg[3] == "contexts") {
    route = "agent_contexts";
    if (!get) return not_allowed("GET");
    auto q = parse_query(url, {"limit", "cursor", "tag", "include_deleted"});
    if (!q) return fail(q.error());
    out.result = api_.list_contexts(
        caller, seg[2],
        {q->get("limit"), q->get("cursor"), q->get("tag"), q->get("include_deleted")});
  } else if (api && seg[1] == "agent" && seg.size() == 4 && seg[3] == "select") {
    route = "agent_select";
    if (method != bhttp::verb::post) return not_allowed("POST");
    if (auto st = check_content_type(req, false); !st) return fail(st.error());
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.select_contexts(caller, seg[2], req.body());
  } else if (api && seg[1] == "agent" && seg.size() == 4 && seg[3] == "process") {
    route = "agent_process";
    if (method != bhttp::verb::post) return not_allowed("POST");
    if (auto st = check_content_type(req, false); !st) return fail(st.error());
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    SseStream stream(writer, request_id);
    out.result = api_.process(caller, seg[2], req.body(), stream);
    if (stream.began()) {
      record(200);  // the stream's head said 200
      return std::nullopt;
    }
  } else if (api && seg[1] == "agent" && seg.size() == 4 && seg[3] == "selections") {
    route = "agent_selections";
    if (!get) return not_allowed("GET");
    auto q = parse_query(url, {"limit", "cursor"});
    if (!q) return fail(q.error());
    out.result = api_.list_selections(caller, seg[2], {q->get("limit"), q->get("cursor"), {}, {}});
  } else if (api && seg[1] == "selections" && seg.size() == 3) {
    route = "selection";
    if (!get) return not_allowed("GET");
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.get_selection(caller, seg[2]);
  } else if (api && (seg[1] == "context" || seg[1] == "agent") && seg.size() >= 4 &&
             seg.size() <= 5 && seg[3] == "grants") {
    // /api/context/{id}/grants[/{agent}] and /api/agent/{owner}/grants[/{agent}]
    route = seg[1] == "context" ? "context_grants" : "owner_grants";
    const auto scope = seg[1] == "context" ? sdk::GrantScope::context : sdk::GrantScope::owner;
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    if (seg.size() == 5) {
      if (method != bhttp::verb::delete_) return not_allowed("DELETE");
      out.result = api_.delete_grant(caller, scope, seg[2], seg[4]);
    } else if (method == bhttp::verb::post) {
      if (auto st = check_content_type(req, false); !st) return fail(st.error());
      out.result = api_.put_grant(caller, scope, seg[2], req.body());
    } else if (get) {
      out.result = api_.list_grants(caller, scope, seg[2]);
    } else {
      return not_allowed("GET, POST");
    }
  } else if (api && seg[1] == "audit" && seg.size() == 2) {
    route = "audit";
    if (!get) return not_allowed("GET");
    auto q =
        parse_query(url, {"context_id", "agent_id", "action", "since", "until", "limit", "cursor"});
    if (!q) return fail(q.error());
    out.result = api_.audit_events(
        caller, {q->get("context_id"), q->get("agent_id"), q->get("action"), q->get("since"),
                 q->get("until"), q->get("limit"), q->get("cursor")});
  } else if (api && seg[1] == "audit" && seg.size() == 3 && seg[2] == "verify") {
    route = "audit_verify";
    if (!get) return not_allowed("GET");
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.audit_verify(caller);
  } else if (api && seg[1] == "stats" && seg.size() == 2) {
    route = "stats";
    if (!get) return not_allowed("GET");
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.stats(caller);
  } else if (api && seg[1] == "me" && seg.size() == 2) {
    route = "me";
    if (!get) return not_allowed("GET");
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.me(caller);
  } else if (api && seg[1] == "agents" && seg.size() == 2) {
    route = "agents";
    if (method == bhttp::verb::post) {
      if (auto st = check_content_type(req, false); !st) return fail(st.error());
      if (auto q = parse_query(url, {}); !q) return fail(q.error());
      out.result = api_.create_agent(caller, req.body());
    } else if (get) {
      auto q = parse_query(url, {"limit", "cursor"});
      if (!q) return fail(q.error());
      out.result = api_.list_agents(caller, {q->get("limit"), q->get("cursor"), {}, {}});
    } else {
      return not_allowed("GET, POST");
    }
  } else if (api && seg[1] == "agents" && seg.size() == 3) {
    route = "agent";
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    if (get) {
      out.result = api_.get_agent(caller, seg[2]);
    } else if (method == bhttp::verb::delete_) {
      out.result = api_.disable_agent(caller, seg[2]);
    } else {
      return not_allowed("GET, DELETE");
    }
  } else if (api && seg[1] == "agents" && seg.size() == 4 && seg[3] == "token") {
    route = "agent_token";
    if (method != bhttp::verb::post) return not_allowed("POST");
    if (auto q = parse_query(url, {}); !q) return fail(q.error());
    out.result = api_.rotate_token(caller, seg[2]);
  } else {
    return fail(Error(Errc::not_found, "no route for " + std::string(req.method_string()) + " " +
                                           std::string(url.path())));
  }

  if (!out.result) return fail(out.result.error());
  const sdk::ApiResponse& r = out.result.value();
  Response res{static_cast<bhttp::status>(r.status), req.version()};
  res.keep_alive(req.keep_alive());
  if (r.status != 204) {
    res.set(bhttp::field::content_type, "application/json; charset=utf-8");
    res.body() = r.json;
  }
  if (r.etag > 0) res.set(bhttp::field::etag, "\"" + std::to_string(r.etag) + "\"");
  if (!r.location.empty()) res.set(bhttp::field::location, r.location);
  res.prepare_payload();
  return finish(std::move(res));
}

}  // namespace ctxmgr::http
