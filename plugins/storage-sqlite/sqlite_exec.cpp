#include "sqlite_exec.hpp"

#include <string>

namespace ctxmgr::sqlite {

sqlite_api::sqlite3* native(soci::session& s) {
  return static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_;
}

void exec_script(soci::session& s, const char* sql) {
  char* err = nullptr;
  const int rc = sqlite_api::sqlite3_exec(native(s), sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "sqlite3_exec failed";
    sqlite_api::sqlite3_free(err);
    throw soci::sqlite3_soci_error(msg, rc);
  }
}

}  // namespace ctxmgr::sqlite
