// The one boundary (issue 19, docs/architecture.md): a storage plugin that throws from every
// method must never take the server down. Each request that reaches it is answered `internal`
// naming its request id, on REST and on MCP, the exception is logged with the operation and the
// request id, background threads survive it, and the server keeps serving. A storage that throws
// while the server starts makes `serve` exit with an error, not abort.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "mcp_over_http.hpp"
#include "process.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

constexpr const char* kId = "01890a5d-ac96-774b-bcce-b302099a8057";

class ThrowingStorageE2E : public testing::Test {
 protected:
  void SetUp() override {
    ct::ServerOptions o;
    o.storage_yaml = "  plugin: throwing\n";
    // The sealer and the read-audit batcher run every 50 ms against the throwing store.
    o.extra_yaml = "audit: {reads: batch, seal_interval_ms: 50, batch_interval_ms: 50}\n";
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  // The request's answer is `internal`, its message names the request id, and the log has the
  // exception with the same id.
  void expect_internal(const ct::HttpReply& r, const std::string& request_id,
                       const std::string& what) {
    EXPECT_EQ(r.status, 500) << what << ": " << r.body;
    auto body = json::parse(r.body);
    EXPECT_EQ(body.at("error").at("code").as_string(), "internal") << what;
    EXPECT_NE(std::string(body.at("error").at("message").as_string()).find(request_id),
              std::string::npos)
        << what << ": " << r.body;
  }
  std::unique_ptr<ct::Server> server_;
};

TEST_F(ThrowingStorageE2E, EveryRestOperationAnswersInternalAndTheServerLives) {
  ct::HttpClient c(server_->port());
  struct Call {
    std::string method, target, body;
  };
  const std::string ctx = std::string("/api/context/") + kId;
  const Call calls[] = {
      {"POST", "/api/context", R"({"agent_id":"a","context_data":{"k":1}})"},
      {"GET", ctx, ""},
      {"PATCH", ctx, R"({"context_data":{"k":2}})"},
      {"DELETE", ctx, ""},
      {"GET", ctx + "/history", ""},
      {"POST", ctx + "/revert", R"({"version":1})"},
      {"GET", "/api/agent/a/contexts", ""},
      {"POST", "/api/agents", R"({"agent_id":"bob"})"},
      {"GET", "/api/agents", ""},
      {"GET", "/api/agents/bob", ""},
      {"POST", "/api/agents/bob/token", ""},
      {"POST", ctx + "/grants", R"({"agent_id":"bob","permission":"read"})"},
      {"GET", ctx + "/grants", ""},
      {"GET", "/api/audit", ""},
      {"GET", "/api/audit/verify", ""},
      {"GET", "/api/stats", ""},
  };
  int n = 0;
  for (const auto& call : calls) {
    const std::string rid = "throwing-" + std::to_string(++n);
    auto r = c.request(
        call.method, call.target, call.body,
        {{"X-Agent-Id", "a"}, {"X-Request-Id", rid}, {"Content-Type", "application/json"}});
    expect_internal(r, rid, call.method + " " + call.target);
    EXPECT_NE(server_->log().find(rid), std::string::npos) << "the log never names " << rid;
  }
  EXPECT_NE(server_->log().find("the throwing test storage throws from"), std::string::npos);
  // Readiness asks the store: not ready, and said so, not a crash.
  EXPECT_EQ(c.get("/readyz").status, 503);
  // The background threads met the store too, and the server is still here.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(c.get("/healthz").status, 200);
  EXPECT_TRUE(server_->running());
  EXPECT_EQ(server_->stop(), 0) << server_->log();
}

TEST_F(ThrowingStorageE2E, EveryMcpToolCallIsAnErrorAndTheSessionLives) {
  ct::HttpClient c(server_->port());
  auto init = c.post("/mcp", ct::kMcpInitialize, ct::mcp_headers());
  ASSERT_EQ(init.status, 200) << init.body;
  const auto session = ct::mcp_headers({{"Mcp-Session-Id", init.header("mcp-session-id")}});
  const std::string tools[][2] = {
      {"context_create", R"({"agent_id":"a","context_data":{"k":1}})"},
      {"context_get", std::string(R"({"id":")") + kId + "\"}"},
      {"context_update", std::string(R"({"id":")") + kId + R"(","context_data":{"k":2}})"},
      {"context_delete", std::string(R"({"id":")") + kId + "\"}"},
      {"context_history", std::string(R"({"id":")") + kId + "\"}"},
      {"context_list", R"({"agent_id":"a"})"},
  };
  int id = 1;
  for (const auto& [tool, args] : tools) {
    auto r = c.post("/mcp",
                    R"({"jsonrpc":"2.0","id":)" + std::to_string(++id) +
                        R"(,"method":"tools/call","params":{"name":")" + tool +
                        R"(","arguments":)" + args + "}}",
                    session);
    ASSERT_EQ(r.status, 200) << tool << ": " << r.body;
    auto body = json::parse(r.body).as_object();
    // A tool's failure is a result with isError, naming the internal error.
    ASSERT_TRUE(body.contains("result")) << tool << ": " << r.body;
    EXPECT_TRUE(body.at("result").at("isError").as_bool()) << tool << ": " << r.body;
    EXPECT_NE(json::serialize(body.at("result")).find("internal"), std::string::npos)
        << tool << ": " << r.body;
  }
  // The session still answers.
  auto ping = c.post("/mcp", R"({"jsonrpc":"2.0","id":99,"method":"ping"})", session);
  EXPECT_EQ(ping.status, 200) << ping.body;
  EXPECT_TRUE(server_->running());
}

TEST(ThrowingStorageStart, AStoreThatThrowsAtStartMakesServeExitWithAnError) {
  ct::ServerOptions o;
  o.storage_yaml = "  plugin: throwing\n  options: {start_healthy: false}\n";
  ct::Server server(o);
  EXPECT_FALSE(server.start());
  const int rc = server.stop();
  EXPECT_EQ(rc, 1) << server.log();  // an orderly failure, not SIGABRT
  EXPECT_NE(server.log().find("the throwing test storage throws from migrate"), std::string::npos)
      << server.log();
}

}  // namespace
