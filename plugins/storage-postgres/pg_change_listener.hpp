#pragma once
// What a PostgreSQL database tells its servers has changed, without I/O on the asking thread:
// - the access epoch (sdk::StorageAccessEpoch): the triggers of 07_access_epoch notify channel
//   ctxmgr_access when a change to agents, tokens or grants commits;
// - the changed contexts (sdk::StorageContextChanges): the triggers of 08_context_changes notify
//   channel ctxmgr_contexts with the schema and the id of each context updated or deleted;
// - that a change was committed (sdk::StorageChangeWake): a server that commits a change of the
//   change feed tells the others with notify_events() (channel ctxmgr_events, payload the schema),
//   and the change feed's wake is called where it arrives.
// A thread of this process LISTENs on a libpq connection of its own and records both as they
// arrive, whichever server made the change.
//
// A notification sent while the connection was down is lost; so the listener vouches for what it
// recorded only while it knows notifications reach it: every 250 ms a second session of its own
// notifies the channel (a probe, "<schema>?<listener>:<n>"), as another server would, and when no
// probe has come back for a second both are unavailable. A session that answers queries is not
// enough: behind a transaction-mode pooler LISTEN hears nothing of what is notified while it is
// idle, and a probe counts only when it came back with no question of ours in between (run()).
// After a reconnect the epoch moves and the context changes report a loss (something may have
// changed meanwhile).
//
// Context changes are also a barrier, so that a cache built on them never serves what another
// server has already changed: context_changes_since() waits for the answer to a question asked
// after it was called, and PostgreSQL sends the notifications of every transaction committed
// before a question ahead of that question's answer (its ReadyForQuery). Callers that arrive
// together share one question: one round trip for any number of readers.
//
// Thread-safety: epoch() and context_changes_since() from any thread; start and stop from the
// plugin's start and stop.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"

namespace ctxmgr::pg {

class ChangeListener {
 public:
  explicit ChangeListener(sdk::Logger& log);
  ~ChangeListener();
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // `setup`: statements run on each new connection first, as the pool's (may be empty).
  // `schema` names the connection (application_name ctxmgr-listener:<schema>) and selects the
  // context notifications that concern this storage.
  void start(std::string conninfo, std::string setup, std::string schema);
  void stop() noexcept;
  // What to call (on the listener's thread) when a change to this schema is notified; empty:
  // nothing. Never called once this returned with an empty function.
  void set_change_wake(std::function<void()> wake);
  sdk::Result<std::uint64_t> epoch() const;
  // Tells every server of the schema that a change of the change feed was committed: one NOTIFY
  // ctxmgr_events from the prober session, soon after, for however many calls came meanwhile.
  // Outside the writer's transaction on purpose: a transaction that notifies holds PostgreSQL's
  // notify lock through its commit's WAL flush, so committing writers would queue behind each
  // other (and a row trigger per audit event cost a sixth of the creates). A notification lost
  // with a crash or a dropped connection costs the others one `events.poll_ms`. Any thread.
  void notify_events();
  // As sdk::StorageContextChanges::context_changes_since: waits (at most a second) for a
  // question asked after the call, then reports what was notified before its answer.
  sdk::Result<sdk::ContextChanges> context_changes_since(std::uint64_t cursor) const;

 private:
  // How many changed ids are kept for callers that have not asked yet; a caller further behind
  // is told it missed some.
  static constexpr std::size_t kKeep = 16384;

  void run();
  bool vouched() const;
  // Returns once a question asked after the call has its answer; unavailable after a second or
  // when the connection is lost.
  sdk::Status barrier() const;
  void wake() const;  // interrupts the listener's poll
  std::atomic<bool> notify_events_{false};  // notify_events() was called since the last NOTIFY
  // A notification on ctxmgr_contexts: the id of a context of our schema, or our schema alone.
  void context_changed(std::string_view payload);
  // Changes may have been missed (a reconnect, a truncate): callers behind this point drop all.
  void changes_lost();

  sdk::Logger& log_;
  std::string conninfo_;
  std::string setup_;
  std::string schema_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<std::int64_t> alive_at_ns_{0};  // steady clock of the last probe heard; 0: none

  mutable std::mutex changes_mu_;      // guards changed_ and lost_through_, and orders seq_'s moves
  std::atomic<std::uint64_t> seq_{0};  // the last change's number (ids and losses alike)
  std::uint64_t lost_through_ = 0;     // the number of the last loss
  std::deque<std::pair<std::uint64_t, std::string>> changed_;  // (number, id), oldest first

  // Questions (SELECT 1) numbered from 1: the highest a caller waits for, the last sent, the
  // last answered. Guarded by barrier_mu_.
  mutable std::mutex barrier_mu_;
  mutable std::condition_variable barrier_cv_;
  mutable std::uint64_t barriers_wanted_ = 0;
  std::uint64_t barriers_sent_ = 0;
  std::uint64_t barriers_done_ = 0;
  int wake_fd_;  // an eventfd the listener polls beside its connection
  std::mutex wake_mu_;  // guards change_wake_, held while it is called
  std::function<void()> change_wake_;
  std::thread thread_;
};

}  // namespace ctxmgr::pg
