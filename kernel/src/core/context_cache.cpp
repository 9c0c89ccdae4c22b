#include "core/context_cache.hpp"

#include <mutex>

namespace ctxmgr::kernel {

namespace {

std::size_t bytes_of(const sdk::ContextRow& row) {
  return sizeof(row) + row.id.size() + row.agent_id.size() + row.context_data.size() +
         row.metadata.size() + row.created_by.size() + row.updated_by.size();
}

std::int64_t steady_ns(std::chrono::steady_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

// Moves `to` forward to `at`, never back.
void advance(std::atomic<std::int64_t>& to, std::int64_t at) {
  std::int64_t seen = to.load(std::memory_order_relaxed);
  while (seen < at && !to.compare_exchange_weak(seen, at, std::memory_order_release)) {
  }
}

}  // namespace

ContextCache::ContextCache(sdk::Storage& storage, sdk::StorageContextChanges* changes,
                           Settings settings)
    : storage_(storage), changes_(changes), settings_(settings) {}

bool ContextCache::sync(std::chrono::steady_clock::time_point received) {
  // A check applied already began after this request arrived: its report holds every change
  // acknowledged before the request was sent, and the drops it caused are visible here (the
  // acquire pairs with the release of the thread that applied it).
  if (received != std::chrono::steady_clock::time_point{} &&
      checked_from_ns_.load(std::memory_order_acquire) > steady_ns(received)) {
    checks_shared_.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  checks_asked_.fetch_add(1, std::memory_order_relaxed);
  const std::int64_t began = steady_ns(std::chrono::steady_clock::now());
  auto report = changes_->context_changes_since(cursor_.load(std::memory_order_acquire));
  if (!report) return false;
  if (report->complete && report->ids.empty() && report->cursor == cursor_.load()) {
    advance(checked_from_ns_, began);
    return true;
  }
  std::unique_lock lock(mu_);
  // Another thread may have applied part of this meanwhile: dropping an id twice costs nothing,
  // and the cursor only moves forward.
  if (!report->complete) {
    clear_locked();
  } else {
    for (const auto& id : report->ids) drop_locked(id);
  }
  generation_.fetch_add(1);
  if (report->cursor > cursor_.load()) cursor_.store(report->cursor, std::memory_order_release);
  advance(checked_from_ns_, began);
  return true;
}

sdk::Result<std::shared_ptr<const sdk::ContextRow>> ContextCache::get(
    std::string_view id, std::chrono::steady_clock::time_point received) {
  using Row = std::shared_ptr<const sdk::ContextRow>;
  auto load = [&]() -> sdk::Result<Row> {
    auto loaded = storage_.get(id);
    if (!loaded) return loaded.error();
    if (!loaded->has_value()) return Row();
    return std::make_shared<const sdk::ContextRow>(std::move(**loaded));
  };
  if (!enabled()) return load();
  if (!sync(received)) {  // the store cannot vouch for what is cached: trust none of it
    lookups_.bypass();
    return load();
  }
  const auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock lock(mu_);
    auto it = rows_.find(id);
    if (it != rows_.end() && now - it->second.at < settings_.ttl) {
      lookups_.hit();
      return it->second.row;
    }
  }
  lookups_.miss();
  const std::uint64_t generation = generation_.load();
  auto loaded = load();
  if (!loaded || *loaded == nullptr) return loaded;
  const std::size_t size = bytes_of(**loaded);
  if (size > settings_.max_bytes / 8) return loaded;
  std::unique_lock lock(mu_);
  if (generation_.load() != generation) return loaded;
  drop_locked(id);  // a concurrent miss may have kept it first
  if (bytes_ + size > settings_.max_bytes) clear_locked();
  rows_.emplace(std::string(id), Entry{*loaded, now, size});
  bytes_ += size;
  return loaded;
}

void ContextCache::invalidate(std::string_view id) {
  if (!enabled()) return;
  std::unique_lock lock(mu_);
  generation_.fetch_add(1);
  drop_locked(id);
}

void ContextCache::drop_locked(std::string_view id) {
  if (auto it = rows_.find(id); it != rows_.end()) {
    bytes_ -= it->second.bytes;
    rows_.erase(it);
  }
}

void ContextCache::clear_locked() {
  rows_.clear();
  bytes_ = 0;
}

void ContextCache::publish(sdk::Metrics& metrics) {
  lookups_.publish(metrics, "ctxmgr_context_cache_lookups_total");
  metrics.counter_add("ctxmgr_context_cache_checks_total", "result=\"asked\"",
                      static_cast<double>(checks_asked_.exchange(0)));
  metrics.counter_add("ctxmgr_context_cache_checks_total", "result=\"shared\"",
                      static_cast<double>(checks_shared_.exchange(0)));
}

}  // namespace ctxmgr::kernel
