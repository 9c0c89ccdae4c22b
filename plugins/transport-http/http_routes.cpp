#include "http_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>

#include "ctxmgr/sdk/request_text.hpp"
#include "openapi_document.hpp"

namespace ctxmgr::http {

namespace bhttp = boost::beast::http;
using bhttp::verb;
using sdk::Errc;
using sdk::Error;

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

RouteAnswer answer(sdk::Result<sdk::ApiResponse> result) {
  RouteAnswer a;
  a.result = std::move(result);
  return a;
}

RouteAnswer respond(Response response) {
  RouteAnswer a;
  a.response = std::move(response);
  return a;
}

// {"status":"ready"}, with each replica when the storage reads from some (docs/scaling.md).
std::string readiness_json(const std::vector<sdk::ReplicaState>& replicas) {
  boost::json::object body{{"status", "ready"}};
  if (!replicas.empty()) {
    boost::json::array list;
    for (const auto& r : replicas) {
      boost::json::object o{
          {"name", r.name}, {"in_rotation", r.in_rotation}, {"lag_seconds", r.lag_seconds}};
      if (!r.in_rotation) o["reason"] = r.reason;
      list.push_back(std::move(o));
    }
    body["replicas"] = std::move(list);
  }
  return boost::json::serialize(body);
}

sdk::PageParams page(const Query& q) { return {q.get("limit"), q.get("cursor"), {}, {}}; }

// The list parameters as values for the typed calls, checked here in the order the kernel's text
// calls check them (limit, then include_deleted); the cursor stays opaque (the kernel reads it).
// A parameter a route does not declare is refused before this, so its absence is enough here.
sdk::Result<sdk::TypedPage> typed_page(const Query& q) {
  sdk::TypedPage typed;
  if (const auto text = q.get("limit")) {
    auto limit = sdk::parse_limit(text, 0);
    if (!limit) return limit.error();
    typed.limit = *limit;
  }
  auto include_deleted = sdk::parse_bool(q.get("include_deleted"), "include_deleted", false);
  if (!include_deleted) return include_deleted.error();
  typed.include_deleted = *include_deleted;
  typed.cursor = q.get("cursor");
  typed.tag = q.get("tag");
  return typed;
}

// Grants to one context and to all of an owner's contexts take the same requests.
template <sdk::GrantScope S>
std::vector<Operation> grant_list() {
  return {{verb::get,
           Body::none,
           {},
           [](sdk::ContextApi& api, const RouteRequest& r) {
             return answer(api.list_grants(r.caller, S, r.params[0]));
           }},
          {verb::post, Body::json, {}, [](sdk::ContextApi& api, const RouteRequest& r) {
             return answer(api.put_grant(r.caller, S, r.params[0], r.req.body()));
           }}};
}
template <sdk::GrantScope S>
std::vector<Operation> grant_one() {
  return {{verb::delete_, Body::none, {}, [](sdk::ContextApi& api, const RouteRequest& r) {
             return answer(api.delete_grant(r.caller, S, r.params[0], r.params[1]));
           }}};
}

const std::vector<Route> kRoutes = {
    // Health and metrics need no identity.
    {"healthz",
     "/healthz",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi&, const RouteRequest& r) {
         return respond(json_response(bhttp::status::ok, R"({"status":"ok"})", r.req));
       }}}},
    {"readyz",
     "/readyz",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         auto st = api.ready();
         if (!st) return answer(Error(Errc::unavailable, "not ready: " + st.error().message()));
         return respond(
             json_response(bhttp::status::ok, readiness_json(api.read_replicas()), r.req));
       }}}},
    {"metrics",
     "/metrics",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         Response res{bhttp::status::ok, r.req.version()};
         res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
         res.keep_alive(r.req.keep_alive());
         res.body() = api.metrics_text();
         res.prepare_payload();
         return respond(std::move(res));
       }}}},
    {"openapi",
     "/api/openapi.json",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi&, const RouteRequest& r) {
         return respond(json_response(bhttp::status::ok, std::string(openapi_document()), r.req));
       }}}},
    {"context",
     "/api/context",
     {{verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         // A retried POST with the same Idempotency-Key makes one context (docs/reliability.md).
         if (const auto key = r.req.find("Idempotency-Key"); key != r.req.end()) {
           return answer(api.create_context_once(r.caller, r.req.body(), key->value()));
         }
         return answer(api.create_context(r.caller, r.req.body()));
       },
       [](sdk::ContextApi& api, const RouteRequest& r, sdk::SubmittedDone done) {
         if (r.req.find("Idempotency-Key") != r.req.end()) return false;
         return api.submit_create_context(r.caller, r.req.body(), std::move(done));
       }}}},
    {"context_id",
     "/api/context/{id}",
     {{verb::get,
       Body::none,
       {"version"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         std::optional<std::int64_t> version;
         if (const auto text = r.query.view("version")) {
           auto v = sdk::parse_positive(*text, "version");
           if (!v) return answer(api.refuse(r.caller, "read", v.error()));
           version = *v;
         }
         return answer(api.read_context(r.caller, r.params[0], version));
       }},
      {verb::patch,
       Body::json_or_merge_patch,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         std::optional<std::int64_t> expected;  // none, or If-Match: *
         if (const auto h = r.req.find(bhttp::field::if_match); h != r.req.end()) {
           auto v = sdk::parse_if_match(h->value());
           if (!v) return answer(api.refuse(r.caller, "update", v.error()));
           expected = *v;
         }
         return answer(api.update_context(r.caller, r.params[0], r.req.body(), expected));
       }},
      {verb::delete_,
       Body::none,
       {"purge"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.delete_context(r.caller, r.params[0], r.query.view("purge")));
       }}}},
    {"history",
     "/api/context/{id}/history",
     {{verb::get,
       Body::none,
       {"limit", "cursor"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         auto typed = typed_page(r.query);
         if (!typed) return answer(api.refuse(r.caller, "history", typed.error()));
         return answer(api.context_history(r.caller, r.params[0], *typed));
       }}}},
    {"revert",
     "/api/context/{id}/revert",
     {{verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.revert_context(r.caller, r.params[0], r.req.body()));
       }}}},
    {"context_redact",
     "/api/context/{id}/versions/{version}/redact",
     {{verb::post,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.redact_version(r.caller, r.params[0], r.params[1]));
       }}}},
    {"context_grants", "/api/context/{id}/grants", grant_list<sdk::GrantScope::context>()},
    {"context_grants", "/api/context/{id}/grants/{grantee}", grant_one<sdk::GrantScope::context>()},
    {"agent_contexts",
     "/api/agent/{agent_id}/contexts",
     {{verb::get,
       Body::none,
       {"limit", "cursor", "tag", "include_deleted", "path_prefix"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         if (const auto prefix = r.query.get("path_prefix")) {
           return answer(
               api.list_memory_files(r.caller, r.params[0], *prefix,
                                     {r.query.get("limit"), r.query.get("cursor"),
                                      r.query.get("tag"), r.query.get("include_deleted")}));
         }
         auto typed = typed_page(r.query);
         if (!typed) return answer(api.refuse(r.caller, "list", typed.error()));
         return answer(api.agent_contexts(r.caller, r.params[0], *typed));
       }}}},
    {"agent_memory",
     "/api/agent/{agent_id}/memory",
     {{verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.memory_command(r.caller, r.params[0], r.req.body()));
       }}}},
    {"agent_select",
     "/api/agent/{agent_id}/select",
     {{verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.select_contexts(r.caller, r.params[0], r.req.body()));
       }}}},
    {"agent_process",
     "/api/agent/{agent_id}/process",
     {{verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         SseStream stream(r.writer, r.request_id);
         RouteAnswer a = answer(api.process(r.caller, r.params[0], r.req.body(), stream));
         a.streamed = stream.began();
         return a;
       }}}},
    {"agent_selections",
     "/api/agent/{agent_id}/selections",
     {{verb::get,
       Body::none,
       {"limit", "cursor"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.list_selections(r.caller, r.params[0], page(r.query)));
       }}}},
    {"owner_grants", "/api/agent/{agent_id}/grants", grant_list<sdk::GrantScope::owner>()},
    {"owner_grants", "/api/agent/{agent_id}/grants/{grantee}", grant_one<sdk::GrantScope::owner>()},
    {"received_grants",
     "/api/agent/{agent_id}/received-grants",
     {{verb::get,
       Body::none,
       {"limit", "cursor"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.list_received_grants(r.caller, r.params[0], page(r.query)));
       }}}},
    {"selection",
     "/api/selections/{selection_id}",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.get_selection(r.caller, r.params[0]));
       }}}},
    {"audit",
     "/api/audit",
     {{verb::get,
       Body::none,
       {"context_id", "agent_id", "action", "since", "until", "limit", "cursor"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         const Query& q = r.query;
         return answer(api.audit_events(
             r.caller, {q.get("context_id"), q.get("agent_id"), q.get("action"), q.get("since"),
                        q.get("until"), q.get("limit"), q.get("cursor")}));
       }}}},
    {"events",
     "/api/events",
     {{verb::get,
       Body::none,
       {"agent_id", "context_id", "action", "after"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         const Query& q = r.query;
         // ?after= wins over Last-Event-ID (what an EventSource sends when it reconnects).
         std::optional<std::string> after = q.get("after");
         if (!after && r.req.count("Last-Event-ID") != 0) {
           after = std::string(r.req["Last-Event-ID"]);
         }
         auto stream = api.open_events(
             r.caller, {q.get("agent_id"), q.get("context_id"), q.get("action"), after});
         if (!stream) return answer(stream.error());
         // HEAD: the head a GET would get, and no stream (it would never end).
         if (r.req.method() == verb::head) {
           Response res{bhttp::status::ok, r.req.version()};
           res.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
           res.keep_alive(r.req.keep_alive());
           return respond(std::move(res));
         }
         r.writer.stream_events(std::move(*stream), r.request_id);
         RouteAnswer a;
         a.streamed = true;
         return a;
       }}}},
    {"webhooks",
     "/api/webhooks",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.list_webhooks(r.caller));
       }},
      {verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.create_webhook(r.caller, r.req.body()));
       }}}},
    {"webhook",
     "/api/webhooks/{webhook_id}",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.get_webhook(r.caller, r.params[0]));
       }},
      {verb::delete_,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.delete_webhook(r.caller, r.params[0]));
       }}}},
    {"webhook_deliveries",
     "/api/webhooks/{webhook_id}/deliveries",
     {{verb::get,
       Body::none,
       {"limit", "cursor"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.webhook_deliveries(r.caller, r.params[0], page(r.query)));
       }}}},
    {"audit_verify",
     "/api/audit/verify",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.audit_verify(r.caller));
       }}}},
    {"stats",
     "/api/stats",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) { return answer(api.stats(r.caller)); }}}},
    {"me",
     "/api/me",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) { return answer(api.me(r.caller)); }}}},
    {"agents",
     "/api/agents",
     {{verb::get,
       Body::none,
       {"limit", "cursor"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.list_agents(r.caller, page(r.query)));
       }},
      {verb::post,
       Body::json,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.create_agent(r.caller, r.req.body()));
       }}}},
    {"agent",
     "/api/agents/{agent_id}",
     {{verb::get,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.get_agent(r.caller, r.params[0]));
       }},
      {verb::delete_,
       Body::none,
       {"erase"},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         // ?erase=true removes the agent's data; without it the agent is disabled.
         auto erase = sdk::parse_bool(r.query.get("erase"), "erase", false);
         if (!erase) return answer(api.refuse(r.caller, "agent.disable", erase.error()));
         if (*erase) return answer(api.erase_agent(r.caller, r.params[0]));
         return answer(api.disable_agent(r.caller, r.params[0]));
       }}}},
    {"agent_token",
     "/api/agents/{agent_id}/token",
     {{verb::post,
       Body::none,
       {},
       [](sdk::ContextApi& api, const RouteRequest& r) {
         return answer(api.rotate_token(r.caller, r.params[0]));
       }}}},
};

}  // namespace

Response json_response(bhttp::status status, std::string body, const Request& req) {
  Response res{status, req.version()};
  res.set(bhttp::field::content_type, "application/json; charset=utf-8");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

const std::vector<Route>& routes() { return kRoutes; }

const Route* match_route(const std::vector<std::string>& segments,
                         std::vector<std::string>& params) {
  for (const auto& route : kRoutes) {
    params.clear();
    std::string_view rest = route.pattern.substr(1);  // after the leading '/'
    std::size_t i = 0;
    bool ok = true;
    while (ok && !rest.empty()) {
      const auto slash = rest.find('/');
      const std::string_view part = rest.substr(0, slash);
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      if (i >= segments.size()) {
        ok = false;
      } else if (part.starts_with('{')) {
        params.push_back(segments[i]);
      } else {
        ok = part == segments[i];
      }
      ++i;
    }
    if (ok && i == segments.size()) return &route;
  }
  params.clear();
  return nullptr;
}

}  // namespace ctxmgr::http
