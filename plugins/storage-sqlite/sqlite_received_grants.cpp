// SqliteStorage's received-grants capability (sdk/storage_received_grants.hpp): owner grants by
// grantee (index owner_grants_agent, migration 15), then context grants by grantee (index
// context_grants_agent) of contexts that are not deleted. Two queries, each a range of an index,
// so a page costs its own rows whatever the agent received in all.

#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "sqlite_storage.hpp"

namespace ctxmgr::sqlite {

sdk::Result<std::vector<sdk::ReceivedGrant>> SqliteStorage::received_grants(
    const sdk::ReceivedGrantsQuery& q) {
  try {
    auto slot = readers_.acquire();
    std::vector<sdk::ReceivedGrant> out;
    const bool after_owners = q.after_scope == sdk::GrantScope::context;
    std::string agent = q.agent_id;
    long long limit = q.limit;
    sdk::GrantRow g;
    std::string owner;
    long long at = 0;
    if (!after_owners) {
      std::string after = q.after_scope ? q.after_scope_id : std::string();
      soci::statement st =
          (slot->sql.prepare << "SELECT owner_id, permission, granted_by, granted_at FROM "
                                "owner_grants WHERE agent_id = :a AND owner_id > :after "
                                "ORDER BY owner_id LIMIT :lim",
           soci::into(g.scope_id), soci::into(g.permission), soci::into(g.granted_by),
           soci::into(at), soci::use(agent), soci::use(after), soci::use(limit));
      st.execute();
      while (st.fetch()) {
        g.agent_id = q.agent_id;
        g.granted_at_us = at;
        out.push_back({sdk::GrantScope::owner, g, g.scope_id});
      }
    }
    if (static_cast<long long>(out.size()) >= limit) return out;
    std::string after = after_owners ? q.after_scope_id : std::string();
    long long rest = limit - static_cast<long long>(out.size());
    soci::statement st =
        (slot->sql.prepare << "SELECT g.context_id, c.agent_id, g.permission, g.granted_by, "
                              "g.granted_at FROM context_grants g JOIN context c ON c.id = "
                              "g.context_id WHERE g.agent_id = :a AND g.context_id > :after AND "
                              "c.deleted = 0 ORDER BY g.context_id LIMIT :lim",
         soci::into(g.scope_id), soci::into(owner), soci::into(g.permission),
         soci::into(g.granted_by), soci::into(at), soci::use(agent), soci::use(after),
         soci::use(rest));
    st.execute();
    while (st.fetch()) {
      g.agent_id = q.agent_id;
      g.granted_at_us = at;
      out.push_back({sdk::GrantScope::context, g, owner});
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read received grants");
  }
}

}  // namespace ctxmgr::sqlite
