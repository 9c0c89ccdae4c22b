#include "core/time_text.hpp"

#include <chrono>
#include <ctime>
#include <regex>

namespace ctxmgr::kernel {

std::string format_rfc3339_ms(std::int64_t unix_us) {
  // Every answer carries timestamps: civil-date arithmetic and digits, not gmtime and strftime
  // (which the read path's profile showed, locale and all).
  using namespace std::chrono;
  const auto us = sys_time<microseconds>(microseconds(unix_us));
  const auto day = floor<days>(us);
  const year_month_day ymd(day);
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999) return "0000-01-01T00:00:00.000Z";  // outside RFC 3339's four digits
  const auto in_day = duration_cast<milliseconds>(us - day).count();
  const int ms = static_cast<int>(in_day % 1000);
  const int sec = static_cast<int>(in_day / 1000 % 60);
  const int min = static_cast<int>(in_day / 60000 % 60);
  const int hour = static_cast<int>(in_day / 3600000);
  std::string out = "0000-00-00T00:00:00.000Z";
  auto put = [&](std::size_t at, int value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) {
      out[at + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    }
  };
  put(0, y, 4);
  put(5, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
  put(8, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  put(11, hour, 2);
  put(14, min, 2);
  put(17, sec, 2);
  put(20, ms, 3);
  return out;
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
