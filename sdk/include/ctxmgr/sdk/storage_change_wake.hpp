#pragma once
// Since ABI 1.11. The change-wake capability of a storage: it calls the kernel back when another
// process (another server on the same database) may have committed a change to contexts or
// grants, so the change feed looks at the audit log at once instead of at its next poll
// (docs/events.md). A hint only: the audit log stays the truth, and a wake that never comes
// costs one poll interval. A second base class beside Storage (CTXMGR_CAP_STORAGE_CHANGE_WAKE).
//
// Thread-safety: set_change_wake may be called from any thread; `wake` is called from the
// storage's own thread, must not block, and is never called after set_change_wake({}) returned.

#include <algorithm>
#include <functional>
#include <iterator>
#include <string_view>

#include "ctxmgr/sdk/abi.h"

namespace ctxmgr::sdk {

// The audit actions the change feed carries, in the order docs/events.md lists them: the kernel
// filters the feed by them, and a storage that tells other servers of its commits need only tell
// of a transaction that holds one. Header-only: no symbol, no layout.
inline constexpr std::string_view kFeedActions[] = {"create", "update", "delete", "purge",
                                                    "revert", "redact", "grant",  "revoke"};
inline bool is_feed_action(std::string_view action) {
  return std::find(std::begin(kFeedActions), std::end(kFeedActions), action) !=
         std::end(kFeedActions);
}

class CTXMGR_SDK_VISIBLE StorageChangeWake {
 public:
  virtual ~StorageChangeWake();
  StorageChangeWake() = default;
  StorageChangeWake(const StorageChangeWake&) = delete;
  StorageChangeWake& operator=(const StorageChangeWake&) = delete;

  // Replaces the function called on a change; an empty one stops the calls.
  virtual void set_change_wake(std::function<void()> wake) = 0;
};

}  // namespace ctxmgr::sdk
