#include "service/context_answers.hpp"

#include <charconv>

#include "core/context_render.hpp"
#include "core/ids.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;

Error not_found(const std::string& id) {
  return Error(Errc::not_found, "context " + id + " does not exist");
}

ApiResponse context_response(const sdk::ContextRow& row, int status) {
  ApiResponse r;
  r.json = render_context(row);
  r.status = status;
  r.etag = row.version;
  return r;
}

// List cursors are "<updated_at_us>.<id>" of the last item of the previous page.
std::string list_cursor(const sdk::ContextRow& r) {
  return std::to_string(r.updated_at_us) + "." + r.id;
}

sdk::Status parse_list_cursor(const std::string& text, sdk::ListQuery& q) {
  const auto dot = text.find('.');
  std::int64_t at = 0;
  if (dot != std::string::npos) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + dot, at);
    auto id = canonical_uuid(std::string_view(text).substr(dot + 1));
    if (ec == std::errc() && p == text.data() + dot && id) {
      q.after_updated_at_us = at;
      q.after_id = *id;
      return {};
    }
  }
  return Error(Errc::invalid_request, "cursor is not one this server gave out");
}

}  // namespace ctxmgr::kernel
