// The context cache (docs/storage-postgres.md, docs/storage-sqlite.md): a context read by id is
// kept in memory, yet every read sees every write acknowledged before it — by this server,
// another one or plain SQL (psql, the sqlite3 shell) — and nothing kept is trusted while the
// server cannot learn of changes.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "server.hpp"
#include "unique_name.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

using ct::sample;
using ct::time_until;
using std::chrono::milliseconds;

struct Lookups {
  double hit = 0, miss = 0, bypass = 0;
};

Lookups lookups(ct::HttpClient& c) {
  const std::string body = c.get("/metrics").body;
  auto of = [&](const char* result) {
    return sample(body,
                  std::string("ctxmgr_context_cache_lookups_total{result=\"") + result + "\"}");
  };
  return {of("hit"), of("miss"), of("bypass")};
}

// The `k` of a context as server `c` reads it; -1 for a 404, -2 for anything else.
int k_of(ct::HttpClient& c, const std::string& id) {
  auto r = c.get("/api/context/" + id);
  if (r.status == 404) return -1;
  if (r.status != 200) return -2;
  return static_cast<int>(json::parse(r.body).at("context_data").at("k").as_int64());
}

class ContextCacheE2E : public testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      for (auto& s : servers_) {
        if (s) std::cerr << "--- server log ---\n" << s->log();
      }
    }
  }
  // Trust-mode servers on one PostgreSQL schema (or one SQLite file).
  bool start(int count, const std::string& backend, const std::string& service = "{}") {
    if (!ct::Server::available(backend)) return false;
    ct::ServerOptions o;
    o.backend = backend;
    o.service_yaml = service;
    o.pg_schema = ct::unique_name("ccache");
    for (int i = 0; i < count; ++i) {
      if (i == 1 && backend == "sqlite") o.sqlite_dir = servers_[0]->dir();
      servers_.push_back(std::make_unique<ct::Server>(o));
      EXPECT_TRUE(servers_.back()->start()) << servers_.back()->log();
    }
    return true;
  }
  ct::HttpClient client(int i) {
    return ct::HttpClient(servers_[static_cast<std::size_t>(i)]->port());
  }
  std::string create(ct::HttpClient& c) {
    auto r = c.post("/api/context", R"({"agent_id":"ana","context_data":{"k":1}})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  // Reads `id` until a read is answered from memory (the listener may still be catching up with
  // the server's start and the context's creation, which drop the cache): true within 2 s.
  bool cached(ct::HttpClient& c, const std::string& id) {
    return time_until(
               [&] {
                 const double before = lookups(c).hit;
                 return k_of(c, id) >= 0 && lookups(c).hit > before;
               },
               milliseconds(2000))
        .has_value();
  }

  void reads_from_memory_and_own_writes_at_once(const std::string& backend);
  void a_change_elsewhere_is_read_at_once(const std::string& backend);

  std::vector<std::unique_ptr<ct::Server>> servers_;
};

void ContextCacheE2E::reads_from_memory_and_own_writes_at_once(const std::string& backend) {
  if (!start(1, backend)) GTEST_SKIP() << "no " << backend << " here";
  auto c = client(0);
  const std::string id = create(c);
  ASSERT_TRUE(cached(c, id));
  const Lookups before = lookups(c);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(k_of(c, id), 1);
  EXPECT_GE(lookups(c).hit - before.hit, 4.0);  // one may be a miss if a notification just landed
  for (int k = 2; k <= 5; ++k) {
    ASSERT_EQ(c.patch("/api/context/" + id, "{\"context_data\":{\"k\":" + std::to_string(k) + "}}")
                  .status,
              200);
    EXPECT_EQ(k_of(c, id), k) << "a server must read its own write at once";
  }
  ASSERT_EQ(c.del("/api/context/" + id).status, 204);
  EXPECT_EQ(k_of(c, id), -1);
}

TEST_F(ContextCacheE2E, ReadsComeFromMemoryAndEachServerReadsItsOwnWritesAtOnce) {
  reads_from_memory_and_own_writes_at_once("postgres");
}

TEST_F(ContextCacheE2E, OnSqliteReadsComeFromMemoryAndItsOwnWritesAreReadAtOnce) {
  reads_from_memory_and_own_writes_at_once("sqlite");
}

// Reads that reached the server together share one check for changes (ContextApi's
// set_received_at): four GETs pipelined in one write are answered after one round trip to the
// change listener, not four — each of the last three arrived before the first one's check began.
TEST_F(ContextCacheE2E, ReadsPipelinedTogetherShareOneCheck) {
  if (!start(1, "postgres")) GTEST_SKIP() << "no PostgreSQL here";
  auto c = client(0);
  const std::string id = create(c);
  ASSERT_TRUE(cached(c, id));
  auto checks = [&](const char* result) {
    return sample(c.get("/metrics").body,
                  std::string("ctxmgr_context_cache_checks_total{result=\"") + result + "\"}");
  };
  const double asked = checks("asked"), shared = checks("shared");
  const std::string get = "GET /api/context/" + id + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  const std::string reply = ct::HttpClient::raw(
      servers_[0]->port(),
      get + "\r\n" + get + "\r\n" + get + "\r\n" + get + "Connection: close\r\n\r\n", 3000);
  std::size_t answered = 0;
  for (auto at = reply.find("HTTP/1.1 200 OK"); at != std::string::npos;
       at = reply.find("HTTP/1.1 200 OK", at + 1)) {
    ++answered;
  }
  ASSERT_EQ(answered, 4u) << reply;
  EXPECT_EQ(checks("asked") - asked, 1.0);
  EXPECT_EQ(checks("shared") - shared, 3.0);
}

// ARCHITECTURE.md: no in-process cache may make one process serve stale data after another
// wrote. On PostgreSQL each read waits for the storage's barrier (one round trip shared by
// concurrent reads); on SQLite it looks at the WAL index's header, which every commit rewrites
// before it returns. So a write acknowledged by one server — or made by plain SQL — is read at
// once on the other, even though that server had the old version in memory.
void ContextCacheE2E::a_change_elsewhere_is_read_at_once(const std::string& backend) {
  if (!start(2, backend)) GTEST_SKIP() << "no " << backend << " here";
  auto a = client(0);
  auto b = client(1);
  const std::string id = create(a);
  for (int k = 2; k <= 21; ++k) {
    ASSERT_TRUE(cached(b, id)) << "round " << k;
    auto& writer = k % 2 == 0 ? a : b;
    ASSERT_EQ(
        writer.patch("/api/context/" + id, "{\"context_data\":{\"k\":" + std::to_string(k) + "}}")
            .status,
        200);
    EXPECT_EQ(k_of(b, id), k) << "server 1 served a version older than an acknowledged write";
    EXPECT_EQ(k_of(a, id), k);
  }
  // Not through any server: the row's trigger notifies (the commit rewrites the header) all the
  // same.
  ASSERT_TRUE(cached(b, id));
  auto r = servers_[0]->sql(
      "UPDATE context SET context_data = '{\"k\":99,\"fruta\":\"zanahoria\"}', version = 99 "
      "WHERE id = '" +
      id + "';");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(k_of(b, id), 99);
  // The sqlite3 shell has no ctxmgr tokenizer: its change's triggers only noted the row, and the
  // next commit of a server indexes it (schemas/sqlite/18_search_deferred.sql).
  (void)create(a);
  const auto found = b.post("/api/agent/ana/select", R"({"query":"zanahoria"})");
  ASSERT_EQ(found.status, 200) << found.body;
  EXPECT_NE(found.body.find(id), std::string::npos) << found.body;

  ASSERT_TRUE(cached(b, id));
  ASSERT_EQ(a.del("/api/context/" + id + "?purge=true").status, 204);
  EXPECT_EQ(k_of(b, id), -1) << "server 1 served a purged context";
}

TEST_F(ContextCacheE2E, AChangeOnAnotherServerOrBySqlIsReadAtOnce) {
  a_change_elsewhere_is_read_at_once("postgres");
}

TEST_F(ContextCacheE2E, OnSqliteAChangeByAnotherProcessIsReadAtOnce) {
  a_change_elsewhere_is_read_at_once("sqlite");
}

// A change the cache is never told of (its trigger is gone) is served no longer than the TTL.
TEST_F(ContextCacheE2E, AChangeNoOneIsToldOfLastsNoLongerThanTheTtl) {
  if (!start(1, "postgres", "{context_cache: {ttl_ms: 1500}}")) GTEST_SKIP() << "no PostgreSQL";
  auto c = client(0);
  const std::string id = create(c);
  ASSERT_TRUE(cached(c, id));
  auto r = servers_[0]->sql(
      "DROP TRIGGER context_changes ON context; "
      "UPDATE context SET context_data = '{\"k\":7}' WHERE id = '" +
      id + "';");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto took = time_until([&] { return k_of(c, id) == 7; }, milliseconds(8000));
  ASSERT_TRUE(took.has_value()) << "a change is still hidden by the cache after 8 s";
  EXPECT_LE(took->count(), 2000);
}

// A notification sent while the listener was disconnected is lost: while it is down nothing
// cached is used, and once it is back what was cached before is dropped.
TEST_F(ContextCacheE2E, AListenerThatReconnectsDropsWhatItCached) {
  if (!start(1, "postgres", "{context_cache: {ttl_ms: 600000}}")) GTEST_SKIP() << "no PostgreSQL";
  auto c = client(0);
  const std::string id = create(c);
  ASSERT_TRUE(cached(c, id));
  auto r = servers_[0]->sql(
      "DROP TRIGGER context_changes ON context; "
      "UPDATE context SET context_data = '{\"k\":8}' WHERE id = '" +
      id +
      "'; "
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
      "WHERE application_name = 'ctxmgr-listener:' || current_schema();");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto took = time_until([&] { return k_of(c, id) == 8; }, milliseconds(5000));
  ASSERT_TRUE(took.has_value()) << "the cache survived its listener's reconnect";
  EXPECT_LE(took->count(), 1500);
  // And once the listener is back, reads come from memory again.
  EXPECT_TRUE(cached(c, id));
}

}  // namespace
