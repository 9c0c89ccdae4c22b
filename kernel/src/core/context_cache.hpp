#pragma once
// Contexts read by id, kept in memory so that a read needs no round trip to the store
// (docs/storage-postgres.md, docs/storage-sqlite.md: The context cache). Only for a storage that
// reports which contexts change (sdk::StorageContextChanges, ABI 1.5; SQLite's reports only that
// some context was rewritten or deleted, and everything is dropped); without it every call reads
// the store.
//
// Freshness: every lookup first applies what the storage reports changed, and the storage's
// report covers every change committed anywhere before the lookup began (by this server, another
// server or plain SQL: sdk::StorageContextChanges' contract, one shared round trip). So a read
// never returns a version older than one already acknowledged to anyone — the rule of
// ARCHITECTURE.md that no in-process cache may serve stale data after another process wrote.
// A check may be shared: the storage's report covers every change committed before the check
// began, so a lookup for a request that arrived before a check already applied began needs no
// check of its own (requests read together off the same loop share one round trip).
// This process also drops what it changes itself (invalidate(), after the commit). When the
// storage reports that it may have missed changes, everything is dropped; when it cannot vouch
// for its report (a listener's lost connection), nothing cached is used: every call reads the
// store, and fails with it. `ttl` bounds any entry's use in any case.
//
// A read that loaded from the store is kept only if no change was applied while it loaded (else
// it may predate a change whose drop already passed; a change that arrives later drops it at the
// next lookup). Contexts that do not exist are not kept, so random ids cannot fill memory. The
// cache holds at most `max_bytes` of documents and starts over when full; a document over an
// eighth of that is never kept.
//
// Thread-safety: every method may be called from many threads at once.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/cache_lookups.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"

namespace ctxmgr::kernel {

class ContextCache {
 public:
  struct Settings {
    std::chrono::milliseconds ttl{10000};  // 0: cache nothing
    std::size_t max_bytes = 32u << 20;     // 0: cache nothing
  };

  // `changes` may be null: then every call reads the store.
  ContextCache(sdk::Storage& storage, sdk::StorageContextChanges* changes, Settings settings);

  // As Storage::get (deleted contexts included); null when there is no such context. `received`:
  // when the request arrived (sdk::ContextApi::set_received_at), never before; time_point{}:
  // now.
  sdk::Result<std::shared_ptr<const sdk::ContextRow>> get(
      std::string_view id, std::chrono::steady_clock::time_point received = {});
  // This process has just changed (or tried to change) context `id`.
  void invalidate(std::string_view id);
  // Adds the lookups counted since the last call to ctxmgr_context_cache_lookups_total{result}:
  // hit (from memory), miss (read and kept when it could be), bypass (read, not kept: the
  // storage cannot vouch for its changes); and the checks for changes to
  // ctxmgr_context_cache_checks_total{result}: asked (of the storage), shared (a check applied
  // meanwhile began after the request arrived).
  void publish(sdk::Metrics& metrics);

 private:
  struct Entry {
    std::shared_ptr<const sdk::ContextRow> row;
    std::chrono::steady_clock::time_point at;
    std::size_t bytes;  // what it counts against max_bytes
  };
  // Looks ids up by string_view: no key is built for a read.
  struct IdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  bool enabled() const {
    return changes_ != nullptr && settings_.ttl.count() > 0 && settings_.max_bytes > 0;
  }
  // Drops what the storage reports changed since the last call, unless a check that began after
  // `received` was applied already; false when the storage cannot vouch.
  bool sync(std::chrono::steady_clock::time_point received);
  void clear_locked();
  void drop_locked(std::string_view id);  // with mu_ held

  sdk::Storage& storage_;
  sdk::StorageContextChanges* changes_;
  Settings settings_;
  std::shared_mutex mu_;                      // guards rows_, bytes_ and cursor_'s moves
  std::atomic<std::uint64_t> cursor_{0};      // of the storage's last applied report
  std::atomic<std::uint64_t> generation_{0};  // moves with every drop
  // When the latest check whose report is applied began (steady clock, ns): only moves forward.
  std::atomic<std::int64_t> checked_from_ns_{0};
  std::atomic<std::uint64_t> checks_asked_{0}, checks_shared_{0};
  std::unordered_map<std::string, Entry, IdHash, std::equal_to<>> rows_;
  std::size_t bytes_ = 0;
  CacheLookups lookups_;
};

}  // namespace ctxmgr::kernel
