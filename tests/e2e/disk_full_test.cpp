// The disk fills up under SQLite (a small tmpfs): writes answer 503, nothing acknowledged is lost,
// the database stays intact, and writes succeed again as soon as space returns — without a
// restart. Mounting needs root (as in CI); elsewhere the test says so and skips.

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class DiskFull : public testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    dir_ = ct::make_temp_dir() + "/data";
    std::filesystem::create_directory(dir_);
    auto m = ct::run_process({"/bin/mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir_});
    if (m.exit_code != 0) GTEST_SKIP() << "cannot mount a tmpfs here: " << m.err;
    mounted_ = true;
  }
  void TearDown() override {
    server_.reset();
    if (mounted_) ct::run_process({"/bin/umount", dir_});
  }
  std::string dir_;
  bool mounted_ = false;
  std::unique_ptr<ct::Server> server_;
};

TEST_F(DiskFull, WritesGet503NothingIsLostAndServiceReturnsWithSpace) {
  ct::ServerOptions o;
  o.sqlite_dir = dir_;
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start()) << server_->log();
  ct::HttpClient c(server_->port());
  const std::string filler(20000, 'x');
  std::vector<std::string> acked;
  ct::HttpReply full;
  for (int i = 0; i < 1000; ++i) {
    auto r = c.post("/api/context", R"({"agent_id":"disk","context_data":{"i":)" +
                                        std::to_string(i) + R"(,"filler":")" + filler + R"("}})");
    if (r.status != 201) {
      full = r;
      break;
    }
    acked.push_back(std::string(json::parse(r.body).at("id").as_string()));
  }
  ASSERT_FALSE(acked.empty());
  ASSERT_EQ(full.status, 503) << full.body;
  EXPECT_EQ(json::parse(full.body).at("error").at("code").as_string(), "unavailable");
  // Reads go on while the disk is full, and every acknowledged write is there.
  for (const auto& id : acked) EXPECT_EQ(c.get("/api/context/" + id).status, 200) << id;
  EXPECT_EQ(c.get("/healthz").status, 200);

  // Space returns: the same process writes again.
  ASSERT_EQ(ct::run_process({"/bin/mount", "-o", "remount,size=64m", dir_}).exit_code, 0);
  auto again = c.post("/api/context", R"({"agent_id":"disk","context_data":{"after":true}})");
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(server_->stop(), 0);
  auto check = server_->sql("PRAGMA integrity_check;");
  EXPECT_EQ(check.out, "ok\n") << check.err;
  auto count = server_->sql("SELECT count(*) FROM context;");
  EXPECT_EQ(count.out, std::to_string(acked.size() + 1) + "\n");
  auto verify =
      ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
}

}  // namespace
