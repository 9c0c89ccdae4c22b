#include "service/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace ctxmgr::kernel {

namespace {
constexpr double kNsPerSecond = 1e9;
}  // namespace

std::int64_t RateLimiter::take(std::string_view agent, std::int64_t now_ns) {
  if (!enabled()) return 0;
  Shard& shard = shards_[std::hash<std::string_view>{}(agent) % shards_.size()];
  std::lock_guard lock(shard.mu);
  if (++shard.calls % 4096 == 0) prune(shard, now_ns);
  auto [it, fresh] = shard.buckets.try_emplace(std::string(agent), Bucket{burst_, now_ns});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = static_cast<double>(std::max<std::int64_t>(0, now_ns - b.at_ns));
    b.tokens = std::min(burst_, b.tokens + elapsed / kNsPerSecond * rate_);
    b.at_ns = now_ns;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil((1 - b.tokens) / rate_)));
}

void RateLimiter::prune(Shard& shard, std::int64_t now_ns) const {
  const double refill_ns = burst_ / rate_ * kNsPerSecond;
  std::erase_if(shard.buckets, [&](const auto& kv) {
    return static_cast<double>(now_ns - kv.second.at_ns) >= refill_ns;
  });
}

}  // namespace ctxmgr::kernel
