#pragma once
// Since ABI 1.5. The context-change capability of a storage: which contexts changed (updated,
// deleted, purged), by this process or by any other process on the same database, so the kernel
// may keep read contexts in memory and drop each one when it changes (docs/storage-postgres.md:
// The context cache). Like StorageAccessEpoch, a second base class beside Storage
// (CTXMGR_CAP_STORAGE_CONTEXT_CHANGES).
//
// Contract: an answer reports every change committed anywhere before the call began (the call
// may wait for one round trip to the database to be sure of it), so a cache that applies each
// answer before it looks anything up never serves what was changed before the read arrived —
// not even by another server. A caller keeps the `cursor` of each answer and passes it to the
// next call; the first call passes 0. An answer that is not `complete` means changes after the
// caller's cursor may have been missed (a reconnect, more changes than the plugin keeps): the
// caller must then drop everything it cached.
//
// Thread-safety: may be called from many threads at once, on every request; callers that arrive
// together share the round trip, and an answer with no change allocates nothing.
// Errors: Errc::unavailable when the storage cannot vouch for the answer right now (its listener
// lost its connection). The caller must then trust nothing it cached and read the store itself.

#include <cstdint>
#include <string>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sdk {

struct ContextChanges {
  std::uint64_t cursor = 0;      // pass it to the next call
  bool complete = true;          // false: changes may have been missed; drop everything cached
  std::vector<std::string> ids;  // contexts changed since the caller's cursor (repeats possible)
};

class CTXMGR_SDK_VISIBLE StorageContextChanges {
 public:
  virtual ~StorageContextChanges();
  StorageContextChanges() = default;
  StorageContextChanges(const StorageContextChanges&) = delete;
  StorageContextChanges& operator=(const StorageContextChanges&) = delete;

  virtual Result<ContextChanges> context_changes_since(std::uint64_t cursor) = 0;
};

}  // namespace ctxmgr::sdk
