#pragma once
// Sharing: grants of one context or of all of an owner's contexts, for `read` or `write`.
// Only the owner or an admin may share or take back (a write grantee may not: 403). In token
// mode the grantee must be a registered agent (404 otherwise). Granting again replaces the
// permission (200 instead of 201). Each grant and revocation is audited in its transaction.
// What an agent received is listed for that agent or an admin (403 otherwise).

#include "core/auth.hpp"
#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "service/change.hpp"

namespace ctxmgr::kernel {

class GrantService {
 public:
  // `received` null: the store cannot list what an agent received (503).
  GrantService(AccessCache& access, Writer& writer, const sdk::Clock& clock, AuthMode mode,
               std::size_t max_json_depth, sdk::StorageReceivedGrants* received)
      : access_(access),
        writer_(writer),
        storage_(access.storage()),
        received_(received),
        clock_(clock),
        mode_(mode),
        max_json_depth_(max_json_depth) {}

  sdk::Result<sdk::ApiResponse> put(const Identity& who, const Actor& actor, sdk::GrantScope scope,
                                    std::string_view scope_id, std::string_view body);
  sdk::Result<sdk::ApiResponse> list(const Identity& who, sdk::GrantScope scope,
                                     std::string_view scope_id);
  sdk::Result<sdk::ApiResponse> remove(const Identity& who, const Actor& actor,
                                       sdk::GrantScope scope, std::string_view scope_id,
                                       std::string_view agent_id);
  // GET /api/agent/{id}/received-grants: owner grants first, then context grants of live
  // contexts, paged (`page.cursor` as the previous page gave it).
  sdk::Result<sdk::ApiResponse> received(const Identity& who, std::string_view agent_id,
                                         const sdk::PageParams& page);

 private:
  // The canonical scope id, after checking that `who` may manage its grants.
  sdk::Result<std::string> manageable(const Identity& who, sdk::GrantScope scope,
                                      std::string_view scope_id);

  AccessCache& access_;
  Writer& writer_;
  sdk::Storage& storage_;
  sdk::StorageReceivedGrants* received_;
  const sdk::Clock& clock_;
  AuthMode mode_;
  std::size_t max_json_depth_;
};

}  // namespace ctxmgr::kernel
