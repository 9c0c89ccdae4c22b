// Webhooks through a real server on every backend, delivering to a real HTTP receiver on
// loopback (tests/support/webhook_receiver.hpp): signatures and the timestamp, order, retries
// after a 500 and after a timeout, a receiver down then up, the delivery log, the SSRF rule at
// registration and at delivery, who may register and see what, and two servers on one
// PostgreSQL delivering each event once.

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "observe.hpp"
#include "server.hpp"
#include "unique_name.hpp"
#include "webhook_receiver.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "a-secret-of-32-characters-or-so!";

std::string hmac_hex(const std::string& key, const std::string& body) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), out, &n);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += digits[out[i] >> 4];
    hex += digits[out[i] & 15];
  }
  return hex;
}

json::object event_of(const ct::ReceivedPost& p) {
  return json::parse(p.body).as_object().at("event").as_object();
}

std::int64_t seq_of(const ct::ReceivedPost& p) { return event_of(p).at("seq").as_int64(); }

class WebhooksE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
  }
  void start(const std::string& extra_yaml = "") {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.extra_yaml = extra_yaml;
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  ct::HttpReply add_webhook(const std::string& agent, const std::string& body) {
    return client_->post("/api/webhooks", body, {{"X-Agent-Id", agent}});
  }
  std::string register_url(const std::string& agent, const std::string& url,
                           const std::string& more = "") {
    auto r = add_webhook(agent, R"({"url":")" + url + R"(","secret":")" + kSecret + "\"" + more +
                                    "}");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? std::string(json::parse(r.body).at("id").as_string()) : "";
  }
  std::string create(const std::string& agent, int k = 1) {
    auto r = client_->post("/api/context",
                           R"({"agent_id":")" + agent + R"(","context_data":{"k":)" +
                               std::to_string(k) + "}}",
                           {{"X-Agent-Id", agent}});
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(json::parse(r.body).at("id").as_string());
  }
  json::array deliveries(const std::string& agent, const std::string& id) {
    auto r = client_->get("/api/webhooks/" + id + "/deliveries?limit=100", {{"X-Agent-Id", agent}});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("items").as_array();
  }
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(WebhooksE2E, EachChangeIsPostedInOrderSignedWithTheSecretAndATimestamp) {
  start();
  ct::WebhookReceiver receiver;
  const auto hook = register_url("alice", receiver.url());
  const auto id = create("alice");
  ASSERT_EQ(client_
                ->patch("/api/context/" + id, R"({"context_data":{"k":2}})",
                        {{"X-Agent-Id", "alice"}})
                .status,
            200);
  create("bob");  // not alice's: never sent to her webhook
  ASSERT_EQ(client_->del("/api/context/" + id, {{"X-Agent-Id", "alice"}}).status, 204);
  auto got = receiver.wait_delivered(3, 10s);
  ASSERT_EQ(got.size(), 3u) << server_->log();
  const char* actions[] = {"create", "update", "delete"};
  std::int64_t last = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const auto& p = got[i];
    EXPECT_EQ(p.header("content-type"), "application/json");
    // The signature is the HMAC-SHA256 of the exact body under the secret.
    EXPECT_EQ(p.header("x-ctxmgr-signature"), "sha256=" + hmac_hex(kSecret, p.body));
    EXPECT_NE(p.header("x-ctxmgr-signature"), "sha256=" + hmac_hex("another secret!!", p.body));
    const auto body = json::parse(p.body).as_object();
    EXPECT_EQ(body.at("webhook_id").as_string(), hook);
    // The timestamp is signed (in the body) and in a header, and it is now.
    const auto ts = body.at("timestamp").as_int64();
    EXPECT_EQ(p.header("x-ctxmgr-timestamp"), std::to_string(ts));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    EXPECT_LE(std::abs(now - ts), 60);
    const auto e = event_of(p);
    EXPECT_EQ(e.at("action").as_string(), actions[i]);
    EXPECT_EQ(e.at("context_id").as_string(), id);
    EXPECT_EQ(e.at("agent_id").as_string(), "alice");
    EXPECT_FALSE(e.contains("context_data"));
    EXPECT_EQ(p.header("x-ctxmgr-event-seq"), std::to_string(e.at("seq").as_int64()));
    EXPECT_GT(e.at("seq").as_int64(), last);
    last = e.at("seq").as_int64();
  }
  // Nothing else came (bob's context), and the log says each was delivered at the first try.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(receiver.posts().size(), 3u);
  const auto log = deliveries("alice", hook);
  ASSERT_EQ(log.size(), 3u);
  for (const auto& d : log) {
    EXPECT_EQ(d.at("attempt").as_int64(), 1);
    EXPECT_EQ(d.at("status").as_int64(), 200);
    EXPECT_TRUE(d.at("delivered").as_bool());
  }
  auto one = client_->get("/api/webhooks/" + hook, {{"X-Agent-Id", "alice"}});
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(json::parse(one.body).at("delivered_through").as_int64(), last);
}

TEST_P(WebhooksE2E, AFailedOrTimedOutDeliveryIsRetriedAndHoldsBackTheNextEvent) {
  start("webhooks: {retry_min_ms: 100, retry_max_ms: 400, timeout_ms: 700}\n");
  ct::WebhookReceiver receiver;
  std::atomic<int> calls{0};
  // 500, 500, no answer in time, then 200 for everything.
  receiver.answer_with([&](const ct::ReceivedPost&) {
    const int n = ++calls;
    if (n <= 2) return ct::ReceiverAnswer{500, 0ms};
    if (n == 3) return ct::ReceiverAnswer{200, 2000ms};
    return ct::ReceiverAnswer{200, 0ms};
  });
  const auto hook = register_url("alice", receiver.url());
  const auto first = create("alice", 1);
  const auto second = create("alice", 2);
  ASSERT_TRUE(ct::time_until([&] { return calls.load() >= 5; }, 15s)) << server_->log();
  std::this_thread::sleep_for(300ms);
  const auto posts = receiver.posts();
  // The first event was sent four times (two 500s, a timeout, a success) before the second
  // was sent at all.
  ASSERT_GE(posts.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(event_of(posts[i]).at("context_id").as_string(), first);
  EXPECT_EQ(event_of(posts[4]).at("context_id").as_string(), second);
  const auto log = deliveries("alice", hook);  // newest first
  std::vector<json::object> of_first;
  for (const auto& d : log) {
    if (d.at("seq").as_int64() == seq_of(posts[0])) of_first.push_back(d.as_object());
  }
  ASSERT_EQ(of_first.size(), 4u) << json::serialize(log);
  std::reverse(of_first.begin(), of_first.end());
  EXPECT_EQ(of_first[0].at("status").as_int64(), 500);
  EXPECT_NE(std::string(of_first[0].at("error").as_string()).find("500"), std::string::npos);
  EXPECT_EQ(of_first[1].at("status").as_int64(), 500);
  EXPECT_TRUE(of_first[2].at("status").is_null());
  EXPECT_NE(std::string(of_first[2].at("error").as_string()).find("no answer within 700 ms"),
            std::string::npos);
  EXPECT_EQ(of_first[3].at("status").as_int64(), 200);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(of_first[i].at("attempt").as_int64(), i + 1);
}

TEST_P(WebhooksE2E, AReceiverDownForAWhileGetsEverythingInOrderWhenItReturns) {
  start("webhooks: {retry_min_ms: 100, retry_max_ms: 300}\n");
  ct::WebhookReceiver receiver;
  const auto hook = register_url("alice", receiver.url());
  receiver.go_down();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create("alice", i));
  // Refused connections are logged as failed attempts of the first event.
  ASSERT_TRUE(ct::time_until([&] { return deliveries("alice", hook).size() >= 3; }, 10s));
  for (const auto& d : deliveries("alice", hook)) {
    EXPECT_FALSE(d.at("delivered").as_bool());
    EXPECT_TRUE(d.at("status").is_null());
  }
  receiver.come_up();
  auto got = receiver.wait_delivered(5, 10s);
  ASSERT_EQ(got.size(), 5u) << server_->log();
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(event_of(got[i]).at("context_id").as_string(), ids[i]);
  }
}

TEST_P(WebhooksE2E, OutboundUrlsFollowTheOperatorsRule) {
  start();
  const std::string more = std::string(R"(,"secret":")") + kSecret + "\"}";
  auto refused = [&](const std::string& url, int status, const std::string& says) {
    auto r = add_webhook("alice", R"({"url":")" + url + "\"" + more);
    EXPECT_EQ(r.status, status) << url << ": " << r.body;
    EXPECT_NE(r.body.find(says), std::string::npos) << r.body;
  };
  // Link-local and cloud metadata addresses, however written.
  refused("http://169.254.169.254/latest/meta-data/", 403, "169.254.0.0/16");
  refused("http://[fe80::1]/", 403, "fe80::/10");
  refused("http://[::ffff:169.254.169.254]/", 403, "169.254.0.0/16");
  refused("http://[fd00:ec2::254]/", 403, "fd00:ec2::254/128");
  refused("ftp://127.0.0.1/x", 403, "schemes");
  refused("not a url", 400, "URL");
  refused("http://user:pw@127.0.0.1/", 400, "user name or password");
  refused("http://no-such-host.invalid/", 400, "cannot resolve");
  EXPECT_EQ(json::parse(client_->get("/api/webhooks", {{"X-Agent-Id", "alice"}}).body)
                .at("items")
                .as_array()
                .size(),
            0u);
}

TEST_P(WebhooksE2E, TheRuleIsCheckedAgainAtEveryDelivery) {
  ct::WebhookReceiver receiver;
  // "localhost" is allowed at registration; the operator then denies loopback, and a server on
  // the same database with that rule refuses to send.
  ct::ServerOptions o;
  o.backend = GetParam();
  o.pg_schema = ct::unique_name("webhook_rule");
  ct::Server before(o);
  ASSERT_TRUE(before.start()) << before.log();
  ct::HttpClient c(before.port());
  auto made = c.post("/api/webhooks",
                     R"({"url":"http://localhost:)" + std::to_string(receiver.port()) +
                         R"(/hook","secret":")" + kSecret + "\"}",
                     {{"X-Agent-Id", "alice"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string hook(json::parse(made.body).at("id").as_string());
  ASSERT_EQ(before.stop(), 0);
  o.sqlite_dir = before.dir();
  o.extra_yaml =
      "webhooks: {denied_networks: [127.0.0.0/8, '::1/128'], retry_min_ms: 100, "
      "retry_max_ms: 200}\n";
  server_ = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(server_->start()) << server_->log();
  client_ = std::make_unique<ct::HttpClient>(server_->port());
  create("alice");
  ASSERT_TRUE(ct::time_until([&] { return !deliveries("alice", hook).empty(); }, 10s))
      << server_->log();
  const auto d = deliveries("alice", hook).at(0).as_object();
  EXPECT_FALSE(d.at("delivered").as_bool());
  EXPECT_NE(std::string(d.at("error").as_string()).find("webhooks.denied_networks"),
            std::string::npos)
      << json::serialize(d);
  EXPECT_TRUE(receiver.posts().empty());
}

TEST_P(WebhooksE2E, AgentsRegisterForTheirOwnChangesAndSeeOnlyTheirWebhooks) {
  start("webhooks: {max_per_agent: 2}\n");
  ct::WebhookReceiver receiver;
  const std::string tail = std::string(R"(","secret":")") + kSecret + "\"";
  // bob may not watch alice's changes; an admin may.
  auto r = add_webhook("bob", R"({"url":")" + receiver.url() + tail + R"(,"agent_id":"alice"})");
  EXPECT_EQ(r.status, 403) << r.body;
  const auto admins = register_url("admin", receiver.url(), R"(,"agent_id":"alice")");
  const auto alices = register_url("alice", receiver.url(), R"(,"action":["create","delete"])");
  // The secret is never shown again.
  auto one = client_->get("/api/webhooks/" + alices, {{"X-Agent-Id", "alice"}});
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.body.find(kSecret), std::string::npos);
  EXPECT_EQ(json::parse(one.body).at("action").as_array().size(), 2u);
  EXPECT_EQ(json::parse(one.body).at("agent_id").as_string(), "alice");
  // bob sees neither; alice sees hers; the admin sees both.
  EXPECT_EQ(client_->get("/api/webhooks/" + alices, {{"X-Agent-Id", "bob"}}).status, 404);
  EXPECT_EQ(client_->del("/api/webhooks/" + alices, {{"X-Agent-Id", "bob"}}).status, 404);
  auto count = [&](const std::string& who) {
    return json::parse(client_->get("/api/webhooks", {{"X-Agent-Id", who}}).body)
        .at("items")
        .as_array()
        .size();
  };
  EXPECT_EQ(count("bob"), 0u);
  EXPECT_EQ(count("alice"), 1u);
  EXPECT_EQ(count("admin"), 2u);
  // Bad bodies, each with its reason.
  auto bad = [&](const std::string& body, const std::string& says) {
    auto b = add_webhook("alice", body);
    EXPECT_EQ(b.status, 400) << body << ": " << b.body;
    EXPECT_NE(b.body.find(says), std::string::npos) << b.body;
  };
  bad(R"({"url":")" + receiver.url() + R"("})", "secret is required");
  bad(R"({"url":")" + receiver.url() + R"(","secret":"short"})", "16");
  bad(R"({"secret":")" + std::string(kSecret) + R"("})", "url is required");
  bad(R"({"url":")" + receiver.url() + tail + R"(,"action":"create,launch"})", "launch");
  bad(R"({"url":")" + receiver.url() + tail + R"(,"colour":"red"})", "colour");
  bad(R"({"url":")" + receiver.url() + tail + R"(,"context_id":"nope"})", "context");
  EXPECT_EQ(client_->get("/api/webhooks/not-a-uuid", {{"X-Agent-Id", "alice"}}).status, 400);
  // The limit per agent.
  register_url("alice", receiver.url());
  auto third = add_webhook("alice", R"({"url":")" + receiver.url() + tail + "}");
  EXPECT_EQ(third.status, 403) << third.body;
  EXPECT_NE(third.body.find("max_per_agent"), std::string::npos);
  // Removed: gone for good, and nothing more is sent to it.
  EXPECT_EQ(client_->del("/api/webhooks/" + admins, {{"X-Agent-Id", "admin"}}).status, 204);
  EXPECT_EQ(client_->get("/api/webhooks/" + admins, {{"X-Agent-Id", "admin"}}).status, 404);
  // One of alice's webhooks takes creates and deletes only: it is not sent the update.
  const auto id = create("alice");
  ASSERT_EQ(client_
                ->patch("/api/context/" + id, R"({"context_data":{"k":2}})",
                        {{"X-Agent-Id", "alice"}})
                .status,
            200);
  // The create to both of alice's webhooks, the update to the unfiltered one.
  ASSERT_EQ(receiver.wait_delivered(3, 10s).size(), 3u);
  std::this_thread::sleep_for(500ms);
  const auto posts = receiver.posts();
  EXPECT_EQ(posts.size(), 3u);
  int to_filtered = 0;
  for (const auto& p : posts) {
    EXPECT_NE(p.header("x-ctxmgr-webhook-id"), admins);
    if (p.header("x-ctxmgr-webhook-id") != alices) continue;
    ++to_filtered;
    EXPECT_EQ(event_of(p).at("action").as_string(), "create");
  }
  EXPECT_EQ(to_filtered, 1);
}

TEST_P(WebhooksE2E, AWebhookSendsOnlyWhatItsOwnerMayReadNow) {
  start();
  ct::WebhookReceiver receiver;
  const auto id = create("alice");
  ASSERT_EQ(client_
                ->post("/api/context/" + id + "/grants",
                       R"({"agent_id":"bob","permission":"read"})", {{"X-Agent-Id", "alice"}})
                .status,
            201);
  // bob watches alice's context (shared with him) by its id.
  register_url("bob", receiver.url(), R"(,"context_id":")" + id + "\"");
  ASSERT_EQ(client_
                ->patch("/api/context/" + id, R"({"context_data":{"k":2}})",
                        {{"X-Agent-Id", "alice"}})
                .status,
            200);
  ASSERT_EQ(receiver.wait_delivered(1, 10s).size(), 1u) << server_->log();
  ASSERT_EQ(client_->del("/api/context/" + id + "/grants/bob", {{"X-Agent-Id", "alice"}}).status,
            204);
  ASSERT_EQ(client_
                ->patch("/api/context/" + id, R"({"context_data":{"k":3}})",
                        {{"X-Agent-Id", "alice"}})
                .status,
            200);
  // The revoke is bob's to see; the update after it is not.
  auto got = receiver.wait_delivered(2, 10s);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(event_of(got[0]).at("action").as_string(), "update");
  EXPECT_EQ(event_of(got[1]).at("action").as_string(), "revoke");
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(receiver.posts().size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, WebhooksE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

// Two servers on one PostgreSQL: one of them delivers each webhook, each event once, whichever
// server the change went through; when it dies the other takes over.
TEST(WebhooksAcrossServers, EachEventIsDeliveredOnceAndTheOtherServerTakesOver) {
  if (!ct::Server::available("postgres")) GTEST_SKIP() << "no PostgreSQL here";
  ct::ServerOptions o;
  o.backend = "postgres";
  o.pg_schema = ct::unique_name("webhooks");
  o.extra_yaml = "webhooks: {lease_ms: 1000}\n";
  auto a = std::make_unique<ct::Server>(o);
  auto b = std::make_unique<ct::Server>(o);
  ASSERT_TRUE(a->start()) << a->log();
  ASSERT_TRUE(b->start()) << b->log();
  ct::WebhookReceiver receiver;
  ct::HttpClient ca(a->port()), cb(b->port());
  auto made = ca.post("/api/webhooks",
                      R"({"url":")" + receiver.url() + R"(","secret":")" + kSecret + "\"}",
                      {{"X-Agent-Id", "alice"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string hook(json::parse(made.body).at("id").as_string());
  auto create = [&](ct::HttpClient& c) {
    auto r = c.post("/api/context", R"({"agent_id":"alice","context_data":{"k":1}})",
                    {{"X-Agent-Id", "alice"}});
    EXPECT_EQ(r.status, 201) << r.body;
  };
  for (int i = 0; i < 3; ++i) create(i % 2 == 0 ? cb : ca);
  ASSERT_EQ(receiver.wait_delivered(3, 10s).size(), 3u) << a->log() << b->log();
  std::this_thread::sleep_for(1500ms);  // a second server sending too would show by now
  std::set<std::int64_t> seqs;
  for (const auto& p : receiver.posts()) EXPECT_TRUE(seqs.insert(seq_of(p)).second);
  EXPECT_EQ(seqs.size(), 3u);
  // The holder dies; the other server takes the webhook when the lease runs out.
  const std::string holding = "webhooks: delivering " + hook;
  const bool a_holds = a->log().find(holding) != std::string::npos;
  ASSERT_NE(a_holds, b->log().find(holding) != std::string::npos);
  auto& survivor = a_holds ? b : a;
  (a_holds ? a : b)->kill9();
  ct::HttpClient cs(survivor->port());
  create(cs);
  ASSERT_EQ(receiver.wait_delivered(4, 15s).size(), 4u) << survivor->log();
  EXPECT_NE(survivor->log().find(holding), std::string::npos);
}

}  // namespace
