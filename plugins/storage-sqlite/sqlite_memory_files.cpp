// SqliteStorage's memory-files capability (sdk/storage_memory_files.hpp): an agent's live
// contexts by metadata.path, through the unique index of schemas/sqlite/12_memory_paths.sql.

#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"

namespace ctxmgr::sqlite {

sdk::Result<std::vector<sdk::ContextRow>> SqliteStorage::memory_files(
    const sdk::MemoryFileQuery& q) {
  try {
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    ContextInto into;
    std::string agent = q.agent_id;
    std::string prefix = q.prefix, prefix2 = q.prefix;
    std::string after = q.after_path.value_or("");
    int has_after = q.after_path ? 1 : 0;
    std::string granted_to = q.granted_to.value_or("");
    int has_grantee = q.granted_to ? 1 : 0;
    long long lim = q.limit;
    // The index's own condition, written as in the index so that SQLite uses it; paths compare
    // with BINARY collation, which is byte order.
    auto st = prepare_query(
        sql,
        std::string("SELECT ") + kContextColumns +
            " FROM context WHERE agent_id = :agent AND deleted = 0"
            " AND substr(json_extract(metadata, '$.path'), 1, 10) = '/memories/'"
            " AND substr(json_extract(metadata, '$.path'), 1, length(:prefix)) = :prefix2"
            " AND (:has_after = 0 OR json_extract(metadata, '$.path') > :after)"
            " AND (:has_grantee = 0 OR EXISTS (SELECT 1 FROM context_grants g WHERE g.context_id"
            " = context.id AND g.agent_id = :grantee))"
            " ORDER BY json_extract(metadata, '$.path') LIMIT :lim",
        into, agent, prefix, prefix2, has_after, after, has_grantee, granted_to, lim);
    st.execute();
    std::vector<sdk::ContextRow> out;
    while (st.fetch()) out.push_back(into.row());
    return out;
  } catch (const std::exception& e) {
    return fail(e, "list memory files");
  }
}

}  // namespace ctxmgr::sqlite
