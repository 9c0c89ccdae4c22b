#pragma once
// Group commit: changes that arrive together share one storage transaction and one commit (one
// fsync), the way a database groups its own WAL flushes. A change is queued; when fewer than
// `lanes` batches are running, a leader takes up to `max_batch` queued changes (waiting at most
// `max_wait` for more when the queue is short), runs each between a mark and — if it fails — an
// undo to that mark, appends the audit events of those that succeeded in one call (one
// statement), commits, then answers every change of the batch with its own outcome.
//
// Two ways in. run() blocks its caller, who leads a batch itself when a lane is free (with
// max_wait 0 a lone change is led at once by its own thread: no added latency). submit() returns
// at once and hands the outcome to a callback: its changes are led by this object's own threads
// (one a lane), so a transport needs no thread parked per write (docs/transport-http.md: Writes).
// Both kinds share the queue and its batches.
//
// Each change keeps its own outcome: one that fails (a 412, a constraint) is undone to its mark
// and answered alone, the others commit. Nothing is answered before the commit that holds it
// returned. A failed mark, undo, audit append or commit rolls the transaction back whole: none is
// half-written. If that failure came before the commit and the store is reachable, the batch's
// changes (but those answered already: a 412, a 404) each run once more alone, in a transaction
// of their own — a storage that holds writes may learn of an earlier change's failed insert only
// later (storage_batch.hpp), so the one at fault cannot be told apart; alone, it fails and the
// others commit. A change that failed inside a batch with a storage error (a deadlock with another
// server's batch, a uniqueness conflict with a change of the same batch) is likewise run once
// more alone. Never one that failed at commit (it may have landed), nor when the store is
// unavailable: those are answered with the error.
//
// Thread-safety: run() and submit() from any number of threads. The destructor answers every
// change submitted before it, then stops the threads; nothing may call in during or after it.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "ctxmgr/sdk/context_api.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_batch.hpp"

namespace ctxmgr::kernel {

class GroupCommit {
 public:
  struct Settings {
    std::size_t max_batch = 32;  // PostgreSQL keeps 64 subtransactions per backend cached
    std::chrono::microseconds max_wait{0};  // for more changes when fewer than max_batch wait
    std::size_t lanes = 2;                  // batches running at once (one commits, one fills)
  };
  using Change = std::function<sdk::Result<sdk::ApiResponse>(sdk::Transaction&, sdk::AuditEvent&)>;
  // Gets a submitted change's outcome. Runs on the thread that led its batch: it must not block
  // (hand the answer to the caller's own thread) and what it throws is dropped.
  using Then = std::function<void(sdk::Result<sdk::ApiResponse>)>;

  GroupCommit(sdk::Storage& storage, sdk::StorageBatch& batch, Settings settings);
  ~GroupCommit();
  GroupCommit(const GroupCommit&) = delete;
  GroupCommit& operator=(const GroupCommit&) = delete;

  // Runs `change` in a batch; `event` is its audit event as run_change would start it. Blocks
  // until the batch that held it committed or failed.
  sdk::Result<sdk::ApiResponse> run(const sdk::AuditEvent& event, const Change& change);

  // The same without waiting: queues `change` with its event and returns; `then` gets what run()
  // would have returned, once.
  void submit(sdk::AuditEvent event, Change change, Then then);

  // Adds what was counted since the last call to ctxmgr_group_commit_batches_total,
  // ctxmgr_group_commit_changes_total and ctxmgr_group_commit_retried_alone_total.
  void publish(sdk::Metrics& metrics);

 private:
  struct Slot {
    const sdk::AuditEvent* event = nullptr;
    const Change* change = nullptr;
    std::optional<sdk::Result<sdk::ApiResponse>> result;
    std::condition_variable wake;  // run()'s caller sleeps here
    bool taken = false;            // in a batch being led
    bool retry_alone = false;      // failed with a storage error inside the batch
    bool done = false;
    // A submitted change: its own copies, and who gets the outcome (nobody waits on `wake`).
    sdk::AuditEvent own_event;
    Change own_change;
    Then then;
  };
  // With the lock held, a lane free and the queue not empty: takes a batch, runs it (unlocked)
  // and answers it. `wake` is the leader's own condition, for a wait for the batch to fill.
  void lead_one(std::unique_lock<std::mutex>& lock, std::condition_variable& wake);
  // With the lock held: wakes whoever should lead the queue's first change, if a lane is free.
  void wake_next_leader();
  void lead(std::vector<Slot*>& batch);
  // lead(), with what it throws turned into every change's internal error.
  void lead_guarded(std::vector<Slot*>& batch) noexcept;
  // A change that failed inside a batch with a storage error, once more in a transaction alone.
  sdk::Result<sdk::ApiResponse> run_alone(const sdk::AuditEvent& event, const Change& change);
  // Gives a submitted change its outcome (running it alone first if it must), then frees it.
  void answer(Slot* slot) noexcept;
  void serve_submitted(std::condition_variable& wake);  // a lane's thread

  sdk::Storage& storage_;
  sdk::StorageBatch& batch_;
  Settings settings_;
  std::mutex mu_;  // guards everything below but the threads
  std::deque<Slot*> queue_;
  std::size_t leading_ = 0;
  std::condition_variable* filling_ = nullptr;  // a leader waiting for its batch to fill
  std::condition_variable idle_;                // the lanes' threads wait here for submissions
  bool stopping_ = false;
  std::uint64_t batches_ = 0, changes_ = 0, retried_alone_ = 0;  // since the last publish
  std::list<std::condition_variable> lane_wakes_;                // each lane thread's, for filling
  std::vector<std::thread> lanes_;
};

}  // namespace ctxmgr::kernel
