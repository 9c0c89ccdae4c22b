#pragma once
// SQL of the PostgreSQL storage, qualified with the configured schema (no search_path, which a
// pooler in transaction mode would not keep), and the mapping of PostgreSQL errors to SDK codes.
// Most queries are one-time queries (PQexecParams: one round trip, nothing to clean up, fine
// behind PgBouncer in transaction mode); the hot ones go through pg_pipeline.hpp, prepared once
// per connection unless the option prepared_statements is off.

#include <exception>
#include <string>
#include <vector>

#include <soci/soci.h>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/types.hpp"

struct pg_conn;  // libpq's PGconn

namespace ctxmgr::pg {

// Rows of `context` as SOCI vectors: a one-time query fills up to their size.
struct ContextRows {
  explicit ContextRows(std::size_t n);
  void bind_into(soci::details::once_temp_type& q);
  // SOCI leaves the vectors as they were when a one-time query returns no row.
  void settle(const soci::session& sql);
  std::size_t size() const { return id.size(); }
  sdk::ContextRow row(std::size_t i) const;

  std::vector<std::string> id, agent, data, meta, created_by, updated_by;
  std::vector<long long> version, created, updated;
  std::vector<int> deleted;
};

struct HistoryRows {
  explicit HistoryRows(std::size_t n);
  void bind_into(soci::details::once_temp_type& q);
  void settle(const soci::session& sql);
  std::size_t size() const { return id.size(); }
  sdk::HistoryRow row(std::size_t i) const;

  std::vector<std::string> id, action, agent, data, meta;
  std::vector<long long> version, at;
};

// A row of Sql::context_columns() read as text (a pipelined statement's answer).
sdk::ContextRow context_row(const std::vector<std::string>& columns);

// A statement that each connection prepares once under `name` (pg_pipeline.hpp).
struct Prepared {
  std::string name;
  std::string text;
};

// The statements of the request path, schema-qualified once when the storage is made instead of
// on every request.
struct HotStatements {
  Prepared context_by_id, context_for_update;  // read a context ($1: id)
  Prepared insert_contexts, append_histories, append_audit, append_audits, append_seals;
};

class Sql {
 public:
  explicit Sql(const std::string& schema);
  const std::string& schema() const { return schema_; }
  const HotStatements& hot() const { return hot_; }
  std::string select_context(const std::string& where) const;  // "... WHERE <where>"
  std::string select_history(const std::string& where) const;
  std::string table(const char* name) const;  // "schema".name
  static const char* context_columns();       // what ContextRows reads, unqualified

 private:
  std::string schema_;
  std::string prefix_;
  HotStatements hot_;  // after prefix_: built from it
};

// Timestamps cross as microseconds since the epoch.
std::string from_us(const char* param);
// An array literal ('{1,"a",NULL}') built element by element: one statement carries any number
// of rows as arrays unnested side by side.
class ArrayLiteral {
 public:
  void add(const std::string& text);  // quoted, with " and \\ escaped
  void add(std::int64_t number);
  void add_null();
  std::string close() &&;

 private:
  void next();
  std::string text_ = "{";
};

// Throws `what: message` as SOCI would, with the SQLSTATE; none (libpq's own error, about the
// connection) is 08006, so the storage answers 503 and reopens the connection. An empty message
// takes libpq's.
[[noreturn]] void raise_libpq_error(pg_conn* conn, const std::string& what, const char* message,
                                   const char* state);

// Runs several statements in one round trip (a migration file; RELEASE and SAVEPOINT together)
// on the session's raw connection; throws soci::postgresql_soci_error as SOCI would.
void exec_script(soci::session& s, const std::string& sql);
// The microseconds of a timestamp column, as BIGINT.
std::string to_us(const char* column);

// Whether an exception means the connection is gone (it must be reopened).
bool connection_lost(const std::exception& e);
// The client-safe SDK error for an exception: connection problems and a server going away are
// `unavailable`; a unique violation is `conflict`; the rest `internal`.
sdk::Error storage_error(const std::exception& e, const std::string& what);
// The exception's text for the server log: the SQLSTATE and the first line of PostgreSQL's
// message with every quoted literal masked ("?"), never SOCI's bound values nor the DETAIL line
// (which repeats a row's values), so a context's contents never reach the log.
std::string loggable(const std::exception& e);

}  // namespace ctxmgr::pg
