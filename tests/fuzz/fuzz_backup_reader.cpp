// The backup reader on fuzzed files. The first byte chooses: the bytes as the file (gzip framing,
// damage, truncation), or the bytes gzip-compressed first (the JSON Lines, record checks, order,
// trailer).
#include <unistd.h>
#include <zlib.h>

#include <string>

#include "backup/backup_file.hpp"

namespace {

class CountingSink final : public ctxmgr::sdk::BackupSink {
 public:
  using S = ctxmgr::sdk::Status;
  S agent(const ctxmgr::sdk::AgentRow&) override { return {}; }
  S token(const ctxmgr::sdk::TokenRow&) override { return {}; }
  S context(const ctxmgr::sdk::ContextRow&) override { return {}; }
  S history(const ctxmgr::sdk::HistoryRow&) override { return {}; }
  S grant(ctxmgr::sdk::GrantScope, const ctxmgr::sdk::GrantRow&) override { return {}; }
  S audit(const ctxmgr::sdk::AuditEvent&) override { return {}; }
  S seal(const ctxmgr::sdk::AuditSeal&) override { return {}; }
  S selection(const ctxmgr::sdk::SelectionRecord&) override { return {}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::string path = "/tmp/ctxmgr-fuzz-backup-" + std::to_string(::getpid());
  const bool compress = data[0] % 2 == 1;
  if (compress) {
    gzFile gz = gzopen(path.c_str(), "wb1");
    if (size > 1) gzwrite(gz, data + 1, static_cast<unsigned>(size - 1));
    gzclose(gz);
  } else {
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(data + 1, 1, size - 1, f);
    std::fclose(f);
  }
  CountingSink sink;
  // Unsigned files are let through to the end, so the trailer's checks are explored too.
  ctxmgr::kernel::BackupAuthentication auth;
  auth.trust_unsigned = true;
  (void)ctxmgr::kernel::read_backup(
      path, [](const ctxmgr::kernel::BackupHeader&) { return ctxmgr::sdk::Status{}; }, sink, auth);
  return 0;
}
