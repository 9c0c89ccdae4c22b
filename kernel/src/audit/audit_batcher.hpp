#pragma once
// Read auditing in batches: events are queued in memory and written together, in one
// transaction, every `interval` by a background thread — sooner once the queue is a quarter full
// (reads faster than the thread's interval). A read costs no write of its own; what a
// crash (kill -9, power loss) can lose is the queue: at most `interval` of read events. A full
// queue is written at once on the caller's thread (backpressure), so nothing is dropped for lack
// of room. If the store is unreachable, the queued events stay and are retried; once the queue is
// full and cannot be written, a new event is refused (its read fails with the store's error, 503)
// so the queue never holds more than `capacity` events.
// Metrics: ctxmgr_audit_read_queue, the events queued when a flush began and, after it, those
// still queued (0 once written; growing while the store refuses them): the audit backlog.

#include <chrono>
#include <mutex>
#include <vector>

#include "audit/periodic.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_batch.hpp"

namespace ctxmgr::kernel {

class AuditBatcher {
 public:
  // `batch` (may be null) writes many events per statement (StorageBatch::append_audits).
  // `metrics` (may be null) outlives the batcher.
  AuditBatcher(sdk::Storage& storage, sdk::StorageBatch* batch, std::chrono::milliseconds interval,
               std::size_t capacity, sdk::Metrics* metrics = nullptr);
  ~AuditBatcher();

  void start() { worker_.start(); }
  // Writes what is queued and joins the thread.
  void stop();
  // Queues one event; writes the queue first when it is full.
  sdk::Status add(sdk::AuditEvent event);
  // Writes every queued event now.
  // Writes every queued event now; on failure (an error or an exception of the store's) they
  // stay queued, in order, and the error is returned.
  sdk::Status flush();
  std::size_t queued();

 private:
  // One transaction of `batch`, many events per statement when the storage can.
  sdk::Status write(const std::vector<sdk::AuditEvent>& batch);
  void gauge(std::size_t queued);
  sdk::Storage& storage_;
  sdk::StorageBatch* batch_;
  std::size_t capacity_;
  std::size_t nudge_at_;  // queued events that wake the thread before its interval
  sdk::Metrics* metrics_;
  std::mutex mu_;        // guards queue_ and inflight_
  std::mutex flush_mu_;  // one flush at a time, so events are written in the order queued
  std::vector<sdk::AuditEvent> queue_;
  // Events a flush has taken and is writing: with queue_, never more than capacity_ (a failed
  // flush puts them back in front of what was queued meanwhile).
  std::size_t inflight_ = 0;
  Periodic worker_;  // last: its thread stops before the members it uses go
};

}  // namespace ctxmgr::kernel
