// ContextService's redaction (docs/memory-tool.md: Redaction): a version's content erased in
// place, in one change with its audit event, its number, time and actor kept, with a SHA-256 of
// what was there; then the storage scrubs its files.

#include "core/access.hpp"
#include "core/request_parsing.hpp"
#include "core/sha256.hpp"
#include "core/time_text.hpp"
#include "json/json_text.hpp"
#include "log/logging.hpp"
#include "service/context_answers.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;

namespace {

// What a redacted version records in place of its metadata's values: {"sha256", "at", "by"}.
std::string redaction(const std::string& sha, std::int64_t at_us, const std::string& by) {
  return "{\"sha256\":" + json_quote(sha) + ",\"at\":" + json_quote(format_rfc3339_ms(at_us)) +
         ",\"by\":" + json_quote(by) + "}";
}

// Whether a version was redacted already: no data, and the redaction in its metadata.
bool is_redacted(const sdk::HistoryRow& h) {
  if (h.context_data != "{}") return false;
  auto meta = parse_json(h.metadata, 8);
  if (!meta || !meta->is_object()) return false;
  const auto* r = meta->get_object().if_contains("redacted");
  return r != nullptr && r->is_object();
}

}  // namespace

sdk::Result<ApiResponse> ContextService::redact_version(const sdk::Caller& caller,
                                                        std::string_view id_text,
                                                        std::string_view version_text) {
  return as_caller("redact", caller, [&](const Identity& who) -> sdk::Result<ApiResponse> {
    auto id = parse_context_id(id_text);
    if (!id) return id.error();
    auto version = parse_positive(version_text, "version");
    if (!version) return version.error();
    const std::int64_t v = *version;
    if (settings_.erasure == nullptr) {
      return Error(Errc::unavailable, "the configured storage cannot redact");
    }
    auto answer = [&](const std::string& redaction) {
      ApiResponse r;
      r.json = "{\"context_id\":" + json_quote(*id) + ",\"version\":" + std::to_string(v) +
               ",\"redacted\":" + redaction + "}";
      return r;
    };
    auto result = write(caller, who, "redact", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
      using R = sdk::Result<ApiResponse>;
      ev.context_id = *id;
      auto cur = tx.get_for_update(*id);
      if (!cur) return R(cur.error());
      if (!cur->has_value()) return R(not_found(*id));
      sdk::ContextRow row = std::move(**cur);
      auto access = access_of(access_, who, row);
      if (!access) return R(access.error());
      if (auto st = require(*access, Access::owner, *id, "redact"); !st) return R(st.error());
      if (v > row.version) {
        return R(Error(Errc::not_found, "context " + *id + " has no version " + std::to_string(v) +
                                            " (current: " + std::to_string(row.version) + ")"));
      }
      if (v == row.version && !row.deleted) {
        return R(Error(Errc::conflict,
                       "version " + std::to_string(v) +
                           " is the current one: update the context (or delete it) first, then "
                           "redact this version"));
      }
      // The row is locked: no one changes this context's versions meanwhile.
      auto old = storage_.get_version(*id, v);
      if (!old) return R(old.error());
      if (!*old)
        return R(Error(Errc::not_found, "context " + *id + " has no version " + std::to_string(v)));
      if (is_redacted(**old)) {
        return R(Error(Errc::conflict, "version " + std::to_string(v) + " is already redacted"));
      }
      const std::string sha = sha256_hex((*old)->context_data + "\n" + (*old)->metadata);
      const std::string redacted = redaction(sha, ev.at_us, who.agent_id);
      const std::string meta = "{\"redacted\":" + redacted + "}";
      auto changed = settings_.erasure->redact_version(tx, *id, v, "{}", meta);
      if (!changed) return R(changed.error());
      if (!*changed)
        return R(Error(Errc::not_found, "context " + *id + " has no version " + std::to_string(v)));
      if (row.deleted && v == row.version) {
        // A deleted context keeps its last content in its row too.
        row.context_data = "{}";
        row.metadata = meta;
        if (auto st = tx.update_context(row); !st) return R(st.error());
      }
      ev.details = "{\"version\":" + std::to_string(v) + ",\"sha256\":" + json_quote(sha) + "}";
      return R(answer(redacted));
    });
    if (result) {
      // Best effort: the redaction is committed whatever the scrub says.
      if (auto st = settings_.erasure->scrub(); !st) {
        kernel_log().warn("after redacting {} version {}: {}", *id, v, st.error().message());
      }
    }
    return result;
  });
}

}  // namespace ctxmgr::kernel
