// ctxmgr db init | migrate | status | check — the seed's `python -m src.database init` and
// `db.test_connection()`, on whatever storage plugin the config names.

#include <iostream>

#include "cli/commands.hpp"
#include "log/logging.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "plugin/registry.hpp"

namespace ctxmgr::kernel {

int run_db(const CommonOptions& opts, const std::string& action) {
  auto boot = bootstrap(opts);
  if (!boot) {
    std::cerr << "ctxmgr: " << boot.error().message() << "\n";
    return kExitUsage;
  }
  // Only the storage is loaded: a db command needs no transport or provider.
  Config config = boot->loaded.config;
  std::erase_if(config.plugins, [](const PluginEntry& e) { return e.kind != sdk::Kind::storage; });
  if (config.plugins.empty()) {
    std::cerr << "ctxmgr: " << config.file.string() << ": no storage is configured\n";
    return kExitUsage;
  }
  LogConfig log = config.log;
  log.level = log.level == "off" ? "off" : "warn";
  log.file.clear();
  (void)configure_logging(log);

  MetricsRegistry metrics;
  Registry registry(metrics);
  registry.load(config, *boot->loaded.source);
  if (!registry.ok()) return kExitUsage;
  auto* storage = registry.of_kind<sdk::Storage>(sdk::Kind::storage).at(0).second;
  if (auto st = registry.start(sdk::Kind::storage); !st) {
    std::cerr << "ctxmgr: storage unreachable: " << st.error().message() << "\n";
    return kExitFailure;
  }
  if (action == "init" || action == "migrate") {
    auto applied = storage->migrate();
    if (!applied) {
      std::cerr << "ctxmgr: migration failed: " << applied.error().message() << "\n";
      return kExitFailure;
    }
    if (applied->empty()) std::cout << "schema is up to date; nothing to apply\n";
    for (const auto& name : *applied) std::cout << "applied " << name << "\n";
    return kExitOk;
  }
  if (action == "check") {
    if (auto st = storage->ping(); !st) {
      std::cout << "storage: unreachable (" << st.error().message() << ")\n";
      return kExitFailure;
    }
  }
  auto status = storage->schema_status();
  if (!status) {
    std::cout << "storage: unreachable (" << status.error().message() << ")\n";
    return kExitFailure;
  }
  const bool latest = status->current == status->latest && status->pending.empty();
  if (action == "check") std::cout << "storage: reachable\n";
  std::cout << "schema: " << status->current << " of " << status->latest
            << (latest ? " (latest)" : "") << "\n";
  std::cout << "applied: " << (status->applied.empty() ? "none" : status->applied) << "\n";
  std::cout << "pending: " << (status->pending.empty() ? "none" : status->pending) << "\n";
  if (action == "check" && !latest) {
    std::cout << "not at the latest schema: run `ctxmgr db migrate`\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace ctxmgr::kernel
