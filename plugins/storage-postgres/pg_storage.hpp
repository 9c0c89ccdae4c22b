#pragma once
// storage-postgres: PostgreSQL through SOCI's postgresql backend, for several stateless ctxmgr
// processes on one database. Correctness across processes comes from the database alone: a
// change locks its row (SELECT ... FOR UPDATE) for its transaction, migrations run under an
// advisory lock. The plugin itself caches no data read (only BM25's corpus figures, which weigh
// scores and never decide what a client reads); it tells the kernel what changed, so the kernel's
// caches of tokens, grants and contexts follow every server's changes (pg_change_listener.hpp).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/options.hpp"
#include "ctxmgr/sdk/storage_access_epoch.hpp"
#include "ctxmgr/sdk/storage_backup.hpp"
#include "ctxmgr/sdk/storage_batch.hpp"
#include "ctxmgr/sdk/storage_change_wake.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"
#include "ctxmgr/sdk/storage_erasure.hpp"
#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "ctxmgr/sdk/storage_read_routing.hpp"
#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "ctxmgr/sdk/storage_retention.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "pg_change_listener.hpp"
#include "pg_pool.hpp"
#include "pg_replicas.hpp"
#include "pg_sql.hpp"

namespace ctxmgr::pg {

// Where the calling thread's reads may go (StorageReadRouting: the kernel sets it around each
// request). `floor`: a replica must have replayed this WAL position (0: any in rotation);
// `primary`: every read to the primary (the request wrote).
struct ReadRoute {
  std::uint64_t floor = 0;
  bool primary = false;
};
// Initial-exec: an offset from the thread pointer, no __tls_get_addr call. This object is
// dlopen'ed, so a thread_local would otherwise live in a dynamic TLS block reached through
// __tls_get_addr, which GCC 12's TSan runtime intercepts and can misread (it crashed every
// PostgreSQL request under TSan; scripts/sanitize.sh has the same runtime bug's ASan side). 16
// bytes fit the static TLS room glibc keeps for objects loaded later.
[[gnu::tls_model("initial-exec")]] inline thread_local ReadRoute t_read_route;

// BM25's corpus figures: live contexts and their mean vector length (from a sample of 1 000),
// and each lexeme's share of them from ANALYZE's statistics.
struct SearchCorpus {
  double docs = 0;
  double avg_length = 1;
  std::unordered_map<std::string, double> lexeme_freq;  // empty: not analysed yet
  double other_freq = 0;
};

class PgStorage final : public sdk::StorageSearch,
                        public sdk::StorageBackup,
                        public sdk::StorageRetention,
                        public sdk::StorageAccessEpoch,
                        public sdk::StorageBatch,
                        public sdk::StorageContextChanges,
                        public sdk::StorageVectors,
                        public sdk::StorageVectorChanges,
                        public sdk::StorageMemoryFiles,
                        public sdk::StorageErasure,
                        public sdk::StorageChangeWake,
                        public sdk::StorageWebhooks,
                        public sdk::StorageReceivedGrants,
                        public sdk::StorageReadRouting {
 public:
  PgStorage(sdk::Host& host, const sdk::Options& options);
  ~PgStorage() override;

  sdk::Status start() override;
  void stop() noexcept override;

  sdk::Result<std::unique_ptr<sdk::Transaction>> begin() override;
  // StorageBatch: begin() is a batch transaction that no one marks.
  sdk::Result<std::unique_ptr<sdk::BatchTransaction>> begin_batch() override;
  sdk::Result<std::optional<sdk::ContextRow>> get(std::string_view id) override;
  sdk::Result<std::optional<sdk::HistoryRow>> get_version(std::string_view id,
                                                          std::int64_t version) override;
  sdk::Result<std::vector<sdk::HistoryRow>> history(std::string_view id,
                                                    std::int64_t before_version,
                                                    std::int64_t limit) override;
  sdk::Result<std::vector<sdk::ContextRow>> list(const sdk::ListQuery& query) override;
  sdk::Result<std::vector<sdk::AuditEvent>> audit(const sdk::AuditQuery& query) override;
  sdk::Result<std::vector<sdk::AuditEvent>> audit_range(std::int64_t after_seq,
                                                        std::int64_t through_seq,
                                                        std::int64_t limit) override;
  sdk::Result<std::int64_t> audit_horizon() override;
  sdk::Result<std::vector<sdk::AuditSeal>> seals(std::int64_t after_seq,
                                                 std::int64_t limit) override;
  sdk::Result<std::optional<sdk::AgentRow>> get_agent(std::string_view agent_id) override;
  sdk::Result<std::vector<sdk::AgentRow>> list_agents(std::string_view after_id,
                                                      std::int64_t limit) override;
  sdk::Result<std::optional<sdk::AgentRow>> agent_by_token(std::string_view token_hash) override;
  sdk::Result<std::vector<sdk::GrantRow>> grants(sdk::GrantScope scope,
                                                 std::string_view scope_id) override;
  sdk::Result<std::vector<std::string>> permissions(std::string_view context_id,
                                                    std::string_view owner_id,
                                                    std::string_view agent_id) override;
  sdk::Result<sdk::StoreStats> stats() override;
  sdk::Status ping() override;
  sdk::Result<sdk::SchemaStatus> schema_status() override;
  sdk::Result<std::vector<std::string>> migrate() override;

  // StorageSearch (pg_search.cpp).
  sdk::Result<std::vector<sdk::SearchHit>> search(const sdk::SearchQuery& query) override;
  sdk::Result<std::int64_t> append_selection(const sdk::SelectionRecord& record) override;
  sdk::Result<std::optional<sdk::SelectionRecord>> selection(std::int64_t id) override;
  sdk::Result<std::vector<sdk::SelectionRecord>> selections(std::string_view agent_id,
                                                            std::int64_t before_id,
                                                            std::int64_t limit) override;

  // StorageBackup (pg_backup.cpp).
  sdk::Status export_all(sdk::BackupSink& sink) override;
  sdk::Result<bool> is_empty() override;
  sdk::Result<std::unique_ptr<sdk::RestoreTransaction>> begin_restore() override;

  // StorageAccessEpoch: moved by notifications on ctxmgr_access (pg_change_listener.hpp).
  sdk::Result<std::uint64_t> access_epoch() override { return listener_.epoch(); }
  // StorageContextChanges: the ids notified on ctxmgr_contexts (pg_change_listener.hpp).
  sdk::Result<sdk::ContextChanges> context_changes_since(std::uint64_t cursor) override {
    return listener_.context_changes_since(cursor);
  }
  // StorageChangeWake: called on notifications on ctxmgr_events, which every server sends after
  // committing a change of the change feed (changes_committed).
  void set_change_wake(std::function<void()> wake) override {
    listener_.set_change_wake(std::move(wake));
  }
  // A transaction that held a change of the change feed committed: the other servers' feeds are
  // told (pg_change_listener.hpp: notify_events).
  void changes_committed() { listener_.notify_events(); }

  // StorageReadRouting: t_read_route, read by replica_reading (docs/scaling.md).
  sdk::Result<std::string> write_token() override;
  bool valid_token(std::string_view token) override { return parse_lsn(token).has_value(); }
  void begin_reads(std::string_view token, bool primary_only) override {
    t_read_route = {parse_lsn(token).value_or(0), primary_only};
  }
  void end_reads() override { t_read_route = {}; }
  std::vector<sdk::ReplicaState> replicas() override {
    return replicas_ ? replicas_->states() : std::vector<sdk::ReplicaState>{};
  }

  // StorageReceivedGrants (pg_received_grants.cpp)
  sdk::Result<std::vector<sdk::ReceivedGrant>> received_grants(
      const sdk::ReceivedGrantsQuery& q) override;
  // StorageWebhooks (pg_webhooks.cpp)
  sdk::Status insert_webhook(sdk::Transaction& tx, const sdk::WebhookRow& row) override;
  sdk::Result<bool> delete_webhook(sdk::Transaction& tx, std::string_view id) override;
  sdk::Result<std::optional<sdk::WebhookRow>> webhook(std::string_view id) override;
  sdk::Result<std::vector<sdk::WebhookRow>> webhooks(std::string_view owner) override;
  sdk::Result<bool> lease_webhook(std::string_view id, std::string_view holder, std::int64_t now_us,
                                  std::int64_t until_us) override;
  sdk::Result<bool> advance_webhook(std::string_view id, std::string_view holder,
                                    std::int64_t cursor) override;
  // Every kDeliveryPruneEvery-th attempt logged also drops the webhook's attempts older than
  // its newest kDeliveriesKept events (docs/events.md: the delivery log is bounded).
  static constexpr long long kDeliveriesKept = 1000;
  static constexpr std::uint64_t kDeliveryPruneEvery = 64;
  sdk::Status log_delivery(const sdk::WebhookDelivery& delivery) override;
  sdk::Result<std::vector<sdk::WebhookDelivery>> deliveries(std::string_view id,
                                                            std::int64_t before_seq,
                                                            std::int64_t limit) override;

  // StorageRetention (pg_retention.cpp)
  sdk::Result<std::int64_t> prune_selections(std::int64_t before_us) override;
  sdk::Result<std::int64_t> prune_audit(std::int64_t anchor_seq,
                                        const sdk::AuditEvent& record) override;

  // StorageVectors (pg_vectors.cpp)
  sdk::Result<std::vector<sdk::EmbeddingJob>> claim_embedding_jobs(
      std::string_view model, std::int64_t limit, std::int64_t now_us,
      std::int64_t lease_until_us) override;
  sdk::Status put_vectors(std::string_view model,
                          const std::vector<sdk::ContextVector>& vectors) override;
  sdk::Result<std::int64_t> embedding_backlog(std::string_view model) override;
  sdk::Result<std::vector<sdk::ContextVector>> current_vectors(std::string_view model) override;
  sdk::Result<std::vector<std::pair<std::string, std::int64_t>>> vector_models() override;
  sdk::Result<std::int64_t> drop_vectors(std::string_view model) override;
  // StorageVectorChanges (pg_vectors.cpp)
  sdk::Result<sdk::VectorChanges> vectors_since(std::string_view model, std::int64_t cursor,
                                                std::int64_t limit) override;
  sdk::Result<std::vector<sdk::SearchHit>> in_view(const sdk::SearchQuery& view,
                                                   const std::vector<std::string>& ids) override;

  // StorageErasure (pg_erasure.cpp)
  sdk::Result<bool> redact_version(sdk::Transaction& tx, std::string_view id, std::int64_t version,
                                   std::string_view context_data,
                                   std::string_view metadata) override;
  sdk::Result<sdk::AgentErasure> erase_agent(sdk::Transaction& tx,
                                             std::string_view agent_id) override;
  sdk::Status scrub() override;
  // StorageMemoryFiles (pg_memory_files.cpp)
  sdk::Result<std::vector<sdk::ContextRow>> memory_files(const sdk::MemoryFileQuery& q) override;

  sdk::Error fail(const PgPool::Lease& lease, const std::exception& e, const std::string& what);
  const Sql& sql() const { return sql_; }

 private:
  // Runs `fn(lease)` on a pooled connection; the pool's and the query's errors become Results.
  // `retry_if_lost`: see reading().
  template <class Fn>
  auto with_connection(const std::string& what, Fn&& fn, bool retry_if_lost = false)
      -> decltype(fn(std::declval<PgPool::Lease&>()));
  // The same for a read that changes nothing and hands out nothing until it returns: run once
  // more on a reopened connection when the first one turns out lost (a database restart or
  // failover leaves dead connections in the pool, and a read has nothing to lose by retrying).
  template <class Fn>
  auto reading(const std::string& what, Fn&& fn) -> decltype(fn(std::declval<PgPool::Lease&>()));
  // The same for a read a replica may serve (ReplicaSet, t_read_route): on a replica when one
  // can, else (none configured or in rotation, none caught up in time, its connection lost on the
  // way) on the primary.
  template <class Fn>
  auto replica_reading(const std::string& what, Fn&& fn)
      -> decltype(fn(std::declval<PgPool::Lease&>()));
  // The primary's WAL position as PostgreSQL prints it ("16/B374D848"): `function` is
  // pg_current_wal_lsn (written: what replicas can have received) or pg_current_wal_insert_lsn
  // (inserted: what a read-your-writes token must cover).
  sdk::Result<std::string> wal_position(std::string_view function);
  // What every connection opened to the database runs first (pools and the listener).
  const char* session_settings() const { return jit_ ? "" : "SET jit = off"; }
  // Reads access_log rows: `where` binds :p0.. from `params` (all text; casts in the SQL).
  // `replica`: a replica may serve it (the API's listing; not the feed nor the sealer).
  sdk::Result<std::vector<sdk::AuditEvent>> query_events(const std::string& where,
                                                         std::vector<std::string> params,
                                                         std::int64_t limit, bool replica);
  sdk::Result<std::vector<sdk::AgentRow>> query_agents(const std::string& where,
                                                       const std::string& key, long long limit);
  // BM25's corpus figures (SearchCorpus), re-read at most every 30 s (they move slowly; no
  // process serves stale data because of them).
  using Corpus = SearchCorpus;
  Corpus corpus(PgPool::Lease& lease);
  sdk::Result<std::vector<sdk::SelectionRecord>> query_selections(const std::string& where,
                                                                  const std::string& key,
                                                                  long long before,
                                                                  long long limit);

 private:
  sdk::Host& host_;
  std::string conninfo_;
  std::string listen_conninfo_;
  Sql sql_;
  std::unique_ptr<PgPool> pool_;
  ReplicaSet::Settings replica_settings_;
  std::unique_ptr<ReplicaSet> replicas_;  // null: no replicas configured
  std::size_t pool_size_;
  std::chrono::milliseconds acquire_timeout_;
  double rank_budget_;  // see pg_search.cpp
  // PostgreSQL JIT-compiles a query whose estimated cost passes jit_above_cost (100 000). A
  // selection whose words match thousands of contexts passes it, and the compilation costs more
  // than the short query it compiles; so each connection sets jit = off unless this is true.
  bool jit_;
  bool prepare_;  // option prepared_statements (pg_pipeline.hpp)
  std::mutex corpus_mu_;
  std::atomic<std::uint64_t> deliveries_logged_{0};  // see log_delivery
  Corpus corpus_;
  std::chrono::steady_clock::time_point corpus_at_{};
  ChangeListener listener_;  // last: its thread stops before the rest goes
};

template <class Fn>
auto PgStorage::with_connection(const std::string& what, Fn&& fn, bool retry_if_lost)
    -> decltype(fn(std::declval<PgPool::Lease&>())) {
  if (!pool_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  for (int attempt = 1;; ++attempt) {
    auto lease = pool_->acquire();
    if (!lease) return lease.error();
    try {
      return fn(*lease);
    } catch (const std::exception& e) {
      if (retry_if_lost && attempt == 1 && connection_lost(e)) {
        lease->mark_broken();
        continue;
      }
      return fail(*lease, e, what);
    }
  }
}

template <class Fn>
auto PgStorage::reading(const std::string& what, Fn&& fn)
    -> decltype(fn(std::declval<PgPool::Lease&>())) {
  return with_connection(what, std::forward<Fn>(fn), true);
}

template <class Fn>
auto PgStorage::replica_reading(const std::string& what, Fn&& fn)
    -> decltype(fn(std::declval<PgPool::Lease&>())) {
  if (replicas_ && !t_read_route.primary) {
    if (auto r = replicas_->acquire(t_read_route.floor)) {
      try {
        auto out = fn(r->lease);
        if (out) {
          replicas_->count(true);
          return out;
        }
      } catch (const std::exception& e) {
        if (connection_lost(e)) {
          r->lease.mark_broken();
          replicas_->failed(r->replica);
        }
      }
    }
    replicas_->count(false);
  }
  return reading(what, std::forward<Fn>(fn));
}

}  // namespace ctxmgr::pg
