// The plugin loader against real shared objects built by the test tree: one good plugin and one
// broken module per failure the loader must refuse. The refusal lines are the operator's UI, so
// they are checked word for word where they are fixed.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "config/config.hpp"
#include "plugin/registry.hpp"

namespace ck = ctxmgr::kernel;
namespace fs = std::filesystem;

namespace {

const fs::path kDir = TEST_PLUGIN_DIR;

std::string plugin(const std::string& file) { return (kDir / file).string(); }

struct Loaded {
  std::unique_ptr<ck::Environment> env = std::make_unique<ck::Environment>();
  ck::LoadedConfig cfg;
  ck::MetricsRegistry metrics;
  std::unique_ptr<ck::Registry> registry;
  std::vector<ck::LoadReport> reports;
};

std::unique_ptr<Loaded> load(const std::string& yaml) {
  auto l = std::make_unique<Loaded>();
  auto cfg = ck::parse_config(yaml, "test.yaml", *l->env);
  EXPECT_TRUE(cfg.ok()) << (cfg.ok() ? "" : cfg.error().message());
  if (!cfg.ok()) return l;
  l->cfg = std::move(*cfg);
  l->registry = std::make_unique<ck::Registry>(l->metrics);
  l->reports = l->registry->load(l->cfg.config, *l->cfg.source);
  return l;
}

// The refusal line of the only configured plugin, which must have failed.
std::string refusal(const std::string& yaml) {
  auto l = load(yaml);
  EXPECT_EQ(l->reports.size(), 1u);
  if (l->reports.empty()) return {};
  EXPECT_FALSE(l->reports[0].loaded);
  EXPECT_FALSE(l->registry->ok());
  return l->reports[0].error;
}

std::string selector_at(const std::string& file) {
  return "selectors:\n  - plugin: broken\n    path: " + plugin(file) + "\n";
}

}  // namespace

TEST(Loader, GoodPluginLoadsFromSearchPathAndScores) {
  auto l = load("plugins: {search_paths: [" + kDir.string() +
                "]}\nselectors:\n  - plugin: good\n    options: {factor: 2}\n");
  ASSERT_EQ(l->reports.size(), 1u);
  EXPECT_TRUE(l->reports[0].loaded) << l->reports[0].error;
  EXPECT_EQ(l->reports[0].info->version, "1.2.3");
  EXPECT_EQ(l->reports[0].info->kind, ctxmgr::sdk::Kind::selector);
  ASSERT_TRUE(l->registry->ok());
  ASSERT_TRUE(l->registry->start_all().ok());
  auto selectors = l->registry->of_kind<ctxmgr::sdk::Selector>(ctxmgr::sdk::Kind::selector);
  ASSERT_EQ(selectors.size(), 1u);
  ctxmgr::sdk::Candidate c{"id", "{}", "{}", 0, 1.5};
  auto scores = selectors[0].second->score({"q", 0}, std::span(&c, 1));
  ASSERT_TRUE(scores.ok());
  EXPECT_DOUBLE_EQ(scores->at(0), 3.0);
}

TEST(Loader, TextFileNamedSoIsNotAPlugin) {
  EXPECT_EQ(refusal(selector_at("not_elf.so")),
            "plugin " + plugin("not_elf.so") + ": not a ctxmgr plugin (not an ELF shared object)");
}

TEST(Loader, SharedObjectWithoutSectionIsNotAPlugin) {
  EXPECT_EQ(refusal(selector_at("no_section.so")),
            "plugin " + plugin("no_section.so") +
                ": not a ctxmgr plugin (no 'ctxmgr' section; was it built with CTXMGR_PLUGIN?)");
}

TEST(Loader, MissingCreateEntryPoint) {
  EXPECT_EQ(refusal(selector_at("no_create.so")),
            "plugin " + plugin("no_create.so") +
                ": lacks the entry point ctxmgr_plugin_create_v1; expected it beside "
                "ctxmgr_plugin_abi_v1");
}

TEST(Loader, NextMajorAbiIsRefusedBeforeLoading) {
  EXPECT_EQ(refusal(selector_at("next_major.so")),
            "plugin " + plugin("next_major.so") + ": built for SDK ABI 2.x; this ctxmgr " +
                CTXMGR_VERSION_TEXT + " loads SDK ABI 1.0–1." +
                std::to_string(CTXMGR_SDK_ABI_MINOR) + "; rebuild it against ctxmgr-sdk 1.x");
}

TEST(Loader, NewerMinorAbi) {
  EXPECT_EQ(refusal(selector_at("newer_minor.so")),
            "plugin " + plugin("newer_minor.so") + ": built for SDK ABI 1." +
                std::to_string(CTXMGR_SDK_ABI_MINOR + 5) + ", newer than this ctxmgr's 1." +
                std::to_string(CTXMGR_SDK_ABI_MINOR) +
                "; upgrade ctxmgr or rebuild against ctxmgr-sdk 1." +
                std::to_string(CTXMGR_SDK_ABI_MINOR));
}

TEST(Loader, AnAbi10PluginStillLoadsWithoutCapabilities) {
  auto l = load("selectors:\n  - plugin: broken\n    path: " TEST_ABI10_DIR "/abi_1_0.so\n");
  ASSERT_EQ(l->reports.size(), 1u);
  ASSERT_TRUE(l->reports[0].loaded) << l->reports[0].error;
  EXPECT_EQ(l->reports[0].info->abi_minor, 0u);
  EXPECT_EQ(l->reports[0].info->capabilities, 0u);  // the bytes past a 1.0 descriptor are ignored
  EXPECT_EQ(l->registry->storage_search(), nullptr);
}

TEST(Loader, OtherToolchain) {
  const std::string line = refusal(selector_at("toolchain.so"));
  EXPECT_TRUE(line.starts_with("plugin " + plugin("toolchain.so") +
                               ": built with gcc 13, C++20, Boost 1.83; this ctxmgr uses "))
      << line;
  EXPECT_TRUE(line.ends_with("; rebuild with the same toolchain")) << line;
}

TEST(Loader, BadMagic) {
  EXPECT_EQ(
      refusal(selector_at("bad_magic.so")),
      "plugin " + plugin("bad_magic.so") + ": descriptor has a wrong magic; expected \"CTXMGRP\"");
}

TEST(Loader, WrongKind) {
  EXPECT_EQ(refusal("storage:\n  plugin: broken\n  path: " + plugin("wrong_kind.so") + "\n"),
            "plugin " + plugin("wrong_kind.so") +
                ": declares kind 'selector' but is configured under 'storage' (storage)");
}

TEST(Loader, UnknownKindAndAKindOlderThanItsAbi) {
  EXPECT_EQ(refusal(selector_at("unknown_kind.so")),
            "plugin " + plugin("unknown_kind.so") +
                ": declares unknown kind 9; expected storage, selector, provider, transport or "
                "embedder");
  EXPECT_EQ(refusal(selector_at("embedder_before_1_8.so")),
            "plugin " + plugin("embedder_before_1_8.so") +
                ": declares kind embedder, which SDK ABI 1.7 does not have (it came with 1.8)");
}

TEST(Loader, WrongName) {
  EXPECT_EQ(refusal("selectors:\n  - plugin: other\n    path: " + plugin("wrong_kind.so") + "\n"),
            "plugin " + plugin("wrong_kind.so") +
                ": declares name 'broken' but is configured as 'other' (selectors[0])");
}

TEST(Loader, MissingDependencyFailsAtLoadNotAtFirstCall) {
  const std::string line = refusal(selector_at("missing_dep.so"));
  EXPECT_TRUE(line.starts_with("plugin " + plugin("missing_dep.so") + ": could not be loaded: "))
      << line;
  EXPECT_NE(line.find("libctxmgr_test_gone.so"), std::string::npos) << line;
}

TEST(Loader, UnresolvedSymbolFailsAtLoad) {
  const std::string line = refusal(selector_at("unresolved.so"));
  EXPECT_TRUE(line.starts_with("plugin " + plugin("unresolved.so") + ": could not be loaded: "))
      << line;
  EXPECT_NE(line.find("ctxmgr_test_symbol_that_does_not_exist"), std::string::npos) << line;
}

TEST(Loader, FactoryThrowingStdException) {
  EXPECT_EQ(refusal(selector_at("create_throws_std.so")),
            "plugin broken (" + plugin("create_throws_std.so") +
                "): create failed: cannot open /nonexistent/db: No such file or directory");
}

TEST(Loader, FactoryThrowingSomethingElse) {
  EXPECT_EQ(
      refusal(selector_at("create_throws_int.so")),
      "plugin broken (" + plugin("create_throws_int.so") + "): create failed: unknown exception");
}

TEST(Loader, FactoryReturningNothing) {
  EXPECT_EQ(refusal(selector_at("create_returns_null.so")),
            "plugin broken (" + plugin("create_returns_null.so") +
                "): create failed: plugin returned no object");
}

TEST(Loader, PluginRefusingItsOptions) {
  const std::string line =
      refusal("selectors:\n  - plugin: good\n    path: " + plugin("selector-good.so") +
              "\n    options: {mode: reject}\n");
  EXPECT_EQ(line, "plugin good (" + plugin("selector-good.so") +
                      "): create failed: options.mode: 'reject' asks this test plugin to refuse");
}

TEST(Loader, UnknownOptionKeyNamesPositionAndAllowedKeys) {
  const std::string line =
      refusal("selectors:\n  - plugin: good\n    path: " + plugin("selector-good.so") +
              "\n    options:\n      journal: 1\n");
  EXPECT_EQ(line, "plugin " + plugin("selector-good.so") +
                      ": test.yaml:5:7: selectors[0].options.journal: unknown key 'journal'; "
                      "allowed: factor, mode, api_key, retries");
}

TEST(Loader, OptionOfWrongTypeAndOutOfRange) {
  const std::string head =
      "selectors:\n  - plugin: good\n    path: " + plugin("selector-good.so") + "\n    options:\n";
  EXPECT_EQ(refusal(head + "      retries: abc\n"),
            "plugin " + plugin("selector-good.so") +
                ": test.yaml:5:16: selectors[0].options.retries: expected an integer, got \"abc\"");
  EXPECT_EQ(refusal(head + "      factor: 101\n"),
            "plugin " + plugin("selector-good.so") +
                ": test.yaml:5:15: selectors[0].options.factor: must be at most 100");
  EXPECT_EQ(refusal(head + "      mode: fast\n"),
            "plugin " + plugin("selector-good.so") +
                ": test.yaml:5:13: selectors[0].options.mode: expected one of normal, reject; "
                "got \"fast\"");
  // A secret's value never appears in an error.
  EXPECT_EQ(refusal(head + "      api_key: [sk-1]\n"),
            "plugin " + plugin("selector-good.so") +
                ": test.yaml:5:16: selectors[0].options.api_key: expected a value, got a sequence");
}

TEST(Loader, DuplicateNameFromTwoFiles) {
  auto l = load("selectors:\n  - plugin: dup\n    name: one\n    path: " + plugin("dup_a.so") +
                "\n  - plugin: dup\n    name: two\n    path: " + plugin("dup_b.so") + "\n");
  ASSERT_EQ(l->reports.size(), 2u);
  EXPECT_TRUE(l->reports[0].loaded) << l->reports[0].error;
  EXPECT_FALSE(l->reports[1].loaded);
  EXPECT_EQ(l->reports[1].error, "plugin dup (" + plugin("dup_b.so") +
                                     "): duplicate name, already loaded from " +
                                     plugin("dup_a.so"));
}

TEST(Loader, TwoInstancesOfOneFileShareTheLibrary) {
  auto l =
      load("selectors:\n  - plugin: good\n    name: a\n    path: " + plugin("selector-good.so") +
           "\n  - plugin: good\n    name: b\n    path: " + plugin("selector-good.so") +
           "\n    options: {factor: 3}\n");
  ASSERT_EQ(l->reports.size(), 2u);
  EXPECT_TRUE(l->reports[0].loaded);
  EXPECT_TRUE(l->reports[1].loaded) << l->reports[1].error;
  EXPECT_EQ(l->registry->size(), 2u);
}

TEST(Loader, MissingFileNamesTheFoldersSearched) {
  EXPECT_EQ(
      refusal("plugins: {search_paths: [" + kDir.string() + "]}\nstorage: {plugin: nothere}\n"),
      "plugin nothere (storage): no file storage-nothere.so in the plugin search paths (" +
          kDir.string() + "); set plugins.search_paths or the entry's path");
}

TEST(Loader, OptionalPluginFailureIsSkippedAndKernelStaysSound) {
  // Every broken plugin, optional, in one registry, followed by a good one that must still work.
  std::string yaml = "selectors:\n";
  const char* broken[] = {
      "not_elf.so",           "no_section.so",          "no_create.so",   "next_major.so",
      "newer_minor.so",       "toolchain.so",           "bad_magic.so",   "create_throws_std.so",
      "create_throws_int.so", "create_returns_null.so", "missing_dep.so", "unresolved.so"};
  int n = 0;
  for (const char* f : broken) {
    yaml += "  - {plugin: broken, name: b" + std::to_string(n++) +
            ", required: false, path: " + plugin(f) + "}\n";
  }
  yaml += "  - {plugin: good, path: " + plugin("selector-good.so") + "}\n";
  auto l = load(yaml);
  ASSERT_EQ(l->reports.size(), std::size(broken) + 1);
  for (std::size_t i = 0; i < std::size(broken); ++i) {
    EXPECT_FALSE(l->reports[i].loaded) << broken[i];
    EXPECT_FALSE(l->reports[i].error.empty()) << broken[i];
  }
  EXPECT_TRUE(l->reports.back().loaded) << l->reports.back().error;
  EXPECT_TRUE(l->registry->ok());
  ASSERT_TRUE(l->registry->start_all().ok());
  auto selectors = l->registry->of_kind<ctxmgr::sdk::Selector>(ctxmgr::sdk::Kind::selector);
  ASSERT_EQ(selectors.size(), 1u);
  ctxmgr::sdk::Candidate c{"id", "{}", "{}", 0, 2.0};
  EXPECT_DOUBLE_EQ(selectors[0].second->score({"q", 0}, std::span(&c, 1))->at(0), 2.0);
}

TEST(Loader, ScanListsEveryFileWithItsReason) {
  auto reports = ck::scan_plugins({kDir});
  std::map<std::string, const ck::LoadReport*> by_file;
  for (const auto& r : reports) {
    by_file[r.path.filename().string()] = &r;
    if (!r.loaded) EXPECT_TRUE(r.error.starts_with("plugin ")) << r.error;
  }
  ASSERT_TRUE(by_file.count("selector-good.so"));
  EXPECT_TRUE(by_file["selector-good.so"]->loaded);
  EXPECT_EQ(by_file["selector-good.so"]->info->name, "good");
  ASSERT_TRUE(by_file.count("dup_b.so"));
  EXPECT_EQ(by_file["dup_b.so"]->error, "plugin dup (" + plugin("dup_b.so") +
                                            "): duplicate name, already found at " +
                                            plugin("dup_a.so"));
  ASSERT_TRUE(by_file.count("not_elf.so"));
  EXPECT_FALSE(by_file["not_elf.so"]->loaded);
}

TEST(LoaderDeathTest, StaticConstructorThrowingTerminates) {
  // An exception from a static constructor during dlopen cannot be caught: the rule for plugins
  // is no work in static constructors. The loader reads the section first, so only a file that
  // claims to be a ctxmgr plugin ever gets this far.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto lib =
            ck::PluginLibrary::open(fs::path(TEST_TERMINATING_DIR) / "static_ctor_throws.so");
        (void)lib;
      },
      "");
}
