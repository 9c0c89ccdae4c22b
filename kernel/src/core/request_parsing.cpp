#include "core/request_parsing.hpp"

#include "core/ids.hpp"
#include "core/time_text.hpp"
#include "json/json_text.hpp"
#include "memory/memory_path.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;
namespace json = boost::json;

namespace {
Error invalid(std::string message) { return invalid_request(std::move(message)); }

// U+0000 is refused everywhere: PostgreSQL's text and JSONB cannot hold it, and one rule for every
// backend beats a document that some backends keep and others cannot.
bool has_nul(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return v.get_string().find('\0') != json::string::npos;
    case json::kind::array:
      for (const auto& item : v.get_array()) {
        if (has_nul(item)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (kv.key().find('\0') != json::string_view::npos || has_nul(kv.value())) return true;
      }
      return false;
    default:
      return false;
  }
}
}  // namespace

sdk::Result<json::object> parse_body_object(std::string_view body, std::size_t max_depth,
                                            std::initializer_list<std::string_view> allowed) {
  auto v = parse_json(body, max_depth);
  if (!v) return v.error();
  if (!v->is_object()) return invalid("body must be a JSON object");
  if (has_nul(*v)) return invalid("strings must not contain U+0000 (\\u0000)");
  for (const auto& kv : v->get_object()) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return invalid("unknown field '" + std::string(kv.key()) + "'; allowed: " + list);
    }
  }
  return std::move(v->get_object());
}

sdk::Result<std::string> parse_context_id(std::string_view id) {
  auto c = canonical_uuid(id);
  if (!c) return invalid("context id must be a UUID (8-4-4-4-12 hex digits)");
  return *c;
}

sdk::Result<std::string> parse_agent_id(std::string_view id, std::string_view field) {
  if (!valid_agent_id(id)) {
    return invalid(std::string(field) + " must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$");
  }
  return std::string(id);
}

sdk::Status validate_metadata(const json::value& metadata) {
  if (!metadata.is_object()) return invalid("metadata must be a JSON object");
  const auto& m = metadata.get_object();
  if (const auto* p = m.if_contains("priority")) {
    if (!p->is_string() ||
        (p->get_string() != "high" && p->get_string() != "medium" && p->get_string() != "low")) {
      return invalid("metadata.priority must be one of high, medium, low");
    }
  }
  if (const auto* t = m.if_contains("tags")) {
    if (!t->is_array()) return invalid("metadata.tags must be an array of strings");
    for (const auto& tag : t->get_array()) {
      if (!tag.is_string()) return invalid("metadata.tags must be an array of strings");
    }
  }
  if (const auto* e = m.if_contains("expires_at")) {
    if (!e->is_string() || !parse_rfc3339(std::string_view(e->get_string()))) {
      return invalid("metadata.expires_at must be an RFC 3339 time, e.g. 2026-12-31T23:59:59Z");
    }
  }
  if (const auto* p = m.if_contains("path"); p != nullptr && p->is_string()) {
    // A path under /memories makes the context a memory file (docs/memory-tool.md): it must be
    // one the memory tool could name. Other paths are ordinary metadata, kept as given.
    const std::string_view path = p->get_string();
    if (path == memory::kRoot || path.starts_with(std::string(memory::kRoot) + "/")) {
      const auto checked = memory::check_path(path, false);
      if (!checked.error.empty()) return invalid("metadata.path: " + checked.error);
      if (checked.path.root) {
        return invalid("metadata.path: /memories is the memory folder; a file is below it");
      }
    }
  }
  return {};
}

sdk::Error invalid_request(std::string message) {
  return sdk::Error(sdk::Errc::invalid_request, std::move(message));
}

}  // namespace ctxmgr::kernel
