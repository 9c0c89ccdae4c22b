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

// The metadata a redacted version keeps: {"redacted": {"sha256", "at", "by"}}.
std::string redacted_metadata(const std::string& sha, std::int64_t at_us, const std::string& by) {
  return "{\"redacted\":{\"sha256\":" + json_quote(sha) +
         ",\"at\":" + json_quote(format_rfc3339_ms(at_us)) + ",\"by\":" + json_quote(by) + "}}";
}

// The redaction already made to a version, or empty.
std::string redaction_of(const sdk::HistoryRow& h) {
  auto meta = parse_json(h.metadata, 8);
  if (!meta || !meta->is_object()) return {};
  const auto* r = meta->get_object().if_contains("redacted");
  if (r == nullptr || !r->is_object() || h.context_data != "{}") return {};
  return to_json(*r);
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
    std::string done;  // the redaction made, for the answer
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
      if (auto already = redaction_of(**old); !already.empty()) {
        return R(Error(Errc::conflict, "version " + std::to_string(v) + " is already redacted"));
      }
      const std::string sha = sha256_hex((*old)->context_data + "\n" + (*old)->metadata);
      const std::string meta = redacted_metadata(sha, ev.at_us, who.agent_id);
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
      done = to_json(parse_json(meta, 8)->get_object().at("redacted"));
      return R(answer(done));
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
