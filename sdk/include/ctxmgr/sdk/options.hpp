#pragma once
// A plugin's options as the kernel hands them over: a JSON object that was already validated
// against the plugin's option table (types, ranges, allowed values, required keys) and has every
// default filled in. Reading a declared option therefore cannot fail; the fallbacks only matter
// for keys a plugin reads without declaring them.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sdk {

class CTXMGR_SDK_VISIBLE Options {
 public:
  // Parses the JSON object text the factory received.
  static Result<Options> parse(std::string_view json_object);

  Options(Options&&) noexcept;
  Options& operator=(Options&&) noexcept;
  ~Options();

  bool has(std::string_view key) const;
  std::string get_string(std::string_view key, std::string_view fallback = {}) const;
  std::int64_t get_int(std::string_view key, std::int64_t fallback = 0) const;
  double get_number(std::string_view key, double fallback = 0) const;
  bool get_bool(std::string_view key, bool fallback = false) const;
  std::vector<std::string> get_strings(std::string_view key) const;
  // The JSON text of any option (e.g. an object-typed one), or "null".
  std::string get_json(std::string_view key) const;

 private:
  struct Impl;
  explicit Options(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ctxmgr::sdk
