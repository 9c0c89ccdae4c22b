#pragma once
// The REST routes of API.md as one table: each route is a path pattern ("/api/context/{id}"), the
// name its metrics and access log use, and per method what the request may carry (a JSON body,
// which query parameters) and which ContextApi call answers it. Router::handle matches requests
// against it, its 405 answers list a route's methods from it, and tests/openapi checks it against
// docs/openapi.json both ways.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "ctxmgr/sdk/context_api.hpp"
#include "http_router.hpp"

namespace ctxmgr::http {

// The query of a request, decoded; repeated or unknown parameters are refused (Router).
struct Query {
  std::vector<std::pair<std::string, std::string>> params;

  std::optional<std::string> get(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return v;
    }
    return std::nullopt;
  }
  std::optional<std::string_view> view(std::string_view key) const {
    for (const auto& [k, v] : params) {
      if (k == key) return std::string_view(v);
    }
    return std::nullopt;
  }
};

// What a route's handler gets: the request, its {…} segments in order, its checked query, and
// the caller as the kernel sees it.
struct RouteRequest {
  const Request& req;
  std::span<const std::string> params;
  const Query& query;
  const sdk::Caller& caller;
  const std::string& request_id;
  RawWriter& writer;  // for an answer streamed as server-sent events
};

// A handler's answer: the kernel's result, or a response made here (health, metrics, the
// OpenAPI document), or nothing because it was streamed through the writer.
struct RouteAnswer {
  sdk::Result<sdk::ApiResponse> result = sdk::ApiResponse{};
  std::optional<Response> response;
  bool streamed = false;
};

using RouteHandler = RouteAnswer (*)(sdk::ContextApi& api, const RouteRequest& request);
// The same call handed to the kernel without waiting (ContextApi::submit_create_context): true
// when the kernel took it and will call `done`; false when this request or this kernel has no
// such path, and nothing was done.
using RouteSubmitter = bool (*)(sdk::ContextApi& api, const RouteRequest& request,
                                sdk::SubmittedDone done);

// What a method of a route accepts. HEAD is answered wherever GET is.
enum class Body { none, json, json_or_merge_patch };
struct Operation {
  Operation(boost::beast::http::verb m, Body b, std::vector<std::string_view> q, RouteHandler r,
            RouteSubmitter s = nullptr)
      : method(m), body(b), query(std::move(q)), run(r), submit(s) {}
  boost::beast::http::verb method;
  Body body;
  std::vector<std::string_view> query;  // the query parameters it takes
  RouteHandler run;
  RouteSubmitter submit;  // null: only run
};

struct Route {
  std::string_view name;     // the `route` label of ctxmgr_http_requests_total
  std::string_view pattern;  // segments; {name} matches any one segment
  std::vector<Operation> operations;
};

// Every route, in the order they are tried.
const std::vector<Route>& routes();

// The route whose pattern the path's segments match, its {…} segments put in `params`; null when
// none does.
const Route* match_route(const std::vector<std::string>& segments,
                         std::vector<std::string>& params);

// A JSON answer with the request's version and keep-alive.
Response json_response(boost::beast::http::status status, std::string body, const Request& req);

}  // namespace ctxmgr::http
