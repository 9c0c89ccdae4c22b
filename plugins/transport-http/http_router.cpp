#include "http_router.hpp"

#include "console_route.hpp"
#include "failed_auth_limiter.hpp"
#include "http_routes.hpp"
#include "mcp_endpoint.hpp"
#include "mcp_server.hpp"
#include "request_guard.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/url/parse.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace ctxmgr::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using sdk::Errc;
using sdk::Error;

namespace {

// Read-your-writes across requests (docs/scaling.md): in a request and in an answer.
constexpr const char* kConsistencyHeader = "X-Ctxmgr-Consistency";

sdk::Result<Query> parse_query(const boost::urls::url_view& url,
                               const std::vector<std::string_view>& allowed) {
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
  std::string body = mcp::error_body(error, request_id);
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

bool Router::calls_a_provider(const Request& req) const {
  if (req.method() != bhttp::verb::post) return false;
  // Decoded and matched as handle() routes it, so "%70rocess" is caught too.
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url) return false;
  std::vector<std::string> segments(url->segments().begin(), url->segments().end());
  std::vector<std::string> params;
  const Route* route = match_route(segments, params);
  return route != nullptr && route->name == "agent_process";
}

std::optional<Response> Router::handle(const Request& req, const std::string& request_id,
                                       RawWriter& writer, std::string_view peer,
                                       std::chrono::steady_clock::time_point received) {
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
  // 405 names the route's methods in the Allow header too; HEAD goes wherever GET does.
  auto not_allowed = [&](const Route& r) {
    std::string methods;
    for (const auto& o : r.operations) {
      methods += (methods.empty() ? "" : ", ") + std::string(bhttp::to_string(o.method));
      if (o.method == bhttp::verb::get) methods += ", HEAD";
    }
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
    return fail(Error(Errc::rate_limited,
                      "too many failed authentications from your address; "
                      "retry in " +
                          std::to_string(wait) + " s")
                    .with_field("retry_after", wait));
  }
  if (mcp_ != nullptr && url.path() == mcp_path_) {
    route = "mcp";
    auto res = mcp_->handle(req, request_id, writer);
    if (!res) {
      record(200);  // the session's stream
      return std::nullopt;
    }
    return finish(std::move(*res));
  }
  if (console_ && (url.path() == "/console" || url.path().starts_with("/console/"))) {
    route = "console";
    if (req.method() != bhttp::verb::get && !head) {
      Response res = error_response(method_not_allowed(req, "GET, HEAD"), request_id, req.version(),
                                    req.keep_alive());
      res.set(bhttp::field::allow, "GET, HEAD");
      return finish(std::move(res));
    }
    return finish(console_response(req, url.path()));
  }
  std::vector<std::string> segments(url.segments().begin(), url.segments().end());
  std::vector<std::string> params;
  const Route* found = match_route(segments, params);
  if (found == nullptr) {
    return fail(Error(Errc::not_found, "no route for " + std::string(req.method_string()) + " " +
                                           std::string(url.path())));
  }
  route = std::string(found->name);
  // HEAD goes wherever GET does.
  const auto method = head ? bhttp::verb::get : req.method();
  const Operation* op = nullptr;
  for (const auto& o : found->operations) {
    if (o.method == method) op = &o;
  }
  if (op == nullptr) return not_allowed(*found);
  if (op->body != Body::none) {
    if (auto st = check_content_type(req, op->body == Body::json_or_merge_patch); !st) {
      return fail(st.error());
    }
  }
  auto query = parse_query(url, op->query);
  if (!query) return fail(query.error());
  // Read-your-writes (docs/scaling.md): the client's token for this call's reads, always set
  // (empty when absent) so that nothing of an earlier request on this thread is left over.
  if (auto st = api_.set_consistency(req[kConsistencyHeader]); !st) return fail(st.error());
  // When the request arrived, so that reads which arrived together share one check of the
  // context cache; cleared after, so no later call on this thread inherits it.
  api_.set_received_at(received);
  RouteAnswer out = op->run(api_, RouteRequest{req, params, *query, caller, request_id, writer});
  api_.set_received_at({});
  if (out.streamed) {
    record(200);  // the stream's head said 200
    return std::nullopt;
  }
  const std::string written = api_.consistency();  // the token of what this call wrote
  if (out.response) {
    if (!written.empty()) out.response->set(kConsistencyHeader, written);
    return finish(std::move(*out.response));
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
  if (!written.empty()) res.set(kConsistencyHeader, written);
  res.prepare_payload();
  return finish(std::move(res));
}

}  // namespace ctxmgr::http
