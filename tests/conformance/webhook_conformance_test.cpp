// The webhook capability (sdk/storage_webhooks.hpp) on every storage: webhooks kept and listed
// by owner, removed with their delivery log; one holder of a lease at a time until it runs out;
// the cursor moves only forward and only for the holder; delivery attempts logged newest first.

#include "storage_fixture.hpp"

namespace ct = ctxmgr::test;

namespace {

class WebhookConformance : public ct::StorageConformance {
 protected:
  void SetUp() override {
    StorageConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    hooks_ = registry_->storage_webhooks();
    ASSERT_NE(hooks_, nullptr) << "the storage has no webhook capability";
  }
  static sdk::WebhookRow hook(int n, const std::string& owner) {
    sdk::WebhookRow w;
    w.id = ct::uuid(n);
    w.owner = owner;
    w.url = "https://receiver.example/hook/" + std::to_string(n);
    w.secret = "s3cret-" + std::to_string(n);
    w.actions = "update,delete";
    w.created_at_us = 1000 * n;
    w.cursor = 40;
    return w;
  }
  sdk::Status insert(const sdk::WebhookRow& w) {
    auto tx = storage_->begin();
    if (!tx) return tx.error();
    if (auto st = hooks_->insert_webhook(**tx, w); !st) return st;
    return (*tx)->commit();
  }
  sdk::StorageWebhooks* hooks_ = nullptr;
};

TEST_P(WebhookConformance, WebhooksAreKeptListedByOwnerAndRemoved) {
  ASSERT_TRUE(insert(hook(2, "ana")).ok());
  ASSERT_TRUE(insert(hook(1, "ana")).ok());
  ASSERT_TRUE(insert(hook(3, "bea")).ok());
  auto again = insert(hook(1, "ana"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), sdk::Errc::conflict);
  auto one = hooks_->webhook(ct::uuid(2));
  ASSERT_TRUE(one.ok() && one->has_value());
  const auto& w = **one;
  EXPECT_EQ(w.owner, "ana");
  EXPECT_EQ(w.url, "https://receiver.example/hook/2");
  EXPECT_EQ(w.secret, "s3cret-2");
  EXPECT_EQ(w.actions, "update,delete");
  EXPECT_EQ(w.created_at_us, 2000);
  EXPECT_EQ(w.cursor, 40);
  EXPECT_TRUE(w.lease_holder.empty());
  auto anas = hooks_->webhooks("ana");
  ASSERT_TRUE(anas.ok());
  ASSERT_EQ(anas->size(), 2u);
  EXPECT_EQ((*anas)[0].id, ct::uuid(1));  // id order
  EXPECT_EQ(hooks_->webhooks("")->size(), 3u);
  ASSERT_TRUE(hooks_->log_delivery({ct::uuid(2), 41, 1, 5000, 200, "", 3}).ok());
  // One transaction at a time: SQLite's writer is held until the transaction object goes.
  auto remove = [&] {
    auto tx = storage_->begin();
    auto removed = hooks_->delete_webhook(**tx, ct::uuid(2));
    EXPECT_TRUE(removed.ok());
    EXPECT_TRUE((*tx)->commit().ok());
    return removed.ok() && *removed;
  };
  EXPECT_TRUE(remove());
  EXPECT_FALSE(hooks_->webhook(ct::uuid(2))->has_value());
  EXPECT_TRUE(hooks_->deliveries(ct::uuid(2), 0, 10)->empty()) << "its log stayed";
  EXPECT_FALSE(remove()) << "removed twice";
}

TEST_P(WebhookConformance, OneHolderAtATimeAndTheCursorMovesOnlyForItAndForward) {
  ASSERT_TRUE(insert(hook(1, "ana")).ok());
  const auto id = ct::uuid(1);
  EXPECT_TRUE(*hooks_->lease_webhook(id, "server-a", 1000, 5000));
  EXPECT_FALSE(*hooks_->lease_webhook(id, "server-b", 2000, 6000)) << "taken while held";
  EXPECT_TRUE(*hooks_->lease_webhook(id, "server-a", 3000, 8000)) << "renewed by its holder";
  EXPECT_FALSE(*hooks_->lease_webhook(id, "server-b", 7999, 9000));
  EXPECT_TRUE(*hooks_->advance_webhook(id, "server-a", 45));
  EXPECT_FALSE(*hooks_->advance_webhook(id, "server-b", 50)) << "moved by a non-holder";
  EXPECT_EQ((*hooks_->webhook(id))->cursor, 45);
  EXPECT_TRUE(*hooks_->advance_webhook(id, "server-a", 44));
  EXPECT_EQ((*hooks_->webhook(id))->cursor, 45) << "moved backwards";
  // Run out: the next asker takes it, and the old holder can no longer move the cursor.
  EXPECT_TRUE(*hooks_->lease_webhook(id, "server-b", 8000, 12000));
  EXPECT_EQ((*hooks_->webhook(id))->lease_holder, "server-b");
  EXPECT_EQ((*hooks_->webhook(id))->lease_until_us, 12000);
  EXPECT_FALSE(*hooks_->advance_webhook(id, "server-a", 60));
  EXPECT_FALSE(*hooks_->lease_webhook(ct::uuid(9), "server-a", 1, 2)) << "no such webhook";
}

TEST_P(WebhookConformance, AttemptsAreLoggedNewestFirstAndPaged) {
  ASSERT_TRUE(insert(hook(1, "ana")).ok());
  const auto id = ct::uuid(1);
  ASSERT_TRUE(hooks_->log_delivery({id, 41, 1, 1000, 500, "HTTP 500", 12}).ok());
  ASSERT_TRUE(hooks_->log_delivery({id, 41, 2, 2000, 0, "timed out after 10 s", 10000}).ok());
  ASSERT_TRUE(hooks_->log_delivery({id, 41, 3, 3000, 200, "", 4}).ok());
  ASSERT_TRUE(hooks_->log_delivery({id, 42, 1, 4000, 204, "", 3}).ok());
  auto all = hooks_->deliveries(id, 0, 10);
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 4u);
  EXPECT_EQ((*all)[0].seq, 42);
  EXPECT_EQ((*all)[1].attempt, 3);
  EXPECT_EQ((*all)[2].error, "timed out after 10 s");
  EXPECT_EQ((*all)[2].status, 0);
  EXPECT_EQ((*all)[2].duration_ms, 10000);
  EXPECT_EQ((*all)[3].at_us, 1000);
  auto older = hooks_->deliveries(id, 42, 2);
  ASSERT_EQ(older->size(), 2u);
  EXPECT_EQ((*older)[0].seq, 41);
  EXPECT_EQ((*older)[0].attempt, 3);
}

// The log is bounded: it keeps (at least) the newest 1000 events' attempts of each webhook, and
// drops older ones as attempts are logged.
TEST_P(WebhookConformance, TheDeliveryLogKeepsTheNewestEvents) {
  ASSERT_TRUE(insert(hook(7, "ana")).ok());
  const std::string id = ct::uuid(7);
  for (int seq = 1; seq <= 1200; ++seq) {
    ASSERT_TRUE(hooks_->log_delivery({id, seq, 1, 1000L * seq, 204, "", 1}).ok());
  }
  std::vector<std::int64_t> seqs;
  for (std::int64_t before = 0;;) {
    auto page = hooks_->deliveries(id, before, 500);
    ASSERT_TRUE(page.ok()) << page.error().message();
    if (page->empty()) break;
    for (const auto& d : *page) seqs.push_back(d.seq);
    before = page->back().seq;
  }
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(seqs.front(), 1200);  // the newest is kept
  EXPECT_GE(seqs.size(), 1000u);
  EXPECT_LT(seqs.size(), 1000u + 64u);  // pruned at least once in the last 64 attempts
  EXPECT_GT(seqs.back(), 1);            // the oldest went
}

INSTANTIATE_TEST_SUITE_P(Storage, WebhookConformance, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
