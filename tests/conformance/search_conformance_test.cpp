// The search capability of the storage plugins (StorageSearch, SDK ABI 1.1): what selection
// relies on, on both backends — matching by accent- and case-folded words and by Spanish and
// English stems, any word making a candidate and more words ranking higher, the index kept
// current in each change's transaction, the agent's view and the filters, and the selection log.

#include <algorithm>

#include "ctxmgr/sdk/storage_batch.hpp"
#include "storage_fixture.hpp"

namespace sdk = ctxmgr::sdk;
using ctxmgr::test::StorageConformance;
using ctxmgr::test::uuid;

namespace {

class SearchConformance : public StorageConformance {
 protected:
  void SetUp() override {
    StorageConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    search_ = registry_->storage_search();
    ASSERT_NE(search_, nullptr) << "the storage plugin does not announce the search capability";
  }

  // The ids found for `terms` in `agent`'s view, best first.
  std::vector<std::string> ids(const std::vector<std::string>& terms,
                               const std::string& agent = "alice", bool shared = true) {
    sdk::SearchQuery q;
    q.agent_id = agent;
    q.include_shared = shared;
    q.terms = terms;
    return ids_of(q);
  }
  std::vector<std::string> ids_of(const sdk::SearchQuery& q) {
    auto hits = search_->search(q);
    EXPECT_TRUE(hits.ok()) << hits.error().message();
    std::vector<std::string> out;
    if (hits.ok()) {
      for (const auto& h : *hits) out.push_back(h.row.id);
    }
    return out;
  }
  void text(int n, const std::string& data, const std::string& meta = "{}",
            const std::string& agent = "alice", std::int64_t at = 1000) {
    create(row(uuid(n), agent, at + n, data, meta));
  }

  sdk::StorageSearch* search_ = nullptr;
};

TEST_P(SearchConformance, AccentsCaseAndStemsInBothLanguages) {
  text(1, R"({"title":"Migración de facturación","body":"Pasos para migrar la facturación"})");
  text(2, R"({"title":"Invoice export","body":"How the monthly invoice is exported"})");
  text(3, R"({"note":"Almuerzo del equipo el viernes"})");
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({"facturacion"}), V{uuid(1)});  // no accent finds the accented word
  EXPECT_EQ(ids({"FACTURACIÓN"}), V{uuid(1)});  // nor does case matter
  EXPECT_EQ(ids({"migrar"}), V{uuid(1)});       // the Spanish stem of migración
  EXPECT_EQ(ids({"migraciones"}), V{uuid(1)});
  EXPECT_EQ(ids({"invoices"}), V{uuid(2)});  // the English stem of invoice
  EXPECT_EQ(ids({"exporting"}), V{uuid(2)});
  EXPECT_EQ(ids({"title"}).size(), 2u);  // keys are searchable too
  EXPECT_TRUE(ids({"inexistente"}).empty());
}

TEST_P(SearchConformance, AnyWordMatchesAndMoreWordsRankHigher) {
  text(1, R"({"body":"backup of the database every night"})");
  text(2, R"({"body":"restore the database from a backup, then check the restore"})");
  text(3, R"({"body":"database tuning"})");
  const auto found = ids({"backup", "restore", "database"});
  ASSERT_EQ(found.size(), 3u);  // words are alternatives: one of them is enough
  EXPECT_EQ(found.front(), uuid(2));
  EXPECT_EQ(found.back(), uuid(3));
  sdk::SearchQuery q;
  q.agent_id = "alice";
  q.terms = {"database"};
  q.limit = 2;
  auto hits = search_->search(q);
  ASSERT_TRUE(hits.ok());
  EXPECT_EQ(hits->size(), 2u);
  for (const auto& h : *hits) EXPECT_GT(h.text_score, 0);
}

TEST_P(SearchConformance, TheIndexFollowsEveryChange) {
  text(1, R"({"body":"alpha"})");
  text(2, R"({"body":"alpha beta"})");
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    auto r = row(uuid(1), "alice", 5000, R"({"body":"gamma"})");
    r.version = 2;
    ASSERT_TRUE((*tx)->update_context(r).ok());
    auto d = row(uuid(2), "alice", 5000, R"({"body":"alpha beta"})");
    d.version = 2;
    d.deleted = true;
    ASSERT_TRUE((*tx)->update_context(d).ok());
    // Not yet committed: the index still says what the committed rows say.
    EXPECT_EQ(ids({"alpha"}).size(), 2u);
    ASSERT_TRUE((*tx)->commit().ok());
  }
  EXPECT_TRUE(ids({"alpha"}).empty());  // rewritten and deleted
  EXPECT_EQ(ids({"gamma"}), std::vector<std::string>{uuid(1)});
  {
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->purge_context(uuid(1)).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  EXPECT_TRUE(ids({"gamma"}).empty());
}

TEST_P(SearchConformance, ABatchCommitsTheIndexOfTheChangesItKeptAndNoneOfThoseItUndid) {
  // SQLite writes a transaction's index entries just before its commit (18_search_deferred):
  // what a change undone to its mark noted must go with it, and a row changed twice is indexed
  // as it ends.
  auto* batch = registry_->storage_batch();
  ASSERT_NE(batch, nullptr);
  text(1, R"({"body":"alpha"})");
  {
    auto tx = batch->begin_batch();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->mark().ok());
    ASSERT_TRUE((*tx)->insert_context(row(uuid(2), "alice", 2000, R"({"body":"beta"})")).ok());
    ASSERT_TRUE((*tx)->mark().ok());
    ASSERT_TRUE((*tx)->insert_context(row(uuid(3), "alice", 2001, R"({"body":"gamma"})")).ok());
    auto r = row(uuid(1), "alice", 2002, R"({"body":"gamma alpha"})");
    r.version = 2;
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->undo_to_mark().ok());  // uuid(3) and the rewrite of uuid(1) are undone
    ASSERT_TRUE((*tx)->mark().ok());
    auto d = row(uuid(2), "alice", 2003, R"({"body":"beta delta"})");
    d.version = 2;
    ASSERT_TRUE((*tx)->update_context(d).ok());
    d.version = 3;
    d.context_data = R"({"body":"epsilon"})";
    ASSERT_TRUE((*tx)->update_context(d).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(ids({"alpha"}), V{uuid(1)});  // as it was before the undone rewrite
  EXPECT_TRUE(ids({"gamma"}).empty());    // neither the undone insert nor the undone rewrite
  EXPECT_TRUE(ids({"beta"}).empty());     // rewritten twice: only its last text
  EXPECT_TRUE(ids({"delta"}).empty());
  EXPECT_EQ(ids({"epsilon"}), V{uuid(2)});
}

TEST_P(SearchConformance, TheAgentsViewAndTheFilters) {
  text(1, R"({"w":"shared topic"})", R"({"tags":["ops","eu"],"priority":"high"})", "alice");
  text(2, R"({"w":"shared topic"})", R"({"tags":["dev"]})", "bob");      // granted to alice
  text(3, R"({"w":"shared topic"})", R"({"priority":"low"})", "carol");  // owner grant
  text(4, R"({"w":"shared topic"})", "{}", "dave");                      // not shared
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(
        (*tx)->put_grant(sdk::GrantScope::context, {uuid(2), "alice", "read", "bob", 1}).ok());
    ASSERT_TRUE(
        (*tx)->put_grant(sdk::GrantScope::owner, {"carol", "alice", "write", "carol", 1}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(sorted(ids({"topic"})), (V{uuid(1), uuid(2), uuid(3)}));
  EXPECT_EQ(ids({"topic"}, "alice", false), V{uuid(1)});
  EXPECT_EQ(sorted(ids({"topic"}, "dave")), V{uuid(4)});
  sdk::SearchQuery q;
  q.agent_id = "alice";
  q.terms = {"topic"};
  q.tags = {"dev", "eu"};
  EXPECT_EQ(sorted(ids_of(q)), (V{uuid(1), uuid(2)}));
  q.tags.clear();
  q.priority = "medium";  // no priority counts as medium
  EXPECT_EQ(ids_of(q), V{uuid(2)});
  q.priority = "low";
  EXPECT_EQ(ids_of(q), V{uuid(3)});
  // Without words, newest first.
  sdk::SearchQuery recent;
  recent.agent_id = "alice";
  recent.order = sdk::SearchOrder::recency;
  recent.limit = 2;
  EXPECT_EQ(ids_of(recent), (V{uuid(3), uuid(2)}));
}

TEST_P(SearchConformance, AViewThatIsASmallPartOfTheStoreIsStillSearchedWhole) {
  // 450 better matches of another agent come first in the index's own ranking.
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    for (int i = 0; i < 450; ++i) {
      auto r = row(uuid(100 + i), "bob", 2000 + i, R"({"body":"zeta zeta zeta"})");
      ASSERT_TRUE((*tx)->insert_context(r).ok());
      ASSERT_TRUE((*tx)->append_history(hist(r, "create")).ok());
    }
    ASSERT_TRUE((*tx)->commit().ok());
  }
  text(1, R"({"body":"zeta and more words that make it a longer text"})");
  sdk::SearchQuery q;
  q.agent_id = "alice";
  q.terms = {"zeta"};
  q.limit = 10;  // fewer than the other agent's better matches
  EXPECT_EQ(ids_of(q), std::vector<std::string>{uuid(1)});
  q.agent_id = "bob";
  EXPECT_EQ(ids_of(q).size(), 10u);
}

TEST_P(SearchConformance, TheSelectionLogKeepsEveryRecord) {
  std::vector<std::int64_t> got;
  for (int i = 0; i < 3; ++i) {
    sdk::SelectionRecord r{
        0,        1000 + i,          i == 1 ? "bob" : "alice",   "q" + std::to_string(i),
        "hybrid", R"({"limit":10})", R"([{"id":"x","score":1}])"};
    auto id = search_->append_selection(r);
    ASSERT_TRUE(id.ok()) << id.error().message();
    got.push_back(*id);
  }
  EXPECT_LT(got[0], got[1]);
  EXPECT_LT(got[1], got[2]);
  auto one = search_->selection(got[1]);
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->agent_id, "bob");
  EXPECT_EQ((*one)->query, "q1");
  EXPECT_EQ((*one)->at_us, 1001);
  EXPECT_EQ((*one)->params, R"({"limit":10})");
  EXPECT_EQ((*one)->results, R"([{"id":"x","score":1}])");
  EXPECT_FALSE(search_->selection(got[2] + 100)->has_value());
  auto alice = search_->selections("alice", 0, 10);
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->size(), 2u);
  EXPECT_EQ((*alice)[0].id, got[2]);  // newest first
  auto older = search_->selections("alice", got[2], 10);
  ASSERT_EQ(older->size(), 1u);
  EXPECT_EQ((*older)[0].id, got[0]);
}

// A storage ranks about `rank_budget` matches at most to pick candidates: beyond it, the query's
// most common words leave the candidate query (still scoring), and a single word too common takes
// its newest matches. A budget of 2 walks those paths on a few rows.
class RankBudget : public SearchConformance {
 protected:
  std::string extra_options() const override { return ", rank_budget: 2"; }
};

TEST_P(RankBudget, CommonWordsLeaveTheCandidateQueryButStillScore) {
  text(1, R"({"body":"alpha beta"})");
  text(2, R"({"body":"alpha"})");
  text(3, R"({"body":"beta gamma"})");
  text(4, R"({"body":"alpha rare"})");
  text(5, R"({"body":"alpha rare rare"})");
  // alpha (4 matches) is pruned: the candidates are the contexts with `rare`, ranked by both.
  auto hits = search_->search([] {
    sdk::SearchQuery q;
    q.agent_id = "alice";
    q.terms = {"alpha", "rare"};
    return q;
  }());
  ASSERT_TRUE(hits.ok()) << hits.error().message();
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].row.id, uuid(5));
  EXPECT_EQ((*hits)[1].row.id, uuid(4));
  // One word over the budget: its newest matches are the candidates, ranked by BM25.
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ids({"alpha"})), (std::vector<std::string>{uuid(1), uuid(2), uuid(4), uuid(5)}));
  EXPECT_EQ(ids({"gamma"}), std::vector<std::string>{uuid(3)});  // within the budget
}

// A single word over the budget takes its newest matches in the view: the agent's own, those of
// owners who granted it theirs, and contexts granted to it one by one, never another's, however
// new; filters still apply, and a context reached two ways comes once.
TEST_P(RankBudget, TheNewestMatchesOfACommonWordKeepTheView) {
  text(1, R"({"w":"topic"})", R"({"tags":["ops"]})", "alice");
  text(2, R"({"w":"topic"})", R"({"tags":["dev"]})", "bob");  // granted to alice
  text(3, R"({"w":"topic"})", "{}", "carol");                 // owner grant
  text(4, R"({"w":"topic"})", "{}", "carol");                 // owner grant and granted alone
  text(5, R"({"w":"topic"})", "{}", "dave");                  // not shared, the newest
  text(6, R"({"w":"topic"})", "{}", "alice");
  {
    auto tx = storage_->begin();
    ASSERT_TRUE(
        (*tx)->put_grant(sdk::GrantScope::context, {uuid(2), "alice", "read", "bob", 1}).ok());
    ASSERT_TRUE(
        (*tx)->put_grant(sdk::GrantScope::context, {uuid(4), "alice", "read", "carol", 1}).ok());
    ASSERT_TRUE(
        (*tx)->put_grant(sdk::GrantScope::owner, {"carol", "alice", "write", "carol", 1}).ok());
    auto d = row(uuid(6), "alice", 5000, R"({"w":"topic"})");
    d.version = 2;
    d.deleted = true;
    ASSERT_TRUE((*tx)->update_context(d).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(sorted(ids({"topic"})), (V{uuid(1), uuid(2), uuid(3), uuid(4)}));
  EXPECT_EQ(ids({"topic"}, "alice", false), V{uuid(1)});
  EXPECT_EQ(ids({"topic"}, "dave"), V{uuid(5)});
  sdk::SearchQuery q;
  q.agent_id = "alice";
  q.terms = {"topic"};
  q.tags = {"dev", "ops"};
  EXPECT_EQ(sorted(ids_of(q)), (V{uuid(1), uuid(2)}));
  q.tags.clear();
  q.limit = 2;  // the newest two in the view, by BM25 (equal here, then newest first)
  EXPECT_EQ(ids_of(q), (V{uuid(4), uuid(3)}));
}

INSTANTIATE_TEST_SUITE_P(Storage, RankBudget, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Storage, SearchConformance, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
