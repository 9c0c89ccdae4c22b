// PgStorage's vector capability (sdk/storage_vectors.hpp) on context_vectors
// (schemas/postgres/09_context_vectors.sql). Servers sharing the database claim jobs with one
// INSERT ... ON CONFLICT DO UPDATE ... WHERE: when two claim one version at once, the second
// waits for the first's row and then finds it claimed, so each version is embedded once.
// Vectors travel as hex text (sdk::vector_to_hex) and are stored as bytes. Stores are numbered
// (schemas/postgres/11_vector_seq.sql) one transaction at a time, so that a reader following the
// numbers (vectors_since) never misses a store that commits late.

#include <algorithm>

#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "pg_sql.hpp"
#include "pg_storage.hpp"
#include "pg_transaction.hpp"

namespace ctxmgr::pg {

namespace {

// Taken by every store of vectors until it commits: numbers from context_vectors_seq are then
// handed out and committed in one order, whichever server stores.
constexpr long long kVectorStoreLock = 0x637478'7665'6373LL;  // "ctxvecs"

}  // namespace

sdk::Result<std::vector<sdk::EmbeddingJob>> PgStorage::claim_embedding_jobs(
    std::string_view model, std::int64_t limit, std::int64_t now_us, std::int64_t lease_until_us) {
  using R = sdk::Result<std::vector<sdk::EmbeddingJob>>;
  const std::string ctx = sql_.table("context"), vec = sql_.table("context_vectors");
  // The parameters once each (p), as SOCI binds every name once.
  const std::string q =
      "WITH p AS (SELECT CAST(:model AS TEXT) AS model, CAST(:now AS BIGINT) AS now,"
      " CAST(:lease AS BIGINT) AS lease),"
      " pending AS (SELECT c.id, c.version, c.updated_at FROM " +
      ctx +
      " c CROSS JOIN p"
      " LEFT JOIN " +
      vec +
      " v ON v.context_id = c.id AND v.model = p.model"
      " WHERE NOT c.deleted AND (v.context_id IS NULL OR (v.version < c.version AND"
      " NOT (v.claimed_version = c.version AND v.lease_until > p.now)))"
      " ORDER BY c.updated_at, c.id LIMIT :n),"
      " claimed AS (INSERT INTO " +
      vec +
      " AS cv (context_id, model, claimed_version, lease_until)"
      " SELECT pending.id, p.model, pending.version, p.lease FROM pending CROSS JOIN p"
      " ON CONFLICT (context_id, model) DO UPDATE SET claimed_version = EXCLUDED.claimed_version,"
      " lease_until = EXCLUDED.lease_until WHERE cv.version < EXCLUDED.claimed_version AND"
      " NOT (cv.claimed_version = EXCLUDED.claimed_version AND cv.lease_until >"
      " (SELECT now FROM p)) RETURNING cv.context_id, cv.claimed_version)"
      " SELECT CAST(c.id AS TEXT), claimed.claimed_version, c.context_data FROM claimed JOIN " +
      ctx + " c ON c.id = claimed.context_id ORDER BY c.updated_at, c.id";
  auto tx = begin();
  if (!tx) return tx.error();
  auto& pt = static_cast<PgTransaction&>(**tx);
  std::vector<sdk::EmbeddingJob> jobs;
  try {
    const std::string m(model);
    const long long now = now_us, lease = lease_until_us, n = limit;
    std::string id, data;
    long long version = 0;
    soci::statement st = (pt.session().prepare << q, soci::use(m, "model"), soci::use(now, "now"),
                          soci::use(lease, "lease"), soci::use(n, "n"), soci::into(id),
                          soci::into(version), soci::into(data));
    st.execute();
    while (st.fetch()) jobs.push_back({id, version, data});
  } catch (const std::exception& e) {
    return fail(pt.lease(), e, "claim embedding jobs");
  }
  if (auto st = (*tx)->commit(); !st) return st.error();
  return R(std::move(jobs));
}

sdk::Status PgStorage::put_vectors(std::string_view model,
                                   const std::vector<sdk::ContextVector>& vectors) {
  const std::string ctx = sql_.table("context"), vec = sql_.table("context_vectors");
  // Through a SELECT, so that a context purged meanwhile gets no row.
  const std::string q =
      "INSERT INTO " + vec +
      " AS cv (context_id, model, version, dims, vector)"
      " SELECT c.id, CAST(:model AS TEXT), CAST(:v AS BIGINT), CAST(:dims AS INTEGER),"
      " decode(:vec, 'hex') FROM " +
      ctx +
      " c WHERE c.id = CAST(:id AS UUID)"
      " ON CONFLICT (context_id, model) DO UPDATE SET version = EXCLUDED.version,"
      " dims = EXCLUDED.dims, vector = EXCLUDED.vector, seq = DEFAULT"
      " WHERE cv.version <= EXCLUDED.version";
  auto tx = begin();
  if (!tx) return tx.error();
  auto& pt = static_cast<PgTransaction&>(**tx);
  try {
    const std::string m(model);
    pt.session() << "SELECT pg_advisory_xact_lock(" + std::to_string(kVectorStoreLock) + ")";
    for (const auto& v : vectors) {
      const long long version = v.version;
      const int dims = static_cast<int>(v.values.size());
      const std::string hex = sdk::vector_to_hex(v.values);
      pt.session() << q, soci::use(m, "model"), soci::use(version, "v"), soci::use(dims, "dims"),
          soci::use(hex, "vec"), soci::use(v.context_id, "id");
    }
  } catch (const std::exception& e) {
    return fail(pt.lease(), e, "store vectors");
  }
  return (*tx)->commit();
}

sdk::Result<std::int64_t> PgStorage::embedding_backlog(std::string_view model) {
  using R = sdk::Result<std::int64_t>;
  return reading("count the embedding backlog", [&](PgPool::Lease& lease) {
    const std::string m(model);
    long long n = 0;
    lease.sql() << "SELECT count(*) FROM " + sql_.table("context") + " c LEFT JOIN " +
                       sql_.table("context_vectors") +
                       " v ON v.context_id = c.id AND v.model = :model WHERE NOT c.deleted AND"
                       " (v.context_id IS NULL OR v.version < c.version)",
        soci::use(m, "model"), soci::into(n);
    return R(static_cast<std::int64_t>(n));
  });
}

sdk::Result<std::vector<sdk::ContextVector>> PgStorage::current_vectors(std::string_view model) {
  using R = sdk::Result<std::vector<sdk::ContextVector>>;
  return reading("read vectors", [&](PgPool::Lease& lease) -> R {
    const std::string m(model);
    std::string id, hex;
    long long version = 0;
    std::vector<sdk::ContextVector> out;
    soci::statement st =
        (lease.sql().prepare << "SELECT CAST(v.context_id AS TEXT), v.version,"
                                " encode(v.vector, 'hex') FROM " +
                                    sql_.table("context_vectors") + " v JOIN " +
                                    sql_.table("context") +
                                    " c ON c.id = v.context_id WHERE v.model = :model AND"
                                    " NOT c.deleted AND v.version = c.version",
         soci::use(m, "model"), soci::into(id), soci::into(version), soci::into(hex));
    st.execute();
    while (st.fetch()) {
      auto values = sdk::vector_from_hex(hex);
      if (!values) return sdk::Error(sdk::Errc::internal, "a stored vector is malformed: " + id);
      out.push_back({id, version, std::move(*values)});
    }
    return out;
  });
}

sdk::Result<std::vector<std::pair<std::string, std::int64_t>>> PgStorage::vector_models() {
  using R = sdk::Result<std::vector<std::pair<std::string, std::int64_t>>>;
  return reading("list vector models", [&](PgPool::Lease& lease) -> R {
    std::string model;
    long long n = 0;
    std::vector<std::pair<std::string, std::int64_t>> out;
    soci::statement st =
        (lease.sql().prepare << "SELECT model, count(*) FROM " + sql_.table("context_vectors") +
                                    " WHERE version > 0 GROUP BY model"
                                    " ORDER BY model",
         soci::into(model), soci::into(n));
    st.execute();
    while (st.fetch()) out.emplace_back(model, n);
    return out;
  });
}

sdk::Result<std::int64_t> PgStorage::drop_vectors(std::string_view model) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& pt = static_cast<PgTransaction&>(**tx);
  long long dropped = 0;
  try {
    const std::string m(model), vec = sql_.table("context_vectors");
    if (m.empty()) {
      pt.session() << "WITH d AS (DELETE FROM " + vec +
                          " RETURNING version)"
                          " SELECT count(*) FROM d WHERE version > 0",
          soci::into(dropped);
    } else {
      pt.session() << "WITH d AS (DELETE FROM " + vec +
                          " WHERE model = :model RETURNING version)"
                          " SELECT count(*) FROM d WHERE version > 0",
          soci::use(m, "model"), soci::into(dropped);
    }
  } catch (const std::exception& e) {
    return fail(pt.lease(), e, "drop vectors");
  }
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(dropped);
}

sdk::Result<sdk::VectorChanges> PgStorage::vectors_since(std::string_view model,
                                                         std::int64_t cursor, std::int64_t limit) {
  using R = sdk::Result<sdk::VectorChanges>;
  return reading("read vectors since a cursor", [&](PgPool::Lease& lease) -> R {
    const std::string m(model);
    const long long after = cursor, n = std::max<std::int64_t>(limit, 1);
    long long seq = 0, version = 0;
    std::string id, hex;
    soci::indicator hex_ind = soci::i_ok;
    sdk::VectorChanges out;
    out.cursor = cursor;
    long long rows = 0;
    // Every stored row after the cursor moves it; only those of a live context's current version
    // are returned (the others' vector is read as NULL).
    soci::statement st =
        (lease.sql().prepare
             << "SELECT v.seq, CAST(v.context_id AS TEXT), v.version,"
                " CASE WHEN NOT c.deleted AND c.version = v.version"
                " THEN encode(v.vector, 'hex') END FROM " +
                    sql_.table("context_vectors") + " v JOIN " + sql_.table("context") +
                    " c ON c.id = v.context_id WHERE v.model = :model AND v.seq > :after"
                    " AND v.version > 0 ORDER BY v.seq LIMIT :n",
         soci::use(m, "model"), soci::use(after, "after"), soci::use(n, "n"), soci::into(seq),
         soci::into(id), soci::into(version), soci::into(hex, hex_ind));
    st.execute();
    while (st.fetch()) {
      ++rows;
      out.cursor = seq;
      if (hex_ind != soci::i_ok) continue;  // not the current version of a live context
      auto values = sdk::vector_from_hex(hex);
      if (!values) return sdk::Error(sdk::Errc::internal, "a stored vector is malformed: " + id);
      out.vectors.push_back({id, version, std::move(*values)});
    }
    out.more = rows == n;
    return R(std::move(out));
  });
}

}  // namespace ctxmgr::pg
