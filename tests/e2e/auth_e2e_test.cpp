// Authentication and the agent registry through HTTP and the CLI, on every backend: trust and
// token modes, 401s, admin-only endpoints, a spoofed agent_id, rotation and disabling that take
// effect at once, and no token or token hash in the logs.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class AuthE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }

  // A token-mode server whose first admin was made with the CLI, before the first start.
  void start_token_server() {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.service_yaml = "{auth: token}";
    server_ = std::make_unique<ct::Server>(o);
    server_->write_config();
    auto made = cli({"agent", "create", "root", "--role", "admin", "--name", "Operator"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    root_ = made.out.substr(0, made.out.find('\n'));
    ASSERT_EQ(root_.size(), 69u) << made.out;  // "ctxm_" + 64 hex digits
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  ct::ProcessResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {CTXMGR_BIN, "--config", server_->config_path()});
    return ct::run_process(args);
  }
  static std::map<std::string, std::string> bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  static void expect_error(const ct::HttpReply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status == status) {
      EXPECT_EQ(json::parse(r.body).at("error").at("code").as_string(), code) << r.body;
    }
  }

  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
  std::string root_;
};

TEST_P(AuthE2E, TrustModeTakesTheHeaderAndRefusesNonLoopback) {
  ct::ServerOptions o;
  o.backend = GetParam();
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start());
  ct::HttpClient c(server_->port());
  EXPECT_EQ(c.get("/api/me").body, R"({"agent_id":"admin","role":"admin","auth_mode":"trust"})");
  EXPECT_EQ(c.get("/api/me", {{"X-Agent-Id", "bob"}}).body,
            R"({"agent_id":"bob","role":"agent","auth_mode":"trust"})");
  expect_error(c.get("/api/me", {{"X-Agent-Id", "bad id"}}), 400, "invalid_request");
  // A trust-mode caller may not write in another agent's name.
  expect_error(c.post("/api/context", R"({"agent_id":"alice","context_data":{}})",
                      {{"X-Agent-Id", "bob"}}),
               403, "forbidden");
  server_->stop();

  o.listen_host = "0.0.0.0";
  server_ = std::make_unique<ct::Server>(o);
  EXPECT_FALSE(server_->start());
  EXPECT_NE(server_->log().find("refusing to start: service.auth is trust"), std::string::npos)
      << server_->log();
}

TEST_P(AuthE2E, TokenModeRules) {
  start_token_server();
  // 401 without, with a wrong, with a malformed token; health needs none.
  expect_error(client_->get("/api/me"), 401, "unauthenticated");
  expect_error(client_->get("/api/me", bearer("ctxm_wrong")), 401, "unauthenticated");
  expect_error(client_->get("/api/me", {{"Authorization", "Basic abc"}}), 401, "unauthenticated");
  expect_error(client_->post("/api/context", R"({"agent_id":"x","context_data":{}})"), 401,
               "unauthenticated");
  EXPECT_EQ(client_->get("/healthz").status, 200);
  EXPECT_EQ(client_->get("/readyz").status, 200);
  EXPECT_EQ(client_->get("/metrics").status, 200);
  EXPECT_EQ(client_->get("/api/me", bearer(root_)).body,
            R"({"agent_id":"root","role":"admin","auth_mode":"token"})");

  // The admin registers alice; her token is answered once.
  auto made = client_->post("/api/agents", R"({"agent_id":"alice","display_name":"Alice"})",
                            bearer(root_));
  ASSERT_EQ(made.status, 201) << made.body;
  auto v = json::parse(made.body);
  EXPECT_EQ(v.at("agent").at("role").as_string(), "agent");
  EXPECT_FALSE(v.at("agent").at("disabled").as_bool());
  const std::string alice(v.at("token").as_string());
  expect_error(client_->post("/api/agents", R"({"agent_id":"alice"})", bearer(root_)), 409,
               "conflict");
  EXPECT_EQ(json::parse(client_->get("/api/me", bearer(alice)).body).at("agent_id").as_string(),
            "alice");

  // Admin-only endpoints; an agent may read and rotate only itself.
  expect_error(client_->get("/api/agents", bearer(alice)), 403, "forbidden");
  expect_error(client_->post("/api/agents", R"({"agent_id":"eve"})", bearer(alice)), 403,
               "forbidden");
  expect_error(client_->del("/api/agents/root", bearer(alice)), 403, "forbidden");
  expect_error(client_->get("/api/agents/root", bearer(alice)), 403, "forbidden");
  EXPECT_EQ(client_->get("/api/agents/alice", bearer(alice)).status, 200);
  expect_error(client_->get("/api/agents/nobody", bearer(root_)), 404, "not_found");
  auto listed = json::parse(client_->get("/api/agents", bearer(root_)).body);
  EXPECT_EQ(listed.at("items").as_array().size(), 2u);

  // A spoofed agent_id is 403; her own is fine; purge stays admin-only.
  expect_error(client_->post("/api/context", R"({"agent_id":"root","context_data":{}})",
                             bearer(alice)),
               403, "forbidden");
  auto ctx = client_->post("/api/context", R"({"agent_id":"alice","context_data":{"k":1}})",
                           bearer(alice));
  ASSERT_EQ(ctx.status, 201) << ctx.body;
  const std::string id(json::parse(ctx.body).at("id").as_string());
  EXPECT_EQ(json::parse(ctx.body).at("created_by").as_string(), "alice");
  expect_error(client_->del("/api/context/" + id + "?purge=true", bearer(alice)), 403, "forbidden");

  // Rotation: the old token stops at once, the new one works.
  auto rotated = client_->request("POST", "/api/agents/alice/token", {}, bearer(alice));
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string alice2(json::parse(rotated.body).at("token").as_string());
  EXPECT_NE(alice2, alice);
  expect_error(client_->get("/api/me", bearer(alice)), 401, "unauthenticated");
  EXPECT_EQ(client_->get("/api/me", bearer(alice2)).status, 200);

  // Disabling: her tokens stop at once; she stays registered.
  EXPECT_EQ(client_->del("/api/agents/alice", bearer(root_)).status, 204);
  expect_error(client_->get("/api/me", bearer(alice2)), 401, "unauthenticated");
  EXPECT_TRUE(json::parse(client_->get("/api/agents/alice", bearer(root_)).body)
                  .at("agent").at("disabled").as_bool());

  // The CLI sees the same registry.
  auto list = cli({"agent", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("alice\tagent\tdisabled\tAlice"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("root\tadmin\tactive\tOperator"), std::string::npos) << list.out;
  EXPECT_EQ(cli({"agent", "disable", "nobody"}).exit_code, 1);
  EXPECT_EQ(cli({"agent", "create", "bad id"}).exit_code, 2);

  // No token, and no token hash, in the server's log.
  const std::string log = server_->log();
  for (const std::string& secret : {root_, alice, alice2}) {
    EXPECT_EQ(log.find(secret), std::string::npos);
    EXPECT_EQ(log.find(secret.substr(5)), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
