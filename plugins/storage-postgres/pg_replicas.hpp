#pragma once
// The streaming replicas the postgres storage may read from (option `replicas`, docs/scaling.md).
// Each has its own pool. A monitor thread asks each one, every `check` interval, how far it has
// replayed the primary's WAL (pg_last_wal_replay_lsn) and whether it is still a standby; a
// replica that does not answer, is no longer in recovery (promoted) or lags more than `max_lag`
// behind the primary is out of rotation until a later check finds it well.
//
// Positions are WAL LSNs as 64-bit numbers ("16/B374D848" is 0x16'B374D848). A read that must see
// a position (read-your-writes) takes a replica known to have replayed past it, or waits up to
// `wait` for one to get there, else it is served by the primary.
//
// Metrics: ctxmgr_postgres_replica_up{replica="N"} (1 in rotation, 0 out),
// ctxmgr_postgres_replica_lag_seconds{replica="N"}, ctxmgr_postgres_reads_total{target=
// "primary"|"replica"} (the reads that could have gone to a replica, by where they went), and the
// pool metrics with pool="replicaN".
//
// Thread-safety: every member may be called from many threads; stop() before destruction.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage_read_routing.hpp"
#include "pg_pool.hpp"

namespace ctxmgr::pg {

// "X/Y" (hex, as PostgreSQL prints an LSN) as a number; nullopt when the text is not one.
std::optional<std::uint64_t> parse_lsn(std::string_view text);
std::string format_lsn(std::uint64_t lsn);

class ReplicaSet {
 public:
  struct Settings {
    std::vector<std::string> urls;  // connection strings, each with its connect timeout
    std::size_t pool_size = 4;
    std::chrono::milliseconds acquire_timeout{2000};
    std::chrono::milliseconds max_lag{10000};
    std::chrono::milliseconds wait{100};   // for a replica to reach a read's position
    std::chrono::milliseconds check{500};  // how often each replica is asked
    std::string on_connect;                // session settings, as the primary's pool
    bool prepare = true;
  };
  // `primary_lsn`: the primary's current WAL position (pg_current_wal_lsn), or nullopt when it
  // cannot be read; called on the monitor thread.
  ReplicaSet(Settings settings, std::function<std::optional<std::uint64_t>()> primary_lsn,
             sdk::Logger& log, sdk::Metrics& metrics);
  ~ReplicaSet();

  void start();
  void stop() noexcept;

  struct Lease {
    std::size_t replica;
    PgPool::Lease lease;
  };
  // A connection to a replica in rotation that has replayed `floor` (0: any in rotation), taken
  // in turn; when none has yet, asks them again for up to `wait`. nullopt: read the primary.
  std::optional<Lease> acquire(std::uint64_t floor);
  // A read on `replica` found its connection lost: out of rotation until a check finds it well.
  void failed(std::size_t replica);
  // Counts a read that could have gone to a replica, by where it went.
  void count(bool on_replica);

  std::size_t size() const { return replicas_.size(); }
  // "2 of 2 replicas in rotation" for the log.
  std::string describe() const;
  // Each replica as last found (for readiness).
  std::vector<sdk::ReplicaState> states() const;

 private:
  static constexpr std::string_view kNotChecked = "not checked yet";
  struct Replica {
    std::unique_ptr<PgPool> pool;
    std::atomic<bool> up{false};
    std::atomic<std::uint64_t> replayed{0};  // only moves forward: saw()
    void saw(std::uint64_t lsn) {
      if (lsn > replayed.load()) replayed.store(lsn);
    }
    mutable std::mutex state_mu;  // guards lag_seconds and reason
    double lag_seconds = 0;
    std::string reason{kNotChecked};
  };
  void monitor();
  // Asks replica `i` whether it is a standby and how far it has replayed; false (and out of
  // rotation) when it cannot say.
  bool check(std::size_t i);
  // Asks replica `i` for its replay position now (on a pooled connection): 0 when it cannot say.
  std::uint64_t replay_position(std::size_t i);
  void set_up(std::size_t i, bool up, std::string_view why);

  Settings settings_;
  std::function<std::optional<std::uint64_t>()> primary_lsn_;
  sdk::Logger& log_;
  sdk::Metrics& metrics_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::atomic<std::size_t> next_{0};
  std::mutex mu_;  // guards stopping_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ctxmgr::pg
