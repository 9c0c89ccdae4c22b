#pragma once
// A background thread that runs a task every `interval` (sooner when nudged) and once more when
// stopped: what the audit sealer, the read-audit batcher, the folding of failed authentications
// and the embedding worker need. It is the
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
  // `last_run`: run the task once more when stopped (to flush what is queued); false for a task
  // whose run may wait on the network (the embedding worker), so that stopping stays prompt.
  Periodic(std::string name, std::chrono::milliseconds interval, std::function<void()> task,
           bool last_run = true)
      : name_(std::move(name)), interval_(interval), task_(std::move(task)), last_run_(last_run) {}
  ~Periodic() { stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  // Runs the task as soon as the thread is free instead of waiting out the interval (work has
  // arrived). Any thread; before start() it only makes the first run come sooner.
  void nudge() {
    {
      std::lock_guard lock(mu_);
      nudged_ = true;
    }
    wake_.notify_all();
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
      const bool stopping =
          wake_.wait_for(lock, interval_, [&] { return stopping_ || nudged_; }) && stopping_;
      nudged_ = false;
      if (stopping && !last_run_) return;
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
  bool nudged_ = false;
  bool last_run_;
  std::thread thread_;
};

}  // namespace ctxmgr::kernel
