// ctxmgr audit prune | selections prune — retention of the logs that only grow (docs/audit.md:
// Retention). The audit log is pruned only below a sealed anchor of a chain that verifies, and the
// prune is itself an audited, sealed event, so verify tells a pruned head from a cut one.

#include <iostream>

#include "audit/audit_chain.hpp"
#include "cli/commands.hpp"
#include "cli/storage_session.hpp"
#include "json/json_text.hpp"
#include "plugin/host_impl.hpp"
#include "core/auth.hpp"
#include "core/ids.hpp"
#include "core/time_text.hpp"

namespace ctxmgr::kernel {

namespace {

// What both prunes start from: the time, the store and its retention capability.
struct Prune {
  std::int64_t before_us = 0;
  std::unique_ptr<StorageSession> session;
  sdk::StorageRetention* retention = nullptr;
  int exit_code = kExitOk;  // else: why it cannot go on (already said)
};

Prune open_prune(const CommonOptions& opts, const std::string& before) {
  Prune p;
  const auto us = parse_rfc3339(before);
  if (!us) {
    p.exit_code =
        fail("--before: expected an RFC 3339 time, e.g. 2026-01-01T00:00:00Z", kExitUsage);
    return p;
  }
  p.before_us = *us;
  p.session = open_storage(opts);
  if (p.session->exit_code != kExitOk) {
    p.exit_code = p.session->exit_code;
    return p;
  }
  p.retention = p.session->registry->storage_retention();
  if (p.retention == nullptr) p.exit_code = fail("this storage plugin cannot prune (ABI 1.3)");
  return p;
}

// Seals everything committed; false (after saying why) when the chain is broken.
bool seal_all(sdk::Storage& storage, const AuditTrust& trust) {
  for (;;) {
    auto sealed = seal_pending(storage, trust, 5000);
    if (!sealed) {
      std::cerr << "ctxmgr: " << sealed.error().message() << "\n";
      return false;
    }
    if (*sealed < 5000) return true;
  }
}

}  // namespace

int run_audit_prune(const CommonOptions& opts, const std::string& before) {
  auto p = open_prune(opts, before);
  if (p.exit_code != kExitOk) return p.exit_code;
  auto& session = p.session;
  auto trust = load_audit_trust(session->boot.loaded.config.audit, *session->boot.env, true);
  if (!trust) return fail(trust.error().message(), kExitUsage);
  auto& storage = *session->storage;
  // Only a whole, sealed, verified chain is pruned: never cover a break up.
  if (!seal_all(storage, *trust)) return kExitFailure;
  auto report = verify_chain(storage, *trust);
  if (!report) return fail(report.error().message());
  if (!report->ok) {
    return fail("the audit chain is broken at seq " + std::to_string(*report->first_bad) + " (" +
                report->reason + "); not pruning");
  }
  // The anchor: the newest sealed event before the time. It and everything after stay.
  sdk::AuditQuery q;
  q.until_us = p.before_us;
  q.limit = 1;
  auto newest = storage.audit(q);
  if (!newest) return fail(newest.error().message());
  if (newest->empty()) {
    std::cout << "nothing to prune: no event before " << before << "\n";
    return kExitOk;
  }
  const std::int64_t anchor = newest->front().seq;
  auto seal = storage.seals(anchor - 1, 1);
  if (!seal) return fail(seal.error().message());
  if (seal->empty() || seal->front().seq != anchor) {
    return fail("event " + std::to_string(anchor) + " is not sealed; not pruning");
  }
  SystemClock clock;
  sdk::AuditEvent record;
  record.at_us = clock.now_us();
  record.agent_id = kAdminId;
  record.action = std::string(kPruneAction);
  record.transport = "cli";
  record.request_id = new_uuid_v7(record.at_us / 1000);
  record.details = "{\"anchor_seq\":" + std::to_string(anchor) +
                   ",\"anchor_hash\":" + json_quote(seal->front().hash) +
                   ",\"before\":" + json_quote(before) + "}";
  auto deleted = p.retention->prune_audit(anchor, record);
  if (!deleted) return fail("nothing pruned: " + deleted.error().message());
  // Seal the prune's own event at once: verify starts from the anchor only when it is sealed.
  if (!seal_all(storage, *trust)) return kExitFailure;
  auto after = verify_chain(storage, *trust);
  if (!after) return fail(after.error().message());
  std::cout << "pruned " << *deleted << " audit event(s) before seq " << anchor
            << "; the chain now starts at seq " << anchor << " and "
            << (after->ok ? "verifies" : "does NOT verify: " + after->reason) << "\n";
  return after->ok ? kExitOk : kExitFailure;
}

int run_selections_prune(const CommonOptions& opts, const std::string& before) {
  auto p = open_prune(opts, before);
  if (p.exit_code != kExitOk) return p.exit_code;
  auto deleted = p.retention->prune_selections(p.before_us);
  if (!deleted) return fail("nothing pruned: " + deleted.error().message());
  std::cout << "pruned " << *deleted << " selection record(s) made before " << before << "\n";
  return kExitOk;
}

}  // namespace ctxmgr::kernel
