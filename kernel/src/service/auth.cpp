#include "service/auth.hpp"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "service/ids.hpp"
#include "service/sha256.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string_view auth_mode_name(AuthMode mode) { return mode == AuthMode::token ? "token" : "trust"; }

std::string new_token() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return "ctxm_" + hex(bytes.data(), bytes.size());
}

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
      auto agent = storage_.get_agent(who.agent_id);
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
  auto agent = storage_.agent_by_token(token_hash(auth.substr(kBearer.size())));
  if (!agent) return agent.error();
  if (!agent->has_value()) return Error(Errc::unauthenticated, "the token is not valid");
  if ((*agent)->disabled) return Error(Errc::unauthenticated, "the agent of this token is disabled");
  return Identity{(*agent)->agent_id, (*agent)->role == "admin"};
}

}  // namespace ctxmgr::kernel
