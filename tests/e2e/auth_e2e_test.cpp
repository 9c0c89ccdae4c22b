// Authentication and the agent registry through HTTP and the CLI, on every backend: trust and
// token modes, 401s, admin-only endpoints, a spoofed agent_id, rotation and disabling that take
// effect at once, the grants an agent received, and no token or token hash in the logs.

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
  // Registers each agent through the API as root, keeping its token.
  void register_agents(std::initializer_list<const char*> names,
                       std::map<std::string, std::string>& token) {
    for (const char* name : names) {
      auto r = client_->post("/api/agents", std::string(R"({"agent_id":")") + name + "\"}",
                             bearer(root_));
      ASSERT_EQ(r.status, 201) << r.body;
      token[name] = std::string(json::parse(r.body).at("token").as_string());
    }
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
  expect_error(
      c.post("/api/context", R"({"agent_id":"alice","context_data":{}})", {{"X-Agent-Id", "bob"}}),
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
  // The first refusal of each kind is audited at once, with why and without the token; its
  // repeats within audit.auth_failure_window_ms come later as one event with their count
  // (hardening_e2e_test).
  auto failed = json::parse(client_->get("/api/audit?action=auth.failed", bearer(root_)).body)
                    .at("items")
                    .as_array();
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[1].at("agent_id").as_string(), "anonymous");
  EXPECT_EQ(failed[1].at("details").at("reason").as_string(),
            "a bearer token is required (Authorization: Bearer ...)");
  EXPECT_EQ(failed[0].at("details").at("reason").as_string(), "the token is not valid");
  EXPECT_EQ(json::serialize(failed).find("ctxm_wrong"), std::string::npos);

  // The admin registers alice; her token is answered once.
  auto made =
      client_->post("/api/agents", R"({"agent_id":"alice","display_name":"Alice"})", bearer(root_));
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
  expect_error(
      client_->post("/api/context", R"({"agent_id":"root","context_data":{}})", bearer(alice)), 403,
      "forbidden");
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
                  .at("agent")
                  .at("disabled")
                  .as_bool());

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

TEST_P(AuthE2E, GrantsDecideWhoReadsAndWrites) {
  start_token_server();
  std::map<std::string, std::string> token;
  ASSERT_NO_FATAL_FAILURE(register_agents({"alice", "bob", "carol"}, token));
  auto as = [&](const std::string& who) { return bearer(token[who]); };
  auto create = [&](const std::string& data) {
    auto r = client_->post("/api/context", R"({"agent_id":"alice","context_data":)" + data + "}",
                           as("alice"));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  };
  const std::string a = create(R"({"n":"a"})");
  const std::string b = create(R"({"n":"b"})");
  const std::string ctx = "/api/context/" + a;

  // Not shared: bob cannot tell it exists.
  expect_error(client_->get(ctx, as("bob")), 404, "not_found");
  expect_error(client_->patch(ctx, R"({"context_data":{"x":1}})", as("bob")), 404, "not_found");
  expect_error(client_->get(ctx + "/history", as("bob")), 404, "not_found");
  expect_error(client_->get(ctx + "/grants", as("bob")), 404, "not_found");
  EXPECT_TRUE(json::parse(client_->get("/api/agent/alice/contexts", as("bob")).body)
                  .at("items")
                  .as_array()
                  .empty());

  // A read grant: bob reads, but may not change, delete, revert or share (403).
  EXPECT_EQ(client_->post(ctx + "/grants", R"({"agent_id":"bob","permission":"read"})", as("alice"))
                .status,
            201);
  EXPECT_EQ(client_->post(ctx + "/grants", R"({"agent_id":"bob","permission":"read"})", as("alice"))
                .status,
            200);  // granting again replaces
  EXPECT_EQ(client_->get(ctx, as("bob")).status, 200);
  EXPECT_EQ(client_->get(ctx + "/history", as("bob")).status, 200);
  expect_error(client_->patch(ctx, R"({"context_data":{"x":1}})", as("bob")), 403, "forbidden");
  expect_error(client_->del(ctx, as("bob")), 403, "forbidden");
  expect_error(client_->post(ctx + "/revert", R"({"version":1})", as("bob")), 403, "forbidden");
  expect_error(
      client_->post(ctx + "/grants", R"({"agent_id":"carol","permission":"read"})", as("bob")), 403,
      "forbidden");
  auto listed = json::parse(client_->get("/api/agent/alice/contexts", as("bob")).body);
  ASSERT_EQ(listed.at("items").as_array().size(), 1u);  // only what was shared
  EXPECT_EQ(listed.at("items").as_array().at(0).at("id").as_string(), a);

  // A write grant: bob patches and reverts, still may not delete or share.
  EXPECT_EQ(
      client_->post(ctx + "/grants", R"({"agent_id":"bob","permission":"write"})", as("alice"))
          .status,
      200);
  auto patched = client_->patch(ctx, R"({"context_data":{"x":1}})", as("bob"));
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body).at("updated_by").as_string(), "bob");
  EXPECT_EQ(client_->post(ctx + "/revert", R"({"version":1})", as("bob")).status, 200);
  expect_error(client_->del(ctx, as("bob")), 403, "forbidden");
  // Nor may a write grant undo the owner's delete: reverting a deleted context is the owner's.
  ASSERT_EQ(client_->del(ctx, as("alice")).status, 204);
  expect_error(client_->post(ctx + "/revert", R"({"version":1})", as("bob")), 403, "forbidden");
  EXPECT_EQ(client_->post(ctx + "/revert", R"({"version":1})", as("alice")).status, 200);
  EXPECT_EQ(client_->get(ctx, as("bob")).status, 200);
  auto grants = json::parse(client_->get(ctx + "/grants", as("alice")).body);
  ASSERT_EQ(grants.at("items").as_array().size(), 1u);
  EXPECT_EQ(grants.at("items").as_array().at(0).at("permission").as_string(), "write");
  EXPECT_EQ(grants.at("items").as_array().at(0).at("granted_by").as_string(), "alice");

  // Revocation takes effect at once.
  EXPECT_EQ(client_->del(ctx + "/grants/bob", as("alice")).status, 204);
  expect_error(client_->get(ctx, as("bob")), 404, "not_found");
  expect_error(client_->del(ctx + "/grants/bob", as("alice")), 404, "not_found");

  // Sharing all of an owner's contexts.
  expect_error(client_->post("/api/agent/alice/grants",
                             R"({"agent_id":"carol","permission":"read"})", as("bob")),
               403, "forbidden");
  expect_error(client_->post("/api/agent/alice/grants",
                             R"({"agent_id":"ghost","permission":"read"})", as("alice")),
               404, "not_found");  // token mode: the grantee must exist
  expect_error(client_->post("/api/agent/alice/grants",
                             R"({"agent_id":"carol","permission":"admin"})", as("alice")),
               400, "invalid_request");
  EXPECT_EQ(client_
                ->post("/api/agent/alice/grants", R"({"agent_id":"carol","permission":"read"})",
                       as("alice"))
                .status,
            201);
  EXPECT_EQ(json::parse(client_->get("/api/agent/alice/contexts", as("carol")).body)
                .at("items")
                .as_array()
                .size(),
            2u);
  EXPECT_EQ(client_->get("/api/context/" + b, as("carol")).status, 200);
  expect_error(client_->patch("/api/context/" + b, R"({"context_data":{"y":1}})", as("carol")), 403,
               "forbidden");
  EXPECT_EQ(json::parse(client_->get("/api/agent/alice/grants", as("alice")).body)
                .at("items")
                .as_array()
                .size(),
            1u);
  EXPECT_EQ(client_->del("/api/agent/alice/grants/carol", as("alice")).status, 204);
  expect_error(client_->get("/api/context/" + b, as("carol")), 404, "not_found");

  // Admins see everything.
  EXPECT_EQ(client_->get("/api/context/" + b, bearer(root_)).status, 200);
  EXPECT_EQ(json::parse(client_->get("/api/agent/alice/contexts", bearer(root_)).body)
                .at("items")
                .as_array()
                .size(),
            2u);
}

// What was shared with an agent, from its side: owner grants then context grants of live
// contexts, paged; only the agent itself or an admin may ask.
TEST_P(AuthE2E, ReceivedGrantsListWhatWasSharedWithTheAgent) {
  start_token_server();
  std::map<std::string, std::string> token;
  ASSERT_NO_FATAL_FAILURE(register_agents({"alice", "bob", "carol"}, token));
  auto as = [&](const std::string& who) { return bearer(token[who]); };
  auto create = [&]() {
    auto r = client_->post("/api/context", R"({"agent_id":"alice","context_data":{"n":1}})",
                           as("alice"));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  };
  const std::string kept = create();
  const std::string gone = create();
  for (const auto& id : {kept, gone}) {
    ASSERT_EQ(client_
                  ->post("/api/context/" + id + "/grants",
                         R"({"agent_id":"bob","permission":"write"})", as("alice"))
                  .status,
              201);
  }
  ASSERT_EQ(client_->del("/api/context/" + gone, as("alice")).status, 204);
  ASSERT_EQ(client_
                ->post("/api/agent/carol/grants", R"({"agent_id":"bob","permission":"read"})",
                       as("carol"))
                .status,
            201);

  auto mine = client_->get("/api/agent/bob/received-grants", as("bob"));
  ASSERT_EQ(mine.status, 200) << mine.body;
  auto items = json::parse(mine.body).at("items").as_array();
  ASSERT_EQ(items.size(), 2u) << mine.body;  // the deleted context's grant gives nothing
  EXPECT_EQ(items[0].at("scope").as_string(), "owner");
  EXPECT_EQ(items[0].at("owner_id").as_string(), "carol");
  EXPECT_EQ(items[0].at("permission").as_string(), "read");
  EXPECT_EQ(items[0].at("granted_by").as_string(), "carol");
  EXPECT_EQ(items[1].at("scope").as_string(), "context");
  EXPECT_EQ(items[1].at("context_id").as_string(), kept);
  EXPECT_EQ(items[1].at("owner_id").as_string(), "alice");
  EXPECT_EQ(items[1].at("permission").as_string(), "write");
  EXPECT_TRUE(items[1].at("granted_at").is_string());
  EXPECT_TRUE(json::parse(mine.body).at("next_cursor").is_null());

  // One a page: the cursor leads from the owner grant to the context grant, then ends.
  auto first = json::parse(client_->get("/api/agent/bob/received-grants?limit=1", as("bob")).body);
  ASSERT_EQ(first.at("items").as_array().size(), 1u);
  const std::string cursor(first.at("next_cursor").as_string());
  auto second = json::parse(
      client_->get("/api/agent/bob/received-grants?limit=1&cursor=" + cursor, as("bob")).body);
  ASSERT_EQ(second.at("items").as_array().size(), 1u);
  EXPECT_EQ(second.at("items").as_array()[0].at("context_id").as_string(), kept);
  EXPECT_TRUE(second.at("next_cursor").is_null());

  expect_error(client_->get("/api/agent/bob/received-grants", as("carol")), 403, "forbidden");
  EXPECT_EQ(client_->get("/api/agent/bob/received-grants", bearer(root_)).status, 200);
  expect_error(client_->get("/api/agent/bob/received-grants?cursor=context:nope", as("bob")), 400,
               "invalid_request");
  expect_error(client_->get("/api/agent/bob/received-grants?cursor=zz", as("bob")), 400,
               "invalid_request");
  expect_error(client_->get("/api/agent/bob/received-grants?limit=0", as("bob")), 400,
               "invalid_request");
  expect_error(client_->get("/api/agent/bob/received-grants"), 401, "unauthenticated");
  // Taking a grant back takes it off the list.
  ASSERT_EQ(client_->del("/api/agent/carol/grants/bob", as("carol")).status, 204);
  EXPECT_EQ(json::parse(client_->get("/api/agent/bob/received-grants", as("bob")).body)
                .at("items")
                .as_array()
                .size(),
            1u);
}

// The HTTP transport parses versions, If-Match, limits and include_deleted itself (the typed
// calls, ABI 1.7), yet a caller without a valid token still hears 401 first, and a malformed
// parameter from a known caller is the kernel's 400, counted under its operation.
TEST_P(AuthE2E, MalformedParametersAreRefusedOnlyAfterAuthentication) {
  start_token_server();
  const auto made =
      client_->post("/api/context", R"({"agent_id":"root","context_data":{"a":1}})", bearer(root_));
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id(json::parse(made.body).at("id").as_string());
  const auto wrong = bearer("ctxm_" + std::string(64, '0'));

  expect_error(client_->get("/api/context/" + id + "?version=x"), 401, "unauthenticated");
  expect_error(client_->get("/api/context/" + id + "?version=x", wrong), 401, "unauthenticated");
  expect_error(client_->patch("/api/context/" + id, R"({"context_data":{}})", {{"If-Match", "v"}}),
               401, "unauthenticated");
  expect_error(client_->get("/api/context/" + id + "/history?limit=0", wrong), 401,
               "unauthenticated");
  expect_error(client_->get("/api/agent/root/contexts?include_deleted=yes", wrong), 401,
               "unauthenticated");

  auto message = [](const ct::HttpReply& r) {
    return std::string(json::parse(r.body).at("error").at("message").as_string());
  };
  auto patched = [&](const std::string& if_match) {
    auto h = bearer(root_);
    h["If-Match"] = if_match;
    return client_->patch("/api/context/" + id, R"({"context_data":{"b":2}})", h);
  };
  auto r = client_->get("/api/context/" + id + "?version=0", bearer(root_));
  expect_error(r, 400, "invalid_request");
  EXPECT_EQ(message(r), "version must be a positive integer");
  r = patched("\"x\"");
  expect_error(r, 400, "invalid_request");
  EXPECT_EQ(message(r), "If-Match must be a version in quotes, e.g. \"3\"");
  r = client_->get("/api/context/" + id + "/history?limit=1001", bearer(root_));
  expect_error(r, 400, "invalid_request");
  EXPECT_EQ(message(r), "limit must be an integer from 1 to 1000");
  r = client_->get("/api/agent/root/contexts?include_deleted=yes", bearer(root_));
  expect_error(r, 400, "invalid_request");
  EXPECT_EQ(message(r), "include_deleted must be true or false");

  // The well-formed ones reach the typed calls: W/"1" and * as If-Match, a version, a limit.
  EXPECT_EQ(patched("W/\"1\"").status, 200);
  expect_error(patched("\"1\""), 412, "precondition_failed");
  EXPECT_EQ(patched("*").status, 200);
  EXPECT_EQ(json::parse(client_->get("/api/context/" + id + "?version=1", bearer(root_)).body)
                .at("context_data"),
            json::parse(R"({"a":1})"));
  EXPECT_EQ(json::parse(client_->get("/api/context/" + id + "/history?limit=2", bearer(root_)).body)
                .at("items")
                .as_array()
                .size(),
            2u);

  // Each refusal counted under its operation, as the kernel's own 400s are.
  const auto metrics = client_->get("/metrics").body;
  for (const char* op : {"read", "update", "history", "list"}) {
    EXPECT_NE(metrics.find("ctxmgr_context_operations_total{op=\"" + std::string(op) +
                           "\",outcome=\"invalid_request\"} 1"),
              std::string::npos)
        << op << "\n"
        << metrics;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
