#pragma once
// Failed authentication per client address: each 401 takes one token from the address's bucket
// (`rate` a second on average, `burst` at once); while the bucket is empty, that address's
// requests are answered 429 with Retry-After before they reach the kernel, so a client guessing
// tokens (or flooding the audit log with failures) is slowed to `rate` guesses a second.
// Health checks are never limited. Buckets that refilled are dropped, so addresses that come
// and go do not grow memory.
//
// Thread-safety: every method may be called from any thread.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ctxmgr::http {

class FailedAuthLimiter {
 public:
  // rate <= 0: no limit.
  FailedAuthLimiter(double rate, double burst) : rate_(rate), burst_(burst < 1 ? 1 : burst) {}

  // Seconds until `address` may try again (0: it may now).
  std::int64_t wait(std::string_view address);
  // Records one failed authentication from `address`.
  void failed(std::string_view address);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;
  };
  // Refills `b` to now; with mu_ held.
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) const;

  double rate_;
  double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  // buckets_.size(), readable without the lock: while no address has failed lately (the usual
  // case) a request costs no lock at all.
  std::atomic<std::size_t> tracked_{0};
  std::uint64_t calls_ = 0;
};

}  // namespace ctxmgr::http
