// PgStorage's memory-files capability (sdk/storage_memory_files.hpp): an agent's live contexts
// by metadata.path, through the unique index of schemas/postgres/12_memory_paths.sql (paths in
// byte order: COLLATE "C", as the index).

#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "pg_storage.hpp"

namespace ctxmgr::pg {

sdk::Result<std::vector<sdk::ContextRow>> PgStorage::memory_files(const sdk::MemoryFileQuery& q) {
  return replica_reading(
      "list memory files", [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::ContextRow>> {
        ContextRows rows(static_cast<std::size_t>(std::max<std::int64_t>(q.limit, 1)));
        std::string agent = q.agent_id, prefix = q.prefix;
        std::string after = q.after_path.value_or("");
        int has_after = q.after_path ? 1 : 0;
        std::string granted_to = q.granted_to.value_or("");
        int has_grantee = q.granted_to ? 1 : 0;
        long long lim = q.limit;
        const std::string path = "(metadata_jsonb ->> 'path') COLLATE \"C\"";
        {
          auto query = (lease.sql() << sql_.select_context(
                            "agent_id = :agent AND NOT deleted"
                            " AND left(metadata_jsonb ->> 'path', 10) = '/memories/'"
                            " AND starts_with(metadata_jsonb ->> 'path', :prefix)"
                            " AND (:has_after = 0 OR " +
                            path + " > CAST(:after AS text) COLLATE \"C\")" +
                            " AND (:has_grantee = 0 OR EXISTS (SELECT 1 FROM " +
                            sql_.table("context_grants") +
                            " g WHERE g.context_id = id AND g.agent_id = :grantee))"
                            " ORDER BY " +
                            path + " LIMIT :lim"));
          rows.bind_into(query);
          query, soci::use(agent), soci::use(prefix), soci::use(has_after), soci::use(after),
              soci::use(has_grantee), soci::use(granted_to), soci::use(lim);
        }
        rows.settle(lease.sql());
        std::vector<sdk::ContextRow> out;
        for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(rows.row(i));
        return out;
      });
}

}  // namespace ctxmgr::pg
