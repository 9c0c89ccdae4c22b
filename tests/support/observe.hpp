#pragma once
// What tests of caches and listeners watch from outside: how long a condition took to hold, and
// the value of a series in the /metrics text.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace ctxmgr::test {

// How long `cond` took to hold, polling every 20 ms; nullopt past `limit`.
inline std::optional<std::chrono::milliseconds> time_until(const std::function<bool()>& cond,
                                                           std::chrono::milliseconds limit) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  while (Clock::now() - start < limit) {
    if (cond()) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

// The value of a sample in the Prometheus text, 0 when absent.
inline double sample(const std::string& metrics, const std::string& series) {
  const auto at = metrics.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(metrics.substr(at + series.size() + 2));
}

}  // namespace ctxmgr::test
