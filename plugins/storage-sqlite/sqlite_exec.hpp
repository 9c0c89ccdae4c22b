#pragma once
// The raw SQLite API under a SOCI session, for what SOCI cannot do: scripts of several statements.

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace ctxmgr::sqlite {

// SOCI includes sqlite3.h inside namespace sqlite_api; the raw API is used from there.
sqlite_api::sqlite3* native(soci::session& s);

// Runs a script of several statements (SOCI prepares one statement at a time). Throws
// soci::sqlite3_soci_error, as SOCI's own calls do.
void exec_script(soci::session& s, const char* sql);

}  // namespace ctxmgr::sqlite
