#pragma once
// The tamper evidence of the audit log. Events are sealed in seq order into a SHA-256 chain:
//   hash(n) = sha256(hash(n-1) + "\n" + canonical(event n)),   hash before the first = ""
// where canonical(event) is the JSON array
//   [seq, at_us, agent_id, action, context_id, transport, request_id, details]
// written by the kernel's JSON writer (details as stored). Sealing runs apart from the writes
// (a background thread, in batches), so no write waits on the chain; verification recomputes it
// and names the first link that does not hold.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "audit/periodic.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"

namespace ctxmgr::kernel {

std::string canonical_event(const sdk::AuditEvent& event);
std::string chain_hash(std::string_view previous, const sdk::AuditEvent& event);

// Seals the committed events after the last seal, at most `batch` of them; how many it sealed.
sdk::Result<std::int64_t> seal_pending(sdk::Storage& storage, std::int64_t batch);

struct VerifyReport {
  bool ok = true;
  std::int64_t checked = 0;         // links recomputed
  std::int64_t sealed_through = 0;  // seq of the last seal
  std::optional<std::int64_t> first_bad;
  std::string reason;  // why first_bad is bad
};

sdk::Result<VerifyReport> verify_chain(sdk::Storage& storage);
std::string render_verify(const VerifyReport& report);

// Seals in the background every `interval` until stopped.
class AuditSealer {
 public:
  // Counts what it seals (ctxmgr_audit_sealed_events_total) and stamps every pass that caught up
  // (ctxmgr_audit_last_seal_timestamp_seconds: time() minus it is the sealing lag).
  AuditSealer(sdk::Storage& storage, std::chrono::milliseconds interval, sdk::Metrics& metrics);
  void start() { worker_.start(); }
  void stop() { worker_.stop(); }  // seals what is pending once more, then joins

 private:
  void seal_all();

  sdk::Storage& storage_;
  sdk::Metrics& metrics_;
  Periodic worker_;
};

}  // namespace ctxmgr::kernel
