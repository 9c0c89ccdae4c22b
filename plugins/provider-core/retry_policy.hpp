#pragma once
// The retry policy of the official Anthropic and OpenAI SDKs: retry 408, 409, 429, every 5xx
// (Anthropic's 529 too) and connection failures; `x-should-retry: true|false` decides first;
// wait `retry-after-ms`, else `retry-after` (seconds or an HTTP date) when it is 0–60 s, else
// 0.5 s · 2^attempt capped at 8 s, minus up to 25 % jitter.

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace ctxmgr::provider {

bool should_retry(long status, const std::map<std::string, std::string>& headers);

// The wait before retry number `attempt` (0 for the first retry).
std::chrono::milliseconds retry_delay(int attempt,
                                      const std::map<std::string, std::string>& headers);

// What the server asked for, in whole seconds (for a 429's `retry_after`), if anything.
std::optional<long> retry_after_seconds(const std::map<std::string, std::string>& headers);

}  // namespace ctxmgr::provider
