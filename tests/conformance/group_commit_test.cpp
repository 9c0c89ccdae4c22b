// Group commit (kernel/src/service/group_commit.hpp) on the real storage plugins: changes that
// arrive together share a transaction, yet each keeps its own outcome, and a database that fails
// in the middle of a batch leaves none of it written.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <stdexcept>
#include <thread>

#include "ctxmgr/sdk/storage_batch.hpp"
#include "service/group_commit.hpp"
#include "storage_fixture.hpp"

namespace ct = ctxmgr::test;

namespace {

using ck::GroupCommit;

class GroupCommitTest : public ct::StorageConformance {
 protected:
  sdk::StorageBatch& batch() {
    auto* b = registry_->storage_batch();
    EXPECT_NE(b, nullptr) << "the plugin has no StorageBatch capability";
    return *b;
  }
  // A batch leader waits up to 2 s for `n` changes: the threads below land in one batch.
  GroupCommit::Settings one_batch_of(std::size_t n) {
    return GroupCommit::Settings{n, std::chrono::microseconds(2000000), 1};
  }
  static sdk::AuditEvent event(int i) {
    sdk::AuditEvent e;
    e.at_us = 1700000000000000 + i;
    e.agent_id = "a";
    e.action = "create";
    e.transport = "test";
    e.request_id = "r" + std::to_string(i);
    e.details = "{}";
    return e;
  }
  // The change of thread i: a context and its first version.
  GroupCommit::Change creates(int i) {
    return [this, i](sdk::Transaction& tx, sdk::AuditEvent& ev) -> sdk::Result<sdk::ApiResponse> {
      const auto r = row(ct::uuid(i), "a", 1700000000000000 + i);
      ev.context_id = r.id;
      if (auto st = tx.insert_context(r); !st) return st.error();
      if (auto st = tx.append_history(hist(r, "create")); !st) return st.error();
      sdk::ApiResponse ok;
      ok.status = 201;
      return ok;
    };
  }
  // Runs the changes from one thread each, at once; their outcomes in order.
  std::vector<sdk::Result<sdk::ApiResponse>> run_together(
      GroupCommit& gc, std::vector<GroupCommit::Change> changes) {
    std::vector<std::optional<sdk::Result<sdk::ApiResponse>>> out(changes.size());
    std::vector<sdk::AuditEvent> events;
    for (std::size_t i = 0; i < changes.size(); ++i) events.push_back(event(static_cast<int>(i)));
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      threads.emplace_back([&, i] { out[i] = gc.run(events[i], changes[i]); });
    }
    for (auto& t : threads) t.join();
    std::vector<sdk::Result<sdk::ApiResponse>> results;
    for (auto& o : out) results.push_back(std::move(*o));
    return results;
  }
  double metric(const std::string& series) {
    const std::string text = metrics_.render();
    const auto at = text.find("\n" + series + " ");
    return at == std::string::npos ? 0 : std::stod(text.substr(at + series.size() + 2));
  }
  std::int64_t audit_events() {
    auto stats = storage_->stats();
    EXPECT_TRUE(stats.ok());
    return stats.ok() ? stats->audit_events : -1;
  }
};

TEST_P(GroupCommitTest, AFailingChangeInABatchIsUndoneAloneAndTheOthersCommit) {
  constexpr int kChanges = 12;
  GroupCommit gc(*storage_, batch(), one_batch_of(kChanges));
  std::vector<GroupCommit::Change> changes;
  for (int i = 0; i < kChanges; ++i) changes.push_back(creates(i));
  // Change 4 writes, then refuses (as a 412 would, after reading): its writes are undone.
  changes[4] = [this](sdk::Transaction& tx, sdk::AuditEvent&) -> sdk::Result<sdk::ApiResponse> {
    const auto r = row(ct::uuid(4), "a", 1);
    if (auto st = tx.insert_context(r); !st) return st.error();
    return sdk::Error(sdk::Errc::precondition_failed, "version 3 is not the current one");
  };
  // Change 7 collides with a row that exists (a storage error, which a storage may report at a
  // later call of the transaction): undone, then retried alone, it collides again and says so.
  create(row(ct::uuid(50), "a", 1));
  changes[7] = [this](sdk::Transaction& tx, sdk::AuditEvent& ev) -> sdk::Result<sdk::ApiResponse> {
    if (auto st = tx.insert_context(row(ct::uuid(50), "a", 1)); !st) return st.error();
    if (auto seq = tx.append_audit(ev); !seq) return seq.error();
    return sdk::ApiResponse{};
  };
  // Change 9 throws: an internal error of its own.
  changes[9] = [](sdk::Transaction&, sdk::AuditEvent&) -> sdk::Result<sdk::ApiResponse> {
    throw std::runtime_error("boom");
  };
  const auto results = run_together(gc, changes);
  for (int i = 0; i < kChanges; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    if (i == 4) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), sdk::Errc::precondition_failed);
    } else if (i == 7) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), sdk::Errc::conflict);
    } else if (i == 9) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), sdk::Errc::internal);
    } else {
      ASSERT_TRUE(r.ok()) << i << ": " << r.error().message();
      EXPECT_EQ(r->status, 201);
      auto got = storage_->get(ct::uuid(i));
      ASSERT_TRUE(got.ok() && got->has_value()) << i;
      EXPECT_EQ(storage_->history(ct::uuid(i), 0, 10)->size(), 1u);
    }
  }
  EXPECT_FALSE(storage_->get(ct::uuid(4))->has_value()) << "a refused change left its row";
  EXPECT_EQ(audit_events(), kChanges - 3) << "one event per committed change, none for others";
  EXPECT_EQ(storage_->history(ct::uuid(50), 0, 10)->size(), 1u);
  gc.publish(metrics_);
  EXPECT_EQ(metric("ctxmgr_group_commit_changes_total"), kChanges);
  EXPECT_LE(metric("ctxmgr_group_commit_batches_total"), 2) << "the changes were not batched";
  EXPECT_EQ(metric("ctxmgr_group_commit_retried_alone_total"), 2);  // 7 and 9
}

TEST_P(GroupCommitTest, ALoneChangeRunsAtOnceWithoutWaiting) {
  GroupCommit gc(*storage_, batch(), GroupCommit::Settings{32, std::chrono::microseconds(0), 2});
  const auto change = creates(1);
  const auto started = std::chrono::steady_clock::now();
  auto r = gc.run(event(1), change);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_TRUE(storage_->get(ct::uuid(1))->has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2));
}

// PostgreSQL: the batch's connection is cut after some changes ran: every change of the batch
// fails, none is written, and the next batch works on a fresh connection.
TEST_P(GroupCommitTest, ADatabaseFailureMidBatchFailsEveryChangeAndWritesNone) {
  if (GetParam().plugin != "postgres") GTEST_SKIP() << "cuts a PostgreSQL connection";
  constexpr int kChanges = 8;
  GroupCommit gc(*storage_, batch(), one_batch_of(kChanges));
  std::vector<GroupCommit::Change> changes;
  for (int i = 0; i < kChanges; ++i) changes.push_back(creates(i));
  const std::string dsn = std::getenv("CTXMGR_TEST_PG_DSN");
  std::atomic<int> ran{0};
  for (int i = 0; i < kChanges; ++i) {
    changes[static_cast<std::size_t>(i)] =
        [&, i, inner = creates(i)](sdk::Transaction& tx,
                                   sdk::AuditEvent& ev) -> sdk::Result<sdk::ApiResponse> {
      // The fourth change to run reads (as a patch does: the rows held so far go with the read),
      // writes, then the batch's own connection is terminated from outside (the one idle in a
      // transaction that touched this test's schema).
      if (ran.fetch_add(1) == 3) {
        EXPECT_TRUE(tx.get_for_update(ct::uuid(i)).ok());
        auto first = inner(tx, ev);
        EXPECT_TRUE(first.ok());
        auto killed = ct::run_process(
            {"/usr/bin/psql", dsn, "-tAc",
             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE state = "
             "'idle in transaction' AND query LIKE '%" +
                 schema_ + "%'"});
        EXPECT_EQ(killed.exit_code, 0) << killed.err;
        EXPECT_EQ(killed.out, "1\n");
        return first;
      }
      return inner(tx, ev);
    };
  }
  const auto results = run_together(gc, changes);
  for (int i = 0; i < kChanges; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    ASSERT_FALSE(r.ok()) << "change " << i << " was acknowledged from a batch that was lost";
    EXPECT_EQ(r.error().code(), sdk::Errc::unavailable) << r.error().message();
    EXPECT_FALSE(storage_->get(ct::uuid(i))->has_value()) << i;
  }
  EXPECT_EQ(audit_events(), 0);
  // The next batch runs on a new connection.
  const auto again = creates(100);
  auto r = gc.run(event(100), again);
  ASSERT_TRUE(r.ok()) << r.error().message();
}

// A row that fails is found late when the storage holds writes (PostgreSQL sends a batch's rows
// with the next statement that needs an answer): by a later change's read, or by the batch's audit
// append at its end. Either way only the change at fault fails — the others, run again alone,
// commit — and nothing of it is written.
TEST_P(GroupCommitTest, ARowRefusedAfterItsChangeReturnedFailsOnlyThatChange) {
  constexpr int kChanges = 6;
  for (const bool later_read : {true, false}) {
    SCOPED_TRACE(later_read ? "found by a later change's read" : "found by the audit append");
    const int base = later_read ? 0 : 100;
    const std::string taken = ct::uuid(base + 90);
    create(row(taken, "a", 1));
    GroupCommit gc(*storage_, batch(), one_batch_of(kChanges));
    std::atomic<int> order{0}, faulty{-1};
    std::vector<GroupCommit::Change> changes;
    for (int i = 0; i < kChanges; ++i) {
      changes.push_back(
          [&, i, base](sdk::Transaction& tx, sdk::AuditEvent& ev) -> sdk::Result<sdk::ApiResponse> {
            // The second change to run inserts a row whose id is taken (again when it runs alone);
            // the last one to run in the batch reads before it writes.
            const int nth = order.fetch_add(1);
            if (nth == 1) faulty = i;
            const bool at_fault = faulty == i;
            const auto r = row(at_fault ? taken : ct::uuid(base + i), "a", 1700000000000000 + i);
            if (later_read && nth == kChanges - 1) {
              if (auto got = tx.get_for_update(ct::uuid(base + 50)); !got) return got.error();
            }
            ev.context_id = r.id;
            if (auto st = tx.insert_context(r); !st) return st.error();
            if (auto st = tx.append_history(hist(r, "create")); !st) return st.error();
            sdk::ApiResponse ok;
            ok.status = at_fault ? 299 : 201;  // tells the faulty change's answer apart
            return ok;
          });
    }
    const auto events_before = audit_events();
    const auto results = run_together(gc, changes);
    int conflicts = 0;
    for (int i = 0; i < kChanges; ++i) {
      const auto& r = results[static_cast<std::size_t>(i)];
      if (!r.ok()) {
        EXPECT_EQ(r.error().code(), sdk::Errc::conflict) << i << ": " << r.error().message();
        EXPECT_FALSE(storage_->get(ct::uuid(base + i))->has_value()) << i;
        ++conflicts;
        continue;
      }
      EXPECT_EQ(r->status, 201) << "the change whose row was refused was acknowledged";
      ASSERT_TRUE(storage_->get(ct::uuid(base + i))->has_value()) << i;
      EXPECT_EQ(storage_->history(ct::uuid(base + i), 0, 10)->size(), 1u);
    }
    EXPECT_EQ(conflicts, 1);
    EXPECT_EQ(storage_->history(taken, 0, 10)->size(), 1u) << "the taken row was touched";
    EXPECT_EQ(audit_events() - events_before, kChanges - 1) << "one event per committed change";
  }
}

// A storage that throws instead of answering (the kernel's boundary, issue 19): every change of
// the batch gets an internal error, none waits for ever on a leader that unwound, and the next
// batch runs.
TEST_P(GroupCommitTest, AStorageThatThrowsAnswersEveryChangeOfTheBatch) {
  struct ThrowsOnce final : sdk::StorageBatch {
    explicit ThrowsOnce(sdk::StorageBatch& real) : real(real) {}
    sdk::Result<std::unique_ptr<sdk::BatchTransaction>> begin_batch() override {
      if (!thrown.exchange(true)) throw std::runtime_error("begin_batch threw on purpose");
      return real.begin_batch();
    }
    sdk::StorageBatch& real;
    std::atomic<bool> thrown{false};
  } throwing(batch());
  constexpr int kChanges = 4;
  GroupCommit gc(*storage_, throwing, one_batch_of(kChanges));
  std::vector<GroupCommit::Change> changes;
  for (int i = 0; i < kChanges; ++i) changes.push_back(creates(i));
  const auto results = run_together(gc, changes);
  for (int i = 0; i < kChanges; ++i) {
    const auto& r = results[static_cast<std::size_t>(i)];
    ASSERT_FALSE(r.ok()) << "change " << i;
    EXPECT_EQ(r.error().code(), sdk::Errc::internal) << r.error().message();
    EXPECT_NE(r.error().message().find("begin_batch threw on purpose"), std::string::npos);
    EXPECT_FALSE(storage_->get(ct::uuid(i))->has_value()) << i;
  }
  EXPECT_EQ(audit_events(), 0);
  const auto again = creates(100);
  auto r = gc.run(event(100), again);
  ASSERT_TRUE(r.ok()) << r.error().message();
}

// submit(): the change is queued and answered later, through its callback.
struct Answer {
  std::promise<sdk::Result<sdk::ApiResponse>> promise;
  std::future<sdk::Result<sdk::ApiResponse>> future = promise.get_future();
  GroupCommit::Then then() {
    return [this](sdk::Result<sdk::ApiResponse> r) { promise.set_value(std::move(r)); };
  }
};

TEST_P(GroupCommitTest, SubmittedAndWaitingChangesShareBatchesAndKeepTheirOwnOutcomes) {
  constexpr int kChanges = 12;
  GroupCommit gc(*storage_, batch(), one_batch_of(kChanges));
  std::vector<GroupCommit::Change> changes;
  for (int i = 0; i < kChanges; ++i) changes.push_back(creates(i));
  changes[4] = [this](sdk::Transaction& tx, sdk::AuditEvent&) -> sdk::Result<sdk::ApiResponse> {
    if (auto st = tx.insert_context(row(ct::uuid(4), "a", 1)); !st) return st.error();
    return sdk::Error(sdk::Errc::precondition_failed, "version 3 is not the current one");
  };
  changes[8] = [](sdk::Transaction&, sdk::AuditEvent&) -> sdk::Result<sdk::ApiResponse> {
    throw std::runtime_error("boom");
  };
  // Even changes are submitted from this thread, odd ones run() by a thread each.
  std::vector<Answer> submitted(kChanges);
  std::vector<std::optional<sdk::Result<sdk::ApiResponse>>> waited(kChanges);
  std::vector<std::thread> threads;
  for (int i = 0; i < kChanges; ++i) {
    const auto at = static_cast<std::size_t>(i);
    if (i % 2 == 0) {
      gc.submit(event(i), changes[at], submitted[at].then());
    } else {
      threads.emplace_back([&, i, at] { waited[at] = gc.run(event(i), changes[at]); });
    }
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kChanges; ++i) {
    const auto at = static_cast<std::size_t>(i);
    const auto r = i % 2 == 0 ? submitted[at].future.get() : std::move(*waited[at]);
    if (i == 4) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), sdk::Errc::precondition_failed);
    } else if (i == 8) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), sdk::Errc::internal);
    } else {
      ASSERT_TRUE(r.ok()) << i << ": " << r.error().message();
      EXPECT_EQ(r->status, 201);
      EXPECT_TRUE(storage_->get(ct::uuid(i))->has_value()) << i;
    }
  }
  EXPECT_FALSE(storage_->get(ct::uuid(4))->has_value()) << "a refused change left its row";
  EXPECT_EQ(audit_events(), kChanges - 2);
  gc.publish(metrics_);
  EXPECT_EQ(metric("ctxmgr_group_commit_changes_total"), kChanges);
  EXPECT_LE(metric("ctxmgr_group_commit_batches_total"), 2) << "the changes were not batched";
  EXPECT_EQ(metric("ctxmgr_group_commit_retried_alone_total"), 1);  // 8, which threw
}

TEST_P(GroupCommitTest, ASubmittedChangeIsAnsweredOnlyAfterItsBatchCommits) {
  // A batch of two, waited for up to 30 s: the first change waits for the second.
  GroupCommit gc(*storage_, batch(), GroupCommit::Settings{2, std::chrono::seconds(30), 1});
  Answer first, second;
  gc.submit(event(1), creates(1), first.then());
  EXPECT_EQ(first.future.wait_for(std::chrono::milliseconds(100)), std::future_status::timeout);
  EXPECT_FALSE(storage_->get(ct::uuid(1))->has_value()) << "written before its batch committed";
  gc.submit(event(2), creates(2), second.then());
  for (auto* a : {&first, &second}) {
    auto r = a->future.get();
    ASSERT_TRUE(r.ok()) << r.error().message();
  }
  EXPECT_TRUE(storage_->get(ct::uuid(1))->has_value());
  EXPECT_TRUE(storage_->get(ct::uuid(2))->has_value());
  EXPECT_EQ(audit_events(), 2);
}

TEST_P(GroupCommitTest, DestroyingTheGroupCommitAnswersEverySubmittedChange) {
  std::vector<Answer> answers(3);
  const auto started = std::chrono::steady_clock::now();
  {
    // Its lane would wait 30 s for a batch of 32; the destructor cuts that short.
    GroupCommit gc(*storage_, batch(), GroupCommit::Settings{32, std::chrono::seconds(30), 1});
    for (int i = 0; i < 3; ++i) {
      gc.submit(event(i), creates(i), answers[static_cast<std::size_t>(i)].then());
    }
  }
  for (int i = 0; i < 3; ++i) {
    auto& a = answers[static_cast<std::size_t>(i)];
    ASSERT_EQ(a.future.wait_for(std::chrono::seconds(0)), std::future_status::ready) << i;
    auto r = a.future.get();
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(storage_->get(ct::uuid(i))->has_value()) << i;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(20));
}

TEST_P(GroupCommitTest, ManyAuditEventsInOneCallKeepTheirOrderAndSeqs) {
  auto tx = batch().begin_batch();
  ASSERT_TRUE(tx.ok()) << tx.error().message();
  std::vector<sdk::AuditEvent> events;
  for (int i = 0; i < 5; ++i) {
    auto e = event(i);
    if (i == 2) e.context_id = ct::uuid(7);
    events.push_back(e);
  }
  auto seqs = (*tx)->append_audits(events);
  ASSERT_TRUE(seqs.ok()) << seqs.error().message();
  ASSERT_TRUE((*tx)->commit().ok());
  ASSERT_EQ(seqs->size(), 5u);
  auto stored = storage_->audit_range(0, 1000, 100);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ((*stored)[i].seq, (*seqs)[i]);
    EXPECT_EQ((*stored)[i].request_id, "r" + std::to_string(i));
    EXPECT_EQ((*stored)[i].context_id, i == 2 ? ct::uuid(7) : "");
  }
}

INSTANTIATE_TEST_SUITE_P(Storage, GroupCommitTest, ct::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
