#include "audit/audit_batcher.hpp"

#include "log/logging.hpp"

namespace ctxmgr::kernel {

AuditBatcher::AuditBatcher(sdk::Storage& storage, std::chrono::milliseconds interval,
                           std::size_t capacity)
    : storage_(storage), interval_(interval), capacity_(capacity) {}

AuditBatcher::~AuditBatcher() { stop(); }

void AuditBatcher::start() { thread_ = std::thread([this] { run(); }); }

void AuditBatcher::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  if (auto st = flush(); !st) {
    kernel_log().error("{} read audit event(s) could not be written at shutdown: {}", queued(),
                       st.error().message());
  }
}

std::size_t AuditBatcher::queued() {
  std::lock_guard lock(mu_);
  return queue_.size();
}

sdk::Status AuditBatcher::add(sdk::AuditEvent event) {
  bool full = false;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(event));
    full = queue_.size() >= capacity_;
  }
  if (full) return flush();
  return {};
}

sdk::Status AuditBatcher::flush() {
  std::lock_guard flushing(flush_mu_);
  std::vector<sdk::AuditEvent> batch;
  {
    std::lock_guard lock(mu_);
    batch.swap(queue_);
  }
  if (batch.empty()) return {};
  auto requeue = [&](const sdk::Error& e) {
    std::lock_guard lock(mu_);
    queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                  std::make_move_iterator(batch.end()));
    return e;
  };
  auto tx = storage_.begin();
  if (!tx) return requeue(tx.error());
  for (const auto& e : batch) {
    if (auto seq = (*tx)->append_audit(e); !seq) return requeue(seq.error());
  }
  if (auto st = (*tx)->commit(); !st) return requeue(st.error());
  return {};
}

void AuditBatcher::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [&] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    if (auto st = flush(); !st) {
      kernel_log().warn("writing read audit events failed (will retry): {}", st.error().message());
    }
    lock.lock();
  }
}

}  // namespace ctxmgr::kernel
