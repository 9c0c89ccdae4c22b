#include "pg_storage.hpp"

#include <libpq-fe.h>

#include <soci/postgresql/soci-postgresql.h>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "pg_pipeline.hpp"
#include "pg_transaction.hpp"

namespace ctxmgr::pg {

namespace {

bool valid_schema(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

PgStorage::PgStorage(sdk::Host& host, const sdk::Options& options)
    : host_(host),
      conninfo_(options.get_string("url")),
      sql_(options.get_string("schema", "public")),
      pool_size_(static_cast<std::size_t>(options.get_int("pool_size", 8))),
      acquire_timeout_(options.get_int("acquire_timeout_ms", 2000)),
      rank_budget_(static_cast<double>(options.get_int("rank_budget", 2000))),
      jit_(options.get_bool("jit", false)),
      prepare_(options.get_bool("prepared_statements", true)),
      listener_(host.log()) {
  if (!valid_schema(sql_.schema())) {
    throw sdk::Error(sdk::Errc::invalid_request,
                     "options.schema: expected a lower-case name ([a-z_][a-z0-9_]*, at most 63)");
  }
  // libpq's own connect timeout (seconds), unless the URL sets one: fail fast when the server is
  // down instead of hanging a request.
  const auto timeout = std::to_string(options.get_int("connect_timeout_s", 3));
  auto with_timeout = [&](std::string& conninfo) {
    if (conninfo.find("connect_timeout") != std::string::npos) return;
    if (conninfo.find("://") != std::string::npos) {
      conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&") +
                  std::string("connect_timeout=") + timeout;
    } else {
      conninfo += " connect_timeout=" + timeout;
    }
  };
  with_timeout(conninfo_);
  // LISTEN needs a session of its own: behind a transaction-mode PgBouncer, point listen_url at
  // the database itself (docs/storage-postgres.md).
  listen_conninfo_ = options.get_string("listen_url", "");
  if (listen_conninfo_.empty()) listen_conninfo_ = conninfo_;
  with_timeout(listen_conninfo_);
  replica_settings_.urls = options.get_strings("replicas");
  for (auto& url : replica_settings_.urls) with_timeout(url);
  replica_settings_.pool_size = static_cast<std::size_t>(options.get_int("replica_pool_size", 8));
  replica_settings_.acquire_timeout = acquire_timeout_;
  replica_settings_.max_lag =
      std::chrono::milliseconds(options.get_int("replica_max_lag_ms", 10000));
  replica_settings_.wait = std::chrono::milliseconds(options.get_int("replica_wait_ms", 100));
  replica_settings_.check = std::chrono::milliseconds(options.get_int("replica_check_ms", 500));
  replica_settings_.on_connect = session_settings();
  replica_settings_.prepare = prepare_;
}

PgStorage::~PgStorage() { stop(); }

sdk::Status PgStorage::start() {
  pool_ = std::make_unique<PgPool>(conninfo_, session_settings(), pool_size_, acquire_timeout_,
                                   prepare_, host_.log(), host_.metrics());
  auto lease = pool_->acquire();
  if (!lease) return lease.error();
  listener_.start(listen_conninfo_, session_settings(), sql_.schema());
  host_.log().info("connected to PostgreSQL (schema " + sql_.schema() + ", pool of " +
                   std::to_string(pool_size_) + ")");
  if (!replica_settings_.urls.empty()) {
    replicas_ = std::make_unique<ReplicaSet>(
        replica_settings_,
        [this]() -> std::optional<std::uint64_t> {
          const auto text = wal_position("pg_current_wal_lsn");
          const auto lsn = text ? parse_lsn(*text) : std::nullopt;
          if (!lsn || *lsn == 0) return std::nullopt;
          return lsn;
        },
        host_.log(), host_.metrics());
    replicas_->start();
    host_.log().info("reading from " + std::to_string(replicas_->size()) +
                     " replica(s) where a replica may serve (docs/scaling.md)");
  }
  return {};
}

void PgStorage::stop() noexcept {
  if (replicas_) replicas_->stop();
  replicas_.reset();
  listener_.stop();
  if (pool_) pool_->close();
  pool_.reset();
}

sdk::Error PgStorage::fail(const PgPool::Lease& lease, const std::exception& e,
                           const std::string& what) {
  if (connection_lost(e)) lease.mark_broken();
  auto error = storage_error(e, what);
  // A duplicate is the request's outcome (a taken memory path, an idempotent repeat), not a fault.
  if (error.code() == sdk::Errc::conflict) {
    host_.log().info(what + ": " + loggable(e));
  } else {
    host_.log().error(what + ": " + loggable(e));
  }
  return error;
}

sdk::Result<std::unique_ptr<sdk::Transaction>> PgStorage::begin() {
  auto tx = begin_batch();
  if (!tx) return tx.error();
  return std::unique_ptr<sdk::Transaction>(std::move(*tx));
}

sdk::Result<std::unique_ptr<sdk::BatchTransaction>> PgStorage::begin_batch() {
  // BEGIN is the first round trip of every write: a connection found lost there has done
  // nothing, so the transaction begins once more on a reopened one.
  return reading("begin transaction",
                 [&](PgPool::Lease& lease) -> sdk::Result<std::unique_ptr<sdk::BatchTransaction>> {
                   lease.sql() << "BEGIN";
                   return std::unique_ptr<sdk::BatchTransaction>(
                       std::make_unique<PgTransaction>(*this, std::move(lease)));
                 });
}

sdk::Result<std::optional<sdk::ContextRow>> PgStorage::get(std::string_view id) {
  return reading("read context",
                 [&](PgPool::Lease& lease) -> sdk::Result<std::optional<sdk::ContextRow>> {
                   Pipeline one;
                   const auto rows =
                       one.send(lease, "read context", sql_.hot().context_by_id, {std::string(id)});
                   if (rows.empty()) return std::optional<sdk::ContextRow>();
                   return std::optional<sdk::ContextRow>(context_row(rows.front()));
                 });
}

sdk::Result<std::optional<sdk::HistoryRow>> PgStorage::get_version(std::string_view id,
                                                                   std::int64_t version) {
  return replica_reading("read version",
                         [&](PgPool::Lease& lease) -> sdk::Result<std::optional<sdk::HistoryRow>> {
                           HistoryRows rows(1);
                           std::string key(id);
                           long long v = version;
                           {
                             auto q = (lease.sql() << sql_.select_history(
                                           "context_id = CAST(:id AS uuid) AND version = :v"));
                             rows.bind_into(q);
                             q, soci::use(key), soci::use(v);
                           }
                           rows.settle(lease.sql());
                           if (rows.size() == 0) return std::optional<sdk::HistoryRow>();
                           return std::optional<sdk::HistoryRow>(rows.row(0));
                         });
}

sdk::Result<std::vector<sdk::HistoryRow>> PgStorage::history(std::string_view id,
                                                             std::int64_t before_version,
                                                             std::int64_t limit) {
  return replica_reading(
      "read history", [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::HistoryRow>> {
        HistoryRows rows(static_cast<std::size_t>(std::max<std::int64_t>(limit, 1)));
        std::string key(id);
        long long before = before_version > 0 ? before_version : INT32_MAX;
        long long lim = limit;
        {
          auto q =
              (lease.sql() << sql_.select_history(
                   "context_id = CAST(:id AS uuid) AND version < :before ORDER BY version DESC "
                   "LIMIT :lim"));
          rows.bind_into(q);
          q, soci::use(key), soci::use(before), soci::use(lim);
        }
        rows.settle(lease.sql());
        std::vector<sdk::HistoryRow> out;
        for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(rows.row(i));
        return out;
      });
}

sdk::Result<std::vector<sdk::ContextRow>> PgStorage::list(const sdk::ListQuery& q) {
  return replica_reading(
      "list contexts", [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::ContextRow>> {
        ContextRows rows(static_cast<std::size_t>(std::max<std::int64_t>(q.limit, 1)));
        std::string agent = q.agent_id;
        int include_deleted = q.include_deleted ? 1 : 0;
        std::string tag = q.tag.value_or("");
        int has_tag = q.tag ? 1 : 0;
        int has_cursor = q.after_updated_at_us ? 1 : 0;
        long long after_at = q.after_updated_at_us.value_or(0);
        std::string after_id = q.after_id.value_or("00000000-0000-0000-0000-000000000000");
        long long lim = q.limit;
        std::string granted_to = q.granted_to.value_or("");
        int has_grantee = q.granted_to ? 1 : 0;
        {
          auto query = (lease.sql() << sql_.select_context(
                            "agent_id = :agent AND (:inc = 1 OR NOT deleted)"
                            " AND (:has_tag = 0 OR metadata_jsonb @> jsonb_build_object('tags', "
                            "jsonb_build_array(CAST(:tag AS TEXT))))"
                            " AND (:has_cursor = 0 OR (updated_at, id) < (" +
                            from_us("after_at") +
                            ", CAST(:after_id AS uuid)))"
                            " AND (:has_grantee = 0 OR EXISTS (SELECT 1 FROM " +
                            sql_.table("context_grants") +
                            " g WHERE g.context_id = id AND g.agent_id = :grantee))"
                            " ORDER BY updated_at DESC, id DESC LIMIT :lim"));
          rows.bind_into(query);
          query, soci::use(agent), soci::use(include_deleted), soci::use(has_tag), soci::use(tag),
              soci::use(has_cursor), soci::use(after_at), soci::use(after_id),
              soci::use(has_grantee), soci::use(granted_to), soci::use(lim);
        }
        rows.settle(lease.sql());
        std::vector<sdk::ContextRow> out;
        for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(rows.row(i));
        return out;
      });
}

sdk::Result<std::vector<sdk::AgentRow>> PgStorage::query_agents(const std::string& where,
                                                                const std::string& key,
                                                                long long limit) {
  return reading("read agents", [&](PgPool::Lease& lease) {
    const auto n = static_cast<std::size_t>(std::max<long long>(limit, 1));
    std::vector<std::string> id(n), name(n), role(n);
    std::vector<long long> created(n);
    std::vector<int> disabled(n);
    lease.sql() << "SELECT a.agent_id, a.display_name, a.role, "
                   "CAST(EXTRACT(EPOCH FROM a.created_at) * 1000000 AS BIGINT), "
                   "CASE WHEN a.disabled THEN 1 ELSE 0 END FROM " +
                       sql_.table("agents") + " a " + where + " LIMIT :lim",
        soci::into(id), soci::into(name), soci::into(role), soci::into(created),
        soci::into(disabled), soci::use(key), soci::use(limit);
    std::vector<sdk::AgentRow> out;
    if (!lease.sql().got_data()) return sdk::Result<std::vector<sdk::AgentRow>>(out);
    for (std::size_t i = 0; i < id.size(); ++i) {
      out.push_back({id[i], name[i], role[i], created[i], disabled[i] != 0});
    }
    return sdk::Result<std::vector<sdk::AgentRow>>(out);
  });
}

sdk::Result<std::optional<sdk::AgentRow>> PgStorage::get_agent(std::string_view agent_id) {
  auto rows = query_agents("WHERE a.agent_id = :k", std::string(agent_id), 1);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<sdk::AgentRow>();
  return std::optional<sdk::AgentRow>(rows->front());
}

sdk::Result<std::vector<sdk::AgentRow>> PgStorage::list_agents(std::string_view after_id,
                                                               std::int64_t limit) {
  return query_agents("WHERE a.agent_id > :k ORDER BY a.agent_id", std::string(after_id), limit);
}

sdk::Result<std::optional<sdk::AgentRow>> PgStorage::agent_by_token(std::string_view token_hash) {
  auto rows = query_agents("JOIN " + sql_.table("agent_tokens") +
                               " t ON t.agent_id = a.agent_id WHERE t.token_hash = :k",
                           std::string(token_hash), 1);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<sdk::AgentRow>();
  return std::optional<sdk::AgentRow>(rows->front());
}

sdk::Result<std::vector<sdk::GrantRow>> PgStorage::grants(sdk::GrantScope scope,
                                                          std::string_view scope_id) {
  using R = sdk::Result<std::vector<sdk::GrantRow>>;
  return reading("read grants", [&](PgPool::Lease& lease) {
    const bool ctx = scope == sdk::GrantScope::context;
    constexpr std::size_t kMax = 10000;  // grants of one context or owner
    std::vector<std::string> sid(kMax), agent(kMax), perm(kMax), by(kMax);
    std::vector<long long> at(kMax);
    std::string key(scope_id);
    lease.sql() << std::string("SELECT CAST(") + (ctx ? "context_id" : "owner_id") +
                       " AS TEXT), agent_id, permission, granted_by, "
                       "CAST(EXTRACT(EPOCH FROM granted_at) * 1000000 AS BIGINT) FROM " +
                       (ctx ? sql_.table("context_grants") + " WHERE context_id = CAST(:k AS uuid)"
                            : sql_.table("owner_grants") + " WHERE owner_id = :k") +
                       " ORDER BY agent_id",
        soci::into(sid), soci::into(agent), soci::into(perm), soci::into(by), soci::into(at),
        soci::use(key);
    std::vector<sdk::GrantRow> out;
    if (!lease.sql().got_data()) return R(out);
    for (std::size_t i = 0; i < sid.size(); ++i)
      out.push_back({sid[i], agent[i], perm[i], by[i], at[i]});
    return R(out);
  });
}

sdk::Result<std::vector<std::string>> PgStorage::permissions(std::string_view context_id,
                                                             std::string_view owner_id,
                                                             std::string_view agent_id) {
  using R = sdk::Result<std::vector<std::string>>;
  return reading("read permissions", [&](PgPool::Lease& lease) {
    std::vector<std::string> perms(2);
    std::string ctx(context_id), owner(owner_id), agent(agent_id), agent2(agent_id);
    lease.sql() << "SELECT permission FROM " + sql_.table("context_grants") +
                       " WHERE context_id = CAST(:c AS uuid) AND agent_id = :a UNION ALL SELECT "
                       "permission FROM " +
                       sql_.table("owner_grants") + " WHERE owner_id = :o AND agent_id = :a2",
        soci::into(perms), soci::use(ctx), soci::use(agent), soci::use(owner), soci::use(agent2);
    if (!lease.sql().got_data()) perms.clear();
    return R(perms);
  });
}

sdk::Result<std::vector<sdk::AuditEvent>> PgStorage::query_events(const std::string& where,
                                                                  std::vector<std::string> params,
                                                                  std::int64_t limit,
                                                                  bool replica) {
  using R = sdk::Result<std::vector<sdk::AuditEvent>>;
  auto read = [&](PgPool::Lease& lease) {
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(limit, 1));
    std::vector<long long> seq(n), at(n);
    std::vector<std::string> agent(n), action(n), ctx(n), transport(n), rid(n), details(n);
    std::vector<soci::indicator> ctx_ind(n);
    long long lim = limit;
    {
      auto q = (lease.sql() << "SELECT seq, CAST(EXTRACT(EPOCH FROM at) * 1000000 AS BIGINT), "
                               "agent_id, action, CAST(context_id AS TEXT), transport, request_id, "
                               "details FROM " +
                                   sql_.table("access_log") + " " + where);
      q, soci::into(seq), soci::into(at), soci::into(agent), soci::into(action),
          soci::into(ctx, ctx_ind), soci::into(transport), soci::into(rid), soci::into(details);
      for (auto& p : params) q, soci::use(p);
      q, soci::use(lim);
    }
    std::vector<sdk::AuditEvent> out;
    if (!lease.sql().got_data()) return R(out);
    for (std::size_t i = 0; i < seq.size(); ++i) {
      out.push_back({seq[i], at[i], agent[i], action[i],
                     ctx_ind[i] == soci::i_null ? std::string() : ctx[i], transport[i], rid[i],
                     details[i]});
    }
    return R(out);
  };
  return replica ? replica_reading("read audit log", read) : reading("read audit log", read);
}

sdk::Result<std::vector<sdk::AuditEvent>> PgStorage::audit(const sdk::AuditQuery& q) {
  std::vector<std::string> p = {q.context_id ? "1" : "0",
                                q.context_id.value_or("00000000-0000-0000-0000-000000000000"),
                                q.agent_id ? "1" : "0",
                                q.agent_id.value_or(""),
                                q.action ? "1" : "0",
                                q.action.value_or(""),
                                q.since_us ? "1" : "0",
                                std::to_string(q.since_us.value_or(0)),
                                q.until_us ? "1" : "0",
                                std::to_string(q.until_us.value_or(0)),
                                std::to_string(q.before_seq > 0 ? q.before_seq : INT64_MAX),
                                q.owner ? "1" : "0",
                                q.owner.value_or("")};
  return query_events(
      "WHERE (:p0 = '0' OR context_id = CAST(:p1 AS uuid)) AND (:p2 = '0' OR agent_id = :p3)"
      " AND (:p4 = '0' OR action = :p5)"
      " AND (:p6 = '0' OR at >= " +
          from_us("p7") +
          ")"
          " AND (:p8 = '0' OR at < " +
          from_us("p9") +
          ")"
          " AND seq < CAST(:p10 AS BIGINT)"
          " AND (:p11 = '0' OR EXISTS (SELECT 1 FROM " +
          sql_.table("context") +
          " o WHERE o.id = context_id AND o.agent_id = :p12))"
          " ORDER BY seq DESC LIMIT :lim",
      std::move(p), q.limit, true);
}

sdk::Result<std::vector<sdk::AuditEvent>> PgStorage::audit_range(std::int64_t after_seq,
                                                                 std::int64_t through_seq,
                                                                 std::int64_t limit) {
  return query_events(
      "WHERE seq > CAST(:p0 AS BIGINT) AND seq <= CAST(:p1 AS BIGINT) ORDER BY seq LIMIT :lim",
      {std::to_string(after_seq), std::to_string(through_seq)}, limit, false);
}

sdk::Result<std::int64_t> PgStorage::audit_horizon() {
  using R = sdk::Result<std::int64_t>;
  return reading("read audit horizon", [&](PgPool::Lease& lease) {
    // EXCLUSIVE waits for every transaction that is inserting events to end and holds new ones
    // for the moment of one SELECT: below the max then, no event can still appear.
    long long seq = 0;
    soci::indicator ind = soci::i_ok;
    lease.sql() << "BEGIN";
    try {
      lease.sql() << "LOCK TABLE " + sql_.table("access_log") + " IN EXCLUSIVE MODE";
      lease.sql() << "SELECT max(seq) FROM " + sql_.table("access_log"), soci::into(seq, ind);
      lease.sql() << "COMMIT";
    } catch (...) {
      try {
        lease.sql() << "ROLLBACK";
      } catch (const std::exception&) {
        // The connection is gone; the pool reopens it.
      }
      throw;
    }
    return R(static_cast<std::int64_t>(ind == soci::i_null ? 0 : seq));
  });
}

sdk::Result<std::vector<sdk::AuditSeal>> PgStorage::seals(std::int64_t after_seq,
                                                          std::int64_t limit) {
  using R = sdk::Result<std::vector<sdk::AuditSeal>>;
  return reading("read audit seals", [&](PgPool::Lease& lease) {
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(limit, 1));
    std::vector<long long> seq(n);
    std::vector<std::string> hash(n);
    long long after = after_seq, lim = limit;
    lease.sql() << "SELECT seq, hash FROM " + sql_.table("access_log_seal") +
                       " WHERE seq > :a ORDER BY seq LIMIT :l",
        soci::into(seq), soci::into(hash), soci::use(after), soci::use(lim);
    std::vector<sdk::AuditSeal> out;
    if (!lease.sql().got_data()) return R(out);
    for (std::size_t i = 0; i < seq.size(); ++i) out.push_back({seq[i], hash[i]});
    return R(out);
  });
}

sdk::Result<sdk::StoreStats> PgStorage::stats() {
  using R = sdk::Result<sdk::StoreStats>;
  return replica_reading("read stats", [&](PgPool::Lease& lease) {
    sdk::StoreStats st;
    long long a = 0, b = 0, c = 0, d = 0, e = 0;
    lease.sql() << "SELECT (SELECT count(*) FROM " + sql_.table("context") +
                       " WHERE NOT deleted), (SELECT count(*) FROM " + sql_.table("context") +
                       " WHERE deleted), (SELECT count(*) FROM " + sql_.table("context_history") +
                       "), (SELECT count(*) FROM " + sql_.table("agents") +
                       "), (SELECT count(*) FROM " + sql_.table("access_log") + ")",
        soci::into(a), soci::into(b), soci::into(c), soci::into(d), soci::into(e);
    st.contexts = a;
    st.deleted = b;
    st.versions = c;
    st.agents = d;
    st.audit_events = e;
    constexpr std::size_t kMax = 10000;  // agents listed
    std::vector<std::string> agent(kMax);
    std::vector<long long> n(kMax);
    lease.sql() << "SELECT agent_id, count(*) FROM " + sql_.table("context") +
                       " WHERE NOT deleted GROUP BY agent_id ORDER BY count(*) DESC, agent_id",
        soci::into(agent), soci::into(n);
    if (lease.sql().got_data()) {
      for (std::size_t i = 0; i < agent.size(); ++i)
        st.contexts_per_agent.emplace_back(agent[i], n[i]);
    }
    return R(st);
  });
}

sdk::Result<std::string> PgStorage::wal_position(std::string_view function) {
  return reading("read the WAL position", [&](PgPool::Lease& lease) -> sdk::Result<std::string> {
    std::string lsn;
    lease.sql() << "SELECT " + std::string(function) + "()::text", soci::into(lsn);
    return lsn;
  });
}

sdk::Result<std::string> PgStorage::write_token() {
  if (!replicas_) return std::string();
  return wal_position("pg_current_wal_insert_lsn");
}

sdk::Status PgStorage::ping() {
  return reading("ping", [&](PgPool::Lease& lease) -> sdk::Status {
    int one = 0;
    lease.sql() << "SELECT 1", soci::into(one);
    return {};
  });
}

namespace {

namespace option = ctxmgr::sdk::option;

// A list of strings shown as *** (connection strings with passwords).
constexpr ctxmgr_option_spec secret_list(const char* name, const char* description) {
  ctxmgr_option_spec spec = option::string_list(name, "[]", description);
  spec.flags |= CTXMGR_OPT_SECRET;
  return spec;
}

constexpr ctxmgr_option_spec kOptions[] = {
    option::required(option::secret("url", nullptr,
                                    "libpq connection string or URL, e.g. ${DATABASE_URL} "
                                    "(postgresql://user:password@host:5432/db)")),
    option::secret("listen_url", nullptr,
                   "where the change listener LISTENs (a session of its own); default: url. "
                   "Behind a transaction-mode PgBouncer, the database itself"),
    option::string("schema", "\"public\"",
                   "the PostgreSQL schema that holds the tables (created if missing)"),
    option::integer("pool_size", 1, 1000, "8",
                    "connections this process keeps (opened on first use)"),
    option::integer("rank_budget", 1, 100000000, "2000",
                    "selection: how many full-text matches are ranked at most to pick the "
                    "candidates (docs/selection.md); more is more exact and slower"),
    option::integer("acquire_timeout_ms", 1, 600000, "2000",
                    "how long a request waits for a free connection before 503"),
    option::boolean("jit", "false",
                    "let PostgreSQL JIT-compile this plugin's queries; off: compiling a "
                    "selection over thousands of matches cost ~60 ms for a 25 ms query "
                    "(docs/storage-postgres.md)"),
    option::boolean("prepared_statements", "true",
                    "the hot statements (read, create, audit) are parsed and planned once per "
                    "connection; off behind PgBouncer in transaction mode before 1.21 "
                    "(docs/storage-postgres.md)"),
    option::integer("connect_timeout_s", 1, 600, "3",
                    "libpq connect_timeout, unless the URL sets one"),
    secret_list("replicas",
                "streaming replicas (libpq URLs) that serve lists, history, selection and the "
                "audit listing when they have replayed far enough (docs/scaling.md)"),
    option::integer("replica_pool_size", 1, 1000, "8", "connections kept to each replica"),
    option::integer("replica_max_lag_ms", 1, 3600000, "10000",
                    "a replica further behind the primary leaves the rotation until it catches up"),
    option::integer("replica_wait_ms", 0, 60000, "100",
                    "how long a read that must see a write (X-Ctxmgr-Consistency) waits for a "
                    "replica to replay it before the primary serves it"),
    option::integer("replica_check_ms", 10, 60000, "500",
                    "how often each replica is asked how far it has replayed"),
};

}  // namespace

}  // namespace ctxmgr::pg

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::storage, "postgres", "1.0.0",
              "PostgreSQL storage through SOCI, for several servers on one database",
              ctxmgr::pg::PgStorage, ctxmgr::pg::kOptions)
