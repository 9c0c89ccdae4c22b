#include "writer_statements.hpp"

namespace ctxmgr::sqlite {

namespace {

// Text bound without a copy: SQLite reads it before run() returns.
const auto kStatic = static_cast<sqlite_api::sqlite3_destructor_type>(nullptr);

// Clears a statement's state when run() leaves, whatever happens, so none keeps a read
// transaction open or holds the values of a request.
struct ResetOnExit {
  sqlite_api::sqlite3_stmt* st;
  ~ResetOnExit() {
    sqlite_api::sqlite3_reset(st);
    sqlite_api::sqlite3_clear_bindings(st);
  }
};

}  // namespace

WriterStatements::~WriterStatements() {
  for (auto& [sql, st] : statements_) sqlite_api::sqlite3_finalize(st);
}

void WriterStatements::raise(int rc) const {
  throw soci::sqlite3_soci_error(sqlite_api::sqlite3_errmsg(db_), rc);
}

sqlite_api::sqlite3_stmt* WriterStatements::statement(const std::string& sql) {
  if (const auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite_api::sqlite3_stmt* st = nullptr;
  const int rc = sqlite_api::sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                                                SQLITE_PREPARE_PERSISTENT, &st, nullptr);
  if (rc != SQLITE_OK) raise(rc);  // e.g. the table does not exist yet: nothing is kept
  statements_.emplace(sql, st);
  return st;
}

int WriterStatements::run(const std::string& sql, std::initializer_list<Value> values) {
  sqlite_api::sqlite3_stmt* st = statement(sql);
  ResetOnExit reset{st};
  int i = 0;
  for (const auto& v : values) {
    ++i;
    int rc = SQLITE_OK;
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      rc = sqlite_api::sqlite3_bind_int64(st, i, *n);
    } else if (const auto* t = std::get_if<std::string_view>(&v)) {
      rc = sqlite_api::sqlite3_bind_text(st, i, t->data(), static_cast<int>(t->size()), kStatic);
    } else {
      rc = sqlite_api::sqlite3_bind_null(st, i);
    }
    if (rc != SQLITE_OK) raise(rc);
  }
  int rc = SQLITE_ROW;
  while (rc == SQLITE_ROW) rc = sqlite_api::sqlite3_step(st);
  if (rc != SQLITE_DONE) raise(rc);
  return sqlite_api::sqlite3_changes(db_);
}

std::int64_t WriterStatements::query_int(const std::string& sql) {
  sqlite_api::sqlite3_stmt* st = statement(sql);
  ResetOnExit reset{st};
  const int rc = sqlite_api::sqlite3_step(st);
  if (rc == SQLITE_ROW) return sqlite_api::sqlite3_column_int64(st, 0);
  if (rc != SQLITE_DONE) raise(rc);
  return 0;
}

std::int64_t WriterStatements::last_insert_rowid() const {
  return sqlite_api::sqlite3_last_insert_rowid(db_);
}

}  // namespace ctxmgr::sqlite
