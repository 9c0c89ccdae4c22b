#pragma once
// Who the caller is, in the two modes of API.md:
// - token: `Authorization: Bearer <token>`; tokens are issued by the agent registry, stored only
//   as their SHA-256, and stop working at once when their agent is disabled or rotates its token.
// - trust: the quick start. The caller is the agent named by X-Agent-Id, else the admin ("admin").
//   The server refuses to start in this mode on a non-loopback address.

#include <string>
#include <string_view>

#include "core/access_cache.hpp"
#include "ctxmgr/sdk/context_api.hpp"

namespace ctxmgr::kernel {

enum class AuthMode { trust, token };
std::string_view auth_mode_name(AuthMode mode);

struct Identity {
  std::string agent_id;
  bool admin = false;
};

inline constexpr const char* kAdminId = "admin";

// A new token: "ctxm_" and 64 hex digits of 32 random bytes (OpenSSL RAND_bytes).
std::string new_token();
// Hex SHA-256 of a token: what the store keeps and looks up.
std::string token_hash(std::string_view token);

class Authenticator {
 public:
  Authenticator(AuthMode mode, AccessCache& access) : mode_(mode), access_(access) {}
  AuthMode mode() const { return mode_; }
  // The caller's identity, or 401 unauthenticated (token mode) / 400 (a malformed X-Agent-Id).
  sdk::Result<Identity> resolve(const sdk::Caller& caller) const;

 private:
  AuthMode mode_;
  AccessCache& access_;
};

}  // namespace ctxmgr::kernel
