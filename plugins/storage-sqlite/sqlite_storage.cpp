#include "sqlite_storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <soci/sqlite3/soci-sqlite3.h>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "search_tokenizer.hpp"
#include "sqlite_exec.hpp"
#include "sqlite_rows.hpp"
#include "sqlite_transaction.hpp"

namespace ctxmgr::sqlite {

SqliteStorage::SqliteStorage(sdk::Host& host, const sdk::Options& options)
    : host_(host),
      path_(options.get_string("path")),
      busy_timeout_ms_(options.get_int("busy_timeout_ms", 5000)),
      synchronous_(options.get_string("synchronous", "full")),
      read_connections_(static_cast<std::size_t>(options.get_int("read_connections", 4))),
      mmap_mib_(options.get_int("mmap_mib", 1024)),
      rank_budget_(options.get_int("rank_budget", 2000)),
      search_merge_every_(options.get_int("search_merge_every", 1000)) {
  if (path_.empty() || path_ == ":memory:" || path_.starts_with("file:")) {
    throw sdk::Error(sdk::Errc::invalid_request,
                     "options.path: a file path is required (an in-memory database cannot be "
                     "shared between the writer and the readers)");
  }
}

SqliteStorage::~SqliteStorage() { stop(); }

void SqliteStorage::open_session(soci::session& s) const {
  s.open(soci::sqlite3, "db=" + path_);
  // temp_store MEMORY: the statement journal a write inside a savepoint needs (group commit puts
  // every change in one) and transient sort tables stay in memory; on disk each create opened,
  // wrote and unlinked a file in /var/tmp.
  exec_script(s, ("PRAGMA busy_timeout = " + std::to_string(busy_timeout_ms_) + ";" +
                  "PRAGMA foreign_keys = ON;" + "PRAGMA synchronous = " + synchronous_ + ";" +
                  "PRAGMA temp_store = MEMORY;" +
                  // Deleted and replaced content is overwritten, not left in free space: what a
                  // redaction erases is gone from the file (Debian's build has it on already).
                  "PRAGMA secure_delete = ON;" +
                  "PRAGMA mmap_size = " + std::to_string(mmap_mib_ * 1024 * 1024) + ";")
                     .c_str());
  register_search_tokenizer(native(s));
}

namespace {

// The database holds every context: its folder is made 0700 and its file 0600 whatever the
// umask (SQLite gives the -wal and -shm files the database file's mode). Existing ones are left
// as the operator set them, with a warning when others may read them.
void create_private(const std::string& path, sdk::Host& host) {
  namespace fs = std::filesystem;
  const auto parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::exists(parent)) {
    fs::create_directories(parent);
    fs::permissions(parent, fs::perms::owner_all);
  }
  if (!fs::exists(path)) {
    const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
      ::fchmod(fd, 0600);
      ::close(fd);
    }
  }
  for (const auto& p : {parent.empty() ? fs::path(".") : parent, fs::path(path)}) {
    std::error_code ec;
    const auto perms = fs::status(p, ec).permissions();
    if (!ec && (perms & (fs::perms::group_read | fs::perms::others_read)) != fs::perms::none) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(perms) & 07777);
      host.log().warn(p.string() + " may be read by other users (mode " + mode +
                      "): the database holds every context; chmod it to " +
                      (p == fs::path(path) ? "0600" : "0700"));
    }
  }
}

}  // namespace

sdk::Status SqliteStorage::start() {
  try {
    create_private(path_, host_);
    writer_ = std::make_unique<soci::session>();
    open_session(*writer_);
    // WAL: readers do not block the writer nor the writer the readers. It is a property of the
    // file, so setting it once on the writer is enough.
    exec_script(*writer_, "PRAGMA journal_mode = WAL;");
    statements_ = std::make_unique<WriterStatements>(native(*writer_));
    readers_.open(
        read_connections_, [this](soci::session& s) { open_session(s); }, host_.metrics());
    auto watching = std::make_unique<soci::session>();
    open_session(*watching);
    wal_watch_.open(std::move(watching));
    epoch_reader_ = std::make_unique<soci::session>();
    open_session(*epoch_reader_);
    // SOCI 4.0's sqlite3 backend fills a table of column types (a function-local static) the
    // first time it describes a column. Its initialisation guard sits in that uninstrumented
    // library, so ThreadSanitizer reports the first two threads that query as a race. Describe
    // one column here, on the starting thread, before any thread of ours exists.
    {
      soci::row described;
      *epoch_reader_ << "SELECT 1", soci::into(described);
    }
    epoch_.start(
        [this] {
          long long n = 0;
          *epoch_reader_ << "SELECT n FROM access_epoch", soci::into(n);
          return static_cast<std::int64_t>(n);
        },
        std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  } catch (const std::exception& e) {
    return fail(e, "open " + path_);
  }
  host_.log().info("opened " + path_ + " (WAL, synchronous=" + synchronous_ + ", " +
                   std::to_string(read_connections_) + " reader connection(s))");
  return {};
}

void SqliteStorage::stop() noexcept {
  epoch_.stop();
  epoch_reader_.reset();
  wal_watch_.close();
  std::lock_guard lock(writer_mu_);
  readers_.close();
  statements_.reset();
  writer_.reset();
}

sdk::Error SqliteStorage::fail(const std::exception& e, const std::string& what) {
  auto error = storage_error(e, what);
  // A duplicate is the request's outcome (a taken memory path, an idempotent repeat), not a fault.
  if (error.code() == sdk::Errc::conflict) {
    host_.log().info(what + ": " + loggable(e));
  } else {
    host_.log().error(what + ": " + loggable(e));
  }
  return error;
}

sdk::Result<std::unique_ptr<sdk::Transaction>> SqliteStorage::begin() {
  auto tx = begin_batch();
  if (!tx) return tx.error();
  return std::unique_ptr<sdk::Transaction>(std::move(*tx));
}

sdk::Result<std::unique_ptr<sdk::BatchTransaction>> SqliteStorage::begin_batch() {
  // One writer: how long a change waits for it is the queue SQLite's design puts writes in.
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(writer_mu_);
  host_.metrics().observe(
      "ctxmgr_sqlite_writer_wait_seconds", "",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (!writer_) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  try {
    statements_->run("BEGIN IMMEDIATE");
  } catch (const std::exception& e) {
    return fail(e, "begin transaction");
  }
  return std::unique_ptr<sdk::BatchTransaction>(
      std::make_unique<SqliteTransaction>(*this, *writer_, *statements_, std::move(lock)));
}

sdk::Result<std::optional<sdk::ContextRow>> SqliteStorage::get(std::string_view id) {
  if (!readers_.is_open()) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
  try {
    auto slot = readers_.acquire();
    if (!slot->get_context) {
      slot->get_context = prepare_query(
          slot->sql, std::string("SELECT ") + kContextColumns + " FROM context WHERE id = :id",
          slot->get_into, slot->get_key);
    }
    slot->get_key.assign(id);
    if (!slot->get_context->execute(true)) return std::optional<sdk::ContextRow>();
    std::optional<sdk::ContextRow> row(slot->get_into.row());
    // Step the statement to its end: a statement left on a row keeps the connection's read
    // transaction, and so an old snapshot, open for every later query on this connection.
    slot->get_context->fetch();
    return row;
  } catch (const std::exception& e) {
    return fail(e, "read context");
  }
}

sdk::Result<std::optional<sdk::HistoryRow>> SqliteStorage::get_version(std::string_view id,
                                                                       std::int64_t version) {
  try {
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    HistoryInto into;
    std::string key(id);
    long long v = version;
    auto st = prepare_query(sql,
                            std::string("SELECT ") + kHistoryColumns +
                                " FROM context_history WHERE context_id = :id AND version = :v",
                            into, key, v);
    st.execute();
    if (!st.fetch()) return std::optional<sdk::HistoryRow>();
    return std::optional<sdk::HistoryRow>(into.row());
  } catch (const std::exception& e) {
    return fail(e, "read version");
  }
}

sdk::Result<std::vector<sdk::HistoryRow>> SqliteStorage::history(std::string_view id,
                                                                 std::int64_t before_version,
                                                                 std::int64_t limit) {
  try {
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    HistoryInto into;
    std::string key(id);
    long long before = before_version > 0 ? before_version : INT64_MAX;
    long long lim = limit;
    auto st = prepare_query(sql,
                            std::string("SELECT ") + kHistoryColumns +
                                " FROM context_history WHERE context_id = :id AND version < "
                                ":before ORDER BY version DESC LIMIT :lim",
                            into, key, before, lim);
    st.execute();
    std::vector<sdk::HistoryRow> out;
    while (st.fetch()) out.push_back(into.row());
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read history");
  }
}

sdk::Result<std::vector<sdk::ContextRow>> SqliteStorage::list(const sdk::ListQuery& q) {
  try {
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    ContextInto into;
    std::string agent = q.agent_id;
    int include_deleted = q.include_deleted ? 1 : 0;
    std::string tag = q.tag.value_or("");
    int has_tag = q.tag ? 1 : 0;
    long long after_at = q.after_updated_at_us.value_or(INT64_MAX);
    std::string after_id = q.after_id.value_or("");
    int has_cursor = q.after_updated_at_us ? 1 : 0;
    long long lim = q.limit;
    long long after_at2 = after_at;
    std::string granted_to = q.granted_to.value_or("");
    int has_grantee = q.granted_to ? 1 : 0;
    auto st = prepare_query(
        sql,
        std::string("SELECT ") + kContextColumns +
            " FROM context WHERE agent_id = :agent AND (:inc = 1 OR deleted = 0)"
            " AND (:has_tag = 0 OR EXISTS (SELECT 1 FROM json_each(context.metadata, '$.tags')"
            " WHERE value = :tag))"
            " AND (:has_cursor = 0 OR updated_at < :after_at OR (updated_at = :after_at2 AND"
            " id < :after_id))"
            " AND (:has_grantee = 0 OR EXISTS (SELECT 1 FROM context_grants g WHERE g.context_id"
            " = context.id AND g.agent_id = :grantee))"
            " ORDER BY updated_at DESC, id DESC LIMIT :lim",
        into, agent, include_deleted, has_tag, tag, has_cursor, after_at, after_at2, after_id,
        has_grantee, granted_to, lim);
    st.execute();
    std::vector<sdk::ContextRow> out;
    while (st.fetch()) out.push_back(into.row());
    return out;
  } catch (const std::exception& e) {
    return fail(e, "list contexts");
  }
}

namespace {

// Reads access_log rows selected by `where` (which binds the parameters in `uses`, in order).
template <class... Uses>
std::vector<sdk::AuditEvent> read_events(soci::session& sql, const std::string& where,
                                         Uses&... uses) {
  sdk::AuditEvent ev;
  long long seq = 0, at = 0;
  std::string context_id;
  soci::indicator ind = soci::i_ok;
  soci::statement st(sql);
  st.exchange(soci::into(seq));
  st.exchange(soci::into(at));
  st.exchange(soci::into(ev.agent_id));
  st.exchange(soci::into(ev.action));
  st.exchange(soci::into(context_id, ind));
  st.exchange(soci::into(ev.transport));
  st.exchange(soci::into(ev.request_id));
  st.exchange(soci::into(ev.details));
  (st.exchange(soci::use(uses)), ...);
  st.alloc();
  st.prepare(
      "SELECT seq, at, agent_id, action, context_id, transport, request_id, details FROM "
      "access_log " +
      where);
  st.define_and_bind();
  st.execute();
  std::vector<sdk::AuditEvent> out;
  while (st.fetch()) {
    ev.seq = seq;
    ev.at_us = at;
    ev.context_id = ind == soci::i_null ? std::string() : context_id;
    out.push_back(ev);
  }
  return out;
}

}  // namespace

sdk::Result<std::vector<sdk::AuditEvent>> SqliteStorage::audit(const sdk::AuditQuery& q) {
  try {
    auto slot = readers_.acquire();
    int has_ctx = q.context_id ? 1 : 0, has_agent = q.agent_id ? 1 : 0,
        has_action = q.action ? 1 : 0, has_owner = q.owner ? 1 : 0;
    std::string ctx = q.context_id.value_or(""), agent = q.agent_id.value_or(""),
                action = q.action.value_or(""), owner = q.owner.value_or("");
    long long since = q.since_us.value_or(INT64_MIN), until = q.until_us.value_or(INT64_MAX);
    long long before = q.before_seq > 0 ? q.before_seq : INT64_MAX;
    long long lim = q.limit;
    return read_events(
        slot->sql,
        "WHERE (:hc = 0 OR context_id = :c) AND (:ha = 0 OR agent_id = :a)"
        " AND (:hx = 0 OR action = :x) AND at >= :since AND at < :until AND seq < :before"
        " AND (:ho = 0 OR EXISTS (SELECT 1 FROM context o WHERE o.id = access_log.context_id"
        " AND o.agent_id = :o)) ORDER BY seq DESC LIMIT :lim",
        has_ctx, ctx, has_agent, agent, has_action, action, since, until, before, has_owner, owner,
        lim);
  } catch (const std::exception& e) {
    return fail(e, "read audit log");
  }
}

sdk::Result<std::vector<sdk::AuditEvent>> SqliteStorage::audit_range(std::int64_t after_seq,
                                                                     std::int64_t through_seq,
                                                                     std::int64_t limit) {
  try {
    auto slot = readers_.acquire();
    long long after = after_seq, through = through_seq, lim = limit;
    return read_events(slot->sql, "WHERE seq > :after AND seq <= :through ORDER BY seq LIMIT :lim",
                       after, through, lim);
  } catch (const std::exception& e) {
    return fail(e, "read audit log");
  }
}

sdk::Result<std::int64_t> SqliteStorage::audit_horizon() {
  try {
    // One writer at a time: what a reader sees committed has no hole below it.
    auto slot = readers_.acquire();
    long long seq = 0;
    soci::indicator ind = soci::i_ok;
    slot->sql << "SELECT max(seq) FROM access_log", soci::into(seq, ind);
    return static_cast<std::int64_t>(ind == soci::i_null ? 0 : seq);
  } catch (const std::exception& e) {
    return fail(e, "read audit horizon");
  }
}

sdk::Result<std::vector<sdk::AuditSeal>> SqliteStorage::seals(std::int64_t after_seq,
                                                              std::int64_t limit) {
  try {
    auto slot = readers_.acquire();
    sdk::AuditSeal seal;
    long long seq = 0, after = after_seq, lim = limit;
    soci::statement st = (slot->sql.prepare << "SELECT seq, hash FROM access_log_seal WHERE seq > "
                                               ":after ORDER BY seq LIMIT :lim",
                          soci::into(seq), soci::into(seal.hash), soci::use(after), soci::use(lim));
    st.execute();
    std::vector<sdk::AuditSeal> out;
    while (st.fetch()) {
      seal.seq = seq;
      out.push_back(seal);
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read audit seals");
  }
}

sdk::Result<std::vector<sdk::AgentRow>> SqliteStorage::query_agents(const std::string& where,
                                                                    const std::string& key,
                                                                    long long limit) {
  try {
    auto slot = readers_.acquire();
    sdk::AgentRow a;
    long long created = 0;
    int disabled = 0;
    std::string k = key;
    soci::statement st =
        (slot->sql.prepare << "SELECT a.agent_id, a.display_name, a.role, a.created_at, a.disabled "
                              "FROM agents a " +
                                  where + " LIMIT :lim",
         soci::into(a.agent_id), soci::into(a.display_name), soci::into(a.role),
         soci::into(created), soci::into(disabled), soci::use(k), soci::use(limit));
    st.execute();
    std::vector<sdk::AgentRow> out;
    while (st.fetch()) {
      a.created_at_us = created;
      a.disabled = disabled != 0;
      out.push_back(a);
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read agents");
  }
}

sdk::Result<std::optional<sdk::AgentRow>> SqliteStorage::get_agent(std::string_view agent_id) {
  auto rows = query_agents("WHERE a.agent_id = :k", std::string(agent_id), 1);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<sdk::AgentRow>();
  return std::optional<sdk::AgentRow>(rows->front());
}

sdk::Result<std::vector<sdk::AgentRow>> SqliteStorage::list_agents(std::string_view after_id,
                                                                   std::int64_t limit) {
  return query_agents("WHERE a.agent_id > :k ORDER BY a.agent_id", std::string(after_id), limit);
}

sdk::Result<std::optional<sdk::AgentRow>> SqliteStorage::agent_by_token(
    std::string_view token_hash) {
  auto rows = query_agents("JOIN agent_tokens t ON t.agent_id = a.agent_id WHERE t.token_hash = :k",
                           std::string(token_hash), 1);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<sdk::AgentRow>();
  return std::optional<sdk::AgentRow>(rows->front());
}

sdk::Result<std::vector<sdk::GrantRow>> SqliteStorage::grants(sdk::GrantScope scope,
                                                              std::string_view scope_id) {
  try {
    auto slot = readers_.acquire();
    const bool ctx = scope == sdk::GrantScope::context;
    sdk::GrantRow g;
    long long at = 0;
    std::string key(scope_id);
    soci::statement st =
        (slot->sql.prepare << std::string("SELECT ") + (ctx ? "context_id" : "owner_id") +
                                  ", agent_id, permission, granted_by, granted_at FROM " +
                                  (ctx ? "context_grants WHERE context_id"
                                       : "owner_grants WHERE owner_id") +
                                  " = :k ORDER BY agent_id",
         soci::into(g.scope_id), soci::into(g.agent_id), soci::into(g.permission),
         soci::into(g.granted_by), soci::into(at), soci::use(key));
    st.execute();
    std::vector<sdk::GrantRow> out;
    while (st.fetch()) {
      g.granted_at_us = at;
      out.push_back(g);
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read grants");
  }
}

sdk::Result<std::vector<std::string>> SqliteStorage::permissions(std::string_view context_id,
                                                                 std::string_view owner_id,
                                                                 std::string_view agent_id) {
  try {
    auto slot = readers_.acquire();
    std::string ctx(context_id), owner(owner_id), agent(agent_id), agent2(agent_id), perm;
    soci::statement st =
        (slot->sql.prepare << "SELECT permission FROM context_grants WHERE context_id = :c AND "
                              "agent_id = :a UNION ALL SELECT permission FROM owner_grants WHERE "
                              "owner_id = :o AND agent_id = :a2",
         soci::into(perm), soci::use(ctx), soci::use(agent), soci::use(owner), soci::use(agent2));
    st.execute();
    std::vector<std::string> out;
    while (st.fetch()) out.push_back(perm);
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read permissions");
  }
}

sdk::Result<sdk::StoreStats> SqliteStorage::stats() {
  try {
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    sdk::StoreStats st;
    long long a = 0, b = 0, c = 0, d = 0, e = 0;
    sql << "SELECT (SELECT count(*) FROM context WHERE deleted = 0), (SELECT count(*) FROM "
           "context WHERE deleted = 1), (SELECT count(*) FROM context_history), (SELECT count(*) "
           "FROM agents), (SELECT count(*) FROM access_log)",
        soci::into(a), soci::into(b), soci::into(c), soci::into(d), soci::into(e);
    st.contexts = a;
    st.deleted = b;
    st.versions = c;
    st.agents = d;
    st.audit_events = e;
    std::string agent;
    long long n = 0;
    soci::statement q = (sql.prepare << "SELECT agent_id, count(*) FROM context WHERE deleted = 0 "
                                        "GROUP BY agent_id ORDER BY count(*) DESC, agent_id",
                         soci::into(agent), soci::into(n));
    q.execute();
    while (q.fetch()) st.contexts_per_agent.emplace_back(agent, n);
    return st;
  } catch (const std::exception& e) {
    return fail(e, "read stats");
  }
}

sdk::Status SqliteStorage::ping() {
  try {
    if (!readers_.is_open()) return sdk::Error(sdk::Errc::unavailable, "storage is not started");
    auto slot = readers_.acquire();
    soci::session& sql = slot->sql;
    int one = 0;
    sql << "SELECT 1", soci::into(one);
    return {};
  } catch (const std::exception& e) {
    return fail(e, "ping");
  }
}

namespace {

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::required(
        option::string("path", nullptr, "the database file; its folder is created if missing")),
    option::integer("busy_timeout_ms", 0, 600000, "5000",
                    "how long a statement waits for another process's lock before 503"),
    option::choice("synchronous", "full|normal", "\"full\"",
                   "full: every commit is on disk before it is acknowledged (survives power "
                   "loss); normal: survives a crash of the process, not of the machine"),
    option::integer("read_connections", 1, 64, "4",
                    "connections for concurrent reads (writes use one connection)"),
    option::integer("rank_budget", 1, 100000000, "2000",
                    "selection: how many full-text matches are ranked at most to pick the "
                    "candidates (docs/selection.md); more is more exact and slower"),
    option::integer("search_merge_every", 0, 1000000000, "1000",
                    "after this many writes that change the full-text index, merge up to 200 "
                    "pages of its segments, so that patches and purges do not leave it "
                    "fragmented (docs/storage-sqlite.md); 0: only FTS5's own merging"),
    option::integer("mmap_mib", 0, 1048576, "1024",
                    "reads through a memory map of up to this many MiB of the file (address "
                    "space shared with the OS page cache, not extra memory); 0: read() calls"),
};

}  // namespace

}  // namespace ctxmgr::sqlite

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::storage, "sqlite", "1.0.0",
              "embedded SQLite storage (WAL) through SOCI", ctxmgr::sqlite::SqliteStorage,
              ctxmgr::sqlite::kOptions)
