#include "embedding/embedding_worker.hpp"

#include <algorithm>
#include <iterator>
#include <thread>
#include <vector>

#include "embedding/embedding_text.hpp"
#include "log/logging.hpp"

namespace ctxmgr::kernel {

EmbeddingWorker::EmbeddingWorker(sdk::StorageVectors& vectors, sdk::StorageVectorChanges* changes,
                                 sdk::Embedder& embedder, VectorIndex& index,
                                 MetricsRegistry& metrics, const sdk::Clock& clock,
                                 EmbeddingWorkerSettings settings)
    : vectors_(vectors),
      changes_(changes),
      embedder_(embedder),
      index_(index),
      metrics_(metrics),
      clock_(clock),
      settings_(settings),
      model_(embedder.model_id()),
      periodic_(std::make_unique<Periodic>(
          // It wakes for the sooner of its two duties; run_pass() tells which is due.
          "the embedding worker", std::min(settings_.interval, settings_.reload),
          [this] {
            if (auto done = run_pass(); !done) {
              kernel_log().warn("embedding worker: {} (model {}; tried again in {} ms)",
                                done.error().message(), model_, settings_.retry.count());
            }
          },
          false)) {}

EmbeddingWorker::~EmbeddingWorker() { stop(); }

void EmbeddingWorker::start() { periodic_->start(); }

void EmbeddingWorker::nudge() {
  nudged_ = true;
  periodic_->nudge();
}

void EmbeddingWorker::stop() {
  stopping_ = true;
  periodic_->stop();
}

namespace {

// Stored rows looked at per vectors_since call: bounds one answer's memory.
constexpr std::int64_t kChangesPage = 4096;

}  // namespace

sdk::Status EmbeddingWorker::follow(
    std::int64_t& cursor, const std::function<void(std::vector<sdk::ContextVector>&)>& each) {
  for (bool more = true; more && !stopping_;) {
    auto page = changes_->vectors_since(model_, cursor, kChangesPage);
    if (!page) return page.error();
    each(page->vectors);
    cursor = page->cursor;
    more = page->more;
  }
  return {};
}

sdk::Result<std::vector<sdk::ContextVector>> EmbeddingWorker::read_all(std::int64_t& cursor) {
  cursor = 0;
  if (changes_ == nullptr) return vectors_.current_vectors(model_);
  // A context stored again meanwhile comes twice, older first: replace_all keeps the newer.
  std::vector<sdk::ContextVector> all;
  auto st = follow(cursor, [&all](std::vector<sdk::ContextVector>& page) {
    std::move(page.begin(), page.end(), std::back_inserter(all));
  });
  if (!st) return st.error();
  return all;
}

sdk::Status EmbeddingWorker::reload_if_due() {
  const std::int64_t now = clock_.steady_ns();
  auto since = [now](std::int64_t then) { return std::chrono::nanoseconds(now - then); };
  if (reloaded_ns_ != 0 && since(reloaded_ns_) < settings_.reload) return {};
  const bool full =
      changes_ == nullptr || reconciled_ns_ == 0 || since(reconciled_ns_) >= settings_.reconcile;
  if (full) {
    std::int64_t cursor = 0;
    auto all = read_all(cursor);
    if (!all) return all.error();
    if (stopping_) return {};  // a read cut short is not the store: the index stays as it was
    index_.replace_all(*all);
    cursor_ = cursor;
    reconciled_ns_ = now;
  } else {
    // What was stored since the last read, this worker's own vectors included (put() leaves a
    // vector it holds as it is).
    auto st = follow(cursor_, [this](std::vector<sdk::ContextVector>& page) { index_.put(page); });
    if (!st) return st;
  }
  reloaded_ns_ = now;
  metrics_.gauge_set("ctxmgr_vector_index_size", "", static_cast<double>(index_.size()));
  metrics_.gauge_set("ctxmgr_vector_index_approximate", "", index_.approximate() ? 1 : 0);
  metrics_.gauge_set("ctxmgr_vector_index_unreachable", "",
                     static_cast<double>(index_.unreachable()));
  return {};
}

sdk::Result<std::int64_t> EmbeddingWorker::run_pass() {
  const std::int64_t now = clock_.steady_ns();
  const bool nudged = nudged_.exchange(false);
  if (failed_ns_ != 0 && std::chrono::nanoseconds(now - failed_ns_) < settings_.retry) {
    if (nudged) nudged_ = true;  // kept for the first pass after the wait
    // The embedder rests; the index still follows what other servers store (no embedder needed).
    if (auto st = reload_if_due(); !st) return st.error();
    return 0;
  }
  // Looking for work reads the whole store (every live context against its vectors): only when a
  // write nudged, at the first pass, and every `interval`. Between looks only the index follows.
  const bool look =
      nudged || looked_ns_ == 0 || std::chrono::nanoseconds(now - looked_ns_) >= settings_.interval;
  if (!look) {
    if (auto st = reload_if_due(); !st) return st.error();
    return 0;
  }
  looked_ns_ = now;
  // Short steps: stopping is not kept waiting.
  for (auto waited = std::chrono::milliseconds(0); waited < settings_.settle && !stopping_;
       waited += std::chrono::milliseconds(10)) {
    std::this_thread::sleep_for(std::min(std::chrono::milliseconds(10), settings_.settle));
  }
  auto stored = embed_all();
  failed_ns_ = stored ? 0 : now;
  // The backlog after every pass, a failed one too: it is what an operator watches in an outage.
  if (auto backlog = vectors_.embedding_backlog(model_); backlog) {
    metrics_.gauge_set("ctxmgr_embedding_backlog", "", static_cast<double>(*backlog));
  }
  return stored;
}

sdk::Result<std::int64_t> EmbeddingWorker::embed_all() {
  std::int64_t stored = 0;
  while (!stopping_) {
    // A long backlog keeps one pass going for minutes: the index still follows the other
    // servers' vectors (and /metrics its size) every `reload`.
    if (auto st = reload_if_due(); !st) return st.error();
    const std::int64_t now = clock_.now_us();
    auto jobs = vectors_.claim_embedding_jobs(
        model_, static_cast<std::int64_t>(settings_.batch_size), now,
        now + std::chrono::duration_cast<std::chrono::microseconds>(settings_.retry).count());
    if (!jobs) return jobs.error();
    if (jobs->empty()) return stored;
    std::vector<std::string> texts;
    texts.reserve(jobs->size());
    for (const auto& j : *jobs) texts.push_back(embedding_text(j.context_data));
    auto embedded = embedder_.embed(texts);
    if (!embedded) return embedded.error();
    if (embedded->size() != jobs->size()) {
      return sdk::Error(sdk::Errc::provider_error,
                        "the embedder returned " + std::to_string(embedded->size()) +
                            " vectors for " + std::to_string(jobs->size()) + " texts");
    }
    std::vector<sdk::ContextVector> batch;
    batch.reserve(jobs->size());
    for (std::size_t i = 0; i < jobs->size(); ++i) {
      batch.push_back({(*jobs)[i].context_id, (*jobs)[i].version, std::move((*embedded)[i])});
    }
    if (auto st = vectors_.put_vectors(model_, batch); !st) return st.error();
    index_.put(batch);
    stored += static_cast<std::int64_t>(batch.size());
    metrics_.counter_add("ctxmgr_embedded_total", "", static_cast<double>(batch.size()));
  }
  return stored;  // stopping: the rest waits for the next start
}

}  // namespace ctxmgr::kernel
