#pragma once
// Builders for a plugin's option table (ctxmgr_option_spec, abi.h): each entry says what it is in
// one line — its kind, its bounds, its default as JSON text, its description — instead of eight
// padded fields. Header-only and constexpr: the table stays static data, as the ABI wants it.
//
//   constexpr ctxmgr_option_spec kOptions[] = {
//       option::required(option::string("path", nullptr, "the database file")),
//       option::integer("pool_size", 1, 1000, "8", "connections this process keeps"),
//       option::choice("synchronous", "full|normal", "\"full\"", "full: every commit is on disk"),
//       option::secret("api_key", "\"\"", "the API key; never logged"),
//   };

#include <cstdint>

#include "ctxmgr/sdk/abi.h"

namespace ctxmgr::sdk::option {

// A string; `default_json` is the JSON text of the default ("\"x\""), or null for none.
constexpr ctxmgr_option_spec string(const char* name, const char* default_json,
                                    const char* description) {
  return {name, CTXMGR_OPT_STRING, 0, default_json, 0, 0, nullptr, description};
}
// A string that is one of `allowed` ("a|b|c").
constexpr ctxmgr_option_spec choice(const char* name, const char* allowed, const char* default_json,
                                    const char* description) {
  return {name, CTXMGR_OPT_STRING, 0, default_json, 0, 0, allowed, description};
}
// A string that is never logged and is redacted in `config show` and in errors.
constexpr ctxmgr_option_spec secret(const char* name, const char* default_json,
                                    const char* description) {
  return {name, CTXMGR_OPT_STRING, CTXMGR_OPT_SECRET, default_json, 0, 0, nullptr, description};
}
// A 64-bit integer in [min, max].
constexpr ctxmgr_option_spec integer(const char* name, double min, double max,
                                     const char* default_json, const char* description) {
  return {
      name,    CTXMGR_OPT_INTEGER, CTXMGR_OPT_HAS_MIN | CTXMGR_OPT_HAS_MAX, default_json, min, max,
      nullptr, description};
}
// A number (double) in [min, max].
constexpr ctxmgr_option_spec number(const char* name, double min, double max,
                                    const char* default_json, const char* description) {
  return {
      name,    CTXMGR_OPT_NUMBER, CTXMGR_OPT_HAS_MIN | CTXMGR_OPT_HAS_MAX, default_json, min, max,
      nullptr, description};
}
constexpr ctxmgr_option_spec boolean(const char* name, const char* default_json,
                                     const char* description) {
  return {name, CTXMGR_OPT_BOOLEAN, 0, default_json, 0, 0, nullptr, description};
}
// A list of strings; `default_json` e.g. "[]".
constexpr ctxmgr_option_spec string_list(const char* name, const char* default_json,
                                         const char* description) {
  return {name, CTXMGR_OPT_STRING_LIST, 0, default_json, 0, 0, nullptr, description};
}
// The same option, which must be given (it then has no default).
constexpr ctxmgr_option_spec required(ctxmgr_option_spec spec) {
  spec.flags |= CTXMGR_OPT_REQUIRED;
  return spec;
}

}  // namespace ctxmgr::sdk::option
