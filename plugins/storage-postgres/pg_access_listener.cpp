#include "pg_access_listener.hpp"

#include <poll.h>

#include <libpq-fe.h>

namespace ctxmgr::pg {

namespace {

constexpr auto kAskEvery = std::chrono::milliseconds(250);
constexpr auto kFreshFor = std::chrono::milliseconds(1000);
constexpr auto kRetryEvery = std::chrono::milliseconds(500);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void AccessListener::start(std::string conninfo, std::string setup, std::string schema) {
  stop();
  schema_ = std::move(schema);
  conninfo_ = std::move(conninfo);
  setup_ = std::move(setup);
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
}

void AccessListener::stop() noexcept {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
  alive_at_ns_.store(0);
}

sdk::Result<std::uint64_t> AccessListener::epoch() const {
  const std::int64_t at = alive_at_ns_.load();
  if (at == 0 || now_ns() - at > std::chrono::nanoseconds(kFreshFor).count()) {
    return sdk::Error(sdk::Errc::unavailable, "the access listener is not connected");
  }
  return value_.load();
}

void AccessListener::run() {
  PGconn* conn = nullptr;
  bool reported_down = false;
  auto drop = [&] {
    if (conn != nullptr) PQfinish(conn);
    conn = nullptr;
    alive_at_ns_.store(0);
    if (!reported_down) {
      log_.warn(
          "the access listener lost its connection: tokens and grants are read per request "
          "until it is back");
      reported_down = true;
    }
  };
  auto sleep_a_little = [&](std::chrono::milliseconds total) {
    for (auto slept = std::chrono::milliseconds(0); slept < total && !stopping_.load();
         slept += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  };
  auto asked_at = std::chrono::steady_clock::time_point{};
  bool waiting_answer = false;
  while (!stopping_.load()) {
    if (conn == nullptr) {
      // Named, so an operator (and the tests) can tell it in pg_stat_activity.
      const char* keys[] = {"dbname", "application_name", nullptr};
      const std::string name = ("ctxmgr-listener:" + schema_).substr(0, 63);
      const char* values[] = {conninfo_.c_str(), name.c_str(), nullptr};
      conn = PQconnectdbParams(keys, values, 1);
      PGresult* r = nullptr;
      if (PQstatus(conn) == CONNECTION_OK) {
        r = PQexec(conn,
                   (setup_.empty() ? "" : setup_ + "; ").append("LISTEN ctxmgr_access").c_str());
      }
      const bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
      if (!ok || PQsetnonblocking(conn, 1) != 0) {
        drop();
        sleep_a_little(kRetryEvery);
        continue;
      }
      // Whatever was notified while no one listened is lost: move the epoch.
      value_.fetch_add(1);
      alive_at_ns_.store(now_ns());
      waiting_answer = false;
      if (reported_down) log_.info("the access listener is connected again");
      reported_down = false;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!waiting_answer && now - asked_at >= kAskEvery) {
      if (PQsendQuery(conn, "SELECT 1") == 0) {
        drop();
        continue;
      }
      PQflush(conn);
      asked_at = now;
      waiting_answer = true;
    }
    pollfd fd{PQsocket(conn), POLLIN, 0};
    const int ready = ::poll(&fd, 1, 50);
    if (ready < 0) continue;
    if (ready > 0 && PQconsumeInput(conn) == 0) {
      drop();
      continue;
    }
    bool broken = false;
    while (waiting_answer && PQisBusy(conn) == 0) {
      PGresult* r = PQgetResult(conn);
      if (r == nullptr) {  // the answer is complete
        waiting_answer = false;
        alive_at_ns_.store(now_ns());
        break;
      }
      if (PQresultStatus(r) != PGRES_TUPLES_OK) broken = true;
      PQclear(r);
    }
    while (PGnotify* n = PQnotifies(conn)) {
      value_.fetch_add(1);
      PQfreemem(n);
    }
    if (broken || PQstatus(conn) != CONNECTION_OK) drop();
  }
  if (conn != nullptr) PQfinish(conn);
}

}  // namespace ctxmgr::pg
