#pragma once
// The keys of the audit chain: HMAC-SHA256 keys kept outside the database, so that whoever can
// write the database (a DBA, a stolen database password, a restored dump) cannot recompute the
// chain over events they changed (docs/audit.md).
//
// Where they come from: `audit.key_file`, a text file of lines "<id> <64 hex digits>" ('#'
// comments), the last line being the key that seals new events and the others kept to verify
// what they sealed; made with one new key (mode 0600, folder 0700) when missing, and refused when
// other users may read it. Or $CTXMGR_AUDIT_KEY, "<id>:<hex>[,<id>:<hex>...]", the last current.
//
// Thread-safety: immutable after load; may be shared by threads.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

// Writes `text` to `path` through a file beside it (mode 0600 whatever the umask, fsynced, then
// renamed over `path`), creating a missing folder 0700: the key file and the checkpoint.
sdk::Status write_private(const std::string& path, const std::string& text);

// An HMAC-SHA256 computed over data given in pieces (a backup file, line by line).
class MacStream {
 public:
  MacStream(const std::string& key);
  ~MacStream();
  MacStream(MacStream&&) noexcept;
  MacStream& operator=(MacStream&&) noexcept;
  void update(std::string_view data);
  std::string final_hex();  // once

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class AuditKeys {
 public:
  // No keys: the chain is unkeyed (plain SHA-256, as before ABI 1.3's hardening).
  AuditKeys() = default;

  // Reads the key file, creating it with one new key when `create` and it does not exist.
  static sdk::Result<AuditKeys> load_file(const std::string& path, bool create);
  // Parses $CTXMGR_AUDIT_KEY's form.
  static sdk::Result<AuditKeys> parse_env(std::string_view text);
  // Appends a new current key to the file (0600); returns its id.
  static sdk::Result<int> rotate_file(const std::string& path);

  bool empty() const { return keys_.empty(); }
  int current_id() const { return current_; }
  // HMAC-SHA256 of `data` under key `id`, hex; nullopt when this set lacks that key.
  std::optional<std::string> mac(int id, std::string_view data) const;
  // Under the current key.
  std::string mac(std::string_view data) const { return *mac(current_, data); }
  // A MAC over pieces under key `id` (which must be in the set).
  MacStream stream(int id) const { return MacStream(keys_.at(id)); }
  // The ids of every key in the set.
  std::vector<int> ids() const;

 private:
  std::map<int, std::string> keys_;  // id -> raw key bytes
  int current_ = 0;
};

}  // namespace ctxmgr::kernel
