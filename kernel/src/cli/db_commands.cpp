// ctxmgr db init | migrate | status | check — the seed's `python -m src.database init` and
// `db.test_connection()`, on whatever storage plugin the config names.

#include <iostream>

#include "cli/commands.hpp"
#include "cli/storage_session.hpp"

namespace ctxmgr::kernel {

int run_db(const CommonOptions& opts, const std::string& action) {
  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  sdk::Storage* storage = session->storage;
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
