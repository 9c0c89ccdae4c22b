#include "reader_pool.hpp"

#include <stdexcept>

namespace ctxmgr::sqlite {

void ReaderPool::open(std::size_t size, const std::function<void(soci::session&)>& open,
                      ctxmgr::sdk::Metrics& metrics) {
  metrics_ = &metrics;
  for (std::size_t i = 0; i < size; ++i) {
    auto slot = std::make_unique<ReaderSlot>();
    open(slot->sql);
    free_.push_back(slot.get());
    slots_.push_back(std::move(slot));
  }
  metrics.gauge_set("ctxmgr_sqlite_readers", "state=\"size\"", static_cast<double>(size));
  std::lock_guard lock(mu_);
  report_in_use();
}

void ReaderPool::report_in_use() {
  if (metrics_ != nullptr) {
    metrics_->gauge_set("ctxmgr_sqlite_readers", "state=\"in_use\"",
                        static_cast<double>(slots_.size() - free_.size()));
  }
}

void ReaderPool::close() {
  std::lock_guard lock(mu_);
  free_.clear();
  slots_.clear();
}

ReaderPool::Lease::~Lease() {
  if (slot_ == nullptr) return;
  {
    std::lock_guard lock(pool_->mu_);
    pool_->free_.push_back(slot_);
    pool_->report_in_use();
  }
  pool_->freed_.notify_one();
}

ReaderPool::Lease ReaderPool::acquire() {
  std::unique_lock lock(mu_);
  freed_.wait(lock, [&] { return !free_.empty() || slots_.empty(); });
  if (slots_.empty()) throw std::runtime_error("the storage is not started");
  ReaderSlot* slot = free_.back();
  free_.pop_back();
  report_in_use();
  return Lease(*this, *slot);
}

}  // namespace ctxmgr::sqlite
