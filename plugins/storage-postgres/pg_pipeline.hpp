#pragma once
// Statements of a transaction that need no answer before the next one — BEGIN, a savepoint, the
// inserts of a create — are held and sent together with the next statement that does need one,
// in one round trip (libpq's pipeline mode, PostgreSQL 14+ protocol, any server version). A
// create is then one round trip before its commit. Errors come back as SOCI's would (with their
// SQLSTATE), so the storage maps them like any other; a statement after a failed one is skipped
// by the server, which is what a transaction does anyway.
//
// Not thread-safe: one per transaction, used by its thread.

#include <optional>
#include <string>
#include <vector>

#include <soci/soci.h>

namespace ctxmgr::pg {

class Pipeline {
 public:
  // Holds a statement ($1.. placeholders; nullopt is NULL) whose answer nobody reads: only
  // whether it failed.
  void hold(std::string what, std::string sql, std::vector<std::optional<std::string>> params);
  bool empty() const { return held_.empty(); }
  void clear() { held_.clear(); }
  // Sends what is held, then `last` if given, in one round trip; the first column of `last`'s
  // rows. Throws soci::postgresql_soci_error for the first statement that failed ("<what>: ...").
  std::vector<std::string> send(soci::session& sql, const std::string& last_what = {},
                                const std::string& last = {},
                                const std::vector<std::optional<std::string>>& last_params = {});

 private:
  struct Held {
    std::string what;
    std::string sql;
    std::vector<std::optional<std::string>> params;
  };
  std::vector<Held> held_;
};

}  // namespace ctxmgr::pg
