#include "core/access_cache.hpp"

#include <algorithm>
#include <mutex>

namespace ctxmgr::kernel {

namespace {

// Keys of several parts: '\n' appears in no id.
std::string key_of(std::string_view a, std::string_view b, std::string_view c = {}) {
  std::string key;
  key.reserve(a.size() + b.size() + c.size() + 2);
  key.append(a).push_back('\n');
  key.append(b).push_back('\n');
  key.append(c);
  return key;
}

template <class V>
bool is_empty(const std::optional<V>& v) {
  return !v.has_value();
}
template <class V>
bool is_empty(const std::vector<V>&) {
  return false;
}
bool is_empty(bool) { return false; }

}  // namespace

AccessCache::AccessCache(sdk::Storage& storage, sdk::StorageAccessEpoch* epoch, Settings settings)
    : storage_(storage), epoch_(epoch), settings_(settings) {}

template <class V, class Load>
sdk::Result<V> AccessCache::lookup(Map<V>& map, const std::string& key, Load&& load,
                                   bool keep_empty) {
  if (epoch_ == nullptr || settings_.ttl.count() <= 0) return load();
  const auto epoch = epoch_->access_epoch();
  if (!epoch) {  // the store cannot vouch for what is cached: trust none of it
    lookups_.bypass();
    return load();
  }
  const auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock lock(mu_);
    if (seen_epoch_ == *epoch) {
      auto it = map.find(key);
      if (it != map.end() && now - it->second.at < settings_.ttl) {
        lookups_.hit();
        return it->second.value;
      }
    }
  }
  lookups_.miss();
  const std::uint64_t generation = generation_.load();
  sdk::Result<V> loaded = load();
  if (!loaded || (!keep_empty && is_empty(*loaded))) return loaded;
  // Stored only when neither the store's epoch nor this process's generation moved while it
  // loaded: else it may predate a change whose invalidation already passed.
  const auto after = epoch_->access_epoch();
  if (!after || *after != *epoch) return loaded;
  std::unique_lock lock(mu_);
  if (seen_epoch_ != *epoch) {
    clear_locked();
    seen_epoch_ = *epoch;
  }
  if (generation_.load() != generation) return loaded;
  if (map.size() >= settings_.max_entries) map.clear();
  map.insert_or_assign(key, Entry<V>{*loaded, now});
  return loaded;
}

void AccessCache::clear_locked() {
  by_token_.clear();
  by_id_.clear();
  permissions_.clear();
  owner_grants_.clear();
}

void AccessCache::publish(sdk::Metrics& metrics) {
  constexpr std::string_view kName = "ctxmgr_access_cache_lookups_total";
  lookups_.publish(metrics, kName);
}

void AccessCache::invalidate() {
  std::unique_lock lock(mu_);
  generation_.fetch_add(1);
  clear_locked();
}

sdk::Result<std::optional<sdk::AgentRow>> AccessCache::agent_by_token(std::string_view token_hash) {
  return lookup(
      by_token_, std::string(token_hash), [&] { return storage_.agent_by_token(token_hash); },
      false);
}

sdk::Result<std::optional<sdk::AgentRow>> AccessCache::agent(std::string_view agent_id) {
  return lookup(
      by_id_, std::string(agent_id), [&] { return storage_.get_agent(agent_id); }, true);
}

sdk::Result<std::vector<std::string>> AccessCache::permissions(std::string_view context_id,
                                                               std::string_view owner_id,
                                                               std::string_view agent_id) {
  return lookup(
      permissions_, key_of(context_id, owner_id, agent_id),
      [&] { return storage_.permissions(context_id, owner_id, agent_id); }, true);
}

sdk::Result<bool> AccessCache::has_owner_grant(std::string_view owner_id,
                                               std::string_view agent_id) {
  return lookup(
      owner_grants_, key_of(owner_id, agent_id),
      [&]() -> sdk::Result<bool> {
        auto grants = storage_.grants(sdk::GrantScope::owner, owner_id);
        if (!grants) return grants.error();
        return std::any_of(grants->begin(), grants->end(),
                           [&](const sdk::GrantRow& g) { return g.agent_id == agent_id; });
      },
      true);
}

}  // namespace ctxmgr::kernel
