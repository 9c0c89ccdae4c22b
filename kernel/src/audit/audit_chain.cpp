#include "audit/audit_chain.hpp"

#include "json/json_text.hpp"
#include "log/logging.hpp"
#include "service/sha256.hpp"

namespace ctxmgr::kernel {

std::string canonical_event(const sdk::AuditEvent& e) {
  return "[" + std::to_string(e.seq) + "," + std::to_string(e.at_us) + "," +
         json_quote(e.agent_id) + "," + json_quote(e.action) + "," + json_quote(e.context_id) +
         "," + json_quote(e.transport) + "," + json_quote(e.request_id) + "," +
         json_quote(e.details) + "]";
}

std::string chain_hash(std::string_view previous, const sdk::AuditEvent& event) {
  std::string input(previous);
  input += '\n';
  input += canonical_event(event);
  return sha256_hex(input);
}

sdk::Result<std::int64_t> seal_pending(sdk::Storage& storage, std::int64_t batch) {
  auto tx = storage.begin();
  if (!tx) return tx.error();
  auto last = (*tx)->last_seal();  // takes the sealing lock
  if (!last) return last.error();
  const std::int64_t after = *last ? (*last)->seq : 0;
  std::string prev = *last ? (*last)->hash : std::string();
  // Nothing new: stop before the horizon, which on PostgreSQL briefly holds every writer.
  auto probe = storage.audit_range(after, INT64_MAX, 1);
  if (!probe) return probe.error();
  if (probe->empty()) return std::int64_t{0};
  auto horizon = storage.audit_horizon();
  if (!horizon) return horizon.error();
  if (*horizon <= after) return std::int64_t{0};
  auto events = storage.audit_range(after, *horizon, batch);
  if (!events) return events.error();
  std::vector<sdk::AuditSeal> seals;
  seals.reserve(events->size());
  for (const auto& e : *events) {
    prev = chain_hash(prev, e);
    seals.push_back({e.seq, prev});
  }
  if (auto st = (*tx)->append_seals(seals); !st) return st.error();
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(seals.size());
}

sdk::Result<VerifyReport> verify_chain(sdk::Storage& storage) {
  VerifyReport report;
  std::string prev;
  std::int64_t after = 0;
  constexpr std::int64_t kPage = 1000;
  auto bad = [&](std::int64_t seq, std::string why) {
    report.ok = false;
    report.first_bad = seq;
    report.reason = std::move(why);
    return report;
  };
  for (;;) {
    auto seals = storage.seals(after, kPage);
    if (!seals) return seals.error();
    if (seals->empty()) break;
    const std::int64_t through = seals->back().seq;
    // Every event of the window, so that one inserted between two seals is seen too.
    auto events = storage.audit_range(after, through, 2 * kPage + 1);
    if (!events) return events.error();
    std::size_t e = 0;
    for (const auto& seal : *seals) {
      if (e < events->size() && (*events)[e].seq < seal.seq) {
        return bad((*events)[e].seq, "event is not in the chain (inserted after sealing?)");
      }
      if (e >= events->size() || (*events)[e].seq != seal.seq) {
        return bad(seal.seq, "sealed event is missing (deleted?)");
      }
      if (chain_hash(prev, (*events)[e]) != seal.hash) {
        return bad(seal.seq, "event differs from what was sealed (changed or reordered?)");
      }
      prev = seal.hash;
      ++e;
      ++report.checked;
      report.sealed_through = seal.seq;
    }
    after = through;
  }
  return report;
}

std::string render_verify(const VerifyReport& r) {
  std::string out = std::string("{\"ok\":") + (r.ok ? "true" : "false") +
                    ",\"checked\":" + std::to_string(r.checked) +
                    ",\"sealed_through\":" + std::to_string(r.sealed_through);
  if (r.first_bad) {
    out += ",\"first_bad\":" + std::to_string(*r.first_bad) + ",\"reason\":" + json_quote(r.reason);
  }
  return out + "}";
}

AuditSealer::AuditSealer(sdk::Storage& storage, std::chrono::milliseconds interval,
                         sdk::Metrics& metrics)
    : storage_(storage), metrics_(metrics), worker_(interval, [this] { seal_all(); }) {}

void AuditSealer::seal_all() {
  // Until caught up: a burst may exceed one batch.
  for (;;) {
    auto sealed = seal_pending(storage_, 5000);
    if (!sealed) {
      metrics_.counter_add("ctxmgr_audit_seal_failures_total", "", 1);
      kernel_log().warn("audit sealing failed (will retry): {}", sealed.error().message());
      return;
    }
    metrics_.counter_add("ctxmgr_audit_sealed_events_total", "", static_cast<double>(*sealed));
    if (*sealed < 5000) {
      metrics_.gauge_set(
          "ctxmgr_audit_last_seal_timestamp_seconds", "",
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count());
      return;
    }
  }
}

}  // namespace ctxmgr::kernel
