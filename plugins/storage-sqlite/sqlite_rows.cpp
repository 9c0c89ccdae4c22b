#include "sqlite_rows.hpp"

#include <soci/sqlite3/soci-sqlite3.h>

#include <vector>

namespace ctxmgr::sqlite {

void ContextInto::bind(soci::statement& st) {
  st.exchange(soci::into(id_));
  st.exchange(soci::into(agent_));
  st.exchange(soci::into(data_));
  st.exchange(soci::into(meta_));
  st.exchange(soci::into(version_));
  st.exchange(soci::into(created_));
  st.exchange(soci::into(updated_));
  st.exchange(soci::into(created_by_));
  st.exchange(soci::into(updated_by_));
  st.exchange(soci::into(deleted_));
}

sdk::ContextRow ContextInto::row() const {
  sdk::ContextRow r;
  r.id = id_;
  r.agent_id = agent_;
  r.context_data = data_;
  r.metadata = meta_;
  r.version = version_;
  r.created_at_us = created_;
  r.updated_at_us = updated_;
  r.created_by = created_by_;
  r.updated_by = updated_by_;
  r.deleted = deleted_ != 0;
  return r;
}

void HistoryInto::bind(soci::statement& st) {
  st.exchange(soci::into(id_));
  st.exchange(soci::into(version_));
  st.exchange(soci::into(action_));
  st.exchange(soci::into(agent_));
  st.exchange(soci::into(at_));
  st.exchange(soci::into(data_));
  st.exchange(soci::into(meta_));
}

sdk::HistoryRow HistoryInto::row() const {
  sdk::HistoryRow r;
  r.context_id = id_;
  r.version = version_;
  r.action = action_;
  r.agent_id = agent_;
  r.at_us = at_;
  r.context_data = data_;
  r.metadata = meta_;
  return r;
}

void without_log_guards(soci::session& sql, const std::function<void()>& fn) {
  std::vector<std::string> names, texts;
  {
    std::string name, text;
    soci::statement st = (sql.prepare << "SELECT name, sql FROM sqlite_master WHERE type = "
                                         "'trigger' AND tbl_name IN ('access_log', "
                                         "'access_log_seal')",
                          soci::into(name), soci::into(text));
    st.execute();
    while (st.fetch()) {
      names.push_back(name);
      texts.push_back(text);
    }
  }
  for (const auto& n : names) sql << "DROP TRIGGER \"" + n + "\"";
  fn();
  for (const auto& t : texts) sql << t;
}

std::string loggable(const std::exception& e) {
  // SOCI's what() appends the statement and its bound values (a context's contents); its
  // original message and SQLite's result code are all a log needs.
  if (const auto* se = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    return se->get_error_message() + " (SQLite result " + std::to_string(se->result()) + ")";
  }
  if (const auto* se = dynamic_cast<const soci::soci_error*>(&e)) return se->get_error_message();
  return e.what();
}

sdk::Error storage_error(const std::exception& e, const std::string& what) {
  if (const auto* se = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    switch (se->result() & 0xff) {
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
        return sdk::Error(sdk::Errc::unavailable, what + ": the database is busy; retry");
      case SQLITE_FULL:
        return sdk::Error(sdk::Errc::unavailable, what + ": the disk is full");
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
      case SQLITE_READONLY:
        return sdk::Error(sdk::Errc::unavailable, what + ": the database file cannot be written");
      case SQLITE_CONSTRAINT: {
        // Extended result codes are off: SQLite's message says which constraint (it names the
        // constraint or column, never a value).
        const std::string message = se->get_error_message();
        if (message.find("UNIQUE constraint failed") != std::string::npos) {
          return sdk::Error(sdk::Errc::conflict, what + ": the row already exists");
        }
        for (const char* kind : {"CHECK constraint failed", "NOT NULL constraint failed",
                                 "FOREIGN KEY constraint failed"}) {
          const auto at = message.find(kind);
          if (at != std::string::npos) {
            return sdk::Error(sdk::Errc::invalid_request, what + ": " + message.substr(at));
          }
        }
        break;  // a trigger's RAISE: the server's own rule, not the request's
      }
      default:
        break;
    }
  }
  return sdk::Error(sdk::Errc::internal, what + " failed");
}

}  // namespace ctxmgr::sqlite
