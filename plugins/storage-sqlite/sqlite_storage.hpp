#pragma once
// storage-sqlite: the embedded default store, through SOCI's sqlite3 backend.
//
// One writer connection behind a mutex (SQLite has one writer at a time anyway; queuing in the
// process avoids SQLITE_BUSY storms) and a pool of reader connections, which WAL lets read while
// the writer writes. Write transactions begin with BEGIN IMMEDIATE, so they take the database's
// write lock up front: a read-modify-write inside one cannot lose a concurrent update, also when
// several processes share the file.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <soci/soci.h>

#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/options.hpp"
#include "ctxmgr/sdk/storage_access_epoch.hpp"
#include "ctxmgr/sdk/storage_backup.hpp"
#include "ctxmgr/sdk/storage_batch.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"
#include "ctxmgr/sdk/storage_erasure.hpp"
#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "ctxmgr/sdk/storage_retention.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "epoch_poller.hpp"
#include "reader_pool.hpp"
#include "wal_watch.hpp"
#include "writer_statements.hpp"

namespace ctxmgr::sqlite {

class SqliteStorage final : public sdk::StorageSearch,
                            public sdk::StorageBackup,
                            public sdk::StorageRetention,
                            public sdk::StorageAccessEpoch,
                            public sdk::StorageBatch,
                            public sdk::StorageContextChanges,
                            public sdk::StorageVectors,
                            public sdk::StorageVectorChanges,
                            public sdk::StorageMemoryFiles,
                            public sdk::StorageErasure,
                            public sdk::StorageWebhooks,
                            public sdk::StorageReceivedGrants {
 public:
  SqliteStorage(sdk::Host& host, const sdk::Options& options);
  ~SqliteStorage() override;

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

  // StorageSearch (sqlite_search.cpp).
  sdk::Result<std::vector<sdk::SearchHit>> search(const sdk::SearchQuery& query) override;
  sdk::Result<std::int64_t> append_selection(const sdk::SelectionRecord& record) override;
  sdk::Result<std::optional<sdk::SelectionRecord>> selection(std::int64_t id) override;
  sdk::Result<std::vector<sdk::SelectionRecord>> selections(std::string_view agent_id,
                                                            std::int64_t before_id,
                                                            std::int64_t limit) override;

  // StorageBackup (sqlite_backup.cpp).
  sdk::Status export_all(sdk::BackupSink& sink) override;
  sdk::Result<bool> is_empty() override;
  sdk::Result<std::unique_ptr<sdk::RestoreTransaction>> begin_restore() override;

  // Writes the index entries of the contexts changed in the writer's open transaction (noted in
  // context_fts_pending by 18_search_deferred's triggers, by any program), just before it
  // commits; whether there were any. With the writer lock held (sqlite_search.cpp).
  bool index_pending(WriterStatements& statements);
  // Called by a transaction that changed context_fts, after its commit, with the writer lock
  // held: every search_merge_every such commits, one step of merging the index (sqlite_search.cpp).
  void after_search_change();

  // StorageRetention (sqlite_retention.cpp)
  sdk::Result<std::int64_t> prune_selections(std::int64_t before_us) override;
  sdk::Result<std::int64_t> prune_audit(std::int64_t anchor_seq,
                                        const sdk::AuditEvent& record) override;

  // StorageAccessEpoch: the counter of 07_access_epoch, read every 100 ms (epoch_poller.hpp).
  sdk::Result<std::uint64_t> access_epoch() override { return epoch_.epoch(); }
  // StorageContextChanges: whether anything was committed since, from the WAL index's header
  // (wal_watch.hpp); never which contexts.
  sdk::Result<sdk::ContextChanges> context_changes_since(std::uint64_t cursor) override {
    return wal_watch_.changes_since(cursor);
  }

  // StorageVectors (sqlite_vectors.cpp)
  sdk::Result<std::vector<sdk::EmbeddingJob>> claim_embedding_jobs(
      std::string_view model, std::int64_t limit, std::int64_t now_us,
      std::int64_t lease_until_us) override;
  sdk::Status put_vectors(std::string_view model,
                          const std::vector<sdk::ContextVector>& vectors) override;
  sdk::Result<std::int64_t> embedding_backlog(std::string_view model) override;
  sdk::Result<std::vector<sdk::ContextVector>> current_vectors(std::string_view model) override;
  sdk::Result<std::vector<std::pair<std::string, std::int64_t>>> vector_models() override;
  sdk::Result<std::int64_t> drop_vectors(std::string_view model) override;
  // StorageVectorChanges (sqlite_vectors.cpp)
  sdk::Result<sdk::VectorChanges> vectors_since(std::string_view model, std::int64_t cursor,
                                                std::int64_t limit) override;
  sdk::Result<std::vector<sdk::SearchHit>> in_view(const sdk::SearchQuery& view,
                                                   const std::vector<std::string>& ids) override;
  // StorageErasure (sqlite_erasure.cpp)
  // StorageReceivedGrants (sqlite_received_grants.cpp)
  sdk::Result<std::vector<sdk::ReceivedGrant>> received_grants(
      const sdk::ReceivedGrantsQuery& q) override;
  // StorageWebhooks (sqlite_webhooks.cpp)
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
  sdk::Result<bool> redact_version(sdk::Transaction& tx, std::string_view id, std::int64_t version,
                                   std::string_view context_data,
                                   std::string_view metadata) override;
  sdk::Result<sdk::AgentErasure> erase_agent(sdk::Transaction& tx,
                                             std::string_view agent_id) override;
  sdk::Status scrub() override;
  // StorageMemoryFiles (sqlite_memory_files.cpp)
  sdk::Result<std::vector<sdk::ContextRow>> memory_files(const sdk::MemoryFileQuery& q) override;

  // Logs the real cause (which may hold SQL, never data values) and returns the client-safe error.
  sdk::Error fail(const std::exception& e, const std::string& what);

 private:
  void open_session(soci::session& s) const;
  // Rebuilds context_fts when its rowids no longer match the contexts' (after a VACUUM).
  // Called by migrate(), with the writer lock held.
  sdk::Status check_search_index();
  sdk::Result<std::vector<sdk::AgentRow>> query_agents(const std::string& where,
                                                       const std::string& key, long long limit);
  sdk::Result<std::vector<std::pair<std::int64_t, std::string>>> applied_migrations(
      soci::session& sql);

  sdk::Host& host_;
  std::string path_;
  std::int64_t busy_timeout_ms_;
  std::string synchronous_;
  std::size_t read_connections_;
  std::int64_t mmap_mib_;
  long long rank_budget_;  // see sqlite_search.cpp
  long long search_merge_every_;
  long long search_changes_ = 0;  // since the last merge step; guarded by writer_mu_

  std::mutex writer_mu_;                             // held by a transaction for its whole life
  std::atomic<std::uint64_t> deliveries_logged_{0};  // see log_delivery
  std::unique_ptr<soci::session> writer_;
  std::unique_ptr<WriterStatements> statements_;  // on writer_; after it, so destroyed first
  ReaderPool readers_;
  WalWatch wal_watch_;                           // its own connection; closed before the readers
  std::unique_ptr<soci::session> epoch_reader_;  // used by epoch_'s thread only
  EpochPoller epoch_;                            // last: its thread stops before the rest goes
};

}  // namespace ctxmgr::sqlite
