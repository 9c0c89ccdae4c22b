#pragma once
// Failed authentications, folded: the first failure of each kind (transport and reason) in a
// window is audited at once; the rest of that window are counted and audited as one event with
// their count when the window ends. A flood of bad tokens thus writes two events a window, not
// one per request, and the log still says how many failed and why. (Per address, the transport
// slows them first: transport-http's failed_auth_rate.)
//
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctxmgr::kernel {

class AuthFailureFolder {
 public:
  explicit AuthFailureFolder(std::chrono::milliseconds window)
      : window_ns_(window.count() * 1000000) {}

  // One failure at `now_ns` (a steady clock): true when it opens a window and is to be audited
  // now; false when it was counted into the open one.
  bool first(std::string_view transport, std::string_view reason, std::int64_t now_ns);

  struct Folded {
    std::string transport;
    std::string reason;
    std::int64_t count = 0;
  };
  // The counts of the windows that have ended by `now_ns` (every window when `all`), forgotten
  // once taken; windows without further failures give nothing.
  std::vector<Folded> take(std::int64_t now_ns, bool all);

 private:
  struct Window {
    std::int64_t opened_ns = 0;
    std::int64_t folded = 0;
  };
  std::int64_t window_ns_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Window, std::less<>> windows_;
};

}  // namespace ctxmgr::kernel
