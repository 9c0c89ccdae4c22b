// The access log: one line per request (method, path, route, status, duration, agent, request
// id) in the log file, never a token; SIGHUP reopens the file after logrotate moved it.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until `path` holds `text` (the log is written by another process).
bool eventually_contains(const std::string& path, const std::string& text) {
  for (int i = 0; i < 100; ++i) {
    if (read(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(AccessLog, OneLinePerRequestAndSighupReopensTheFile) {
  ct::ServerOptions o;
  const std::string dir = ct::make_temp_dir();
  const std::string file = dir + "/ctxmgr.log";
  o.log_file = file;
  ct::Server server(o);
  ASSERT_TRUE(server.start());
  ct::HttpClient client(server.port());
  auto created = client.post("/api/context", R"({"agent_id":"alice","context_data":{"a":1}})",
                             {{"X-Agent-Id", "alice"}, {"X-Request-Id", "req-created-1"}});
  ASSERT_EQ(created.status, 201);
  ASSERT_EQ(client.get("/api/context/nope?version=1", {{"X-Request-Id", "req-bad-2"}}).status, 400);
  EXPECT_TRUE(eventually_contains(file,
                                  "request method=POST path=/api/context route=context "
                                  "status=201 duration_ms="));
  // Lines of a burst wait up to 20 ms in the sink's buffer (kernel/src/log/log_sink.hpp).
  EXPECT_TRUE(eventually_contains(file, "request_id=req-bad-2"));
  const std::string log = read(file);
  EXPECT_NE(log.find("agent=alice peer=127.0.0.1 request_id=req-created-1"), std::string::npos)
      << log;
  // The query is not logged; no header names an agent: trust mode's admin.
  EXPECT_NE(log.find("request method=GET path=/api/context/nope route=context_id status=400"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("agent=admin peer=127.0.0.1 request_id=req-bad-2"), std::string::npos) << log;
  EXPECT_EQ(log.find("version=1"), std::string::npos);

  // logrotate: move the file away, SIGHUP, and the next lines go to a new file of that name.
  std::filesystem::rename(file, file + ".1");
  server.signal(SIGHUP);
  EXPECT_TRUE(eventually_contains(file, "log file reopened"));
  ASSERT_EQ(client.get("/healthz", {{"X-Request-Id", "req-after-3"}}).status, 200);
  // A request that does not authenticate (health) shows no agent.
  EXPECT_TRUE(eventually_contains(file, "agent=- peer=127.0.0.1 request_id=req-after-3"));
  EXPECT_EQ(read(file + ".1").find("req-after-3"), std::string::npos);
  EXPECT_EQ(server.stop(), 0);  // SIGHUP did not stop it; SIGTERM does
  std::filesystem::remove_all(dir);
}

}  // namespace
