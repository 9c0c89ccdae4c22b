// GET /metrics moves when requests are made: HTTP routes, service operations and their latency,
// audit sealing, provider tokens, SQLite's full-text index upkeep. Parsed as Prometheus text.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;

namespace {

// The value of one series (exact name with labels), or -1 when absent.
double series(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

class MetricsE2E : public testing::TestWithParam<std::string> {};

TEST_P(MetricsE2E, CountersAndHistogramsMoveWithRequests) {
  if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  ct::ServerOptions o;
  o.backend = GetParam();
  o.extra_yaml = "audit: {seal_interval_ms: 50}\n";
  ct::Server server(o);
  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient client(server.port());
  const std::map<std::string, std::string> as{{"X-Agent-Id", "alice"}};
  const auto before = client.get("/metrics").body;
  ASSERT_EQ(client.post("/api/context", R"({"agent_id":"alice","context_data":{"nota":"uno"}})", as)
                .status,
            201);
  ASSERT_EQ(client.post("/api/agent/alice/select", R"({"query":"uno"})", as).status, 200);
  ASSERT_EQ(client
                .post("/api/agent/alice/process",
                      R"({"provider":"offline","messages":[{"role":"user","content":"hola"}]})", as)
                .status,
            200);
  ASSERT_EQ(client.get("/api/context/not-an-id", as).status, 400);
  std::string after;
  for (int i = 0; i < 100; ++i) {  // the sealer runs every 50 ms
    after = client.get("/metrics").body;
    if (series(after, "ctxmgr_audit_sealed_events_total") >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto moved = [&](const std::string& name, double by) {
    const double b = std::max(0.0, series(before, name));
    EXPECT_GE(series(after, name), b + by) << name << "\n" << after;
  };
  moved("ctxmgr_http_requests_total{route=\"context\",status=\"201\"}", 1);
  moved("ctxmgr_http_requests_total{route=\"agent_select\",status=\"200\"}", 1);
  moved("ctxmgr_http_requests_total{route=\"context_id\",status=\"400\"}", 1);
  moved("ctxmgr_context_operations_total{op=\"select\",outcome=\"ok\"}", 1);
  moved("ctxmgr_context_operations_total{op=\"read\",outcome=\"invalid_request\"}", 1);
  moved("ctxmgr_context_operation_duration_seconds_count{op=\"process\"}", 1);
  moved("ctxmgr_http_request_duration_seconds_count{route=\"agent_process\"}", 1);
  moved("ctxmgr_provider_tokens_total{provider=\"offline\",direction=\"input\"}", 1);
  moved("ctxmgr_audit_sealed_events_total", 1);
  EXPECT_GT(series(after, "ctxmgr_audit_last_seal_timestamp_seconds"), 1.7e9);
  // The storage's own: connection pools and, on SQLite, the wait for the single writer.
  if (GetParam() == "sqlite") {
    EXPECT_EQ(series(after, "ctxmgr_sqlite_readers{state=\"size\"}"), 4);
    EXPECT_GE(series(after, "ctxmgr_sqlite_readers{state=\"in_use\"}"), 0);
    moved("ctxmgr_sqlite_writer_wait_seconds_count", 1);
  } else {
    EXPECT_EQ(series(after, "ctxmgr_postgres_pool_connections{state=\"size\"}"), 8);
    EXPECT_GE(series(after, "ctxmgr_postgres_pool_connections{state=\"in_use\"}"), 0);
    moved("ctxmgr_postgres_pool_wait_seconds_count", 1);
  }
}

// Writes that arrive together over HTTP share commits (group commit), with one I/O thread: the
// writes wait on the transport's write workers, not on the thread that reads requests.
// Every context operation goes through the same wrapper: each has its latency histogram.
TEST_P(MetricsE2E, EveryContextOperationIsTimed) {
  if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  ct::ServerOptions o;
  o.backend = GetParam();
  ct::Server server(o);
  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient client(server.port());
  const std::map<std::string, std::string> as{{"X-Agent-Id", "alice"}};
  auto made = client.post("/api/context", R"({"agent_id":"alice","context_data":{"v":1}})", as);
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id(boost::json::parse(made.body).at("id").as_string());
  const std::string ctx = "/api/context/" + id;
  ASSERT_EQ(client.get(ctx, as).status, 200);
  ASSERT_EQ(client.patch(ctx, R"({"context_data":{"v":2}})", as).status, 200);
  ASSERT_EQ(client.get(ctx + "/history", as).status, 200);
  ASSERT_EQ(client.post(ctx + "/revert", R"({"version":1})", as).status, 200);
  ASSERT_EQ(client.get("/api/agent/alice/contexts", as).status, 200);
  ASSERT_EQ(client.del(ctx, as).status, 204);
  const auto text = client.get("/metrics").body;
  for (const char* op : {"create", "read", "update", "history", "revert", "list", "delete"}) {
    const std::string name =
        std::string("ctxmgr_context_operation_duration_seconds_count{op=\"") + op + "\"}";
    EXPECT_EQ(series(text, name), 1) << name << "\n" << text;
    EXPECT_EQ(series(text, std::string("ctxmgr_context_operations_total{op=\"") + op +
                               "\",outcome=\"ok\"}"),
              1)
        << op;
  }
}

TEST_P(MetricsE2E, ConcurrentWritesShareCommits) {
  if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  ct::ServerOptions o;
  o.backend = GetParam();
  o.http_options = "threads: 1";
  ct::Server server(o);
  ASSERT_TRUE(server.start()) << server.log();
  constexpr int kThreads = 16, kEach = 20;
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ct::HttpClient c(server.port());
      for (int i = 0; i < kEach; ++i) {
        auto r = c.post("/api/context", R"({"agent_id":"gc","context_data":{"t":)" +
                                            std::to_string(t) + "}}");
        if (r.status == 201) ++created;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), kThreads * kEach);
  ct::HttpClient client(server.port());
  const auto text = client.get("/metrics").body;
  const double changes = series(text, "ctxmgr_group_commit_changes_total");
  const double batches = series(text, "ctxmgr_group_commit_batches_total");
  EXPECT_GE(changes, kThreads * kEach) << text;
  EXPECT_LT(batches, changes * 0.8) << "16 concurrent writers never shared a commit";
  // Every acknowledged create is there, each with its own audit event.
  auto stats = boost::json::parse(client.get("/api/stats").body);
  EXPECT_EQ(stats.at("totals").at("contexts").as_int64(), kThreads * kEach)
      << boost::json::serialize(stats);
  EXPECT_GE(stats.at("totals").at("audit_events").as_int64(), kThreads * kEach)
      << boost::json::serialize(stats);
}

INSTANTIATE_TEST_SUITE_P(Backends, MetricsE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// SQLite's full-text index upkeep (docs/storage-sqlite.md): with search_merge_every 3, the
// merge steps run as contexts are created, patched and purged, and selections still find each
// context by its newest words only, never by words it no longer holds or once it is purged.
TEST(SqliteSearchIndex, MergesAsItChanges) {
  ct::ServerOptions o;
  o.storage_options = "search_merge_every: 3";
  ct::Server server(o);
  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient client(server.port());
  const std::map<std::string, std::string> as{{"X-Agent-Id", "alice"}};
  auto found = [&](const std::string& word) {
    auto r =
        client.post("/api/agent/alice/select", R"({"query":")" + word + R"(","limit":50})", as);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<std::string> ids;
    const auto answer = boost::json::parse(r.body);  // outlives the loop over its items
    for (const auto& item : answer.at("items").as_array()) {
      ids.emplace_back(item.at("context").at("id").as_string());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  const std::vector<std::string> names{"ámbar", "berilo", "cuarzo", "diamante"};
  std::vector<std::string> ids;
  for (const auto& n : names) {
    auto r = client.post("/api/context",
                         R"({"agent_id":"alice","context_data":{"nota":")" + n + R"( v0"}})", as);
    ASSERT_EQ(r.status, 201) << r.body;
    ids.emplace_back(boost::json::parse(r.body).at("id").as_string());
  }
  for (int v = 1; v <= 5; ++v) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const std::string word = names[i] + "v" + std::to_string(v);
      ASSERT_EQ(
          client
              .patch("/api/context/" + ids[i], R"({"context_data":{"nota":")" + word + R"("}})", as)
              .status,
          200);
    }
  }
  // The last one purged (admin: no X-Agent-Id in trust mode): 4 + 20 + 1 index changes.
  ASSERT_EQ(client.del("/api/context/" + ids[3] + "?purge=true").status, 204);
  EXPECT_GE(series(client.get("/metrics").body, "ctxmgr_sqlite_search_merge_seconds_count"), 8);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(found(names[i] + "v5"), std::vector<std::string>{ids[i]}) << names[i];
    EXPECT_TRUE(found(names[i] + "v4").empty()) << names[i];
  }
  EXPECT_TRUE(found("diamantev5").empty());
  EXPECT_TRUE(found("v0").empty());
}

}  // namespace
