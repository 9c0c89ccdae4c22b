#include "failed_auth_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace ctxmgr::http {

void FailedAuthLimiter::refill(Bucket& b, std::chrono::steady_clock::time_point now) const {
  const double secs = std::chrono::duration<double>(now - b.at).count();
  b.tokens = std::min(burst_, b.tokens + secs * rate_);
  b.at = now;
}

std::int64_t FailedAuthLimiter::wait(std::string_view address) {
  if (rate_ <= 0 || tracked_.load(std::memory_order_relaxed) == 0) return 0;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(std::string(address));
  if (it == buckets_.end()) return 0;
  refill(it->second, std::chrono::steady_clock::now());
  if (it->second.tokens >= 1) return 0;
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(std::ceil((1 - it->second.tokens) / rate_)));
}

void FailedAuthLimiter::failed(std::string_view address) {
  if (rate_ <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(std::string(address), Bucket{burst_, now});
  if (!fresh) refill(it->second, now);
  it->second.tokens = std::max(0.0, it->second.tokens - 1);
  // Now and then, drop the buckets that are full again: they hold nothing a missing one does not.
  if (++calls_ % 1024 == 0) {
    std::erase_if(buckets_, [&](const auto& entry) {
      const double secs = std::chrono::duration<double>(now - entry.second.at).count();
      return entry.second.tokens + secs * rate_ >= burst_;
    });
  }
  tracked_.store(buckets_.size(), std::memory_order_relaxed);
}

}  // namespace ctxmgr::http
