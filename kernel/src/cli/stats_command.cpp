// ctxmgr stats — the seed's monitoring queries (contexts per agent, latest accesses, totals).

#include <iostream>

#include "cli/commands.hpp"
#include "cli/storage_session.hpp"
#include "core/audit_render.hpp"
#include "core/time_text.hpp"

namespace ctxmgr::kernel {

int run_stats(const CommonOptions& opts, bool as_json) {
  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  auto st = session->storage->stats();
  sdk::AuditQuery recent;
  recent.limit = 10;
  auto events = st ? session->storage->audit(recent) : sdk::Result<std::vector<sdk::AuditEvent>>(st.error());
  if (!st || !events) {
    std::cerr << "ctxmgr: " << (st ? events.error() : st.error()).message() << "\n";
    return kExitFailure;
  }
  if (as_json) {
    std::cout << render_stats(*st, *events) << "\n";
    return kExitOk;
  }
  std::cout << "contexts: " << st->contexts << " (deleted: " << st->deleted
            << "), versions: " << st->versions << ", agents: " << st->agents
            << ", audit events: " << st->audit_events << "\n\ncontexts per agent:\n";
  for (const auto& [agent, n] : st->contexts_per_agent) std::cout << "  " << agent << "\t" << n << "\n";
  std::cout << "\nlatest accesses:\n";
  for (const auto& e : *events) {
    std::cout << "  " << e.seq << "\t" << format_rfc3339_ms(e.at_us) << "\t" << e.agent_id << "\t"
              << e.action << "\t" << e.context_id << "\n";
  }
  return kExitOk;
}

}  // namespace ctxmgr::kernel
