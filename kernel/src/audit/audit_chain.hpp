#pragma once
// The tamper evidence of the audit log. Events are sealed in seq order into a chain:
//   hash(n) = "k<id>:" hex HMAC-SHA256(key id, hash(n-1) + "\n" + canonical(event n))
// with the current key of AuditKeys (kept outside the database), hash before the first = "";
// seals made without a key (before keys existed, or with none configured) are the plain
// hex SHA-256 of the same input, and may only come before keyed ones. canonical(event) is the
// JSON array [seq, at_us, agent_id, action, context_id, transport, request_id, details] written by
// the kernel's JSON writer (details as stored). Sealing runs apart from the writes (a background
// thread, in batches), so no write waits on the chain. The sealer first checks the chain it
// extends against the signed checkpoint (audit_trust.hpp) and refuses to seal over a break;
// verification recomputes the whole chain, compares it with the checkpoint, and names the first
// link that does not hold. docs/audit.md says what this proves and against whom.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "audit/audit_trust.hpp"
#include "audit/periodic.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"

namespace ctxmgr::kernel {

std::string canonical_event(const sdk::AuditEvent& event);
// The link after `previous` for `event`: keyed with the current key, plain without keys.
std::string chain_hash(const AuditKeys& keys, std::string_view previous,
                       const sdk::AuditEvent& event);
// Why `stored` is not the link after `previous` for `event` (nullopt: it is). `keyed_seen`: a
// keyed seal came before, so a plain one here is a rewrite.
std::optional<std::string> link_error(const AuditKeys& keys, std::string_view previous,
                                      const sdk::AuditEvent& event, std::string_view stored,
                                      bool keyed_seen);

// Seals the committed events after the last seal, at most `batch` of them, once the chain it
// extends agrees with the checkpoint; then moves the checkpoint. How many it sealed; an error
// whose message starts with "audit chain broken" when it refused to seal over a break.
sdk::Result<std::int64_t> seal_pending(sdk::Storage& storage, const AuditTrust& trust,
                                       std::int64_t batch);

struct VerifyReport {
  bool ok = true;
  std::int64_t checked = 0;                    // links recomputed
  std::int64_t sealed_through = 0;             // seq of the last seal
  std::int64_t keyed_from = 0;                 // seq of the first keyed seal (0: none)
  std::optional<std::int64_t> checkpoint_seq;  // the checkpoint compared with, if any
  std::optional<std::int64_t> anchor_seq;      // where a prune left the chain starting
  std::optional<std::int64_t> first_bad;
  std::string reason;  // why first_bad is bad
};

sdk::Result<VerifyReport> verify_chain(sdk::Storage& storage, const AuditTrust& trust);

// Retention (docs/audit.md): a prune deletes the events before an anchor — a sealed event whose
// seal stays — and records itself as an `audit.prune` event naming the anchor's seq and hash.
// Sealed into the keyed chain, that event is what lets verify start from the anchor.
inline constexpr std::string_view kPruneAction = "audit.prune";
struct AuditAnchor {
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t record_seq = 0;  // the prune event's own seq
};
// The anchor named by the newest prune event, if any.
sdk::Result<std::optional<AuditAnchor>> current_anchor(sdk::Storage& storage);
std::string render_verify(const VerifyReport& report);

// Seals in the background every `interval` until stopped.
class AuditSealer {
 public:
  // Counts what it seals (ctxmgr_audit_sealed_events_total), stamps every pass that caught up
  // (ctxmgr_audit_last_seal_timestamp_seconds: time() minus it is the sealing lag), and raises
  // ctxmgr_audit_chain_broken to 1 (with an error line) while it refuses to seal over a break.
  AuditSealer(sdk::Storage& storage, const AuditTrust& trust, std::chrono::milliseconds interval,
              sdk::Metrics& metrics);
  void start() { worker_.start(); }
  void stop() { worker_.stop(); }  // seals what is pending once more, then joins

 private:
  void seal_all();

  sdk::Storage& storage_;
  const AuditTrust& trust_;
  sdk::Metrics& metrics_;
  Periodic worker_;
};

}  // namespace ctxmgr::kernel
