#pragma once
// Shared pieces of the SQLite storage: reading rows into SDK types, and turning SOCI/SQLite
// failures into SDK errors that name no SQL.

#include <exception>
#include <functional>
#include <string>

#include <soci/soci.h>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sqlite {

// The columns every context query selects, in the order read_context() expects.
inline constexpr const char* kContextColumns =
    "id, agent_id, context_data, metadata, version, created_at, updated_at, created_by, "
    "updated_by, deleted";
inline constexpr const char* kHistoryColumns =
    "context_id, version, action, agent_id, at, context_data, metadata";

// Binds the outputs of a context query; after fetch(), row() is the context.
class ContextInto {
 public:
  void bind(soci::statement& st);
  sdk::ContextRow row() const;

 private:
  std::string id_, agent_, data_, meta_, created_by_, updated_by_;
  long long version_ = 0, created_ = 0, updated_ = 0;
  int deleted_ = 0;
};

class HistoryInto {
 public:
  void bind(soci::statement& st);
  sdk::HistoryRow row() const;

 private:
  std::string id_, action_, agent_, data_, meta_;
  long long version_ = 0, at_ = 0;
};

// Prepares `text` with the outputs of `into` and the inputs `uses` bound (which must outlive the
// statement). SOCI binds outputs before preparing, so they cannot be added to a prepared
// `sql.prepare << ...` expression.
template <class Into, class... Uses>
soci::statement prepare_query(soci::session& sql, const std::string& text, Into& into,
                              Uses&... uses) {
  soci::statement st(sql);
  into.bind(st);
  (st.exchange(soci::use(uses)), ...);
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  return st;
}

// Maps the exception being handled to an SDK error: SQLITE_BUSY/LOCKED/FULL/IOERR/CANTOPEN are
// `unavailable` (503: retry later), a duplicate row is `conflict`, another constraint (CHECK, NOT
// NULL, FOREIGN KEY) `invalid_request` naming it, the rest `internal`. `what` says which
// operation failed, e.g. "read context".
sdk::Error storage_error(const std::exception& e, const std::string& what);
// Runs `fn` (inside the caller's write transaction) with the append-only triggers of access_log
// and access_log_seal lifted, and puts back exactly what the schema had (their text from
// sqlite_master) — DDL is transactional in SQLite, so no other connection ever sees them gone.
void without_log_guards(soci::session& sql, const std::function<void()>& fn);

// The exception's text for the server log: SQLite's message and result code, never the
// statement's bound values (a context's contents).
std::string loggable(const std::exception& e);

}  // namespace ctxmgr::sqlite
