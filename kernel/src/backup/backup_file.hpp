#pragma once
// The backup file (docs/backup.md): gzip-compressed JSON Lines. The first line is the header,
// then one line per record in the order storage_backup.hpp defines (agents, tokens, contexts,
// history, grants, audit events, seals, selection records), then a trailer with the count of each
// type. Everything a storage holds crosses as text exactly as stored (JSON documents as JSON
// strings), so a restore writes back the same bytes and the audit chain verifies on any backend.
// With an audit key, the trailer also carries the signed checkpoint of the last seal and a MAC
// ("mac": "k<id>:<hex>", HMAC-SHA256 under that audit key) over every byte before it and the
// trailer without the MAC, so a backup changed after it was written is refused.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "audit/audit_trust.hpp"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage_backup.hpp"

namespace ctxmgr::kernel {

inline constexpr const char* kBackupFormat = "ctxmgr-backup";
inline constexpr std::int64_t kBackupFormatVersion = 1;

struct BackupHeader {
  std::int64_t format_version = kBackupFormatVersion;
  std::string created_at;           // RFC 3339
  std::string ctxmgr_version;       // of the writer
  std::string storage;              // the plugin it came from, e.g. "sqlite"
  std::int64_t schema_current = 0;  // the source's highest applied migration
  std::string schema_applied;       // "00_base, 01_immutable_log, ..."
};

// Records per type ("agent", "token", "context", "history", "grant", "audit", "seal",
// "selection").
using BackupCounts = std::map<std::string, std::int64_t>;

// Writes a backup: a BackupSink that storage export_all() fills. The file appears under its name
// only when finish() succeeds (written beside it first, fsynced, renamed), with mode 0600: it holds
// every context and the token hashes.
class BackupWriter final : public sdk::BackupSink {
 public:
  // `trust` (may be null or keyless: an unsigned backup) signs it; it outlives the writer.
  static sdk::Result<std::unique_ptr<BackupWriter>> create(const std::string& path,
                                                           const BackupHeader& header,
                                                           const AuditTrust* trust = nullptr);
  ~BackupWriter() override;  // removes the partial file unless finish() succeeded

  sdk::Status agent(const sdk::AgentRow& row) override;
  sdk::Status token(const sdk::TokenRow& row) override;
  sdk::Status context(const sdk::ContextRow& row) override;
  sdk::Status history(const sdk::HistoryRow& row) override;
  sdk::Status grant(sdk::GrantScope scope, const sdk::GrantRow& row) override;
  sdk::Status audit(const sdk::AuditEvent& event) override;
  sdk::Status seal(const sdk::AuditSeal& seal) override;
  sdk::Status selection(const sdk::SelectionRecord& record) override;

  sdk::Status finish();
  const BackupCounts& counts() const { return counts_; }

 private:
  struct File;
  BackupWriter(std::string path, std::unique_ptr<File> file);
  sdk::Status line(const char* type, std::string&& fields);

  std::string path_;
  std::unique_ptr<File> file_;
  BackupCounts counts_;
  bool finished_ = false;
};

// How a backup's signature is checked on reading.
struct BackupAuthentication {
  const AuditTrust* trust = nullptr;  // its keys check the MAC and the checkpoint
  bool trust_unsigned = false;        // accept a backup without a MAC a key here can check
  std::optional<Checkpoint>* checkpoint = nullptr;  // out: the trailer's checkpoint, if any
};

// Reads a backup, checks every line (JSON, fields and their types, JSON documents, record order,
// the trailer's counts and MAC) and hands the records to `sink` in order; `on_header` sees the
// header first and may refuse it. An error names the line; a file cut short, corrupted (gzip
// CRC), without its trailer, unsigned (unless `auth.trust_unsigned`) or whose MAC does not match
// is refused, so a caller that writes in one transaction writes nothing.
sdk::Result<BackupCounts> read_backup(
    const std::string& path, const std::function<sdk::Status(const BackupHeader&)>& on_header,
    sdk::BackupSink& sink, const BackupAuthentication& auth = {});

}  // namespace ctxmgr::kernel
