#include "service/time_text.hpp"

#include <ctime>
#include <regex>

namespace ctxmgr::kernel {

std::string format_rfc3339_ms(std::int64_t unix_us) {
  std::int64_t secs = unix_us / 1000000;
  std::int64_t rem = unix_us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(rem / 1000));
  return buf;
}

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  static const std::regex kRe(
      R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.(\d{1,9}))?([Zz]|([+-])(\d{2}):(\d{2}))$)");
  std::cmatch m;
  if (!std::regex_match(text.data(), text.data() + text.size(), m, kRe)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  std::int64_t secs = timegm(&tm);
  if (m[10].matched) {
    const int offset = (std::stoi(m[11]) * 60 + std::stoi(m[12])) * 60;
    secs += m[10] == "+" ? -offset : offset;
  }
  std::int64_t us = 0;
  if (m[8].matched) {
    std::string frac = m[8].str();
    frac.resize(6, '0');
    us = std::stoll(frac.substr(0, 6));
  }
  return secs * 1000000 + us;
}

}  // namespace ctxmgr::kernel
