#pragma once
// What the audit chain is checked against, from outside the database: the keys (audit_key.hpp)
// and the signed checkpoint — the latest sealed seq and the chain's head there — kept in a file
// beside the key file (or `audit.checkpoint_file`) and in every backup. A database writer who cuts
// the tail of the log, wipes it, or deletes seals to have the server re-seal edited events cannot
// move the checkpoint back: `audit verify` and the sealer compare the chain with it.

#include <cstdint>
#include <optional>
#include <string>

#include "audit/audit_key.hpp"
#include "config/config.hpp"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

struct Checkpoint {
  std::int64_t seq = 0;
  std::string head;  // the seal's hash at seq
  int key_id = 0;
  std::string mac;  // HMAC of "ctxmgr-audit-checkpoint\n<seq>\n<head>" under key_id
};

struct AuditTrust {
  AuditKeys keys;               // empty: the chain is unkeyed
  std::string checkpoint_file;  // empty: no checkpoint

  // The checkpoint, when the file exists; an error when it does not verify under the keys.
  sdk::Result<std::optional<Checkpoint>> read_checkpoint() const;
  // Signs and writes one (0600, fsynced, renamed over the old one). No-op without a file.
  sdk::Status write_checkpoint(std::int64_t seq, const std::string& head) const;
  Checkpoint sign(std::int64_t seq, const std::string& head) const;
  // Whether a checkpoint's MAC holds under these keys.
  bool authentic(const Checkpoint& c) const;
};

// The trust of this config: keys from audit.key_file (made when missing and `create`) or
// $CTXMGR_AUDIT_KEY, else none; the checkpoint beside the key file unless configured.
sdk::Result<AuditTrust> load_audit_trust(const AuditConfig& audit, const Environment& env,
                                         bool create);

std::string render_checkpoint(const Checkpoint& c);
sdk::Result<Checkpoint> parse_checkpoint(std::string_view text);

}  // namespace ctxmgr::kernel
