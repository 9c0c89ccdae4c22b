#pragma once
// How a cache's lookups went, counted without a lock and published as
// <name>{result="hit|miss|bypass"}: hit (from memory), miss (read from the store), bypass (read,
// nothing kept or used: the store cannot vouch for what would be cached).
//
// Thread-safety: count from any thread; publish from one at a time.

#include <atomic>
#include <cstdint>
#include <string_view>

#include "ctxmgr/sdk/host.hpp"

namespace ctxmgr::kernel {

class CacheLookups {
 public:
  void hit() { hits_.fetch_add(1, std::memory_order_relaxed); }
  void miss() { misses_.fetch_add(1, std::memory_order_relaxed); }
  void bypass() { bypasses_.fetch_add(1, std::memory_order_relaxed); }
  // Adds what was counted since the last call to counter `name`.
  void publish(sdk::Metrics& metrics, std::string_view name) {
    metrics.counter_add(name, "result=\"hit\"", static_cast<double>(hits_.exchange(0)));
    metrics.counter_add(name, "result=\"miss\"", static_cast<double>(misses_.exchange(0)));
    metrics.counter_add(name, "result=\"bypass\"", static_cast<double>(bypasses_.exchange(0)));
  }

 private:
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, bypasses_{0};
};

}  // namespace ctxmgr::kernel
