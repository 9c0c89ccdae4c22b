#pragma once
// What authentication and access checks read from the store — agents by verified token hash,
// agents by id, grants — kept in memory so that a request needs no round trip to learn who its
// caller is and what it may do (docs/security.md: The access cache).
//
// Freshness: an entry is dropped when the storage's access epoch moves (a change to agents,
// tokens or grants committed by any process, seen within one second), when this process changes
// them itself (invalidate(), at once), or after `ttl` in any case. When the storage cannot vouch
// for its epoch (a listener's lost connection), nothing cached is used: every call reads the
// store, and fails with it — so a revoked token is never served from memory indefinitely. A
// storage without the capability (ABI < 1.4) gets no caching at all.
//
// Only what exists is cached for tokens: an unknown token is looked up every time (the failed-
// auth limiter bounds those), so random tokens cannot fill memory. The cache holds at most
// `max_entries` per kind and starts over when full.
//
// Thread-safety: every method may be called from many threads at once.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/cache_lookups.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_access_epoch.hpp"

namespace ctxmgr::kernel {

class AccessCache {
 public:
  struct Settings {
    std::chrono::milliseconds ttl{10000};  // 0: cache nothing
    std::size_t max_entries = 100000;      // per kind
  };

  // `epoch` may be null: then every call reads the store.
  AccessCache(sdk::Storage& storage, sdk::StorageAccessEpoch* epoch, Settings settings);

  sdk::Storage& storage() { return storage_; }
  // The agent a token hash belongs to (disabled ones included), as Storage::agent_by_token.
  sdk::Result<std::optional<sdk::AgentRow>> agent_by_token(std::string_view token_hash);
  // A registered agent, as Storage::get_agent.
  sdk::Result<std::optional<sdk::AgentRow>> agent(std::string_view agent_id);
  // As Storage::permissions.
  sdk::Result<std::vector<std::string>> permissions(std::string_view context_id,
                                                    std::string_view owner_id,
                                                    std::string_view agent_id);
  // Whether `agent_id` holds a grant on every context of `owner_id`.
  sdk::Result<bool> has_owner_grant(std::string_view owner_id, std::string_view agent_id);
  // Drops everything: this process has just committed a change to agents, tokens or grants.
  void invalidate();
  // Adds the lookups counted since the last call to ctxmgr_access_cache_lookups_total{result}:
  // hit (from memory), miss (read and kept), bypass (read, not kept: no epoch to trust).
  void publish(sdk::Metrics& metrics);

 private:
  template <class V>
  struct Entry {
    V value;
    std::chrono::steady_clock::time_point at;
  };
  template <class V>
  using Map = std::unordered_map<std::string, Entry<V>>;
  // The cached value of `key`, else load() — stored when nothing moved while it loaded.
  template <class V, class Load>
  sdk::Result<V> lookup(Map<V>& map, const std::string& key, Load&& load, bool keep_empty);
  void clear_locked();

  sdk::Storage& storage_;
  sdk::StorageAccessEpoch* epoch_;
  Settings settings_;
  std::shared_mutex mu_;  // guards the maps and seen_epoch_
  std::uint64_t seen_epoch_ = 0;
  std::atomic<std::uint64_t> generation_{0};  // moves with every invalidate()
  Map<std::optional<sdk::AgentRow>> by_token_;
  Map<std::optional<sdk::AgentRow>> by_id_;
  Map<std::vector<std::string>> permissions_;
  Map<bool> owner_grants_;
  CacheLookups lookups_;
};

}  // namespace ctxmgr::kernel
