#pragma once
// Where webhooks may send requests (docs/events.md: Webhooks and SSRF). A webhook URL is given by
// an agent, and the server POSTs to it from inside the operator's network: without a rule an
// agent could make the server call a cloud metadata service or an internal admin page (server-
// side request forgery). The operator allows schemes and host names in YAML, and denies networks;
// by default any http(s) host is allowed except link-local and cloud metadata addresses.
//
// The rule is applied to the addresses a host resolves to, at registration and again at every
// delivery (DNS answers change), and the delivery then connects to exactly the addresses that
// were checked (no second lookup a rebinding DNS server could answer differently). Redirects are
// not followed and proxies from the environment are not used.
//
// Thread-safety: an OutboundPolicy is read-only once made; the functions may run concurrently.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/webhooks_config.hpp"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

struct OutboundPolicy {
  std::vector<std::string> schemes{"http", "https"};
  // Empty: any host. Else a host must equal one (case-insensitive) or, for "*.example.com", end
  // with ".example.com".
  std::vector<std::string> hosts;
  std::vector<Network> denied;  // config/webhooks_config.hpp
};

// Where one URL goes.
struct OutboundTarget {
  std::string scheme;
  std::string host;  // as in the URL, IPv6 without brackets
  int port = 0;
  std::vector<std::string> addresses;  // numeric, every one allowed (resolve_allowed)
};

// The URL's form (absolute http(s), no user name or password, at most 2048 characters), its
// scheme and its host checked; invalid_request (for the registering agent) or forbidden (the
// policy refuses) naming why.
sdk::Result<OutboundTarget> check_url(const OutboundPolicy& policy, std::string_view url);
// Resolves the target's host and checks every address; forbidden when one is denied (a host
// that also resolves to a denied address is refused whole), unavailable when the host does not
// resolve.
sdk::Status resolve_allowed(const OutboundPolicy& policy, OutboundTarget& target);

}  // namespace ctxmgr::kernel
