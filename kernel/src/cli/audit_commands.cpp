// ctxmgr audit verify | seal — the audit chain from the command line.

#include <iostream>

#include "audit/audit_chain.hpp"
#include "cli/commands.hpp"
#include "cli/storage_session.hpp"

namespace ctxmgr::kernel {

int run_audit(const CommonOptions& opts, const std::string& action) {
  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  if (action == "seal") {
    std::int64_t total = 0;
    for (;;) {
      auto sealed = seal_pending(*session->storage, 5000);
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
  auto report = verify_chain(*session->storage);
  if (!report) {
    std::cerr << "ctxmgr: " << report.error().message() << "\n";
    return kExitFailure;
  }
  if (report->ok) {
    std::cout << "ok: " << report->checked << " sealed event(s) verified, sealed through seq "
              << report->sealed_through << "\n";
    return kExitOk;
  }
  std::cout << "BROKEN at seq " << *report->first_bad << ": " << report->reason << " ("
            << report->checked << " event(s) verified before it)\n";
  return kExitFailure;
}

}  // namespace ctxmgr::kernel
