// The red-team findings of issue 17 at the HTTP boundary, each against a real server: DNS
// rebinding (Host and Origin in trust mode, Origin on changes in token mode), the origin forms a
// URL parser mistakes for loopback, request smuggling through Transfer-Encoding, slowloris
// (header timeout, per-address cap, room made for new clients), HEAD, a missing Host, the access
// log's agent in token mode, and MCP sessions bound to the agent that opened them.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "mcp_over_http.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

void expect_error(const ct::HttpReply& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  if (r.status == status) {
    EXPECT_EQ(json::parse(r.body).at("error").at("code").as_string(), code) << r.body;
  }
}

// Everything the server sends on `fd` until it closes the connection or `wait_ms` passes.
std::string read_until_closed(int fd, int wait_ms, bool* closed = nullptr) {
  timeval tv{wait_ms / 1000, (wait_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) {
      if (closed != nullptr) *closed = n == 0;
      return out;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

class HardeningE2E : public testing::Test {
 protected:
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  void start(ct::ServerOptions o = {}) {
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  std::string token_server(ct::ServerOptions o = {}) {
    o.service_yaml = "{auth: token}";
    server_ = std::make_unique<ct::Server>(o);
    server_->write_config();
    auto made = cli({"agent", "create", "root", "--role", "admin"});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    EXPECT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
    return made.out.substr(0, made.out.find('\n'));
  }
  ct::ProcessResult cli(std::vector<std::string> args) {
    args.insert(args.begin(), {CTXMGR_BIN, "--config", server_->config_path()});
    return ct::run_process(args);
  }
  std::string raw(const std::string& bytes) {
    return ct::HttpClient::raw(server_->port(), bytes, 2000);
  }

  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_F(HardeningE2E, TrustModeAnswersOnlyLoopbackHostsAndOrigins) {
  start();
  const std::string port = std::to_string(server_->port());
  // A page whose name was rebound to 127.0.0.1 sends its own name and origin.
  expect_error(client_->get("/api/agents", {{"Host", "attacker.example:" + port}}), 421,
               "misdirected_request");
  expect_error(client_->post("/api/context", R"({"agent_id":"a","context_data":{}})",
                             {{"Host", "attacker.example:" + port}}),
               421, "misdirected_request");
  expect_error(client_->get("/api/agents", {{"Origin", "http://attacker.example:" + port}}), 403,
               "forbidden");
  expect_error(client_->get("/healthz", {{"Host", "attacker.example"}}), 421,
               "misdirected_request");
  // The forms a URL parser reads as loopback are whole other names.
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1.evil.com", "127.0.0.1evil.com", "[::1].evil.com",
                                "localhost.evil.com", "LOCALHOST.evil.com:" + port, "127.1",
                                "0x7f.0.0.1", "evil.com#127.0.0.1", "a@127.0.0.1"}) {
    expect_error(client_->get("/api/me", {{"Host", host}}), 421, "misdirected_request");
  }
  // This machine's names, any port, any case.
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1", "127.0.0.1:" + port, "localhost:" + port,
                                "LocalHost:" + port, "[::1]:" + port, "127.9.8.7:1"}) {
    EXPECT_EQ(client_->get("/api/me", {{"Host", host}}).status, 200) << host;
  }
  EXPECT_EQ(client_->get("/api/me", {{"Origin", "http://localhost:3000"}}).status, 200);
  EXPECT_EQ(client_->get("/api/me", {{"Origin", "https://127.0.0.1"}}).status, 200);
  EXPECT_EQ(client_->get("/api/me", {{"Origin", "http://[::1]:" + port}}).status, 200);
  expect_error(client_->get("/api/me", {{"Origin", "null"}}), 403, "forbidden");
  // Nothing was created by the refused POST.
  EXPECT_EQ(client_->get("/api/agent/a/contexts").body.find("\"id\""), std::string::npos);
}

TEST_F(HardeningE2E, OriginsThatOnlyLookLikeLoopbackAreRefusedOnRestAndMcp) {
  start();
  const std::string mcp_init = ct::kMcpInitialize;
  for (const std::string base : {"127.0.0.1.evil.com", "127.0.0.1evil.com", "[::1].evil.com",
                                 "localhost.evil.com", "localhostevil.com"}) {
    for (const std::string scheme : {"http://", "HTTP://", "https://"}) {
      for (const std::string port : {"", ":5000", ":80"}) {
        std::string host = base;
        if (scheme == "HTTP://") {
          for (auto& c : host) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        const std::string origin = scheme + host + port;
        expect_error(client_->get("/api/me", {{"Origin", origin}}), 403, "forbidden");
        auto mcp =
            client_->post("/mcp", mcp_init,
                          {{"Origin", origin}, {"Accept", "application/json, text/event-stream"}});
        EXPECT_EQ(mcp.status, 403) << origin << " " << mcp.body;
        EXPECT_EQ(mcp.header("mcp-session-id"), "") << origin;
      }
    }
  }
  auto ok = client_->post(
      "/mcp", mcp_init,
      {{"Origin", "http://LOCALHOST:6274"}, {"Accept", "application/json, text/event-stream"}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_NE(ok.header("mcp-session-id"), "");
}

TEST_F(HardeningE2E, AllowedHostsAndOriginsComeFromTheConfig) {
  ct::ServerOptions o;
  o.http_options = "allowed_hosts: [ctx.example.com], allowed_origins: [\"https://app.example\"]";
  start(o);
  EXPECT_EQ(client_->get("/api/me", {{"Host", "ctx.example.com"}}).status, 200);
  EXPECT_EQ(client_->get("/api/me", {{"Host", "CTX.example.com:443"}}).status, 200);
  expect_error(client_->get("/api/me", {{"Host", "ctx.example.com.evil"}}), 421,
               "misdirected_request");
  EXPECT_EQ(client_->get("/api/me", {{"Origin", "https://app.example"}}).status, 200);
  expect_error(client_->get("/api/me", {{"Origin", "http://app.example"}}), 403, "forbidden");
  expect_error(client_->get("/api/me", {{"Origin", "https://app.example.evil"}}), 403, "forbidden");
}

TEST_F(HardeningE2E, TokenModeRefusesForeignOriginsOnChangesOnly) {
  const std::string root = token_server();
  const std::map<std::string, std::string> auth = {{"Authorization", "Bearer " + root}};
  auto with = [&](std::map<std::string, std::string> h) {
    h.insert(auth.begin(), auth.end());
    return h;
  };
  // No ambient credential exists, so a read from a foreign page learns nothing it lacked; a
  // change from one is refused all the same.
  EXPECT_EQ(client_->get("/api/me", with({{"Origin", "http://evil.example"}})).status, 200);
  EXPECT_EQ(client_->get("/api/me", with({{"Host", "evil.example"}})).status, 200);
  expect_error(client_->post("/api/context", R"({"agent_id":"root","context_data":{}})",
                             with({{"Origin", "http://evil.example"}})),
               403, "forbidden");
  EXPECT_EQ(client_->post("/api/context", R"({"agent_id":"root","context_data":{}})", auth).status,
            201);
  EXPECT_EQ(client_
                ->post("/api/context", R"({"agent_id":"root","context_data":{}})",
                       with({{"Origin", "http://localhost:8080"}}))
                .status,
            201);
}

TEST_F(HardeningE2E, ATransferEncodingNotEndingInChunkedIs400AndCloses) {
  start();
  for (const std::string te :
       {"identity", "gzip", "chunked, identity", "gzip, chunked, identity"}) {
    // The bytes a proxy took for the body must never run as a second request.
    const std::string smuggled = "GET /api/agents HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const std::string answer =
        raw("POST /api/context HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: " +
            te + "\r\n\r\n" + smuggled);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << te << "\n" << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
    EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << te << ": smuggled\n" << answer;
  }
  // Chunked beside Content-Length: refused too.
  const std::string both =
      raw("POST /api/context HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(both.rfind("HTTP/1.1 400", 0), 0u) << both;
  // Plain chunked still works.
  const std::string chunked =
      raw("POST /api/context HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
          "22\r\n{\"agent_id\":\"a\",\"context_data\":{}}\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 201", 0), 0u) << chunked;
}

TEST_F(HardeningE2E, HeadWorksWhereGetDoesAndHttp11NeedsAHost) {
  start();
  auto created = client_->post("/api/context", R"({"agent_id":"a","context_data":{"k":"v"}})");
  ASSERT_EQ(created.status, 201);
  const std::string id(json::parse(created.body).at("id").as_string());
  auto get = client_->get("/api/context/" + id);
  auto head = client_->request("HEAD", "/api/context/" + id);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.header("etag"), "\"1\"");
  EXPECT_EQ(head.header("content-length"), std::to_string(get.body.size()));
  EXPECT_EQ(client_->request("HEAD", "/healthz").status, 200);
  EXPECT_EQ(client_->request("HEAD", "/api/agent/a/contexts").status, 200);
  const std::string no_host = raw("GET /healthz HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.rfind("HTTP/1.1 400", 0), 0u) << no_host;
  EXPECT_NE(no_host.find("Host"), std::string::npos) << no_host;
  const std::string two_hosts = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(two_hosts.rfind("HTTP/1.1 400", 0), 0u) << two_hosts;
  const std::string http10 = raw("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_EQ(http10.rfind("HTTP/1.0 200", 0), 0u) << http10;
}

TEST_F(HardeningE2E, SlowlorisNeitherKeepsItsConnectionsNorLocksOthersOut) {
  ct::ServerOptions o;
  o.http_options = "max_connections: 20, max_connections_per_address: 1000, header_timeout_ms: 800";
  start(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the health check's is gone
  // Twenty connections that start a request and never finish its header fill the server.
  std::vector<int> slow;
  for (int i = 0; i < 20; ++i) {
    slow.push_back(ct::open_connection(server_->port()));
    ASSERT_GE(slow.back(), 0);
    const std::string part = "GET /healthz HTTP/1.1\r\nHost: 127";
    ASSERT_EQ(::write(slow.back(), part.data(), part.size()), static_cast<ssize_t>(part.size()));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // A health check still gets in: it takes the place of the oldest unfinished one.
  const std::string health = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(health.rfind("HTTP/1.1 200", 0), 0u) << health;
  // And every trickling connection is cut once its header is overdue.
  int closed_count = 0;
  for (int fd : slow) {
    bool closed = false;
    read_until_closed(fd, 3000, &closed);
    closed_count += closed ? 1 : 0;
    ::close(fd);
  }
  EXPECT_EQ(closed_count, 20);
}

TEST_F(HardeningE2E, OneAddressGetsAtMostItsShareOfConnections) {
  ct::ServerOptions o;
  o.http_options = "max_connections_per_address: 4";
  start(o);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(ct::open_connection(server_->port()));
    const std::string get = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ASSERT_EQ(::write(held.back(), get.data(), get.size()), static_cast<ssize_t>(get.size()));
    char buf[512];
    ASSERT_GT(::read(held.back(), buf, sizeof buf), 0);
  }
  const std::string refused = raw("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("from your address"), std::string::npos) << refused;
  EXPECT_NE(refused.find("Retry-After: 1"), std::string::npos) << refused;
  for (int fd : held) ::close(fd);
}

TEST_F(HardeningE2E, TokenModeAccessLogShowsTheAuthenticatedAgentNotTheHeader) {
  const std::string root = token_server();
  auto r = client_->get("/api/me", {{"Authorization", "Bearer " + root},
                                    {"X-Agent-Id", "somebody-else"},
                                    {"X-Request-Id", "req-token-1"}});
  ASSERT_EQ(r.status, 200);
  auto bad = client_->get("/api/me", {{"Authorization", "Bearer ctxm_nope"},
                                      {"X-Agent-Id", "somebody-else"},
                                      {"X-Request-Id", "req-token-2"}});
  ASSERT_EQ(bad.status, 401);
  std::string log;
  for (int i = 0; i < 100 && log.find("req-token-2") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = server_->log();
  }
  EXPECT_NE(log.find("agent=root peer=127.0.0.1 request_id=req-token-1"), std::string::npos) << log;
  EXPECT_NE(log.find("agent=- peer=127.0.0.1 request_id=req-token-2"), std::string::npos) << log;
  EXPECT_EQ(log.find("somebody-else"), std::string::npos) << log;
}

TEST_F(HardeningE2E, FailedAuthenticationIsSlowedPerAddressAndFoldedInTheAuditLog) {
  ct::ServerOptions o;
  o.http_options = "failed_auth_rate: 0.2, failed_auth_burst: 5";
  o.extra_yaml = "audit: {auth_failure_window_ms: 600000}\n";
  token_server(o);
  int unauthorized = 0, limited = 0;
  for (int i = 0; i < 12; ++i) {
    auto r = client_->get("/api/me", {{"Authorization", "Bearer ctxm_guess" + std::to_string(i)}});
    if (r.status == 401) ++unauthorized;
    if (r.status == 429) {
      ++limited;
      EXPECT_EQ(json::parse(r.body).at("error").at("code").as_string(), "rate_limited");
      EXPECT_GE(std::stoi(r.header("retry-after")), 1);
    }
  }
  EXPECT_EQ(unauthorized, 5);
  EXPECT_EQ(limited, 7);
  EXPECT_EQ(client_->get("/healthz").status, 200);  // health is never limited
  ASSERT_EQ(server_->stop(), 0);                    // writes the folded count
  // Five failures, two events: the first at once, the other four folded into one.
  auto rows =
      server_->sql("SELECT details FROM access_log WHERE action = 'auth.failed' ORDER BY seq");
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  EXPECT_EQ(rows.out,
            "{\"reason\":\"the token is not valid\"}\n"
            "{\"reason\":\"the token is not valid\",\"count\":4,\"folded\":true}\n");
}

TEST_F(HardeningE2E, McpSessionsBelongToTheAgentThatOpenedThem) {
  ct::ServerOptions o;
  o.http_options = "mcp_max_sessions_per_agent: 2";
  const std::string root = token_server(o);
  auto made =
      client_->post("/api/agents", R"({"agent_id":"bob"})", {{"Authorization", "Bearer " + root}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string bob(json::parse(made.body).at("token").as_string());
  const std::string init = ct::kMcpInitialize;
  const std::string list = R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})";
  auto as = [](const std::string& token, const std::string& session = "") {
    auto h = ct::mcp_headers({{"Authorization", "Bearer " + token}});
    if (!session.empty()) h["Mcp-Session-Id"] = session;
    return h;
  };
  const std::string roots = client_->post("/mcp", init, as(root)).header("mcp-session-id");
  ASSERT_NE(roots, "");
  EXPECT_EQ(client_->post("/mcp", list, as(root, roots)).status, 200);
  // Bob holds a valid token but not this session: not found, for use and for DELETE.
  EXPECT_EQ(client_->post("/mcp", list, as(bob, roots)).status, 404);
  EXPECT_EQ(client_->request("DELETE", "/mcp", "", as(bob, roots)).status, 404);
  EXPECT_EQ(client_->post("/mcp", list, as(root, roots)).status, 200);
  // Bob opening more sessions than his cap evicts only his own oldest.
  std::vector<std::string> bobs;
  for (int i = 0; i < 3; ++i) {
    bobs.push_back(client_->post("/mcp", init, as(bob)).header("mcp-session-id"));
    ASSERT_NE(bobs.back(), "");
  }
  EXPECT_EQ(client_->post("/mcp", list, as(bob, bobs[0])).status, 404);
  EXPECT_EQ(client_->post("/mcp", list, as(bob, bobs[2])).status, 200);
  EXPECT_EQ(client_->post("/mcp", list, as(root, roots)).status, 200);
  EXPECT_EQ(client_->request("DELETE", "/mcp", "", as(root, roots)).status, 200);
}

}  // namespace

namespace {

class StorageHardening : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    ct::ServerOptions o;
    o.backend = GetParam();
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(StorageHardening, StorageErrorsLogNoContextContents) {
  auto made = client_->post("/api/context",
                            R"({"agent_id":"a","context_data":{"api_key":"sk-live-PATCHME-77"}})");
  ASSERT_EQ(made.status, 201);
  const std::string id(json::parse(made.body).at("id").as_string());
  // Every insert and update of a context now fails inside the database.
  const std::string refuse = GetParam() == "sqlite"
                                 ? "CREATE TRIGGER refuse_insert BEFORE INSERT ON context BEGIN "
                                   "SELECT RAISE(ABORT, 'refused by the test'); END; "
                                   "CREATE TRIGGER refuse_update BEFORE UPDATE ON context BEGIN "
                                   "SELECT RAISE(ABORT, 'refused by the test'); END;"
                                 : "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                                   "$$BEGIN RAISE EXCEPTION 'refused by the test'; END$$; "
                                   "CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON context "
                                   "FOR EACH ROW EXECUTE FUNCTION refuse();";
  auto st = server_->sql(refuse);
  ASSERT_EQ(st.exit_code, 0) << st.err;
  auto created = client_->post(
      "/api/context", R"({"agent_id":"a","context_data":{"api_key":"sk-live-SECRET-0042"}})");
  EXPECT_GE(created.status, 500) << created.body;
  auto patched = client_->patch("/api/context/" + id,
                                R"({"context_data":{"api_key":"sk-live-PATCHED-0043"}})");
  EXPECT_GE(patched.status, 400) << patched.body;
  const std::string log = server_->log();
  EXPECT_NE(log.find("refused by the test"), std::string::npos) << log;  // the cause is logged
  for (const char* secret : {"sk-live-SECRET-0042", "sk-live-PATCHED-0043", "sk-live-PATCHME-77"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " reached the log:\n" << log;
    EXPECT_EQ(created.body.find(secret), std::string::npos);
    EXPECT_EQ(patched.body.find(secret), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageHardening, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(SqliteFiles, FolderAndDatabaseArePrivateWhateverTheUmask) {
  const std::string parent = ct::make_temp_dir();
  ct::ServerOptions o;
  o.sqlite_dir = parent + "/new/data";  // does not exist yet
  const mode_t old = ::umask(0);        // the server inherits the most permissive umask
  ct::Server server(o);
  const bool started = server.start();
  ::umask(old);
  ASSERT_TRUE(started) << server.log();
  struct stat folder {
  }, file{};
  ASSERT_EQ(::stat(o.sqlite_dir.c_str(), &folder), 0);
  ASSERT_EQ(::stat((o.sqlite_dir + "/context.db").c_str(), &file), 0);
  EXPECT_EQ(folder.st_mode & 07777, 0700u);
  EXPECT_EQ(file.st_mode & 07777, 0600u);
  struct stat wal {};
  if (::stat((o.sqlite_dir + "/context.db-wal").c_str(), &wal) == 0) {
    EXPECT_EQ(wal.st_mode & 077, 0u);
  }
  EXPECT_EQ(server.log().find("may be read by other users"), std::string::npos);
  EXPECT_EQ(server.stop(), 0);
  // Opened by hand to all: the next start says so.
  ::chmod((o.sqlite_dir + "/context.db").c_str(), 0644);
  ct::Server again(o);
  ASSERT_TRUE(again.start()) << again.log();
  EXPECT_NE(again.log().find("context.db may be read by other users (mode 0644)"),
            std::string::npos)
      << again.log();
  EXPECT_EQ(again.stop(), 0);
  std::filesystem::remove_all(parent);
}

// A port already taken is an error the operator reads, and the server exits cleanly: what was
// already running (webhooks, seals, batches) stops in order. It used to abort ("pure virtual
// method called": the webhook dispatcher read the time from a clock already destroyed).
TEST(ServerStart, APortAlreadyTakenExitsWithAnErrorNotACrash) {
  ct::Server first(ct::ServerOptions{});
  ASSERT_TRUE(first.start()) << first.log();
  ASSERT_EQ(first.stop(), 0);
  ASSERT_TRUE(first.start()) << first.log();  // its config now names the port it holds
  const auto second = ct::run_process({CTXMGR_BIN, "--config", first.config_path(), "serve"});
  const std::string log = second.out + second.err;
  EXPECT_EQ(second.exit_code, 1) << log;
  EXPECT_NE(log.find("transport 'http' failed to start: cannot listen on 127.0.0.1:" +
                     std::to_string(first.port())),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("pure virtual"), std::string::npos) << log;
  EXPECT_EQ(first.stop(), 0);
}

}  // namespace
