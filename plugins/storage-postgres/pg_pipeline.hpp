#pragma once
// Statements of a transaction that need no answer before the next one — BEGIN, a savepoint, the
// inserts of a create — are held and sent together with the next statement that does need one,
// in one round trip (libpq's pipeline mode, PostgreSQL 14+ protocol, any server version). A
// create is then one round trip before its commit. Errors come back as SOCI's would (with their
// SQLSTATE), so the storage maps them like any other; a statement after a failed one is skipped
// by the server, which is what a transaction does anyway.
//
// A statement sent with a name is a named prepared statement when the pool prepares them
// (option prepared_statements): the first use on a connection sends its Parse in the same round
// trip, later uses only bind and execute it, so PostgreSQL parses and plans it once per
// connection instead of once per request.
//
// Not thread-safe: one per transaction (or per one-shot read), used by its thread.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "pg_pool.hpp"
#include "pg_sql.hpp"

namespace ctxmgr::pg {

// $1.. values; nullopt is NULL.
using Params = std::vector<std::optional<std::string>>;
// The rows of a statement's answer, each column as text (NULL as empty).
using Rows = std::vector<std::vector<std::string>>;

class Pipeline {
 public:
  // Holds a statement whose answer nobody reads: only whether it failed.
  void hold(std::string what, std::string sql, Params params);
  void hold(std::string what, const Prepared& statement, Params params);
  bool empty() const { return held_.empty(); }
  std::size_t size() const { return held_.size(); }
  void clear() { held_.clear(); }
  // After a send that threw: the position, among the statements it sent, of the one the server
  // refused; kNone when none was (the connection failed).
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::size_t failed_at() const { return failed_at_; }
  // Sends what is held, in one round trip. Throws soci::postgresql_soci_error for the first
  // statement that failed ("<what>: ...").
  void send(const PgPool::Lease& lease);
  // The same with `sql` last, in the same round trip; its rows.
  Rows send(const PgPool::Lease& lease, std::string what, std::string sql, Params params);
  Rows send(const PgPool::Lease& lease, std::string what, const Prepared& statement, Params params);

 private:
  struct Held {
    std::string what;
    std::string sql;
    Params params;
    std::string name;  // prepared under this name, or empty
  };
  Rows flush(const PgPool::Lease& lease, bool answer_last);
  std::vector<Held> held_;
  std::size_t failed_at_ = kNone;
};

}  // namespace ctxmgr::pg
