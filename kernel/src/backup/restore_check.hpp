#pragma once
// What a restore checks before it commits anything (docs/backup.md): every invariant the API
// enforces (agent ids, roles, token hashes, grants, context ids, versions that have their
// history and no more), and the audit chain the backup carries, recomputed under this server's
// keys. A backup is read twice: the first pass collects the seals (RestoreCheck without a
// forward sink), the second recomputes the chain as the events go by and hands every record on
// to the restore transaction; finish() then says whether anything failed, before the commit.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "audit/audit_key.hpp"
#include "ctxmgr/sdk/storage_backup.hpp"

namespace ctxmgr::kernel {

class RestoreCheck final : public sdk::BackupSink {
 public:
  // First pass: `forward` null, collects the seals. Second pass: `seals` from the first.
  RestoreCheck(const AuditKeys& keys, sdk::BackupSink* forward,
               const std::map<std::int64_t, std::string>* seals);

  sdk::Status agent(const sdk::AgentRow& row) override;
  sdk::Status token(const sdk::TokenRow& row) override;
  sdk::Status context(const sdk::ContextRow& row) override;
  sdk::Status history(const sdk::HistoryRow& row) override;
  sdk::Status grant(sdk::GrantScope scope, const sdk::GrantRow& row) override;
  sdk::Status audit(const sdk::AuditEvent& event) override;
  sdk::Status seal(const sdk::AuditSeal& seal) override;
  sdk::Status selection(const sdk::SelectionRecord& record) override;

  // The checks that need the whole file: every context's history reaches its version, every
  // seal was matched by an event (second pass).
  sdk::Status finish() const;
  const std::map<std::int64_t, std::string>& seals() const { return collected_; }

 private:
  const AuditKeys& keys_;
  sdk::BackupSink* forward_;
  const std::map<std::int64_t, std::string>* seals_;
  std::map<std::int64_t, std::string> collected_;
  std::map<std::string, std::int64_t> agents_;    // id -> 1
  std::map<std::string, std::int64_t> versions_;  // context id -> version
  std::map<std::string, std::int64_t> history_;   // context id -> versions seen (1..n)
  std::int64_t last_event_ = 0;
  std::int64_t last_seal_ = 0;
  std::int64_t last_selection_ = 0;
  std::string prev_;  // the chain's hash after the last sealed event (second pass)
  bool keyed_seen_ = false;
  std::int64_t matched_ = 0;  // seals matched by an event (second pass)
  bool unsealed_seen_ = false;
};

}  // namespace ctxmgr::kernel
