// Several ctxmgr processes on one PostgreSQL database, and the database going away under load.
// Correctness must hold across processes, not only across threads, and the same process must
// recover by itself when the database comes back.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"
#include "unique_name.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

bool have_postgres() { return ct::Server::available("postgres"); }

std::string create(ct::HttpClient& c, const std::string& body) {
  auto r = c.post("/api/context", body);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? std::string(json::parse(r.body).at("id").as_string()) : std::string();
}

class TwoServers : public testing::Test {
 protected:
  void SetUp() override {
    if (!have_postgres()) GTEST_SKIP() << "no PostgreSQL (CTXMGR_TEST_PG_DSN) or plugin";
    const std::string schema = ct::unique_name("two");
    for (auto& s : servers_) {
      ct::ServerOptions o;
      o.backend = "postgres";
      o.pg_schema = schema;  // one database for both
      s = std::make_unique<ct::Server>(o);
    }
    // Started together: the migrations must not run twice.
    std::thread t([&] { ASSERT_TRUE(servers_[1]->start()) << servers_[1]->log(); });
    ASSERT_TRUE(servers_[0]->start()) << servers_[0]->log();
    t.join();
  }
  int port(int i) const { return servers_[static_cast<std::size_t>(i % 2)]->port(); }

  std::unique_ptr<ct::Server> servers_[2];
};

TEST_F(TwoServers, ConcurrentPatchesThroughBothLoseNothingAndVersionsStayGapless) {
  ct::HttpClient a(port(0));
  const std::string id = create(a, R"({"agent_id":"a","context_data":{}})");
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      ct::HttpClient c(port(i));
      auto r = c.patch("/api/context/" + id, R"({"context_data":{"k)" + std::to_string(i) +
                                                   R"(":)" + std::to_string(i) + "}}");
      if (r.status == 200) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
  for (int s = 0; s < 2; ++s) {  // both processes see the same, latest state
    ct::HttpClient c(port(s));
    auto v = json::parse(c.get("/api/context/" + id).body);
    EXPECT_EQ(v.at("version").as_int64(), 51);
    EXPECT_EQ(v.at("context_data").as_object().size(), 50u);
    auto items = json::parse(c.get("/api/context/" + id + "/history?limit=1000").body)
                     .at("items").as_array();
    ASSERT_EQ(items.size(), 51u);
    for (std::size_t k = 0; k < items.size(); ++k) {
      EXPECT_EQ(items[k].at("version").as_int64(), static_cast<std::int64_t>(51 - k));
    }
  }
}

TEST_F(TwoServers, IfMatchRaceAcrossProcessesHasExactlyOneWinner) {
  ct::HttpClient a(port(0));
  const std::string id = create(a, R"({"agent_id":"a","context_data":{}})");
  std::vector<std::thread> threads;
  std::atomic<int> won{0}, lost{0};
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      ct::HttpClient c(port(i));
      auto r = c.patch("/api/context/" + id, R"({"context_data":{"w":1}})", {{"If-Match", "\"1\""}});
      if (r.status == 200) ++won;
      if (r.status == 412) ++lost;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 19);
}

TEST_F(TwoServers, AWriteThroughOneIsReadAtOnceThroughTheOther) {
  ct::HttpClient a(port(0));
  ct::HttpClient b(port(1));
  const std::string id = create(a, R"({"agent_id":"a","context_data":{"n":0}})");
  for (int i = 1; i <= 20; ++i) {
    ct::HttpClient& writer = i % 2 == 0 ? a : b;
    ct::HttpClient& reader = i % 2 == 0 ? b : a;
    ASSERT_EQ(writer.patch("/api/context/" + id, R"({"context_data":{"n":)" + std::to_string(i) + "}}")
                  .status,
              200);
    auto v = json::parse(reader.get("/api/context/" + id).body);
    EXPECT_EQ(v.at("version").as_int64(), i + 1);
    EXPECT_EQ(v.at("context_data").at("n").as_int64(), i);
  }
  ASSERT_EQ(b.del("/api/context/" + id).status, 204);
  EXPECT_EQ(a.get("/api/context/" + id).status, 404);
}

// Its own PostgreSQL, so stopping it does not disturb the other suites.
class DatabaseOutage : public testing::Test {
 protected:
  void SetUp() override {
    if (!have_postgres()) GTEST_SKIP() << "no PostgreSQL (CTXMGR_TEST_PG_DSN) or plugin";
    auto r = ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "start"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    dir_ = value(r.out, "CTXMGR_TEST_PG_DIR=");
    dsn_ = value(r.out, "CTXMGR_TEST_PG_DSN='");
    dsn_.pop_back();  // the closing quote
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "stop", dir_});
  }
  static std::string value(const std::string& out, const std::string& key) {
    const auto at = out.find(key);
    if (at == std::string::npos) return {};
    const auto start = at + key.size();
    return out.substr(start, out.find('\n', start) - start);
  }
  int pg(const char* action) {
    return ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, action, dir_}).exit_code;
  }

  std::string dir_, dsn_;
  std::unique_ptr<ct::Server> server_;
};

TEST_F(DatabaseOutage, FailsFastWith503ThenRecoversWithNothingLost) {
  ct::ServerOptions o;
  o.backend = "postgres";
  o.pg_dsn = dsn_;
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start()) << server_->log();

  std::mutex mu;
  std::map<std::string, std::int64_t> acked;  // id -> highest acknowledged version
  std::atomic<int> unavailable{0}, other{0};
  std::atomic<bool> stop{false};
  std::atomic<long long> slowest_ms{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      ct::HttpClient c(server_->port());
      for (int i = 0; !stop; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = c.post("/api/context", R"({"agent_id":"out","context_data":{"w":)" +
                                            std::to_string(w) + R"(,"i":)" + std::to_string(i) + "}}");
        const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now() - t0).count();
        long long prev = slowest_ms.load();
        while (ms > prev && !slowest_ms.compare_exchange_weak(prev, ms)) {}
        if (r.status == 201) {
          const std::string id(json::parse(r.body).at("id").as_string());
          std::lock_guard lock(mu);
          acked[id] = 1;
          auto p = c.patch("/api/context/" + id, R"({"context_data":{"p":1}})");
          if (p.status == 200) acked[id] = 2;
          else if (p.status == 503) ++unavailable;
          else ++other;
        } else if (r.status == 503) {
          ++unavailable;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } else {
          ++other;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(pg("pause"), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  ct::HttpClient probe(server_->port());
  auto ready = probe.get("/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  EXPECT_NE(ready.body.find("\"code\":\"unavailable\""), std::string::npos);
  const int during = unavailable.load();
  EXPECT_GT(during, 0);
  ASSERT_EQ(pg("resume"), 0);
  // The same process recovers by itself.
  bool recovered = false;
  for (int i = 0; i < 200 && !recovered; ++i) {
    recovered = probe.get("/readyz").status == 200;
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(recovered) << server_->log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_EQ(other.load(), 0) << "only 2xx and 503 are acceptable" << server_->log();
  EXPECT_LT(slowest_ms.load(), 10000) << "a request hung instead of failing fast";

  // Every acknowledged write is there, whole: version and history agree.
  ct::HttpClient c(server_->port());
  ASSERT_GT(acked.size(), 5u);
  for (const auto& [id, version] : acked) {
    auto r = c.get("/api/context/" + id);
    ASSERT_EQ(r.status, 200) << id << r.body;
    const auto v = json::parse(r.body).at("version").as_int64();
    EXPECT_GE(v, version) << id;
    auto hr = c.get("/api/context/" + id + "/history");
    ASSERT_EQ(hr.status, 200) << hr.body;
    EXPECT_EQ(json::parse(hr.body).at("items").as_array().size(), static_cast<std::size_t>(v))
        << id;
  }
  EXPECT_EQ(c.post("/api/context", R"({"agent_id":"out","context_data":{"after":true}})").status,
            201);
}

// A restart of the database while the server is idle leaves every pooled connection dead; the
// first requests after it must not pay for that with a 503 each (the pool reopens the idle
// connections once one is found lost, and reads and BEGIN are tried once more).
TEST_F(DatabaseOutage, ARestartWhileIdleCostsNoRequest) {
  ct::ServerOptions o;
  o.backend = "postgres";
  o.pg_dsn = dsn_;
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start()) << server_->log();

  // Open several pooled connections: concurrent clients each hold one for a while.
  std::vector<std::string> ids;
  std::mutex mu;
  auto in_parallel = [&](const std::function<void(ct::HttpClient&, int)>& work) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
      threads.emplace_back([&, t] {
        ct::HttpClient c(server_->port());
        for (int i = 0; i < 10; ++i) work(c, t * 10 + i);
      });
    }
    for (auto& t : threads) t.join();
  };
  in_parallel([&](ct::HttpClient& c, int n) {
    auto r = c.post("/api/context",
                    R"({"agent_id":"idle","context_data":{"n":)" + std::to_string(n) + "}}");
    ASSERT_EQ(r.status, 201) << r.body;
    const std::string id(json::parse(r.body).at("id").as_string());
    ASSERT_EQ(c.get("/api/context/" + id + "/history").status, 200);
    std::lock_guard lock(mu);
    ids.push_back(id);
  });

  ASSERT_EQ(pg("pause"), 0);
  ASSERT_EQ(pg("resume"), 0);

  std::atomic<int> failed{0};
  std::string first_failure;
  in_parallel([&](ct::HttpClient& c, int n) {
    const std::string& id = ids[static_cast<std::size_t>(n) % ids.size()];
    const ct::HttpReply answers[] = {
        c.get("/api/context/" + id), c.get("/api/context/" + id + "/history"),
        c.get("/api/agent/idle/contexts"),
        c.patch("/api/context/" + id, R"({"context_data":{"after":true}})")};
    for (const auto& r : answers) {
      if (r.status == 200) continue;
      std::lock_guard lock(mu);
      if (failed++ == 0) first_failure = std::to_string(r.status) + " " + r.body;
    }
  });
  EXPECT_EQ(failed.load(), 0) << first_failure;
}

}  // namespace
