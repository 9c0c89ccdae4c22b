#pragma once
// The fixture of the storage conformance suites: one storage plugin, loaded through the real
// loader (not linked), on a fresh store per test. PostgreSQL joins when CTXMGR_TEST_PG_DSN is set.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "config/config.hpp"
#include "ctxmgr/sdk/storage.hpp"
#include "plugin/registry.hpp"
#include "process.hpp"
#include "unique_name.hpp"

namespace ck = ctxmgr::kernel;
namespace sdk = ctxmgr::sdk;

namespace ctxmgr::test {

struct StorageCase {
  std::string plugin;
  std::string name;
  std::string options = {};  // more plugin options, e.g. ", prepared_statements: false"
};

inline void PrintTo(const StorageCase& c, std::ostream* os) { *os << c.plugin; }

class StorageConformance : public testing::TestWithParam<StorageCase> {
 protected:
  void SetUp() override {
    const auto& c = GetParam();
    std::string options;
    if (c.plugin == "sqlite") {
      dir_ = make_temp_dir();
      options = "{path: " + dir_ + "/ctx.db" + c.options + extra_options() + "}";
    } else {
      const char* dsn = std::getenv("CTXMGR_TEST_PG_DSN");
      if (dsn == nullptr || !std::filesystem::exists(CTXMGR_PLUGIN_DIR "/storage-postgres.so")) {
        GTEST_SKIP() << "no PostgreSQL (CTXMGR_TEST_PG_DSN) or no storage-postgres.so";
      }
      // A schema of its own per test: every test starts from an empty database.
      schema_ = unique_name("t");
      options = "{url: '" + std::string(dsn) + "', schema: " + schema_ + c.options +
                extra_options() + "}";
    }
    auto cfg = ck::parse_config(
        "plugins: {search_paths: [" CTXMGR_PLUGIN_DIR "]}\nstorage:\n  plugin: " + c.plugin +
            "\n  options: " + options + "\n",
        "conformance.yaml", env_);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message();
    cfg_ = std::move(*cfg);
    registry_ = std::make_unique<ck::Registry>(metrics_);
    auto reports = registry_->load(cfg_.config, *cfg_.source);
    ASSERT_TRUE(reports.at(0).loaded) << reports[0].error;
    ASSERT_TRUE(registry_->start_all().ok());
    storage_ = registry_->of_kind<sdk::Storage>(sdk::Kind::storage).at(0).second;
    auto migrated = storage_->migrate();
    ASSERT_TRUE(migrated.ok()) << migrated.error().message();
  }
  // More options for the storage plugin, e.g. ", rank_budget: 2".
  virtual std::string extra_options() const { return ""; }
  void TearDown() override {
    registry_.reset();
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  static sdk::ContextRow row(const std::string& id, const std::string& agent, std::int64_t at,
                             const std::string& data = R"({"k":1})",
                             const std::string& meta = "{}") {
    sdk::ContextRow r;
    r.id = id;
    r.agent_id = agent;
    r.context_data = data;
    r.metadata = meta;
    r.version = 1;
    r.created_at_us = at;
    r.updated_at_us = at;
    r.created_by = agent;
    r.updated_by = agent;
    return r;
  }

  static sdk::HistoryRow hist(const sdk::ContextRow& r, const std::string& action) {
    return sdk::HistoryRow{r.id,           r.version, action, r.updated_by, r.updated_at_us,
                           r.context_data, r.metadata};
  }

  // Inserts a context with its first history entry, committed.
  void create(const sdk::ContextRow& r) {
    auto tx = storage_->begin();
    ASSERT_TRUE(tx.ok()) << tx.error().message();
    ASSERT_TRUE((*tx)->insert_context(r).ok());
    ASSERT_TRUE((*tx)->append_history(hist(r, "create")).ok());
    ASSERT_TRUE((*tx)->commit().ok());
  }

  sdk::Result<std::vector<sdk::AuditEvent>> audit_page(std::int64_t before, std::int64_t limit) {
    sdk::AuditQuery q;
    q.before_seq = before;
    q.limit = limit;
    return storage_->audit(q);
  }

  ck::Environment env_;
  ck::LoadedConfig cfg_;
  ck::MetricsRegistry metrics_;
  std::unique_ptr<ck::Registry> registry_;
  sdk::Storage* storage_ = nullptr;
  std::string dir_;
  std::string schema_;  // postgres: this test's own
};

inline std::string uuid(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "01936f3e-8c1a-7b2e-9f41-%012d", n);
  return buf;
}

// Both plugins, named for the test names; PostgreSQL also without named prepared statements (as
// behind PgBouncer in transaction mode), which takes the other path through pg_pipeline.
inline const auto kStorageCases = testing::Values(
    StorageCase{"sqlite", "Sqlite"}, StorageCase{"postgres", "Postgres"},
    StorageCase{"postgres", "PostgresUnprepared", ", prepared_statements: false"});

}  // namespace ctxmgr::test
