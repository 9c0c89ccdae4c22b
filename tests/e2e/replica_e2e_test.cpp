// Reads from a PostgreSQL streaming replica (docs/scaling.md), against a primary and a real
// replica of it made by the test (scripts/pg-temp.sh start, then replica: pg_basebackup -R):
// lists and selection served by the replica; read-your-writes through X-Ctxmgr-Consistency while
// the replica's replay is paused (pg_wal_replay_pause); a replica lagging past replica_max_lag_ms,
// stopped, started again and promoted leaves and rejoins the rotation, reads never failing.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "mcp_over_http.hpp"
#include "observe.hpp"
#include "process.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string value(const std::string& out, const std::string& key) {
  const auto at = out.find(key);
  if (at == std::string::npos) return {};
  const auto start = at + key.size();
  std::string v = out.substr(start, out.find('\n', start) - start);
  if (!v.empty() && v.back() == '\'') v.pop_back();
  return v;
}

class ReplicaE2E : public testing::Test {
 protected:
  void SetUp() override {
    if (!ct::Server::available("postgres")) GTEST_SKIP() << "no PostgreSQL here";
    auto p = ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "start"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    primary_dir_ = value(p.out, "CTXMGR_TEST_PG_DIR=");
    primary_ = value(p.out, "CTXMGR_TEST_PG_DSN='");
    primary_port_ = value(p.out, "CTXMGR_TEST_PG_PORT=");
    auto r = ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "replica", primary_dir_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    replica_dir_ = value(r.out, "CTXMGR_TEST_PG_REPLICA_DIR=");
    replica_ = value(r.out, "CTXMGR_TEST_PG_REPLICA_DSN='");
    replica_port_ = value(r.out, "CTXMGR_TEST_PG_REPLICA_PORT=");
    start_server(primary_);
  }
  // A server whose primary is `url`, reading from the replica; waits until it is in rotation.
  void start_server(const std::string& url) {
    ct::ServerOptions o;
    o.backend = "postgres";
    o.pg_dsn = url;
    o.storage_options = "replicas: ['" + replica_ +
                        "'], replica_check_ms: 50, replica_max_lag_ms: 1500, replica_wait_ms: 300";
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
    ASSERT_TRUE(replica_up(true)) << server_->log();
  }
  // /readyz's entry for the replica.
  json::object readiness() {
    auto r = client_->get("/readyz");
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("replicas").as_array().at(0).as_object();
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
    client_.reset();
    server_.reset();
    if (!replica_dir_.empty()) ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "stop", replica_dir_});
    if (!primary_dir_.empty()) ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "stop", primary_dir_});
  }

  std::string metrics() { return client_->get("/metrics").body; }
  double reads(const std::string& target) {
    return ct::sample(metrics(), "ctxmgr_postgres_reads_total{target=\"" + target + "\"}");
  }
  bool replica_up(bool up) {
    return ct::time_until(
               [&] {
                 return ct::sample(metrics(), "ctxmgr_postgres_replica_up{replica=\"0\"}") ==
                        (up ? 1 : 0);
               },
               10s)
        .has_value();
  }
  void on_replica(const std::string& sql) {
    auto r = ct::run_process({"/usr/bin/psql", replica_, "-Atc", sql});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // The write's answer and its token.
  std::string create(const std::string& note) {
    auto r = client_->post("/api/context",
                           R"({"agent_id":"ana","context_data":{"note":")" + note + "\"}}",
                           {{"X-Agent-Id", "ana"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.header("x-ctxmgr-consistency");
  }
  // The notes of ana's contexts, read with `token` (none when empty).
  std::string notes(const std::string& token = "") {
    std::map<std::string, std::string> h{{"X-Agent-Id", "ana"}};
    if (!token.empty()) h["X-Ctxmgr-Consistency"] = token;
    auto r = client_->get("/api/agent/ana/contexts", h);
    EXPECT_EQ(r.status, 200) << r.body;
    std::string out;
    if (r.status != 200) return "status " + std::to_string(r.status);
    const auto page = json::parse(r.body);  // kept: the loop reads into it
    for (const auto& c : page.at("items").as_array()) {
      out += std::string(c.at("context_data").at("note").as_string()) + ";";
    }
    return out;
  }

  std::string primary_dir_, primary_, primary_port_, replica_dir_, replica_, replica_port_;
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_F(ReplicaE2E, ReadsGoToTheReplicaAndAWriterReadsItsWrites) {
  const std::string first = create("uno");
  ASSERT_FALSE(first.empty()) << "a write answers its token";
  const double replica_reads = reads("replica");
  EXPECT_EQ(notes(first), "uno;");
  auto found =
      client_->post("/api/agent/ana/select", R"({"query":"uno"})", {{"X-Agent-Id", "ana"}});
  EXPECT_EQ(found.status, 200) << found.body;
  EXPECT_GE(reads("replica"), replica_reads + 2) << "the list and the selection, on the replica";

  // The replica stops replaying: a read without a token may be stale, one with the writer's
  // token is not (the primary serves it once the wait runs out).
  on_replica("SELECT pg_wal_replay_pause()");
  const std::string second = create("dos");
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(notes(), "uno;") << "stale within the replica's allowed lag";
  const double on_primary = reads("primary");
  EXPECT_EQ(notes(second), "dos;uno;");
  EXPECT_GE(reads("primary"), on_primary + 1);

  // Past replica_max_lag_ms the replica leaves the rotation: every read sees the write.
  ASSERT_TRUE(replica_up(false));
  EXPECT_EQ(notes(), "dos;uno;");
  // Replaying again, it comes back, and serves the token's reads itself.
  on_replica("SELECT pg_wal_replay_resume()");
  ASSERT_TRUE(replica_up(true));
  const double back = reads("replica");
  EXPECT_EQ(notes(second), "dos;uno;");
  EXPECT_GE(reads("replica"), back + 1);

  // A token this server would not give is refused before anything runs.
  auto bad = client_->get("/api/agent/ana/contexts",
                          {{"X-Agent-Id", "ana"}, {"X-Ctxmgr-Consistency", "not/a-token"}});
  EXPECT_EQ(bad.status, 400) << bad.body;
  // A read answers no token; a write answers one at least as far as the one before.
  EXPECT_EQ(client_->get("/api/agent/ana/contexts", {{"X-Agent-Id", "ana"}})
                .header("x-ctxmgr-consistency"),
            "");
}

TEST_F(ReplicaE2E, AReplicaStoppedStartedAndPromotedLeavesAndRejoinsTheRotation) {
  create("uno");
  ASSERT_EQ(ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "pause", replica_dir_}).exit_code, 0);
  ASSERT_TRUE(replica_up(false));
  EXPECT_FALSE(readiness().at("in_rotation").as_bool());
  EXPECT_EQ(readiness().at("reason").as_string(), "unreachable");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(notes(), "uno;") << "the primary serves every read";
  ASSERT_EQ(ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "resume", replica_dir_}).exit_code, 0);
  ASSERT_TRUE(replica_up(true));
  EXPECT_TRUE(readiness().at("in_rotation").as_bool());
  EXPECT_EQ(readiness().at("name").as_string(), "replica0");
  EXPECT_FALSE(readiness().contains("reason"));
  const double replica_reads = reads("replica");
  EXPECT_EQ(notes(), "uno;");
  EXPECT_GE(reads("replica"), replica_reads + 1);
  // Promoted, it is no standby any more: out, and writes and reads go on.
  ASSERT_EQ(ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "promote", replica_dir_}).exit_code, 0);
  ASSERT_TRUE(replica_up(false));
  EXPECT_NE(std::string(readiness().at("reason").as_string()).find("not a standby"),
            std::string::npos);
  create("dos");
  EXPECT_EQ(notes(), "dos;uno;");
}

// A replica that cannot be reached from the start: the server starts, says so in its log and in
// /readyz (never the replica's address or password), and the primary serves every read.
TEST_F(ReplicaE2E, AReplicaUnreachableFromTheStartIsReportedAndThePrimaryServes) {
  server_->stop();
  ct::ServerOptions o;
  o.backend = "postgres";
  o.pg_dsn = primary_;
  o.storage_options =
      "replicas: ['postgresql://ctxmgr:hunter2@127.0.0.1:1/ctxmgr_test'], replica_check_ms: 50";
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start()) << server_->log();
  client_ = std::make_unique<ct::HttpClient>(server_->port());
  ASSERT_TRUE(ct::time_until(
                  [&] {
                    return server_->log().find("replica 0 out of rotation: unreachable") !=
                           std::string::npos;
                  },
                  10s)
                  .has_value())
      << "the first check's outcome is logged";
  const auto ready = client_->get("/readyz");
  EXPECT_EQ(ready.status, 200) << "a replica out of rotation does not make the server unready";
  EXPECT_EQ(ready.body.find("127.0.0.1"), std::string::npos) << ready.body;
  EXPECT_FALSE(readiness().at("in_rotation").as_bool());
  EXPECT_EQ(readiness().at("reason").as_string(), "unreachable");
  create("uno");
  EXPECT_EQ(notes(), "uno;");
  EXPECT_GE(reads("primary"), 1);
  EXPECT_EQ(reads("replica"), 0);
  EXPECT_EQ(server_->stop(), 0);
  EXPECT_EQ(server_->log().find("hunter2"), std::string::npos) << "the replica's password logged";
}

// MCP carries the same token in _meta: a tools/call that wrote answers it, one that brings it back
// reads the write even while the replica is not replaying.
TEST_F(ReplicaE2E, McpToolCallsCarryTheTokenInMeta) {
  auto headers = ct::mcp_headers({{"X-Agent-Id", "ana"}});
  auto init = client_->post("/mcp", ct::kMcpInitialize, headers);
  ASSERT_EQ(init.status, 200) << init.body;
  headers["Mcp-Session-Id"] = init.header("mcp-session-id");
  int id = 1;
  auto call = [&](const std::string& tool, const std::string& args, const std::string& meta) {
    auto r = client_->post("/mcp",
                           R"({"jsonrpc":"2.0","id":)" + std::to_string(++id) +
                               R"(,"method":"tools/call","params":{"name":")" + tool +
                               R"(","arguments":)" + args + meta + "}}",
                           headers);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("result").as_object();
  };
  auto count = [](const json::object& listed) {
    return json::parse(listed.at("content").at(0).at("text").as_string())
        .at("items")
        .as_array()
        .size();
  };
  on_replica("SELECT pg_wal_replay_pause()");
  auto made = call("context_create", R"({"agent_id":"ana","context_data":{"note":"uno"}})", "");
  ASSERT_TRUE(made.contains("_meta")) << json::serialize(made);
  const std::string token(made.at("_meta").at("ctxmgr/consistency").as_string());
  ASSERT_FALSE(token.empty());
  const std::string args = R"({"agent_id":"ana"})";
  EXPECT_EQ(count(call("context_list", args, "")), 0u) << "stale within the allowed lag";
  const std::string meta = R"(,"_meta":{"ctxmgr/consistency":")" + token + R"("})";
  EXPECT_EQ(count(call("context_list", args, meta)), 1u);
  EXPECT_FALSE(call("context_list", args, "").contains("_meta")) << "a read answers no token";
  auto bad = call("context_list", args, R"(,"_meta":{"ctxmgr/consistency":"nope"})");
  EXPECT_TRUE(bad.contains("isError") && bad.at("isError").as_bool()) << json::serialize(bad);
  on_replica("SELECT pg_wal_replay_resume()");
}

// The primary fails and its replica is promoted: a server given both hosts in a libpq multi-host
// URL (target_session_attrs=read-write) writes to the promoted one without a restart.
TEST_F(ReplicaE2E, APrimaryFailoverIsSurvivedThroughAMultiHostUrl) {
  server_->stop();
  start_server("postgresql://ctxmgr@127.0.0.1:" + primary_port_ + ",127.0.0.1:" + replica_port_ +
               "/ctxmgr_test?target_session_attrs=read-write");
  create("uno");
  ASSERT_TRUE(ct::time_until([&] { return notes() == "uno;"; }, 10s).has_value());
  ASSERT_EQ(ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "pause", primary_dir_}).exit_code, 0);
  ASSERT_EQ(ct::run_process({"/bin/bash", PG_TEMP_SCRIPT, "promote", replica_dir_}).exit_code, 0);
  // Each pooled connection to the old primary fails once (503) and is opened again on the host
  // that now takes writes.
  const auto wrote = ct::time_until(
      [&] {
        return client_
                   ->post("/api/context", R"({"agent_id":"ana","context_data":{"note":"dos"}})",
                          {{"X-Agent-Id", "ana"}})
                   .status == 201;
      },
      20s);
  ASSERT_TRUE(wrote.has_value()) << server_->log();
  EXPECT_EQ(notes(), "dos;uno;") << "nothing lost, nothing written twice";
  ASSERT_TRUE(replica_up(false)) << "the promoted host left the replica rotation";
  EXPECT_EQ(server_->stop(), 0);
}

}  // namespace
