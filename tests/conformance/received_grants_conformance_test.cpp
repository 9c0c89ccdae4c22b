// The received-grants capability (sdk/storage_received_grants.hpp) on every storage: what was
// shared with one agent, owner grants first then context grants, each in id order; grants of
// soft-deleted contexts and other agents' grants left out; pages that resume strictly after the
// row they ended on.

#include "storage_fixture.hpp"

namespace ct = ctxmgr::test;

namespace {

class ReceivedGrantsConformance : public ct::StorageConformance {
 protected:
  void SetUp() override {
    StorageConformance::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    received_ = registry_->storage_received_grants();
    ASSERT_NE(received_, nullptr) << "the storage has no received-grants capability";
  }
  void grant(sdk::GrantScope scope, const std::string& id, const std::string& agent,
             const std::string& perm, std::int64_t at) {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->put_grant(scope, {id, agent, perm, "granter-" + id.substr(0, 3), at}).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }
  sdk::Result<std::vector<sdk::ReceivedGrant>> page(std::int64_t limit,
                                                    std::optional<sdk::GrantScope> after = {},
                                                    const std::string& after_id = "") {
    sdk::ReceivedGrantsQuery q;
    q.agent_id = "bob";
    q.limit = limit;
    q.after_scope = after;
    q.after_scope_id = after_id;
    return received_->received_grants(q);
  }
  sdk::StorageReceivedGrants* received_ = nullptr;
};

TEST_P(ReceivedGrantsConformance, OwnerGrantsThenContextGrantsOfLiveContextsInPages) {
  create(row(ct::uuid(3), "cy", 100));
  create(row(ct::uuid(1), "ana", 100));
  create(row(ct::uuid(2), "ana", 100));
  create(row(ct::uuid(4), "ana", 100));
  grant(sdk::GrantScope::owner, "cy", "bob", "read", 10);
  grant(sdk::GrantScope::owner, "ana", "bob", "write", 11);
  grant(sdk::GrantScope::owner, "ana", "zed", "read", 12);  // another grantee's
  grant(sdk::GrantScope::context, ct::uuid(3), "bob", "write", 13);
  grant(sdk::GrantScope::context, ct::uuid(1), "bob", "read", 14);
  grant(sdk::GrantScope::context, ct::uuid(2), "zed", "read", 15);
  grant(sdk::GrantScope::context, ct::uuid(4), "bob", "read", 16);
  {  // context 4 is soft-deleted: its grant gives nothing while it is
    auto r = row(ct::uuid(4), "ana", 200);
    r.version = 2;
    r.deleted = true;
    auto tx = storage_->begin();
    ASSERT_TRUE((*tx)->update_context(r).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }

  auto all = page(10);
  ASSERT_TRUE(all.ok()) << all.error().message();
  ASSERT_EQ(all->size(), 4u);
  const auto& a = (*all)[0];
  EXPECT_EQ(a.scope, sdk::GrantScope::owner);
  EXPECT_EQ(a.grant.scope_id, "ana");
  EXPECT_EQ(a.owner, "ana");
  EXPECT_EQ(a.grant.agent_id, "bob");
  EXPECT_EQ(a.grant.permission, "write");
  EXPECT_EQ(a.grant.granted_by, "granter-ana");
  EXPECT_EQ(a.grant.granted_at_us, 11);
  EXPECT_EQ((*all)[1].grant.scope_id, "cy");
  const auto& c = (*all)[2];
  EXPECT_EQ(c.scope, sdk::GrantScope::context);
  EXPECT_EQ(c.grant.scope_id, ct::uuid(1));
  EXPECT_EQ(c.owner, "ana");
  EXPECT_EQ(c.grant.permission, "read");
  EXPECT_EQ(c.grant.granted_at_us, 14);
  EXPECT_EQ((*all)[3].grant.scope_id, ct::uuid(3));
  EXPECT_EQ((*all)[3].owner, "cy");

  // Pages of two: the first ends on an owner grant, the next resumes after it and crosses into
  // context grants, the last resumes inside them.
  auto first = page(2);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[1].grant.scope_id, "cy");
  auto second = page(2, sdk::GrantScope::owner, "ana");
  ASSERT_TRUE(second.ok()) << second.error().message();
  ASSERT_EQ(second->size(), 2u);
  EXPECT_EQ((*second)[0].grant.scope_id, "cy");
  EXPECT_EQ((*second)[1].grant.scope_id, ct::uuid(1));
  auto third = page(2, sdk::GrantScope::context, ct::uuid(1));
  ASSERT_TRUE(third.ok()) << third.error().message();
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ((*third)[0].grant.scope_id, ct::uuid(3));
  auto past = page(2, sdk::GrantScope::context, ct::uuid(3));
  ASSERT_TRUE(past.ok());
  EXPECT_TRUE(past->empty());

  sdk::ReceivedGrantsQuery none;
  none.agent_id = "nobody";
  none.limit = 5;
  auto empty = received_->received_grants(none);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

INSTANTIATE_TEST_SUITE_P(Storage, ReceivedGrantsConformance, ctxmgr::test::kStorageCases,
                         [](const auto& info) { return info.param.name; });

}  // namespace
