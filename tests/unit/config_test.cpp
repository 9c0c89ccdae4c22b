// Config errors must say file:line:column and the key's path; each case below is one kind.

#include <gtest/gtest.h>

#include <cstdlib>

#include "config/config.hpp"
#include "config/webhooks_config.hpp"

namespace ck = ctxmgr::kernel;

namespace {

std::string error_of(const std::string& yaml) {
  ck::Environment env;
  auto r = ck::parse_config(yaml, "ctxmgr.yaml", env);
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.error().message();
}

}  // namespace

TEST(Config, ReadsAFullConfig) {
  ::setenv("CTXMGR_T_LEVEL", "DEBUG", 1);
  ck::Environment env;
  auto r = ck::parse_config(
      "server:\n"
      "  log: {level: '${CTXMGR_T_LEVEL}', format: json}\n"
      "plugins:\n"
      "  search_paths: [/opt/a, rel/b]\n"
      "storage:\n"
      "  plugin: sqlite\n"
      "  options: {path: x.db}\n"
      "selectors:\n"
      "  - plugin: keyword\n"
      "  - {plugin: keyword, name: keyword-es, required: false}\n"
      "transports:\n"
      "  - plugin: http\n",
      "/etc/ctxmgr/ctxmgr.yaml", env);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& c = r->config;
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  ASSERT_EQ(c.plugin_paths.size(), 2u);
  EXPECT_EQ(c.plugin_paths[0], "/opt/a");
  EXPECT_EQ(c.plugin_paths[1], "/etc/ctxmgr/rel/b");  // relative to the config file
  ASSERT_EQ(c.plugins.size(), 4u);
  EXPECT_EQ(c.plugins[0].kind, ctxmgr::sdk::Kind::storage);
  EXPECT_EQ(c.plugins[0].plugin, "sqlite");
  EXPECT_TRUE(c.plugins[0].options.IsMap());
  EXPECT_EQ(c.plugins[2].name, "keyword-es");
  EXPECT_FALSE(c.plugins[2].required);
  EXPECT_EQ(c.plugins[3].kind, ctxmgr::sdk::Kind::transport);
  EXPECT_EQ(c.plugins[3].yaml_path, "transports[0]");
}

TEST(Config, EmptyFileIsAValidConfigWithNothingConfigured) {
  ck::Environment env;
  auto r = ck::parse_config("", "empty.yaml", env);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->config.plugins.empty());
}

TEST(Config, UnknownTopLevelKey) {
  EXPECT_EQ(
      error_of("server: {}\nstorrage: {plugin: x}\n"),
      "ctxmgr.yaml:2:1: storrage: unknown key 'storrage'; allowed: server, service, audit, "
      "selection, plugins, storage, embedder, embeddings, memory, events, webhooks, selectors, "
      "providers, transports");
}

TEST(Config, UnknownNestedKey) {
  EXPECT_EQ(error_of("server:\n  log:\n    level: info\n    colour: red\n"),
            "ctxmgr.yaml:4:5: server.log.colour: unknown key 'colour'; allowed: level, format, "
            "file");
}

TEST(Config, WrongType) {
  EXPECT_EQ(error_of("plugins:\n  search_paths: /one/path\n"),
            "ctxmgr.yaml:2:17: plugins.search_paths: expected a list, got a scalar");
  EXPECT_EQ(error_of("storage:\n  - plugin: sqlite\n"),
            "ctxmgr.yaml:2:3: storage: expected one storage plugin (a mapping), got a list");
  EXPECT_EQ(error_of("transports:\n  - plugin: http\n    required: maybe\n"),
            "ctxmgr.yaml:3:15: transports[0].required: expected true or false, got \"maybe\"");
  EXPECT_EQ(error_of("server:\n  log:\n    level: loud\n"),
            "ctxmgr.yaml:3:12: server.log.level: expected one of trace, debug, info, warn, "
            "error, off; got \"loud\"");
}

TEST(Config, MissingValue) {
  EXPECT_EQ(error_of("storage:\n  options: {path: x}\n"),
            "ctxmgr.yaml:2:3: storage: missing required key 'plugin'");
  ::unsetenv("CTXMGR_T_NOPE");
  EXPECT_EQ(error_of("storage:\n  plugin: ${CTXMGR_T_NOPE}\n"),
            "ctxmgr.yaml:2:11: storage.plugin: environment variable CTXMGR_T_NOPE is not set "
            "(write ${CTXMGR_T_NOPE:-default} to give a default)");
}

TEST(Config, KeySetTwice) {
  EXPECT_EQ(error_of("server: {}\nserver: {}\n"), "ctxmgr.yaml:2:1: server: key is set twice");
}

TEST(Config, DuplicateInstanceName) {
  EXPECT_EQ(error_of("selectors:\n  - plugin: a\n  - plugin: a\n"),
            "ctxmgr.yaml:3:5: selectors[1]: instance name 'a' is used twice in selectors (give "
            "one of them another `name:`)");
}

TEST(Config, SyntaxErrorHasAPosition) {
  const std::string e = error_of("server:\n  log: {level: info\n");
  EXPECT_TRUE(e.starts_with("ctxmgr.yaml:")) << e;
  EXPECT_NE(e.find("not valid YAML"), std::string::npos) << e;
}

TEST(Config, DotenvValuesReachTheConfig) {
  ::unsetenv("CTXMGR_T_FROM_DOTENV");
  const std::string file = testing::TempDir() + "/ctxmgr_config_test.env";
  {
    std::FILE* f = std::fopen(file.c_str(), "w");
    std::fputs("CTXMGR_T_FROM_DOTENV=warn\n", f);
    std::fclose(f);
  }
  auto env = ck::Environment::load(file, true);
  ASSERT_TRUE(env.ok());
  auto r =
      ck::parse_config("server: {log: {level: '${CTXMGR_T_FROM_DOTENV:-info}'}}\n", "c.yaml", *env);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->config.log.level, "warn");
}

TEST(Config, SelectionSection) {
  ck::Environment env;
  auto r = ck::parse_config(
      "selection:\n"
      "  default: keyword\n"
      "  hybrid: {keyword: 0.8, recency: 0.2}\n"
      "  candidates: 500\n"
      "  chars_per_token: 3.5\n"
      "  translations_per_word: 0\n"
      "  dictionaries: [dict/es-en, /usr/share/dictd/freedict-eng-spa]\n",
      "/etc/ctxmgr/ctxmgr.yaml", env);
  ASSERT_TRUE(r.ok()) << r.error().message();
  const auto& s = r->config.selection;
  EXPECT_EQ(s.default_selector, "keyword");
  ASSERT_TRUE(s.hybrid.has_value());
  ASSERT_EQ(s.hybrid->size(), 2u);
  EXPECT_EQ((*s.hybrid)[0].first, "keyword");
  EXPECT_DOUBLE_EQ((*s.hybrid)[0].second, 0.8);
  EXPECT_EQ(s.candidates, 500);
  EXPECT_DOUBLE_EQ(s.chars_per_token, 3.5);
  EXPECT_EQ(s.translations_per_word, 0);
  ASSERT_TRUE(s.dictionaries.has_value());
  EXPECT_EQ((*s.dictionaries)[0], "/etc/ctxmgr/dict/es-en");

  auto defaults = ck::parse_config("{}", "x.yaml", env);
  ASSERT_TRUE(defaults.ok());
  EXPECT_FALSE(defaults->config.selection.hybrid.has_value());
  EXPECT_FALSE(defaults->config.selection.dictionaries.has_value());
  EXPECT_EQ(defaults->config.selection.default_selector, "hybrid");
}

TEST(Config, SelectionErrorsNameThePlace) {
  EXPECT_EQ(error_of("selection:\n  hybrid: {keyword: heavy}\n"),
            "ctxmgr.yaml:2:21: selection.hybrid.keyword: expected a number from 0.000000 to "
            "1000.000000, got \"heavy\"");
  EXPECT_EQ(error_of("selection:\n  hybrid: [keyword]\n"),
            "ctxmgr.yaml:2:11: selection.hybrid: expected a mapping of selector name to weight, "
            "got a sequence");
  // A key that is not a scalar (found by fuzz_config: it used to throw out of the loader).
  EXPECT_NE(error_of("selection:\n  hybrid: {? [a]: 1}\n").find("selection.hybrid"),
            std::string::npos);
  EXPECT_EQ(error_of("selection:\n  candidates: 0\n"),
            "ctxmgr.yaml:2:15: selection.candidates: expected an integer from 1 to 100000, got "
            "\"0\"");
  EXPECT_NE(error_of("selection:\n  weights: {}\n").find("unknown key 'weights'"),
            std::string::npos);
}

// `embedder:` is one mapping; `enabled` empty or false leaves an entry out (the shipped configs
// write `enabled: ${CTXMGR_EMBEDDINGS_URL:+true}`); the worker's settings are checked.
TEST(Config, TheEmbedderIsOneEntryThatAVariableTurnsOn) {
  ::unsetenv("CTXMGR_T_EMB_URL");
  ck::Environment env;
  const std::string entry =
      "embedder: {plugin: openai, enabled: '${CTXMGR_T_EMB_URL:+true}', "
      "options: {base_url: '${CTXMGR_T_EMB_URL:-x}'}}\n"
      "embeddings: {batch_size: 8, interval_ms: 100, reconcile_ms: 60000}\n";
  auto off = ck::parse_config(entry, "ctxmgr.yaml", env);
  ASSERT_TRUE(off.ok()) << off.error().message();
  EXPECT_TRUE(off->config.plugins.empty());
  EXPECT_EQ(off->config.embeddings.batch_size, 8);
  EXPECT_EQ(off->config.embeddings.interval_ms, 100);
  EXPECT_EQ(off->config.embeddings.retry_ms, 10000);
  EXPECT_EQ(off->config.embeddings.reload_ms, 5000);
  EXPECT_EQ(off->config.embeddings.reconcile_ms, 60000);

  ::setenv("CTXMGR_T_EMB_URL", "http://127.0.0.1:11434/v1", 1);
  auto on = ck::parse_config(entry, "ctxmgr.yaml", env);
  ASSERT_TRUE(on.ok()) << on.error().message();
  ASSERT_EQ(on->config.plugins.size(), 1u);
  EXPECT_EQ(on->config.plugins[0].kind, ctxmgr::sdk::Kind::embedder);
  EXPECT_EQ(on->config.plugins[0].yaml_path, "embedder");
  ::unsetenv("CTXMGR_T_EMB_URL");

  EXPECT_EQ(error_of("embedder: [{plugin: openai}]\n"),
            "ctxmgr.yaml:1:11: embedder: expected one embedder plugin (a mapping), got a sequence");
  EXPECT_EQ(error_of("embedder: {plugin: openai, enabled: maybe}\n"),
            "ctxmgr.yaml:1:37: embedder.enabled: expected true or false, got \"maybe\"");
  EXPECT_EQ(
      error_of("embeddings: {batch_size: 0}\n"),
      "ctxmgr.yaml:1:26: embeddings.batch_size: expected an integer from 1 to 2048, got \"0\"");
  EXPECT_EQ(
      error_of("embeddings: {reconcile_ms: 10}\n"),
      "ctxmgr.yaml:1:28: embeddings.reconcile_ms: expected an integer from 1000 to 604800000, "
      "got \"10\"");
  EXPECT_EQ(error_of("storage: {plugin: sqlite, enabled: false}\n"),
            "ctxmgr.yaml:1:10: storage: the storage cannot be disabled");
}

TEST(Config, MemoryStepsAreBounded) {
  ck::Environment env;
  auto defaults = ck::parse_config("", "ctxmgr.yaml", env);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->config.memory.max_steps, 8);
  auto set = ck::parse_config("memory: {max_steps: 20}\n", "ctxmgr.yaml", env);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->config.memory.max_steps, 20);
  EXPECT_EQ(error_of("memory: {max_steps: 0}\n"),
            "ctxmgr.yaml:1:21: memory.max_steps: expected an integer from 1 to 64, got \"0\"");
  EXPECT_EQ(error_of("memory: {steps: 3}\n").find("unknown key 'steps'") != std::string::npos,
            true);
}

TEST(Config, TheChangeFeedIsOnByDefaultAndItsLimitsAreBounded) {
  ck::Environment env;
  auto defaults = ck::parse_config("", "ctxmgr.yaml", env);
  ASSERT_TRUE(defaults.ok());
  EXPECT_TRUE(defaults->config.events.enabled);
  EXPECT_EQ(defaults->config.events.max_streams_per_agent, 16);
  auto set = ck::parse_config("events: {enabled: false, max_streams: 5, buffer_bytes: 8192}\n",
                              "ctxmgr.yaml", env);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_FALSE(set->config.events.enabled);
  EXPECT_EQ(set->config.events.max_streams, 5);
  EXPECT_EQ(set->config.events.buffer_bytes, 8192);
  EXPECT_NE(error_of("events: {max_streams: 0}\n").find("events.max_streams: expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of("events: {buffer_bytes: 10}\n").find("events.buffer_bytes"),
            std::string::npos);
  EXPECT_NE(error_of("events: {enabled: maybe}\n").find("events.enabled"), std::string::npos);
  EXPECT_NE(error_of("events: {streams: 3}\n").find("unknown key 'streams'"), std::string::npos);
}

TEST(Config, WebhooksDenyLinkLocalByDefaultAndTheirRuleIsChecked) {
  ck::Environment env;
  auto defaults = ck::parse_config("", "ctxmgr.yaml", env);
  ASSERT_TRUE(defaults.ok());
  const auto& w = defaults->config.webhooks;
  EXPECT_TRUE(w.enabled);
  EXPECT_EQ(w.schemes, (std::vector<std::string>{"http", "https"}));
  EXPECT_TRUE(w.hosts.empty());
  EXPECT_EQ(w.denied_networks,
            (std::vector<std::string>{"169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128",
                                      "100.100.100.200/32"}));
  auto set = ck::parse_config(
      "webhooks: {hosts: ['*.example.com'], denied_networks: [10.0.0.0/8, 'fc00::/7'], "
      "schemes: [https], workers: 2}\n",
      "ctxmgr.yaml", env);
  ASSERT_TRUE(set.ok()) << set.error().message();
  EXPECT_EQ(set->config.webhooks.denied_networks,
            (std::vector<std::string>{"10.0.0.0/8", "fc00::/7"}));
  EXPECT_EQ(set->config.webhooks.schemes, (std::vector<std::string>{"https"}));
  EXPECT_EQ(set->config.webhooks.workers, 2);
  EXPECT_NE(error_of("webhooks: {schemes: [ftp]}\n").find("expected http and/or https"),
            std::string::npos);
  EXPECT_NE(error_of("webhooks: {denied_networks: [10.0.0.0/33]}\n").find("prefix length"),
            std::string::npos);
  EXPECT_NE(error_of("webhooks: {denied_networks: [intranet]}\n").find("not an address"),
            std::string::npos);
  EXPECT_NE(error_of("webhooks: {retry_min_ms: 5000, retry_max_ms: 1000}\n")
                .find("at least webhooks.retry_min_ms"),
            std::string::npos);
  EXPECT_NE(error_of("webhooks: {workers: 0}\n").find("webhooks.workers"), std::string::npos);
  EXPECT_NE(error_of("webhooks: {secret: x}\n").find("unknown key 'secret'"), std::string::npos);
}
