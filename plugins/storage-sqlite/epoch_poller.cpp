#include "epoch_poller.hpp"

#include <exception>

namespace ctxmgr::sqlite {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void EpochPoller::start(std::function<std::int64_t()> read, std::chrono::milliseconds every,
                        std::chrono::milliseconds fresh_for) {
  stop();
  read_ = std::move(read);
  every_ = every;
  fresh_for_ = fresh_for;
  {
    std::lock_guard lock(mu_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void EpochPoller::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  read_at_ns_.store(0);
}

sdk::Result<std::uint64_t> EpochPoller::epoch() const {
  const std::int64_t at = read_at_ns_.load();
  if (at == 0 || now_ns() - at > std::chrono::nanoseconds(fresh_for_).count()) {
    return sdk::Error(sdk::Errc::unavailable, "the access epoch has not been read lately");
  }
  return value_.load();
}

void EpochPoller::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    try {
      value_.store(static_cast<std::uint64_t>(read_()));
      read_at_ns_.store(now_ns());
    } catch (const std::exception&) {
      // The value ages: once older than fresh_for, epoch() says unavailable.
    }
    lock.lock();
    wake_.wait_for(lock, every_, [this] { return stopping_; });
  }
}

}  // namespace ctxmgr::sqlite
