// Claude's memory tool served over REST (docs/memory-tool.md), on every backend: each command's
// answers as the reference implementation gives them, files as versioned contexts (history,
// audit), folders, path attacks, the caller's rights, and concurrent commands on one file (no
// version lost, one rename wins).

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/json.hpp>

#include "http_client.hpp"
#include "process.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace json = boost::json;

namespace {

class MemoryE2E : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!ct::Server::available(GetParam())) GTEST_SKIP() << "backend not available here";
    ct::ServerOptions o;
    o.backend = GetParam();
    server_ = std::make_unique<ct::Server>(o);
    ASSERT_TRUE(server_->start()) << server_->log();
    client_ = std::make_unique<ct::HttpClient>(server_->port());
    agent_ = "mem-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
  }
  void TearDown() override {
    if (server_ && HasFailure()) std::cerr << "--- server log ---\n" << server_->log();
  }

  // One command as `as` (trust mode: X-Agent-Id); the tool's answer, or the HTTP error.
  struct Answer {
    int status = 0;
    std::string content;
    bool is_error = false;
    std::string body;
  };
  Answer run(const json::object& input, const std::string& as = {}) {
    return run_on(*client_, input, as);
  }
  Answer run_on(ct::HttpClient& c, const json::object& input, const std::string& as = {}) {
    auto r = c.post("/api/agent/" + agent_ + "/memory", json::serialize(input),
                    {{"X-Agent-Id", as.empty() ? agent_ : as}});
    Answer a;
    a.status = r.status;
    a.body = r.body;
    if (r.status == 200) {
      auto v = json::parse(r.body);
      a.content = std::string(v.at("content").as_string());
      a.is_error = v.at("is_error").as_bool();
    }
    return a;
  }
  json::array list(const std::string& prefix) {
    auto r = client_->get("/api/agent/" + agent_ + "/contexts?path_prefix=" + prefix,
                          {{"X-Agent-Id", agent_}});
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body).at("items").as_array();
  }

  static inline int counter_ = 0;
  std::unique_ptr<ct::Server> server_;
  std::unique_ptr<ct::HttpClient> client_;
  std::string agent_;
};

TEST_P(MemoryE2E, EveryCommandAnswersAsTheReference) {
  auto made = run({{"command", "create"},
                   {"path", "/memories/notes/todo.md"},
                   {"file_text", "buy milk\ncall Ana\n"}});
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_FALSE(made.is_error);
  EXPECT_EQ(made.content, "File created successfully at: /memories/notes/todo.md");
  auto again =
      run({{"command", "create"}, {"path", "/memories/notes/todo.md"}, {"file_text", "x"}});
  EXPECT_TRUE(again.is_error);
  EXPECT_EQ(again.content, "File /memories/notes/todo.md already exists");

  auto view = run({{"command", "view"}, {"path", "/memories/notes/todo.md"}});
  EXPECT_FALSE(view.is_error);
  EXPECT_EQ(view.content,
            "Here's the content of /memories/notes/todo.md with line numbers:\n"
            "     1\tbuy milk\n     2\tcall Ana\n     3\t");
  auto ranged = run({{"command", "view"},
                     {"path", "/memories/notes/todo.md"},
                     {"view_range", json::array{2, 2}}});
  EXPECT_EQ(ranged.content,
            "Here's the content of /memories/notes/todo.md with line numbers:\n     2\tcall Ana");

  auto replaced = run({{"command", "str_replace"},
                       {"path", "/memories/notes/todo.md"},
                       {"old_str", "milk"},
                       {"new_str", "oat milk"}});
  EXPECT_FALSE(replaced.is_error) << replaced.content;
  EXPECT_NE(replaced.content.find("     1\tbuy oat milk"), std::string::npos) << replaced.content;
  auto absent = run({{"command", "str_replace"},
                     {"path", "/memories/notes/todo.md"},
                     {"old_str", "bread"},
                     {"new_str", "x"}});
  EXPECT_TRUE(absent.is_error);
  EXPECT_EQ(absent.content,
            "No replacement was performed, old_str `bread` did not appear "
            "verbatim in /memories/notes/todo.md.");

  auto inserted = run({{"command", "insert"},
                       {"path", "/memories/notes/todo.md"},
                       {"insert_line", 0},
                       {"insert_text", "# Todo"}});
  EXPECT_FALSE(inserted.is_error);
  EXPECT_EQ(inserted.content, "The file /memories/notes/todo.md has been edited.");
  auto out_of_range = run({{"command", "insert"},
                           {"path", "/memories/notes/todo.md"},
                           {"insert_line", 9},
                           {"insert_text", "x"}});
  EXPECT_TRUE(out_of_range.is_error);
  EXPECT_EQ(out_of_range.content,
            "Invalid `insert_line` parameter: 9. It should be within the range [0, 3].");

  ASSERT_FALSE(
      run({{"command", "create"}, {"path", "/memories/prefs.md"}, {"file_text", "tea"}}).is_error);
  auto folder = run({{"command", "view"}, {"path", "/memories"}});
  EXPECT_FALSE(folder.is_error);
  EXPECT_EQ(folder.content,
            "Here're the files and directories up to 2 levels deep in /memories, excluding "
            "hidden items:\n32B\t/memories\n29B\t/memories/notes/\n29B\t/memories/notes/todo.md\n"
            "3B\t/memories/prefs.md");

  auto renamed = run({{"command", "rename"},
                      {"old_path", "/memories/prefs.md"},
                      {"new_path", "/memories/notes/prefs.md"}});
  EXPECT_FALSE(renamed.is_error) << renamed.content;
  EXPECT_EQ(renamed.content, "Successfully renamed /memories/prefs.md to /memories/notes/prefs.md");
  auto taken = run({{"command", "rename"},
                    {"old_path", "/memories/notes/prefs.md"},
                    {"new_path", "/memories/notes/todo.md"}});
  EXPECT_TRUE(taken.is_error);
  EXPECT_EQ(taken.content, "The destination /memories/notes/todo.md already exists");

  auto gone = run({{"command", "view"}, {"path", "/memories/prefs.md"}});
  EXPECT_TRUE(gone.is_error);
  EXPECT_EQ(gone.content,
            "The path /memories/prefs.md does not exist. Please provide a valid path.");
  EXPECT_EQ(run({{"command", "delete"}, {"path", "/memories"}}).content,
            "Cannot delete the /memories directory itself");
  auto deleted = run({{"command", "delete"}, {"path", "/memories/notes"}});
  EXPECT_FALSE(deleted.is_error);
  EXPECT_EQ(deleted.content, "Successfully deleted /memories/notes");
  EXPECT_EQ(list("/memories").size(), 0u);
  EXPECT_EQ(run({{"command", "delete"}, {"path", "/memories/notes"}}).content,
            "The path /memories/notes does not exist");
}

TEST_P(MemoryE2E, AFileIsAVersionedAuditedContext) {
  ASSERT_FALSE(
      run({{"command", "create"}, {"path", "/memories/a.md"}, {"file_text", "one"}}).is_error);
  ASSERT_FALSE(run({{"command", "str_replace"},
                    {"path", "/memories/a.md"},
                    {"old_str", "one"},
                    {"new_str", "two"}})
                   .is_error);
  ASSERT_FALSE(
      run({{"command", "rename"}, {"old_path", "/memories/a.md"}, {"new_path", "/memories/b.md"}})
          .is_error);
  auto files = list("/memories/");
  ASSERT_EQ(files.size(), 1u);
  const auto& file = files[0].as_object();
  EXPECT_EQ(file.at("metadata").at("path").as_string(), "/memories/b.md");
  EXPECT_EQ(file.at("context_data").at("text").as_string(), "two");
  EXPECT_EQ(file.at("version").as_int64(), 3);
  EXPECT_EQ(file.at("created_by").as_string(), agent_);
  const std::string id(file.at("id").as_string());
  auto history =
      json::parse(client_->get("/api/context/" + id + "/history", {{"X-Agent-Id", agent_}}).body);
  const auto& items = history.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2].at("context_data").at("text").as_string(), "one");
  EXPECT_EQ(items[1].at("metadata").at("path").as_string(), "/memories/a.md");
  // Every change is in the audit log, as the caller.
  auto audit = json::parse(client_->get("/api/audit?context_id=" + id).body);
  std::vector<std::string> actions;
  for (const auto& e : audit.at("items").as_array()) {
    actions.emplace_back(e.at("action").as_string());
    EXPECT_EQ(e.at("agent_id").as_string(), agent_);
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"update", "update", "create"}));
  // Listing by path is a page in path order, with a cursor.
  for (const char* name : {"/memories/c.md", "/memories/d/e.md"}) {
    ASSERT_FALSE(run({{"command", "create"}, {"path", name}, {"file_text", "x"}}).is_error);
  }
  auto page =
      json::parse(client_
                      ->get("/api/agent/" + agent_ + "/contexts?path_prefix=/memories&limit=2",
                            {{"X-Agent-Id", agent_}})
                      .body);
  ASSERT_EQ(page.at("items").as_array().size(), 2u);
  EXPECT_EQ(page.at("items").at(1).at("metadata").at("path").as_string(), "/memories/c.md");
  const std::string cursor(page.at("next_cursor").as_string());
  auto rest = json::parse(
      client_
          ->get("/api/agent/" + agent_ + "/contexts?path_prefix=/memories&limit=2&cursor=" + cursor,
                {{"X-Agent-Id", agent_}})
          .body);
  ASSERT_EQ(rest.at("items").as_array().size(), 1u);
  EXPECT_EQ(rest.at("items").at(0).at("metadata").at("path").as_string(), "/memories/d/e.md");
  EXPECT_TRUE(rest.at("next_cursor").is_null());
  EXPECT_EQ(list("/memories/d/").size(), 1u);
}

TEST_P(MemoryE2E, PathAttacksAreToolErrorsAndTouchNothing) {
  for (const char* path : {"/etc/passwd", "/memories/../x", "/memories/%2e%2e/x", "/memories//x",
                           "/memories/a\\b", "memories/x", "/memories/./x"}) {
    auto a = run({{"command", "create"}, {"path", path}, {"file_text", "x"}});
    ASSERT_EQ(a.status, 200) << a.body;
    EXPECT_TRUE(a.is_error) << path;
    auto v = run({{"command", "view"}, {"path", path}});
    EXPECT_TRUE(v.is_error) << path;
  }
  auto nul =
      run({{"command", "create"}, {"path", std::string("/memories/a\0b", 13)}, {"file_text", "x"}});
  // JSON may carry U+0000: refused as a body (400) or as a path (a tool error), never stored.
  EXPECT_TRUE(nul.status == 400 || nul.is_error) << nul.body;
  EXPECT_EQ(list("/memories").size(), 0u);
  // The same rule guards the plain API: a context cannot be given a bad memory path either.
  auto r = client_->post(
      "/api/context",
      R"({"agent_id":")" + agent_ + R"(","context_data":{},"metadata":{"path":"/memories/../x"}})",
      {{"X-Agent-Id", agent_}});
  EXPECT_EQ(r.status, 400) << r.body;
  // A file path below a file, and the model's other mistakes.
  ASSERT_FALSE(run({{"command", "create"}, {"path", "/memories/f"}, {"file_text", "x"}}).is_error);
  EXPECT_EQ(run({{"command", "create"}, {"path", "/memories/f/g"}, {"file_text", "x"}}).content,
            "Cannot create /memories/f/g: /memories/f is a file, not a directory");
  EXPECT_EQ(run({{"command", "create"}, {"path", "/memories/g"}}).content,
            "Error: parameter `file_text` is required for command `create`");
  EXPECT_EQ(run({{"command", "fly"}}).content,
            "Error: unknown command `fly`; use one of view, create, str_replace, insert, delete, "
            "rename");
  // Past the size limit of a file: a body too large for the server (413), or a tool error.
  auto big = run({{"command", "create"},
                  {"path", "/memories/big"},
                  {"file_text", std::string(1024 * 1024 + 1, 'a')}});
  EXPECT_TRUE(big.status == 413 || big.is_error) << big.status;
  // An edit that would grow a file past the limit is a tool error and changes nothing.
  ASSERT_FALSE(run({{"command", "create"},
                    {"path", "/memories/grow"},
                    {"file_text", std::string(900 * 1024, 'a')}})
                   .is_error);
  auto grown = run({{"command", "insert"},
                    {"path", "/memories/grow"},
                    {"insert_line", 0},
                    {"insert_text", std::string(200 * 1024, 'b')}});
  EXPECT_TRUE(grown.is_error) << grown.status << " " << grown.content.substr(0, 200);
  EXPECT_NE(grown.content.find("Nothing was changed"), std::string::npos);
  const auto files = list("/memories/grow");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].at("version").as_int64(), 1);
}

TEST_P(MemoryE2E, TheCallersMistakesAndRightsAreApiErrors) {
  auto bad_json =
      client_->post("/api/agent/" + agent_ + "/memory", "{not json", {{"X-Agent-Id", agent_}});
  EXPECT_EQ(bad_json.status, 400);
  auto unknown_field =
      client_->post("/api/agent/" + agent_ + "/memory",
                    R"({"command":"view","path":"/memories","x":1})", {{"X-Agent-Id", agent_}});
  EXPECT_EQ(unknown_field.status, 400);
  // Another agent may not write this agent's memory without a grant, nor see its files.
  ASSERT_FALSE(
      run({{"command", "create"}, {"path", "/memories/secret.md"}, {"file_text", "s"}}).is_error);
  auto other =
      run({{"command", "create"}, {"path", "/memories/x.md"}, {"file_text", "x"}}, "intruder");
  EXPECT_EQ(other.status, 403) << other.body;
  auto peek = run({{"command", "view"}, {"path", "/memories/secret.md"}}, "intruder");
  EXPECT_TRUE(peek.is_error);
  EXPECT_EQ(peek.content,
            "The path /memories/secret.md does not exist. Please provide a valid path.");
  // With a write grant on the owner's contexts, the other agent edits as itself.
  auto grant =
      client_->post("/api/agent/" + agent_ + "/grants",
                    R"({"agent_id":"helper","permission":"write"})", {{"X-Agent-Id", agent_}});
  ASSERT_EQ(grant.status / 100, 2) << grant.body;
  auto edit = run({{"command", "str_replace"},
                   {"path", "/memories/secret.md"},
                   {"old_str", "s"},
                   {"new_str", "shared"}},
                  "helper");
  EXPECT_FALSE(edit.is_error) << edit.content << edit.body;
  auto files = list("/memories");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].at("updated_by").as_string(), "helper");
}

TEST_P(MemoryE2E, ConcurrentCommandsLoseNoVersionAndOneRenameWins) {
  ASSERT_FALSE(
      run({{"command", "create"}, {"path", "/memories/log.md"}, {"file_text", ""}}).is_error);
  constexpr int kWriters = 4, kEach = 5;
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      ct::HttpClient c(server_->port());
      for (int i = 0; i < kEach; ++i) {
        auto a = run_on(c, {{"command", "insert"},
                            {"path", "/memories/log.md"},
                            {"insert_line", 0},
                            {"insert_text", "w" + std::to_string(w) + "-" + std::to_string(i)}});
        if (a.status != 200 || a.is_error) ++failed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto files = list("/memories");
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].at("version").as_int64(), 1 + kWriters * kEach);
  const std::string text(files[0].at("context_data").at("text").as_string());
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kEach; ++i) {
      EXPECT_NE(text.find("w" + std::to_string(w) + "-" + std::to_string(i) + "\n"),
                std::string::npos);
    }
  }
  // Two renames of one file to different names: exactly one wins, the file exists once.
  threads.clear();
  std::atomic<int> won{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      ct::HttpClient c(server_->port());
      auto a = run_on(c, {{"command", "rename"},
                          {"old_path", "/memories/log.md"},
                          {"new_path", "/memories/log-" + std::to_string(r) + ".md"}});
      if (a.status == 200 && !a.is_error) ++won;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(list("/memories").size(), 1u);
  // Two creates of one path: one file.
  threads.clear();
  std::atomic<int> created{0};
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&] {
      ct::HttpClient c(server_->port());
      auto a =
          run_on(c, {{"command", "create"}, {"path", "/memories/once.md"}, {"file_text", "x"}});
      if (a.status == 200 && !a.is_error) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(list("/memories/once.md").size(), 1u);
}

// The memory endpoint and the path listing under both auth modes and from a foreign origin: the
// same checks as every route (docs/security.md).
TEST_P(MemoryE2E, BothAuthModesAndForeignOrigins) {
  const std::string view = R"({"command":"view","path":"/memories"})";
  auto foreign = client_->post("/api/agent/" + agent_ + "/memory", view,
                               {{"X-Agent-Id", agent_}, {"Origin", "http://attacker.example"}});
  EXPECT_EQ(foreign.status, 403) << foreign.body;
  auto foreign_list = client_->get("/api/agent/" + agent_ + "/contexts?path_prefix=/memories",
                                   {{"X-Agent-Id", agent_}, {"Origin", "http://attacker.example"}});
  EXPECT_EQ(foreign_list.status, 403) << foreign_list.body;

  ct::ServerOptions o;
  o.backend = GetParam();
  o.service_yaml = "{auth: token}";
  ct::Server token_server(o);
  token_server.write_config();
  auto made = ct::run_process(
      {CTXMGR_BIN, "--config", token_server.config_path(), "agent", "create", "tok"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string token = made.out.substr(0, made.out.find('\n'));
  ASSERT_TRUE(token_server.start()) << token_server.log();
  ct::HttpClient c(token_server.port());
  EXPECT_EQ(c.post("/api/agent/tok/memory", view).status, 401);
  EXPECT_EQ(c.post("/api/agent/tok/memory", view, {{"Authorization", "Bearer nope"}}).status, 401);
  const std::map<std::string, std::string> bearer{{"Authorization", "Bearer " + token}};
  auto made_file =
      c.post("/api/agent/tok/memory",
             R"({"command":"create","path":"/memories/a.md","file_text":"x"})", bearer);
  ASSERT_EQ(made_file.status, 200) << made_file.body;
  EXPECT_FALSE(json::parse(made_file.body).at("is_error").as_bool());
  // A token names its agent: another agent's memory is not its to write.
  EXPECT_EQ(c.post("/api/agent/other/memory",
                   R"({"command":"create","path":"/memories/a.md","file_text":"x"})", bearer)
                .status,
            403);
  auto listed = c.get("/api/agent/tok/contexts?path_prefix=/memories", bearer);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(json::parse(listed.body).at("items").as_array().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, MemoryE2E, testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
