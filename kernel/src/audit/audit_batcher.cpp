#include "audit/audit_batcher.hpp"

#include <algorithm>

#include "log/logging.hpp"

namespace ctxmgr::kernel {

AuditBatcher::AuditBatcher(sdk::Storage& storage, sdk::StorageBatch* batch,
                           std::chrono::milliseconds interval, std::size_t capacity,
                           sdk::Metrics* metrics)
    : storage_(storage),
      batch_(batch),
      capacity_(capacity),
      nudge_at_(std::max<std::size_t>(1, capacity / 4)),
      metrics_(metrics),
      worker_("the read-audit batcher", interval, [this] {
        if (auto st = flush(); !st) {
          kernel_log().warn("writing read audit events failed (will retry): {}",
                            st.error().message());
        }
      }) {
  gauge(0);
}

AuditBatcher::~AuditBatcher() { stop(); }

void AuditBatcher::stop() {
  worker_.stop();  // its last run flushes
  if (queued() == 0) return;
  if (auto st = flush(); !st) {
    kernel_log().error("{} read audit event(s) could not be written at shutdown: {}", queued(),
                       st.error().message());
  }
}

std::size_t AuditBatcher::queued() {
  std::lock_guard lock(mu_);
  return queue_.size() + inflight_;
}

sdk::Status AuditBatcher::add(sdk::AuditEvent event) {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      // The events a flush is writing count too: if it fails they come back in front.
      if (queue_.size() + inflight_ < capacity_) {
        queue_.push_back(std::move(event));
        // A quarter full: the thread writes now rather than at its interval, so that reads
        // faster than an interval's worth meet a full queue (and write it on their own thread,
        // a stall of every request on that loop) only when the store cannot keep up. The size
        // passes this mark once per fill: one nudge, not one per event.
        if (queue_.size() == nudge_at_) worker_.nudge();
        return {};
      }
    }
    // Full: write the queue on this thread first (backpressure). When that fails (the store is
    // unreachable or full), the event is not queued and the caller's read fails with the error:
    // the queue never grows past its capacity, and no read is served unaudited.
    if (auto st = flush(); !st) return st;
  }
}

sdk::Status AuditBatcher::flush() {
  std::lock_guard flushing(flush_mu_);
  std::vector<sdk::AuditEvent> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(queue_);
    inflight_ = batch.size();
  }
  if (batch.empty()) return {};
  gauge(batch.size());
  sdk::Status written;
  try {
    written = write(batch);
  } catch (const std::exception& e) {  // a plugin that throws loses no event either
    written =
        sdk::Error(sdk::Errc::internal, std::string("writing read audit events: ") + e.what());
  }
  std::size_t left = 0;
  {
    std::lock_guard lock(mu_);
    if (!written) {  // back in front, in order, for the next flush
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
    }
    inflight_ = 0;
    left = queue_.size();
  }
  gauge(left);
  return written;
}

void AuditBatcher::gauge(std::size_t queued) {
  if (metrics_ != nullptr) {
    metrics_->gauge_set("ctxmgr_audit_read_queue", "", static_cast<double>(queued));
  }
}

sdk::Status AuditBatcher::write(const std::vector<sdk::AuditEvent>& batch) {
  if (batch_ != nullptr) {  // many events per statement
    constexpr std::size_t kPerStatement = 1000;
    auto tx = batch_->begin_batch();
    if (!tx) return tx.error();
    for (std::size_t from = 0; from < batch.size(); from += kPerStatement) {
      const auto to = std::min(batch.size(), from + kPerStatement);
      const std::vector<sdk::AuditEvent> part(batch.begin() + static_cast<std::ptrdiff_t>(from),
                                              batch.begin() + static_cast<std::ptrdiff_t>(to));
      if (auto seqs = (*tx)->append_audits(part); !seqs) return seqs.error();
    }
    return (*tx)->commit();
  }
  auto tx = storage_.begin();
  if (!tx) return tx.error();
  for (const auto& e : batch) {
    if (auto seq = (*tx)->append_audit(e); !seq) return seq.error();
  }
  return (*tx)->commit();
}

}  // namespace ctxmgr::kernel
