// POST /api/agent/{agent_id}/process through a real server on every backend, with the offline
// provider (it answers with exactly what it was sent): which contexts reach the prompt (the
// selected and the named ones the agent may read; never another agent's unshared one), the
// rendered context block, request validation, provider choice, and the audit event.

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class ProcessE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  }
  void start(const std::string& providers = "[{plugin: offline}]") {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.extra_yaml = "audit: {reads: sync}\n";
    o.providers_yaml = providers;
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  static std::map<std::string, std::string> as(const std::string& agent) {
    return {{"X-Agent-Id", agent}};
  }
  std::string create(const std::string& agent, const std::string& data) {
    auto r =
        client_->post("/api/context",
                      R"({"agent_id":")" + agent + R"(","context_data":)" + data + "}", as(agent));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  ct::HttpReply process(const std::string& agent, const std::string& body,
                        const std::string& caller = "") {
    return client_->post("/api/agent/" + agent + "/process", body,
                         as(caller.empty() ? agent : caller));
  }
  void expect_error(const ct::HttpReply& r, int status, const std::string& code,
                    const std::string& message = "") {
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status != status) return;
    const auto e = json::parse(r.body).at("error");
    EXPECT_EQ(e.at("code").as_string(), code) << r.body;
    EXPECT_NE(std::string(e.at("message").as_string()).find(message), std::string::npos) << r.body;
  }

  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(ProcessE2E, TheSelectedAndNamedContextsReachThePromptAndNothingElse) {
  start();
  const auto billing = create("alice", R"({"nota":"migración de facturación el lunes"})");
  const auto lunch = create("alice", R"({"nota":"almuerzo del equipo"})");
  const auto secret = create("bob", R"({"nota":"facturación secreta de bob"})");
  auto r = process("alice", R"({"system":"Be brief.","model":"m-1","max_tokens":77,
      "temperature":0.2,"messages":[{"role":"user","content":"¿Qué hay de facturación?"}],
      "context":{"query":"facturacion","context_ids":[")" +
                                lunch + R"("]}})");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto answer = json::parse(r.body).as_object();
  EXPECT_EQ(answer.at("provider").as_string(), "offline");
  EXPECT_EQ(answer.at("model").as_string(), "m-1");
  EXPECT_EQ(answer.at("stop_reason").as_string(), "offline");
  EXPECT_GT(answer.at("usage").at("input_tokens").as_int64(), 0);
  EXPECT_GT(answer.at("selection_id").as_int64(), 0);
  // Named first, then selected; bob's unshared context never.
  const auto ids = answer.at("context_ids").as_array();
  ASSERT_EQ(ids.size(), 2u) << r.body;
  EXPECT_EQ(ids[0].as_string(), lunch);
  EXPECT_EQ(ids[1].as_string(), billing);
  // What the provider was sent.
  const auto sent = json::parse(answer.at("output_text").as_string()).as_object();
  EXPECT_EQ(sent.at("system").as_string(), "Be brief.");
  EXPECT_EQ(sent.at("max_tokens").as_int64(), 77);
  EXPECT_DOUBLE_EQ(sent.at("temperature").as_double(), 0.2);
  EXPECT_EQ(sent.at("messages").at(0).at("content").as_string(), "¿Qué hay de facturación?");
  const std::string context(sent.at("context").as_string());
  EXPECT_EQ(context.find("<context id=\"" + lunch + "\" owner=\"alice\" version=\"1\""), 0u)
      << context;
  EXPECT_NE(context.find("<data>{\"nota\":\"migración de facturación el lunes\"}</data>"),
            std::string::npos);
  EXPECT_NE(context.find("<metadata>{}</metadata>"), std::string::npos);
  EXPECT_EQ(context.find(secret), std::string::npos);
  EXPECT_EQ(context.find("secreta"), std::string::npos);

  // bob's context by id: as absent as a read of it would be.
  expect_error(process("alice", R"({"messages":[{"role":"user","content":"x"}],
      "context":{"context_ids":[")" +
                                    secret + R"("]}})"),
               404, "not_found", secret);
  // Shared, it may go in.
  ASSERT_EQ(client_
                ->post("/api/context/" + secret + "/grants",
                       R"({"agent_id":"alice","permission":"read"})", as("bob"))
                .status,
            201);
  auto shared = process("alice", R"({"messages":[{"role":"user","content":"x"}],
      "context":{"context_ids":[")" + secret +
                                     R"("]}})");
  ASSERT_EQ(shared.status, 200) << shared.body;
  EXPECT_EQ(json::parse(shared.body).at("context_ids").at(0).as_string(), secret);

  // Only alice or an admin processes with alice's context; the admin sees what alice sees.
  expect_error(process("alice", R"({"messages":[{"role":"user","content":"x"}]})", "bob"), 403,
               "forbidden");
  auto admin = process("alice", R"({"messages":[{"role":"user","content":"x"}],
      "context":{"query":"secreta","include_shared":false}})",
                       "admin");
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_TRUE(json::parse(admin.body).at("context_ids").as_array().empty());

  // The audit event names provider, model, contexts and usage.
  auto audit = client_->get("/api/audit?action=process", as("admin"));
  const auto events = json::parse(audit.body).at("items").as_array();
  ASSERT_GE(events.size(), 2u);
  const auto& first = events.back().at("details");
  EXPECT_EQ(first.at("provider").as_string(), "offline");
  EXPECT_EQ(first.at("model").as_string(), "m-1");
  EXPECT_EQ(first.at("context_ids").as_array().size(), 2u);
  EXPECT_GT(first.at("usage").at("input_tokens").as_int64(), 0);
}

TEST_P(ProcessE2E, BadRequestsAndProviderChoice) {
  start("[{plugin: offline}, {plugin: offline, name: dry, options: {default_model: dry-1}}]");
  const std::pair<std::string, std::string> cases[] = {
      {R"({})", "messages is required"},
      {R"({"messages":[]})", "messages is required"},
      {R"({"messages":[{"role":"system","content":"x"}]})", "role: user|assistant"},
      {R"({"messages":[{"role":"user","content":1}]})", "content: string"},
      {R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})", "max_tokens"},
      {R"({"messages":[{"role":"user","content":"x"}],"temperature":3})", "temperature"},
      {R"({"messages":[{"role":"user","content":"x"}],"provider":"nope"})",
       "provider 'nope' is not configured; configured: offline, dry"},
      {R"({"messages":[{"role":"user","content":"x"}],"context":{"context_ids":["x"]}})",
       "context id"},
      {R"({"messages":[{"role":"user","content":"x"}],"context":{"token_budget":9}})",
       "need a query"},
      {R"({"messages":[{"role":"user","content":"x"}],"context":{"query":"x","limit":0}})",
       "limit"},
      {R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})", "stream must be"},
      {R"({"messages":[],"stream":true})", "messages is required"},  // refused before streaming
      {R"({"messages":[{"role":"user","content":"x"}],"extra":1})", "extra"},
  };
  for (const auto& [body, message] : cases) {
    expect_error(process("alice", body), 400, "invalid_request", message);
  }
  auto dry = process("alice", R"({"provider":"dry","messages":[{"role":"user","content":"x"}]})");
  ASSERT_EQ(dry.status, 200) << dry.body;
  EXPECT_EQ(json::parse(dry.body).at("model").as_string(), "dry-1");
  EXPECT_EQ(json::parse(dry.body).at("provider").as_string(), "dry");
}

TEST_P(ProcessE2E, AStreamedAnswerIsDeltaEventsThenDone) {
  start();
  const auto id = create("alice", R"({"nota":"facturación"})");
  auto r = process("alice", R"({"stream":true,"messages":[{"role":"user","content":"hola"}],
      "context":{"query":"facturacion"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_FALSE(r.header("x-request-id").empty());
  // The offline provider sends its whole text as one delta; then `done` with the answer.
  ASSERT_EQ(r.body.rfind("event: delta\ndata: {\"text\":", 0), 0u) << r.body;
  const auto done = r.body.find("event: done\ndata: ");
  ASSERT_NE(done, std::string::npos) << r.body;
  const auto data_start = done + std::string("event: done\ndata: ").size();
  const auto end = r.body.find("\n\n", data_start);
  ASSERT_EQ(end + 2, r.body.size());  // done is the last event
  const auto answer = json::parse(r.body.substr(data_start, end - data_start)).as_object();
  EXPECT_EQ(answer.at("context_ids").at(0).as_string(), id);
  const auto delta_data =
      r.body.substr(std::string("event: delta\ndata: ").size(),
                    r.body.find("\n\n") - std::string("event: delta\ndata: ").size());
  EXPECT_EQ(json::parse(delta_data).at("text").as_string(), answer.at("output_text").as_string());
  // The server goes on serving, and the stream is audited as one.
  auto audit = client_->get("/api/audit?action=process", as("admin"));
  ASSERT_EQ(audit.status, 200);
  EXPECT_TRUE(json::parse(audit.body).at("items").at(0).at("details").at("stream").as_bool());
}

TEST_P(ProcessE2E, NoProviderIsA503) {
  start("");
  expect_error(process("alice", R"({"messages":[{"role":"user","content":"x"}]})"), 503,
               "unavailable", "no provider is configured");
}

INSTANTIATE_TEST_SUITE_P(Backends, ProcessE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
