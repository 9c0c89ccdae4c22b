// PgStorage's erasure capability (sdk/storage_erasure.hpp): a version's content replaced in place.
// PostgreSQL keeps the old row image in the table's files until VACUUM marks its space free and a
// later write reuses it; scrub() cannot force that from inside the server (VACUUM FULL rewrites
// the table, an operator's decision: docs/memory-tool.md, Redaction).

#include "ctxmgr/sdk/storage_erasure.hpp"
#include "pg_storage.hpp"
#include "pg_transaction.hpp"

namespace ctxmgr::pg {

sdk::Result<bool> PgStorage::redact_version(sdk::Transaction& tx, std::string_view id,
                                            std::int64_t version, std::string_view context_data,
                                            std::string_view metadata) {
  auto* own = dynamic_cast<PgTransaction*>(&tx);
  if (own == nullptr) {
    return sdk::Error(sdk::Errc::internal, "redact version: not a transaction of this storage");
  }
  try {
    soci::session& sql = own->session();
    std::string key(id), data(context_data), meta(metadata);
    long long v = version;
    soci::statement st =
        (sql.prepare << "UPDATE " + sql_.table("context_history") +
                            " SET context_data = :d, metadata = :m"
                            " WHERE context_id = CAST(:id AS uuid) AND version = :v",
         soci::use(data), soci::use(meta), soci::use(key), soci::use(v));
    st.execute(true);
    if (st.get_affected_rows() == 0) return false;
    std::string key2(id);
    long long v2 = version;
    sql << "DELETE FROM " + sql_.table("context_vectors") +
               " WHERE context_id = CAST(:id AS uuid) AND version = :v",
        soci::use(key2), soci::use(v2);
    return true;
  } catch (const std::exception& e) {
    return fail(own->lease(), e, "redact version");
  }
}

sdk::Result<sdk::AgentErasure> PgStorage::erase_agent(sdk::Transaction& tx,
                                                      std::string_view agent_id) {
  auto* own = dynamic_cast<PgTransaction*>(&tx);
  if (own == nullptr) {
    return sdk::Error(sdk::Errc::internal, "erase agent: not a transaction of this storage");
  }
  try {
    soci::session& sql = own->session();
    const std::string agent(agent_id);
    auto counted = [&](const std::string& text) -> std::int64_t {
      std::string a = agent;
      soci::statement st = (sql.prepare << text, soci::use(a));
      st.execute(true);
      return st.get_affected_rows();
    };
    sdk::AgentErasure out;
    {
      std::string a = agent, id;
      soci::statement st = (sql.prepare << "SELECT CAST(id AS text) FROM " + sql_.table("context") +
                                               " WHERE agent_id = :a",
                            soci::use(a), soci::into(id));
      st.execute();
      while (st.fetch()) out.context_ids.push_back(id);
    }
    const std::string owned = "(SELECT id FROM " + sql_.table("context") + " WHERE agent_id = :a)";
    out.vectors =
        counted("DELETE FROM " + sql_.table("context_vectors") + " WHERE context_id IN " + owned);
    out.grants =
        counted("DELETE FROM " + sql_.table("context_grants") + " WHERE context_id IN " + owned);
    out.grants += counted("DELETE FROM " + sql_.table("context_grants") + " WHERE agent_id = :a");
    out.grants += counted("DELETE FROM " + sql_.table("owner_grants") + " WHERE owner_id = :a");
    out.grants += counted("DELETE FROM " + sql_.table("owner_grants") + " WHERE agent_id = :a");
    out.versions =
        counted("DELETE FROM " + sql_.table("context_history") + " WHERE context_id IN " + owned);
    counted("DELETE FROM " + sql_.table("context") + " WHERE agent_id = :a");
    out.selections = counted("DELETE FROM " + sql_.table("selection_log") + " WHERE agent_id = :a");
    out.tokens = counted("DELETE FROM " + sql_.table("agent_tokens") + " WHERE agent_id = :a");
    return out;
  } catch (const std::exception& e) {
    return fail(own->lease(), e, "erase agent");
  }
}

sdk::Status PgStorage::scrub() {
  // Dead row versions are the autovacuum's; nothing here can zero them (see above).
  return {};
}

}  // namespace ctxmgr::pg
