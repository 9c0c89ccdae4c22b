#include "pg_replicas.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <deque>

#include "pg_sql.hpp"

namespace ctxmgr::pg {

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == text.size()) return {};
  std::uint32_t hi = 0, lo = 0;
  const auto a = std::from_chars(text.data(), text.data() + slash, hi, 16);
  const auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), lo, 16);
  if (a.ec != std::errc() || a.ptr != text.data() + slash || b.ec != std::errc() ||
      b.ptr != text.data() + text.size()) {
    return {};
  }
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

std::string format_lsn(std::uint64_t lsn) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xffffffffu));
  return buf;
}

ReplicaSet::ReplicaSet(Settings settings, std::function<std::optional<std::uint64_t>()> primary_lsn,
                       sdk::Logger& log, sdk::Metrics& metrics)
    : settings_(std::move(settings)),
      primary_lsn_(std::move(primary_lsn)),
      log_(log),
      metrics_(metrics) {
  for (std::size_t i = 0; i < settings_.urls.size(); ++i) {
    auto r = std::make_unique<Replica>();
    r->pool = std::make_unique<PgPool>(settings_.urls[i], settings_.on_connect, settings_.pool_size,
                                       settings_.acquire_timeout, settings_.prepare, log_, metrics_,
                                       "pool=\"replica" + std::to_string(i) + "\"");
    replicas_.push_back(std::move(r));
    metrics_.gauge_set("ctxmgr_postgres_replica_up", "replica=\"" + std::to_string(i) + "\"", 0);
  }
}

ReplicaSet::~ReplicaSet() { stop(); }

void ReplicaSet::start() {
  if (replicas_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { monitor(); });
}

void ReplicaSet::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  for (auto& r : replicas_) r->pool->close();
}

std::string ReplicaSet::describe() const {
  std::size_t up = 0;
  for (const auto& r : replicas_) up += r->up.load() ? 1 : 0;
  return std::to_string(up) + " of " + std::to_string(replicas_.size()) + " replica(s) in rotation";
}

std::vector<sdk::ReplicaState> ReplicaSet::states() const {
  std::vector<sdk::ReplicaState> out;
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    const auto& r = *replicas_[i];
    sdk::ReplicaState s;
    s.name = "replica" + std::to_string(i);
    s.in_rotation = r.up.load();
    std::lock_guard lock(r.state_mu);
    s.lag_seconds = r.lag_seconds;
    if (!s.in_rotation) s.reason = r.reason;
    out.push_back(std::move(s));
  }
  return out;
}

void ReplicaSet::count(bool on_replica) {
  metrics_.counter_add("ctxmgr_postgres_reads_total",
                       on_replica ? "target=\"replica\"" : "target=\"primary\"", 1);
}

void ReplicaSet::set_up(std::size_t i, bool up, std::string_view why) {
  bool first = false;  // the first check's outcome is logged whatever it is
  {
    std::lock_guard lock(replicas_[i]->state_mu);
    first = replicas_[i]->reason == kNotChecked;
    replicas_[i]->reason = up ? "" : std::string(why);
  }
  const bool was = replicas_[i]->up.exchange(up);
  metrics_.gauge_set("ctxmgr_postgres_replica_up", "replica=\"" + std::to_string(i) + "\"",
                     up ? 1 : 0);
  if (was != up || first) {
    const std::string text = "replica " + std::to_string(i) +
                             (up ? " in rotation" : " out of rotation: " + std::string(why));
    if (up) {
      log_.info(text);
    } else {
      log_.warn(text);
    }
  }
}

void ReplicaSet::failed(std::size_t replica) { set_up(replica, false, "its connection was lost"); }

std::uint64_t ReplicaSet::replay_position(std::size_t i) {
  auto lease = replicas_[i]->pool->acquire();
  if (!lease) return 0;
  try {
    std::string text;
    soci::indicator ind = soci::i_ok;
    lease->sql() << "SELECT pg_last_wal_replay_lsn()::text", soci::into(text, ind);
    const auto lsn = ind == soci::i_ok ? parse_lsn(text) : std::nullopt;
    return lsn.value_or(0);
  } catch (const std::exception& e) {
    if (connection_lost(e)) lease->mark_broken();
    return 0;
  }
}

std::optional<ReplicaSet::Lease> ReplicaSet::acquire(std::uint64_t floor) {
  const std::size_t n = replicas_.size();
  if (n == 0) return std::nullopt;
  const std::size_t first = next_.fetch_add(1);
  bool any_up = false;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (first + k) % n;
    auto& r = *replicas_[i];
    if (!r.up.load()) continue;
    any_up = true;
    if (r.replayed.load() < floor) continue;
    auto lease = r.pool->acquire();
    if (lease) return Lease{i, std::move(*lease)};
  }
  if (!any_up || floor == 0) return std::nullopt;
  // None known to have replayed the read's position yet: ask again until `wait` runs out.
  const auto deadline = std::chrono::steady_clock::now() + settings_.wait;
  while (std::chrono::steady_clock::now() < deadline) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (first + k) % n;
      auto& r = *replicas_[i];
      if (!r.up.load()) continue;
      const std::uint64_t at = replay_position(i);
      r.saw(at);
      if (at >= floor) {
        auto lease = r.pool->acquire();
        if (lease) return Lease{i, std::move(*lease)};
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

bool ReplicaSet::check(std::size_t i) {
  auto& r = *replicas_[i];
  auto lease = r.pool->acquire();
  if (!lease) {
    set_up(i, false, "unreachable");
    return false;
  }
  try {
    int standby = 0;
    std::string text;
    soci::indicator ind = soci::i_ok;
    lease->sql() << "SELECT CAST(pg_is_in_recovery() AS INTEGER), pg_last_wal_replay_lsn()::text",
        soci::into(standby), soci::into(text, ind);
    if (!standby) {
      set_up(i, false, "it is not a standby (promoted?)");
      return false;
    }
    const auto lsn = ind == soci::i_ok ? parse_lsn(text) : std::nullopt;
    if (!lsn) {
      set_up(i, false, "it has replayed nothing yet");
      return false;
    }
    r.saw(*lsn);
    return true;
  } catch (const std::exception& e) {
    if (connection_lost(e)) {
      lease->mark_broken();
      set_up(i, false, "unreachable");
      return false;
    }
    // The reason is shown by /readyz, which needs no token: the error itself only in the log.
    log_.warn("replica " + std::to_string(i) + ": checking it failed: " + loggable(e));
    set_up(i, false, "its check failed (see the log)");
    return false;
  }
}

void ReplicaSet::monitor() {
  // The primary's positions over the last while, with when they were seen: a replica that has
  // replayed position P is at least as fresh as the newest sample at or below P, so its lag is at
  // most the time since that sample.
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples;
  const auto keep = settings_.max_lag * 2 + settings_.check * 4;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (const auto primary = primary_lsn_()) samples.emplace_back(now, *primary);
    while (!samples.empty() && now - samples.front().first > keep) samples.pop_front();
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
      if (!check(i)) continue;
      const std::uint64_t at = replicas_[i]->replayed.load();
      std::chrono::steady_clock::duration lag{};
      if (!samples.empty() && at < samples.back().second) {
        // The newest sample at or below what it has replayed; none: older than every one kept.
        const auto newest = std::find_if(samples.rbegin(), samples.rend(),
                                         [at](const auto& sample) { return sample.second <= at; });
        lag = newest == samples.rend() ? keep : now - newest->first;
      }
      const double seconds = std::chrono::duration<double>(lag).count();
      {
        std::lock_guard lock(replicas_[i]->state_mu);
        replicas_[i]->lag_seconds = seconds;
      }
      metrics_.gauge_set("ctxmgr_postgres_replica_lag_seconds",
                         "replica=\"" + std::to_string(i) + "\"", seconds);
      if (lag > settings_.max_lag) {
        set_up(i, false,
               "it lags " + std::to_string(static_cast<long long>(seconds * 1000)) +
                   " ms behind the primary");
      } else {
        set_up(i, true, "");
      }
    }
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, settings_.check, [&] { return stopping_; })) return;
  }
}

}  // namespace ctxmgr::pg
