#pragma once
// A background thread that runs a task every `interval` and once more when stopped: what the
// audit sealer and the read-audit batcher both need.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ctxmgr::kernel {

class Periodic {
 public:
  Periodic(std::chrono::milliseconds interval, std::function<void()> task)
      : interval_(interval), task_(std::move(task)) {}
  ~Periodic() { stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void start() { thread_ = std::thread([this] { run(); }); }
  // Wakes the thread, lets it run the task a last time, joins it. Safe to call twice.
  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_ || !thread_.joinable()) return;
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void run() {
    std::unique_lock lock(mu_);
    for (;;) {
      const bool stopping = wake_.wait_for(lock, interval_, [&] { return stopping_; });
      lock.unlock();
      task_();
      lock.lock();
      if (stopping) return;
    }
  }

  std::chrono::milliseconds interval_;
  std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ctxmgr::kernel
