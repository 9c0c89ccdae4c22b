#pragma once
// Since ABI 1.4. The access-epoch capability of a storage: a number that moves whenever what
// authentication and access checks read changes — agents, their tokens, context and owner
// grants — by this process or by any other process on the same database. The kernel caches
// verified tokens, agent rows and grants in memory and drops them when the epoch moves, so a
// request needs no round trip to learn who its caller is (docs/security.md: The access cache).
// Like StorageRetention, a second base class beside Storage (CTXMGR_CAP_STORAGE_ACCESS_EPOCH).
//
// Contract: a change committed anywhere moves the epoch as seen by every process within one
// second of its commit. The value is opaque; only its changes mean something.
//
// Thread-safety: may be called from many threads at once, on every request: it does no I/O on
// the calling thread (a listener or poller of the plugin's own keeps it current).
// Errors: Errc::unavailable when the storage cannot vouch for the value right now (its listener
// lost its connection, its poller has not succeeded within the last second). The caller must then
// trust nothing it cached and read the store itself.

#include <cstdint>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sdk {

class CTXMGR_SDK_VISIBLE StorageAccessEpoch {
 public:
  virtual ~StorageAccessEpoch();
  StorageAccessEpoch() = default;
  StorageAccessEpoch(const StorageAccessEpoch&) = delete;
  StorageAccessEpoch& operator=(const StorageAccessEpoch&) = delete;

  virtual Result<std::uint64_t> access_epoch() = 0;
};

}  // namespace ctxmgr::sdk
