#pragma once
// Since ABI 1.4. Group commit: the kernel runs changes that arrive together in one transaction
// with one commit (one fsync), each change between a mark and, if it fails, an undo to that mark,
// so that one failing change neither fails nor undoes the others (docs/architecture.md: Group
// commit). Like StorageRetention, a second base class beside Storage (CTXMGR_CAP_STORAGE_BATCH).
//
// Thread-safety: as Transaction's (one thread at a time); begin_batch from any thread.
// Errors: as Storage's. After a failed mark or undo_to_mark the transaction is unusable: the
// kernel destroys it (rolling everything back) and fails every change of the batch — or, when
// that failure came before the commit and the store is reachable, runs each once more alone. A
// storage that holds writes (Transaction's paragraph) may learn that an earlier change's write
// failed only from a later change's call: no undo takes back that change alone, so undo_to_mark
// must then fail rather than undo to an older mark.

#include <cstdint>
#include <memory>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

class CTXMGR_SDK_VISIBLE BatchTransaction : public Transaction {
 public:
  ~BatchTransaction() override;
  BatchTransaction() = default;

  // Marks the point undo_to_mark() returns to (a savepoint); a new mark replaces the last one.
  virtual Status mark() = 0;
  // Undoes every write since the last mark; the transaction stays usable.
  virtual Status undo_to_mark() = 0;
  // Appends many events with one statement; the seqs they were given, in order.
  virtual Result<std::vector<std::int64_t>> append_audits(
      const std::vector<AuditEvent>& events) = 0;
};

class CTXMGR_SDK_VISIBLE StorageBatch {
 public:
  virtual ~StorageBatch();
  StorageBatch() = default;
  StorageBatch(const StorageBatch&) = delete;
  StorageBatch& operator=(const StorageBatch&) = delete;

  // Begins a write transaction for a batch (as Storage::begin, with marks).
  virtual Result<std::unique_ptr<BatchTransaction>> begin_batch() = 0;
};

}  // namespace ctxmgr::sdk
