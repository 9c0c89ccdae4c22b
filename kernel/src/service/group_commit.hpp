#pragma once
// Group commit: changes that arrive together share one storage transaction and one commit (one
// fsync), the way a database groups its own WAL flushes. A caller queues its change and waits;
// when fewer than `lanes` batches are running, it leads one: it takes up to `max_batch` queued
// changes (its own among the first, waiting at most `max_wait` for more when the queue is short),
// runs each between a mark and — if it fails — an undo to that mark, appends the audit events of
// those that succeeded in one call (one statement), commits, then wakes every caller of the batch
// with its own outcome.
//
// Each change keeps its own outcome: one that fails (a 412, a constraint) is undone to its mark
// and answered alone, the others commit. Nothing is answered before the commit that holds it
// returned. A failed mark, undo, audit append or commit rolls the transaction back whole: none is
// half-written. If that failure came before the commit and the store is reachable, the batch's
// changes (but those answered already: a 412, a 404) each run once more alone, in a transaction
// of their own, by their own callers — a storage that holds writes may learn of an earlier
// change's failed insert only later (storage_batch.hpp), so the one at fault cannot be told
// apart; alone, it fails and the others commit. A change that failed inside a batch with a
// storage error (a deadlock with another server's batch, a uniqueness conflict with a change of
// the same batch) is likewise run once more alone. Never one that failed at commit (it may have
// landed), nor when the store is unavailable: those are answered with the error.
//
// With max_wait 0 a lone request is led at once by its own thread: no added latency.
// Thread-safety: run() from any number of threads.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
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

  GroupCommit(sdk::Storage& storage, sdk::StorageBatch& batch, Settings settings);

  // Runs `change` in a batch; `event` is its audit event as run_change would start it. Blocks
  // until the batch that held it committed or failed.
  sdk::Result<sdk::ApiResponse> run(const sdk::AuditEvent& event, const Change& change);

  // Adds what was counted since the last call to ctxmgr_group_commit_batches_total,
  // ctxmgr_group_commit_changes_total and ctxmgr_group_commit_retried_alone_total.
  void publish(sdk::Metrics& metrics);

 private:
  struct Slot {
    const sdk::AuditEvent* event = nullptr;
    const Change* change = nullptr;
    std::optional<sdk::Result<sdk::ApiResponse>> result;
    std::condition_variable wake;  // its caller sleeps here
    bool taken = false;            // in a batch being led
    bool retry_alone = false;      // failed with a storage error inside the batch
    bool done = false;
  };
  void lead(std::vector<Slot*>& batch);
  // lead(), with what it throws turned into every change's internal error.
  void lead_guarded(std::vector<Slot*>& batch) noexcept;

  sdk::Storage& storage_;
  sdk::StorageBatch& batch_;
  Settings settings_;
  std::mutex mu_;  // guards everything below
  std::deque<Slot*> queue_;
  std::size_t leading_ = 0;
  Slot* filling_ = nullptr;  // a leader waiting up to max_wait for its batch to fill
  std::uint64_t batches_ = 0, changes_ = 0, retried_alone_ = 0;  // since the last publish
};

}  // namespace ctxmgr::kernel
