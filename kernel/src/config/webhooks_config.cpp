#include "config/webhooks_config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

sdk::Result<Network> parse_network(std::string_view text) {
  Network n;
  n.text = std::string(text);
  const auto slash = text.find('/');
  const std::string address(text.substr(0, slash));
  const bool v4 = inet_pton(AF_INET, address.c_str(), n.bytes.data()) == 1;
  const bool v6 = !v4 && inet_pton(AF_INET6, address.c_str(), n.bytes.data()) == 1;
  if (!v4 && !v6) {
    return Error(Errc::invalid_request,
                 "\"" + n.text + "\" is not an address or a network (a.b.c.d/len, x:y::/len)");
  }
  const int max = v6 ? 128 : 32;
  n.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string len(text.substr(slash + 1));
    if (len.empty() || len.size() > 3 ||
        !std::all_of(len.begin(), len.end(), [](unsigned char c) { return std::isdigit(c); }) ||
        std::stoi(len) > max) {
      return Error(Errc::invalid_request,
                   "\"" + n.text + "\" has a prefix length that is not 0–" + std::to_string(max));
    }
    n.prefix = std::stoi(len);
  }
  n.v6 = v6;
  return n;
}

sdk::Status read_webhooks(const YamlSource& src, const YAML::Node& node, WebhooksConfig& out) {
  if (auto st = src.check_mapping(
          node, "webhooks",
          {"enabled", "max_per_agent", "timeout_ms", "retry_min_ms", "retry_max_ms", "lease_ms",
           "workers", "schemes", "hosts", "denied_networks"});
      !st) {
    return st.error();
  }
  if (node["enabled"]) {
    auto on = src.boolean(node["enabled"], "webhooks.enabled");
    if (!on) return on.error();
    out.enabled = *on;
  }
  if (const auto schemes = node["schemes"]; schemes) {
    auto list = src.string_list(schemes, "webhooks.schemes");
    if (!list) return list.error();
    for (const auto& s : *list) {
      if (s != "http" && s != "https") {
        return src.error(schemes, "webhooks.schemes",
                         "expected http and/or https; got \"" + s + "\"");
      }
    }
    out.schemes = *list;
  }
  if (const auto hosts = node["hosts"]; hosts) {
    auto list = src.string_list(hosts, "webhooks.hosts");
    if (!list) return list.error();
    out.hosts = *list;
  }
  if (const auto denied = node["denied_networks"]; denied) {
    auto list = src.string_list(denied, "webhooks.denied_networks");
    if (!list) return list.error();
    for (const auto& n : *list) {
      if (auto net = parse_network(n); !net) {
        return src.error(denied, "webhooks.denied_networks", net.error().message());
      }
    }
    out.denied_networks = *list;
  }
  if (auto st = read_integers(src, node, "webhooks",
                              {{"max_per_agent", &out.max_per_agent, 1, 100000},
                               {"timeout_ms", &out.timeout_ms, 100, 600000},
                               {"retry_min_ms", &out.retry_min_ms, 10, 3600000},
                               {"retry_max_ms", &out.retry_max_ms, 10, 86400000},
                               {"lease_ms", &out.lease_ms, 300, 3600000},
                               {"workers", &out.workers, 1, 256}});
      !st) {
    return st.error();
  }
  if (out.retry_max_ms < out.retry_min_ms) {
    return src.error(node, "webhooks.retry_max_ms", "must be at least webhooks.retry_min_ms");
  }
  return {};
}

}  // namespace ctxmgr::kernel
