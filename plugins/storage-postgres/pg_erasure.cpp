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

sdk::Status PgStorage::scrub() {
  // Dead row versions are the autovacuum's; nothing here can zero them (see above).
  return {};
}

}  // namespace ctxmgr::pg
