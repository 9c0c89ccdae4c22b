#pragma once
// Which requests a browser could have been tricked into sending, and the refusal for them
// (docs/security.md). One check for REST and MCP:
// - Host: in trust mode a request must name this machine (localhost, 127.0.0.0/8, [::1], with any
//   port) or a host the operator allowed (`allowed_hosts`), else 421: a page whose name was
//   rebound to 127.0.0.1 sends its own name. With `allowed_hosts` set, token mode checks it too.
// - Origin: a browser's request from a page not on this machine (nor in `allowed_origins`) is
//   refused with 403 — in trust mode any such request, in token mode those that change state.
// Names are compared as whole strings, never through a URL parser's idea of a host (Boost.URL
// 1.81 reads "http://127.0.0.1.evil.com" as the loopback address).
//
// Thread-safety: immutable after construction; every method may be called from any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "http_router.hpp"

namespace ctxmgr::http {

// "localhost", a dotted-quad IPv4 address in 127.0.0.0/8, or "[::1]" (a Host's or Origin's host
// part, brackets included for IPv6), compared without regard to case.
bool is_loopback_name(std::string_view host);

class RequestGuard {
 public:
  // allowed_hosts: "name" (any port) or "name:port"; allowed_origins: "scheme://host[:port]".
  // Both compared without regard to case. Throws sdk::Error for a malformed entry.
  RequestGuard(const std::vector<std::string>& allowed_hosts,
               const std::vector<std::string>& allowed_origins);

  // A Host header value ("name[:port]", "[v6]:port") the server answers for.
  bool host_allowed(std::string_view host) const;
  // A browser Origin a request may come from: a loopback origin or an allowed one. "null" and
  // anything that is not exactly scheme://host[:port] are not.
  bool origin_allowed(std::string_view origin) const;
  // The refusal for a request, if it gets one: 400 for an HTTP/1.1 request without exactly one
  // Host, 421 for a Host, 403 for an Origin (see above). `identity_from_headers`: trust mode.
  std::optional<sdk::Error> check(const Request& req, bool identity_from_headers) const;

 private:
  std::vector<std::string> allowed_hosts_;
  std::vector<std::string> allowed_origins_;
};

}  // namespace ctxmgr::http
