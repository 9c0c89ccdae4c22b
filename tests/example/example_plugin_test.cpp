// The out-of-tree example plugin, built against the installed SDK, loaded and used by the kernel
// (the registry) and by the installed ctxmgr executable.

#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.hpp"
#include "ctxmgr/sdk/abi.h"
#include "plugin/registry.hpp"
#include "process.hpp"

namespace {
// The ABI this build's plugins record.
const std::string kAbi =
    std::to_string(CTXMGR_SDK_ABI_MAJOR) + "." + std::to_string(CTXMGR_SDK_ABI_MINOR);
// The ABI as `plugins list` prints it: a column six characters wide.
const std::string kAbiColumn = kAbi + std::string(6 - kAbi.size(), ' ');
}  // namespace

namespace ck = ctxmgr::kernel;
namespace ct = ctxmgr::test;

namespace {
const std::string kWork = EXAMPLE_WORK_DIR;
const std::string kPlugin = kWork + "/build/selector-tags.so";
}  // namespace

TEST(ExamplePlugin, LoadsAndScoresThroughTheRegistry) {
  ck::Environment env;
  auto cfg = ck::parse_config(
      "selectors:\n  - plugin: tags\n    path: " + kPlugin + "\n    options: {weight: 2}\n",
      "example.yaml", env);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message();
  ck::MetricsRegistry metrics;
  ck::Registry registry(metrics);
  auto reports = registry.load(cfg->config, *cfg->source);
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_TRUE(reports[0].loaded) << reports[0].error;
  EXPECT_EQ(reports[0].info->version, "1.0.0");
  ASSERT_TRUE(registry.start_all().ok());
  auto selectors = registry.of_kind<ctxmgr::sdk::Selector>(ctxmgr::sdk::Kind::selector);
  ASSERT_EQ(selectors.size(), 1u);
  const ctxmgr::sdk::Candidate candidates[] = {
      {"a", "{}", R"({"priority":"high","tags":["Billing","eu"]})", 0, 0},
      {"b", "{}", R"({"tags":["billing","migration"]})", 0, 0},
      {"c", "{}", R"({})", 0, 0}};
  auto scores = selectors[0].second->score({"billing migration a", 0}, candidates);
  ASSERT_TRUE(scores.ok());
  ASSERT_EQ(scores->size(), 3u);
  EXPECT_DOUBLE_EQ((*scores)[0], 1.0);  // 2 * 1/2
  EXPECT_DOUBLE_EQ((*scores)[1], 2.0);  // 2 * 2/2
  EXPECT_DOUBLE_EQ((*scores)[2], 0.0);
}

TEST(ExamplePlugin, InstalledCtxmgrListsAndChecksIt) {
  const std::string bin = kWork + "/prefix/bin/ctxmgr";
  const std::string dir = ct::make_temp_dir();
  ct::write_file(dir + "/c.yaml", "plugins: {search_paths: [" + kWork +
                                      "/build]}\nselectors:\n  - plugin: tags\n    options: "
                                      "{min_word_length: 0}\n");
  auto bad = ct::run_process({bin, "--config", dir + "/c.yaml", "config", "check"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("c.yaml:4:32: selectors[0].options.min_word_length: must be at least 1"),
            std::string::npos)
      << bad.err;
  auto list = ct::run_process({bin, "--config", dir + "/c.yaml", "plugins", "list"});
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find("selector  tags            1.0.0     " + kAbiColumn + "ok " + kPlugin),
            std::string::npos)
      << list.out;
  std::filesystem::remove_all(dir);
}
