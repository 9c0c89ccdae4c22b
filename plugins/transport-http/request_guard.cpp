#include "request_guard.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include <boost/beast/http/field.hpp>

namespace ctxmgr::http {

namespace bhttp = boost::beast::http;
using sdk::Errc;
using sdk::Error;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool all_digits(std::string_view s) {
  return !s.empty() && s.size() <= 5 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits "name[:port]" or "[v6][:port]" into its host (brackets kept) and port; nullopt when it
// is neither (a second colon outside brackets, text after "]", a port that is not digits).
struct HostPort {
  std::string_view host;
  std::string_view port;  // empty: none
};
std::optional<HostPort> split_host_port(std::string_view text) {
  if (text.empty()) return std::nullopt;
  HostPort hp;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = text.substr(0, close + 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || !all_digits(rest.substr(1))) return std::nullopt;
      hp.port = rest.substr(1);
    }
    return hp;
  }
  const auto colon = text.find(':');
  hp.host = text.substr(0, colon);
  if (colon != std::string_view::npos) {
    hp.port = text.substr(colon + 1);
    if (!all_digits(hp.port)) return std::nullopt;
  }
  if (hp.host.empty()) return std::nullopt;
  // A reg-name or an IPv4 address: letters, digits, '-', '.', '_' only (no userinfo, no path).
  const bool plain = std::all_of(hp.host.begin(), hp.host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
  });
  return plain ? std::optional(hp) : std::nullopt;
}

// "scheme://host[:port]" with scheme http or https, nothing before or after.
std::optional<HostPort> origin_host(std::string_view origin) {
  const std::string o = lower(origin);
  std::string_view rest;
  if (o.starts_with("http://")) {
    rest = origin.substr(7);
  } else if (o.starts_with("https://")) {
    rest = origin.substr(8);
  } else {
    return std::nullopt;
  }
  return split_host_port(rest);
}

}  // namespace

bool is_loopback_name(std::string_view host) {
  const std::string h = lower(host);
  if (h == "localhost" || h == "[::1]") return true;
  // inet_pton takes exactly four decimal parts: "127.0.0.1.evil.com" and "127.1" are not.
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

RequestGuard::RequestGuard(const std::vector<std::string>& allowed_hosts,
                           const std::vector<std::string>& allowed_origins) {
  for (const auto& h : allowed_hosts) {
    if (!split_host_port(h)) {
      throw Error(Errc::invalid_request, "options.allowed_hosts: \"" + h +
                                             "\" is not a host name, host:port or [v6]:port");
    }
    allowed_hosts_.push_back(lower(h));
  }
  for (const auto& o : allowed_origins) {
    if (!origin_host(o)) {
      throw Error(Errc::invalid_request,
                  "options.allowed_origins: \"" + o +
                      "\" is not an origin (http[s]://host[:port], no path)");
    }
    allowed_origins_.push_back(lower(o));
  }
}

bool RequestGuard::host_allowed(std::string_view host) const {
  const auto hp = split_host_port(host);
  if (!hp) return false;
  if (is_loopback_name(hp->host)) return true;
  const std::string whole = lower(host);
  const std::string name = lower(hp->host);
  return std::any_of(allowed_hosts_.begin(), allowed_hosts_.end(),
                     [&](const std::string& a) { return a == whole || a == name; });
}

bool RequestGuard::origin_allowed(std::string_view origin) const {
  const auto hp = origin_host(origin);
  if (!hp) return false;
  if (is_loopback_name(hp->host)) return true;
  const std::string o = lower(origin);
  return std::find(allowed_origins_.begin(), allowed_origins_.end(), o) != allowed_origins_.end();
}

std::optional<Error> RequestGuard::check(const Request& req, bool identity_from_headers) const {
  const auto hosts = req.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && req.version() >= 11)) {
    return Error(Errc::invalid_request, "an HTTP/1.1 request needs exactly one Host header");
  }
  if ((identity_from_headers || !allowed_hosts_.empty()) && hosts == 1 &&
      !host_allowed(req[bhttp::field::host])) {
    return Error(Errc::misdirected_request, "this server does not answer for Host \"" +
                                                std::string(req[bhttp::field::host]) +
                                                "\" (see allowed_hosts in docs/transport-http.md)");
  }
  if (req.count(bhttp::field::origin) == 0) return std::nullopt;  // not sent by a browser page
  const auto m = req.method();
  const bool safe = m == bhttp::verb::get || m == bhttp::verb::head || m == bhttp::verb::options;
  if ((identity_from_headers || !safe) && !origin_allowed(req[bhttp::field::origin])) {
    return Error(Errc::forbidden, "requests from the web origin \"" +
                                      std::string(req[bhttp::field::origin]) +
                                      "\" are not allowed (see allowed_origins in "
                                      "docs/transport-http.md)");
  }
  return std::nullopt;
}

}  // namespace ctxmgr::http
