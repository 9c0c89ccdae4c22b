// Behind PgBouncer in transaction mode (docs/storage-postgres.md): the change listener's LISTEN,
// sent through the pooler, hears nothing, yet its session answers queries. The listener must
// notice — its own probe notifications never come back — and vouch for nothing, so tokens,
// grants and contexts are read from the database on every request instead of from caches that
// no change would ever reach. With `listen_url` pointing at the database itself, the caches work.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "process.hpp"
#include "server.hpp"
#include "unique_name.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

constexpr const char* kPgBouncer = "/usr/sbin/pgbouncer";

class PoolerE2E : public testing::Test {
 protected:
  void SetUp() override {
    const char* dsn = std::getenv("CTXMGR_TEST_PG_DSN");
    if (dsn == nullptr || !ct::Server::available("postgres") ||
        !std::filesystem::exists(kPgBouncer)) {
      GTEST_SKIP() << "no PostgreSQL or no pgbouncer here";
    }
    // postgresql://user@host:port/db
    std::smatch m;
    const std::string text(dsn);
    ASSERT_TRUE(std::regex_match(text, m, std::regex(R"(postgresql://(\w+)@([\d.]+):(\d+)/(\w+))")))
        << text;
    user_ = m[1];
    db_ = m[4];
    direct_ = text;
    dir_ = ct::make_temp_dir();
    ::chmod(dir_.c_str(), 0777);  // pgbouncer runs as postgres when the tests run as root
    std::vector<std::string> argv = {kPgBouncer, dir_ + "/pgbouncer.ini"};
    // pgbouncer refuses to run as root; setpriv execs it as postgres (no process in between).
    if (::getuid() == 0) {
      argv.insert(argv.begin(),
                  {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups"});
    }
    ct::write_file(dir_ + "/users.txt", "\"" + user_ + "\" \"\"\n");
    // pgbouncer cannot say which port 0 gave it: a free port is picked here, and picked again
    // when a process beside this test took it first (pgbouncer then exits without "process up").
    for (int attempt = 0; attempt < 5 && !bouncer_up(); ++attempt) {
      port_ = ct::free_port();
      ct::write_file(
          dir_ + "/pgbouncer.ini",
          "[databases]\n" + db_ + " = host=" + std::string(m[2]) + " port=" + std::string(m[3]) +
              " dbname=" + db_ +
              "\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = " + std::to_string(port_) +
              "\nunix_socket_dir =\nauth_type = trust\nauth_file = " + dir_ +
              "/users.txt\npool_mode = transaction\ndefault_pool_size = 20\n" +
              "logfile = " + dir_ + "/pgbouncer.log\n");
      std::filesystem::remove(dir_ + "/pgbouncer.log");
      bouncer_ = std::make_unique<ct::ChildProcess>(argv, std::map<std::string, std::string>{},
                                                    dir_ + "/stderr.txt", dir_);
      ct::time_until([&] { return !bouncer_->running() || bouncer_up(); },
                     std::chrono::milliseconds(10000));
    }
    ASSERT_TRUE(bouncer_up()) << ct::read_file(dir_ + "/stderr.txt")
                              << ct::read_file(dir_ + "/pgbouncer.log");
    pooled_ = "postgresql://" + user_ + "@127.0.0.1:" + std::to_string(port_) + "/" + db_;
    const bool up =
        ct::time_until(
            [&] {
              return ct::run_process({"/usr/bin/psql", pooled_, "-tAc", "SELECT 1"}).out == "1\n";
            },
            std::chrono::milliseconds(10000))
            .has_value();
    ASSERT_TRUE(up) << ct::read_file(dir_ + "/stderr.txt")
                    << ct::read_file(dir_ + "/pgbouncer.log");
  }
  // Our pgbouncer runs and has bound its port.
  bool bouncer_up() const {
    return bouncer_ && bouncer_->running() &&
           ct::read_file(dir_ + "/pgbouncer.log").find("process up") != std::string::npos;
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
    server_.reset();
    bouncer_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // A server whose storage goes through the pooler; `listen_url` empty: its listener too.
  void start(const std::string& listen_url) {
    ct::ServerOptions o;
    o.backend = "postgres";
    o.pg_dsn = pooled_;
    o.storage_options = "prepared_statements: false" +
                        (listen_url.empty() ? std::string() : ", listen_url: '" + listen_url + "'");
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
  }
  // Context-cache hits over reads of one context for two seconds (time for a listener to vouch).
  double hits_while_reading() {
    ct::HttpClient c(server_->port());
    auto made = c.post("/api/context", R"({"agent_id":"ana","context_data":{"k":1}})");
    EXPECT_EQ(made.status, 201) << made.body;
    const std::string id(json::parse(made.body).at("id").as_string());
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      EXPECT_EQ(c.get("/api/context/" + id).status, 200);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ct::sample(c.get("/metrics").body, "ctxmgr_context_cache_lookups_total{result=\"hit\"}");
  }

  std::string user_, db_, direct_, pooled_, dir_;
  int port_ = 0;
  std::unique_ptr<ct::ChildProcess> bouncer_;
  std::unique_ptr<ct::Server> server_;
};

TEST_F(PoolerE2E, AListenerBehindATransactionPoolerVouchesForNothing) {
  start("");
  EXPECT_EQ(hits_while_reading(), 0.0) << "a cache was trusted that no change could reach";
}

TEST_F(PoolerE2E, AListenerOnTheDatabaseItselfKeepsTheCachesWorking) {
  start(direct_);
  EXPECT_GT(hits_while_reading(), 0.0);
}

}  // namespace
