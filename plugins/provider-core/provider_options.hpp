#pragma once
// What every provider plugin's options and answers share: the call options (timeouts, retries)
// appended to a plugin's own option table, and the error message both APIs put in
// {"error": {"message": ...}}.

#include <array>
#include <chrono>
#include <cstddef>
#include <string>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/options.hpp"

namespace ctxmgr::provider {

inline constexpr std::array<ctxmgr_option_spec, 3> kCallOptions = {{
    sdk::option::integer("connect_timeout_ms", 1, 600000, "10000",
                         "connecting to the provider, per attempt"),
    sdk::option::integer("timeout_ms", 1, 3600000, "120000",
                         "a whole attempt, answer included (then 504)"),
    sdk::option::integer("max_retries", 0, 10, "2",
                         "retries after 408, 409, 429, 5xx (529 too) and connection failures"),
}};

// A plugin's own options followed by kCallOptions: one table for CTXMGR_PLUGIN.
template <std::size_t N>
constexpr std::array<ctxmgr_option_spec, N + kCallOptions.size()> with_call_options(
    const std::array<ctxmgr_option_spec, N>& own) {
  std::array<ctxmgr_option_spec, N + kCallOptions.size()> all{};
  for (std::size_t i = 0; i < N; ++i) all[i] = own[i];
  for (std::size_t i = 0; i < kCallOptions.size(); ++i) all[N + i] = kCallOptions[i];
  return all;
}

struct CallSettings {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{120000};
  int max_retries = 2;
};
CallSettings call_settings(const sdk::Options& options);

// `base_url` without its trailing slashes, so that paths can be appended.
std::string trimmed_base_url(std::string base_url);

// The provider's message in an error body {"error": {"message": ...}} (both APIs); "" if none.
std::string error_message(const std::string& body);

}  // namespace ctxmgr::provider
