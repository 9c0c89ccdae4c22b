// The crash drill: cycles of `kill -9` under a mixed write load on each backend. Every write the
// server acknowledged (2xx) must be there after the restarts, at its version, with its whole
// history, and the audit chain must verify. CTXMGR_DRILL_CYCLES sets the number (default 20).

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

int cycles() {
  const char* v = std::getenv("CTXMGR_DRILL_CYCLES");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : 20;
}

// What the server acknowledged about one context.
struct Acked {
  std::int64_t version = 0;  // the newest acknowledged version
  std::string marker;        // the value of "m" that version wrote
  bool deleted = false;      // the newest acknowledged change was a delete
};

class CrashDrill : public testing::TestWithParam<std::string> {};

TEST_P(CrashDrill, KillNineLosesNoAcknowledgedWrite) {
  if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  ct::ServerOptions o;
  o.backend = GetParam();
  ct::Server server(o);
  std::mutex mu;
  std::map<std::string, Acked> acked;
  std::int64_t acknowledged_writes = 0;
  std::mt19937 rng(42);

  for (int cycle = 0; cycle < cycles(); ++cycle) {
    ASSERT_TRUE(server.start()) << "cycle " << cycle << "\n" << server.log();
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 3; ++w) {
      writers.emplace_back([&, w] {
        ct::HttpClient c(server.port());
        std::string mine;  // the context this writer patches
        for (int i = 0; !stop; ++i) {
          const std::string marker =
              std::to_string(cycle) + "." + std::to_string(w) + "." + std::to_string(i);
          if (mine.empty() || i % 4 == 0) {
            auto r = c.post("/api/context",
                            R"({"agent_id":"drill","context_data":{"m":")" + marker + R"("}})");
            if (r.status != 201) break;  // the server is gone
            mine = std::string(json::parse(r.body).at("id").as_string());
            std::lock_guard lock(mu);
            acked[mine] = {1, marker, false};
            ++acknowledged_writes;
          } else if (i % 11 == 0) {
            auto r = c.del("/api/context/" + mine);
            if (r.status != 204) break;
            std::lock_guard lock(mu);
            ++acked[mine].version;
            acked[mine].deleted = true;
            ++acknowledged_writes;
            mine.clear();
          } else {
            auto r = c.patch("/api/context/" + mine, R"({"context_data":{"m":")" + marker +
                                                         R"(","n":)" + std::to_string(i) + "}}");
            if (r.status != 200) break;
            const auto v = json::parse(r.body).at("version").as_int64();
            std::lock_guard lock(mu);
            acked[mine] = {v, marker, false};
            ++acknowledged_writes;
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 350));
    server.kill9();
    stop = true;
    for (auto& t : writers) t.join();
  }

  ASSERT_TRUE(server.start()) << server.log();
  ct::HttpClient c(server.port());
  std::int64_t lost = 0;
  for (const auto& [id, a] : acked) {
    auto h = c.get("/api/context/" + id + "/history?limit=1000");
    if (h.status != 200) {
      ++lost;
      ADD_FAILURE() << "acknowledged context " << id << " v" << a.version << ": " << h.status;
      continue;
    }
    const auto history = json::parse(h.body);
    const auto& items = history.at("items").as_array();
    ASSERT_GE(static_cast<std::int64_t>(items.size()), a.version) << id;
    // Gapless: newest first, versions N..1.
    for (std::size_t k = 0; k < items.size(); ++k) {
      EXPECT_EQ(items[k].at("version").as_int64(), static_cast<std::int64_t>(items.size() - k))
          << id;
    }
    const auto& then = items[items.size() - static_cast<std::size_t>(a.version)];
    if (a.deleted) {
      EXPECT_EQ(then.at("action").as_string(), "delete") << id;
      EXPECT_EQ(c.get("/api/context/" + id).status, 404) << id;
    } else {
      // The acknowledged version holds what it wrote (a later, unacknowledged write may have
      // landed too: the context may be newer).
      EXPECT_EQ(then.at("context_data").at("m").as_string(), a.marker) << id;
      auto cur = c.get("/api/context/" + id);
      if (cur.status == 404) {
        // A delete the server made but could not acknowledge before it died.
        EXPECT_GT(static_cast<std::int64_t>(items.size()), a.version) << id;
        EXPECT_EQ(items[0].at("action").as_string(), "delete") << id;
      } else {
        ASSERT_EQ(cur.status, 200) << id;
        EXPECT_GE(json::parse(cur.body).at("version").as_int64(), a.version) << id;
      }
    }
  }
  EXPECT_EQ(server.stop(), 0);
  auto seal = ct::run_process({CTXMGR_BIN, "--config", server.config_path(), "audit", "seal"});
  EXPECT_EQ(seal.exit_code, 0) << seal.err;
  auto verify = ct::run_process({CTXMGR_BIN, "--config", server.config_path(), "audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_EQ(lost, 0);
  // The figures for docs/reliability.md.
  std::cout << "[ drill    ] " << GetParam() << ": " << cycles() << " kill -9 cycles, "
            << acknowledged_writes << " acknowledged writes on " << acked.size() << " contexts, "
            << lost << " lost; " << verify.out;
  EXPECT_GT(acknowledged_writes, cycles() * 10);
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashDrill, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
