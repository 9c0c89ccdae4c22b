// The limits that protect the server and its clients: Idempotency-Key on POST /api/context (a
// retried create makes one context), per-agent rate limits (429 with Retry-After), and the
// maximum number of connections (503 with Retry-After, then service again); and how many I/O
// threads serve.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class LimitsE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  void start(ct::ServerOptions o) {
    o.backend = GetParam();
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
  }
  std::unique_ptr<ct::Server> server_;
};

std::map<std::string, std::string> key(const std::string& k, const std::string& agent = "alice") {
  return {{"Idempotency-Key", k}, {"X-Agent-Id", agent}};
}

TEST_P(LimitsE2E, IdempotencyKeyMakesOneContextPerKey) {
  start({});
  ct::HttpClient c(server_->port());
  const std::string body =
      R"({"agent_id":"alice","context_data":{"k":1},"metadata":{"tags":["x"]}})";
  auto first = c.post("/api/context", body, key("order-42"));
  ASSERT_EQ(first.status, 201) << first.body;
  const auto id = std::string(json::parse(first.body).at("id").as_string());
  // The retry after a lost answer: the same answer, no second context.
  auto again = c.post("/api/context", body, key("order-42"));
  ASSERT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.header("location"), "/api/context/" + id);
  // Still the first answer after the context changed (the key answers for its create).
  ASSERT_EQ(c.patch("/api/context/" + id, R"({"context_data":{"k":2}})", {{"X-Agent-Id", "alice"}})
                .status,
            200);
  EXPECT_EQ(c.post("/api/context", body, key("order-42")).body, first.body);
  // The same key for another request is refused; another key or another agent makes another.
  auto other_body =
      c.post("/api/context", R"({"agent_id":"alice","context_data":{"k":9}})", key("order-42"));
  EXPECT_EQ(other_body.status, 409) << other_body.body;
  EXPECT_NE(other_body.body.find("Idempotency-Key was already used for a different request"),
            std::string::npos);
  auto other_key = c.post("/api/context", body, key("order-43"));
  ASSERT_EQ(other_key.status, 201);
  EXPECT_NE(json::parse(other_key.body).at("id").as_string(), id);
  auto bob = c.post("/api/context",
                    R"({"agent_id":"bob","context_data":{"k":1},"metadata":{"tags":["x"]}})",
                    key("order-42", "bob"));
  ASSERT_EQ(bob.status, 201);
  EXPECT_NE(json::parse(bob.body).at("id").as_string(), id);
  // Bad keys.
  EXPECT_EQ(c.post("/api/context", body, key(std::string(256, 'k'))).status, 400);
  EXPECT_EQ(c.post("/api/context", body, key("has space")).status, 400);
  // Concurrent retries: one context, every answer the same.
  std::set<std::string> ids;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      ct::HttpClient t(server_->port());
      auto r = t.post("/api/context", body, key("burst-1"));
      std::lock_guard lock(mu);
      EXPECT_EQ(r.status, 201) << r.body;
      if (r.status == 201) ids.insert(std::string(json::parse(r.body).at("id").as_string()));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ids.size(), 1u);
  // alice has exactly: order-42, order-43, burst-1.
  auto list = json::parse(c.get("/api/agent/alice/contexts", {{"X-Agent-Id", "alice"}}).body);
  EXPECT_EQ(list.at("items").as_array().size(), 3u);
  auto audit = json::parse(c.get("/api/audit?action=create&agent_id=alice").body);
  EXPECT_EQ(audit.at("items").as_array().size(), 3u) << "one create event per context";
}

TEST_P(LimitsE2E, PerAgentRateLimitAnswers429WithRetryAfter) {
  ct::ServerOptions o;
  o.service_yaml = "{rate_limit: {requests_per_second: 2, burst: 5}}";
  start(o);
  ct::HttpClient c(server_->port());
  int ok = 0;
  ct::HttpReply limited;
  for (int i = 0; i < 10; ++i) {
    auto r = c.get("/api/me", {{"X-Agent-Id", "greedy"}});
    if (r.status == 200) {
      ++ok;
    } else {
      limited = r;
      break;
    }
  }
  EXPECT_EQ(ok, 5) << "the burst";
  ASSERT_EQ(limited.status, 429) << limited.body;
  EXPECT_EQ(json::parse(limited.body).at("error").at("code").as_string(), "rate_limited");
  const int retry = std::stoi(limited.header("retry-after"));
  EXPECT_GE(retry, 1);
  EXPECT_EQ(json::parse(limited.body).at("error").at("retry_after").as_int64(), retry);
  // Another agent has its own bucket.
  EXPECT_EQ(c.get("/api/me", {{"X-Agent-Id", "patient"}}).status, 200);
  // After the wait it may go on.
  std::this_thread::sleep_for(std::chrono::seconds(retry));
  EXPECT_EQ(c.get("/api/me", {{"X-Agent-Id", "greedy"}}).status, 200);
  EXPECT_NE(c.get("/metrics").body.find("ctxmgr_rate_limited_total 1"), std::string::npos);
}


TEST_P(LimitsE2E, ConnectionsBeyondTheMaximumGet503AndServiceResumes) {
  ct::ServerOptions o;
  o.http_options = "max_connections: 3";
  start(o);
  // The start-up health check's connection must be gone before counting.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(ct::open_connection(server_->port()));
    ASSERT_GE(held.back(), 0);
    // A request answered on it proves it is one of the three sessions (kept alive after).
    const std::string get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_EQ(::write(held.back(), get.data(), get.size()), static_cast<ssize_t>(get.size()));
    char buf[512];
    const ssize_t n = ::read(held.back(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    ASSERT_EQ(std::string(buf, static_cast<std::size_t>(n)).rfind("HTTP/1.1 200", 0), 0u)
        << std::string(buf, static_cast<std::size_t>(n));
  }
  const std::string refused = ct::HttpClient::raw(
      server_->port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 2000);
  EXPECT_NE(refused.find("HTTP/1.1 503"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  EXPECT_NE(refused.find("\"code\":\"unavailable\""), std::string::npos) << refused;
  ::close(held.back());
  held.pop_back();
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    served = ct::HttpClient::raw(
                 server_->port(),
                 "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 2000)
                 .find("HTTP/1.1 200") != std::string::npos;
  }
  EXPECT_TRUE(served);
  for (int fd : held) ::close(fd);
  ct::HttpClient c(server_->port());
  EXPECT_NE(c.get("/metrics").body.find("ctxmgr_http_connections_refused_total"),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, LimitsE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// The number of I/O threads: `threads`, or with `threads: 0` `threads_per_core` per core (the
// PostgreSQL example runs four per core: its reads wait on the database).
TEST(HttpThreads, ThreadsPerCoreMultipliesTheCoresUnlessThreadsIsGiven) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::pair<std::string, unsigned> cases[] = {
      {"threads_per_core: 3", 3 * cores}, {"threads: 2, threads_per_core: 3", 2}, {"", cores}};
  for (const auto& [options, expected] : cases) {
    ct::ServerOptions o;
    o.http_options = options;
    ct::Server server(o);
    ASSERT_TRUE(server.start()) << server.log();
    // The line is written once the threads run, which may be after the first answer.
    const std::string line = " " + std::to_string(expected) + " thread(s)";
    EXPECT_TRUE(ct::time_until([&] { return server.log().find(line) != std::string::npos; },
                               std::chrono::milliseconds(5000))
                    .has_value())
        << options << "\n"
        << server.log();
    EXPECT_EQ(ct::HttpClient(server.port()).get("/healthz").status, 200);
  }
}

}  // namespace
