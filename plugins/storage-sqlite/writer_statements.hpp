#pragma once
// The writer connection's hot statements — BEGIN and COMMIT, the group-commit savepoint, the
// inserts of a create and its audit event — each compiled once, with the triggers it fires (the
// full-text index's), instead of once per request. SQLite prepares a statement again by itself
// when the schema changes, so one prepared before a migration stays right after it.
//
// Not thread-safe: used under the storage's writer mutex, like the connection itself. Destroy it
// before the connection closes (it finalizes its statements).

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include <soci/sqlite3/soci-sqlite3.h>

namespace ctxmgr::sqlite {

class WriterStatements {
 public:
  // A value bound to ?1, ?2, ...: NULL, an integer or a text (read during run() only).
  using Value = std::variant<std::monostate, std::int64_t, std::string_view>;

  explicit WriterStatements(sqlite_api::sqlite3* db) : db_(db) {}
  ~WriterStatements();
  WriterStatements(const WriterStatements&) = delete;
  WriterStatements& operator=(const WriterStatements&) = delete;

  // Runs `sql` to its end with `values` bound; the rows it changed. Throws
  // soci::sqlite3_soci_error with SQLite's message and result code, as SOCI would, so the
  // storage maps it like any other error.
  int run(const std::string& sql, std::initializer_list<Value> values = {});
  // Runs `sql`, a query of one integer column, and returns its first row's value (0: no row).
  std::int64_t query_int(const std::string& sql);
  // The rowid of the last row inserted on this connection.
  std::int64_t last_insert_rowid() const;

 private:
  sqlite_api::sqlite3_stmt* statement(const std::string& sql);
  [[noreturn]] void raise(int rc) const;

  sqlite_api::sqlite3* db_;
  std::unordered_map<std::string, sqlite_api::sqlite3_stmt*> statements_;
};

}  // namespace ctxmgr::sqlite
