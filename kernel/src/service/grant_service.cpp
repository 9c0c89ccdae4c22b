#include "service/grant_service.hpp"

#include "core/access.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "core/time_text.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;
using R = sdk::Result<ApiResponse>;

namespace {

std::string render_grant(const sdk::GrantRow& g) {
  return "{\"agent_id\":" + json_quote(g.agent_id) + ",\"permission\":" + json_quote(g.permission) +
         ",\"granted_by\":" + json_quote(g.granted_by) + ",\"granted_at\":\"" +
         format_rfc3339_ms(g.granted_at_us) + "\"}";
}

std::string scope_details(sdk::GrantScope scope, std::string_view scope_id,
                          std::string_view agent_id) {
  return std::string("{\"scope\":\"") + (scope == sdk::GrantScope::context ? "context" : "owner") +
         "\",\"" + (scope == sdk::GrantScope::context ? "context_id" : "owner_id") +
         "\":" + json_quote(scope_id) + ",\"agent_id\":" + json_quote(agent_id);
}

// {"scope":"owner","owner_id":…} or {"scope":"context","context_id":…,"owner_id":…}, then as
// render_grant without the grantee (the page is all one grantee's).
std::string render_received(const sdk::ReceivedGrant& r) {
  const bool ctx = r.scope == sdk::GrantScope::context;
  std::string out = std::string("{\"scope\":\"") + (ctx ? "context" : "owner") + "\",";
  if (ctx) out += "\"context_id\":" + json_quote(r.grant.scope_id) + ",";
  return out + "\"owner_id\":" + json_quote(r.owner) +
         ",\"permission\":" + json_quote(r.grant.permission) +
         ",\"granted_by\":" + json_quote(r.grant.granted_by) + ",\"granted_at\":\"" +
         format_rfc3339_ms(r.grant.granted_at_us) + "\"}";
}

// A received-grants cursor: "owner:<agent id>" or "context:<context id>", the page's last row.
std::string received_cursor(const sdk::ReceivedGrant& r) {
  return std::string(r.scope == sdk::GrantScope::context ? "context:" : "owner:") +
         r.grant.scope_id;
}

sdk::Status parse_received_cursor(std::string_view text, sdk::ReceivedGrantsQuery& q) {
  const Error bad(Errc::invalid_request, "cursor is not one this server gave out");
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return bad;
  const auto kind = text.substr(0, colon);
  const auto id = text.substr(colon + 1);
  if (kind == "owner") {
    auto agent = parse_agent_id(id, "cursor");
    if (!agent) return bad;
    q.after_scope = sdk::GrantScope::owner;
    q.after_scope_id = *agent;
    return {};
  }
  if (kind == "context") {
    auto ctx = parse_context_id(id);
    if (!ctx) return bad;
    q.after_scope = sdk::GrantScope::context;
    q.after_scope_id = *ctx;
    return {};
  }
  return bad;
}

}  // namespace

sdk::Result<std::string> GrantService::manageable(const Identity& who, sdk::GrantScope scope,
                                                  std::string_view scope_id) {
  if (scope == sdk::GrantScope::owner) {
    auto owner = parse_agent_id(scope_id, "owner id");
    if (!owner) return owner.error();
    if (!who.admin && who.agent_id != *owner) {
      return Error(Errc::forbidden,
                   "only " + *owner + " or an admin may share " + *owner + "'s contexts");
    }
    return *owner;
  }
  auto id = parse_context_id(scope_id);
  if (!id) return id.error();
  auto row = storage_.get(*id);
  if (!row) return row.error();
  if (!row->has_value() || (*row)->deleted) {
    return Error(Errc::not_found, "context " + *id + " does not exist");
  }
  auto access = access_of(access_, who, **row);
  if (!access) return access.error();
  if (auto st = require(*access, Access::owner, *id, "share"); !st) return st.error();
  return *id;
}

R GrantService::put(const Identity& who, const Actor& actor, sdk::GrantScope scope,
                    std::string_view scope_id, std::string_view body) {
  auto target = manageable(who, scope, scope_id);
  if (!target) return target.error();
  auto obj = parse_body_object(body, max_json_depth_, {"agent_id", "permission"});
  if (!obj) return obj.error();
  const auto* agent = obj->if_contains("agent_id");
  if (agent == nullptr || !agent->is_string()) {
    return Error(Errc::invalid_request, "agent_id is required: a string");
  }
  auto grantee = parse_agent_id(std::string_view(agent->get_string()), "agent_id");
  if (!grantee) return grantee.error();
  const auto* perm = obj->if_contains("permission");
  if (perm == nullptr || !perm->is_string() ||
      (perm->get_string() != "read" && perm->get_string() != "write")) {
    return Error(Errc::invalid_request, "permission is required: read or write");
  }
  if (mode_ == AuthMode::token) {
    auto registered = storage_.get_agent(*grantee);
    if (!registered) return registered.error();
    if (!registered->has_value()) {
      return Error(Errc::not_found, "agent " + *grantee + " does not exist");
    }
  }
  const std::int64_t now = clock_.now_us();
  sdk::GrantRow grant{*target, *grantee, std::string(perm->get_string()), who.agent_id, now};
  return writer_.run(now, actor, "grant", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
    if (scope == sdk::GrantScope::context) ev.context_id = *target;
    ev.details = scope_details(scope, *target, *grantee) +
                 ",\"permission\":" + json_quote(grant.permission) + "}";
    auto replaced = tx.put_grant(scope, grant);
    if (!replaced) return R(replaced.error());
    ApiResponse r;
    r.status = *replaced ? 200 : 201;
    r.json = render_grant(grant);
    return R(std::move(r));
  });
}

R GrantService::list(const Identity& who, sdk::GrantScope scope, std::string_view scope_id) {
  auto target = manageable(who, scope, scope_id);
  if (!target) return target.error();
  auto grants = storage_.grants(scope, *target);
  if (!grants) return grants.error();
  ApiResponse r;
  r.json = "{\"items\":" + json_array_of(*grants, render_grant) + "}";
  return r;
}

R GrantService::received(const Identity& who, std::string_view agent_text,
                         const sdk::PageParams& page) {
  auto agent = parse_agent_id(agent_text, "agent id");
  if (!agent) return agent.error();
  if (auto st = require_self_or_admin(who, *agent, "see the grants " + *agent + " received"); !st) {
    return st.error();
  }
  if (received_ == nullptr) {
    return Error(Errc::unavailable, "this storage cannot list the grants an agent received");
  }
  auto limit = parse_limit(page.limit, kDefaultPageLimit);
  if (!limit) return limit.error();
  sdk::ReceivedGrantsQuery q;
  q.agent_id = *agent;
  q.limit = *limit + 1;
  if (page.cursor) {
    if (auto st = parse_received_cursor(*page.cursor, q); !st) return st.error();
  }
  auto rows = received_->received_grants(q);
  if (!rows) return rows.error();
  ApiResponse r;
  r.json = render_page(*rows, *limit, render_received, received_cursor);
  return r;
}

R GrantService::remove(const Identity& who, const Actor& actor, sdk::GrantScope scope,
                       std::string_view scope_id, std::string_view agent_text) {
  auto target = manageable(who, scope, scope_id);
  if (!target) return target.error();
  auto grantee = parse_agent_id(agent_text, "agent id");
  if (!grantee) return grantee.error();
  return writer_.run(clock_.now_us(), actor, "revoke",
                     [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
                       if (scope == sdk::GrantScope::context) ev.context_id = *target;
                       ev.details = scope_details(scope, *target, *grantee) + "}";
                       auto removed = tx.remove_grant(scope, *target, *grantee);
                       if (!removed) return R(removed.error());
                       if (!*removed) {
                         return R(Error(Errc::not_found, *grantee + " has no grant on " + *target));
                       }
                       ApiResponse r;
                       r.status = 204;
                       return R(std::move(r));
                     });
}

}  // namespace ctxmgr::kernel
