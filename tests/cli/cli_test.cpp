// The ctxmgr executable as an operator uses it: commands, exit codes, help, redaction, and the
// serve lifecycle with signals.

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>

#include <boost/json.hpp>

#include "ctxmgr/sdk/abi.h"
#include "process.hpp"

namespace {
// The ABI this build's plugins record.
const std::string kAbi =
    std::to_string(CTXMGR_SDK_ABI_MAJOR) + "." + std::to_string(CTXMGR_SDK_ABI_MINOR);
// The ABI as `plugins list` prints it: a column six characters wide.
const std::string kAbiColumn = kAbi + std::string(6 - kAbi.size(), ' ');
}  // namespace

namespace ct = ctxmgr::test;
namespace fs = std::filesystem;

namespace {

const std::string kBin = CTXMGR_BIN;
const std::string kPlugins = TEST_PLUGIN_DIR;

class Cli : public testing::Test {
 protected:
  void SetUp() override { dir_ = ct::make_temp_dir(); }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string config(const std::string& body) {
    const std::string path = dir_ + "/ctxmgr.yaml";
    ct::write_file(path, "plugins: {search_paths: [" + kPlugins + "]}\n" + body);
    return path;
  }

  ct::ProcessResult run(std::vector<std::string> args,
                        const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), kBin);
    return ct::run_process(args, env, dir_);
  }

  std::string dir_;
};

const char* kGoodSelector =
    "selectors:\n"
    "  - plugin: good\n"
    "    options:\n"
    "      api_key: ${CTXMGR_T_SECRET}\n"
    "      retries: 5\n";

}  // namespace

TEST_F(Cli, VersionAndHelp) {
  auto v = run({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("ctxmgr " CTXMGR_VERSION_TEXT " (SDK ABI " + kAbi + ")"), std::string::npos)
      << v.out;
  for (const std::vector<std::string> args : {std::vector<std::string>{"--help"},
                                              {"serve", "--help"},
                                              {"config", "--help"},
                                              {"config", "check", "--help"},
                                              {"config", "show", "--help"},
                                              {"plugins", "list", "--help"},
                                              {"plugins", "describe", "--help"}}) {
    auto h = run(args);
    EXPECT_EQ(h.exit_code, 0) << args[0];
    EXPECT_NE(h.out.find("Usage:"), std::string::npos) << h.out;
  }
}

TEST_F(Cli, BadUsageIsExitCode2) {
  EXPECT_EQ(run({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(run({}).exit_code, 2);
  EXPECT_EQ(run({"config"}).exit_code, 2);
  EXPECT_EQ(run({"--config"}).exit_code, 2);
  auto missing = run({"--config", dir_ + "/nope.yaml", "config", "check"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read the config file"), std::string::npos) << missing.err;
}

TEST_F(Cli, ConfigCheckPassesAndFailsWithPosition) {
  const auto good = config(kGoodSelector);
  auto ok = run({"--config", good, "config", "check"}, {{"CTXMGR_T_SECRET", "sk-test-123"}});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find(": OK (1 plugin instance(s) would start)"), std::string::npos) << ok.out;

  const auto bad = config("selectors:\n  - plugin: good\n    options:\n      factr: 2\n");
  auto r = run({"--config", bad, "config", "check"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(bad + ":5:7: selectors[0].options.factr: unknown key 'factr'; allowed: "
                             "factor, mode, api_key, retries"),
            std::string::npos)
      << r.err;
}

TEST_F(Cli, ConfigShowRedactsSecrets) {
  const auto path = config(std::string(kGoodSelector) +
                           "  - plugin: absent\n"
                           "    required: false\n"
                           "    options:\n"
                           "      dsn: postgresql://architect:hunter2@localhost:5432/tzzr_db\n"
                           "      password: ${CTXMGR_T_SECRET}\n");
  ct::write_file(dir_ + "/.env", "CTXMGR_T_SECRET=sk-from-dotenv-987\n");
  auto r = run({"--config", path, "config", "show"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("sk-from-dotenv-987"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("api_key: \"***\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("postgresql://architect:***@localhost:5432/tzzr_db"), std::string::npos)
      << r.out;
  // Defaults of the plugin's option table are shown.
  EXPECT_NE(r.out.find("mode: \"normal\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("retries: 5"), std::string::npos) << r.out;
}

TEST_F(Cli, PluginsListShowsEveryFileAndWhy) {
  const auto path = config("");
  auto r = run({"--config", path, "plugins", "list"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("selector  good            1.2.3     " + kAbiColumn + "ok " + kPlugins +
                       "/selector-good.so"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("refused: plugin " + kPlugins +
                       "/not_elf.so: not a ctxmgr plugin (not an ELF shared object)"),
            std::string::npos)
      << r.out;

  auto j = run({"--config", path, "plugins", "list", "--json"});
  ASSERT_EQ(j.exit_code, 0);
  auto arr = boost::json::parse(j.out).as_array();
  bool found = false;
  for (const auto& v : arr) {
    const auto& o = v.as_object();
    if (o.at("path").as_string() == kPlugins + "/selector-good.so") {
      found = true;
      EXPECT_EQ(o.at("kind").as_string(), "selector");
      EXPECT_EQ(o.at("abi").as_string(), kAbi);
      EXPECT_TRUE(o.at("loaded").as_bool());
    }
  }
  EXPECT_TRUE(found) << j.out;
}

TEST_F(Cli, PluginsDescribePrintsTheOptionTable) {
  auto r = run({"--config", config(""), "plugins", "describe", "good"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto o = boost::json::parse(r.out).as_object();
  EXPECT_EQ(o.at("version").as_string(), "1.2.3");
  const auto& opts = o.at("options").as_array();
  ASSERT_EQ(opts.size(), 4u);
  EXPECT_EQ(opts[0].at("name").as_string(), "factor");
  EXPECT_EQ(opts[0].at("maximum").as_double(), 100.0);
  EXPECT_TRUE(opts[2].at("secret").as_bool());
  EXPECT_EQ(run({"--config", config(""), "plugins", "describe", "nope"}).exit_code, 1);
}

TEST_F(Cli, ServeRefusesARequiredPluginWithExitCode2) {
  const auto path = config("storage:\n  plugin: broken\n  path: " + kPlugins + "/not_elf.so\n");
  auto r = run({"--config", path, "serve"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("plugin " + kPlugins + "/not_elf.so: not a ctxmgr plugin"),
            std::string::npos)
      << r.err;
}

TEST_F(Cli, ServeSkipsAnOptionalPluginAndStopsCleanlyOnSigterm) {
  const auto path = config(std::string(kGoodSelector) +
                           "  - {plugin: broken, name: opt, required: false, path: " + kPlugins +
                           "/no_section.so}\n");
  const std::string log = dir_ + "/serve.log";
  ct::ChildProcess server({kBin, "--config", path, "serve"}, {{"CTXMGR_T_SECRET", "s3cret-xyz"}},
                          log, dir_);
  // Wait for "ready", then SIGTERM.
  for (int i = 0; i < 500 && ct::read_file(log).find("ready:") == std::string::npos; ++i) {
    ASSERT_TRUE(server.running()) << ct::read_file(log);
    usleep(10000);
  }
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(10000), 0);
  const std::string text = ct::read_file(log);
  EXPECT_NE(text.find("skipping optional plugin: plugin " + kPlugins +
                      "/no_section.so: not a ctxmgr plugin"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[selector.good] good selector created"), std::string::npos) << text;
  EXPECT_NE(text.find("received SIGTERM, stopping"), std::string::npos) << text;
  EXPECT_NE(text.find("stopped"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cret-xyz"), std::string::npos) << text;
}

TEST_F(Cli, JsonLogsAreOneObjectPerLine) {
  const auto path =
      config(std::string("server: {log: {format: json, level: debug}}\n") + kGoodSelector);
  const std::string log = dir_ + "/serve.log";
  ct::ChildProcess server({kBin, "--config", path, "serve"}, {{"CTXMGR_T_SECRET", "x"}}, log, dir_);
  for (int i = 0; i < 500 && ct::read_file(log).find("ready:") == std::string::npos; ++i) {
    usleep(10000);
  }
  server.signal(SIGINT);
  EXPECT_EQ(server.wait(10000), 0);
  std::istringstream lines(ct::read_file(log));
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto v = boost::json::parse(line).as_object();
    EXPECT_TRUE(v.contains("time") && v.contains("level") && v.contains("message")) << line;
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST_F(Cli, ShippedConfigsPassConfigCheck) {
  for (const char* file : {"ctxmgr.yaml", "postgres.example.yaml"}) {
    auto r = run({"--config", std::string(CTXMGR_SOURCE_DIR "/config/") + file, "config", "check"},
                 {{"DATABASE_URL", "postgresql://u:p@127.0.0.1:1/db"},
                  {"CTXMGR_PLUGIN_DIR", CTXMGR_PLUGIN_BUILD_DIR}});
    EXPECT_EQ(r.exit_code, 0) << file << ": " << r.err;
  }
}
