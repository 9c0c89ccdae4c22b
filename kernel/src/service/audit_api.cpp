// ContextService's audit endpoints — the events, the chain's verification — and the stats that
// summarise the store with its latest accesses. Admins only.

#include "audit/audit_chain.hpp"
#include "core/audit_render.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "core/time_text.hpp"
#include "json/json_text.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;

namespace {

sdk::Result<std::optional<std::int64_t>> parse_time_param(const std::optional<std::string>& text,
                                                          std::string_view name) {
  if (!text) return std::optional<std::int64_t>();
  auto t = parse_rfc3339(*text);
  if (!t) {
    return Error(Errc::invalid_request, std::string(name) + " must be an RFC 3339 time");
  }
  return std::optional<std::int64_t>(*t);
}

}  // namespace

sdk::Result<ApiResponse> ContextService::audit_events(const sdk::Caller& caller,
                                                      const sdk::AuditParams& p) {
  return as_caller("audit", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    sdk::AuditQuery q;
    if (p.context_id) {
      auto id = parse_context_id(*p.context_id);
      if (!id) return id.error();
      q.context_id = *id;
    }
    if (p.agent_id) {
      auto a = parse_agent_id(*p.agent_id, "agent_id");
      if (!a) return a.error();
      q.agent_id = *a;
    }
    if (p.action) q.action = *p.action;
    auto since = parse_time_param(p.since, "since");
    if (!since) return since.error();
    q.since_us = *since;
    auto until = parse_time_param(p.until, "until");
    if (!until) return until.error();
    q.until_us = *until;
    auto limit = parse_limit(p.limit, kDefaultPageLimit);
    if (!limit) return limit.error();
    q.limit = *limit + 1;
    if (p.cursor) {
      auto c = parse_positive(*p.cursor, "cursor");
      if (!c) return Error(Errc::invalid_request, "cursor is not one this server gave out");
      q.before_seq = *c;
    }
    if (!who.admin) q.owner = who.agent_id;  // an agent sees the events on contexts it owns
    auto events = storage_.audit(q);
    if (!events) return events.error();
    ApiResponse r;
    r.json = render_page(*events, *limit, render_event,
                         [](const sdk::AuditEvent& e) { return std::to_string(e.seq); });
    return r;
  });
}

sdk::Result<ApiResponse> ContextService::audit_verify(const sdk::Caller& caller) {
  return as_caller("audit.verify", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    if (!who.admin) return Error(Errc::forbidden, "only an admin may verify the audit log");
    static const AuditTrust kUnkeyed;
    auto report = verify_chain(storage_, settings_.audit_trust ? *settings_.audit_trust : kUnkeyed);
    if (!report) return report.error();
    ApiResponse r;
    r.json = render_verify(*report);
    return r;
  });
}

sdk::Result<ApiResponse> ContextService::stats(const sdk::Caller& caller) {
  return as_caller("stats", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    if (!who.admin) return Error(Errc::forbidden, "only an admin may read the statistics");
    auto st = storage_.stats();
    if (!st) return st.error();
    sdk::AuditQuery recent;
    recent.limit = 10;
    auto events = storage_.audit(recent);
    if (!events) return events.error();
    ApiResponse r;
    r.json = render_stats(*st, *events);
    return r;
  });
}

}  // namespace ctxmgr::kernel
