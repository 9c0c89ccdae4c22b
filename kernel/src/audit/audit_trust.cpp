#include "audit/audit_trust.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>

#include "json/json_text.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

std::string checkpoint_text(std::int64_t seq, const std::string& head) {
  return "ctxmgr-audit-checkpoint\n" + std::to_string(seq) + "\n" + head;
}

}  // namespace

std::string render_checkpoint(const Checkpoint& c) {
  return "{\"seq\":" + std::to_string(c.seq) + ",\"head\":" + json_quote(c.head) +
         ",\"key\":" + std::to_string(c.key_id) + ",\"mac\":" + json_quote(c.mac) + "}";
}

sdk::Result<Checkpoint> parse_checkpoint(std::string_view text) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(text, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* seq = o ? o->if_contains("seq") : nullptr;
  const auto* head = o ? o->if_contains("head") : nullptr;
  const auto* key = o ? o->if_contains("key") : nullptr;
  const auto* mac = o ? o->if_contains("mac") : nullptr;
  if (!seq || !seq->is_int64() || !head || !head->is_string() || !key || !key->is_int64() || !mac ||
      !mac->is_string()) {
    return Error(Errc::invalid_request,
                 "not an audit checkpoint: expected {\"seq\",\"head\",\"key\",\"mac\"}");
  }
  return Checkpoint{seq->get_int64(), std::string(head->get_string()),
                    static_cast<int>(key->get_int64()), std::string(mac->get_string())};
}

Checkpoint AuditTrust::sign(std::int64_t seq, const std::string& head) const {
  return Checkpoint{seq, head, keys.current_id(), keys.mac(checkpoint_text(seq, head))};
}

bool AuditTrust::authentic(const Checkpoint& c) const {
  const auto expected = keys.mac(c.key_id, checkpoint_text(c.seq, c.head));
  return expected && *expected == c.mac;
}

sdk::Result<std::optional<Checkpoint>> AuditTrust::read_checkpoint() const {
  if (checkpoint_file.empty() || !std::filesystem::exists(checkpoint_file)) {
    return std::optional<Checkpoint>();
  }
  std::ifstream in(checkpoint_file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return Error(Errc::unavailable, "cannot read " + checkpoint_file);
  auto c = parse_checkpoint(text.str());
  if (!c) return Error(Errc::invalid_request, checkpoint_file + ": " + c.error().message());
  if (!authentic(*c)) {
    return Error(Errc::invalid_request,
                 checkpoint_file +
                     " is not signed by any audit key this server has (forged, or "
                     "the key file is not the one that wrote it)");
  }
  return std::optional<Checkpoint>(*c);
}

sdk::Status AuditTrust::write_checkpoint(std::int64_t seq, const std::string& head) const {
  if (checkpoint_file.empty() || keys.empty()) return {};
  return write_private(checkpoint_file, render_checkpoint(sign(seq, head)) + "\n");
}

sdk::Result<AuditTrust> load_audit_trust(const AuditConfig& audit, const Environment& env,
                                         bool create) {
  AuditTrust trust;
  if (!audit.key_file.empty()) {
    auto keys = AuditKeys::load_file(audit.key_file, create);
    if (!keys) return keys.error();
    trust.keys = std::move(*keys);
  } else if (const auto text = env.get("CTXMGR_AUDIT_KEY"); text && !text->empty()) {
    auto keys = AuditKeys::parse_env(*text);
    if (!keys) return keys.error();
    trust.keys = std::move(*keys);
  }
  if (!audit.checkpoint_file.empty()) {
    trust.checkpoint_file = audit.checkpoint_file;
  } else if (!audit.key_file.empty()) {
    trust.checkpoint_file =
        (std::filesystem::path(audit.key_file).parent_path() / "audit.checkpoint").string();
  }
  if (!trust.checkpoint_file.empty() && trust.keys.empty()) {
    return Error(Errc::invalid_request,
                 "audit.checkpoint_file needs a key: set audit.key_file or CTXMGR_AUDIT_KEY");
  }
  return trust;
}

}  // namespace ctxmgr::kernel
