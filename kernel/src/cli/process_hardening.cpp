#include "cli/process_hardening.hpp"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>

namespace ctxmgr::kernel {

void harden_process() {
  const char* allow = std::getenv("CTXMGR_ALLOW_CORE_DUMPS");
  if (allow != nullptr && std::strcmp(allow, "1") == 0) return;
  const rlimit none{0, 0};
  ::setrlimit(RLIMIT_CORE, &none);
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace ctxmgr::kernel
