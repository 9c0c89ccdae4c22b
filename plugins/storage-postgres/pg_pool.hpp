#pragma once
// A pool of PostgreSQL connections with a bounded wait: acquire() gives a connection within the
// configured timeout or an `unavailable` error (503), never a hang. A connection found broken (the
// server restarted, the network dropped) is reopened on its next use, so the process recovers by
// itself when the database comes back.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <soci/soci.h>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/host.hpp"

namespace ctxmgr::pg {

struct PgConnection {
  soci::session sql;
  bool broken = true;  // not yet opened, or lost: (re)open before use
  // The named prepared statements this session holds (they live as long as the session, whatever
  // becomes of the transaction that prepared them); emptied when the connection is reopened.
  std::unordered_set<std::string> prepared;
};

class PgPool {
 public:
  // Reports ctxmgr_postgres_pool_connections{state="in_use"|"size"} (gauges),
  // ctxmgr_postgres_pool_wait_seconds (histogram) and ctxmgr_postgres_pool_timeouts_total.
  // `on_connect`: SQL run on every connection the pool opens (session settings), or empty.
  // `prepare`: hot statements are named prepared statements on each connection (parsed and
  // planned once per connection); off behind a pooler that does not keep them (PgBouncer in
  // transaction mode before 1.21). `labels`: more labels of its metrics (pool="replica0" for a
  // replica's pool; empty for the primary's).
  PgPool(std::string conninfo, std::string on_connect, std::size_t size,
         std::chrono::milliseconds acquire_timeout, bool prepare, sdk::Logger& log,
         sdk::Metrics& metrics, std::string labels = "");
  ~PgPool();

  class Lease {
   public:
    Lease(PgPool& pool, PgConnection& conn) : pool_(&pool), conn_(&conn) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), conn_(o.conn_) { o.conn_ = nullptr; }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    soci::session& sql() const { return conn_->sql; }
    // The names prepared on this connection, or null when statements are not to be prepared.
    std::unordered_set<std::string>* prepared() const {
      return pool_->prepare_ ? &conn_->prepared : nullptr;
    }
    // Marks the connection lost after an error that says so; it is reopened on its next use.
    // So is every idle connection: a lost connection most often means the server restarted or
    // failed over, which took the idle ones too, and each would otherwise fail one request of
    // its own before the pool learnt it.
    void mark_broken() const { pool_->lost(*conn_); }

   private:
    PgPool* pool_;
    PgConnection* conn_;
  };

  sdk::Result<Lease> acquire();
  void close();

 private:
  void release(PgConnection* conn);
  void lost(PgConnection& conn);
  void report_in_use();                                    // with mu_ held
  std::string state_labels(std::string_view state) const;  // labels_ and state="…"

  std::string conninfo_;
  std::string on_connect_;
  std::chrono::milliseconds timeout_;
  bool prepare_;
  sdk::Logger& log_;
  sdk::Metrics& metrics_;
  std::string labels_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<PgConnection>> all_;
  std::vector<PgConnection*> free_;
  bool closed_ = false;
};

}  // namespace ctxmgr::pg
