// SqliteStorage's schema: the embedded migrations (schemas/sqlite), what is applied, applying the
// rest (one BEGIN IMMEDIATE per file), and the check of the full-text index after a VACUUM.

#include "ctxmgr/sdk/migrations.hpp"
#include "sqlite_exec.hpp"
#include "sqlite_storage.hpp"

namespace ctxmgr::sqlite {

namespace {

constexpr sdk::Migration kMigrations[] = {
#include "schema_migrations.inc"
};

}  // namespace

sdk::Result<std::vector<std::pair<std::int64_t, std::string>>> SqliteStorage::applied_migrations(
    soci::session& sql) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  int exists = 0;
  sql << "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
      soci::into(exists);
  if (exists == 0) return out;
  long long version = 0;
  std::string name;
  soci::statement st =
      (sql.prepare << "SELECT version, name FROM schema_migrations ORDER BY version",
       soci::into(version), soci::into(name));
  st.execute();
  while (st.fetch()) out.emplace_back(version, name);
  return out;
}

sdk::Result<sdk::SchemaStatus> SqliteStorage::schema_status() {
  try {
    std::lock_guard lock(writer_mu_);
    if (!writer_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
    auto applied = applied_migrations(*writer_);
    if (!applied) return applied.error();
    return sdk::schema_status_of(kMigrations, *applied);
  } catch (const std::exception& e) {
    return fail(e, "read schema status");
  }
}

sdk::Result<std::vector<std::string>> SqliteStorage::migrate() {
  std::lock_guard lock(writer_mu_);
  if (!writer_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  std::vector<std::string> done;
  for (const auto& m : kMigrations) {
    try {
      // BEGIN IMMEDIATE takes the write lock: another process migrating at the same time waits,
      // then sees the migration recorded and skips it.
      exec_script(*writer_, "BEGIN IMMEDIATE");
      exec_script(*writer_,
                  "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
      int applied = 0;
      long long number = m.number;
      *writer_ << "SELECT count(*) FROM schema_migrations WHERE version = :v", soci::into(applied),
          soci::use(number);
      if (applied == 0) {
        exec_script(*writer_, m.sql);
        long long now = host_.clock().now_us();
        std::string name = m.name;
        *writer_ << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, "
                    ":t)",
            soci::use(number), soci::use(name), soci::use(now);
        done.emplace_back(m.name);
      }
      exec_script(*writer_, "COMMIT");
    } catch (const std::exception& e) {
      try {
        exec_script(*writer_, "ROLLBACK");
      } catch (const std::exception&) {
        // No transaction was open: nothing to undo.
      }
      return fail(e, std::string("migration ") + m.name);
    }
  }
  if (!done.empty()) host_.log().info("applied " + std::to_string(done.size()) + " migration(s)");
  if (auto st = check_search_index(); !st) return st.error();
  return done;
}

sdk::Status SqliteStorage::check_search_index() {
  // VACUUM may renumber the rowids of `context` (it has no INTEGER PRIMARY KEY), which join it
  // to context_fts. One pass over the index finds a renumbering; then the index is rebuilt.
  // First the changes another program committed without indexing them (the sqlite3 shell:
  // 18_search_deferred's triggers only noted them).
  try {
    exec_script(*writer_, "BEGIN IMMEDIATE");
    if (index_pending(*statements_)) {
      host_.log().info("indexed the contexts another program changed");
    }
    exec_script(*writer_, "COMMIT");
    int stale = 0;
    *writer_ << "SELECT count(*) FROM context_fts f LEFT JOIN context c ON c.rowid = f.rowid "
                "WHERE c.id IS NOT f.id",
        soci::into(stale);
    int missing = 0;
    *writer_ << "SELECT count(*) FROM context c WHERE c.deleted = 0 AND NOT EXISTS (SELECT 1 FROM "
                "context_fts f WHERE f.rowid = c.rowid)",
        soci::into(missing);
    if (stale == 0 && missing == 0) return {};
    host_.log().warn("the search index is out of step with the contexts (" +
                     std::to_string(stale + missing) +
                     " rows; a VACUUM renumbers rowids): rebuilding it");
    // Every context noted, then written the one way a commit writes its own.
    exec_script(*writer_,
                "BEGIN IMMEDIATE; DELETE FROM context_fts; "
                "INSERT OR IGNORE INTO context_fts_pending (rid) SELECT rowid FROM context;");
    index_pending(*statements_);
    exec_script(*writer_, "COMMIT");
    return {};
  } catch (const std::exception& e) {
    try {
      exec_script(*writer_, "ROLLBACK");
    } catch (const std::exception&) {
      // No transaction was open.
    }
    return fail(e, "check the search index");
  }
}

}  // namespace ctxmgr::sqlite
