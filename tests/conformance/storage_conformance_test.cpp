// The storage conformance suite: what every storage plugin must do, run against each plugin
// loaded through the real loader (not linked). PostgreSQL joins when CTXMGR_TEST_PG_DSN is set.

#include <thread>

#include "storage_fixture.hpp"

namespace ck = ctxmgr::kernel;
namespace sdk = ctxmgr::sdk;
using ctxmgr::test::StorageConformance;
using ctxmgr::test::uuid;
namespace ct = ctxmgr::test;

namespace {

TEST_P(StorageConformance, MigrationsAreRecordedAndIdempotent) {
  auto again = storage_->migrate();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  auto status = storage_->schema_status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->current, status->latest);
  EXPECT_EQ(status->current, 19);
  EXPECT_EQ(status->applied,
            "00_base, 01_immutable_log, 02_context_manager, 03_algorithm_engine, "
            "04_access_control, 05_audit_chain, 06_search, 07_access_epoch, 08_context_changes, "
            "09_context_vectors, 10_search_postings, 11_vector_seq, 12_memory_paths, "
            "13_change_notify, 14_webhooks, 15_received_grants, 16_change_notify_after_commit, "
            "17_search_gin_dropped, 18_search_deferred, 19_context_write_count");
  EXPECT_TRUE(status->pending.empty());
  EXPECT_TRUE(storage_->ping().ok());
}

TEST_P(StorageConformance, InsertAndGetRoundTripUnicodeAndLargeValues) {
  const std::string big(512 * 1024, 'x');
  const std::string data = R"({"información":"valor","emoji":"😀","zh":"上下文","big":")" + big +
                           R"(","n":1.0,"i":9007199254740993})";
  create(row(uuid(1), "mi_agente", 1000, data, R"({"priority":"high","tags":["billing"]})"));
  auto got = storage_->get(uuid(1));
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->context_data, data);
  EXPECT_EQ((*got)->metadata, R"({"priority":"high","tags":["billing"]})");
  EXPECT_EQ((*got)->agent_id, "mi_agente");
  EXPECT_EQ((*got)->version, 1);
  EXPECT_EQ((*got)->created_at_us, 1000);
  EXPECT_FALSE((*got)->deleted);
  auto missing = storage_->get(uuid(2));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StorageConformance, DuplicateInsertIsAConflict) {
  create(row(uuid(1), "a", 1));
  auto tx = storage_->begin();
  ASSERT_TRUE(tx.ok());
  // A storage may send writes together and report the error at a later call (storage.hpp).
  sdk::Status st = (*tx)->insert_context(row(uuid(1), "a", 2));
  if (st.ok()) st = (*tx)->commit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), sdk::Errc::conflict);
  EXPECT_EQ((*storage_->get(uuid(1)))->created_at_us, 1);
}

TEST_P(StorageConformance, UncommittedTransactionRollsBackAndIsInvisible) {
  create(row(uuid(1), "a", 1));
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    auto cur = (*tx)->get_for_update(uuid(1));
    ASSERT_TRUE(cur.ok() && cur->has_value());
    sdk::ContextRow next = **cur;
    next.version = 2;
    next.context_data = R"({"k":2})";
    ASSERT_TRUE((*tx)->update_context(next).ok());
    ASSERT_TRUE((*tx)->append_history(hist(next, "update")).ok());
    ASSERT_TRUE((*tx)->append_audit({0, 5, "a", "update", uuid(1), "test", "r1", "{}"}).ok());
    // Not visible to readers before commit.
    EXPECT_EQ((*storage_->get(uuid(1)))->version, 1);
  }  // destroyed without commit
  auto got = storage_->get(uuid(1));
  EXPECT_EQ((*got)->version, 1);
  EXPECT_EQ((*got)->context_data, R"({"k":1})");
  EXPECT_EQ(storage_->history(uuid(1), 0, 10)->size(), 1u);
  EXPECT_TRUE(audit_page(0, 10)->empty());
}

TEST_P(StorageConformance, UpdateOfMissingRowIsNotFound) {
  auto tx = storage_->begin();
  ASSERT_TRUE(tx.ok());
  sdk::Status st = (*tx)->update_context(row(uuid(9), "a", 1));
  if (st.ok()) st = (*tx)->commit();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), sdk::Errc::not_found);
  EXPECT_FALSE(storage_->get(uuid(9))->has_value());
}

TEST_P(StorageConformance, HistoryNewestFirstWithPagingAndVersions) {
  auto r = row(uuid(1), "a", 1);
  create(r);
  for (int v = 2; v <= 5; ++v) {
    auto tx = storage_->begin();
    r.version = v;
    r.updated_at_us = v;
    r.context_data = "{\"v\":" + std::to_string(v) + "}";
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->append_history(hist(r, "update")).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  auto page1 = storage_->history(uuid(1), 0, 2);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 2u);
  EXPECT_EQ((*page1)[0].version, 5);
  EXPECT_EQ((*page1)[1].version, 4);
  auto page2 = storage_->history(uuid(1), 4, 10);
  ASSERT_EQ(page2->size(), 3u);
  EXPECT_EQ((*page2)[0].version, 3);
  EXPECT_EQ((*page2)[2].action, "create");
  auto v3 = storage_->get_version(uuid(1), 3);
  ASSERT_TRUE(v3.ok() && v3->has_value());
  EXPECT_EQ((*v3)->context_data, R"({"v":3})");
  EXPECT_FALSE(storage_->get_version(uuid(1), 6)->has_value());
}

TEST_P(StorageConformance, ListPagesFiltersAndExcludesDeleted) {
  for (int i = 1; i <= 5; ++i) {
    create(row(uuid(i), "owner", 100 + i, "{}",
               i % 2 == 0 ? R"({"tags":["billing","eu"]})" : R"({"tags":["other"]})"));
  }
  create(row(uuid(50), "someone_else", 500));
  // Soft-delete #5.
  {
    auto tx = storage_->begin();
    auto r = **(*tx)->get_for_update(uuid(5));
    r.deleted = true;
    r.version = 2;
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  sdk::ListQuery q;
  q.agent_id = "owner";
  q.limit = 2;
  auto p1 = storage_->list(q);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->size(), 2u);
  EXPECT_EQ((*p1)[0].id, uuid(4));
  EXPECT_EQ((*p1)[1].id, uuid(3));
  q.after_updated_at_us = (*p1)[1].updated_at_us;
  q.after_id = (*p1)[1].id;
  auto p2 = storage_->list(q);
  ASSERT_EQ(p2->size(), 2u);
  EXPECT_EQ((*p2)[0].id, uuid(2));
  EXPECT_EQ((*p2)[1].id, uuid(1));

  sdk::ListQuery all;
  all.agent_id = "owner";
  all.include_deleted = true;
  EXPECT_EQ(storage_->list(all)->size(), 5u);
  sdk::ListQuery tagged;
  tagged.agent_id = "owner";
  tagged.tag = "billing";
  auto t = storage_->list(tagged);
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].id, uuid(4));
}

TEST_P(StorageConformance, PurgeErasesContextAndHistoryButKeepsAudit) {
  create(row(uuid(1), "a", 1));
  {
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->append_audit({0, 2, "a", "create", uuid(1), "test", "r", "{}"}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  {
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->purge_context(uuid(1)).ok());
    ASSERT_TRUE((*tx)->append_audit({0, 3, "admin", "purge", uuid(1), "test", "r2", "{}"}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  EXPECT_FALSE(storage_->get(uuid(1))->has_value());
  EXPECT_TRUE(storage_->history(uuid(1), 0, 10)->empty());
  auto events = audit_page(0, 10);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].action, "purge");
  EXPECT_EQ((*events)[1].action, "create");
  EXPECT_GT((*events)[0].seq, (*events)[1].seq);
  EXPECT_EQ((*events)[0].context_id, uuid(1));
}

TEST_P(StorageConformance, AuditSequenceGrowsInCommitOrder) {
  std::int64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    auto tx = storage_->begin();
    auto seq = (*tx)->append_audit({0, i, "a", "read", "", "test", "r", R"({"i":1})"});
    ASSERT_TRUE(seq.ok());
    EXPECT_GT(*seq, last);
    last = *seq;
    ASSERT_TRUE((*tx)->commit().ok());
  }
  auto events = audit_page(0, 3);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].seq, last);
  EXPECT_TRUE((*events)[0].context_id.empty());
  auto older = audit_page((*events)[2].seq, 10);
  EXPECT_EQ(older->size(), 2u);
}

TEST_P(StorageConformance, ConcurrentReadModifyWriteLosesNothing) {
  create(row(uuid(1), "a", 1, "{}"));
  constexpr int kThreads = 8;
  constexpr int kEach = 10;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto tx = storage_->begin();
        if (!tx.ok()) {
          ++failures;
          continue;
        }
        auto cur = (*tx)->get_for_update(uuid(1));
        if (!cur.ok() || !cur->has_value()) {
          ++failures;
          continue;
        }
        sdk::ContextRow next = **cur;
        next.version += 1;
        if (!(*tx)->update_context(next).ok() ||
            !(*tx)->append_history(hist(next, "update")).ok() || !(*tx)->commit().ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ((*storage_->get(uuid(1)))->version, 1 + kThreads * kEach);
  EXPECT_EQ(storage_->history(uuid(1), 0, 1000)->size(),
            static_cast<std::size_t>(1 + kThreads * kEach));
}

TEST_P(StorageConformance, EveryReadAfterACommitSeesIt) {
  create(row(uuid(1), "a", 1));
  // Warm every read path (a store may keep statements prepared per connection); end on a get.
  for (int i = 0; i < 16; ++i) {
    ASSERT_TRUE(storage_->permissions(uuid(1), "a", "bob")->empty());
    ASSERT_TRUE(storage_->get(uuid(1))->has_value());
  }
  {
    auto tx = storage_->begin();
    auto r = **(*tx)->get_for_update(uuid(1));
    r.version = 2;
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->append_history(hist(r, "update")).ok());
    ASSERT_TRUE((*tx)->put_grant(sdk::GrantScope::context, {uuid(1), "bob", "write", "a", 2}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  // Other reads first: on a connection whose last read was the cached one, they must not see
  // the snapshot it was taken in.
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(*storage_->permissions(uuid(1), "a", "bob"), std::vector<std::string>{"write"});
    EXPECT_EQ(storage_->history(uuid(1), 0, 10)->size(), 2u);
    EXPECT_EQ((*storage_->get(uuid(1)))->version, 2);
  }
}

TEST_P(StorageConformance, AuditFiltersRangesAndSeals) {
  create(row(uuid(1), "owner", 1));
  {
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->append_audit({0, 100, "owner", "create", uuid(1), "http", "r1", "{}"}).ok());
    ASSERT_TRUE((*tx)->append_audit({0, 200, "bob", "read", uuid(1), "mcp", "r2", "{}"}).ok());
    ASSERT_TRUE((*tx)->append_audit({0, 300, "bob", "agent.create", "", "cli", "r3", "{}"}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  auto all = audit_page(0, 10);
  ASSERT_EQ(all->size(), 3u);
  const std::int64_t first = all->back().seq;
  sdk::AuditQuery q;
  q.agent_id = "bob";
  EXPECT_EQ(storage_->audit(q)->size(), 2u);
  q.action = "read";
  EXPECT_EQ(storage_->audit(q)->size(), 1u);
  sdk::AuditQuery by_ctx;
  by_ctx.context_id = uuid(1);
  EXPECT_EQ(storage_->audit(by_ctx)->size(), 2u);
  sdk::AuditQuery by_time;
  by_time.since_us = 200;
  by_time.until_us = 300;
  ASSERT_EQ(storage_->audit(by_time)->size(), 1u);
  EXPECT_EQ(storage_->audit(by_time)->at(0).request_id, "r2");
  sdk::AuditQuery owned;
  owned.owner = "owner";
  EXPECT_EQ(storage_->audit(owned)->size(), 2u);
  owned.owner = "bob";
  EXPECT_TRUE(storage_->audit(owned)->empty());

  auto range = storage_->audit_range(first - 1, first + 1, 10);
  ASSERT_EQ(range->size(), 2u);  // oldest first
  EXPECT_EQ(range->at(0).action, "create");
  EXPECT_EQ(range->at(1).transport, "mcp");
  EXPECT_EQ(*storage_->audit_horizon(), first + 2);

  {
    auto tx = storage_->begin();
    auto last = (*tx)->last_seal();
    ASSERT_TRUE(last.ok());
    EXPECT_FALSE(last->has_value());
    ASSERT_TRUE((*tx)->append_seals({{first, "h1"}, {first + 1, "h2"}}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  {
    auto tx = storage_->begin();
    auto last = (*tx)->last_seal();
    ASSERT_TRUE(last.ok() && last->has_value());
    EXPECT_EQ((*last)->seq, first + 1);
    EXPECT_EQ((*last)->hash, "h2");
  }
  auto seals = storage_->seals(0, 10);
  ASSERT_EQ(seals->size(), 2u);
  EXPECT_EQ(seals->at(0).hash, "h1");
  EXPECT_EQ(storage_->seals(first, 10)->size(), 1u);
}

TEST_P(StorageConformance, AgentsAndTokens) {
  auto tx = storage_->begin();
  ASSERT_TRUE((*tx)->insert_agent({"alice", "Alice", "agent", 10, false}).ok());
  ASSERT_TRUE((*tx)->insert_agent({"root", "", "admin", 11, false}).ok());
  ASSERT_TRUE((*tx)->set_token("alice", "hash-1", 12).ok());
  ASSERT_TRUE((*tx)->commit().ok());
  {
    auto dup = storage_->begin();
    auto st = (*dup)->insert_agent({"alice", "", "agent", 13, false});
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code(), sdk::Errc::conflict);
  }
  auto alice = storage_->get_agent("alice");
  ASSERT_TRUE(alice.ok() && alice->has_value());
  EXPECT_EQ((*alice)->display_name, "Alice");
  EXPECT_EQ((*alice)->created_at_us, 10);
  EXPECT_FALSE(storage_->get_agent("nobody")->has_value());
  auto by_token = storage_->agent_by_token("hash-1");
  ASSERT_TRUE(by_token.ok() && by_token->has_value());
  EXPECT_EQ((*by_token)->agent_id, "alice");
  EXPECT_FALSE(storage_->agent_by_token("hash-x")->has_value());
  // Rotation replaces the token; disabling is an update.
  {
    auto t2 = storage_->begin();
    ASSERT_TRUE((*t2)->set_token("alice", "hash-2", 14).ok());
    sdk::AgentRow a = **alice;
    a.disabled = true;
    ASSERT_TRUE((*t2)->update_agent(a).ok());
    auto missing = (*t2)->update_agent({"ghost", "", "agent", 0, false});
    EXPECT_EQ(missing.error().code(), sdk::Errc::not_found);
    ASSERT_TRUE((*t2)->commit().ok());
  }
  EXPECT_FALSE(storage_->agent_by_token("hash-1")->has_value());
  EXPECT_TRUE((*storage_->agent_by_token("hash-2"))->disabled);
  auto page = storage_->list_agents("", 1);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ(page->at(0).agent_id, "alice");
  auto rest = storage_->list_agents("alice", 10);
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->at(0).role, "admin");
}

TEST_P(StorageConformance, GrantsAndPermissions) {
  create(row(uuid(1), "owner", 1));
  create(row(uuid(2), "owner", 2));
  auto put = [&](sdk::GrantScope scope, const std::string& id, const std::string& agent,
                 const std::string& perm) {
    auto tx = storage_->begin();
    auto replaced = (*tx)->put_grant(scope, {id, agent, perm, "owner", 5});
    EXPECT_TRUE(replaced.ok());
    EXPECT_TRUE((*tx)->commit().ok());
    return replaced.ok() && *replaced;
  };
  EXPECT_FALSE(put(sdk::GrantScope::context, uuid(1), "bob", "read"));
  EXPECT_TRUE(put(sdk::GrantScope::context, uuid(1), "bob", "write"));  // replaces
  EXPECT_FALSE(put(sdk::GrantScope::owner, "owner", "carol", "read"));
  auto g = storage_->grants(sdk::GrantScope::context, uuid(1));
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->size(), 1u);
  EXPECT_EQ(g->at(0).permission, "write");
  EXPECT_EQ(g->at(0).granted_by, "owner");
  EXPECT_EQ(storage_->grants(sdk::GrantScope::owner, "owner")->at(0).agent_id, "carol");
  EXPECT_EQ(*storage_->permissions(uuid(1), "owner", "bob"), std::vector<std::string>{"write"});
  EXPECT_EQ(*storage_->permissions(uuid(2), "owner", "carol"), std::vector<std::string>{"read"});
  EXPECT_TRUE(storage_->permissions(uuid(2), "owner", "bob")->empty());
  sdk::ListQuery q;
  q.agent_id = "owner";
  q.granted_to = "bob";
  auto shared = storage_->list(q);
  ASSERT_EQ(shared->size(), 1u);
  EXPECT_EQ(shared->at(0).id, uuid(1));
  {
    auto tx = storage_->begin();
    EXPECT_TRUE(*(*tx)->remove_grant(sdk::GrantScope::owner, "owner", "carol"));
    EXPECT_FALSE(*(*tx)->remove_grant(sdk::GrantScope::owner, "owner", "carol"));
    ASSERT_TRUE((*tx)->purge_context(uuid(1)).ok());  // its grants go with it
    ASSERT_TRUE((*tx)->commit().ok());
  }
  EXPECT_TRUE(storage_->permissions(uuid(2), "owner", "carol")->empty());
  EXPECT_TRUE(storage_->grants(sdk::GrantScope::context, uuid(1))->empty());
}

INSTANTIATE_TEST_SUITE_P(Storage, StorageConformance, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
