#include "sqlite_rows.hpp"

#include <soci/sqlite3/soci-sqlite3.h>

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
      case SQLITE_CONSTRAINT:
        return sdk::Error(sdk::Errc::conflict, what + ": the row already exists");
      default:
        break;
    }
  }
  return sdk::Error(sdk::Errc::internal, what + " failed");
}

}  // namespace ctxmgr::sqlite
