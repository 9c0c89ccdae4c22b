#include "pg_change_listener.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include <libpq-fe.h>

namespace ctxmgr::pg {

namespace {

constexpr auto kAskEvery = std::chrono::milliseconds(250);
constexpr auto kFreshFor = std::chrono::milliseconds(1000);
constexpr auto kRetryEvery = std::chrono::milliseconds(500);
constexpr auto kBarrierWait = std::chrono::milliseconds(1000);
// After a probe is sent, questions wait this long at most for it to come back (see run()).
constexpr auto kQuietFor = std::chrono::milliseconds(20);

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ChangeListener::ChangeListener(sdk::Logger& log)
    : log_(log), wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

ChangeListener::~ChangeListener() {
  stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void ChangeListener::start(std::string conninfo, std::string setup, std::string schema) {
  stop();
  schema_ = std::move(schema);
  conninfo_ = std::move(conninfo);
  setup_ = std::move(setup);
  stopping_.store(false);
  thread_ = std::thread([this] { run(); });
}

void ChangeListener::stop() noexcept {
  stopping_.store(true);
  wake();
  if (thread_.joinable()) thread_.join();
  alive_at_ns_.store(0);
  barrier_cv_.notify_all();
}

void ChangeListener::wake() const {
  if (wake_fd_ < 0) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

bool ChangeListener::vouched() const {
  const std::int64_t at = alive_at_ns_.load();
  return at != 0 && now_ns() - at <= std::chrono::nanoseconds(kFreshFor).count();
}

sdk::Result<std::uint64_t> ChangeListener::epoch() const {
  if (!vouched()) return sdk::Error(sdk::Errc::unavailable, "the change listener is not connected");
  return epoch_.load();
}

sdk::Status ChangeListener::barrier() const {
  std::unique_lock lock(barrier_mu_);
  // The next question sent: one in flight now may have been asked before the caller came.
  const std::uint64_t need = barriers_sent_ + 1;
  barriers_wanted_ = std::max(barriers_wanted_, need);
  wake();
  const bool passed = barrier_cv_.wait_for(
      lock, kBarrierWait, [&] { return barriers_done_ >= need || !vouched() || stopping_.load(); });
  if (!passed || barriers_done_ < need) {
    return sdk::Error(sdk::Errc::unavailable, "the change listener is not connected");
  }
  return {};
}

sdk::Result<sdk::ContextChanges> ChangeListener::context_changes_since(std::uint64_t cursor) const {
  if (auto st = barrier(); !st) return st.error();
  sdk::ContextChanges answer;
  // The common case, nothing new: no lock, no allocation.
  answer.cursor = seq_.load(std::memory_order_acquire);
  if (cursor == answer.cursor && cursor != 0) return answer;
  std::lock_guard lock(changes_mu_);
  answer.cursor = seq_.load();
  // Behind a loss, ahead of us (a cursor from elsewhere), or behind what is kept: missed some.
  if (cursor < lost_through_ || cursor > answer.cursor ||
      (!changed_.empty() && changed_.front().first > cursor + 1)) {
    answer.complete = false;
    return answer;
  }
  auto it = std::upper_bound(changed_.begin(), changed_.end(), cursor,
                             [](std::uint64_t c, const auto& e) { return c < e.first; });
  for (; it != changed_.end(); ++it) answer.ids.push_back(it->second);
  return answer;
}

void ChangeListener::notify_events() {
  if (!notify_events_.exchange(true)) wake();
}

void ChangeListener::set_change_wake(std::function<void()> wake) {
  std::lock_guard lock(wake_mu_);
  change_wake_ = std::move(wake);
}

void ChangeListener::context_changed(std::string_view payload) {
  if (payload.size() < schema_.size() || payload.substr(0, schema_.size()) != schema_) return;
  payload.remove_prefix(schema_.size());
  if (payload.empty()) {  // a truncate of our table
    changes_lost();
    return;
  }
  if (payload.front() != ' ')
    return;  // a probe (run() hears those), or another schema  // another schema whose name starts
             // like ours
  payload.remove_prefix(1);
  std::lock_guard lock(changes_mu_);
  changed_.emplace_back(seq_.load() + 1, std::string(payload));
  seq_.fetch_add(1, std::memory_order_release);
  if (changed_.size() > kKeep) changed_.pop_front();
}

void ChangeListener::changes_lost() {
  std::lock_guard lock(changes_mu_);
  lost_through_ = seq_.fetch_add(1, std::memory_order_release) + 1;
  changed_.clear();
}

void ChangeListener::run() {
  PGconn* conn = nullptr;
  bool reported_down = false;
  PGconn* prober = nullptr;  // a second session, which sends the probes
  auto drop = [&] {
    if (conn != nullptr) PQfinish(conn);
    conn = nullptr;
    if (prober != nullptr) PQfinish(prober);
    prober = nullptr;
    alive_at_ns_.store(0);
    { std::lock_guard lock(barrier_mu_); }  // a waiter is either asleep or sees the loss
    barrier_cv_.notify_all();               // no barrier passes on a lost connection
    if (!reported_down) {
      log_.warn(
          "the change listener lost its connection: tokens, grants and contexts are read per "
          "request until it is back");
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
  std::uint64_t in_flight = 0;  // the number of the question asked; 0: none
  std::uint64_t probes = 0;     // probes sent
  // The probe that may still vouch: sent while no question was in flight, and no question sent
  // since (0: none). See below.
  std::uint64_t quiet_probe = 0;
  // This listener's own probes: other servers of the schema probe the same channel.
  const std::string probe_prefix = schema_ + "?" + std::to_string(std::random_device{}()) + ":";
  while (!stopping_.load()) {
    if (conn == nullptr) {
      // Named, so an operator (and the tests) can tell it in pg_stat_activity.
      const char* keys[] = {"dbname", "application_name", nullptr};
      const std::string name = ("ctxmgr-listener:" + schema_).substr(0, 63);
      const char* values[] = {conninfo_.c_str(), name.c_str(), nullptr};
      conn = PQconnectdbParams(keys, values, 1);
      prober = PQconnectdbParams(keys, values, 1);
      PGresult* r = nullptr;
      if (PQstatus(conn) == CONNECTION_OK) {
        r = PQexec(conn,
                   (setup_.empty() ? "" : setup_ + "; ")
                       .append("LISTEN ctxmgr_access; LISTEN ctxmgr_contexts; LISTEN ctxmgr_events")
                       .c_str());
      }
      bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK &&
                PQstatus(prober) == CONNECTION_OK;
      PQclear(r);
      if (ok) {
        // The prober's statements run under the same settings. Its notifications are hints, so
        // their commits need not wait for the WAL flush (a NOTIFY takes a transaction id).
        PGresult* s = PQexec(
            prober,
            (setup_.empty() ? "" : setup_ + "; ").append("SET synchronous_commit = off").c_str());
        ok = PQresultStatus(s) == PGRES_COMMAND_OK;
        PQclear(s);
      }
      if (!ok || PQsetnonblocking(conn, 1) != 0) {
        drop();
        sleep_a_little(kRetryEvery);
        continue;
      }
      // Whatever was notified while no one listened is lost: move the epoch, report a loss.
      // Vouching waits for the first probe to come back.
      epoch_.fetch_add(1);
      changes_lost();
      asked_at = {};
      in_flight = 0;
      quiet_probe = 0;
      if (reported_down) log_.info("the change listener is connected again");
      reported_down = false;
    }
    // Every 250 ms a probe: the second session notifies this one's channel, as another server
    // would. Only its arrival vouches for the listener: a session that answers queries may still
    // hear nothing. Behind a transaction-mode pooler, LISTEN lands on a server connection that
    // goes back to the pool; what is notified to it while it is idle there is lost, but what is
    // notified while it happens to run one of our questions comes back with the answer. So a
    // probe vouches only when it arrives with no question asked since it was sent (nor in flight
    // when it was): questions wait for it, kQuietFor at most. A direct session hears it within
    // a millisecond; a pooled one never does.
    const auto now = std::chrono::steady_clock::now();
    if (in_flight == 0 && now - asked_at >= kAskEvery) {
      asked_at = now;
      const std::string probe =
          "SELECT pg_notify('ctxmgr_contexts', '" + probe_prefix + std::to_string(++probes) + "')";
      PGresult* r = PQexec(prober, probe.c_str());
      const bool sent = PQresultStatus(r) == PGRES_TUPLES_OK;
      PQclear(r);
      if (!sent) {
        drop();
        continue;
      }
      quiet_probe = probes;
    }
    if (notify_events_.exchange(false)) {
      const char* values[] = {schema_.c_str()};
      PGresult* r = PQexecParams(prober, "SELECT pg_notify('ctxmgr_events', $1)", 1, nullptr,
                                 values, nullptr, nullptr, 0);
      const bool sent = PQresultStatus(r) == PGRES_TUPLES_OK;
      PQclear(r);
      if (!sent) {
        drop();
        continue;
      }
    }
    if (quiet_probe != 0 && std::chrono::steady_clock::now() - asked_at >= kQuietFor) {
      quiet_probe = 0;  // not back in time: questions go on, and this probe vouches for nothing
    }
    // A caller waiting for a barrier gets a question on the listening session.
    if (in_flight == 0 && quiet_probe == 0) {
      std::lock_guard lock(barrier_mu_);
      if (barriers_wanted_ > barriers_sent_) {
        if (PQsendQuery(conn, "SELECT 1") == 0) {
          drop();
          continue;
        }
        PQflush(conn);
        in_flight = ++barriers_sent_;
      }
    }
    pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    const int ready = ::poll(fds, wake_fd_ >= 0 ? 2 : 1, quiet_probe != 0 ? 1 : 50);
    if (ready < 0) continue;
    if ((fds[1].revents & POLLIN) != 0) {
      std::uint64_t n = 0;
      [[maybe_unused]] const auto got = ::read(wake_fd_, &n, sizeof n);
    }
    if ((fds[0].revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(conn) == 0) {
      drop();
      continue;
    }
    bool broken = false;
    bool answered = false;
    while (in_flight != 0 && PQisBusy(conn) == 0) {
      PGresult* r = PQgetResult(conn);
      if (r == nullptr) {  // the answer is complete (its ReadyForQuery has been read)
        answered = true;
        break;
      }
      if (PQresultStatus(r) != PGRES_TUPLES_OK) broken = true;
      PQclear(r);
    }
    // PostgreSQL sends the notifications of every transaction committed before the question
    // ahead of the question's ReadyForQuery: recorded before the barrier is said to pass.
    while (PGnotify* n = PQnotifies(conn)) {
      const std::string_view channel(n->relname);
      const std::string_view extra = n->extra != nullptr ? n->extra : "";
      if (channel == "ctxmgr_contexts" && extra.starts_with(probe_prefix)) {
        if (quiet_probe != 0 && extra.substr(probe_prefix.size()) == std::to_string(quiet_probe)) {
          alive_at_ns_.store(now_ns());
          quiet_probe = 0;
        }
      } else if (channel == "ctxmgr_contexts") {
        context_changed(extra);
      } else if (channel == "ctxmgr_events") {
        if (n->extra != nullptr && n->extra == schema_) {
          std::lock_guard lock(wake_mu_);
          if (change_wake_) change_wake_();
        }
      } else {
        epoch_.fetch_add(1);
      }
      PQfreemem(n);
    }
    if (broken || PQstatus(conn) != CONNECTION_OK) {
      drop();
      continue;
    }
    if (answered) {
      {
        std::lock_guard lock(barrier_mu_);
        barriers_done_ = in_flight;
      }
      barrier_cv_.notify_all();
      in_flight = 0;
    }
  }
  if (conn != nullptr) PQfinish(conn);
  if (prober != nullptr) PQfinish(prober);
}

}  // namespace ctxmgr::pg
