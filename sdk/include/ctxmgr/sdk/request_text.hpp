#pragma once
// Checks of the request text a transport receives — query parameters and headers — into the
// values ContextApi's typed calls take. Header-only, so a transport (HTTP) and the kernel's text
// calls (ABI 1.0–1.5 plugins still send text) check alike, with the same messages. Every failure
// is invalid_request (400) with a message that names the parameter, as API.md's errors.
//
// A transport that finds a parameter malformed passes the error to ContextApi::refuse, so that
// the caller is still authenticated first (401 before 400) and the operation counted as usual.

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sdk {

// A positive number given as a number (a typed call's version), nullopt allowed.
inline Status check_positive(std::optional<std::int64_t> value, std::string_view field) {
  if (value && *value < 1) {
    return Error(Errc::invalid_request, std::string(field) + " must be a positive integer");
  }
  return {};
}

// A positive decimal integer written as text (`?version=3`).
inline Result<std::int64_t> parse_positive(std::string_view text, std::string_view field) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) v = 0;
  if (auto st = check_positive(v, field); !st) return st.error();
  return v;
}

// A page limit given as a number: 1–1000, `fallback` when absent.
inline Result<std::int64_t> check_limit(std::optional<std::int64_t> limit, std::int64_t fallback) {
  if (!limit) return fallback;
  if (*limit < 1 || *limit > 1000) {
    return Error(Errc::invalid_request, "limit must be an integer from 1 to 1000");
  }
  return *limit;
}

// `?limit=` as text, checked as check_limit.
inline Result<std::int64_t> parse_limit(const std::optional<std::string>& text,
                                        std::int64_t fallback) {
  if (!text) return fallback;
  auto v = parse_positive(*text, "limit");
  if (!v) return Error(Errc::invalid_request, "limit must be an integer from 1 to 1000");
  return check_limit(*v, fallback);
}

// `true` | `false`, `fallback` when absent.
inline Result<bool> parse_bool(const std::optional<std::string>& text, std::string_view field,
                               bool fallback) {
  if (!text) return fallback;
  if (*text == "true") return true;
  if (*text == "false") return false;
  return Error(Errc::invalid_request, std::string(field) + " must be true or false");
}

// If-Match: "N", W/"N" or N name version N; `*` (any version) is nullopt.
inline Result<std::optional<std::int64_t>> parse_if_match(std::string_view text) {
  if (text == "*") return std::optional<std::int64_t>();
  if (text.starts_with("W/")) text.remove_prefix(2);
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  auto v = parse_positive(text, "If-Match");
  if (!v) return Error(Errc::invalid_request, "If-Match must be a version in quotes, e.g. \"3\"");
  return std::optional<std::int64_t>(*v);
}

}  // namespace ctxmgr::sdk
