// The audit log end to end, on every backend: every operation leaves its event, filters work,
// an agent sees only the events on its contexts, the chain is sealed in the background and
// verifies, and tampering with the table directly (the append-only triggers disabled) is found
// and named.

#include <gtest/gtest.h>

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

class AuditE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    // Reads audited synchronously; seals every 50 ms.
    start("audit: {reads: sync, seal_interval_ms: 50}\n");
  }
  void start(const std::string& audit_yaml) {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.service_yaml = "{auth: trust}";
    o.extra_yaml = audit_yaml;
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  void stop_server() { ASSERT_EQ(server_->stop(), 0); }
  // Restarts the server with `audit_yaml`, creates a context (its id into `id`) and reads it
  // `reads` times (call it through ASSERT_NO_FATAL_FAILURE).
  void restart_create_and_read(const std::string& audit_yaml, int reads, std::string& id) {
    server_.reset();
    start(audit_yaml);
    auto created = client_->post("/api/context", R"({"agent_id":"a","context_data":{}})");
    id = std::string(json::parse(created.body).at("id").as_string());
    read(id, reads);
  }
  void read(const std::string& id, int times) {
    for (int i = 0; i < times; ++i) ASSERT_EQ(client_->get("/api/context/" + id).status, 200);
  }
  json::array events(const std::string& query = "", const std::string& agent = "") {
    std::map<std::string, std::string> h;
    if (!agent.empty()) h["X-Agent-Id"] = agent;
    auto r = client_->get("/api/audit" + query, h);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("items").as_array();
  }
  json::object verify_when_sealed() {
    const auto newest = events("?limit=1").at(0).at("seq").as_int64();
    for (int i = 0; i < 200; ++i) {
      auto v = json::parse(client_->get("/api/audit/verify").body).as_object();
      if (v.at("sealed_through").as_int64() >= newest) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "the chain was not sealed through " << newest;
    return {};
  }
  ct::ProcessResult verify_cli() {
    return ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "audit", "verify"});
  }

  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(AuditE2E, EveryOperationIsAuditedAndTheChainVerifies) {
  auto created = client_->post("/api/context", R"({"agent_id":"alice","context_data":{"k":1}})",
                               {{"X-Agent-Id", "alice"}, {"X-Request-Id", "req-create-1"}});
  ASSERT_EQ(created.status, 201);
  const std::string id(json::parse(created.body).at("id").as_string());
  const std::string ctx = "/api/context/" + id;
  const std::map<std::string, std::string> alice = {{"X-Agent-Id", "alice"}};
  ASSERT_EQ(client_->patch(ctx, R"({"context_data":{"k":2}})", alice).status, 200);
  ASSERT_EQ(client_->get(ctx, alice).status, 200);
  ASSERT_EQ(client_->get(ctx + "/history", alice).status, 200);
  ASSERT_EQ(client_->get("/api/agent/alice/contexts", alice).status, 200);
  ASSERT_EQ(
      client_->post(ctx + "/grants", R"({"agent_id":"bob","permission":"read"})", alice).status,
      201);
  ASSERT_EQ(client_->del(ctx + "/grants/bob", alice).status, 204);
  ASSERT_EQ(client_->del(ctx, alice).status, 204);
  ASSERT_EQ(client_->post(ctx + "/revert", R"({"version":2})", alice).status, 200);
  ASSERT_EQ(client_->post("/api/agents", R"({"agent_id":"carol"})").status, 201);

  auto all = events();
  std::vector<std::string> actions;
  for (const auto& e : all) actions.emplace_back(e.at("action").as_string());
  const std::vector<std::string> expected = {"agent.create", "revert", "delete",  "revoke",
                                             "grant",        "list",   "history", "read",
                                             "update",       "create"};
  EXPECT_EQ(actions, expected);
  const auto& first = all.back().as_object();
  EXPECT_EQ(first.at("agent_id").as_string(), "alice");
  EXPECT_EQ(first.at("context_id").as_string(), id);
  EXPECT_EQ(first.at("transport").as_string(), "http");
  EXPECT_EQ(first.at("request_id").as_string(), "req-create-1");
  EXPECT_EQ(json::serialize(first.at("details")), R"({"version":1})");

  // Filters and pages.
  EXPECT_EQ(events("?action=update").size(), 1u);
  EXPECT_EQ(events("?context_id=" + id).size(), 8u);  // all but the list and agent.create
  EXPECT_EQ(events("?agent_id=admin").size(), 1u);
  EXPECT_EQ(events("?since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z").size(), 10u);
  EXPECT_TRUE(events("?until=2000-01-01T00:00:00Z").empty());
  auto page = json::parse(client_->get("/api/audit?limit=4").body);
  EXPECT_EQ(page.at("items").as_array().size(), 4u);
  const std::string cursor(page.at("next_cursor").as_string());
  EXPECT_EQ(events("?limit=100&cursor=" + cursor).size(), 6u);
  EXPECT_EQ(client_->get("/api/audit?since=yesterday").status, 400);

  // An agent sees the events on the contexts it owns; bob owns none.
  EXPECT_EQ(events("", "alice").size(), 8u);
  EXPECT_TRUE(events("", "bob").empty());
  EXPECT_EQ(client_->get("/api/audit/verify", {{"X-Agent-Id", "bob"}}).status, 403);

  auto v = verify_when_sealed();
  EXPECT_TRUE(v.at("ok").as_bool()) << json::serialize(v);
  EXPECT_EQ(v.at("checked").as_int64(), 10);
  EXPECT_FALSE(v.contains("first_bad"));

  // The seed's monitoring queries, over HTTP (admins) and from the CLI.
  EXPECT_EQ(client_->get("/api/stats", {{"X-Agent-Id", "bob"}}).status, 403);
  auto stats = client_->get("/api/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  auto st = json::parse(stats.body);
  EXPECT_EQ(json::serialize(st.at("totals")),
            R"({"contexts":1,"deleted":0,"versions":4,"agents":1,"audit_events":10})");
  EXPECT_EQ(json::serialize(st.at("contexts_per_agent")), R"([{"agent_id":"alice","contexts":1}])");
  EXPECT_EQ(st.at("recent_accesses").as_array().size(), 10u);
  auto cli = ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "stats", "--json"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(json::serialize(json::parse(cli.out).at("totals")), json::serialize(st.at("totals")));
}

TEST_P(AuditE2E, FiftyConcurrentPatchesLeaveACompleteVerifiableTrail) {
  auto created = client_->post("/api/context", R"({"agent_id":"a","context_data":{}})");
  const std::string id(json::parse(created.body).at("id").as_string());
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      ct::HttpClient c(server_->port());
      EXPECT_EQ(
          c.patch("/api/context/" + id, R"({"context_data":{"k)" + std::to_string(i) + R"(":1}})")
              .status,
          200);
    });
  }
  for (auto& t : threads) t.join();
  auto updates = events("?action=update&limit=1000&context_id=" + id);
  EXPECT_EQ(updates.size(), 50u);
  std::set<std::int64_t> versions;
  for (const auto& e : updates) versions.insert(e.at("details").at("version").as_int64());
  EXPECT_EQ(versions.size(), 50u);  // versions 2..51, each once
  EXPECT_EQ(*versions.begin(), 2);
  EXPECT_EQ(*versions.rbegin(), 51);
  auto v = verify_when_sealed();
  EXPECT_TRUE(v.at("ok").as_bool()) << json::serialize(v);
  EXPECT_EQ(v.at("checked").as_int64(), 51);
}

TEST_P(AuditE2E, TamperingIsFoundAndTheFirstBadEventNamed) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(client_
                  ->post("/api/context",
                         R"({"agent_id":"a","context_data":{"i":)" + std::to_string(i) + "}}")
                  .status,
              201);
  }
  auto sealed = verify_when_sealed();
  ASSERT_TRUE(sealed.at("ok").as_bool());
  const auto last = sealed.at("sealed_through").as_int64();
  const std::string k = std::to_string(last - 2);
  const std::string k1 = std::to_string(last - 1);
  stop_server();

  const bool sqlite = GetParam() == "sqlite";
  const std::string off =
      sqlite ? "DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete; "
             : "ALTER TABLE access_log DISABLE TRIGGER USER; ";
  auto run = [&](const std::string& sql) {
    auto r = server_->sql(sql);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  auto expect_broken_at = [&](const std::string& seq, const std::string& why) {
    auto r = verify_cli();
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("BROKEN at seq " + seq + ": " + why), std::string::npos) << r.out;
  };
  ASSERT_EQ(verify_cli().exit_code, 0);

  // The triggers refuse changes while they are on.
  EXPECT_NE(server_->sql("UPDATE access_log SET agent_id = 'x' WHERE seq = " + k).exit_code, 0);

  // A changed event.
  run(off + "UPDATE access_log SET agent_id = 'mallory' WHERE seq = " + k);
  expect_broken_at(k, "event differs from what was sealed");
  run("UPDATE access_log SET agent_id = 'admin' WHERE seq = " + k);
  ASSERT_EQ(verify_cli().exit_code, 0) << verify_cli().out;

  // Two events swapped (reordered).
  run("UPDATE access_log SET request_id = 'tmp' WHERE seq = " + k +
      ";"
      "UPDATE access_log SET request_id = (SELECT request_id FROM access_log WHERE seq = " +
      k1 + ") WHERE seq = " + k +
      "; UPDATE access_log SET request_id = 'swapped' WHERE seq = " + k1);
  expect_broken_at(k, "event differs from what was sealed");

  // A deleted event.
  run("DELETE FROM access_log WHERE seq = " + k1);
  auto r = verify_cli();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("BROKEN at seq " + k), std::string::npos) << r.out;  // still the first
}

TEST_P(AuditE2E, BatchedReadAuditingWritesLaterAndFlushesAtShutdown) {
  std::string id;
  ASSERT_NO_FATAL_FAILURE(restart_create_and_read(
      "audit: {reads: batch, batch_interval_ms: 100000, batch_capacity: 1000000, "
      "seal_interval_ms: 50}\n",
      20, id));
  // Queued, not written yet (the interval is long): only the create is in the log.
  EXPECT_TRUE(events("?action=read").empty());
  stop_server();
  // Written at shutdown, and sealed.
  auto rows = server_->sql("SELECT count(*) FROM access_log WHERE action = 'read'");
  EXPECT_EQ(rows.out, "20\n") << rows.err;
  auto v = ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "audit", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.out;
  EXPECT_NE(v.out.find("ok: 21 sealed event(s) verified"), std::string::npos) << v.out;
}

TEST_P(AuditE2E, BatchedReadAuditingWritesAFullQueueAtOnce) {
  std::string id;
  ASSERT_NO_FATAL_FAILURE(restart_create_and_read(
      "audit: {reads: batch, batch_interval_ms: 100000, batch_capacity: 5}\n", 12, id));
  // Never more than the capacity (5) unwritten: a read that found the queue full wrote it before
  // it was answered. The thread, nudged by each event (a quarter of 5 is 1), writes some too, so
  // how many of the last five are written yet depends on timing.
  EXPECT_GE(events("?action=read").size(), 7u);
}

// Reads faster than the interval: a quarter-full queue wakes the writing thread, so the reader's
// own thread does not meet a full queue (which it would have to write, stalling its loop).
TEST_P(AuditE2E, BatchedReadAuditingWritesAQuarterFullQueueWithoutWaitingForTheInterval) {
  std::string id;
  ASSERT_NO_FATAL_FAILURE(restart_create_and_read(
      "audit: {reads: batch, batch_interval_ms: 100000, batch_capacity: 40}\n", 9, id));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(events("?action=read").empty()) << "9 of 40 is under a quarter: still queued";
  ASSERT_NO_FATAL_FAILURE(read(id, 1));  // the tenth: a quarter
  auto written = ct::time_until([&] { return events("?action=read").size() == 10; },
                                std::chrono::milliseconds(3000));
  EXPECT_TRUE(written.has_value()) << "the quarter-full queue waited for the 100 s interval";
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
