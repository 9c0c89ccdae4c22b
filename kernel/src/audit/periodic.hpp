#pragma once
// A background thread that runs a task every `interval` and once more when stopped: what the
// audit sealer, the read-audit batcher and the folding of failed authentications need. It is the
// boundary of its thread, as ContextService::as_caller is of a transport's: what the task throws
// (the kernel's code or a plugin's) is logged with the task's name and the thread goes on.

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "log/logging.hpp"

namespace ctxmgr::kernel {

class Periodic {
 public:
  // `name` says what the task is, in the log ("the audit sealer").
  Periodic(std::string name, std::chrono::milliseconds interval, std::function<void()> task)
      : name_(std::move(name)), interval_(interval), task_(std::move(task)) {}
  ~Periodic() { stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }
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
      run_task();
      lock.lock();
      if (stopping) return;
    }
  }

  void run_task() noexcept {
    try {
      task_();
    } catch (const std::exception& e) {
      kernel_log().error("{} failed with an exception (it runs again in {} ms): {}", name_,
                         interval_.count(), e.what());
    } catch (...) {
      kernel_log().error("{} failed with an exception that is not a std::exception", name_);
    }
  }

  std::string name_;
  std::chrono::milliseconds interval_;
  std::function<void()> task_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ctxmgr::kernel
