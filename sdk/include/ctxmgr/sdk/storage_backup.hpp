#pragma once
// The backup capability of a storage plugin (SDK ABI 1.2): every record of the store read in one
// consistent snapshot, and written back with its own ids into an empty store. The kernel owns the
// file format (docs/backup.md); a storage only reads and writes records.
//
// A storage class that also derives from StorageBackup gets CTXMGR_CAP_STORAGE_BACKUP in its
// descriptor from CTXMGR_PLUGIN. StorageBackup is a second base beside Storage (or
// StorageSearch), not a subclass of it, so a storage may have either capability without the other;
// the kernel reaches it with dynamic_cast, only when the bit is there.
//
// Thread-safety: export_all may run while other threads use the storage (that is its purpose);
// a RestoreTransaction is used by one thread and destroyed before the storage stops.

#include <cstdint>
#include <memory>
#include <string>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/plugin.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "ctxmgr/sdk/types.hpp"

namespace ctxmgr::sdk {

// One row of agent_tokens: a token, as its hash, and whose it is.
struct TokenRow {
  std::string agent_id;
  std::string token_hash;  // hex SHA-256
  std::int64_t created_at_us = 0;
};

// Receives the records of a store. export_all calls it table by table in this order, each table
// in its key order: agents, tokens, contexts, history (by context, version), context grants,
// owner grants, audit events (by seq), seals (by seq), selection records (by id); restoring in
// the same order satisfies every reference. A method that returns an error stops the export.
class CTXMGR_SDK_VISIBLE BackupSink {
 public:
  virtual ~BackupSink();
  BackupSink() = default;
  BackupSink(const BackupSink&) = delete;
  BackupSink& operator=(const BackupSink&) = delete;

  virtual Status agent(const AgentRow& row) = 0;
  virtual Status token(const TokenRow& row) = 0;
  virtual Status context(const ContextRow& row) = 0;
  virtual Status history(const HistoryRow& row) = 0;
  virtual Status grant(GrantScope scope, const GrantRow& row) = 0;
  virtual Status audit(const AuditEvent& event) = 0;  // with its seq
  virtual Status seal(const AuditSeal& seal) = 0;
  virtual Status selection(const SelectionRecord& record) = 0;  // with its id
};

// A write transaction that takes records as they were (their seq and ids included) and keeps
// the store's counters past them, so new events and selections continue the numbering. Nothing
// is visible before commit(); destroying it without commit() rolls everything back.
class CTXMGR_SDK_VISIBLE RestoreTransaction : public BackupSink {
 public:
  ~RestoreTransaction() override;
  // Empties every table, the append-only audit log and its seals included (`restore --replace`).
  virtual Status erase_all() = 0;
  virtual Status commit() = 0;
};

class CTXMGR_SDK_VISIBLE StorageBackup {
 public:
  virtual ~StorageBackup();
  StorageBackup() = default;
  StorageBackup(const StorageBackup&) = delete;
  StorageBackup& operator=(const StorageBackup&) = delete;

  // Reads every record in one read-only snapshot (writers go on; they are not in it) and hands
  // each to `sink` in BackupSink's order. Memory stays bounded whatever the store's size.
  virtual Status export_all(BackupSink& sink) = 0;
  // Whether the store holds no agent, context, audit event and selection record.
  virtual Result<bool> is_empty() = 0;
  // Begins a restore; it holds the store's write lock (SQLite) or its tables' (PostgreSQL) until
  // it ends.
  virtual Result<std::unique_ptr<RestoreTransaction>> begin_restore() = 0;
};

}  // namespace ctxmgr::sdk
