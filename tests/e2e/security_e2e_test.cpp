// The security review, as tests: no core dumps (they would hold secrets), CORS closed by default,
// plugins refused when anyone may write them or their folder, plugin names that cannot reach
// outside the plugin folders. (Elsewhere: secrets never in logs, errors or `config show` —
// db_cli_test, auth_e2e_test, process tests; the trust mode's loopback rule — auth_e2e_test;
// S3 keys with ".." — tests/s3; docs/reliability.md lists them all.)

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "http_client.hpp"
#include "server.hpp"

namespace ct = ctxmgr::test;
namespace fs = std::filesystem;

namespace {

TEST(Security, NoCoreDumpsAndCorsClosedByDefault) {
  ct::Server server(ct::ServerOptions{});
  ASSERT_TRUE(server.start()) << server.log();
  // RLIMIT_CORE is 0 (and the process is not dumpable): a crash leaves no memory image behind.
  const std::string limits = ct::read_file("/proc/" + std::to_string(server.pid()) + "/limits");
  EXPECT_NE(limits.find("Max core file size        0                    0"), std::string::npos)
      << limits;

  ct::HttpClient c(server.port());
  // Trust mode refuses a foreign page outright (hardening_e2e_test); no CORS header either way.
  auto get = c.get("/api/me", {{"Origin", "http://evil.example"}});
  EXPECT_EQ(get.status, 403);
  EXPECT_EQ(get.header("access-control-allow-origin"), "");
  EXPECT_EQ(get.header("access-control-allow-credentials"), "");
  auto preflight =
      c.request("OPTIONS", "/api/context", "",
                {{"Origin", "http://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_GE(preflight.status, 400) << "no preflight is ever granted";
  EXPECT_EQ(preflight.header("access-control-allow-origin"), "");
  EXPECT_EQ(preflight.header("access-control-allow-methods"), "");
  EXPECT_EQ(server.stop(), 0);
}

class PluginFolder : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = ct::make_temp_dir();
    plugins_ = dir_ + "/plugins";
    fs::create_directory(plugins_);
    fs::permissions(plugins_, fs::perms(0755));
    for (const char* f : {"storage-sqlite.so", "selector-keyword.so"}) {
      fs::copy_file(std::string(CTXMGR_PLUGIN_DIR) + "/" + f, plugins_ + "/" + f);
      fs::permissions(plugins_ + "/" + f, fs::perms(0644));
    }
    ct::write_file(dir_ + "/c.yaml", "plugins: {search_paths: [" + plugins_ +
                                         "]}\nstorage: {plugin: sqlite, options: {path: " + dir_ +
                                         "/c.db}}\nselectors: [{plugin: keyword}]\n");
  }
  void TearDown() override { fs::remove_all(dir_); }
  ct::ProcessResult check() {
    return ct::run_process({CTXMGR_BIN, "--config", dir_ + "/c.yaml", "config", "check"});
  }
  std::string dir_, plugins_;
};

TEST_F(PluginFolder, AWorldWritablePluginOrFolderIsRefused) {
  auto ok = check();
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  fs::permissions(plugins_ + "/selector-keyword.so", fs::perms(0666));
  auto file = check();
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("selector-keyword.so: the file or its folder is writable by every user"),
            std::string::npos)
      << file.err;
  fs::permissions(plugins_ + "/selector-keyword.so", fs::perms(0644));
  fs::permissions(plugins_, fs::perms(0777));
  auto folder = check();
  EXPECT_EQ(folder.exit_code, 2);
  EXPECT_NE(folder.err.find("writable by every user"), std::string::npos) << folder.err;
  fs::permissions(plugins_, fs::perms(0755));
  EXPECT_EQ(check().exit_code, 0);
}

TEST_F(PluginFolder, PluginNamesCannotLeaveThePluginFolders) {
  for (const std::string name : {"../keyword", "keyword/../../x", "/etc/passwd", "Keyword"}) {
    ct::write_file(dir_ + "/c.yaml", "plugins: {search_paths: [" + plugins_ +
                                         "]}\nstorage: {plugin: sqlite, options: {path: " + dir_ +
                                         "/c.db}}\nselectors: [{plugin: \"" + name + "\"}]\n");
    auto r = check();
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_NE(r.err.find("expected a plugin name of a-z, 0-9, '-', '_'"), std::string::npos)
        << name << ": " << r.err;
  }
}

}  // namespace
