// `ctxmgr backup` and `ctxmgr restore` on real stores: a backup taken while writes run is
// consistent, restores into the other backend with every record equal and the audit chain
// verifying, tokens and grants work afterwards; and a restore refuses a non-empty store and every
// kind of damaged file without writing anything.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

ct::ProcessResult cli(const ct::Server& server, std::vector<std::string> args) {
  args.insert(args.begin(), {CTXMGR_BIN, "--config", server.config_path()});
  return ct::run_process(args);
}

// The lines of a backup, uncompressed.
std::vector<std::string> backup_lines(const std::string& file) {
  auto z = ct::run_process({"/bin/sh", "-c", "zcat '" + file + "'"});
  EXPECT_EQ(z.exit_code, 0) << z.err;
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (auto nl = z.out.find('\n'); nl != std::string::npos; nl = z.out.find('\n', start)) {
    lines.push_back(z.out.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Writes `lines` as a gzip file.
void write_backup(const std::string& file, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  ct::write_file(file + ".txt", text);
  auto z = ct::run_process({"/bin/sh", "-c", "gzip -c '" + file + ".txt' > '" + file + "'"});
  ASSERT_EQ(z.exit_code, 0) << z.err;
}

// A backup's records (header and trailer left out), without the target's own restore event.
std::multiset<std::string> records(const std::vector<std::string>& lines) {
  std::multiset<std::string> out;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const auto v = json::parse(lines[i]).as_object();
    if (v.at("type") == "audit" && (v.at("action") == "restore" || v.at("action") == "backup")) {
      continue;
    }
    out.insert(lines[i]);
  }
  return out;
}

// The records' own consistency: history versions 1..version for every context, the newest equal
// to the context, seals only of existing events, the trailer's counts right.
void expect_consistent(const std::vector<std::string>& lines) {
  ASSERT_GE(lines.size(), 2u);
  std::map<std::string, json::object> contexts;
  std::map<std::string, std::vector<json::object>> history;
  std::set<std::int64_t> events;
  std::map<std::string, std::int64_t> counts;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    auto v = json::parse(lines[i]).as_object();
    const std::string type(v.at("type").as_string());
    ++counts[type];
    if (type == "context") contexts[std::string(v.at("id").as_string())] = v;
    if (type == "history") history[std::string(v.at("context_id").as_string())].push_back(v);
    if (type == "audit") events.insert(v.at("seq").as_int64());
    if (type == "seal") {
      EXPECT_TRUE(events.count(v.at("seq").as_int64())) << "a seal without its event: " << lines[i];
    }
  }
  for (const auto& [id, c] : contexts) {
    const auto& h = history[id];
    ASSERT_EQ(static_cast<std::int64_t>(h.size()), c.at("version").as_int64()) << id;
    for (std::size_t k = 0; k < h.size(); ++k) {
      EXPECT_EQ(h[k].at("version").as_int64(), static_cast<std::int64_t>(k + 1)) << id;
    }
    EXPECT_EQ(h.back().at("context_data"), c.at("context_data")) << id;
  }
  const auto trailer = json::parse(lines.back()).as_object();
  EXPECT_EQ(trailer.at("type"), "end");
  for (const auto& [type, n] : counts) {
    EXPECT_EQ(trailer.at("counts").at(type).as_int64(), n) << type;
  }
}

struct Pair {
  std::string from, to;
};
void PrintTo(const Pair& p, std::ostream* os) { *os << p.from << " -> " << p.to; }

class BackupE2E : public testing::TestWithParam<Pair> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam().from) || !ct::Server::available(GetParam().to)) {
      GTEST_SKIP() << "backend not available here";
    }
  }
  // Every server of a test shares one audit key file (as installations that exchange backups
  // must), each with a checkpoint of its own.
  std::unique_ptr<ct::Server> token_server(const std::string& backend,
                                           const std::string& key_file = "") {
    if (keys_.empty()) keys_ = ct::make_temp_dir();
    ct::ServerOptions o;
    o.backend = backend;
    o.service_yaml = "{auth: token}";
    o.extra_yaml = "audit: {key_file: " + (key_file.empty() ? keys_ + "/audit.key" : key_file) +
                   ", checkpoint_file: " + ct::make_temp_dir() + "/audit.checkpoint}\n";
    auto s = std::make_unique<ct::Server>(o);
    s->write_config();
    return s;
  }
  static std::string make_agent(const ct::Server& s, const std::string& id,
                                const std::string& role = "agent") {
    auto made = cli(s, {"agent", "create", id, "--role", role});
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return made.out.substr(0, made.out.find('\n'));
  }
  std::string keys_;
};

TEST_P(BackupE2E, BackupWhileWritingRestoresIntoTheOtherBackend) {
  auto src = token_server(GetParam().from);
  const std::string alice = make_agent(*src, "alice");
  const std::string bob = make_agent(*src, "bob");
  ASSERT_TRUE(src->start()) << src->log();
  // A first selection that translates reads Apertium's dictionary (a second in a debug build):
  // done here, so that the writers below select at their pace, as a warm server lets them.
  ASSERT_EQ(ct::HttpClient(src->port())
                .post("/api/agent/alice/select", "{\"query\":\"facturación\"}", bearer(alice))
                .status,
            200);

  // Writers: creates and patches, each acknowledged one remembered with its version.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::map<std::string, std::int64_t> acknowledged;  // context id -> newest acknowledged version
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      ct::HttpClient http(src->port());
      for (int i = 0; !stop; ++i) {
        auto r = http.post("/api/context",
                           "{\"agent_id\":\"alice\",\"context_data\":{\"w\":" + std::to_string(w) +
                               ",\"i\":" + std::to_string(i) + ",\"text\":\"facturación " +
                               std::to_string(i) + "\"},\"metadata\":{\"tags\":[\"w" +
                               std::to_string(w) + "\"]}}",
                           bearer(alice));
        if (r.status != 201) continue;
        const std::string id(json::parse(r.body).at("id").as_string());
        {
          std::lock_guard lock(mu);
          acknowledged[id] = 1;
        }
        auto p = http.patch("/api/context/" + id, "{\"context_data\":{\"patched\":true}}",
                            bearer(alice));
        if (p.status == 200) {
          std::lock_guard lock(mu);
          acknowledged[id] = json::parse(p.body).at("version").as_int64();
        }
        if (i % 5 == 0) {
          (void)http.post("/api/context/" + id + "/grants",
                          "{\"agent_id\":\"bob\",\"permission\":\"read\"}", bearer(alice));
          (void)http.post("/api/agent/alice/select", "{\"query\":\"facturación\"}", bearer(alice));
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const std::string during = src->dir() + "/during.jsonl.gz";
  auto b1 = cli(*src, {"backup", "--out", during});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_EQ(b1.exit_code, 0) << b1.err;
  const auto during_lines = backup_lines(during);
  expect_consistent(during_lines);
  EXPECT_EQ(src->stop(), 0) << src->log();

  const std::string after = src->dir() + "/after.jsonl.gz";
  auto b2 = cli(*src, {"backup", "--out", after});
  ASSERT_EQ(b2.exit_code, 0) << b2.err;
  EXPECT_NE(b2.out.find("written to " + after), std::string::npos) << b2.out;
  const auto after_lines = backup_lines(after);
  expect_consistent(after_lines);
  ASSERT_GT(acknowledged.size(), 5u);
  // Every acknowledged write is in the final backup at its acknowledged version (or later).
  std::map<std::string, std::int64_t> in_backup;
  for (const auto& l : after_lines) {
    const auto v = json::parse(l).as_object();
    if (v.contains("type") && v.at("type") == "context") {
      in_backup[std::string(v.at("id").as_string())] = v.at("version").as_int64();
    }
  }
  for (const auto& [id, version] : acknowledged) {
    ASSERT_TRUE(in_backup.count(id)) << id;
    EXPECT_GE(in_backup[id], version) << id;
  }

  // Into the other backend: same records, verifying chain, working tokens and grants.
  auto dst = token_server(GetParam().to);
  auto restored = cli(*dst, {"restore", after});
  ASSERT_EQ(restored.exit_code, 0) << restored.out << restored.err;
  EXPECT_NE(restored.out.find("audit chain verified"), std::string::npos) << restored.out;
  const std::string again = dst->dir() + "/again.jsonl.gz";
  ASSERT_EQ(cli(*dst, {"backup", "--out", again}).exit_code, 0);
  EXPECT_EQ(records(backup_lines(again)), records(after_lines));
  auto verify = cli(*dst, {"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out;

  ASSERT_TRUE(dst->start()) << dst->log();
  ct::HttpClient http(dst->port());
  const auto& [id, version] = *acknowledged.begin();
  auto got = http.get("/api/context/" + id, bearer(alice));
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(json::parse(got.body).at("version").as_int64(), in_backup[id]);
  auto history = http.get("/api/context/" + id + "/history", bearer(alice));
  ASSERT_EQ(history.status, 200);
  EXPECT_EQ(json::parse(history.body).at("items").as_array().size(),
            static_cast<std::size_t>(in_backup[id]));
  auto patched =
      http.patch("/api/context/" + id, "{\"context_data\":{\"after\":1}}", bearer(alice));
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(json::parse(patched.body).at("version").as_int64(), in_backup[id] + 1);
  // bob reads what was shared with him, and nothing else of alice's.
  auto shared = http.get("/api/agent/alice/contexts?limit=200", bearer(bob));
  ASSERT_EQ(shared.status, 200) << shared.body;
  std::size_t grants = 0;
  for (const auto& l : after_lines) grants += l.find("\"type\":\"grant\"") != std::string::npos;
  EXPECT_EQ(json::parse(shared.body).at("items").as_array().size(), grants);
  EXPECT_EQ(http.get("/api/me", bearer("ctxm_" + std::string(64, '0'))).status, 401);
  auto chain = http.get("/api/audit/verify", bearer(make_agent(*dst, "ops", "admin")));
  ASSERT_EQ(chain.status, 200) << chain.body;
  EXPECT_TRUE(json::parse(chain.body).at("ok").as_bool()) << chain.body;
}

TEST_P(BackupE2E, RestoreRefusesWhatItCannotTakeWholeAndWritesNothing) {
  auto src = token_server(GetParam().from);
  const std::string alice = make_agent(*src, "alice");
  ASSERT_TRUE(src->start()) << src->log();
  {
    ct::HttpClient http(src->port());
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(
          http.post("/api/context",
                    "{\"agent_id\":\"alice\",\"context_data\":{\"i\":" + std::to_string(i) + "}}",
                    bearer(alice))
              .status,
          201);
    }
  }
  EXPECT_EQ(src->stop(), 0);
  const std::string good = src->dir() + "/good.jsonl.gz";
  ASSERT_EQ(cli(*src, {"backup", "--out", good}).exit_code, 0);
  const auto lines = backup_lines(good);

  auto dst = token_server(GetParam().to);
  const auto refused = [&](const std::string& file, const std::string& why, int code = 1) {
    auto r = cli(*dst, {"restore", file});
    EXPECT_EQ(r.exit_code, code) << why << ": " << r.out;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    auto stats = cli(*dst, {"stats", "--json"});
    EXPECT_EQ(json::parse(stats.out).at("totals").at("agents").as_int64(), 0) << why;
  };
  const std::string dir = dst->dir();

  // Cut short: half of the compressed bytes.
  const std::string bytes = ct::read_file(good);
  ct::write_file(dir + "/cut.gz", bytes.substr(0, bytes.size() / 2));
  refused(dir + "/cut.gz", "ends early");
  // Not compressed.
  ct::write_file(dir + "/plain.json", lines[0] + "\n");
  refused(dir + "/plain.json", "not gzip-compressed");
  // A field of the wrong type, named with its line.
  auto bad_type = lines;
  for (std::size_t i = 0; i < bad_type.size(); ++i) {
    if (bad_type[i].find("\"type\":\"context\"") != std::string::npos) {
      const auto at = bad_type[i].find("\"version\":");
      bad_type[i].replace(at, 10, "\"version\":\"x\",\"was\":");
      write_backup(dir + "/bad_type.gz", bad_type);
      refused(dir + "/bad_type.gz", "backup line " + std::to_string(i + 1) +
                                        ": context: field \"version\" must be an integer");
      break;
    }
  }
  // A document that is not JSON.
  auto bad_doc = lines;
  for (auto& l : bad_doc) {
    if (l.find("\"type\":\"history\"") != std::string::npos) {
      auto v = json::parse(l).as_object();
      v["context_data"] = "{not json";
      l = json::serialize(v);
      break;
    }
  }
  write_backup(dir + "/bad_doc.gz", bad_doc);
  refused(dir + "/bad_doc.gz", "field \"context_data\" must hold a JSON object");
  // A record missing: the trailer's counts disagree (caught after everything else was read).
  auto missing = lines;
  for (auto it = missing.begin(); it != missing.end(); ++it) {
    if (it->find("\"type\":\"history\"") != std::string::npos) {
      missing.erase(it);
      break;
    }
  }
  write_backup(dir + "/missing.gz", missing);
  refused(dir + "/missing.gz", "the trailer says otherwise");
  // No trailer.
  auto no_end = lines;
  no_end.pop_back();
  write_backup(dir + "/no_end.gz", no_end);
  refused(dir + "/no_end.gz", "without its trailer");
  // Records out of order.
  auto reordered = lines;
  std::swap(reordered[1], reordered[reordered.size() - 2]);
  write_backup(dir + "/order.gz", reordered);
  refused(dir + "/order.gz", "documented order");
  // Another format version.
  auto newer = lines;
  newer[0].replace(newer[0].find("\"format_version\":1"), 18, "\"format_version\":2");
  write_backup(dir + "/newer.gz", newer);
  refused(dir + "/newer.gz", "format version 2 is not one this ctxmgr reads");
  refused(dir + "/none.gz", "no backup file", 2);

  // The good one goes in; a second restore is refused unless --replace.
  auto ok = cli(*dst, {"restore", good});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto twice = cli(*dst, {"restore", good});
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_NE(twice.err.find("the store is not empty"), std::string::npos) << twice.err;
  auto replaced = cli(*dst, {"restore", "--replace", good});
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_NE(replaced.out.find("audit chain verified"), std::string::npos) << replaced.out;
  auto stats = json::parse(cli(*dst, {"stats", "--json"}).out);
  EXPECT_EQ(stats.at("totals").at("contexts").as_int64(), 3);
  // The original events, then this store's own restore: one, not two (the first was replaced).
  auto again = dst->dir() + "/again.gz";
  ASSERT_EQ(cli(*dst, {"backup", "--out", again}).exit_code, 0);
  std::size_t restores = 0;
  for (const auto& l : backup_lines(again)) {
    restores += l.find("\"action\":\"restore\"") != std::string::npos;
  }
  EXPECT_EQ(restores, 1u);
}

// The trailer without its MAC: what a backup made without a key looks like.
std::vector<std::string> unsigned_copy(std::vector<std::string> lines) {
  auto& end = lines.back();
  end.erase(end.rfind(",\"mac\":"));
  end += "}";
  return lines;
}

TEST_P(BackupE2E, RestoreAuthenticatesAndChecksEverythingBeforeItCommits) {
  auto src = token_server(GetParam().from);
  const std::string alice = make_agent(*src, "alice");
  ASSERT_TRUE(src->start()) << src->log();
  {
    ct::HttpClient http(src->port());
    for (int i = 0; i < 3; ++i) {
      ASSERT_EQ(http.post("/api/context", R"({"agent_id":"alice","context_data":{"i":1}})",
                          bearer(alice))
                    .status,
                201);
    }
  }
  EXPECT_EQ(src->stop(), 0);
  const std::string good = src->dir() + "/good.jsonl.gz";
  ASSERT_EQ(cli(*src, {"backup", "--out", good}).exit_code, 0);
  const auto lines = backup_lines(good);
  const auto trailer = json::parse(lines.back()).as_object();
  ASSERT_TRUE(trailer.contains("mac")) << lines.back();
  ASSERT_TRUE(trailer.contains("checkpoint")) << lines.back();

  auto dst = token_server(GetParam().to);
  const std::string dir = dst->dir();
  const auto refused = [&](const std::vector<std::string>& file_lines, const std::string& why,
                           std::vector<std::string> flags = {}) {
    const std::string file = dir + "/case.gz";
    write_backup(file, file_lines);
    std::vector<std::string> args = {"restore", file};
    args.insert(args.end(), flags.begin(), flags.end());
    auto r = cli(*dst, args);
    EXPECT_EQ(r.exit_code, 1) << why << ": " << r.out << r.err;
    std::string err = r.err, want = why;
    for (auto* t : {&err, &want}) {
      for (auto& c : *t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    EXPECT_NE(err.find(want), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("nothing restored"), std::string::npos) << r.err;
    auto stats = cli(*dst, {"stats", "--json"});
    EXPECT_EQ(json::parse(stats.out).at("totals").at("agents").as_int64(), 0) << why;
    EXPECT_EQ(json::parse(stats.out).at("totals").at("contexts").as_int64(), 0) << why;
  };
  auto edited = [&](const std::string& type, auto&& edit) {
    auto copy = lines;
    for (auto& l : copy) {
      if (l.find("\"type\":\"" + type + "\"") != std::string::npos) {
        auto v = json::parse(l).as_object();
        edit(v);
        l = json::serialize(v);
        break;
      }
    }
    return copy;
  };
  // A crafted admin with a token hash of the attacker's choosing: the signature no longer holds.
  refused(edited("agent", [](json::object& v) { v["role"] = "admin"; }),
          "the backup's signature does not match its contents");
  refused(edited("token", [](json::object& v) { v["token_hash"] = std::string(64, 'a'); }),
          "the backup's signature does not match its contents");
  // Unsigned, it is refused unless the operator says it trusts the file...
  refused(unsigned_copy(lines), "the backup is not signed");
  // ...and even then every invariant and the chain are checked before anything is committed.
  const std::vector<std::string> trusting = {"--trust-unsigned"};
  refused(unsigned_copy(edited("audit", [](json::object& v) { v["agent_id"] = "mallory"; })),
          "audit chain broken at seq", trusting);
  refused(unsigned_copy(edited("agent", [](json::object& v) { v["agent_id"] = "bad id!"; })),
          "is not an agent id", trusting);
  refused(unsigned_copy(edited("context",
                               [](json::object& v) { v["version"] = v["version"].as_int64() + 5; })),
          "but its history has 1 version(s)", trusting);
  refused(unsigned_copy(edited("history", [](json::object& v) { v["action"] = "forged"; })),
          "check constraint", trusting);
  // Signed by another installation's key.
  auto other = token_server(GetParam().to, ct::make_temp_dir() + "/other.key");
  auto foreign = cli(*other, {"restore", good});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_NE(foreign.err.find("signature does not match"), std::string::npos) << foreign.err;
  // The untouched backup goes in, and the restored chain verifies against the new checkpoint.
  auto ok = cli(*dst, {"restore", good});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  auto verify = cli(*dst, {"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("matches the checkpoint"), std::string::npos) << verify.out;
}

INSTANTIATE_TEST_SUITE_P(Backends, BackupE2E,
                         testing::Values(Pair{"sqlite", "postgres"}, Pair{"postgres", "sqlite"},
                                         Pair{"sqlite", "sqlite"}),
                         [](const auto& info) { return info.param.from + "_to_" + info.param.to; });

}  // namespace
