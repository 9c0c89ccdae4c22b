#pragma once
// A wake function that may be replaced or cleared while another thread calls it: the caller (the
// kernel's feed thread) holds the box through a shared_ptr, so a call after the owner cleared or
// dropped it does nothing instead of reaching a destroyed object.
//
// Thread-safety: every method from any thread; call() holds the box's mutex while it runs the
// function, so set({}) returns only once no call is running.

#include <functional>
#include <mutex>

namespace ctxmgr::mcp {

struct WakeBox {
  void set(std::function<void()> wake) {
    std::lock_guard lock(mu_);
    fn_ = std::move(wake);
  }
  void call() {
    std::lock_guard lock(mu_);
    if (fn_) fn_();
  }

 private:
  std::mutex mu_;
  std::function<void()> fn_;
};

}  // namespace ctxmgr::mcp
