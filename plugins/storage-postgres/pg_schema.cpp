// PgStorage's schema: the embedded migrations (schemas/postgres), what is applied, and applying
// the rest, one transaction per file under an advisory lock.

#include "ctxmgr/sdk/migrations.hpp"
#include "pg_storage.hpp"

namespace ctxmgr::pg {

namespace {

constexpr sdk::Migration kMigrations[] = {
#include "schema_migrations.inc"
};

// Every ctxmgr process takes this advisory lock to migrate, so only one migrates at a time.
constexpr long long kMigrationLock = 0x637478'6d67'72LL;  // "ctxmgr"

}  // namespace

sdk::Result<sdk::SchemaStatus> PgStorage::schema_status() {
  if (!pool_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  auto lease = pool_->acquire();
  if (!lease) return lease.error();
  try {
    int exists = 0;
    std::string schema = sql_.schema();
    lease->sql() << "SELECT count(*) FROM information_schema.tables WHERE table_schema = :s AND "
                    "table_name = 'schema_migrations'",
        soci::use(schema), soci::into(exists);
    std::vector<std::pair<std::int64_t, std::string>> applied;
    if (exists != 0) {
      std::vector<long long> versions(std::size(kMigrations) + 16);
      std::vector<std::string> names(versions.size());
      lease->sql() << "SELECT version, name FROM " + sql_.table("schema_migrations") +
                          " ORDER BY version",
          soci::into(versions), soci::into(names);
      if (lease->sql().got_data()) {
        for (std::size_t i = 0; i < versions.size(); ++i)
          applied.emplace_back(versions[i], names[i]);
      }
    }
    return sdk::schema_status_of(kMigrations, applied);
  } catch (const std::exception& e) {
    return fail(*lease, e, "read schema status");
  }
}

sdk::Result<std::vector<std::string>> PgStorage::migrate() {
  if (!pool_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  auto lease = pool_->acquire();
  if (!lease) return lease.error();
  std::vector<std::string> done;
  const std::string schema = "\"" + sql_.schema() + "\"";
  for (const auto& m : kMigrations) {
    try {
      // One transaction per file, under an advisory lock: servers starting together migrate one
      // after another, and each finds what the other already did.
      exec_script(lease->sql(),
                  "BEGIN; SET LOCAL client_min_messages = warning; SELECT pg_advisory_xact_lock(" +
                      std::to_string(kMigrationLock) + "); CREATE SCHEMA IF NOT EXISTS " + schema +
                      "; SET LOCAL search_path TO " + schema +
                      "; CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                      "KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())");
      int applied = 0;
      long long number = m.number;
      lease->sql() << "SELECT count(*) FROM " + sql_.table("schema_migrations") +
                          " WHERE version = :v",
          soci::into(applied), soci::use(number);
      if (applied == 0) {
        exec_script(lease->sql(), m.sql);
        std::string name = m.name;
        lease->sql() << "INSERT INTO " + sql_.table("schema_migrations") +
                            " (version, name) VALUES (:v, :n)",
            soci::use(number), soci::use(name);
        done.emplace_back(m.name);
      }
      exec_script(lease->sql(), "COMMIT");
    } catch (const std::exception& e) {
      try {
        exec_script(lease->sql(), "ROLLBACK");
      } catch (const std::exception&) {
        // The connection is gone or no transaction was open: nothing to undo.
      }
      return fail(*lease, e, std::string("migration ") + m.name);
    }
  }
  if (!done.empty()) host_.log().info("applied " + std::to_string(done.size()) + " migration(s)");
  return done;
}

}  // namespace ctxmgr::pg
