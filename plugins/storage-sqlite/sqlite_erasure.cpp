// SqliteStorage's erasure capability (sdk/storage_erasure.hpp): a version's content replaced in
// place, and a scrub that leaves none of it in the files: every connection has secure_delete on
// (freed space is zeroed), the full-text index is rewritten (its segments may still hold the words
// of versions replaced long ago) and the write-ahead log is checkpointed and truncated (it holds
// page images from before the redaction).

#include "ctxmgr/sdk/storage_erasure.hpp"
#include "sqlite_exec.hpp"
#include "sqlite_storage.hpp"
#include "sqlite_transaction.hpp"

namespace ctxmgr::sqlite {

sdk::Result<bool> SqliteStorage::redact_version(sdk::Transaction& tx, std::string_view id,
                                                std::int64_t version, std::string_view context_data,
                                                std::string_view metadata) {
  auto* own = dynamic_cast<SqliteTransaction*>(&tx);
  if (own == nullptr) {
    return sdk::Error(sdk::Errc::internal, "redact version: not a transaction of this storage");
  }
  try {
    soci::session& sql = own->session();
    std::string key(id), data(context_data), meta(metadata);
    long long v = version;
    soci::statement st = (sql.prepare << "UPDATE context_history SET context_data = :d, "
                                         "metadata = :m WHERE context_id = :id AND version = :v",
                          soci::use(data), soci::use(meta), soci::use(key), soci::use(v));
    st.execute(true);
    if (st.get_affected_rows() == 0) return false;
    long long v2 = version;
    std::string key2(id);
    sql << "DELETE FROM context_vectors WHERE context_id = :id AND version = :v", soci::use(key2),
        soci::use(v2);
    return true;
  } catch (const std::exception& e) {
    return fail(e, "redact version");
  }
}

namespace {

// Runs `sql` binding :a to the agent and returns how many rows it changed.
std::int64_t run_counted(soci::session& sql, const std::string& text, const std::string& agent) {
  std::string a = agent;
  soci::statement st = (sql.prepare << text, soci::use(a));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

sdk::Result<sdk::AgentErasure> SqliteStorage::erase_agent(sdk::Transaction& tx,
                                                          std::string_view agent_id) {
  auto* own = dynamic_cast<SqliteTransaction*>(&tx);
  if (own == nullptr) {
    return sdk::Error(sdk::Errc::internal, "erase agent: not a transaction of this storage");
  }
  try {
    soci::session& sql = own->session();
    const std::string agent(agent_id);
    sdk::AgentErasure out;
    {
      std::string a = agent, id;
      soci::statement st = (sql.prepare << "SELECT id FROM context WHERE agent_id = :a",
                            soci::use(a), soci::into(id));
      st.execute();
      while (st.fetch()) out.context_ids.push_back(id);
    }
    constexpr const char* kOwned = "(SELECT id FROM context WHERE agent_id = :a)";
    out.vectors = run_counted(
        sql, std::string("DELETE FROM context_vectors WHERE context_id IN ") + kOwned, agent);
    out.grants = run_counted(
        sql, std::string("DELETE FROM context_grants WHERE context_id IN ") + kOwned, agent);
    out.grants += run_counted(sql, "DELETE FROM context_grants WHERE agent_id = :a", agent);
    out.grants += run_counted(sql, "DELETE FROM owner_grants WHERE owner_id = :a", agent);
    out.grants += run_counted(sql, "DELETE FROM owner_grants WHERE agent_id = :a", agent);
    out.versions = run_counted(
        sql, std::string("DELETE FROM context_history WHERE context_id IN ") + kOwned, agent);
    run_counted(sql, "DELETE FROM context WHERE agent_id = :a", agent);
    out.selections = run_counted(sql, "DELETE FROM selection_log WHERE agent_id = :a", agent);
    out.tokens = run_counted(sql, "DELETE FROM agent_tokens WHERE agent_id = :a", agent);
    return out;
  } catch (const std::exception& e) {
    return fail(e, "erase agent");
  }
}

sdk::Status SqliteStorage::scrub() {
  try {
    std::lock_guard lock(writer_mu_);
    if (!writer_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
    exec_script(*writer_,
                "INSERT INTO context_fts (context_fts) VALUES ('optimize');"
                "PRAGMA wal_checkpoint(TRUNCATE);");
    return {};
  } catch (const std::exception& e) {
    return fail(e, "scrub erased data");
  }
}

}  // namespace ctxmgr::sqlite
