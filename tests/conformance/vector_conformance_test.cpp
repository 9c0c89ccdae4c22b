// The vector capability (sdk/storage_vectors.hpp) on every storage: claims go to one worker until
// their lease ends, vectors round-trip exactly, stale and foreign-model vectors are never current,
// deletes and purges leave the backlog, and concurrent workers never get one version twice; the
// vectors stored since a cursor come in store order, and a reader following the cursor while
// many store at once misses none.

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "storage_fixture.hpp"

namespace ct = ctxmgr::test;

namespace {

class VectorConformance : public ct::StorageConformance {
 protected:
  void SetUp() override {
    StorageConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    vectors_ = registry_->storage_vectors();
    ASSERT_NE(vectors_, nullptr) << "the storage has no vector capability";
    changes_ = registry_->storage_vector_changes();
    ASSERT_NE(changes_, nullptr) << "the storage has no vector-changes capability";
  }
  // A new version of a context, committed (deleted when `deleted`).
  void change(const std::string& id, const std::string& data, bool deleted = false) {
    auto cur = storage_->get(id);
    ASSERT_TRUE(cur.ok() && cur->has_value());
    sdk::ContextRow r = **cur;
    r.version += 1;
    r.context_data = data;
    r.deleted = deleted;
    r.updated_at_us += 1000;
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->append_history(hist(r, deleted ? "delete" : "update")).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  std::vector<sdk::EmbeddingJob> claim(std::int64_t limit, std::int64_t now,
                                       const std::string& model = "m1") {
    auto jobs = vectors_->claim_embedding_jobs(model, limit, now, now + 100);
    EXPECT_TRUE(jobs.ok()) << jobs.error().message();
    return jobs.ok() ? *jobs : std::vector<sdk::EmbeddingJob>{};
  }
  std::int64_t backlog(const std::string& model = "m1") {
    auto n = vectors_->embedding_backlog(model);
    EXPECT_TRUE(n.ok()) << n.error().message();
    return n.ok() ? *n : -1;
  }
  // The ids (with versions) of vectors_since(cursor, limit); `cursor` moves to the answer's.
  std::vector<std::pair<std::string, std::int64_t>> since(std::int64_t& cursor,
                                                          std::int64_t limit = 1000,
                                                          bool* more = nullptr,
                                                          const std::string& model = "m1") {
    auto got = changes_->vectors_since(model, cursor, limit);
    EXPECT_TRUE(got.ok()) << got.error().message();
    if (!got.ok()) return {};
    EXPECT_GE(got->cursor, cursor);
    cursor = got->cursor;
    if (more != nullptr) *more = got->more;
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& v : got->vectors) out.emplace_back(v.context_id, v.version);
    return out;
  }
  sdk::StorageVectors* vectors_ = nullptr;
  sdk::StorageVectorChanges* changes_ = nullptr;
};

using IdVersions = std::vector<std::pair<std::string, std::int64_t>>;

TEST_P(VectorConformance, ClaimsAreLeasedAndVectorsRoundTrip) {
  create(row(ct::uuid(1), "a", 1000, R"({"n":"uno"})"));
  create(row(ct::uuid(2), "a", 2000, R"({"n":"dos"})"));
  create(row(ct::uuid(3), "b", 3000, R"({"n":"tres"})"));
  EXPECT_EQ(backlog(), 3);

  // Least recently changed first; a claimed version is nobody else's until its lease ends.
  auto first = claim(2, 10'000);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].context_id, ct::uuid(1));
  EXPECT_EQ(first[0].version, 1);
  EXPECT_EQ(first[0].context_data, R"({"n":"uno"})");
  EXPECT_EQ(first[1].context_id, ct::uuid(2));
  auto second = claim(10, 10'050);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].context_id, ct::uuid(3));
  EXPECT_TRUE(claim(10, 10'099).empty());
  EXPECT_EQ(claim(10, 10'200).size(), 3u);  // every lease ran out: claimed again
  EXPECT_EQ(backlog(), 3);                  // a claim is not a vector

  const std::vector<float> v1 = {1.0f, -0.5f, 3.25e-20f, 7e30f};
  const std::vector<float> v2 = {0.0f, 0.1f, -0.0f, 1.0f / 3.0f};
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(1), 1, v1}, {ct::uuid(2), 1, v2}}).ok());
  EXPECT_EQ(backlog(), 1);
  EXPECT_EQ(backlog("m2"), 3);  // another model's backlog is its own
  auto current = vectors_->current_vectors("m1");
  ASSERT_TRUE(current.ok()) << current.error().message();
  ASSERT_EQ(current->size(), 2u);
  std::sort(current->begin(), current->end(),
            [](const auto& a, const auto& b) { return a.context_id < b.context_id; });
  EXPECT_EQ((*current)[0].values, v1);  // bit for bit
  EXPECT_EQ((*current)[1].values, v2);
  EXPECT_TRUE(vectors_->current_vectors("m2")->empty());

  // A new version makes the vector stale: not current, and the new version is pending.
  change(ct::uuid(1), R"({"n":"one"})");
  EXPECT_EQ(backlog(), 2);
  EXPECT_EQ(vectors_->current_vectors("m1")->size(), 1u);
  auto again = claim(10, 20'000);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].context_id, ct::uuid(1));  // changed at 2000, before 3's 3000
  EXPECT_EQ(again[0].version, 2);
  EXPECT_EQ(again[0].context_data, R"({"n":"one"})");
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(1), 2, v2}}).ok());
  // A late vector of the old version does not replace the newer one.
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(1), 1, v1}}).ok());
  EXPECT_EQ(backlog(), 1);
  current = vectors_->current_vectors("m1");
  ASSERT_EQ(current->size(), 2u);
  for (const auto& v : *current) EXPECT_EQ(v.values, v2) << v.context_id;

  // Deleted contexts need no vector and are never current; purged ones take theirs with them.
  change(ct::uuid(2), R"({"n":"dos"})", true);
  EXPECT_EQ(backlog(), 1);
  EXPECT_EQ(vectors_->current_vectors("m1")->size(), 1u);
  ASSERT_TRUE(vectors_->put_vectors("m2", {{ct::uuid(3), 1, v1}}).ok());
  {
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->purge_context(ct::uuid(1)).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(1), 3, v1}}).ok());  // gone: skipped
  auto models = vectors_->vector_models();
  ASSERT_TRUE(models.ok()) << models.error().message();
  EXPECT_EQ(*models, (std::vector<std::pair<std::string, std::int64_t>>{{"m1", 1}, {"m2", 1}}));

  auto dropped = vectors_->drop_vectors("m1");
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 1);
  EXPECT_EQ(backlog(), 1);
  EXPECT_EQ(*vectors_->drop_vectors(""), 1);
  EXPECT_TRUE(vectors_->vector_models()->empty());
}

TEST_P(VectorConformance, ConcurrentWorkersNeverClaimOneVersionTwice) {
  constexpr int kContexts = 60;
  for (int i = 1; i <= kContexts; ++i) create(row(ct::uuid(i), "a", 1000 + i));
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      for (;;) {
        auto jobs = vectors_->claim_embedding_jobs("m1", 7, 50'000, 1'000'000);
        if (!jobs.ok()) {
          ADD_FAILURE() << jobs.error().message();
          return;
        }
        if (jobs->empty()) return;
        std::lock_guard lock(mu);
        for (const auto& j : *jobs) claimed.insert(j.context_id);
      }
    });
  }
  for (auto& t : workers) t.join();
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kContexts));
  for (int i = 1; i <= kContexts; ++i) EXPECT_EQ(claimed.count(ct::uuid(i)), 1u) << i;
}

TEST_P(VectorConformance, VectorsSinceACursorComeInStoreOrder) {
  for (int i = 1; i <= 4; ++i) create(row(ct::uuid(i), "a", 1000 * i));
  const std::vector<float> v = {0.5f, -0.25f, 1e-3f};
  std::int64_t cursor = 0;
  EXPECT_TRUE(since(cursor).empty());
  EXPECT_EQ(cursor, 0);

  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(3), 1, v}, {ct::uuid(1), 1, v}}).ok());
  ASSERT_TRUE(vectors_->put_vectors("m2", {{ct::uuid(2), 1, v}}).ok());  // another model's
  EXPECT_EQ(since(cursor), (IdVersions{{ct::uuid(3), 1}, {ct::uuid(1), 1}}));
  const std::int64_t after_first = cursor;
  EXPECT_GT(after_first, 0);
  EXPECT_TRUE(since(cursor).empty());  // nothing new: the cursor stays
  EXPECT_EQ(cursor, after_first);

  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(2), 1, v}}).ok());
  EXPECT_EQ(since(cursor), (IdVersions{{ct::uuid(2), 1}}));
  // The values come back bit for bit.
  auto full = changes_->vectors_since("m1", 0, 1000);
  ASSERT_TRUE(full.ok()) << full.error().message();
  ASSERT_EQ(full->vectors.size(), 3u);
  EXPECT_EQ(full->vectors[0].values, v);
  EXPECT_FALSE(full->more);
  EXPECT_EQ(full->cursor, cursor);

  // Page by page: `more` until the limit is not reached.
  std::int64_t paged = 0;
  bool more = false;
  EXPECT_EQ(since(paged, 2, &more), (IdVersions{{ct::uuid(3), 1}, {ct::uuid(1), 1}}));
  EXPECT_TRUE(more);
  EXPECT_EQ(since(paged, 2, &more), (IdVersions{{ct::uuid(2), 1}}));
  EXPECT_FALSE(more);
  EXPECT_EQ(paged, cursor);

  // A new version stored again comes again; a late vector of an old version is not a store.
  change(ct::uuid(1), R"({"n":"one"})");
  EXPECT_TRUE(since(cursor).empty());
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(1), 2, v}}).ok());
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(1), 1, v}}).ok());
  EXPECT_EQ(since(cursor), (IdVersions{{ct::uuid(1), 2}}));
  EXPECT_TRUE(since(cursor).empty());

  // Stale and deleted contexts' vectors are passed over (a full read no longer has them), and
  // the cursor still moves past them.
  ASSERT_TRUE(vectors_->put_vectors("m1", {{ct::uuid(4), 1, v}}).ok());
  change(ct::uuid(4), R"({"n":"cuatro"})");
  change(ct::uuid(2), R"({"n":"dos"})", true);
  const std::int64_t before = cursor;
  EXPECT_TRUE(since(cursor).empty());
  EXPECT_GT(cursor, before);
  std::int64_t from_start = 0;
  EXPECT_EQ(since(from_start), (IdVersions{{ct::uuid(3), 1}, {ct::uuid(1), 2}}));
  EXPECT_EQ(from_start, cursor);
}

TEST_P(VectorConformance, AReaderFollowingTheCursorMissesNoConcurrentStore) {
  constexpr int kWriters = 4, kPerWriter = 40, kBatch = 4;
  for (int i = 1; i <= kWriters * kPerWriter; ++i) create(row(ct::uuid(i), "a", 1000 + i));
  std::atomic<int> writing{kWriters};
  std::set<std::string> seen;
  std::thread reader([&] {
    std::int64_t cursor = 0;
    for (;;) {
      const bool done = writing.load() == 0;  // then every store has committed before this read
      bool more = false;
      for (const auto& [id, version] : since(cursor, 7, &more)) seen.insert(id);
      if (done && !more) break;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int k = 0; k < kPerWriter; k += kBatch) {
        std::vector<sdk::ContextVector> batch;
        for (int j = k; j < k + kBatch; ++j) {
          batch.push_back({ct::uuid(1 + w * kPerWriter + j), 1, {1.0f, static_cast<float>(j)}});
        }
        EXPECT_TRUE(vectors_->put_vectors("m1", batch).ok());
      }
      --writing;
    });
  }
  for (auto& t : writers) t.join();
  reader.join();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kWriters * kPerWriter));
}

// Neighbours found in memory are looked up through in_view, which keeps the text search's rules:
// the agent's own contexts, those a grant shares (only with include_shared), not deleted, and the
// tag and priority filters.
TEST_P(VectorConformance, InViewKeepsTheSearchRules) {
  create(row(ct::uuid(1), "ana", 1000, R"({"a":1})", R"({"tags":["x"]})"));
  create(row(ct::uuid(2), "ana", 2000, R"({"a":2})", R"({"priority":"high"})"));
  create(row(ct::uuid(3), "bob", 3000));
  create(row(ct::uuid(4), "bob", 4000));
  create(row(ct::uuid(5), "carl", 5000));
  create(row(ct::uuid(6), "ana", 6000));
  change(ct::uuid(6), "{}", true);
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(
        (*tx)->put_grant(sdk::GrantScope::context, {ct::uuid(3), "ana", "read", "bob", 5}).ok());
    ASSERT_TRUE((*tx)->put_grant(sdk::GrantScope::owner, {"carl", "ana", "read", "carl", 5}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  std::vector<std::string> all;
  for (int i = 1; i <= 7; ++i) all.push_back(ct::uuid(i));  // 7 does not exist
  auto ids = [&](const sdk::SearchQuery& q) {
    auto hits = vectors_->in_view(q, all);
    EXPECT_TRUE(hits.ok()) << hits.error().message();
    std::vector<std::string> out;
    if (hits.ok()) {
      for (const auto& h : *hits) {
        EXPECT_EQ(h.text_score, 0);
        out.push_back(h.row.id);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  sdk::SearchQuery q;
  q.agent_id = "ana";
  EXPECT_EQ(ids(q), (std::vector<std::string>{ct::uuid(1), ct::uuid(2), ct::uuid(3), ct::uuid(5)}));
  q.include_shared = false;
  EXPECT_EQ(ids(q), (std::vector<std::string>{ct::uuid(1), ct::uuid(2)}));
  q.include_shared = true;
  q.tags = {"x"};
  EXPECT_EQ(ids(q), (std::vector<std::string>{ct::uuid(1)}));
  q.tags.clear();
  q.priority = "high";
  EXPECT_EQ(ids(q), (std::vector<std::string>{ct::uuid(2)}));
  q.priority.reset();
  q.agent_id = "dora";
  EXPECT_TRUE(ids(q).empty());
  EXPECT_TRUE(vectors_->in_view(q, {})->empty());
}

INSTANTIATE_TEST_SUITE_P(Storage, VectorConformance, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
