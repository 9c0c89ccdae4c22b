#include "core/context_cache.hpp"

#include <mutex>

namespace ctxmgr::kernel {

namespace {

std::size_t bytes_of(const sdk::ContextRow& row) {
  return sizeof(row) + row.id.size() + row.agent_id.size() + row.context_data.size() +
         row.metadata.size() + row.created_by.size() + row.updated_by.size();
}

}  // namespace

ContextCache::ContextCache(sdk::Storage& storage, sdk::StorageContextChanges* changes,
                           Settings settings)
    : storage_(storage), changes_(changes), settings_(settings) {}

bool ContextCache::sync() {
  auto report = changes_->context_changes_since(cursor_.load(std::memory_order_acquire));
  if (!report) return false;
  if (report->complete && report->ids.empty() && report->cursor == cursor_.load()) return true;
  std::unique_lock lock(mu_);
  // Another thread may have applied part of this meanwhile: dropping an id twice costs nothing,
  // and the cursor only moves forward.
  if (!report->complete) {
    clear_locked();
  } else {
    for (const auto& id : report->ids) {
      if (auto it = rows_.find(id); it != rows_.end()) {
        bytes_ -= bytes_of(*it->second.row);
        rows_.erase(it);
      }
    }
  }
  generation_.fetch_add(1);
  if (report->cursor > cursor_.load()) cursor_.store(report->cursor, std::memory_order_release);
  return true;
}

sdk::Result<std::shared_ptr<const sdk::ContextRow>> ContextCache::get(std::string_view id) {
  using Row = std::shared_ptr<const sdk::ContextRow>;
  auto load = [&]() -> sdk::Result<Row> {
    auto loaded = storage_.get(id);
    if (!loaded) return loaded.error();
    if (!loaded->has_value()) return Row();
    return std::make_shared<const sdk::ContextRow>(std::move(**loaded));
  };
  if (!enabled()) return load();
  if (!sync()) {  // the store cannot vouch for what is cached: trust none of it
    bypasses_.fetch_add(1, std::memory_order_relaxed);
    return load();
  }
  const auto now = std::chrono::steady_clock::now();
  const std::string key(id);
  {
    std::shared_lock lock(mu_);
    auto it = rows_.find(key);
    if (it != rows_.end() && now - it->second.at < settings_.ttl) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return it->second.row;
    }
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t generation = generation_.load();
  auto loaded = load();
  if (!loaded || *loaded == nullptr) return loaded;
  const std::size_t size = bytes_of(**loaded);
  if (size > settings_.max_bytes / 8) return loaded;
  std::unique_lock lock(mu_);
  if (generation_.load() != generation) return loaded;
  if (bytes_ + size > settings_.max_bytes) clear_locked();
  auto [it, inserted] = rows_.try_emplace(key, Entry{*loaded, now});
  if (!inserted) {
    bytes_ -= bytes_of(*it->second.row);
    it->second = Entry{*loaded, now};
  }
  bytes_ += size;
  return loaded;
}

void ContextCache::invalidate(std::string_view id) {
  if (!enabled()) return;
  std::unique_lock lock(mu_);
  generation_.fetch_add(1);
  if (auto it = rows_.find(std::string(id)); it != rows_.end()) {
    bytes_ -= bytes_of(*it->second.row);
    rows_.erase(it);
  }
}

void ContextCache::clear_locked() {
  rows_.clear();
  bytes_ = 0;
}

void ContextCache::publish(sdk::Metrics& metrics) {
  constexpr std::string_view kName = "ctxmgr_context_cache_lookups_total";
  metrics.counter_add(kName, "result=\"hit\"", static_cast<double>(hits_.exchange(0)));
  metrics.counter_add(kName, "result=\"miss\"", static_cast<double>(misses_.exchange(0)));
  metrics.counter_add(kName, "result=\"bypass\"", static_cast<double>(bypasses_.exchange(0)));
}

}  // namespace ctxmgr::kernel
