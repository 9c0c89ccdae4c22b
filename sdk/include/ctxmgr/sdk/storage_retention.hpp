#pragma once
// Since ABI 1.3. The retention capability of a storage: pruning its logs that only grow — the
// selection log by age, the audit log up to an anchor (docs/audit.md: Retention). Like
// StorageBackup, a second base class beside Storage (CTXMGR_CAP_STORAGE_RETENTION).
//
// Thread-safety: may be called while the storage serves; each prune is one transaction.
// Errors: as Storage's (unavailable when the database cannot be reached; nothing is deleted).

#include <cstdint>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

class CTXMGR_SDK_VISIBLE StorageRetention {
 public:
  virtual ~StorageRetention();
  StorageRetention() = default;
  StorageRetention(const StorageRetention&) = delete;
  StorageRetention& operator=(const StorageRetention&) = delete;

  // Deletes the selection records made before `before_us`; how many it deleted.
  virtual Result<std::int64_t> prune_selections(std::int64_t before_us) = 0;
  // In one transaction: deletes the audit events with seq below `anchor_seq` and their seals
  // (lifting the append-only guards for this transaction only), and appends `record`, the
  // prune's own event. The event and seal at `anchor_seq` stay: the chain is verified from them.
  // How many events it deleted.
  virtual Result<std::int64_t> prune_audit(std::int64_t anchor_seq, const AuditEvent& record) = 0;
};

}  // namespace ctxmgr::sdk
