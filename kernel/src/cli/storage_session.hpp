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

// `with_embedder`: the configured embedder is loaded too (not started: its model id is known
// from its options), for the embeddings commands.
std::unique_ptr<StorageSession> open_storage(const CommonOptions& opts, bool with_embedder = false);

}  // namespace ctxmgr::kernel
