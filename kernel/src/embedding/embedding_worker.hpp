#pragma once
// Embeds what has no vector yet, in the background (docs/semantic.md): a write never waits for
// the embedder. A pass looks for work when a write nudged it, at its first pass and every
// `interval` (a look reads the whole store: every live context against its vectors): it claims the
// versions whose context has no vector of the embedder's model (StorageVectors: one worker per
// version, even across servers), renders them (embedding_text.hpp), embeds them in one call and
// stores the vectors, and goes on while there is work. A failed call leaves its claims to run out
// and the worker waits `retry` before it calls again, nudged or not: an outage costs one call per
// `retry`, not one per write (the index below still follows the store while it waits). Restarts,
// outages and a new model are caught up the same way, from the stored JSON.
//
// It also keeps the in-memory index (vector_index.hpp) that selection searches: what it stores
// goes in at once; every `reload` (it wakes for it between looks, and checks between batches) it
// reads the vectors stored since its last read, other servers' too
// (sdk/storage_vector_changes.hpp); at its first pass and every `reconcile` it reads them all
// again, which also drops those of contexts deleted or changed since. A storage without the
// vector-changes capability (ABI 1.8) is read in full at every `reload`.
//
// Metrics: ctxmgr_embedding_backlog (live contexts whose current version has no vector of the
// model, after each pass), ctxmgr_embedded_total (vectors stored); the embedder counts its own
// calls (ctxmgr_embedder_*).
//
// Thread-safety: start() and stop() from one thread; run_pass() from one thread at a time.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "audit/periodic.hpp"
#include "ctxmgr/sdk/embedder.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "embedding/vector_index.hpp"
#include "metrics/metrics_registry.hpp"

namespace ctxmgr::kernel {

struct EmbeddingWorkerSettings {
  std::size_t batch_size = 32;
  std::chrono::milliseconds interval{10000};
  std::chrono::milliseconds retry{10000};
  std::chrono::milliseconds reload{5000};       // the vectors stored since the last read
  std::chrono::milliseconds reconcile{600000};  // every vector read again
  // How long a pass waits before claiming: writes come in bursts (a load, an import), and one
  // pass then takes them in full batches instead of a claim and a store per write.
  std::chrono::milliseconds settle{200};
};

class EmbeddingWorker {
 public:
  // `changes` may be null (a storage of ABI 1.8).
  EmbeddingWorker(sdk::StorageVectors& vectors, sdk::StorageVectorChanges* changes,
                  sdk::Embedder& embedder, VectorIndex& index, MetricsRegistry& metrics,
                  const sdk::Clock& clock, EmbeddingWorkerSettings settings);
  ~EmbeddingWorker();
  EmbeddingWorker(const EmbeddingWorker&) = delete;
  EmbeddingWorker& operator=(const EmbeddingWorker&) = delete;

  void start();
  // A context changed: the next pass starts now instead of at the interval. Any thread, even
  // before start().
  void nudge();
  void stop();
  // One pass: embeds until nothing is left or a call fails. The vectors stored, or the error.
  sdk::Result<std::int64_t> run_pass();

 private:
  sdk::Result<std::int64_t> embed_all();
  sdk::Status reload_if_due();
  // Every vector of the model from the store, and the cursor after them (0 without changes_).
  sdk::Result<std::vector<sdk::ContextVector>> read_all(std::int64_t& cursor);
  // changes_'s pages after `cursor`, each handed to `each`; `cursor` moves past them.
  sdk::Status follow(std::int64_t& cursor,
                     const std::function<void(std::vector<sdk::ContextVector>&)>& each);

  sdk::StorageVectors& vectors_;
  sdk::StorageVectorChanges* changes_;
  sdk::Embedder& embedder_;
  VectorIndex& index_;
  MetricsRegistry& metrics_;
  const sdk::Clock& clock_;
  EmbeddingWorkerSettings settings_;
  std::string model_;
  std::int64_t reloaded_ns_ = 0;     // steady time of the last reload, 0: never
  std::int64_t reconciled_ns_ = 0;   // steady time of the last full read, 0: never
  std::int64_t cursor_ = 0;          // changes_'s cursor after the last read
  std::int64_t failed_ns_ = 0;       // steady time of the last failed pass, 0: none since a success
  std::int64_t looked_ns_ = 0;       // steady time of the last look for work, 0: never
  std::atomic<bool> nudged_{false};  // a write since the last look
  std::atomic<bool> stopping_{false};  // a pass in progress ends after its current batch
  std::unique_ptr<Periodic> periodic_;
};

}  // namespace ctxmgr::kernel
