#include "core/auth.hpp"

#include "core/ids.hpp"
#include "core/sha256.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

std::string_view auth_mode_name(AuthMode mode) {
  return mode == AuthMode::token ? "token" : "trust";
}

std::string new_token() { return "ctxm_" + random_hex(32); }

std::string token_hash(std::string_view token) { return sha256_hex(token); }

sdk::Result<Identity> Authenticator::resolve(const sdk::Caller& caller) const {
  if (mode_ == AuthMode::trust) {
    if (caller.agent_header.empty()) return Identity{kAdminId, true};
    if (!valid_agent_id(caller.agent_header)) {
      return Error(Errc::invalid_request,
                   "X-Agent-Id must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
    }
    Identity who{std::string(caller.agent_header), caller.agent_header == kAdminId};
    if (!who.admin) {
      // A registered agent keeps its role in trust mode too.
      auto agent = access_.agent(who.agent_id);
      if (!agent) return agent.error();
      who.admin = agent->has_value() && (*agent)->role == "admin";
    }
    return who;
  }
  std::string_view auth = caller.authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (auth.size() <= kBearer.size() || !auth.starts_with(kBearer)) {
    return Error(Errc::unauthenticated, "a bearer token is required (Authorization: Bearer ...)");
  }
  auto agent = access_.agent_by_token(token_hash(auth.substr(kBearer.size())));
  if (!agent) return agent.error();
  if (!agent->has_value()) return Error(Errc::unauthenticated, "the token is not valid");
  if ((*agent)->disabled)
    return Error(Errc::unauthenticated, "the agent of this token is disabled");
  return Identity{(*agent)->agent_id, (*agent)->role == "admin"};
}

}  // namespace ctxmgr::kernel
