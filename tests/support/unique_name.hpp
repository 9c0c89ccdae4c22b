#pragma once
// Names for what tests create on a shared PostgreSQL (schemas, databases): unique in this run
// and against what earlier runs left on a long-lived database, where a pid alone repeats and a
// schema of the same name would already hold rows.

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <unistd.h>

namespace ctxmgr::test {

// "<prefix>_<pid>_<process start, µs>_<n>": lower case, under PostgreSQL's 63-byte limit.
inline std::string unique_name(std::string_view prefix) {
  static std::atomic<int> n{0};
  static const auto started = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
  return std::string(prefix) + "_" + std::to_string(::getpid()) + "_" + std::to_string(started) +
         "_" + std::to_string(n++);
}

}  // namespace ctxmgr::test
