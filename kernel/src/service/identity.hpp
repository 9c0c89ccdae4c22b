#pragma once
// Who the caller is. This is the `trust` mode of API.md (the embedded quick start): the agent
// named by X-Agent-Id, else the admin, whose id is "admin". Token authentication and the refusal
// of trust mode on non-loopback addresses come with the access-control issue.

#include <string>

#include "ctxmgr/sdk/context_api.hpp"

namespace ctxmgr::kernel {

struct Identity {
  std::string agent_id;
  bool admin = false;
};

inline constexpr const char* kAdminId = "admin";

sdk::Result<Identity> resolve_identity(const sdk::Caller& caller);

}  // namespace ctxmgr::kernel
