#include "service/identity.hpp"

#include "service/ids.hpp"

namespace ctxmgr::kernel {

sdk::Result<Identity> resolve_identity(const sdk::Caller& caller) {
  if (caller.agent_header.empty()) return Identity{kAdminId, true};
  if (!valid_agent_id(caller.agent_header)) {
    return sdk::Error(sdk::Errc::invalid_request,
                      "X-Agent-Id must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
  }
  return Identity{std::string(caller.agent_header), caller.agent_header == kAdminId};
}

}  // namespace ctxmgr::kernel
