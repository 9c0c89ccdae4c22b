// ContextService's agent and grant endpoints: the caller resolved and timed by as_caller, the
// work done by AgentService and GrantService, and the access cache dropped after every change to
// agents, tokens or grants.

#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;

sdk::Result<ApiResponse> ContextService::me(const sdk::Caller& caller) {
  return as_caller("me", caller,
                   [&](const Identity& who) { return agents_.me(who, auth_.mode()); });
}

sdk::Result<ApiResponse> ContextService::create_agent(const sdk::Caller& caller,
                                                      std::string_view body) {
  return access_changed(as_caller("agent.create", caller, [&](const Identity& who) {
    return agents_.create(who, Actor{who.agent_id, caller.transport, caller.request_id}, body);
  }));
}

sdk::Result<ApiResponse> ContextService::list_agents(const sdk::Caller& caller,
                                                     const sdk::PageParams& page) {
  return as_caller("agent.list", caller,
                   [&](const Identity& who) { return agents_.list(who, page); });
}

sdk::Result<ApiResponse> ContextService::get_agent(const sdk::Caller& caller,
                                                   std::string_view agent_id) {
  return as_caller("agent.get", caller,
                   [&](const Identity& who) { return agents_.get(who, agent_id); });
}

sdk::Result<ApiResponse> ContextService::rotate_token(const sdk::Caller& caller,
                                                      std::string_view agent_id) {
  return access_changed(as_caller("agent.rotate_token", caller, [&](const Identity& who) {
    return agents_.rotate_token(who, Actor{who.agent_id, caller.transport, caller.request_id},
                                agent_id);
  }));
}

sdk::Result<ApiResponse> ContextService::disable_agent(const sdk::Caller& caller,
                                                       std::string_view agent_id) {
  return access_changed(as_caller("agent.disable", caller, [&](const Identity& who) {
    return agents_.disable(who, Actor{who.agent_id, caller.transport, caller.request_id}, agent_id);
  }));
}

sdk::Result<ApiResponse> ContextService::erase_agent(const sdk::Caller& caller,
                                                     std::string_view agent_id) {
  return access_changed(as_caller("agent.erase", caller, [&](const Identity& who) {
    if (settings_.erasure == nullptr) {
      return sdk::Result<ApiResponse>(
          sdk::Error(sdk::Errc::unavailable, "the configured storage cannot erase"));
    }
    std::vector<std::string> erased;
    auto r = agents_.erase(who, Actor{who.agent_id, caller.transport, caller.request_id}, agent_id,
                           *settings_.erasure, &erased);
    // Nothing of the erased contexts may be served from this server's memory afterwards.
    for (const auto& id : erased) contexts_.invalidate(id);
    return r;
  }));
}

sdk::Result<ApiResponse> ContextService::put_grant(const sdk::Caller& caller, sdk::GrantScope scope,
                                                   std::string_view scope_id,
                                                   std::string_view body) {
  return access_changed(as_caller("grant", caller, [&](const Identity& who) {
    return grants_.put(who, Actor{who.agent_id, caller.transport, caller.request_id}, scope,
                       scope_id, body);
  }));
}

sdk::Result<ApiResponse> ContextService::list_grants(const sdk::Caller& caller,
                                                     sdk::GrantScope scope,
                                                     std::string_view scope_id) {
  return as_caller("grants", caller,
                   [&](const Identity& who) { return grants_.list(who, scope, scope_id); });
}

sdk::Result<ApiResponse> ContextService::list_received_grants(const sdk::Caller& caller,
                                                              std::string_view agent_id,
                                                              const sdk::PageParams& page) {
  return as_caller("grants", caller,
                   [&](const Identity& who) { return grants_.received(who, agent_id, page); });
}

sdk::Result<ApiResponse> ContextService::delete_grant(const sdk::Caller& caller,
                                                      sdk::GrantScope scope,
                                                      std::string_view scope_id,
                                                      std::string_view agent_id) {
  return access_changed(as_caller("revoke", caller, [&](const Identity& who) {
    return grants_.remove(who, Actor{who.agent_id, caller.transport, caller.request_id}, scope,
                          scope_id, agent_id);
  }));
}

}  // namespace ctxmgr::kernel
