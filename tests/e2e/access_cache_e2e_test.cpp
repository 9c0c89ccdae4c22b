// The access cache (docs/security.md): tokens, agents and grants are read from memory, yet a
// change made by another process — a CLI command, a second server on the same database — takes
// effect within one second, and a cache that cannot learn of changes is not used.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <functional>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "server.hpp"
#include "unique_name.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

using Headers = std::map<std::string, std::string>;
using ct::sample;
using ct::time_until;

Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

std::string token_of(const ct::HttpReply& r) {
  EXPECT_TRUE(r.status == 200 || r.status == 201) << r.body;
  return std::string(json::parse(r.body).at("token").as_string());
}

class AccessCacheE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  }
  void TearDown() override {
    if (HasFailure()) {
      for (auto& s : servers_) {
        if (s) std::cerr << "--- server log ---\n" << s->log();
      }
    }
  }
  // Token-mode servers on one database (one schema on PostgreSQL, one file on SQLite), the
  // first admin made with the CLI.
  void start(int count, const std::string& service_extra = "") {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.service_yaml = "{auth: token" + service_extra + "}";
    o.pg_schema = ct::unique_name("cache");
    for (int i = 0; i < count; ++i) {
      if (i == 1 && GetParam() == "sqlite") o.sqlite_dir = servers_[0]->dir();
      servers_.push_back(std::make_unique<ct::Server>(o));
    }
    servers_[0]->write_config();
    auto made = cli({"agent", "create", "root", "--role", "admin"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    root_ = made.out.substr(0, made.out.find('\n'));
    for (auto& s : servers_) ASSERT_TRUE(s->start()) << s->log();
  }
  ct::ProcessResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {CTXMGR_BIN, "--config", servers_[0]->config_path()});
    return ct::run_process(args);
  }
  ct::HttpClient client(int i) {
    return ct::HttpClient(servers_[static_cast<std::size_t>(i)]->port());
  }
  int status_of_me(int server, const std::string& token) {
    return client(server).get("/api/me", bearer(token)).status;
  }

  std::vector<std::unique_ptr<ct::Server>> servers_;
  std::string root_;
};

TEST_P(AccessCacheE2E, ATokenRotatedByTheCliIsRefusedWithinASecond) {
  start(1, ", access_cache_ttl_ms: 600000");
  auto c = client(0);
  const std::string alice =
      token_of(c.post("/api/agents", R"({"agent_id":"alice"})", bearer(root_)));
  // Known tokens are answered from memory: five requests in a row, five hits, no lookup in the
  // store. The store's epoch first catches up with alice's creation (SQLite's poller within
  // 100 ms, a notification on PostgreSQL), which drops the cache once more; and on a loaded
  // machine a late poll can make the cache distrust itself for a moment (a bypass): so up to
  // three windows of five, each reported.
  const auto counts = [&] {
    const std::string body = c.get("/metrics").body;
    std::array<double, 3> n{};
    const char* results[] = {"hit", "miss", "bypass"};
    for (std::size_t i = 0; i < n.size(); ++i)
      n[i] = sample(body, std::string("ctxmgr_access_cache_lookups_total{result=\"") +
                              results[i] + "\"}");
    return n;
  };
  bool five_hits = false;
  std::string windows;
  for (int window = 0; window < 3 && !five_hits; ++window) {
    if (window == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto before = counts();
    for (int i = 0; i < 5; ++i) ASSERT_EQ(status_of_me(0, alice), 200);
    const auto after = counts();
    five_hits = after[0] - before[0] >= 5.0;
    windows += " [hit " + std::to_string(after[0] - before[0]) + ", miss " +
               std::to_string(after[1] - before[1]) + ", bypass " +
               std::to_string(after[2] - before[2]) + "]";
  }
  EXPECT_TRUE(five_hits) << "lookups per window of five requests:" << windows;
  auto rotated = cli({"agent", "rotate-token", "alice"});  // another process
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  const std::string fresh = rotated.out.substr(0, rotated.out.find('\n'));
  auto took =
      time_until([&] { return status_of_me(0, alice) == 401; }, std::chrono::milliseconds(5000));
  ASSERT_TRUE(took.has_value()) << "the old token still works after 5 s";
  EXPECT_LE(took->count(), 1000);
  EXPECT_EQ(status_of_me(0, fresh), 200);
  auto disabled = cli({"agent", "disable", "alice"});
  ASSERT_EQ(disabled.exit_code, 0) << disabled.err;
  took = time_until([&] { return status_of_me(0, fresh) == 401; }, std::chrono::milliseconds(5000));
  ASSERT_TRUE(took.has_value()) << "a disabled agent's token still works after 5 s";
  EXPECT_LE(took->count(), 1000);
}

TEST_P(AccessCacheE2E, TwoServersSeeEachOthersRotationsAndRevocationsWithinASecond) {
  start(2, ", access_cache_ttl_ms: 600000");
  auto a = client(0);
  const std::string bob = token_of(a.post("/api/agents", R"({"agent_id":"bob"})", bearer(root_)));
  ASSERT_EQ(a.post("/api/agents", R"({"agent_id":"carol"})", bearer(root_)).status, 201);
  auto made =
      a.post("/api/context", R"({"agent_id":"carol","context_data":{"k":1}})", bearer(root_));
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id(json::parse(made.body).at("id").as_string());
  ASSERT_EQ(a.post("/api/context/" + id + "/grants", R"({"agent_id":"bob","permission":"read"})",
                   bearer(root_))
                .status,
            201);
  // Server 1 caches bob's token and his grant.
  auto b = client(1);
  ASSERT_EQ(b.get("/api/context/" + id, bearer(bob)).status, 200);
  ASSERT_EQ(b.get("/api/context/" + id, bearer(bob)).status, 200);

  // Revoked on server 0: server 1 stops answering within a second.
  ASSERT_EQ(a.del("/api/context/" + id + "/grants/bob", bearer(root_)).status, 204);
  auto took = time_until([&] { return b.get("/api/context/" + id, bearer(bob)).status == 404; },
                         std::chrono::milliseconds(5000));
  ASSERT_TRUE(took.has_value()) << "server 1 still serves a revoked grant after 5 s";
  EXPECT_LE(took->count(), 1000);

  // Rotated on server 0: the old token is refused by server 1 within a second.
  const std::string bob2 = token_of(a.post("/api/agents/bob/token", "", bearer(root_)));
  took = time_until([&] { return status_of_me(1, bob) == 401; }, std::chrono::milliseconds(5000));
  ASSERT_TRUE(took.has_value()) << "server 1 still takes a rotated token after 5 s";
  EXPECT_LE(took->count(), 1000);
  EXPECT_EQ(status_of_me(1, bob2), 200);
  EXPECT_EQ(status_of_me(0, bob), 401);  // at once on the server that made the change
}

// A change the cache is never told of (the notifying triggers are gone): the cache must not keep
// serving it. SQLite: the epoch cannot be read, so the cache is not used at all. PostgreSQL: the
// TTL bounds it.
TEST_P(AccessCacheE2E, ACacheThatCannotLearnOfChangesIsNotTrustedPastItsBounds) {
  const bool sqlite = GetParam() == "sqlite";
  start(1, sqlite ? ", access_cache_ttl_ms: 600000" : ", access_cache_ttl_ms: 1500");
  auto c = client(0);
  const std::string dan = token_of(c.post("/api/agents", R"({"agent_id":"dan"})", bearer(root_)));
  ASSERT_EQ(status_of_me(0, dan), 200);
  if (sqlite) {
    auto r = servers_[0]->sql(
        "DROP TRIGGER agent_tokens_epoch_insert; DROP TRIGGER agent_tokens_epoch_delete; "
        "DROP TABLE access_epoch; DELETE FROM agent_tokens WHERE agent_id = 'dan';");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  } else {
    auto r = servers_[0]->sql(
        "DROP TRIGGER agent_tokens_access_epoch ON agent_tokens; "
        "DELETE FROM agent_tokens WHERE agent_id = 'dan';");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto took =
      time_until([&] { return status_of_me(0, dan) == 401; }, std::chrono::milliseconds(8000));
  ASSERT_TRUE(took.has_value()) << "a deleted token is still served from the cache after 8 s";
  EXPECT_LE(took->count(), sqlite ? 1500 : 2000);
  if (sqlite) {  // and with no epoch, every request reads the store: a new token works at once
    auto rotated = cli({"agent", "rotate-token", "dan"});
    ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
    EXPECT_EQ(status_of_me(0, rotated.out.substr(0, rotated.out.find('\n'))), 200);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AccessCacheE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// PostgreSQL: a notification sent while the listener was disconnected is lost; reconnecting
// must drop the cache anyway.
TEST(AccessCachePostgres, AListenerThatReconnectsDropsWhatItCached) {
  if (!ct::Server::available("postgres")) GTEST_SKIP() << "no PostgreSQL here";
  ct::ServerOptions o;
  o.backend = "postgres";
  o.service_yaml = "{auth: token, access_cache_ttl_ms: 600000}";
  ct::Server server(o);
  server.write_config();
  auto made = ct::run_process(
      {CTXMGR_BIN, "--config", server.config_path(), "agent", "create", "root", "--role", "admin"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string root = made.out.substr(0, made.out.find('\n'));
  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient c(server.port());
  ASSERT_EQ(c.get("/api/me", bearer(root)).status, 200);
  // A change no one is told of, then this server's listener's connection cut.
  auto r = server.sql(
      "DROP TRIGGER agent_tokens_access_epoch ON agent_tokens; "
      "DELETE FROM agent_tokens WHERE agent_id = 'root'; "
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'ctxmgr-listener:' || current_schema();");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto took = time_until([&] { return c.get("/api/me", bearer(root)).status == 401; },
                         std::chrono::milliseconds(5000));
  ASSERT_TRUE(took.has_value()) << server.log();
  EXPECT_LE(took->count(), 1500);
  // The listener stops vouching for the cache before it writes its warning: wait for the line.
  EXPECT_TRUE(time_until(
                  [&] {
                    return server.log().find("the change listener lost its connection") !=
                           std::string::npos;
                  },
                  std::chrono::milliseconds(2000))
                  .has_value())
      << server.log();
}

}  // namespace
