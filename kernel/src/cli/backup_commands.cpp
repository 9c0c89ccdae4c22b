// ctxmgr backup | restore — a consistent, portable snapshot of the whole store (docs/backup.md),
// to a file or to S3-compatible storage, and back into an empty store of either backend.

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "audit/audit_chain.hpp"
#include "backup/backup_file.hpp"
#include "backup/restore_check.hpp"
#include "backup/s3_client.hpp"
#include "cli/commands.hpp"
#include "cli/storage_session.hpp"
#include "json/json_text.hpp"
#include "plugin/host_impl.hpp"
#include "core/auth.hpp"
#include "core/ids.hpp"
#include "core/time_text.hpp"

namespace ctxmgr::kernel {

namespace {

namespace fs = std::filesystem;

// A private directory for a file on its way to or from S3; removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "ctxmgr-backup-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string file(const char* name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

std::string counts_json(const BackupCounts& counts) {
  std::string out;
  for (const auto& [type, n] : counts) {
    out += std::string(out.empty() ? "" : ",") + json_quote(type) + ":" + std::to_string(n);
  }
  return "{" + out + "}";
}

std::string counts_text(const BackupCounts& counts) {
  std::string out;
  for (const auto& [type, n] : counts) {
    out += std::string(out.empty() ? "" : ", ") + std::to_string(n) + " " + type;
  }
  return out.empty() ? "nothing" : out;
}

// Records the operation in the audit log as the admin, from the CLI.
sdk::Status audit_operation(sdk::Storage& storage, const std::string& action,
                            const std::string& details) {
  SystemClock clock;
  auto tx = storage.begin();
  if (!tx) return tx.error();
  sdk::AuditEvent ev;
  ev.at_us = clock.now_us();
  ev.agent_id = kAdminId;
  ev.action = action;
  ev.transport = "cli";
  ev.request_id = new_uuid_v7(ev.at_us / 1000);
  ev.details = details;
  if (auto seq = (*tx)->append_audit(ev); !seq) return seq.error();
  return (*tx)->commit();
}


// The object and the settings to reach it; the problem's text when either is wrong.
std::string s3_target(const std::string& url, const std::string& endpoint,
                      std::optional<S3Object>& object, std::optional<S3Settings>& s3) {
  auto o = parse_s3_url(url);
  if (!o) return o.error().message();
  auto settings = s3_settings_from_environment(endpoint);
  if (!settings) return settings.error().message();
  object = std::move(*o);
  s3 = std::move(*settings);
  return {};
}

sdk::StorageBackup* backup_capability(const StorageSession& session) {
  auto* b = session.registry->storage_backup();
  if (b == nullptr) {
    std::cerr << "ctxmgr: the storage plugin '"
              << session.registry->of_kind<sdk::Storage>(sdk::Kind::storage).at(0).first
              << "' cannot make or restore backups (it lacks the backup capability, SDK ABI 1.2)\n";
  }
  return b;
}

}  // namespace

int run_backup(const CommonOptions& opts, const BackupCommand& cmd) {
  if (cmd.out.empty() == cmd.to.empty()) {
    return fail("give exactly one of --out FILE and --to s3://bucket/key", kExitUsage);
  }
  // Everything that can be wrong with the destination is found before the store is read.
  std::optional<S3Object> object;
  std::optional<S3Settings> s3;
  if (!cmd.to.empty()) {
    if (auto bad = s3_target(cmd.to, cmd.endpoint, object, s3); !bad.empty()) {
      return fail(bad, kExitUsage);
    }
  }
  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  auto* backup = backup_capability(*session);
  if (backup == nullptr) return kExitFailure;
  auto schema = session->storage->schema_status();
  if (!schema) return fail(schema.error().message());

  ScratchDir scratch;
  if (object && !scratch.ok()) return fail("cannot create a temporary directory");
  const std::string path = object ? scratch.file("backup.jsonl.gz") : cmd.out;

  BackupHeader header;
  header.created_at = format_rfc3339_ms(SystemClock().now_us());
  header.ctxmgr_version = CTXMGR_VERSION_TEXT;
  header.storage = session->registry->of_kind<sdk::Storage>(sdk::Kind::storage).at(0).first;
  header.schema_current = schema->current;
  header.schema_applied = schema->applied;
  auto trust = load_audit_trust(session->boot.loaded.config.audit, *session->boot.env, true);
  if (!trust) return fail(trust.error().message(), kExitUsage);
  if (trust->keys.empty()) {
    std::cerr << "ctxmgr: warning: no audit key (audit.key_file, CTXMGR_AUDIT_KEY): the backup "
                 "is not signed, and restoring it will need --trust-unsigned\n";
  }
  auto writer = BackupWriter::create(path, header, &*trust);
  if (!writer) return fail(writer.error().message());
  if (auto s = backup->export_all(**writer); !s)
    return fail("backup failed: " + s.error().message());
  if (auto s = (*writer)->finish(); !s) return fail("backup failed: " + s.error().message());

  const std::string destination = object ? object->url() : fs::absolute(cmd.out).string();
  if (object) {
    if (auto s = s3_put_file(*s3, *object, path); !s) return fail(s.error().message());
  }
  const auto& counts = (*writer)->counts();
  if (auto s = audit_operation(*session->storage, "backup",
                               "{\"destination\":" + json_quote(destination) +
                                   ",\"counts\":" + counts_json(counts) + "}");
      !s) {
    std::cerr << "ctxmgr: warning: the backup is complete but could not be audited: "
              << s.error().message() << "\n";
  }
  std::cout << "backup of " << counts_text(counts) << " written to " << destination << "\n";
  return kExitOk;
}

int run_restore(const CommonOptions& opts, const RestoreCommand& cmd) {
  std::string path = cmd.source;
  std::optional<S3Object> object;
  std::optional<S3Settings> s3;
  if (cmd.source.starts_with("s3://")) {
    if (auto bad = s3_target(cmd.source, cmd.endpoint, object, s3); !bad.empty()) {
      return fail(bad, kExitUsage);
    }
  } else if (!fs::is_regular_file(cmd.source)) {
    return fail("no backup file " + cmd.source, kExitUsage);
  }

  auto session = open_storage(opts);
  if (session->exit_code != kExitOk) return session->exit_code;
  auto* backup = backup_capability(*session);
  if (backup == nullptr) return kExitFailure;
  // An empty store gets its schema first; a populated one must already be at the latest.
  if (auto applied = session->storage->migrate(); !applied) {
    return fail("migration failed: " + applied.error().message());
  }
  auto schema = session->storage->schema_status();
  if (!schema) return fail(schema.error().message());
  auto empty = backup->is_empty();
  if (!empty) return fail(empty.error().message());
  if (!*empty && !cmd.replace) {
    return fail(
        "the store is not empty; restore only into an empty store, or add --replace to erase "
        "everything in it (its audit log included) and put the backup in its place");
  }

  ScratchDir scratch;
  if (object) {
    if (!scratch.ok()) return fail("cannot create a temporary directory");
    path = scratch.file("backup.jsonl.gz");
    if (auto s = s3_get_file(*s3, *object, path); !s) return fail(s.error().message());
  }

  // The keys of this server check the backup's signature and the chain it carries.
  auto trust = load_audit_trust(session->boot.loaded.config.audit, *session->boot.env, true);
  if (!trust) return fail(trust.error().message(), kExitUsage);
  BackupHeader header;
  auto on_header = [&](const BackupHeader& h) -> sdk::Status {
    if (h.schema_current > schema->latest) {
      return sdk::Error(sdk::Errc::invalid_request,
                        "the backup comes from a newer schema (migration " +
                            std::to_string(h.schema_current) + ") than this ctxmgr knows (" +
                            std::to_string(schema->latest) + "); upgrade ctxmgr first");
    }
    header = h;
    return {};
  };
  std::optional<Checkpoint> checkpoint;
  const BackupAuthentication auth{&*trust, cmd.trust_unsigned, &checkpoint};
  // First pass: authenticate the file, check every record, collect the seals. Nothing is written.
  RestoreCheck first(trust->keys, nullptr, nullptr);
  if (auto counts = read_backup(path, on_header, first, auth); !counts) {
    return fail("nothing restored: " + counts.error().message());
  }
  if (auto st = first.finish(); !st) return fail("nothing restored: " + st.error().message());
  const auto& seals = first.seals();
  if (checkpoint) {
    const auto at = seals.find(checkpoint->seq);
    if (at == seals.end() || at->second != checkpoint->head) {
      return fail("nothing restored: the backup's seals disagree with its signed checkpoint");
    }
  }

  // Second pass, in one transaction: the same records, the chain recomputed as they go by.
  auto tx = backup->begin_restore();
  if (!tx) return fail(tx.error().message());
  if (!*empty) {
    if (auto s = (*tx)->erase_all(); !s) return fail(s.error().message());
  }
  RestoreCheck second(trust->keys, tx->get(), &seals);
  auto counts = read_backup(path, on_header, second, auth);
  if (!counts) return fail("nothing restored: " + counts.error().message());
  if (auto st = second.finish(); !st) return fail("nothing restored: " + st.error().message());
  if (auto s = (*tx)->commit(); !s) return fail("nothing restored: " + s.error().message());
  tx->reset();
  // This server's checkpoint now follows the restored chain.
  if (!seals.empty()) {
    if (auto st = trust->write_checkpoint(seals.rbegin()->first, seals.rbegin()->second); !st) {
      std::cerr << "ctxmgr: warning: " << st.error().message() << "\n";
    }
  }

  const std::string source = object ? object->url() : fs::absolute(cmd.source).string();
  if (auto s = audit_operation(
          *session->storage, "restore",
          "{\"source\":" + json_quote(source) + ",\"created_at\":" + json_quote(header.created_at) +
              ",\"from_storage\":" + json_quote(header.storage) + ",\"replaced\":" +
              (*empty ? "false" : "true") + ",\"counts\":" + counts_json(*counts) + "}");
      !s) {
    std::cerr << "ctxmgr: warning: restored, but the restore could not be audited: "
              << s.error().message() << "\n";
  }
  std::cout << "restored " << counts_text(*counts) << " from " << source << " (made "
            << header.created_at << " on " << header.storage << ")\n";
  auto report = verify_chain(*session->storage, *trust);
  if (!report) return fail(report.error().message());
  if (!report->ok) {
    std::cout << "audit chain BROKEN at seq " << *report->first_bad << ": " << report->reason
              << "\n";
    return kExitFailure;
  }
  std::cout << "audit chain verified: " << report->checked << " sealed event(s)\n";
  return kExitOk;
}

}  // namespace ctxmgr::kernel
