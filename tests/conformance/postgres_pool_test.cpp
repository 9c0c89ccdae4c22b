// storage-postgres under connection pressure: when every pooled connection is in use, a request
// gets `unavailable` after acquire_timeout_ms instead of hanging, and works again once one is free.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include "config/config.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "plugin/registry.hpp"
#include "unique_name.hpp"

namespace ck = ctxmgr::kernel;
namespace sdk = ctxmgr::sdk;

TEST(PostgresPool, ExhaustedPoolAnswersUnavailableInsteadOfHanging) {
  const char* dsn = std::getenv("CTXMGR_TEST_PG_DSN");
  if (dsn == nullptr || !std::filesystem::exists(CTXMGR_PLUGIN_DIR "/storage-postgres.so")) {
    GTEST_SKIP() << "no PostgreSQL (CTXMGR_TEST_PG_DSN) or no storage-postgres.so";
  }
  ck::Environment env;
  auto cfg =
      ck::parse_config("plugins: {search_paths: [" CTXMGR_PLUGIN_DIR
                       "]}\nstorage:\n  plugin: postgres\n"
                       "  options: {url: '" +
                           std::string(dsn) + "', schema: " + ctxmgr::test::unique_name("pool") +
                           ", pool_size: 1, acquire_timeout_ms: 200}\n",
                       "pool.yaml", env);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message();
  ck::MetricsRegistry metrics;
  ck::Registry registry(metrics);
  ASSERT_TRUE(registry.load(cfg->config, *cfg->source).at(0).loaded);
  ASSERT_TRUE(registry.start_all().ok());
  auto* storage = registry.of_kind<sdk::Storage>(sdk::Kind::storage).at(0).second;
  ASSERT_TRUE(storage->migrate().ok());

  auto held = storage->begin();  // takes the only connection
  ASSERT_TRUE(held.ok());
  const auto t0 = std::chrono::steady_clock::now();
  auto starved = storage->get("01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10");
  const auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(starved.ok());
  EXPECT_EQ(starved.error().code(), sdk::Errc::unavailable);
  EXPECT_NE(starved.error().message().find("no database connection became free within 200 ms"),
            std::string::npos)
      << starved.error().message();
  EXPECT_GE(waited, std::chrono::milliseconds(200));
  EXPECT_FALSE(storage->ping().ok());

  held->reset();  // rolls back and returns the connection
  EXPECT_TRUE(storage->ping().ok());
  auto fine = storage->get("01936f3e-8c1a-7b2e-9f41-3c5d2a7e8b10");
  ASSERT_TRUE(fine.ok());
  EXPECT_FALSE(fine->has_value());
}
