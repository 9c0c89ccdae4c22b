#pragma once
// The `webhooks:` section (docs/events.md: Webhooks) and the network ranges its outbound rule is
// written in: "169.254.0.0/16", "fe80::/10", or one address.

#include <array>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/yaml_source.hpp"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

// An address range, its bytes in network order (IPv4 in the first 4).
struct Network {
  bool v6 = false;
  std::array<unsigned char, 16> bytes{};
  int prefix = 0;
  std::string text;  // as configured, for messages
};
// invalid_request naming what is wrong.
sdk::Result<Network> parse_network(std::string_view text);

sdk::Status read_webhooks(const YamlSource& src, const YAML::Node& node, WebhooksConfig& out);

}  // namespace ctxmgr::kernel
