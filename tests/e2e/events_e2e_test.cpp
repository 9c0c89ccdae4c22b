// GET /api/events through a real server on every backend, read by a plain-socket SSE client:
// order and ids, filters, access at delivery time (a revoked grant stops a context's events),
// resuming with Last-Event-ID and ?after= with nothing lost or repeated, a client that stops
// reading, the stream limits, bad requests, and two servers on one PostgreSQL.

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "process.hpp"
#include "server.hpp"
#include "sse_client.hpp"
#include "unique_name.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

std::vector<std::string> header_as(const std::string& agent) { return {"X-Agent-Id: " + agent}; }

json::object data_of(const ct::SseEvent& e) { return json::parse(e.data).as_object(); }

class EventsE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  }
  void start(const std::string& extra_yaml = "", const std::string& http = "") {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.extra_yaml = extra_yaml;
    o.http_options = http;
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  std::unique_ptr<ct::SseClient> stream(const std::string& agent, const std::string& query = "",
                                        std::vector<std::string> headers = {}) {
    headers.push_back("X-Agent-Id: " + agent);
    auto s = std::make_unique<ct::SseClient>(server_->port(), "/api/events" + query, headers);
    EXPECT_EQ(s->status(), 200) << s->body();
    return s;
  }
  std::string create(const std::string& agent, const std::string& data = R"({"k":1})") {
    auto r = client_->post("/api/context",
                           R"({"agent_id":")" + agent + R"(","context_data":)" + data + "}",
                           {{"X-Agent-Id", agent}});
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  void update(const std::string& agent, const std::string& id, int k) {
    auto r =
        client_->patch("/api/context/" + id, R"({"context_data":{"k":)" + std::to_string(k) + "}}",
                       {{"X-Agent-Id", agent}});
    EXPECT_EQ(r.status, 200) << r.body;
  }
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(EventsE2E, ChangesArriveInOrderWithTheirSeqAsIdAndNothingOfTheContent) {
  start();
  auto alice = stream("alice");
  EXPECT_NE(alice->head().find("Content-Type: text/event-stream"), std::string::npos);
  const auto id = create("alice", R"({"secret":"the launch code"})");
  update("alice", id, 2);
  create("bob");  // not alice's to see
  ASSERT_EQ(client_->del("/api/context/" + id, {{"X-Agent-Id", "alice"}}).status, 204);
  auto got = alice->take(3, 10000);
  ASSERT_EQ(got.size(), 3u);
  const char* actions[] = {"create", "update", "delete"};
  std::int64_t last = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].data.find("launch code"), std::string::npos) << got[i].data;
    const auto e = data_of(got[i]);
    EXPECT_EQ(e.at("action").as_string(), actions[i]);
    EXPECT_EQ(e.at("context_id").as_string(), id);
    EXPECT_EQ(e.at("agent_id").as_string(), "alice");
    EXPECT_EQ(e.at("actor").as_string(), "alice");
    EXPECT_EQ(e.at("version").as_int64(), static_cast<std::int64_t>(i) + 1);
    EXPECT_EQ(got[i].id, std::to_string(e.at("seq").as_int64()));
    EXPECT_GT(e.at("seq").as_int64(), last);
    last = e.at("seq").as_int64();
  }
  EXPECT_FALSE(alice->next(500).has_value()) << "bob's create reached alice";
  // The admin sees everyone's.
  auto admin = stream("admin", "?after=0");
  EXPECT_EQ(admin->take(4, 10000).size(), 4u);
}

TEST_P(EventsE2E, FiltersByOwnerContextAndAction) {
  start();
  auto updates = stream("admin", "?action=update,revert");
  auto bobs = stream("admin", "?agent_id=bob");
  const auto a = create("alice");
  const auto b = create("bob");
  auto one = stream("admin", "?context_id=" + a + "&after=0");
  update("alice", a, 2);
  update("bob", b, 2);
  auto u = updates->take(2, 10000);
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(data_of(u[0]).at("context_id").as_string(), a);
  EXPECT_EQ(data_of(u[1]).at("context_id").as_string(), b);
  auto bo = bobs->take(2, 10000);
  ASSERT_EQ(bo.size(), 2u);
  for (const auto& e : bo) EXPECT_EQ(data_of(e).at("agent_id").as_string(), "bob");
  auto on = one->take(2, 10000);
  ASSERT_EQ(on.size(), 2u);
  EXPECT_EQ(data_of(on[0]).at("action").as_string(), "create");
  EXPECT_EQ(data_of(on[1]).at("action").as_string(), "update");
  EXPECT_FALSE(one->next(300).has_value());
}

TEST_P(EventsE2E, AGrantShowsAContextAndItsRevocationHidesItAgain) {
  start();
  const auto id = create("alice");
  auto bob = stream("bob");
  auto put = client_->post("/api/context/" + id + "/grants",
                           R"({"agent_id":"bob","permission":"read"})", {{"X-Agent-Id", "alice"}});
  ASSERT_EQ(put.status, 201) << put.body;
  update("alice", id, 2);
  auto seen = bob->take(2, 10000);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(data_of(seen[0]).at("action").as_string(), "grant");
  EXPECT_EQ(data_of(seen[0]).at("grantee").as_string(), "bob");
  EXPECT_EQ(data_of(seen[1]).at("action").as_string(), "update");
  ASSERT_EQ(client_->del("/api/context/" + id + "/grants/bob", {{"X-Agent-Id", "alice"}}).status,
            204);
  update("alice", id, 3);
  const auto own = create("bob");  // bob's own: it must come right after the revocation
  auto after = bob->take(2, 10000);
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(data_of(after[0]).at("action").as_string(), "revoke");
  EXPECT_EQ(data_of(after[1]).at("context_id").as_string(), own) << after[1].data;
}

TEST_P(EventsE2E, AResumeMissesNothingAndRepeatsNothing) {
  start();
  auto first = stream("alice");
  const auto id = create("alice");
  update("alice", id, 2);
  auto two = first->take(2, 10000);
  ASSERT_EQ(two.size(), 2u);
  first->close();
  for (int k = 3; k <= 5; ++k) update("alice", id, k);
  // An EventSource's reconnection: Last-Event-ID.
  auto again = stream("alice", "", {"Last-Event-ID: " + two[1].id});
  auto rest = again->take(3, 10000);
  ASSERT_EQ(rest.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(data_of(rest[i]).at("version").as_int64(), i + 3);
  EXPECT_FALSE(again->next(300).has_value());
  // ?after= says the same, and wins over the header.
  auto by_query = stream("alice", "?after=" + two[0].id, {"Last-Event-ID: " + rest[2].id});
  auto all = by_query->take(4, 10000);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].id, two[1].id);
  EXPECT_EQ(all[3].id, rest[2].id);
}

// With nobody following (no stream, no webhook) the feed reads nothing of the log — on a busy
// server that log is mostly audited reads — and a stream opened later still gets everything it
// asks for, from the log.
TEST_P(EventsE2E, AFeedNobodyFollowsReadsNothingAndALaterStreamMissesNothing) {
  start("events: {poll_ms: 50}\n");
  auto feed_seq = [&] {
    return ct::sample(client_->get("/metrics").body, "ctxmgr_event_feed_seq");
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double before = feed_seq();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(create("alice"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // ten polls
  EXPECT_EQ(feed_seq(), before) << "the feed read the log with nobody following it";
  auto from_start = stream("alice", "?after=0");
  auto got = from_start->take(3, 10000);
  ASSERT_EQ(got.size(), 3u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(data_of(got[i]).at("context_id").as_string(), ids[i]);
  }
  auto from_now = stream("alice");
  const auto later = create("alice");
  auto next = from_now->take(1, 10000);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(data_of(next[0]).at("context_id").as_string(), later);
  EXPECT_EQ(from_start->take(1, 10000).size(), 1u);
  EXPECT_TRUE(ct::time_until([&] { return feed_seq() > before; }, std::chrono::seconds(5)));
}

TEST_P(EventsE2E, AClientThatStopsReadingIsEndedWithWhereToResumeAndWritersGoOn) {
  start("events: {buffer_bytes: 4096, stall_ms: 300}\n");
  ct::SseClient slow(server_->port(), "/api/events", header_as("alice"), 4096);
  ASSERT_EQ(slow.status(), 200);
  const auto id = create("alice");
  // Far more than the socket buffers and the stream's 4 KiB hold; every write is answered.
  const int updates = 900;
  for (int k = 2; k <= updates + 1; ++k) update("alice", id, k);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the stall passes
  std::set<std::string> ids;
  std::optional<ct::SseEvent> overflow;
  while (auto e = slow.next(5000)) {
    if (e->event == "overflow") {
      overflow = e;
      break;
    }
    EXPECT_TRUE(ids.insert(e->id).second) << "repeated " << e->id;
  }
  ASSERT_TRUE(overflow.has_value()) << ids.size() << " events, no overflow";
  EXPECT_FALSE(slow.next(2000).has_value());
  EXPECT_TRUE(slow.closed());
  const auto resume = std::to_string(data_of(*overflow).at("resume_after").as_int64());
  EXPECT_LT(ids.size(), static_cast<std::size_t>(updates + 1));
  // Resuming where it said gets the rest: every change exactly once.
  auto rest = stream("alice", "?after=" + resume);
  while (ids.size() < static_cast<std::size_t>(updates + 1)) {
    auto e = rest->next(5000);
    if (!e) break;
    EXPECT_TRUE(ids.insert(e->id).second) << "repeated " << e->id;
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(updates + 1));
  EXPECT_GE(ct::sample(client_->get("/metrics").body, "ctxmgr_event_streams_overflowed_total"), 1);
}

TEST_P(EventsE2E, StreamLimitsPerAgentAndInAll) {
  start("events: {max_streams: 3, max_streams_per_agent: 2}\n");
  auto a1 = stream("alice");
  auto a2 = stream("alice");
  ct::SseClient a3(server_->port(), "/api/events", header_as("alice"));
  EXPECT_EQ(a3.status(), 429);
  EXPECT_NE(a3.body().find("rate_limited"), std::string::npos);
  auto b1 = stream("bob");
  ct::SseClient b2(server_->port(), "/api/events", header_as("bob"));
  EXPECT_EQ(b2.status(), 429);
  // The feed's thread publishes its gauges after each pass.
  EXPECT_TRUE(
      ct::time_until(
          [&] { return ct::sample(client_->get("/metrics").body, "ctxmgr_event_streams") == 3; },
          std::chrono::milliseconds(5000))
          .has_value());
  // A stream that ends gives its place back once the server notices the client left.
  a1->close();
  const bool reopened =
      ct::time_until(
          [&] {
            ct::SseClient again(server_->port(), "/api/events", header_as("alice"));
            return again.status() == 200;
          },
          std::chrono::milliseconds(10000))
          .has_value();
  EXPECT_TRUE(reopened);
}

TEST_P(EventsE2E, BadRequestsAreRefusedWithTheErrorBody) {
  start();
  for (const char* q : {"?after=-1", "?after=abc", "?action=read", "?context_id=nope",
                        "?agent_id=", "?colour=red", "?after=1&after=2"}) {
    ct::SseClient bad(server_->port(), std::string("/api/events") + q, header_as("alice"));
    EXPECT_EQ(bad.status(), 400) << q;
    EXPECT_NE(bad.body().find("invalid_request"), std::string::npos) << q;
  }
  ct::SseClient header(server_->port(), "/api/events",
                       {"X-Agent-Id: alice", "Last-Event-ID: twelve"});
  EXPECT_EQ(header.status(), 400);
  EXPECT_EQ(client_->post("/api/events", "{}", {{"X-Agent-Id", "alice"}}).status, 405);
  // Trust mode: a page from another site gets no stream.
  ct::SseClient foreign(server_->port(), "/api/events",
                        {"X-Agent-Id: alice", "Origin: http://evil.example"});
  EXPECT_EQ(foreign.status(), 403);
  EXPECT_NE(foreign.body().find("\"error\""), std::string::npos);
  // HEAD answers the head alone (a stream would never end).
  auto head = client_->request("HEAD", "/api/events", {}, {{"X-Agent-Id", "alice"}});
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-type").rfind("text/event-stream", 0), 0u);
}

TEST_P(EventsE2E, TokenModeAsksForAToken) {
  start("service: {auth: token}\n");
  ct::SseClient none(server_->port(), "/api/events");
  EXPECT_EQ(none.status(), 401);
  ct::SseClient bad(server_->port(), "/api/events", {"Authorization: Bearer ctxm_nope"});
  EXPECT_EQ(bad.status(), 401);
}

TEST_P(EventsE2E, DisablingTheAgentEndsItsStreams) {
  ct::ServerOptions o;
  o.backend = GetParam();
  o.service_yaml = "{auth: token}";
  server_ = std::make_unique<ct::Server>(o);
  server_->write_config();
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {CTXMGR_BIN, "--config", server_->config_path()});
    auto r = ct::run_process(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  };
  const auto root = cli({"agent", "create", "root", "--role", "admin"});
  const auto alice = cli({"agent", "create", "alice"});
  ASSERT_TRUE(server_->start()) << server_->log();
  client_ = std::make_unique<ct::HttpClient>(server_->port());
  ct::SseClient sse(server_->port(), "/api/events", {"Authorization: Bearer " + alice});
  ASSERT_EQ(sse.status(), 200) << sse.body();
  auto made = client_->post("/api/context", R"({"agent_id":"alice","context_data":{}})",
                            {{"Authorization", "Bearer " + alice}});
  ASSERT_EQ(made.status, 201) << made.body;
  ASSERT_TRUE(sse.next(10000).has_value());
  ASSERT_EQ(client_->del("/api/agents/alice", {{"Authorization", "Bearer " + root}}).status, 204);
  auto end = sse.next(10000);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->event, "end");
  EXPECT_NE(end->data.find("agent alice is disabled"), std::string::npos) << end->data;
  EXPECT_FALSE(sse.next(5000).has_value());
  EXPECT_TRUE(sse.closed());
}

TEST_P(EventsE2E, TheFeedCanBeTurnedOff) {
  start("events: {enabled: false}\n");
  ct::SseClient off(server_->port(), "/api/events", header_as("alice"));
  EXPECT_EQ(off.status(), 503);
  EXPECT_NE(off.body().find("events.enabled"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, EventsE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// Two servers on one PostgreSQL: a change committed through one reaches a stream on the other.
// Their polls are a minute apart, so what delivers it is PostgreSQL's notification
// (13_change_notify) waking the other server's feed.
TEST(EventsAcrossServers, AChangeOnOneServerReachesAStreamOnTheOther) {
  if (!ct::Server::available("postgres")) GTEST_SKIP() << "no PostgreSQL here";
  ct::ServerOptions o;
  o.backend = "postgres";
  o.pg_schema = ct::unique_name("events");
  o.extra_yaml = "events: {poll_ms: 60000}\n";
  ct::Server writer(o), reader(o);
  ASSERT_TRUE(writer.start()) << writer.log();
  ASSERT_TRUE(reader.start()) << reader.log();
  ct::SseClient sse(reader.port(), "/api/events", header_as("alice"));
  ASSERT_EQ(sse.status(), 200);
  ct::HttpClient c(writer.port());
  auto made = c.post("/api/context", R"({"agent_id":"alice","context_data":{"k":1}})",
                     {{"X-Agent-Id", "alice"}});
  ASSERT_EQ(made.status, 201) << made.body;
  auto e = sse.next(10000);
  ASSERT_TRUE(e.has_value()) << reader.log();
  EXPECT_EQ(data_of(*e).at("context_id").as_string(), json::parse(made.body).at("id").as_string());
  // And the other way round, for a change another agent may see through a grant.
  ct::SseClient bob(writer.port(), "/api/events", header_as("bob"));
  ASSERT_EQ(bob.status(), 200);
  ct::HttpClient r(reader.port());
  const std::string id(json::parse(made.body).at("id").as_string());
  ASSERT_EQ(r.post("/api/context/" + id + "/grants", R"({"agent_id":"bob","permission":"read"})",
                   {{"X-Agent-Id", "alice"}})
                .status,
            201);
  // Access is checked at delivery: if the create was not yet delivered when the grant came,
  // bob may see it too. The grant comes in any case.
  std::optional<ct::SseEvent> g;
  while ((g = bob.next(10000)) && data_of(*g).at("action").as_string() != "grant") {
    EXPECT_EQ(data_of(*g).at("action").as_string(), "create");
  }
  ASSERT_TRUE(g.has_value()) << writer.log();
  EXPECT_EQ(data_of(*g).at("context_id").as_string(), id);
}

}  // namespace
