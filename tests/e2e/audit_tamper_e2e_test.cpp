// The audit chain against someone who can write the database (issue 17): with the chain keyed by
// a file outside the database and a signed checkpoint beside it, each of the six rewrites a red
// team made is found by a plain `ctxmgr audit verify`, and the server's sealer refuses to seal
// over them. On every backend, the append-only triggers switched off as a superuser would.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class AuditTamper : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    keys_ = ct::make_temp_dir() + "/keys";
    start();
    for (int i = 0; i < 6; ++i) {
      ASSERT_EQ(client_
                    ->post("/api/context",
                           R"({"agent_id":"a","context_data":{"i":)" + std::to_string(i) + "}}")
                    .status,
                201);
    }
    last_ = sealed_through_newest();
    ASSERT_GT(last_, 3);
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }
  void start() {
    ct::ServerOptions o;
    o.backend = GetParam();
    o.extra_yaml = "audit: {seal_interval_ms: 50, key_file: " + keys_ + "/audit.key}\n";
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
  }
  std::int64_t sealed_through_newest() {
    auto newest = json::parse(client_->get("/api/audit?limit=1").body)
                      .at("items")
                      .as_array()
                      .at(0)
                      .at("seq")
                      .as_int64();
    for (int i = 0; i < 200; ++i) {
      auto v = json::parse(client_->get("/api/audit/verify").body).as_object();
      if (v.at("sealed_through").as_int64() >= newest && v.contains("checkpoint_seq") &&
          v.at("checkpoint_seq").as_int64() >= newest) {
        EXPECT_TRUE(v.at("ok").as_bool()) << json::serialize(v);
        return newest;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ADD_FAILURE() << "the chain was not sealed through " << newest;
    return 0;
  }
  void run(const std::string& sql) {
    auto r = server_->sql(sql);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string triggers_off() const {
    return GetParam() == "sqlite"
               ? "DROP TRIGGER access_log_no_update; DROP TRIGGER access_log_no_delete; "
                 "DROP TRIGGER access_log_seal_no_update; DROP TRIGGER access_log_seal_no_delete; "
               : "ALTER TABLE access_log DISABLE TRIGGER USER; "
                 "ALTER TABLE access_log_seal DISABLE TRIGGER USER; ";
  }
  ct::ProcessResult verify_cli(const std::string& config = "") {
    return ct::run_process({CTXMGR_BIN, "--config",
                            config.empty() ? server_->config_path() : config, "audit", "verify"});
  }
  void expect_broken(const std::string& why) {
    auto r = verify_cli();
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    EXPECT_NE(r.out.find("BROKEN at seq"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find(why), std::string::npos) << r.out << r.err;
  }
  std::string seq(std::int64_t n) const { return std::to_string(n); }
  // Appends a copy of the newest event as mallory's, sealed with `hash`.
  void append_forged(const std::string& hash) {
    run("INSERT INTO access_log (at, agent_id, action, context_id, transport, request_id, "
        "details) SELECT at, 'mallory', 'grant', context_id, transport, 'forged', details FROM "
        "access_log WHERE seq = " +
        seq(last_) +
        "; INSERT INTO access_log_seal (seq, hash) "
        "SELECT max(seq), '" +
        hash + "' FROM access_log");
  }

  std::string keys_;
  std::int64_t last_ = 0;
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
};

TEST_P(AuditTamper, TheKeyFileIsPrivateAndTheChainKeyed) {
  struct stat key {};
  ASSERT_EQ(::stat((keys_ + "/audit.key").c_str(), &key), 0);
  EXPECT_EQ(key.st_mode & 0777, 0600u);
  auto seals = server_->sql("SELECT hash FROM access_log_seal ORDER BY seq DESC LIMIT 1");
  EXPECT_EQ(seals.out.rfind("k1:", 0), 0u) << seals.out;
  auto ok = verify_cli();
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("matches the checkpoint at seq " + seq(last_)), std::string::npos)
      << ok.out;
  // A rotated key seals from then on; the old one still verifies what it sealed.
  ASSERT_EQ(server_->stop(), 0);
  auto rotated =
      ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "audit", "rotate-key"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  ASSERT_TRUE(server_->start()) << server_->log();
  client_ = std::make_unique<ct::HttpClient>(server_->port());
  ASSERT_EQ(client_->post("/api/context", R"({"agent_id":"a","context_data":{}})").status, 201);
  const auto newest = sealed_through_newest();
  auto head = server_->sql("SELECT hash FROM access_log_seal WHERE seq = " + seq(newest));
  EXPECT_EQ(head.out.rfind("k2:", 0), 0u) << head.out;
  EXPECT_EQ(verify_cli().exit_code, 0);
  // A key file others may read is refused.
  ASSERT_EQ(server_->stop(), 0);
  ::chmod((keys_ + "/audit.key").c_str(), 0644);
  auto refused = verify_cli();
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.err.find("may be read or written by other users"), std::string::npos)
      << refused.err;
}

// 1. Seals deleted from some seq on and the events there edited, for the server to seal anew.
TEST_P(AuditTamper, DeletedSealsAndEditedEventsAreNotResealed) {
  const std::string from = seq(last_ - 2);
  run(triggers_off() + "DELETE FROM access_log_seal WHERE seq >= " + from +
      "; UPDATE access_log SET agent_id = 'mallory' WHERE seq = " + from);
  // The running sealer refuses to extend the chain over the cut, and says so.
  std::string log;
  for (int i = 0; i < 200 && log.find("audit chain broken") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    log = server_->log();
  }
  EXPECT_NE(log.find("audit chain broken"), std::string::npos) << log;
  EXPECT_NE(client_->get("/metrics").body.find("ctxmgr_audit_chain_broken 1"), std::string::npos);
  auto resealed = server_->sql("SELECT count(*) FROM access_log_seal WHERE seq >= " + from);
  EXPECT_EQ(resealed.out.substr(0, 1), "0") << resealed.out;
  expect_broken("cut or wiped");
  // `audit seal` by hand refuses too.
  auto seal = ct::run_process({CTXMGR_BIN, "--config", server_->config_path(), "audit", "seal"});
  EXPECT_NE(seal.exit_code, 0);
  EXPECT_NE(seal.err.find("audit chain broken"), std::string::npos) << seal.err;
}

// 2. The tail cut: the newest events with their seals.
TEST_P(AuditTamper, ACutTailIsFound) {
  ASSERT_EQ(server_->stop(), 0);
  run(triggers_off() + "DELETE FROM access_log_seal WHERE seq >= " + seq(last_ - 1) +
      "; DELETE FROM access_log WHERE seq >= " + seq(last_ - 1));
  expect_broken("the chain ends at seq " + seq(last_ - 2) + " but the checkpoint says seq " +
                seq(last_));
}

// 3. Both tables wiped.
TEST_P(AuditTamper, AWipedLogIsFound) {
  ASSERT_EQ(server_->stop(), 0);
  run(triggers_off() + "DELETE FROM access_log_seal; DELETE FROM access_log");
  expect_broken("the chain ends at seq 0 but the checkpoint says seq " + seq(last_));
}

// 4. Events edited and the whole chain recomputed as unkeyed SHA-256 (by a ctxmgr without the key).
TEST_P(AuditTamper, AChainRecomputedWithoutTheKeyIsFound) {
  ASSERT_EQ(server_->stop(), 0);
  run(triggers_off() +
      "DELETE FROM access_log_seal; UPDATE access_log SET agent_id = 'mallory' "
      "WHERE seq = " +
      seq(last_ - 1));
  // The attacker's config: the same database, no key, a checkpoint of its own.
  std::string config = ct::read_file(server_->config_path());
  const auto at = config.find("key_file:");
  ASSERT_NE(at, std::string::npos) << config;
  config.replace(at, config.find('}', at) - at, "checkpoint_file: \"\"");
  const std::string forged = keys_ + "/../attacker.yaml";
  ct::write_file(forged, config);
  auto resealed = ct::run_process({CTXMGR_BIN, "--config", forged, "audit", "seal"});
  ASSERT_EQ(resealed.exit_code, 0) << resealed.err;
  EXPECT_EQ(verify_cli(forged).exit_code, 0) << "without the key the rewrite looks sound";
  expect_broken("is not the one the checkpoint signed: the chain was rewritten");
}

// 5. Forged rows appended: an event and a seal made up by the attacker.
TEST_P(AuditTamper, AppendedForgedRowsAreFound) {
  ASSERT_EQ(server_->stop(), 0);
  run("INSERT INTO access_log (at, agent_id, action, context_id, transport, request_id, details) "
      "SELECT at, 'mallory', 'grant', context_id, transport, 'forged', details FROM access_log "
      "WHERE seq = " +
      seq(last_) +
      "; INSERT INTO access_log_seal (seq, hash) SELECT max(seq), "
      "'k1:" +
      std::string(64, '0') + "' FROM access_log");
  expect_broken("event differs from what was sealed");
}

// 6. A seal made with a key of the attacker's own (a forged key file line).
TEST_P(AuditTamper, SealsUnderAnUnknownKeyAreFound) {
  ASSERT_EQ(server_->stop(), 0);
  run("INSERT INTO access_log (at, agent_id, action, context_id, transport, request_id, details) "
      "SELECT at, 'mallory', 'grant', context_id, transport, 'forged', details FROM access_log "
      "WHERE seq = " +
      seq(last_) +
      "; INSERT INTO access_log_seal (seq, hash) SELECT max(seq), "
      "'k9:" +
      std::string(64, 'a') + "' FROM access_log");
  expect_broken("sealed with key 9, which is not among this server's audit keys");
}

// Retention: the audit log pruned below a sealed anchor still verifies, and a head cut past the
// anchor is found; the selection log is pruned by age.
TEST_P(AuditTamper, PruningKeepsTheChainVerifiable) {
  ASSERT_EQ(client_->post("/api/agent/a/select", R"({"query":"i"})").status, 200);
  ASSERT_EQ(server_->stop(), 0);
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {CTXMGR_BIN, "--config", server_->config_path()});
    return ct::run_process(args);
  };
  auto pruned = cli({"audit", "prune", "--before", "2100-01-01T00:00:00Z"});
  ASSERT_EQ(pruned.exit_code, 0) << pruned.out << pruned.err;
  EXPECT_NE(pruned.out.find("before seq " + seq(last_) + "; the chain now starts at seq " +
                            seq(last_) + " and verifies"),
            std::string::npos)
      << pruned.out;
  auto left = server_->sql("SELECT count(*) FROM access_log WHERE seq < " + seq(last_));
  EXPECT_EQ(left.out.substr(0, 1), "0") << left.out;
  auto ok = verify_cli();
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("from the anchor at seq " + seq(last_)), std::string::npos) << ok.out;
  // The server seals on after the prune.
  ASSERT_TRUE(server_->start()) << server_->log();
  client_ = std::make_unique<ct::HttpClient>(server_->port());
  ASSERT_EQ(client_->post("/api/context", R"({"agent_id":"a","context_data":{}})").status, 201);
  sealed_through_newest();
  EXPECT_EQ(verify_cli().exit_code, 0);
  ASSERT_EQ(server_->stop(), 0);
  // The selection log, by age.
  auto selections = cli({"selections", "prune", "--before", "2100-01-01T00:00:00Z"});
  ASSERT_EQ(selections.exit_code, 0) << selections.err;
  EXPECT_NE(selections.out.find("pruned 1 selection record(s)"), std::string::npos)
      << selections.out;
  EXPECT_EQ(server_->sql("SELECT count(*) FROM selection_log").out.substr(0, 1), "0");
  // Cutting past the anchor is not a prune.
  run(triggers_off() + "DELETE FROM access_log_seal WHERE seq <= " + seq(last_) +
      "; DELETE FROM access_log WHERE seq <= " + seq(last_));
  expect_broken("not at the anchor seq " + seq(last_) + " the last prune left");
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditTamper, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
