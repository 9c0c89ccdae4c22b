#include "core/access.hpp"

#include <algorithm>

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

sdk::Result<Access> access_of(AccessCache& access, const Identity& who,
                              const sdk::ContextRow& row) {
  if (who.admin || row.agent_id == who.agent_id) return Access::owner;
  auto perms = access.permissions(row.id, row.agent_id, who.agent_id);
  if (!perms) return perms.error();
  if (std::find(perms->begin(), perms->end(), "write") != perms->end()) return Access::write;
  if (!perms->empty()) return Access::read;
  return Access::none;
}

sdk::Status require(Access have, Access need, std::string_view context_id, std::string_view what) {
  if (have >= need) return {};
  if (have == Access::none) {
    return Error(Errc::not_found, "context " + std::string(context_id) + " does not exist");
  }
  const char* who =
      need == Access::write ? "the owner, an admin or a write grant" : "the owner or an admin";
  return Error(Errc::forbidden, "only " + std::string(who) + " may " + std::string(what) +
                                    " context " + std::string(context_id));
}

sdk::Result<bool> sees_all_of_owner(AccessCache& access, const Identity& who,
                                    std::string_view owner_id) {
  if (who.admin || who.agent_id == owner_id) return true;
  return access.has_owner_grant(owner_id, who.agent_id);
}

sdk::Status require_self_or_admin(const Identity& who, std::string_view agent,
                                  std::string_view what) {
  if (who.admin || who.agent_id == agent) return {};
  return sdk::Error(sdk::Errc::forbidden,
                    "only " + std::string(agent) + " or an admin may " + std::string(what));
}

}  // namespace ctxmgr::kernel
