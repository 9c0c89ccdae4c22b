#pragma once
// The access epoch of a SQLite file (sdk::StorageAccessEpoch): triggers move the counter in
// table access_epoch with every change to agents, tokens and grants, by whichever process made
// it; a thread of this process reads it every `every` on a connection of its own, so asking for
// the epoch does no I/O. A value older than `fresh_for` is not vouched for (unavailable).
//
// Thread-safety: epoch() from any thread; start and stop from the plugin's start and stop.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sqlite {

class EpochPoller {
 public:
  EpochPoller() = default;
  ~EpochPoller() { stop(); }
  EpochPoller(const EpochPoller&) = delete;
  EpochPoller& operator=(const EpochPoller&) = delete;

  // `read` returns the counter or throws (then the value ages until a read succeeds).
  void start(std::function<std::int64_t()> read, std::chrono::milliseconds every,
             std::chrono::milliseconds fresh_for);
  void stop() noexcept;
  sdk::Result<std::uint64_t> epoch() const;

 private:
  void run();

  std::function<std::int64_t()> read_;
  std::chrono::milliseconds every_{100};
  std::chrono::milliseconds fresh_for_{1000};
  std::atomic<std::uint64_t> value_{0};
  std::atomic<std::int64_t> read_at_ns_{0};  // steady clock; 0: never read
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ctxmgr::sqlite
