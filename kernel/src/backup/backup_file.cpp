#include "backup/backup_file.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "json/json_text.hpp"

namespace ctxmgr::kernel {

namespace {

namespace json = boost::json;

// The order of record types in a file; a type may not come back after a later one.
constexpr std::array<const char*, 8> kOrder = {"agent", "token", "context", "history",
                                               "grant", "audit", "seal",    "selection"};

// The longest line a reader accepts: far above any context the server takes (max_body_bytes).
constexpr std::size_t kMaxLine = std::size_t{256} << 20;

sdk::Error io_error(const std::string& what, const std::string& path) {
  return sdk::Error(sdk::Errc::internal, what + " " + path + ": " + std::strerror(errno));
}

std::string field(const char* name, std::string_view text) {
  return std::string(",\"") + name + "\":" + json_quote(text);
}
std::string field(const char* name, std::int64_t v) {
  return std::string(",\"") + name + "\":" + std::to_string(v);
}
std::string flag(const char* name, bool v) {
  return std::string(",\"") + name + "\":" + (v ? "true" : "false");
}

}  // namespace

struct BackupWriter::File {
  gzFile gz = nullptr;
  int fd_for_sync = -1;
  std::string partial;  // the name it is written under until finish()
  const AuditTrust* trust = nullptr;
  std::optional<MacStream> mac;  // over every byte written, when signed
  std::optional<sdk::AuditSeal> last_seal;
};

sdk::Result<std::unique_ptr<BackupWriter>> BackupWriter::create(const std::string& path,
                                                                const BackupHeader& h,
                                                                const AuditTrust* trust) {
  auto file = std::make_unique<File>();
  if (trust != nullptr && !trust->keys.empty()) {
    file->trust = trust;
    file->mac.emplace(trust->keys.stream(trust->keys.current_id()));
  }
  file->partial = path + ".partial";
  // O_EXCL: never write through a name someone else prepared (a symlink, another run's file).
  std::filesystem::remove(file->partial);
  const int fd = ::open(file->partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot create", file->partial);
  file->fd_for_sync = ::dup(fd);
  file->gz = gzdopen(fd, "wb6");
  if (file->gz == nullptr) {
    ::close(fd);
    return io_error("cannot compress into", file->partial);
  }
  gzbuffer(file->gz, 1 << 17);
  std::unique_ptr<BackupWriter> w(new BackupWriter(path, std::move(file)));
  std::string header =
      std::string("{\"format\":") + json_quote(kBackupFormat) +
      field("format_version", h.format_version) + field("created_at", h.created_at) +
      field("ctxmgr_version", h.ctxmgr_version) + field("storage", h.storage) +
      field("schema_current", h.schema_current) + field("schema_applied", h.schema_applied) + "}\n";
  if (gzwrite(w->file_->gz, header.data(), static_cast<unsigned>(header.size())) <= 0) {
    return io_error("cannot write", w->file_->partial);
  }
  if (w->file_->mac) w->file_->mac->update(header);
  return w;
}

BackupWriter::BackupWriter(std::string path, std::unique_ptr<File> file)
    : path_(std::move(path)), file_(std::move(file)) {}

BackupWriter::~BackupWriter() {
  if (file_->gz != nullptr) gzclose(file_->gz);
  if (file_->fd_for_sync >= 0) ::close(file_->fd_for_sync);
  if (!finished_) std::filesystem::remove(file_->partial);
}

sdk::Status BackupWriter::line(const char* type, std::string&& fields) {
  ++counts_[type];
  std::string text = std::string("{\"type\":\"") + type + "\"" + fields + "}\n";
  if (gzwrite(file_->gz, text.data(), static_cast<unsigned>(text.size())) <= 0) {
    return io_error("cannot write", file_->partial);
  }
  if (file_->mac) file_->mac->update(text);
  return {};
}

sdk::Status BackupWriter::agent(const sdk::AgentRow& r) {
  return line("agent", field("agent_id", r.agent_id) + field("display_name", r.display_name) +
                           field("role", r.role) + field("created_at_us", r.created_at_us) +
                           flag("disabled", r.disabled));
}

sdk::Status BackupWriter::token(const sdk::TokenRow& r) {
  return line("token", field("agent_id", r.agent_id) + field("token_hash", r.token_hash) +
                           field("created_at_us", r.created_at_us));
}

sdk::Status BackupWriter::context(const sdk::ContextRow& r) {
  return line("context", field("id", r.id) + field("agent_id", r.agent_id) +
                             field("context_data", r.context_data) + field("metadata", r.metadata) +
                             field("version", r.version) + field("created_at_us", r.created_at_us) +
                             field("updated_at_us", r.updated_at_us) +
                             field("created_by", r.created_by) + field("updated_by", r.updated_by) +
                             flag("deleted", r.deleted));
}

sdk::Status BackupWriter::history(const sdk::HistoryRow& r) {
  return line("history", field("context_id", r.context_id) + field("version", r.version) +
                             field("action", r.action) + field("agent_id", r.agent_id) +
                             field("at_us", r.at_us) + field("context_data", r.context_data) +
                             field("metadata", r.metadata));
}

sdk::Status BackupWriter::grant(sdk::GrantScope scope, const sdk::GrantRow& r) {
  return line("grant", field("scope", scope == sdk::GrantScope::context ? "context" : "owner") +
                           field("scope_id", r.scope_id) + field("agent_id", r.agent_id) +
                           field("permission", r.permission) + field("granted_by", r.granted_by) +
                           field("granted_at_us", r.granted_at_us));
}

sdk::Status BackupWriter::audit(const sdk::AuditEvent& e) {
  return line("audit", field("seq", e.seq) + field("at_us", e.at_us) +
                           field("agent_id", e.agent_id) + field("action", e.action) +
                           field("context_id", e.context_id) + field("transport", e.transport) +
                           field("request_id", e.request_id) + field("details", e.details));
}

sdk::Status BackupWriter::seal(const sdk::AuditSeal& s) {
  file_->last_seal = s;
  return line("seal", field("seq", s.seq) + field("hash", s.hash));
}

sdk::Status BackupWriter::selection(const sdk::SelectionRecord& r) {
  return line("selection", field("id", r.id) + field("at_us", r.at_us) +
                               field("agent_id", r.agent_id) + field("query", r.query) +
                               field("selector", r.selector) + field("params", r.params) +
                               field("results", r.results));
}

sdk::Status BackupWriter::finish() {
  std::string counts;
  for (const char* type : kOrder) {
    counts += std::string(counts.empty() ? "" : ",") + "\"" + type +
              "\":" + std::to_string(counts_[type]);
  }
  std::string trailer = "{\"type\":\"end\",\"counts\":{" + counts + "}";
  if (file_->mac) {
    if (file_->last_seal) {
      trailer += ",\"checkpoint\":" + render_checkpoint(file_->trust->sign(file_->last_seal->seq,
                                                                           file_->last_seal->hash));
    }
    // The MAC covers every line before and this trailer without it.
    file_->mac->update(trailer + "}");
    trailer += ",\"mac\":\"k" + std::to_string(file_->trust->keys.current_id()) + ":" +
               file_->mac->final_hex() + "\"";
  }
  trailer += "}\n";
  if (gzwrite(file_->gz, trailer.data(), static_cast<unsigned>(trailer.size())) <= 0) {
    return io_error("cannot write", file_->partial);
  }
  const int rc = gzclose(file_->gz);
  file_->gz = nullptr;
  if (rc != Z_OK) return io_error("cannot finish", file_->partial);
  if (::fsync(file_->fd_for_sync) != 0) return io_error("cannot sync", file_->partial);
  if (std::rename(file_->partial.c_str(), path_.c_str()) != 0) {
    return io_error("cannot rename to", path_);
  }
  // The rename itself must reach the disk too.
  const auto dir = std::filesystem::absolute(path_).parent_path();
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  finished_ = true;
  return {};
}

namespace {

// Reads the fields of one record, remembering the first problem.
class Fields {
 public:
  Fields(const json::object& o, std::string type) : o_(o), type_(std::move(type)) {}

  std::string text(const char* name) {
    const auto* v = o_.if_contains(name);
    if (v == nullptr || !v->is_string()) {
      fail(name, "must be a string");
      return {};
    }
    return std::string(v->as_string());
  }
  // A string holding a JSON document of the given kind (object or array).
  std::string document(const char* name, bool array) {
    std::string t = text(name);
    if (!error_.empty()) return t;
    boost::system::error_code ec;
    const auto v = json::parse(t, ec);
    if (ec || (array ? !v.is_array() : !v.is_object())) {
      fail(name, array ? "must hold a JSON array" : "must hold a JSON object");
    }
    return t;
  }
  std::int64_t integer(const char* name) {
    const auto* v = o_.if_contains(name);
    if (v == nullptr || !v->is_int64()) {
      if (v != nullptr && v->is_uint64()) {
        fail(name, "is out of range");
      } else {
        fail(name, "must be an integer");
      }
      return 0;
    }
    return v->as_int64();
  }
  bool boolean(const char* name) {
    const auto* v = o_.if_contains(name);
    if (v == nullptr || !v->is_bool()) {
      fail(name, "must be true or false");
      return false;
    }
    return v->as_bool();
  }
  const std::string& error() const { return error_; }

 private:
  void fail(const char* name, const char* why) {
    if (error_.empty()) error_ = type_ + ": field \"" + name + "\" " + why;
  }
  const json::object& o_;
  std::string type_;
  std::string error_;
};

sdk::Error bad(std::int64_t line, const std::string& why) {
  return sdk::Error(sdk::Errc::invalid_request, "backup line " + std::to_string(line) + ": " + why);
}

// Hands one record to the sink; the error text is the problem with the record.
sdk::Status deliver(const std::string& type, const json::object& o, sdk::BackupSink& sink,
                    std::string& problem) {
  Fields f(o, type);
  auto checked = [&](auto&& call) -> sdk::Status {
    if (!f.error().empty()) {
      problem = f.error();
      return {};
    }
    return call();
  };
  if (type == "agent") {
    sdk::AgentRow r{f.text("agent_id"), f.text("display_name"), f.text("role"),
                    f.integer("created_at_us"), f.boolean("disabled")};
    return checked([&] { return sink.agent(r); });
  }
  if (type == "token") {
    sdk::TokenRow r{f.text("agent_id"), f.text("token_hash"), f.integer("created_at_us")};
    return checked([&] { return sink.token(r); });
  }
  if (type == "context") {
    sdk::ContextRow r{f.text("id"),
                      f.text("agent_id"),
                      f.document("context_data", false),
                      f.document("metadata", false),
                      f.integer("version"),
                      f.integer("created_at_us"),
                      f.integer("updated_at_us"),
                      f.text("created_by"),
                      f.text("updated_by"),
                      f.boolean("deleted")};
    return checked([&] { return sink.context(r); });
  }
  if (type == "history") {
    sdk::HistoryRow r{
        f.text("context_id"),         f.integer("version"), f.text("action"),
        f.text("agent_id"),           f.integer("at_us"),   f.document("context_data", false),
        f.document("metadata", false)};
    return checked([&] { return sink.history(r); });
  }
  if (type == "grant") {
    const std::string scope = f.text("scope");
    if (f.error().empty() && scope != "context" && scope != "owner") {
      problem = "grant: field \"scope\" must be \"context\" or \"owner\"";
      return {};
    }
    sdk::GrantRow r{f.text("scope_id"), f.text("agent_id"), f.text("permission"),
                    f.text("granted_by"), f.integer("granted_at_us")};
    return checked([&] {
      return sink.grant(scope == "context" ? sdk::GrantScope::context : sdk::GrantScope::owner, r);
    });
  }
  if (type == "audit") {
    sdk::AuditEvent e{f.integer("seq"),     f.integer("at_us"),          f.text("agent_id"),
                      f.text("action"),     f.text("context_id"),        f.text("transport"),
                      f.text("request_id"), f.document("details", false)};
    return checked([&] { return sink.audit(e); });
  }
  if (type == "seal") {
    sdk::AuditSeal s{f.integer("seq"), f.text("hash")};
    return checked([&] { return sink.seal(s); });
  }
  sdk::SelectionRecord r{
      f.integer("id"),    f.integer("at_us"),          f.text("agent_id"),         f.text("query"),
      f.text("selector"), f.document("params", false), f.document("results", true)};
  return checked([&] { return sink.selection(r); });
}

sdk::Result<BackupHeader> parse_header(const json::object& o) {
  const auto* format = o.if_contains("format");
  if (format == nullptr || !format->is_string() || format->as_string() != kBackupFormat) {
    return bad(1, "not a ctxmgr backup (no \"format\": \"ctxmgr-backup\" header)");
  }
  Fields f(o, "header");
  BackupHeader h;
  h.format_version = f.integer("format_version");
  h.created_at = f.text("created_at");
  h.ctxmgr_version = f.text("ctxmgr_version");
  h.storage = f.text("storage");
  h.schema_current = f.integer("schema_current");
  h.schema_applied = f.text("schema_applied");
  if (!f.error().empty()) return bad(1, f.error());
  if (h.format_version != kBackupFormatVersion) {
    return bad(1, "format version " + std::to_string(h.format_version) +
                      " is not one this ctxmgr reads (it reads " +
                      std::to_string(kBackupFormatVersion) + ")");
  }
  return h;
}

}  // namespace

namespace {

// Checks the trailer's MAC (`line` is the trailer as read) against the streams of every key.
sdk::Status check_signature(const std::string& line, const json::object& trailer,
                            std::map<int, MacStream>& streams, const BackupAuthentication& auth,
                            std::int64_t number) {
  constexpr std::string_view kMac = ",\"mac\":\"";
  const auto at = line.rfind(kMac);
  const auto* mac = trailer.if_contains("mac");
  if (mac == nullptr || !mac->is_string() || at == std::string::npos) {
    if (auth.trust_unsigned) return {};
    return bad(number,
               "the backup is not signed (made without an audit key, or by a ctxmgr "
               "before 0.1's hardening); restore it with --trust-unsigned only if you "
               "trust where it came from");
  }
  const std::string value(mac->as_string());
  int id = 0;
  const auto colon = value.find(':');
  const auto [p, ec] = std::from_chars(value.data() + 1, value.data() + value.size(), id);
  if (!value.starts_with('k') || colon == std::string::npos || ec != std::errc() ||
      p != value.data() + colon) {
    return bad(number, "end: \"mac\" is not k<id>:<hex>");
  }
  auto stream = streams.find(id);
  if (stream == streams.end()) {
    if (auth.trust_unsigned) return {};
    return bad(number, "the backup is signed with audit key " + std::to_string(id) +
                           ", which this ctxmgr does not have (use the key file of the server "
                           "that made it, or --trust-unsigned)");
  }
  stream->second.update(line.substr(0, at) + "}");
  if (stream->second.final_hex() != value.substr(colon + 1)) {
    return bad(number,
               "the backup's signature does not match its contents (changed after it "
               "was written)");
  }
  return {};
}

}  // namespace

sdk::Result<BackupCounts> read_backup(
    const std::string& path, const std::function<sdk::Status(const BackupHeader&)>& on_header,
    sdk::BackupSink& sink, const BackupAuthentication& auth) {
  // One MAC per key this ctxmgr has: the trailer says which key signed.
  std::map<int, MacStream> streams;
  if (auth.trust != nullptr) {
    for (int id : auth.trust->keys.ids()) streams.emplace(id, auth.trust->keys.stream(id));
  }
  auto signed_line = [&](const std::string& text) {
    for (auto& [id, stream] : streams) {
      stream.update(text);
      stream.update("\n");
    }
  };
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(path.c_str(), "rb"), gzclose);
  if (!gz) return io_error("cannot open", path);
  gzbuffer(gz.get(), 1 << 17);
  std::string pending;
  std::array<char, 1 << 16> chunk{};
  bool at_eof = false;
  // The next line without its newline, or nullopt at the end of the stream.
  auto next_line = [&]() -> sdk::Result<std::optional<std::string>> {
    for (;;) {
      if (const auto nl = pending.find('\n'); nl != std::string::npos) {
        std::string l = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        return std::optional<std::string>(std::move(l));
      }
      if (at_eof) {
        if (pending.empty()) return std::optional<std::string>();
        return std::optional<std::string>(std::exchange(pending, {}));
      }
      if (pending.size() > kMaxLine) {
        return sdk::Error(sdk::Errc::invalid_request, "backup has a line longer than 256 MiB");
      }
      const int n = gzread(gz.get(), chunk.data(), static_cast<unsigned>(chunk.size()));
      if (n < 0 || (n == 0 && gzeof(gz.get()) == 0)) {
        int code = 0;
        const char* msg = gzerror(gz.get(), &code);
        return sdk::Error(sdk::Errc::invalid_request, std::string("backup is damaged: ") +
                                                          (msg != nullptr ? msg : "read error"));
      }
      if (gzdirect(gz.get()) != 0) {
        return sdk::Error(sdk::Errc::invalid_request,
                          "not a ctxmgr backup (the file is not gzip-compressed)");
      }
      if (n == 0) {
        // zlib reports a stream cut short only here, as Z_BUF_ERROR.
        int code = Z_OK;
        gzerror(gz.get(), &code);
        if (code != Z_OK) {
          return sdk::Error(sdk::Errc::invalid_request,
                            "backup is damaged: the compressed stream ends early");
        }
        at_eof = true;
        continue;
      }
      pending.append(chunk.data(), static_cast<std::size_t>(n));
    }
  };

  std::int64_t number = 0;
  auto parse_line = [&](const std::string& text) -> sdk::Result<json::object> {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return bad(number, "not a JSON object");
    return std::move(v.as_object());
  };

  auto first = next_line();
  if (!first) return first.error();
  ++number;
  if (!*first) return bad(1, "the file is empty");
  auto header_obj = parse_line(**first);
  if (!header_obj) return header_obj.error();
  signed_line(**first);
  auto header = parse_header(*header_obj);
  if (!header) return header.error();
  if (auto s = on_header(*header); !s) return s.error();

  BackupCounts counts;
  std::size_t stage = 0;
  for (;;) {
    auto l = next_line();
    if (!l) return l.error();
    ++number;
    if (!*l) return bad(number - 1, "the backup ends without its trailer (cut short?)");
    auto obj = parse_line(**l);
    if (!obj) return obj.error();
    const auto* type_v = obj->if_contains("type");
    if (type_v == nullptr || !type_v->is_string()) return bad(number, "no \"type\"");
    const std::string type(type_v->as_string());
    if (type == "end") {
      const auto* c = obj->if_contains("counts");
      if (c == nullptr || !c->is_object()) return bad(number, "end: no \"counts\"");
      for (const char* t : kOrder) {
        const auto* n = c->as_object().if_contains(t);
        if (n == nullptr || !n->is_int64() || n->as_int64() != counts[t]) {
          return bad(number, std::string("end: the file holds ") + std::to_string(counts[t]) + " " +
                                 t + " record(s), the trailer says otherwise");
        }
      }
      if (auto more = next_line(); !more || *more) {
        return bad(number + 1, "data after the trailer");
      }
      if (auto st = check_signature(**l, *obj, streams, auth, number); !st) return st.error();
      if (const auto* cp = obj->if_contains("checkpoint"); cp != nullptr && auth.checkpoint) {
        auto parsed = parse_checkpoint(json::serialize(*cp));
        if (!parsed) return bad(number, "end: " + parsed.error().message());
        if (auth.trust == nullptr || !auth.trust->authentic(*parsed)) {
          if (!auth.trust_unsigned)
            return bad(number, "end: the checkpoint is not signed by a key here");
        } else {
          *auth.checkpoint = *parsed;
        }
      }
      return counts;
    }
    std::size_t at = 0;
    while (at < kOrder.size() && type != kOrder[at]) ++at;
    if (at == kOrder.size()) return bad(number, "unknown record type \"" + type + "\"");
    if (at < stage) {
      return bad(number, "a " + type + " record after the " + kOrder[stage] +
                             " records (records must come in the documented order)");
    }
    stage = at;
    signed_line(**l);
    std::string problem;
    auto s = deliver(type, *obj, sink, problem);
    if (!problem.empty()) return bad(number, problem);
    if (!s) {
      // The storage's own error (a conflict, an unreachable database) keeps its code.
      return sdk::Error(s.error().code(),
                        "backup line " + std::to_string(number) + ": " + s.error().message());
    }
    ++counts[type];
  }
}

}  // namespace ctxmgr::kernel
