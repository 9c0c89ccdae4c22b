#pragma once
// The JSON of audit events and of GET /api/stats (also printed by the CLI).

#include <string>
#include <vector>

#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::kernel {

std::string render_event(const sdk::AuditEvent& event);
std::string render_stats(const sdk::StoreStats& stats, const std::vector<sdk::AuditEvent>& recent);

}  // namespace ctxmgr::kernel
