#pragma once
// What every ctxmgr process does first: no core dumps (a core file would hold the tokens, API keys
// and database passwords the process has in memory) and no ptrace or /proc/<pid>/mem reads by
// other processes of the same user. CTXMGR_ALLOW_CORE_DUMPS=1 keeps core dumps for debugging.

namespace ctxmgr::kernel {

void harden_process();

}  // namespace ctxmgr::kernel
