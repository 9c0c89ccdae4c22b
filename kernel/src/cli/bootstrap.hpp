#pragma once
// What every command does first: find the config file, read the environment (.env included) and
// the config. Failures here are usage or configuration errors (exit code 2).

#include <filesystem>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace ctxmgr::kernel {

// Exit codes of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // failure at run time
inline constexpr int kExitUsage = 2;    // bad usage or configuration

struct CommonOptions {
  std::string config;    // --config; empty: the default search
  std::string env_file;  // --env-file; empty: ./.env when present
};

struct Bootstrap {
  std::unique_ptr<Environment> env;  // stable address: the config source points into it
  LoadedConfig loaded;
};

// The config file in use: --config, else $CTXMGR_CONFIG, else ./config/ctxmgr.yaml, else
// <prefix>/etc/ctxmgr/ctxmgr.yaml beside the executable, else /etc/ctxmgr/ctxmgr.yaml.
sdk::Result<std::filesystem::path> find_config_file(const CommonOptions& opts);

// Reads environment and config; prints nothing.
sdk::Result<Bootstrap> bootstrap(const CommonOptions& opts);

// The folder of the running executable.
std::filesystem::path executable_dir();

}  // namespace ctxmgr::kernel
