#pragma once
// RFC 3339 times: API answers are UTC with milliseconds ("2026-11-24T16:00:00.123Z").

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ctxmgr::kernel {

std::string format_rfc3339_ms(std::int64_t unix_us);
// Any RFC 3339 date-time (offset or Z, optional fraction) as microseconds since the epoch.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace ctxmgr::kernel
