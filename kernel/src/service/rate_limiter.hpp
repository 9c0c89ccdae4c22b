#pragma once
// Per-agent request rate limits: a token bucket per agent (`rate` requests a second on average,
// `burst` at once). A request over the limit is refused with rate_limited (429) and the seconds
// until the next one would pass (Retry-After). Buckets are in memory, per process: with several
// servers on one database each enforces its own share.

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ctxmgr::kernel {

class RateLimiter {
 public:
  // rate <= 0: no limit.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst < 1 ? 1 : burst) {}

  bool enabled() const { return rate_ > 0; }
  // Takes one request from `agent`'s bucket at `now_ns` (a steady clock): 0 when it may go on,
  // else the whole seconds until it may (at least 1).
  std::int64_t take(std::string_view agent, std::int64_t now_ns);

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t at_ns = 0;
  };
  // Shards keep agents from queueing on one lock.
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Bucket> buckets;
    std::uint64_t calls = 0;
  };
  // Drops buckets that have refilled completely (they hold nothing an absent bucket would not),
  // so agents that come and go (trust mode takes any id) do not grow memory. With mu held.
  void prune(Shard& shard, std::int64_t now_ns) const;

  double rate_;
  double burst_;
  std::array<Shard, 16> shards_;
};

}  // namespace ctxmgr::kernel
