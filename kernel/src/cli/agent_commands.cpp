// ctxmgr agent create | list | disable | erase | rotate-token — the registry from the command line,
// as the admin: this is how an operator makes the first admin of a token-mode server. The same
// service as REST runs underneath, so the rules and the audit events are the same.

#include <iostream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "cli/commands.hpp"
#include "cli/storage_session.hpp"
#include "json/json_text.hpp"
#include "plugin/host_impl.hpp"
#include "service/agent_service.hpp"
#include "core/ids.hpp"

namespace ctxmgr::kernel {

int run_agent(const CommonOptions& opts, const AgentCommand& cmd) {
  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  if (auto applied = session->storage->migrate(); !applied) {
    std::cerr << "ctxmgr: migration failed: " << applied.error().message() << "\n";
    return kExitFailure;
  }
  SystemClock clock;
  AgentService agents(*session->storage, clock,
                      static_cast<std::size_t>(session->boot.loaded.config.service.max_json_depth));
  const Identity admin{kAdminId, true};
  const std::string request_id = new_uuid_v7(clock.now_us() / 1000);
  const Actor actor{kAdminId, "cli", request_id};

  sdk::Result<sdk::ApiResponse> r = sdk::ApiResponse{};
  if (cmd.action == "create") {
    std::string body = "{\"agent_id\":" + json_quote(cmd.agent_id) + ",\"role\":" +
                       json_quote(cmd.role) + ",\"display_name\":" + json_quote(cmd.name) + "}";
    r = agents.create(admin, actor, body);
  } else if (cmd.action == "list") {
    sdk::PageParams page;
    page.limit = "1000";
    r = agents.list(admin, page);
  } else if (cmd.action == "disable") {
    r = agents.disable(admin, actor, cmd.agent_id);
  } else if (cmd.action == "erase") {
    auto* erasure = session->registry->storage_erasure();
    if (erasure == nullptr) {
      std::cerr << "ctxmgr: the configured storage cannot erase\n";
      return kExitFailure;
    }
    r = agents.erase(admin, actor, cmd.agent_id, *erasure);
  } else {
    r = agents.rotate_token(admin, actor, cmd.agent_id);
  }
  if (!r) {
    std::cerr << "ctxmgr: " << r.error().message() << "\n";
    return r.error().code() == sdk::Errc::invalid_request ? kExitUsage : kExitFailure;
  }
  if (cmd.action == "disable") {
    std::cout << "disabled " << cmd.agent_id << "; its tokens no longer work\n";
  } else if (cmd.action == "erase") {
    // The report of what was removed, as JSON (the same as DELETE /api/agents/{id}?erase=true).
    std::cout << r->json << "\n";
  } else if (cmd.action == "list") {
    const auto listed = boost::json::parse(r->json);  // kept alive for the loop
    for (const auto& item : listed.at("items").as_array()) {
      std::cout << item.at("agent_id").as_string().c_str() << "\t"
                << item.at("role").as_string().c_str() << "\t"
                << (item.at("disabled").as_bool() ? "disabled" : "active") << "\t"
                << item.at("display_name").as_string().c_str() << "\n";
    }
  } else {
    // The token is shown once, here; only its hash is stored.
    const auto v = boost::json::parse(r->json);
    std::cout << v.at("token").as_string().c_str() << "\n";
    std::cerr << "token for " << cmd.agent_id
              << " (shown once; store it now: only its hash is kept)\n";
  }
  return kExitOk;
}

}  // namespace ctxmgr::kernel
