#include "cli/storage_session.hpp"

#include <algorithm>
#include <iostream>

#include "cli/commands.hpp"
#include "log/logging.hpp"

namespace ctxmgr::kernel {

int fail(const std::string& message, int code) {
  std::cerr << "ctxmgr: " << message << "\n";
  return code;
}

std::unique_ptr<StorageSession> open_storage(const CommonOptions& opts, bool with_embedder) {
  auto s = std::make_unique<StorageSession>();
  auto boot = bootstrap(opts);
  if (!boot) {
    std::cerr << "ctxmgr: " << boot.error().message() << "\n";
    s->exit_code = kExitUsage;
    return s;
  }
  s->boot = std::move(*boot);
  // Only the storage (and the embedder when asked) is loaded: these commands need no transport
  // or provider.
  Config config = s->boot.loaded.config;
  std::erase_if(config.plugins, [&](const PluginEntry& e) {
    return e.kind != sdk::Kind::storage && !(with_embedder && e.kind == sdk::Kind::embedder);
  });
  if (std::none_of(config.plugins.begin(), config.plugins.end(),
                   [](const PluginEntry& e) { return e.kind == sdk::Kind::storage; })) {
    std::cerr << "ctxmgr: " << config.file.string() << ": no storage is configured\n";
    s->exit_code = kExitUsage;
    return s;
  }
  LogConfig log = config.log;
  log.level = log.level == "off" ? "off" : "warn";
  log.file.clear();
  (void)configure_logging(log);
  s->registry = std::make_unique<Registry>(s->metrics);
  s->registry->load(config, *s->boot.loaded.source);
  if (!s->registry->ok()) {
    s->exit_code = kExitUsage;
    return s;
  }
  s->storage = s->registry->of_kind<sdk::Storage>(sdk::Kind::storage).at(0).second;
  if (auto st = s->registry->start(sdk::Kind::storage); !st) {
    std::cerr << "ctxmgr: storage unreachable: " << st.error().message() << "\n";
    s->exit_code = kExitFailure;
  }
  return s;
}

}  // namespace ctxmgr::kernel
