#pragma once
// The agent registry of API.md: create (admin; answers the token once), list (admin), get (admin
// or the agent itself), token rotation (admin or itself; the old token stops at once), disable
// (admin; the agent stays for the audit trail, its tokens stop at once), and "who am I".
// Used by REST through ContextApi and by `ctxmgr agent ...` directly, as the admin.

#include <cstddef>

#include "core/auth.hpp"
#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_erasure.hpp"
#include "service/change.hpp"

namespace ctxmgr::kernel {

class AgentService {
 public:
  AgentService(sdk::Storage& storage, const sdk::Clock& clock, std::size_t max_json_depth)
      : storage_(storage), clock_(clock), max_json_depth_(max_json_depth) {}

  sdk::Result<sdk::ApiResponse> create(const Identity& who, const Actor& actor,
                                       std::string_view body);
  sdk::Result<sdk::ApiResponse> list(const Identity& who, const sdk::PageParams& page);
  sdk::Result<sdk::ApiResponse> get(const Identity& who, std::string_view agent_id);
  sdk::Result<sdk::ApiResponse> rotate_token(const Identity& who, const Actor& actor,
                                             std::string_view agent_id);
  sdk::Result<sdk::ApiResponse> disable(const Identity& who, const Actor& actor,
                                        std::string_view agent_id);
  sdk::Result<sdk::ApiResponse> me(const Identity& who, AuthMode mode);
  // Admin only: removes everything of the agent but its audit events (docs/memory-tool.md:
  // Erasure) in one change audited as agent.erase, disables its row and clears its name, and
  // answers the report of what was removed. `erased` gets the context ids (for caches).
  sdk::Result<sdk::ApiResponse> erase(const Identity& who, const Actor& actor,
                                      std::string_view agent_id, sdk::StorageErasure& erasure,
                                      std::vector<std::string>* erased = nullptr);

 private:
  sdk::Storage& storage_;
  const sdk::Clock& clock_;
  std::size_t max_json_depth_;
};

std::string render_agent(const sdk::AgentRow& agent);

}  // namespace ctxmgr::kernel
