#pragma once
// One plugin shared object, opened and checked. The checks run in an order that touches as little
// of the plugin as possible before it is known to be one of ours, built for our ABI:
//   file exists, not world-writable → ELF with a 'ctxmgr' section (read from the file, no code
//   runs) → entry points for ABI major 1 → dlopen(RTLD_NOW | RTLD_LOCAL) → descriptor: magic,
//   size, minor, toolchain, kind → only then may the factory be called.
// Every refusal is one line: "plugin <path>: <what was found>; <what this ctxmgr needs>".

#include <filesystem>
#include <memory>
#include <string_view>

#include <boost/dll/shared_library.hpp>

#include "ctxmgr/sdk/host.hpp"
#include "plugin/plugin_info.hpp"

namespace ctxmgr::kernel {

class PluginLibrary {
 public:
  static sdk::Result<std::shared_ptr<PluginLibrary>> open(const std::filesystem::path& path);

  const PluginInfo& info() const { return info_; }

  // Calls the plugin's factory. On failure the error is the refusal line for the operator.
  // The returned object must be destroyed before this library.
  sdk::Result<std::unique_ptr<sdk::Plugin>> create(sdk::Host& host,
                                                   std::string_view options_json) const;

 private:
  using CreateFn = int(sdk::Host*, const char*, std::size_t, sdk::Plugin**, char*, std::size_t);

  boost::dll::shared_library lib_;
  CreateFn* create_ = nullptr;
  PluginInfo info_;
};

// The toolchain this kernel was built with, in the descriptor's terms and as text.
ctxmgr_build_info host_build();
std::string describe_build(const ctxmgr_build_info& build);

}  // namespace ctxmgr::kernel
