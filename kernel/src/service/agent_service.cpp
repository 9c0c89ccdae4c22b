#include "service/agent_service.hpp"

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

Error admin_only(std::string_view what) {
  return Error(Errc::forbidden, "only an admin may " + std::string(what));
}

sdk::Status admin_or_self(const Identity& who, std::string_view agent_id, std::string_view what) {
  if (who.admin || who.agent_id == agent_id) return {};
  return Error(Errc::forbidden, "only an admin or the agent itself may " + std::string(what));
}

Error no_agent(std::string_view id) {
  return Error(Errc::not_found, "agent " + std::string(id) + " does not exist");
}

}  // namespace

std::string render_agent(const sdk::AgentRow& a) {
  return "{\"agent_id\":" + json_quote(a.agent_id) +
         ",\"display_name\":" + json_quote(a.display_name) + ",\"role\":" + json_quote(a.role) +
         ",\"created_at\":\"" + format_rfc3339_ms(a.created_at_us) +
         "\",\"disabled\":" + (a.disabled ? "true" : "false") + "}";
}

R AgentService::create(const Identity& who, const Actor& actor, std::string_view body) {
  if (!who.admin) return admin_only("create agents");
  auto obj = parse_body_object(body, max_json_depth_, {"agent_id", "display_name", "role"});
  if (!obj) return obj.error();
  sdk::AgentRow agent;
  const auto* id = obj->if_contains("agent_id");
  if (id == nullptr || !id->is_string()) {
    return Error(Errc::invalid_request, "agent_id is required: a string");
  }
  auto agent_id = parse_agent_id(std::string_view(id->get_string()), "agent_id");
  if (!agent_id) return agent_id.error();
  agent.agent_id = *agent_id;
  if (const auto* name = obj->if_contains("display_name"); name != nullptr) {
    if (!name->is_string()) return Error(Errc::invalid_request, "display_name must be a string");
    agent.display_name = std::string(name->get_string());
  }
  if (const auto* role = obj->if_contains("role"); role != nullptr) {
    if (!role->is_string() || (role->get_string() != "agent" && role->get_string() != "admin")) {
      return Error(Errc::invalid_request, "role must be agent or admin");
    }
    agent.role = std::string(role->get_string());
  }
  if (agent.agent_id == kAdminId && agent.role != "admin") {
    return Error(Errc::invalid_request, "the agent id 'admin' is reserved for an admin");
  }
  const std::int64_t now = clock_.now_us();
  agent.created_at_us = now;
  const std::string token = new_token();
  return run_change(
      storage_, now, actor, "agent.create", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
        ev.details = "{\"agent_id\":" + json_quote(agent.agent_id) +
                     ",\"role\":" + json_quote(agent.role) + "}";
        if (auto st = tx.insert_agent(agent); !st) {
          if (st.error().code() == Errc::conflict) {
            return R(Error(Errc::conflict, "agent " + agent.agent_id + " already exists"));
          }
          return R(st.error());
        }
        if (auto st = tx.set_token(agent.agent_id, token_hash(token), now); !st) {
          return R(st.error());
        }
        ApiResponse r;
        r.status = 201;
        r.json = "{\"agent\":" + render_agent(agent) + ",\"token\":" + json_quote(token) + "}";
        r.location = "/api/agents/" + agent.agent_id;
        return R(std::move(r));
      });
}

R AgentService::list(const Identity& who, const sdk::PageParams& page) {
  if (!who.admin) return admin_only("list agents");
  auto limit = parse_limit(page.limit, 50);
  if (!limit) return limit.error();
  std::string after;
  if (page.cursor) {
    auto c = parse_agent_id(*page.cursor, "cursor");
    if (!c) return Error(Errc::invalid_request, "cursor is not one this server gave out");
    after = *c;
  }
  auto rows = storage_.list_agents(after, *limit + 1);
  if (!rows) return rows.error();
  ApiResponse r;
  r.json =
      render_page(*rows, *limit, render_agent, [](const sdk::AgentRow& a) { return a.agent_id; });
  return r;
}

R AgentService::get(const Identity& who, std::string_view id_text) {
  auto id = parse_agent_id(id_text, "agent id");
  if (!id) return id.error();
  if (auto st = admin_or_self(who, *id, "read an agent"); !st) return st.error();
  auto agent = storage_.get_agent(*id);
  if (!agent) return agent.error();
  if (!agent->has_value()) return no_agent(*id);
  ApiResponse r;
  r.json = "{\"agent\":" + render_agent(**agent) + "}";
  return r;
}

R AgentService::rotate_token(const Identity& who, const Actor& actor, std::string_view id_text) {
  auto id = parse_agent_id(id_text, "agent id");
  if (!id) return id.error();
  if (auto st = admin_or_self(who, *id, "rotate a token"); !st) return st.error();
  const std::int64_t now = clock_.now_us();
  const std::string token = new_token();
  return run_change(
      storage_, now, actor, "agent.rotate_token", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
        ev.details = "{\"agent_id\":" + json_quote(*id) + "}";
        auto agent = storage_.get_agent(*id);
        if (!agent) return R(agent.error());
        if (!agent->has_value()) return R(no_agent(*id));
        if (auto st = tx.set_token(*id, token_hash(token), now); !st) {
          return R(st.error());
        }
        ApiResponse r;
        r.json = "{\"agent_id\":" + json_quote(*id) + ",\"token\":" + json_quote(token) + "}";
        return R(std::move(r));
      });
}

R AgentService::disable(const Identity& who, const Actor& actor, std::string_view id_text) {
  auto id = parse_agent_id(id_text, "agent id");
  if (!id) return id.error();
  if (!who.admin) return admin_only("disable agents");
  return run_change(storage_, clock_.now_us(), actor, "agent.disable",
                    [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
                      ev.details = "{\"agent_id\":" + json_quote(*id) + "}";
                      auto agent = storage_.get_agent(*id);
                      if (!agent) return R(agent.error());
                      if (!agent->has_value()) return R(no_agent(*id));
                      sdk::AgentRow a = **agent;
                      a.disabled = true;
                      if (auto st = tx.update_agent(a); !st) return R(st.error());
                      ApiResponse r;
                      r.status = 204;
                      return R(std::move(r));
                    });
}

R AgentService::erase(const Identity& who, const Actor& actor, std::string_view id_text,
                      sdk::StorageErasure& erasure, std::vector<std::string>* erased) {
  auto id = parse_agent_id(id_text, "agent id");
  if (!id) return id.error();
  if (!who.admin) return admin_only("erase agents");
  std::string report;
  auto r = run_change(storage_, clock_.now_us(), actor, "agent.erase",
                      [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
                        auto agent = storage_.get_agent(*id);
                        if (!agent) return R(agent.error());
                        if (!agent->has_value()) return R(no_agent(*id));
                        auto gone = erasure.erase_agent(tx, *id);
                        if (!gone) return R(gone.error());
                        sdk::AgentRow a = **agent;
                        a.disabled = true;
                        a.display_name.clear();
                        if (auto st = tx.update_agent(a); !st) return R(st.error());
                        // Counts only: the audit event names nothing of what was erased.
                        report = "{\"agent_id\":" + json_quote(*id) +
                                 ",\"contexts\":" + std::to_string(gone->context_ids.size()) +
                                 ",\"versions\":" + std::to_string(gone->versions) +
                                 ",\"vectors\":" + std::to_string(gone->vectors) +
                                 ",\"selections\":" + std::to_string(gone->selections) +
                                 ",\"tokens\":" + std::to_string(gone->tokens) +
                                 ",\"grants\":" + std::to_string(gone->grants) + "}";
                        ev.details = report;
                        if (erased != nullptr) *erased = std::move(gone->context_ids);
                        ApiResponse out;
                        out.json = report;
                        return R(std::move(out));
                      });
  if (r) (void)erasure.scrub();  // best effort; the erasure is committed
  return r;
}

R AgentService::me(const Identity& who, AuthMode mode) {
  ApiResponse r;
  r.json = "{\"agent_id\":" + json_quote(who.agent_id) + ",\"role\":\"" +
           (who.admin ? "admin" : "agent") + "\",\"auth_mode\":\"" +
           std::string(auth_mode_name(mode)) + "\"}";
  return r;
}

}  // namespace ctxmgr::kernel
