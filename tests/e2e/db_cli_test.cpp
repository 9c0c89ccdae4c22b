// `ctxmgr db init | migrate | status | check` behave the same on every backend, and a database
// password never shows in their output, in logs or in `config show`.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "process.hpp"
#include "server.hpp"
#include "unique_name.hpp"

namespace ct = ctxmgr::test;

namespace {

class DbCli : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    dir_ = ct::make_temp_dir();
    std::string storage;
    if (GetParam() == "sqlite") {
      storage = "{plugin: sqlite, options: {path: " + dir_ + "/c.db}}";
    } else {
      storage = "{plugin: postgres, options: {url: '${CTXMGR_TEST_PG_DSN}', schema: " +
                ct::unique_name("cli") + "}}";
    }
    ct::write_file(dir_ + "/c.yaml",
                   "plugins: {search_paths: [" CTXMGR_PLUGIN_DIR "]}\nstorage: " + storage + "\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ct::ProcessResult db(const std::string& action) {
    return ct::run_process({CTXMGR_BIN, "--config", dir_ + "/c.yaml", "db", action});
  }
  std::string dir_;
};

TEST_P(DbCli, InitMigrateStatusCheck) {
  auto fresh = db("check");
  EXPECT_EQ(fresh.exit_code, 1) << fresh.out << fresh.err;
  EXPECT_NE(fresh.out.find("storage: reachable\nschema: 0 of 19\n"), std::string::npos)
      << fresh.out;
  EXPECT_NE(fresh.out.find("not at the latest schema: run `ctxmgr db migrate`"), std::string::npos);
  auto init = db("init");
  EXPECT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(
      init.out,
      "applied 00_base\napplied 01_immutable_log\napplied 02_context_manager\n"
      "applied 03_algorithm_engine\napplied 04_access_control\napplied 05_audit_chain\n"
      "applied 06_search\napplied 07_access_epoch\napplied 08_context_changes\n"
      "applied 09_context_vectors\napplied 10_search_postings\napplied "
      "11_vector_seq\napplied 12_memory_paths\napplied 13_change_notify\napplied 14_webhooks\n"
      "applied 15_received_grants\napplied 16_change_notify_after_commit\n"
      "applied 17_search_gin_dropped\napplied 18_search_deferred\n"
      "applied 19_context_write_count\n");
  auto again = db("init");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_EQ(again.out, "schema is up to date; nothing to apply\n");
  EXPECT_EQ(db("migrate").out, "schema is up to date; nothing to apply\n");
  auto status = db("status");
  EXPECT_EQ(status.exit_code, 0);
  EXPECT_EQ(status.out,
            "schema: 19 of 19 (latest)\napplied: 00_base, 01_immutable_log, 02_context_manager, "
            "03_algorithm_engine, 04_access_control, 05_audit_chain, 06_search, 07_access_epoch, "
            "08_context_changes, 09_context_vectors, 10_search_postings, 11_vector_seq, "
            "12_memory_paths, 13_change_notify, 14_webhooks, 15_received_grants, "
            "16_change_notify_after_commit, 17_search_gin_dropped, 18_search_deferred, "
            "19_context_write_count\npending: none\n");
  auto check = db("check");
  EXPECT_EQ(check.exit_code, 0);
  EXPECT_EQ(check.out.substr(0, 45), "storage: reachable\nschema: 19 of 19 (latest)\n");
}

INSTANTIATE_TEST_SUITE_P(Backends, DbCli, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(PostgresSecrets, PasswordNeverShown) {
  if (!ct::Server::available("postgres")) GTEST_SKIP() << "no PostgreSQL plugin";
  const std::string dir = ct::make_temp_dir();
  // Port 1: nothing listens there, so the connection fails and errors are printed.
  ct::write_file(dir + "/c.yaml",
                 "plugins: {search_paths: [" CTXMGR_PLUGIN_DIR
                 "]}\n"
                 "server: {log: {file: " +
                     dir +
                     "/log.txt}}\n"
                     "storage: {plugin: postgres, options: {url: '${DATABASE_URL}'}}\n");
  ct::write_file(dir + "/.env",
                 "DATABASE_URL=postgresql://architect:Sup3rS3cret@127.0.0.1:1/tzzr_db\n");
  auto check = ct::run_process({CTXMGR_BIN, "--config", dir + "/c.yaml", "db", "check"}, {}, dir);
  EXPECT_EQ(check.exit_code, 1);
  auto show = ct::run_process({CTXMGR_BIN, "--config", dir + "/c.yaml", "config", "show"}, {}, dir);
  EXPECT_EQ(show.exit_code, 0);
  EXPECT_NE(show.out.find("url: \"***\""), std::string::npos) << show.out;
  auto serve = ct::run_process({CTXMGR_BIN, "--config", dir + "/c.yaml", "serve"}, {}, dir);
  EXPECT_EQ(serve.exit_code, 1);  // the storage cannot start
  const std::string everything = check.out + check.err + show.out + show.err + serve.out +
                                 serve.err + ct::read_file(dir + "/log.txt");
  EXPECT_EQ(everything.find("Sup3rS3cret"), std::string::npos) << everything;
  EXPECT_NE(everything.find("unreachable"), std::string::npos) << everything;
  std::filesystem::remove_all(dir);
}

}  // namespace
