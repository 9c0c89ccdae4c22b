#include "retry_policy.hpp"

#include <curl/curl.h>

#include <cmath>
#include <ctime>
#include <random>

namespace ctxmgr::provider {

namespace {

std::optional<double> header_number(const std::map<std::string, std::string>& h,
                                    const std::string& name) {
  auto it = h.find(name);
  if (it == h.end()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double v = std::stod(it->second, &used);
    if (used == it->second.size() && std::isfinite(v)) return v;
  } catch (...) {
    // not a number: an HTTP date, or garbage
  }
  return std::nullopt;
}

// retry-after-ms, else retry-after as seconds or as an HTTP date; in milliseconds.
std::optional<double> asked_ms(const std::map<std::string, std::string>& h) {
  if (auto ms = header_number(h, "retry-after-ms")) return *ms;
  if (auto s = header_number(h, "retry-after")) return *s * 1000;
  auto it = h.find("retry-after");
  if (it != h.end()) {
    const time_t when = curl_getdate(it->second.c_str(), nullptr);
    if (when > 0)
      return (static_cast<double>(when) - static_cast<double>(std::time(nullptr))) * 1000;
  }
  return std::nullopt;
}

}  // namespace

bool should_retry(long status, const std::map<std::string, std::string>& headers) {
  if (auto it = headers.find("x-should-retry"); it != headers.end()) {
    if (it->second == "true") return true;
    if (it->second == "false") return false;
  }
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

std::chrono::milliseconds retry_delay(int attempt,
                                      const std::map<std::string, std::string>& headers) {
  if (auto ms = asked_ms(headers); ms && *ms >= 0 && *ms <= 60000) {
    return std::chrono::milliseconds(static_cast<long long>(*ms));
  }
  thread_local std::mt19937 rng{std::random_device{}()};
  const double base = std::min(0.5 * std::pow(2.0, attempt), 8.0);
  const double jitter = 1.0 - 0.25 * std::uniform_real_distribution<double>(0, 1)(rng);
  return std::chrono::milliseconds(static_cast<long long>(base * jitter * 1000));
}

std::optional<long> retry_after_seconds(const std::map<std::string, std::string>& headers) {
  if (auto ms = asked_ms(headers); ms && *ms >= 0) {
    return static_cast<long>(std::ceil(*ms / 1000));
  }
  return std::nullopt;
}

}  // namespace ctxmgr::provider
