// The disk fills up under SQLite (a small tmpfs): writes answer 503, nothing acknowledged is lost,
// the database stays intact, and writes succeed again as soon as space returns — without a
// restart. Mounting needs root (as in CI); elsewhere the test says so and skips.

#include <gtest/gtest.h>

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
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
    // Under ASan, LeakSanitizer's exit-time tracer crashed ("Tracer caught signal 11") in 2 of 12
    // runs of the first test below, after SQLite had hit the full disk, and never elsewhere: the
    // servers of these tests skip the leak check (the rest of the suite keeps it). ASan's other
    // checks stay on.
    if (const char* asan = std::getenv("ASAN_OPTIONS")) {
      ::setenv("ASAN_OPTIONS", (std::string(asan) + ":detect_leaks=0").c_str(), 1);
    }
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
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

// Batched read auditing while the disk is full: the queue fills to its capacity, then reads fail
// with 503 (never served unaudited, never queued past the bound); when space returns the queued
// events are written.
TEST_F(DiskFull, TheAuditQueueStaysBoundedAndIsWrittenWhenSpaceReturns) {
  ct::ServerOptions o;
  o.sqlite_dir = dir_;
  o.extra_yaml = "audit: {reads: batch, batch_interval_ms: 100, batch_capacity: 5}\n";
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start()) << server_->log();
  ct::HttpClient c(server_->port());
  auto made = c.post("/api/context", R"({"agent_id":"disk","context_data":{"k":1}})");
  ASSERT_EQ(made.status, 201);
  const std::string id(json::parse(made.body).at("id").as_string());
  // Fill it up to the last page: big writes, then smaller ones, until even a small one fails.
  for (const std::size_t size : {20000, 2000, 200, 20}) {
    const std::string filler(size, 'x');
    for (int i = 0; i < 5000; ++i) {
      if (c.post("/api/context", R"({"agent_id":"disk","context_data":{"f":")" + filler + R"("}})")
              .status != 201) {
        break;
      }
    }
  }
  int served = 0, refused = 0;
  for (int i = 0; i < 40; ++i) {
    const int status = c.get("/api/context/" + id).status;
    served += status == 200;
    refused += status == 503;
  }
  // Some batches may still fit in pages SQLite frees; but reads are refused once the full queue
  // cannot be written, instead of queueing without end.
  EXPECT_GT(refused, 0);
  EXPECT_EQ(served + refused, 40);
  // The backlog is in the metrics, never above the capacity (its exact value depends on which
  // batches still found room), and 0 once written below.
  const std::string during = c.get("/metrics").body;
  EXPECT_NE(during.find("\nctxmgr_audit_read_queue "), std::string::npos) << during;
  EXPECT_LE(ct::sample(during, "ctxmgr_audit_read_queue"), 5);
  ASSERT_EQ(ct::run_process({"/bin/mount", "-o", "remount,size=64m", dir_}).exit_code, 0);
  EXPECT_EQ(c.get("/api/context/" + id).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // a batch interval or more
  auto reads = json::parse(c.get("/api/audit?action=read&context_id=" + id + "&limit=100").body);
  EXPECT_EQ(reads.at("items").as_array().size(), static_cast<std::size_t>(served + 1))
      << "every served read, and only those, is in the audit log";
  const std::string after = c.get("/metrics").body;
  EXPECT_NE(after.find("\nctxmgr_audit_read_queue 0\n"), std::string::npos) << after;
  EXPECT_EQ(server_->stop(), 0);
}

}  // namespace
