#pragma once
// For commands that work on the store directly (db, agent): the config's storage plugin alone,
// loaded and started. Errors are printed; `exit_code` says how the command should end.

#include <memory>

#include "cli/bootstrap.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "metrics/metrics_registry.hpp"
#include "plugin/registry.hpp"

namespace ctxmgr::kernel {

struct StorageSession {
  Bootstrap boot;
  MetricsRegistry metrics;
  std::unique_ptr<Registry> registry;
  sdk::Storage* storage = nullptr;
  int exit_code = kExitOk;  // kExitOk when storage is usable
};

std::unique_ptr<StorageSession> open_storage(const CommonOptions& opts);

}  // namespace ctxmgr::kernel
