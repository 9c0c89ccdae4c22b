// storage-postgres's named prepared statements (pg_pipeline.hpp), on a pool of one connection so
// every statement meets the same session: a statement is prepared once per connection, a Parse
// the server skipped (it came after a failed statement in the same round trip) is sent again on
// the next use, and a connection the server dropped prepares again once it is reopened.

#include "storage_fixture.hpp"

namespace sdk = ctxmgr::sdk;
namespace ct = ctxmgr::test;
using ct::uuid;

namespace {

class PreparedStatements : public ct::StorageConformance {
 protected:
  std::string extra_options() const override { return ", pool_size: 1"; }

  // A create with its audit event, committed: the hot statements of a POST.
  sdk::Status create_audited(int n) {
    auto tx = storage_->begin();
    if (!tx) return tx.error();
    const auto r = row(uuid(n), "a", n);
    if (auto s = (*tx)->insert_context(r); !s) return s;
    if (auto s = (*tx)->append_history(hist(r, "create")); !s) return s;
    if (auto seq = (*tx)->append_audit({0, n, "a", "create", uuid(n), "test", "r", "{}"}); !seq)
      return seq.error();
    return (*tx)->commit();
  }
};

TEST_P(PreparedStatements, AParseSkippedAfterAFailedStatementIsSentAgain) {
  create(row(uuid(1), "a", 1));  // prepares the insert of a context and of its history
  {
    // The same id again, then the first audit event of this connection, in one round trip: the
    // insert fails, so the server skips the audit statement's Parse.
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->insert_context(row(uuid(1), "a", 2)).ok());  // held
    auto seq = (*tx)->append_audit({0, 2, "a", "create", uuid(1), "test", "r", "{}"});
    ASSERT_FALSE(seq.ok());
    EXPECT_EQ(seq.error().code(), sdk::Errc::conflict) << seq.error().message();
  }
  // Had the skipped Parse been counted, this would fail: prepared statement does not exist.
  auto made = create_audited(3);
  ASSERT_TRUE(made.ok()) << made.error().message();
  auto got = storage_->get(uuid(3));
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->context_data, R"({"k":1})");
  EXPECT_EQ((*got)->created_at_us, 3);
  EXPECT_FALSE((*got)->deleted);
}

TEST_P(PreparedStatements, TheSameStatementTwiceInOneRoundTripIsPreparedOnce) {
  auto tx = storage_->begin();
  ASSERT_TRUE(tx.ok());
  for (int n = 1; n <= 3; ++n) {  // three held inserts, then one answer for all
    const auto r = row(uuid(n), "a", n);
    ASSERT_TRUE((*tx)->insert_context(r).ok());
    ASSERT_TRUE((*tx)->append_history(hist(r, "create")).ok());
  }
  auto committed = (*tx)->commit();
  ASSERT_TRUE(committed.ok()) << committed.error().message();
  tx->reset();  // gives the only connection back
  for (int n = 1; n <= 3; ++n) {
    auto got = storage_->get(uuid(n));
    ASSERT_TRUE(got.ok() && got->has_value()) << n;
    auto history = storage_->history(uuid(n), 0, 10);
    ASSERT_TRUE(history.ok());
    EXPECT_EQ(history->size(), 1u) << n;
  }
}

TEST_P(PreparedStatements, AReopenedConnectionPreparesAgain) {
  ASSERT_TRUE(create_audited(1).ok());
  ASSERT_TRUE(storage_->get(uuid(1)).ok());
  // Cut this storage's only connection from the server side (from another session).
  auto cut = ct::run_process(
      {"/usr/bin/psql", "-qAt", std::getenv("CTXMGR_TEST_PG_DSN"), "-c",
       "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE pid <> "
       "pg_backend_pid() AND datname = current_database() AND application_name NOT LIKE "
       "'ctxmgr-listener:%' AND query LIKE '%" +
           schema_ + "%'"});
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  ASSERT_EQ(cut.out, "1\n") << "expected to cut exactly this test's connection";
  // The first use finds the connection gone (unavailable); the next reopens it and prepares
  // its statements again.
  bool read = false;
  for (int i = 0; i < 3 && !read; ++i) read = storage_->get(uuid(1)).ok();
  ASSERT_TRUE(read);
  auto made = create_audited(2);
  ASSERT_TRUE(made.ok()) << made.error().message();
  auto got = storage_->get(uuid(2));
  ASSERT_TRUE(got.ok() && got->has_value());
}

INSTANTIATE_TEST_SUITE_P(Storage, PreparedStatements,
                         testing::Values(ct::StorageCase{"postgres", "Postgres"}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
