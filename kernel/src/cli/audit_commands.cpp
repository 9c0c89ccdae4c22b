// ctxmgr audit verify | seal | rotate-key — the audit chain from the command line.

#include <iostream>

#include "audit/audit_chain.hpp"
#include "cli/commands.hpp"
#include "cli/storage_session.hpp"

namespace ctxmgr::kernel {

namespace {

// Rotation touches the key file only: no storage is opened for it.
int rotate_key(const CommonOptions& opts) {
  auto boot = bootstrap(opts);
  if (!boot) return fail(boot.error().message(), kExitUsage);
  const auto& file = boot->loaded.config.audit.key_file;
  if (file.empty()) {
    return fail(
        "no audit.key_file is configured (a key in CTXMGR_AUDIT_KEY is rotated by adding "
        "<id>:<hex> at its end)",
        kExitUsage);
  }
  auto id = AuditKeys::rotate_file(file);
  if (!id) return fail(id.error().message());
  std::cout << "audit key " << *id << " added to " << file
            << "; it seals from now on (restart servers that share the file)\n";
  return kExitOk;
}

}  // namespace

int run_audit(const CommonOptions& opts, const std::string& action) {
  if (action == "rotate-key") return rotate_key(opts);
  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  auto trust =
      load_audit_trust(session->boot.loaded.config.audit, *session->boot.env, action == "seal");
  if (!trust) return fail(trust.error().message(), kExitUsage);
  if (action == "seal") {
    std::int64_t total = 0;
    for (;;) {
      auto sealed = seal_pending(*session->storage, *trust, 5000);
      if (!sealed) {
        std::cerr << "ctxmgr: sealing failed: " << sealed.error().message() << "\n";
        return kExitFailure;
      }
      total += *sealed;
      if (*sealed < 5000) break;
    }
    std::cout << "sealed " << total << " event(s)\n";
    return kExitOk;
  }
  auto report = verify_chain(*session->storage, *trust);
  if (!report) {
    std::cerr << "ctxmgr: " << report.error().message() << "\n";
    return kExitFailure;
  }
  if (report->ok) {
    std::cout << "ok: " << report->checked << " sealed event(s) verified, sealed through seq "
              << report->sealed_through;
    if (report->anchor_seq) {
      std::cout << ", from the anchor at seq " << *report->anchor_seq << " (pruned before it)";
    }
    if (report->keyed_from > 0) std::cout << ", keyed from seq " << report->keyed_from;
    if (report->checkpoint_seq) {
      std::cout << ", matches the checkpoint at seq " << *report->checkpoint_seq;
    } else if (!trust->checkpoint_file.empty()) {
      std::cout << ", no checkpoint yet at " << trust->checkpoint_file;
    }
    std::cout << "\n";
    return kExitOk;
  }
  std::cout << "BROKEN at seq " << *report->first_bad << ": " << report->reason << " ("
            << report->checked << " event(s) verified before it)\n";
  return kExitFailure;
}

}  // namespace ctxmgr::kernel
