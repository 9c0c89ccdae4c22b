// How the embedding worker keeps its index current: with a storage that numbers its stores
// (StorageVectorChanges) it reads everything at its first pass and every `reconcile`, and only
// what was stored since its last read every `reload`; with a storage of ABI 1.8 it reads
// everything at every reload. The storage here is an in-memory one that records each read.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ctxmgr/sdk/embedder.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "embedding/embedding_worker.hpp"
#include "embedding/vector_index.hpp"
#include "metrics/metrics_registry.hpp"

namespace ck = ctxmgr::kernel;
namespace sdk = ctxmgr::sdk;

namespace {

class ManualClock final : public sdk::Clock {
 public:
  std::int64_t now_us() const override { return steady / 1000; }
  std::int64_t steady_ns() const override { return steady; }
  std::int64_t steady = 1'000'000'000;
};

// Vectors of one model, numbered as stored; nothing to embed.
class MemoryVectors final : public sdk::StorageVectors, public sdk::StorageVectorChanges {
 public:
  struct Stored {
    std::int64_t seq = 0;
    sdk::ContextVector vector;
    bool live = true;  // false: the context was deleted
  };
  void store(const std::string& id, std::int64_t version) {
    rows[id] = {++last_seq, {id, version, {1.0f, static_cast<float>(last_seq)}}, true};
  }

  sdk::Result<std::vector<sdk::EmbeddingJob>> claim_embedding_jobs(std::string_view, std::int64_t,
                                                                   std::int64_t,
                                                                   std::int64_t) override {
    ++claims;
    return std::exchange(jobs, {});
  }
  sdk::Status put_vectors(std::string_view, const std::vector<sdk::ContextVector>&) override {
    return {};
  }
  sdk::Result<std::int64_t> embedding_backlog(std::string_view) override { return 0; }
  sdk::Result<std::vector<sdk::ContextVector>> current_vectors(std::string_view) override {
    ++full_reads;
    std::vector<sdk::ContextVector> out;
    for (const auto& [id, r] : rows) {
      if (r.live) out.push_back(r.vector);
    }
    return out;
  }
  sdk::Result<std::vector<std::pair<std::string, std::int64_t>>> vector_models() override {
    return std::vector<std::pair<std::string, std::int64_t>>{};
  }
  sdk::Result<std::int64_t> drop_vectors(std::string_view) override { return 0; }
  sdk::Result<std::vector<sdk::SearchHit>> in_view(const sdk::SearchQuery&,
                                                   const std::vector<std::string>&) override {
    return std::vector<sdk::SearchHit>{};
  }
  sdk::Result<sdk::VectorChanges> vectors_since(std::string_view, std::int64_t cursor,
                                                std::int64_t limit) override {
    cursors.push_back(cursor);
    std::vector<const Stored*> after;
    for (const auto& [id, r] : rows) {
      if (r.seq > cursor) after.push_back(&r);
    }
    std::sort(after.begin(), after.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    sdk::VectorChanges out;
    out.cursor = cursor;
    for (std::size_t i = 0; i < after.size() && static_cast<std::int64_t>(i) < limit; ++i) {
      out.cursor = after[i]->seq;
      if (after[i]->live) out.vectors.push_back(after[i]->vector);
    }
    out.more = static_cast<std::int64_t>(after.size()) > limit;
    return out;
  }

  std::map<std::string, Stored> rows;
  std::int64_t last_seq = 0;
  std::vector<std::int64_t> cursors;    // of every vectors_since call
  int full_reads = 0;                   // current_vectors calls
  int claims = 0;                       // looks for work
  std::vector<sdk::EmbeddingJob> jobs;  // what the next claim hands out
};

class NoEmbedder final : public sdk::Embedder {
 public:
  std::string model_id() const override { return "m1"; }
  std::int32_t dimensions() const override { return 2; }
  sdk::Result<std::vector<std::vector<float>>> embed(const std::vector<std::string>&) override {
    return sdk::Error(sdk::Errc::internal, "nothing is to be embedded here");
  }
};

ck::EmbeddingWorkerSettings settings() {
  ck::EmbeddingWorkerSettings s;
  s.reload = std::chrono::milliseconds(1000);
  s.reconcile = std::chrono::milliseconds(10000);
  s.settle = std::chrono::milliseconds(0);
  return s;
}

// The worker under test with its store, index and clock. Named as the class it tests, so the
// tests keep their names (docs cite them).
class EmbeddingWorker : public testing::Test {
 protected:
  // `numbered`: the store offers StorageVectorChanges (false: a storage of ABI 1.8).
  std::unique_ptr<ck::EmbeddingWorker> worker(const ck::EmbeddingWorkerSettings& s,
                                              bool numbered = true) {
    return std::make_unique<ck::EmbeddingWorker>(store, numbered ? &store : nullptr, embedder,
                                                 index, metrics, clock, s);
  }
  MemoryVectors store;
  NoEmbedder embedder;
  ck::VectorIndex index;
  ck::MetricsRegistry metrics;
  ManualClock clock;
};

}  // namespace

TEST_F(EmbeddingWorker, ReadsWhatWasStoredSinceEachReloadAndEverythingAtEachReconcile) {
  store.store("a", 1);
  store.store("b", 1);
  auto worker = this->worker(settings());

  ASSERT_TRUE(worker->run_pass().ok());  // the first pass reads everything, from 0
  EXPECT_EQ(store.cursors, (std::vector<std::int64_t>{0}));
  EXPECT_EQ(index.size(), 2u);

  store.store("c", 1);           // another server's vector
  store.rows["a"].live = false;  // a's context deleted
  clock.steady += 500'000'000;
  ASSERT_TRUE(worker->run_pass().ok());  // before `reload`: no read
  EXPECT_EQ(store.cursors.size(), 1u);

  clock.steady += 500'000'000;
  ASSERT_TRUE(worker->run_pass().ok());  // a reload: only what came after b
  EXPECT_EQ(store.cursors, (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(index.size(), 3u);  // c in; a still held (never used: checked against the view)
  EXPECT_TRUE(index.similarity("c", 1, {1.0f, 0.0f}).has_value());

  store.store("b", 2);  // a new version
  clock.steady += 1'000'000'000;
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.cursors.back(), 3);
  EXPECT_TRUE(index.similarity("b", 2, {1.0f, 0.0f}).has_value());

  clock.steady += 10'000'000'000;
  ASSERT_TRUE(worker->run_pass().ok());  // a reconcile: everything again, a dropped
  EXPECT_EQ(store.cursors.back(), 0);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_FALSE(index.similarity("a", 1, {1.0f, 0.0f}).has_value());
  EXPECT_EQ(store.full_reads, 0);  // current_vectors is for storages without the capability
}

TEST_F(EmbeddingWorker, ReadsEverythingAtEachReloadFromAStorageWithoutNumberedStores) {
  store.store("a", 1);
  auto worker = this->worker(settings(), false);
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.full_reads, 1);
  store.store("b", 1);
  clock.steady += 1'000'000'000;
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.full_reads, 2);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_TRUE(store.cursors.empty());
}

// A look for work reads the whole store: a pass looks only when a write nudged it, at its first
// pass and every `interval`; the index follows the store every `reload` in between.
TEST_F(EmbeddingWorker, LooksForWorkWhenNudgedAndEveryIntervalOnly) {
  auto s = settings();
  s.interval = std::chrono::milliseconds(5000);
  auto worker = this->worker(s);
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.claims, 1);
  clock.steady += 1'000'000'000;
  ASSERT_TRUE(worker->run_pass().ok());  // a reload, no look
  EXPECT_EQ(store.claims, 1);
  EXPECT_EQ(store.cursors.size(), 2u);
  worker->nudge();
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.claims, 2);
  ASSERT_TRUE(worker->run_pass().ok());  // the nudge is spent
  EXPECT_EQ(store.claims, 2);
  clock.steady += 5'000'000'000;
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.claims, 3);
}

// An embedder that failed rests for `retry`, but the index goes on following what other servers
// store: their vectors need no embedder (a loaded CI machine once timed out one call and a
// server's selection missed another server's vectors for the whole wait).
TEST_F(EmbeddingWorker, WhileTheEmbedderRestsAfterAFailureTheIndexStillFollowsTheStore) {
  auto s = settings();
  s.retry = std::chrono::milliseconds(10000);
  auto worker = this->worker(s);
  store.jobs.push_back({"mine", 1, R"({"note":"x"})"});
  ASSERT_FALSE(worker->run_pass().ok());  // the embedder fails: it rests for `retry`
  store.store("theirs", 1);               // another server's vector
  clock.steady += 1'000'000'000;          // a reload is due, the retry is not
  worker->nudge();
  ASSERT_TRUE(worker->run_pass().ok());
  EXPECT_EQ(store.claims, 1) << "the embedder was asked again before `retry`";
  EXPECT_TRUE(index.similarity("theirs", 1, {1.0f, 0.0f}).has_value())
      << "the index stopped following the store while the embedder rested";
}
