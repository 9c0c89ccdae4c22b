#include "pg_pool.hpp"

#include <libpq-fe.h>

#include <soci/postgresql/soci-postgresql.h>

namespace ctxmgr::pg {

namespace {

bool healthy(soci::session& s) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return backend != nullptr && backend->conn_ != nullptr &&
         PQstatus(backend->conn_) == CONNECTION_OK;
}

}  // namespace

PgPool::PgPool(std::string conninfo, std::string on_connect, std::size_t size,
               std::chrono::milliseconds acquire_timeout, bool prepare, sdk::Logger& log,
               sdk::Metrics& metrics, std::string labels)
    : conninfo_(std::move(conninfo)),
      on_connect_(std::move(on_connect)),
      timeout_(acquire_timeout),
      prepare_(prepare),
      log_(log),
      metrics_(metrics),
      labels_(std::move(labels)) {
  for (std::size_t i = 0; i < size; ++i) {
    all_.push_back(std::make_unique<PgConnection>());
    free_.push_back(all_.back().get());
  }
  metrics_.gauge_set("ctxmgr_postgres_pool_connections", state_labels("size"),
                     static_cast<double>(size));
  report_in_use();
}

std::string PgPool::state_labels(std::string_view state) const {
  return (labels_.empty() ? "" : labels_ + ",") + "state=\"" + std::string(state) + "\"";
}

void PgPool::report_in_use() {
  metrics_.gauge_set("ctxmgr_postgres_pool_connections", state_labels("in_use"),
                     static_cast<double>(all_.size() - free_.size()));
}

PgPool::~PgPool() { close(); }

void PgPool::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& c : all_) {
    try {
      c->sql.close();
    } catch (const std::exception&) {
      // Closing a dead connection: nothing to do.
    }
  }
}

PgPool::Lease::~Lease() {
  if (conn_ != nullptr) pool_->release(conn_);
}

void PgPool::release(PgConnection* conn) {
  if (!conn->broken && !healthy(conn->sql)) conn->broken = true;
  {
    std::lock_guard lock(mu_);
    free_.push_back(conn);
    report_in_use();
  }
  freed_.notify_one();
}

void PgPool::lost(PgConnection& conn) {
  conn.broken = true;
  std::lock_guard lock(mu_);
  for (auto* idle : free_) idle->broken = true;
}

sdk::Result<PgPool::Lease> PgPool::acquire() {
  PgConnection* conn = nullptr;
  {
    const auto started = std::chrono::steady_clock::now();
    std::unique_lock lock(mu_);
    const bool got = freed_.wait_for(lock, timeout_, [&] { return !free_.empty() || closed_; });
    metrics_.observe(
        "ctxmgr_postgres_pool_wait_seconds", labels_,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (!got) {
      metrics_.counter_add("ctxmgr_postgres_pool_timeouts_total", labels_, 1);
      return sdk::Error(sdk::Errc::unavailable, "no database connection became free within " +
                                                    std::to_string(timeout_.count()) +
                                                    " ms; retry");
    }
    if (closed_) return sdk::Error(sdk::Errc::unavailable, "the storage is stopped");
    conn = free_.back();
    free_.pop_back();
    report_in_use();
  }
  Lease lease(*this, *conn);
  if (conn->broken) {
    conn->prepared.clear();
    try {
      conn->sql.close();
    } catch (const std::exception&) {
      // The old connection is already gone.
    }
    try {
      conn->sql.open(soci::postgresql, conninfo_);
      if (!on_connect_.empty()) conn->sql << on_connect_;
      conn->broken = false;
    } catch (const std::exception& e) {
      // libpq's message names host and port, never the password.
      log_.warn(std::string("cannot connect to PostgreSQL: ") + e.what());
      return sdk::Error(sdk::Errc::unavailable, "the database is unreachable; retry");
    }
  }
  return lease;
}

}  // namespace ctxmgr::pg
