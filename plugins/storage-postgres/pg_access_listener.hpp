#pragma once
// The access epoch of a PostgreSQL database (sdk::StorageAccessEpoch): the triggers of
// 07_access_epoch notify channel ctxmgr_access when a change to agents, tokens or grants commits,
// whichever server made it. A thread of this process LISTENs on a libpq connection of its own and
// moves the epoch at each notification, so asking for it does no I/O.
//
// A notification sent while the connection was down is lost; so the listener vouches for the
// epoch only while it knows the connection is alive: it asks the server a trivial question every
// 250 ms, and a value whose last answer is older than one second is unavailable. After a
// reconnect the epoch moves anyway (something may have changed meanwhile).
//
// Thread-safety: epoch() from any thread; start and stop from the plugin's start and stop.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/host.hpp"

namespace ctxmgr::pg {

class AccessListener {
 public:
  explicit AccessListener(sdk::Logger& log) : log_(log) {}
  ~AccessListener() { stop(); }
  AccessListener(const AccessListener&) = delete;
  AccessListener& operator=(const AccessListener&) = delete;

  // `setup`: statements run on each new connection first, as the pool's (may be empty).
  // `schema` names the connection (application_name ctxmgr-listener:<schema>).
  void start(std::string conninfo, std::string setup, std::string schema);
  void stop() noexcept;
  sdk::Result<std::uint64_t> epoch() const;

 private:
  void run();

  sdk::Logger& log_;
  std::string conninfo_;
  std::string setup_;
  std::string schema_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> value_{0};
  std::atomic<std::int64_t> alive_at_ns_{0};  // steady clock of the last answer; 0: none
  std::thread thread_;
};

}  // namespace ctxmgr::pg
