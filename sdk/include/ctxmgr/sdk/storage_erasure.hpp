#pragma once
// Since ABI 1.10. The erasure capability of a storage: a version's content redacted in place, so
// that a secret written into a context can be made to disappear while the version's number, time
// and actor stay (docs/memory-tool.md: Redaction). A second base class beside Storage
// (CTXMGR_CAP_STORAGE_ERASURE).
//
// Thread-safety: as Storage. Errors: as Transaction's.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage.hpp"

namespace ctxmgr::sdk {

// What erase_agent removed.
struct AgentErasure {
  std::vector<std::string> context_ids;  // the agent's contexts, live and deleted
  std::int64_t versions = 0;             // their history rows
  std::int64_t vectors = 0;
  std::int64_t selections = 0;  // selection records of the agent (queries and results)
  std::int64_t tokens = 0;
  std::int64_t grants = 0;  // on its contexts, by it as owner, and to it
};

class CTXMGR_SDK_VISIBLE StorageErasure {
 public:
  virtual ~StorageErasure();
  StorageErasure() = default;
  StorageErasure(const StorageErasure&) = delete;
  StorageErasure& operator=(const StorageErasure&) = delete;

  // Within `tx` (a transaction this storage began): version `version` of context `id` gets
  // `context_data` and `metadata` instead of what it held, and the vector made from that version,
  // if any, is dropped. The caller writes the new texts (empty data, a metadata that records the
  // redaction); the number, action, actor and time of the version stay. false: no such version.
  virtual Result<bool> redact_version(Transaction& tx, std::string_view id, std::int64_t version,
                                      std::string_view context_data, std::string_view metadata) = 0;
  // Within `tx`: removes every context the agent owns (live or deleted) with every version,
  // vector and grant on it, the owner grants it gave and every grant it was given, its
  // selection records and its tokens. The agent's row and the audit log stay (the caller
  // disables the row and clears its name).
  virtual Result<AgentErasure> erase_agent(Transaction& tx, std::string_view agent_id) = 0;
  // After a redaction or an erasure committed: makes what was erased unrecoverable from the
  // storage's own files as far as the storage can (SQLite: freed space zeroed, the write-ahead log
  // truncated, the full-text index rewritten without it). Slow on a large store; called rarely.
  virtual Status scrub() = 0;
};

}  // namespace ctxmgr::sdk
