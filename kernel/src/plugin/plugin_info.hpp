#pragma once
// What the kernel knows of a plugin file once its descriptor was read: a copy, so it stays valid
// after the library is unloaded.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ctxmgr/sdk/plugin.hpp"

namespace ctxmgr::kernel {

struct OptionSpec {
  std::string name;
  std::uint32_t type = 0;  // ctxmgr_option_type
  std::uint32_t flags = 0;
  std::optional<std::string> default_json;
  double min = 0;
  double max = 0;
  std::vector<std::string> allowed;
  std::string description;

  bool required() const;
  bool secret() const;
  bool has_min() const;
  bool has_max() const;
};

// "string", "integer", ... as written in docs and errors.
std::string_view option_type_name(std::uint32_t type);

struct PluginInfo {
  std::filesystem::path path;
  sdk::Kind kind = sdk::Kind::storage;
  std::string name;
  std::string version;
  std::string description;
  std::uint32_t abi_major = 0;
  std::uint32_t abi_minor = 0;
  std::string build;  // "gcc 12, C++20, Boost 1.81"
  std::uint32_t capabilities = 0;  // CTXMGR_CAP_* (ABI 1.1+)
  std::vector<OptionSpec> options;
};

}  // namespace ctxmgr::kernel
