// Redaction of a version (docs/memory-tool.md: Redaction), on every backend: the content is gone
// from the API, the history, selection, a backup made after it and (SQLite) the database files,
// while the version's number, time and actor stay, a SHA-256 of what was there is kept, and the
// audit chain still verifies; who may redact, and what cannot be.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

constexpr const char* kSecret = "hunter2-b4c0n-7e57";

class RedactionE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    ct::ServerOptions o;
    o.backend = GetParam();
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    c_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  ct::HttpReply as(const std::string& agent, const std::string& method, const std::string& target,
                   const std::string& body = {}) {
    std::map<std::string, std::string> h{{"X-Agent-Id", agent}};
    if (!body.empty()) h["Content-Type"] = "application/json";
    return c_->request(method, target, body, h);
  }
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> c_;
};

TEST_P(RedactionE2E, AVersionsContentIsGoneAndItsPlaceKept) {
  auto made = as("ana", "POST", "/api/context",
                 std::string(R"({"agent_id":"ana","context_data":{"password":")") + kSecret +
                     R"(","topic":"deploy"},"metadata":{"tags":["ops"]}})");
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id(json::parse(made.body).at("id").as_string());
  ASSERT_EQ(
      as("ana", "PATCH", "/api/context/" + id, R"({"context_data":{"password":null}})").status,
      200);
  const auto before = json::parse(as("ana", "GET", "/api/context/" + id + "/history").body);
  const auto v1_before = before.at("items").at(1);

  // Only the owner (or an admin) redacts; the current version and a missing one cannot be.
  auto other = as("bo", "POST", "/api/context/" + id + "/versions/1/redact");
  EXPECT_TRUE(other.status == 403 || other.status == 404) << other.body;
  EXPECT_EQ(as("ana", "POST", "/api/context/" + id + "/versions/2/redact").status, 409);
  EXPECT_EQ(as("ana", "POST", "/api/context/" + id + "/versions/9/redact").status, 404);
  EXPECT_EQ(as("ana", "POST", "/api/context/" + id + "/versions/x/redact").status, 400);

  // SQLite: the secret is in the files now (so that finding it gone below means something).
  auto in_files = [&] {
    return (ct::read_file(server_->dir() + "/context.db") +
            ct::read_file(server_->dir() + "/context.db-wal"))
               .find(kSecret) != std::string::npos;
  };
  if (GetParam() == "sqlite") EXPECT_TRUE(in_files());

  auto done = as("ana", "POST", "/api/context/" + id + "/versions/1/redact");
  ASSERT_EQ(done.status, 200) << done.body;
  const auto answer = json::parse(done.body);
  EXPECT_EQ(answer.at("version").as_int64(), 1);
  const std::string sha(answer.at("redacted").at("sha256").as_string());
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(answer.at("redacted").at("by").as_string(), "ana");
  EXPECT_EQ(as("ana", "POST", "/api/context/" + id + "/versions/1/redact").status, 409)
      << "a second redaction of one version";

  // The version: no content, the same number, action, actor and time, the redaction recorded.
  auto v1 = json::parse(as("ana", "GET", "/api/context/" + id + "?version=1").body);
  EXPECT_EQ(json::serialize(v1.at("context_data")), "{}");
  EXPECT_EQ(v1.at("metadata").at("redacted").at("sha256").as_string(), sha);
  const auto after = json::parse(as("ana", "GET", "/api/context/" + id + "/history").body);
  const auto& v1_after = after.at("items").at(1);
  EXPECT_EQ(v1_after.at("version"), v1_before.at("version"));
  EXPECT_EQ(v1_after.at("action"), v1_before.at("action"));
  EXPECT_EQ(v1_after.at("agent_id"), v1_before.at("agent_id"));
  EXPECT_EQ(v1_after.at("at"), v1_before.at("at"));
  EXPECT_EQ(after.at("items").at(0).at("context_data").at("topic").as_string(), "deploy");
  EXPECT_EQ(as("ana", "GET", "/api/context/" + id + "/history").body.find(kSecret),
            std::string::npos);

  // Audited (hashes, never content), and the chain still verifies.
  auto audit = as("ana", "GET", "/api/audit?context_id=" + id);
  EXPECT_NE(audit.body.find("\"redact\""), std::string::npos) << audit.body;
  EXPECT_EQ(audit.body.find(kSecret), std::string::npos);
  auto verify = c_->get("/api/audit/verify");  // trust mode, no header: the admin
  ASSERT_EQ(verify.status, 200) << verify.body;
  EXPECT_TRUE(json::parse(verify.body).at("ok").as_bool()) << verify.body;

  // Selection does not find it.
  auto found = as("ana", "POST", "/api/agent/ana/select", R"({"query":"hunter2"})");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(json::parse(found.body).at("items").as_array().size(), 0u);

  // A backup made after it holds none of it.
  const std::string out = server_->dir() + "/after.ctxbak";
  auto backup =
      ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "backup", "--out", out});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  const std::string bak = ct::read_file(out);
  ASSERT_FALSE(bak.empty());
  EXPECT_EQ(ct::run_process({"/usr/bin/zgrep", "-c", kSecret, out}).out, "0\n");

  // SQLite: nothing of it in the database file or its write-ahead log.
  if (GetParam() == "sqlite") EXPECT_FALSE(in_files());
}

TEST_P(RedactionE2E, ADeletedContextsLastVersionCanBeRedacted) {
  auto made = as("ana", "POST", "/api/context",
                 std::string(R"({"agent_id":"ana","context_data":{"k":")") + kSecret + "\"}}");
  const std::string id(json::parse(made.body).at("id").as_string());
  ASSERT_EQ(as("ana", "DELETE", "/api/context/" + id).status, 204);
  // Version 2 is the delete (it carries the data), version 1 the create: both redacted.
  ASSERT_EQ(as("ana", "POST", "/api/context/" + id + "/versions/2/redact").status, 200);
  ASSERT_EQ(as("ana", "POST", "/api/context/" + id + "/versions/1/redact").status, 200);
  auto history = as("ana", "GET", "/api/context/" + id + "/history");
  EXPECT_EQ(history.body.find(kSecret), std::string::npos) << history.body;
  auto listed = as("ana", "GET", "/api/agent/ana/contexts?include_deleted=true");
  EXPECT_EQ(listed.body.find(kSecret), std::string::npos) << listed.body;
}

// Erasure of an agent (docs/memory-tool.md: Erasure): its contexts, versions, grants, selection
// records and tokens gone, its audit events kept (hashes and counts only), the chain verifying,
// a backup after it holding none of it; through REST and the CLI; admins only.
TEST_P(RedactionE2E, AnAgentIsErasedWithAReportOfWhatWent) {
  auto agent = c_->post("/api/agents", R"({"agent_id":"ana","display_name":"Ana Pérez"})");
  ASSERT_EQ(agent.status, 201) << agent.body;
  ASSERT_EQ(c_->post("/api/agents", R"({"agent_id":"bo"})").status, 201);
  auto first =
      as("ana", "POST", "/api/context",
         std::string(R"({"agent_id":"ana","context_data":{"note":")") + kSecret + R"( deploy"}})");
  ASSERT_EQ(first.status, 201);
  const std::string id(json::parse(first.body).at("id").as_string());
  ASSERT_EQ(as("ana", "PATCH", "/api/context/" + id, R"({"context_data":{"v":2}})").status, 200);
  ASSERT_EQ(
      as("ana", "POST", "/api/context", R"({"agent_id":"ana","context_data":{"x":1}})").status,
      201);
  ASSERT_EQ(as("ana", "POST", "/api/context/" + id + "/grants",
               R"({"agent_id":"bo","permission":"read"})")
                    .status /
                100,
            2);
  ASSERT_EQ(
      as("bo", "POST", "/api/agent/bo/grants", R"({"agent_id":"ana","permission":"read"})").status /
          100,
      2);
  ASSERT_EQ(as("ana", "POST", "/api/agent/ana/select", R"({"query":"deploy"})").status, 200);

  EXPECT_EQ(as("bo", "DELETE", "/api/agents/ana?erase=true").status, 403);
  EXPECT_EQ(c_->del("/api/agents/ana?erase=maybe").status, 400);
  auto erased = c_->del("/api/agents/ana?erase=true");  // trust mode, no header: the admin
  ASSERT_EQ(erased.status, 200) << erased.body;
  const auto report = json::parse(erased.body);
  EXPECT_EQ(report.at("contexts").as_int64(), 2);
  EXPECT_EQ(report.at("versions").as_int64(), 3);
  EXPECT_EQ(report.at("selections").as_int64(), 1);
  EXPECT_EQ(report.at("tokens").as_int64(), 1);
  EXPECT_EQ(report.at("grants").as_int64(), 2);

  EXPECT_EQ(c_->get("/api/context/" + id).status, 404);
  auto left = json::parse(c_->get("/api/agent/ana/contexts?include_deleted=true").body);
  EXPECT_EQ(left.at("items").as_array().size(), 0u);
  auto row = json::parse(c_->get("/api/agents/ana").body).at("agent");
  EXPECT_TRUE(row.at("disabled").as_bool());
  EXPECT_EQ(row.at("display_name").as_string(), "");
  auto selections = json::parse(c_->get("/api/agent/ana/selections").body);
  EXPECT_EQ(selections.at("items").as_array().size(), 0u);
  auto erase_events = json::parse(c_->get("/api/audit?action=agent.erase").body);
  ASSERT_EQ(erase_events.at("items").as_array().size(), 1u);
  EXPECT_EQ(erase_events.at("items").at(0).at("details").at("contexts").as_int64(), 2);
  auto audit = c_->get("/api/audit?limit=1000");
  EXPECT_EQ(audit.body.find(kSecret), std::string::npos);
  EXPECT_EQ(audit.body.find("Ana P"), std::string::npos);
  auto verify = c_->get("/api/audit/verify");
  EXPECT_TRUE(json::parse(verify.body).at("ok").as_bool()) << verify.body;
  const std::string out = server_->dir() + "/after-erase.ctxbak";
  ASSERT_EQ(
      ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "backup", "--out", out})
          .exit_code,
      0);
  EXPECT_EQ(ct::run_process({"/usr/bin/zgrep", "-c", kSecret, out}).out, "0\n");

  // The CLI does the same and prints the report.
  ASSERT_EQ(as("bo", "POST", "/api/context", R"({"agent_id":"bo","context_data":{"y":1}})").status,
            201);
  auto cli =
      ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "agent", "erase", "bo"});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(json::parse(cli.out).at("contexts").as_int64(), 1) << cli.out;
  EXPECT_EQ(
      ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "agent", "erase", "nobody"})
          .exit_code,
      1);
}

INSTANTIATE_TEST_SUITE_P(Backends, RedactionE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
