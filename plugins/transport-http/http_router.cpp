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

void Router::record(const Exchange& ex, int status, const std::string* agent) {
  if (status == 401 && failed_auth_ != nullptr) failed_auth_->failed(ex.peer);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - ex.started).count();
  host_.metrics().counter_add(
      "ctxmgr_http_requests_total",
      "route=\"" + ex.route + "\",status=\"" + std::to_string(status) + "\"", 1);
  host_.metrics().observe("ctxmgr_http_request_duration_seconds", "route=\"" + ex.route + "\"",
                          secs);
  if (!access_log_) return;
  // The path without its query, the agent the request authenticated as — never a header's
  // unverified claim nor a token — and the client's address.
  const std::string_view target = ex.req->target();
  const std::string asked = agent == nullptr ? api_.authenticated_agent(ex.request_id) : "";
  const std::string& who = agent == nullptr ? asked : *agent;
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", secs * 1000);
  host_.log().info("request method=" + std::string(ex.req->method_string()) +
                   " path=" + std::string(target.substr(0, target.find('?'))) +
                   " route=" + ex.route + " status=" + std::to_string(status) +
                   " duration_ms=" + duration + " agent=" + (who.empty() ? std::string("-") : who) +
                   " peer=" + ex.peer + " request_id=" + ex.request_id);
}

Response Router::finish(const Exchange& ex, Response res, const std::string* agent) {
  res.set("X-Request-Id", ex.request_id);
  res.set(bhttp::field::server, "ctxmgr");
  if (ex.head) res.body().clear();
  record(ex, res.result_int(), agent);
  return res;
}

Response Router::fail(const Exchange& ex, const Error& error) {
  return finish(ex, error_response(error, ex.request_id, ex.req->version(), ex.req->keep_alive()),
                nullptr);
}

Response Router::result_response(const Exchange& ex, const sdk::Result<sdk::ApiResponse>& result,
                                 const std::string& written, const std::string* agent) {
  const Request& req = *ex.req;
  if (!result) {
    return finish(
        ex, error_response(result.error(), ex.request_id, req.version(), req.keep_alive()), agent);
  }
  const sdk::ApiResponse& r = result.value();
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
  return finish(ex, std::move(res), agent);
}

std::optional<Response> Router::handle(const Request& req, const std::string& request_id,
                                       RawWriter& writer, std::string_view peer,
                                       std::chrono::steady_clock::time_point received) {
  Exchange ex{&req, request_id, std::string(peer), std::chrono::steady_clock::now()};
  return std::move(dispatch(ex, writer, received, nullptr).response);
}

bool Router::submittable(const Request& req) const {
  if (req.method() != bhttp::verb::post) return false;
  auto url = boost::urls::parse_origin_form(req.target());
  if (!url || (mcp_ != nullptr && url->path() == mcp_path_)) return false;
  std::vector<std::string> segments(url->segments().begin(), url->segments().end());
  std::vector<std::string> params;
  const Route* route = match_route(segments, params);
  if (route == nullptr) return false;
  for (const auto& o : route->operations) {
    if (o.method == bhttp::verb::post) return o.submit != nullptr;
  }
  return false;
}

bool Router::submit(const Request& req, const std::string& request_id, RawWriter& writer,
                    std::string_view peer, std::chrono::steady_clock::time_point received,
                    Later later) {
  if (!submittable(req)) return false;
  Exchange ex{&req, request_id, std::string(peer), std::chrono::steady_clock::now()};
  Dispatched d = dispatch(ex, writer, received, &later);
  if (d.declined) return false;
  if (d.response) {  // refused before the kernel was called: answered now, through `later`
    later([res = std::move(*d.response)]() mutable { return std::move(res); });
  }
  return true;
}

Router::Dispatched Router::dispatch(Exchange& ex, RawWriter& writer,
                                    std::chrono::steady_clock::time_point received,
                                    const Later* later) {
  const Request& req = *ex.req;
  const std::string& request_id = ex.request_id;
  const sdk::Caller caller{req["X-Agent-Id"], req[bhttp::field::authorization], "http", request_id};
  auto now = [](Response res) { return Dispatched{std::move(res)}; };
  ex.head = req.method() == bhttp::verb::head;
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
    return finish(ex, std::move(res), nullptr);
  };

  // Before anything is read or written: the Host and Origin a page could have forged.
  if (auto refused = guard_.check(req, api_.identity_from_headers())) {
    return now(finish(ex, error_response(*refused, request_id, req.version(), false), nullptr));
  }

  auto parsed = boost::urls::parse_origin_form(req.target());
  if (!parsed) {
    return now(fail(ex, Error(Errc::invalid_request, "the request target is not a valid path")));
  }
  const boost::urls::url_view url = *parsed;
  const bool health = url.path() == "/healthz" || url.path() == "/readyz";
  // An address that keeps failing to authenticate waits before it may try again.
  if (const auto wait = failed_auth_ == nullptr || health ? 0 : failed_auth_->wait(ex.peer);
      wait > 0) {
    host_.metrics().counter_add("ctxmgr_http_failed_auth_limited_total", "", 1);
    return now(fail(ex, Error(Errc::rate_limited,
                              "too many failed authentications from your address; "
                              "retry in " +
                                  std::to_string(wait) + " s")
                            .with_field("retry_after", wait)));
  }
  if (mcp_ != nullptr && url.path() == mcp_path_) {
    ex.route = "mcp";
    auto res = mcp_->handle(req, request_id, writer);
    if (!res) {
      record(ex, 200, nullptr);  // the session's stream
      return {};
    }
    return now(finish(ex, std::move(*res), nullptr));
  }
  if (console_ && (url.path() == "/console" || url.path().starts_with("/console/"))) {
    ex.route = "console";
    if (req.method() != bhttp::verb::get && !ex.head) {
      Response res = error_response(method_not_allowed(req, "GET, HEAD"), request_id, req.version(),
                                    req.keep_alive());
      res.set(bhttp::field::allow, "GET, HEAD");
      return now(finish(ex, std::move(res), nullptr));
    }
    return now(finish(ex, console_response(req, url.path()), nullptr));
  }
  std::vector<std::string> segments(url.segments().begin(), url.segments().end());
  std::vector<std::string> params;
  const Route* found = match_route(segments, params);
  if (found == nullptr) {
    return now(fail(ex, Error(Errc::not_found, "no route for " + std::string(req.method_string()) +
                                                   " " + std::string(url.path()))));
  }
  ex.route = std::string(found->name);
  // HEAD goes wherever GET does.
  const auto method = ex.head ? bhttp::verb::get : req.method();
  const Operation* op = nullptr;
  for (const auto& o : found->operations) {
    if (o.method == method) op = &o;
  }
  if (op == nullptr) return now(not_allowed(*found));
  if (op->body != Body::none) {
    if (auto st = check_content_type(req, op->body == Body::json_or_merge_patch); !st) {
      return now(fail(ex, st.error()));
    }
  }
  auto query = parse_query(url, op->query);
  if (!query) return now(fail(ex, query.error()));
  // Read-your-writes (docs/scaling.md): the client's token for this call's reads, always set
  // (empty when absent) so that nothing of an earlier request on this thread is left over.
  if (auto st = api_.set_consistency(req[kConsistencyHeader]); !st) {
    return now(fail(ex, st.error()));
  }
  const RouteRequest route_request{req, params, *query, caller, request_id, writer};
  if (later != nullptr && op->submit != nullptr) {
    // The kernel answers on its own thread; the response is made on the session's. A submitted
    // call writes no consistency token (the kernel takes none with replicas: ContextApi).
    const bool taken =
        op->submit(api_, route_request, [this, ex, later = *later](sdk::Submitted s) {
          later([this, ex, s = std::move(s)] {
            return result_response(ex, s.result, std::string(), &s.agent);
          });
        });
    return Dispatched{std::nullopt, taken, !taken};
  }
  // When the request arrived, so that reads which arrived together share one check of the
  // context cache; cleared after, so no later call on this thread inherits it.
  api_.set_received_at(received);
  RouteAnswer out = op->run(api_, route_request);
  api_.set_received_at({});
  if (out.streamed) {
    record(ex, 200, nullptr);  // the stream's head said 200
    return {};
  }
  const std::string written = api_.consistency();  // the token of what this call wrote
  if (out.response) {
    if (!written.empty()) out.response->set(kConsistencyHeader, written);
    return now(finish(ex, std::move(*out.response), nullptr));
  }
  return now(result_response(ex, out.result, written, nullptr));
}

}  // namespace ctxmgr::http
