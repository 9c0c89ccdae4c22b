#include "events/outbound_policy.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

constexpr std::size_t kMaxUrl = 2048;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form is not used: v4 stays 4 bytes).
struct Address {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
};

bool parse_address(const std::string& text, Address& out) {
  if (inet_pton(AF_INET, text.c_str(), out.bytes.data()) == 1) {
    out.v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, text.c_str(), out.bytes.data()) == 1) {
    out.v6 = true;
    // ::ffff:a.b.c.d is the IPv4 address a.b.c.d: judge it as one.
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(out.bytes.data(), kMapped, 12) == 0) {
      std::memmove(out.bytes.data(), out.bytes.data() + 12, 4);
      std::fill(out.bytes.begin() + 4, out.bytes.end(), 0);
      out.v6 = false;
    }
    return true;
  }
  return false;
}

bool contains(const Network& n, const Address& a) {
  if (n.v6 != a.v6) return false;
  const int full = n.prefix / 8;
  if (std::memcmp(n.bytes.data(), a.bytes.data(), static_cast<std::size_t>(full)) != 0) {
    return false;
  }
  const int rest = n.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (n.bytes[full] & mask) == (a.bytes[full] & mask);
}

bool host_allowed(const OutboundPolicy& policy, const std::string& host) {
  if (policy.hosts.empty()) return true;
  return std::any_of(policy.hosts.begin(), policy.hosts.end(), [&](const std::string& h) {
    const std::string want = lower(h);
    if (want.starts_with("*.")) return host.size() > want.size() - 1 && host.ends_with(want.substr(1));
    return host == want;
  });
}

// One part of a parsed URL, or empty when it has none.
std::string url_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(u, part, &text, flags) != CURLUE_OK || text == nullptr) return {};
  std::string out(text);
  curl_free(text);
  return out;
}

}  // namespace

sdk::Result<OutboundTarget> check_url(const OutboundPolicy& policy, std::string_view url) {
  if (url.empty() || url.size() > kMaxUrl) {
    return Error(Errc::invalid_request, "url must be 1–2048 characters");
  }
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  const std::string text(url);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return Error(Errc::invalid_request, "url is not an absolute http or https URL");
  }
  OutboundTarget t;
  t.scheme = lower(url_part(u.get(), CURLUPART_SCHEME));
  if (std::find(policy.schemes.begin(), policy.schemes.end(), t.scheme) == policy.schemes.end()) {
    std::string allowed;
    for (const auto& s : policy.schemes) allowed += (allowed.empty() ? "" : ", ") + s;
    return Error(Errc::forbidden,
                 "webhooks may use only these URL schemes: " + allowed + " (webhooks.schemes)");
  }
  if (!url_part(u.get(), CURLUPART_USER).empty() ||
      !url_part(u.get(), CURLUPART_PASSWORD).empty()) {
    return Error(Errc::invalid_request,
                 "url must not carry a user name or password (the secret signs deliveries)");
  }
  t.host = lower(url_part(u.get(), CURLUPART_HOST));
  if (t.host.size() > 2 && t.host.front() == '[' && t.host.back() == ']') {
    t.host = t.host.substr(1, t.host.size() - 2);
  }
  if (t.host.empty()) return Error(Errc::invalid_request, "url has no host");
  if (!host_allowed(policy, t.host)) {
    return Error(Errc::forbidden,
                 "host " + t.host + " is not one webhooks may reach (webhooks.hosts)");
  }
  const std::string port = url_part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  t.port = port.empty() ? 0 : std::atoi(port.c_str());
  if (t.port <= 0 || t.port > 65535) return Error(Errc::invalid_request, "url has no valid port");
  return t;
}

sdk::Status resolve_allowed(const OutboundPolicy& policy, OutboundTarget& target) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(target.host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    return Error(Errc::unavailable, "cannot resolve " + target.host + ": " + gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owned(found, freeaddrinfo);
  target.addresses.clear();
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* raw = ai->ai_family == AF_INET
                          ? static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr)
                          : static_cast<const void*>(
                                &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (inet_ntop(ai->ai_family, raw, buf, sizeof buf) == nullptr) continue;
    const std::string text(buf);
    Address a;
    if (!parse_address(text, a)) continue;
    for (const auto& n : policy.denied) {
      if (contains(n, a)) {
        return Error(Errc::forbidden, "host " + target.host + " resolves to " + text +
                                          ", in a network webhooks may not reach (" + n.text +
                                          "; webhooks.denied_networks)");
      }
    }
    if (std::find(target.addresses.begin(), target.addresses.end(), text) ==
        target.addresses.end()) {
      target.addresses.push_back(text);
    }
  }
  if (target.addresses.empty()) {
    return Error(Errc::unavailable, "cannot resolve " + target.host + ": no address");
  }
  return {};
}

}  // namespace ctxmgr::kernel
