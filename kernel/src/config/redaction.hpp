#pragma once
// Keeping secrets out of what the kernel prints. Options a plugin marks secret are replaced by
// "***"; as a second line of defence, keys that look like secrets and passwords inside connection
// strings are redacted too, also for plugins whose option table could not be read.

#include <string>
#include <string_view>

namespace ctxmgr::kernel {

inline constexpr std::string_view kRedacted = "***";

// True for keys such as api_key, password, token, secret, client_secret, access_key.
bool looks_secret(std::string_view key);

// Hides the password of URLs (postgresql://user:pw@host → postgresql://user:***@host) and of
// libpq key=value strings (password=pw → password=***).
std::string redact_connection_secrets(std::string_view text);

}  // namespace ctxmgr::kernel
