// PgStorage's received-grants capability (sdk/storage_received_grants.hpp): owner grants by
// grantee (index owner_grants_agent, migration 15), then context grants by grantee (index
// context_grants_agent) of contexts that are not deleted. Two queries, each a range of an index,
// so a page costs its own rows whatever the agent received in all. Context ids are UUIDs: their
// order is their text's (lower-case hex), so a cursor's text compares as the column does.

#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "pg_storage.hpp"

namespace ctxmgr::pg {

sdk::Result<std::vector<sdk::ReceivedGrant>> PgStorage::received_grants(
    const sdk::ReceivedGrantsQuery& q) {
  using R = sdk::Result<std::vector<sdk::ReceivedGrant>>;
  return reading("read received grants", [&](PgPool::Lease& lease) {
    std::vector<sdk::ReceivedGrant> out;
    const auto n = static_cast<std::size_t>(q.limit > 0 ? q.limit : 1);
    std::string agent = q.agent_id;
    if (q.after_scope != sdk::GrantScope::context) {
      std::string after = q.after_scope ? q.after_scope_id : std::string();
      long long limit = q.limit;
      std::vector<std::string> owner(n), perm(n), by(n);
      std::vector<long long> at(n);
      lease.sql() << "SELECT owner_id, permission, granted_by, "
                     "CAST(EXTRACT(EPOCH FROM granted_at) * 1000000 AS BIGINT) FROM " +
                         sql_.table("owner_grants") +
                         " WHERE agent_id = :a AND owner_id > :after ORDER BY owner_id LIMIT :lim",
          soci::into(owner), soci::into(perm), soci::into(by), soci::into(at), soci::use(agent),
          soci::use(after), soci::use(limit);
      if (lease.sql().got_data()) {
        for (std::size_t i = 0; i < owner.size(); ++i) {
          out.push_back(
              {sdk::GrantScope::owner, {owner[i], q.agent_id, perm[i], by[i], at[i]}, owner[i]});
        }
      }
    }
    if (static_cast<std::int64_t>(out.size()) >= q.limit) return R(out);
    const bool after_context = q.after_scope == sdk::GrantScope::context;
    std::string after = after_context ? q.after_scope_id : std::string();
    long long rest = q.limit - static_cast<long long>(out.size());
    const auto m = static_cast<std::size_t>(rest);
    std::vector<std::string> id(m), owner(m), perm(m), by(m);
    std::vector<long long> at(m);
    // Without a cursor the bound is left out: a text cast to uuid must be one.
    const std::string bound =
        after_context ? " AND g.context_id > CAST(:after AS uuid)" : " AND :after = ''";
    lease.sql() << "SELECT CAST(g.context_id AS TEXT), c.agent_id, g.permission, g.granted_by, "
                   "CAST(EXTRACT(EPOCH FROM g.granted_at) * 1000000 AS BIGINT) FROM " +
                       sql_.table("context_grants") + " g JOIN " + sql_.table("context") +
                       " c ON c.id = g.context_id WHERE g.agent_id = :a" + bound +
                       " AND NOT c.deleted ORDER BY g.context_id LIMIT :lim",
        soci::into(id), soci::into(owner), soci::into(perm), soci::into(by), soci::into(at),
        soci::use(agent), soci::use(after), soci::use(rest);
    if (lease.sql().got_data()) {
      for (std::size_t i = 0; i < id.size(); ++i) {
        out.push_back(
            {sdk::GrantScope::context, {id[i], q.agent_id, perm[i], by[i], at[i]}, owner[i]});
      }
    }
    return R(out);
  });
}

}  // namespace ctxmgr::pg
