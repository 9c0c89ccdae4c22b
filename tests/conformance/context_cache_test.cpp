// The context cache (kernel/src/core/context_cache.hpp) on the real storage plugins, with the
// storage's change reports played by a fake: a read that arrived before a check already applied
// began shares that check instead of asking the store again, and still sees every change the
// check reported; a read that arrived later, or says nothing of when it arrived, asks. And with
// each storage's own reports (PostgreSQL's listener, SQLite's WAL index header): a write the
// cache was not told of is read at once, and reads with nothing written between come from memory.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/context_cache.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"
#include "storage_fixture.hpp"

namespace ct = ctxmgr::test;

namespace {

using ck::ContextCache;
using Clock = std::chrono::steady_clock;

// Reports what the test queues, and counts the checks it is asked for.
class ScriptedChanges final : public sdk::StorageContextChanges {
 public:
  sdk::Result<sdk::ContextChanges> context_changes_since(std::uint64_t) override {
    ++asked;
    if (unavailable) return sdk::Error(sdk::Errc::unavailable, "not connected");
    sdk::ContextChanges c;
    if (!next.empty()) ++cursor;
    c.cursor = cursor;
    c.ids = std::move(next);
    next.clear();
    return c;
  }
  int asked = 0;
  bool unavailable = false;
  std::uint64_t cursor = 1;
  std::vector<std::string> next;  // ids the next check reports changed
};

class ContextCacheTest : public ct::StorageConformance {
 protected:
  std::int64_t version_of(ContextCache& cache, const std::string& id, Clock::time_point at) {
    auto row = cache.get(id, at);
    EXPECT_TRUE(row.ok()) << row.error().message();
    return row.ok() && *row != nullptr ? (*row)->version : -1;
  }
  // Writes version 2 of `r` in the store, behind the cache's back (as another server would).
  void update_to_v2(sdk::ContextRow r) {
    r.version = 2;
    r.context_data = R"({"k":2})";
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->append_history(hist(r, "update")).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  // A moment strictly before whatever the clock reads next.
  static Clock::time_point moment() {
    const auto at = Clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return at;
  }
  ScriptedChanges changes_;
};

TEST_P(ContextCacheTest, ReadsThatArrivedBeforeAnAppliedCheckShareIt) {
  const auto r = row(ct::uuid(1), "a", 1700000000000000);
  create(r);
  ContextCache cache(*storage_, &changes_, {});
  const auto arrived = moment();
  EXPECT_EQ(version_of(cache, r.id, arrived), 1);  // asks: no check began after it arrived
  EXPECT_EQ(changes_.asked, 1);
  EXPECT_EQ(version_of(cache, r.id, arrived), 1);  // arrived with it: shares its check
  EXPECT_EQ(changes_.asked, 1);
  EXPECT_EQ(version_of(cache, r.id, moment()), 1);  // arrived after that check began
  EXPECT_EQ(changes_.asked, 2);
  EXPECT_EQ(version_of(cache, r.id, Clock::time_point{}), 1);  // said nothing: asks
  EXPECT_EQ(changes_.asked, 3);
  const std::string text = [&] {
    cache.publish(metrics_);
    return metrics_.render();
  }();
  EXPECT_NE(text.find("ctxmgr_context_cache_checks_total{result=\"asked\"} 3"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ctxmgr_context_cache_checks_total{result=\"shared\"} 1"), std::string::npos)
      << text;
}

TEST_P(ContextCacheTest, ASharedCheckStillSeesWhatItReportedChanged) {
  const auto r = row(ct::uuid(1), "a", 1700000000000000);
  const auto other = row(ct::uuid(2), "a", 1700000000000001);
  create(r);
  create(other);
  ContextCache cache(*storage_, &changes_, {});
  EXPECT_EQ(version_of(cache, r.id, Clock::now()), 1);  // kept in memory
  update_to_v2(r);
  const auto arrived = moment();  // a read of r arrives, after the change was acknowledged
  // Another read, arrived later, checks first: the report names r, which is dropped.
  changes_.next = {r.id};
  EXPECT_EQ(version_of(cache, other.id, Clock::now()), 1);
  EXPECT_EQ(changes_.asked, 2);
  // The read of r shares that check, and finds the new version in the store.
  EXPECT_EQ(version_of(cache, r.id, arrived), 2);
  EXPECT_EQ(changes_.asked, 2);
}

TEST_P(ContextCacheTest, ACheckThatFailedIsNotShared) {
  const auto r = row(ct::uuid(1), "a", 1700000000000000);
  create(r);
  ContextCache cache(*storage_, &changes_, {});
  const auto arrived = moment();
  changes_.unavailable = true;
  EXPECT_EQ(version_of(cache, r.id, Clock::now()), 1);  // read from the store (bypass)
  EXPECT_EQ(version_of(cache, r.id, arrived), 1);       // nothing applied to share: asks
  EXPECT_EQ(changes_.asked, 2);
  changes_.unavailable = false;
  update_to_v2(r);
  EXPECT_EQ(version_of(cache, r.id, arrived), 2);  // nothing was kept while it could not vouch
  EXPECT_EQ(changes_.asked, 3);
}

// Whether `cache` answers `id` from memory within 2 s (a PostgreSQL listener may still be catching
// up with its start): two reads in a row that return the very same row.
bool served_from_memory(ContextCache& cache, const std::string& id) {
  const auto until = Clock::now() + std::chrono::seconds(2);
  while (Clock::now() < until) {
    auto first = cache.get(id);
    auto second = cache.get(id);
    if (first.ok() && second.ok() && *first != nullptr && first->get() == second->get()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_P(ContextCacheTest, TheStoragesOwnReportsCoverAWriteTheCacheWasNotToldOf) {
  sdk::StorageContextChanges* changes = registry_->storage_context_changes();
  ASSERT_NE(changes, nullptr) << "every storage plugin reports context changes";
  const auto r = row(ct::uuid(1), "a", 1700000000000000);
  create(r);
  ContextCache cache(*storage_, changes, {});
  ASSERT_TRUE(served_from_memory(cache, r.id));
  update_to_v2(r);  // committed through the store; the cache's invalidate() is not called
  EXPECT_EQ(version_of(cache, r.id, Clock::time_point{}), 2);
  EXPECT_TRUE(served_from_memory(cache, r.id)) << "nothing written since: from memory again";
  EXPECT_EQ(version_of(cache, r.id, Clock::time_point{}), 2);
}

TEST_P(ContextCacheTest, ACommitThatRewroteNoContextLeavesWhatTheCacheKeeps) {
  // Audit events and creates are most of what a read-heavy store commits (reads are audited by
  // default): neither may drop contexts kept in memory. PostgreSQL is told of updates and deletes
  // only; SQLite counts them (19_context_write_count.sql) besides watching its WAL index.
  sdk::StorageContextChanges* changes = registry_->storage_context_changes();
  ASSERT_NE(changes, nullptr);
  const auto r = row(ct::uuid(1), "a", 1700000000000000);
  create(r);
  ContextCache cache(*storage_, changes, {});
  ASSERT_TRUE(served_from_memory(cache, r.id));
  const auto kept = cache.get(r.id);
  ASSERT_TRUE(kept.ok());
  create(row(ct::uuid(2), "a", 1700000000000001));
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    sdk::AuditEvent read;
    read.at_us = 1700000000000002;
    read.agent_id = "a";
    read.action = "read";
    read.context_id = r.id;
    read.transport = "test";
    read.details = "{}";
    ASSERT_TRUE((*tx)->append_audit(read).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  const auto again = cache.get(r.id);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), kept->get()) << "a commit that changed no context dropped the cache";
  update_to_v2(r);
  EXPECT_EQ(version_of(cache, r.id, Clock::time_point{}), 2);
}

INSTANTIATE_TEST_SUITE_P(Storage, ContextCacheTest, ct::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
