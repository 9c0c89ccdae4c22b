#pragma once
// Since ABI 1.13. The grants an agent received, whoever gave them: what has been shared with it,
// one context at a time or every context of an owner (API.md: Grants; the console's agent page).
// Storage::grants answers the other way round, by the context or owner that was shared. A second
// base class beside Storage (CTXMGR_CAP_STORAGE_RECEIVED_GRANTS).
//
// Thread-safety: as Storage. Errors: as Storage's reads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

// One grant received: `grant.scope_id` is the context id (scope context) or the owner's agent id
// (scope owner); `owner` is the agent whose contexts it shares (for scope owner, scope_id again).
struct ReceivedGrant {
  GrantScope scope = GrantScope::owner;
  GrantRow grant;
  std::string owner;
};

// A page of them: owner grants first, then context grants, each in scope_id order.
struct ReceivedGrantsQuery {
  std::string agent_id;  // the grantee
  // Strictly after this grant in that order, when given (a page's last row).
  std::optional<GrantScope> after_scope;
  std::string after_scope_id;
  std::int64_t limit = 50;
};

class CTXMGR_SDK_VISIBLE StorageReceivedGrants {
 public:
  virtual ~StorageReceivedGrants();
  StorageReceivedGrants() = default;
  StorageReceivedGrants(const StorageReceivedGrants&) = delete;
  StorageReceivedGrants& operator=(const StorageReceivedGrants&) = delete;

  // Grants of contexts that are soft-deleted are left out: they give nothing while the context
  // is deleted.
  virtual Result<std::vector<ReceivedGrant>> received_grants(const ReceivedGrantsQuery& q) = 0;
};

}  // namespace ctxmgr::sdk
