// POST /api/agent/{id}/select through a real server on every backend: whose contexts come back
// (own, shared only with include_shared, never another agent's unshared, never deleted or
// expired), limit and token budget always held, the scores of each component, request
// validation, the query's translation, and the algorithm engine's record of each selection.

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class SelectE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    ct::ServerOptions o;
    o.backend = GetParam();
    o.extra_yaml = "audit: {reads: sync}\n";
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
  std::string create(const std::string& agent, const std::string& data,
                     const std::string& meta = "{}") {
    auto r = client_->post(
        "/api/context",
        R"({"agent_id":")" + agent + R"(","context_data":)" + data + R"(,"metadata":)" + meta + "}",
        as(agent));
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  json::object select(const std::string& agent, const std::string& body,
                      const std::string& caller = "", int status = 200) {
    auto r =
        client_->post("/api/agent/" + agent + "/select", body, as(caller.empty() ? agent : caller));
    EXPECT_EQ(r.status, status) << r.body;
    return json::parse(r.body).as_object();
  }
  static std::vector<std::string> ids(const json::object& answer) {
    std::vector<std::string> out;
    for (const auto& item : answer.at("items").as_array()) {
      out.emplace_back(item.at("context").at("id").as_string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  void expect_error(const ct::HttpReply& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    if (r.status == status) {
      EXPECT_EQ(json::parse(r.body).at("error").at("code").as_string(), code) << r.body;
    }
  }

  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(SelectE2E, OnlyWhatTheAgentMayReadAndNeverDeletedOrExpired) {
  const auto own = create("alice", R"({"proyecto":"alfa, la migración"})");
  const auto secret = create("bob", R"({"proyecto":"alfa secreto de bob"})");
  const auto shared = create("bob", R"({"proyecto":"alfa compartido"})");
  const auto carol = create("carol", R"({"proyecto":"alfa de carol"})");
  const auto gone = create("alice", R"({"proyecto":"alfa borrado"})");
  create("alice", R"({"proyecto":"alfa caducado"})", R"({"expires_at":"2020-01-01T00:00:00Z"})");
  const auto later =
      create("alice", R"({"proyecto":"alfa vigente"})", R"({"expires_at":"2999-01-01T00:00:00Z"})");
  ASSERT_EQ(client_
                ->post("/api/context/" + shared + "/grants",
                       R"({"agent_id":"alice","permission":"read"})", as("bob"))
                .status,
            201);
  ASSERT_EQ(client_
                ->post("/api/agent/carol/grants", R"({"agent_id":"alice","permission":"write"})",
                       as("carol"))
                .status,
            201);
  ASSERT_EQ(client_->del("/api/context/" + gone, as("alice")).status, 204);

  std::vector<std::string> expected{own, shared, carol, later};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(ids(select("alice", R"({"query":"ALFA"})")), expected);
  std::vector<std::string> mine{own, later};
  std::sort(mine.begin(), mine.end());
  EXPECT_EQ(ids(select("alice", R"({"query":"alfa","include_shared":false})")), mine);
  // An admin selects over alice's view as alice would; bob may not.
  EXPECT_EQ(ids(select("alice", R"({"query":"alfa"})", "admin")), expected);
  expect_error(client_->post("/api/agent/alice/select", R"({"query":"alfa"})", as("bob")), 403,
               "forbidden");
  // bob's own view has his two, and nothing of alice's.
  std::vector<std::string> bobs{secret, shared};
  std::sort(bobs.begin(), bobs.end());
  EXPECT_EQ(ids(select("bob", R"({"query":"alfa"})")), bobs);
}

TEST_P(SelectE2E, LimitAndTokenBudgetAlwaysHold) {
  for (int i = 0; i < 12; ++i) {
    create("alice", R"({"tema":"backup nocturno )" + std::to_string(i) + R"("})",
           i % 3 == 0 ? R"({"priority":"high"})" : "{}");
  }
  // Most relevant and large: skipped whole when it does not fit, smaller ones still come.
  const auto big = create("alice", R"({"tema":"backup backup backup backup nocturno nocturno",)"
                                   R"("detalle":")" +
                                       std::string(4000, 'x') + R"("})");
  auto five = select("alice", R"({"query":"backup nocturno","limit":5})");
  ASSERT_EQ(five.at("items").as_array().size(), 5u);
  EXPECT_TRUE(five.at("truncated").as_bool());
  EXPECT_EQ(five.at("items").at(0).at("context").at("id").as_string(), big);
  double previous = 2;
  std::int64_t sum = 0;
  for (const auto& item : five.at("items").as_array()) {
    const double score = item.at("score").to_number<double>();
    EXPECT_LE(score, previous);  // best first
    previous = score;
    const auto& scores = item.at("scores").as_object();
    EXPECT_EQ(scores.size(), 3u);
    for (const char* c : {"keyword", "priority", "recency"}) {
      const double v = scores.at(c).to_number<double>();
      EXPECT_GE(v, 0);
      EXPECT_LE(v, 1);
    }
    // The documented estimator: ceil(bytes of the context's JSON / 4).
    const auto tokens = item.at("tokens").as_int64();
    EXPECT_EQ(tokens, static_cast<std::int64_t>(std::ceil(
                          static_cast<double>(json::serialize(item.at("context")).size()) / 4)));
    sum += tokens;
  }
  EXPECT_EQ(five.at("total_tokens").as_int64(), sum);

  auto budget = select("alice", R"({"query":"backup nocturno","token_budget":200,"limit":50})");
  EXPECT_LE(budget.at("total_tokens").as_int64(), 200);
  EXPECT_TRUE(budget.at("truncated").as_bool());
  ASSERT_FALSE(budget.at("items").as_array().empty());
  for (const auto& item : budget.at("items").as_array()) {
    EXPECT_NE(item.at("context").at("id").as_string(), big);
  }
  auto all = select("alice", R"({"query":"backup","limit":50})");
  EXPECT_EQ(all.at("items").as_array().size(), 13u);
  EXPECT_FALSE(all.at("truncated").as_bool());
  // Filters and a single selector.
  auto high = select("alice", R"({"query":"backup","filter":{"priority":"high"},"limit":50})");
  EXPECT_EQ(high.at("items").as_array().size(), 4u);
  auto recency = select("alice", R"({"query":"backup","selector":"recency","limit":3})");
  EXPECT_EQ(recency.at("selector").as_string(), "recency");
  EXPECT_EQ(recency.at("items").at(0).at("scores").as_object().size(), 1u);
  EXPECT_EQ(recency.at("items").at(0).at("context").at("id").as_string(), big);  // the newest
}

TEST_P(SelectE2E, BadRequestsAreRefusedWithTheReason) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({})", "query is required"},
      {R"({"query":7})", "query must be a string"},
      {R"({"query":"x","limit":0})", "limit must be between 1 and 1000"},
      {R"({"query":"x","limit":1001})", "limit must be between 1 and 1000"},
      {R"({"query":"x","token_budget":-1})", "token_budget must be between"},
      {R"({"query":"x","include_shared":"yes"})", "include_shared must be true or false"},
      {R"({"query":"x","expand":1})", "expand must be true or false"},
      {R"({"query":"x","fusion":"max"})", "fusion must be weighted or rank"},
      {R"({"query":"x","filter":{"priority":"urgent"}})", "filter.priority must be high"},
      {R"({"query":"x","filter":{"tags":"a"}})", "filter.tags must be an array of strings"},
      {R"({"query":"x","filter":{"owner":"a"}})", "filter.owner is not a known field"},
      {R"({"query":"x","selector":"magic"})",
       "selector 'magic' is not configured; configured: "
       "hybrid, keyword, priority, recency"},
      {R"({"query":"x","surprise":1})", "surprise"},
      {R"({"query":"?!  ..."})", "query has no words"},
      {R"({"query":)", "JSON"},
  };
  for (const auto& [body, message] : cases) {
    auto r = client_->post("/api/agent/alice/select", body, as("alice"));
    expect_error(r, 400, "invalid_request");
    EXPECT_NE(r.body.find(message), std::string::npos) << body << " -> " << r.body;
  }
  expect_error(client_->get("/api/agent/alice/select", as("alice")), 405, "method_not_allowed");
}

TEST_P(SelectE2E, TheQueryIsAlsoSearchedInTheOtherLanguage) {
  // FreeDict's spa-eng has seguridad -> safety, security.
  const auto english = create("alice", R"({"topic":"security review of the login page"})");
  create("alice", R"({"topic":"lunch menu"})");
  auto translated = select("alice", R"({"query":"seguridad"})");
  EXPECT_EQ(ids(translated), std::vector<std::string>{english});
  auto literal = select("alice", R"({"query":"seguridad","translate":false})");
  EXPECT_TRUE(literal.at("items").as_array().empty());
}

TEST_P(SelectE2E, EverySelectionIsRecordedAndAudited) {
  const auto id = create("alice", R"({"nota":"reunión de facturación"})");
  auto first = select("alice", R"({"query":"facturacion","limit":3})");
  auto second = select("alice", R"({"query":"reunion"})");
  const auto sel = first.at("selection_id").as_int64();
  EXPECT_GT(second.at("selection_id").as_int64(), sel);

  auto rec = client_->get("/api/selections/" + std::to_string(sel), as("alice"));
  ASSERT_EQ(rec.status, 200) << rec.body;
  const auto r = json::parse(rec.body).as_object();
  EXPECT_EQ(r.at("agent_id").as_string(), "alice");
  EXPECT_EQ(r.at("query").as_string(), "facturacion");
  EXPECT_EQ(r.at("selector").as_string(), "hybrid");
  EXPECT_EQ(r.at("params").at("limit").as_int64(), 3);
  EXPECT_EQ(r.at("params").at("words").at(0).as_string(), "facturacion");
  EXPECT_EQ(r.at("params").at("weights").as_object().size(), 3u);
  ASSERT_EQ(r.at("results").as_array().size(), 1u);
  EXPECT_EQ(r.at("results").at(0).at("id").as_string(), id);
  EXPECT_EQ(r.at("results").at(0).at("version").as_int64(), 1);

  auto list = client_->get("/api/agent/alice/selections?limit=1", as("alice"));
  ASSERT_EQ(list.status, 200) << list.body;
  const auto page = json::parse(list.body).as_object();
  EXPECT_EQ(page.at("items").at(0).at("id").as_int64(), second.at("selection_id").as_int64());
  const std::string cursor(page.at("next_cursor").as_string());
  auto next = client_->get("/api/agent/alice/selections?cursor=" + cursor, as("alice"));
  EXPECT_EQ(json::parse(next.body).at("items").at(0).at("id").as_int64(), sel);

  expect_error(client_->get("/api/selections/" + std::to_string(sel), as("bob")), 404, "not_found");
  expect_error(client_->get("/api/agent/alice/selections", as("bob")), 403, "forbidden");
  expect_error(client_->get("/api/selections/abc", as("alice")), 400, "invalid_request");
  EXPECT_EQ(client_->get("/api/selections/" + std::to_string(sel), as("admin")).status, 200);

  auto audit = client_->get("/api/audit?action=select", as("admin"));
  ASSERT_EQ(audit.status, 200);
  const auto events = json::parse(audit.body).at("items").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].at("agent_id").as_string(), "alice");
  EXPECT_EQ(events[1].at("details").at("selection_id").as_int64(), sel);
}

TEST_P(SelectE2E, SqliteRebuildsTheIndexWhenRowidsWereRenumbered) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "a SQLite matter";
  const auto a = create("alice", R"({"nota":"renumerado primero"})");
  const auto b = create("alice", R"({"nota":"renumerado segundo"})");
  ASSERT_EQ(server_->stop(), 0);
  // What a VACUUM may do: new rowids for `context`. The triggers go while it happens (the plain
  // sqlite3 shell has no `ctxmgr` tokenizer) and come back as they were.
  auto triggers = server_->sql(
      "SELECT sql || ';' FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'context_fts_%';");
  ASSERT_EQ(triggers.exit_code, 0) << triggers.err;
  auto renumber = server_->sql(
      "DROP TRIGGER context_fts_insert; DROP TRIGGER context_fts_update; DROP TRIGGER "
      "context_fts_delete; UPDATE context SET rowid = rowid + 1000; " +
      triggers.out);
  ASSERT_EQ(renumber.exit_code, 0) << renumber.err;
  ASSERT_TRUE(server_->start()) << server_->log();
  client_ = std::make_unique<ct::HttpClient>(server_->port());
  EXPECT_NE(server_->log().find("rebuilding it"), std::string::npos);
  std::vector<std::string> both{a, b};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(ids(select("alice", R"({"query":"renumerado"})")), both);
  // And the index follows changes again.
  ASSERT_EQ(
      client_->patch("/api/context/" + a, R"({"context_data":{"nota":"cambiado"}})", as("alice"))
          .status,
      200);
  EXPECT_EQ(ids(select("alice", R"({"query":"renumerado"})")), std::vector<std::string>{b});
  EXPECT_EQ(ids(select("alice", R"({"query":"cambiado"})")), std::vector<std::string>{a});
}

// storage-postgres sets jit = off on its connections unless `jit: true` (docs/storage-postgres.md).
// Seen from PostgreSQL itself: on a database of its own where every query is JIT-compiled
// (jit_above_cost 0) and auto_explain logs each plan, a selection through the server leaves
// plans without a "JIT:" section; with `jit: true` the same selection's plan has one.
TEST(PostgresJit, OffUnlessTheOptionAsksForIt) {
  const char* admin = std::getenv("CTXMGR_TEST_PG_DSN");
  const char* dir = std::getenv("CTXMGR_TEST_PG_DIR");
  if (admin == nullptr || dir == nullptr) GTEST_SKIP() << "no PostgreSQL here";
  const std::string db = "ctxmgr_jit_" + std::to_string(::getpid());
  std::string dsn = admin;
  dsn = dsn.substr(0, dsn.rfind('/') + 1) + db;  // pg-temp's DSNs end with the database name
  auto psql = [&](const std::string& sql) {
    return ct::run_process({"/usr/bin/psql", "-v", "ON_ERROR_STOP=1", "-qAt", admin, "-c", sql});
  };
  for (const auto* sql :
       {"DROP DATABASE IF EXISTS {db}", "CREATE DATABASE {db}",
        "ALTER DATABASE {db} SET session_preload_libraries = 'auto_explain'",
        "ALTER DATABASE {db} SET auto_explain.log_min_duration = 0",
        "ALTER DATABASE {db} SET auto_explain.log_analyze = on",
        "ALTER DATABASE {db} SET jit_above_cost = 0", "ALTER DATABASE {db} SET jit = on"}) {
    std::string text = sql;
    text.replace(text.find("{db}"), 4, db);
    auto r = psql(text);
    ASSERT_EQ(r.exit_code, 0) << text << ": " << r.err;
  }
  const std::string log_path = std::string(dir) + "/server.log";
  // What PostgreSQL logs while a server on that database creates a context and selects it.
  auto plans_of_a_selection = [&](const std::string& storage_options) {
    const auto from = std::filesystem::file_size(log_path);
    ct::ServerOptions o;
    o.backend = "postgres";
    o.pg_dsn = dsn;
    o.storage_options = storage_options;
    ct::Server server(o);
    EXPECT_TRUE(server.start()) << server.log();
    ct::HttpClient client(server.port());
    const std::map<std::string, std::string> as{{"X-Agent-Id", "alice"}};
    EXPECT_EQ(
        client.post("/api/context", R"({"agent_id":"alice","context_data":{"nota":"jitazo"}})", as)
            .status,
        201);
    auto r = client.post("/api/agent/alice/select", R"({"query":"jitazo"})", as);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(server.stop(), 0) << server.log();  // an abort at stop shows its report
    std::ifstream in(log_path);
    in.seekg(static_cast<std::streamoff>(from));
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const auto off = plans_of_a_selection("");
  EXPECT_NE(off.find("Query Text:"), std::string::npos) << "auto_explain logged no plan";
  EXPECT_EQ(off.find("JIT:"), std::string::npos) << off;
  const auto on = plans_of_a_selection("jit: true");
  EXPECT_NE(on.find("JIT:"), std::string::npos) << on;
  auto dropped = psql("DROP DATABASE " + db + " WITH (FORCE)");
  EXPECT_EQ(dropped.exit_code, 0) << dropped.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, SelectE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
