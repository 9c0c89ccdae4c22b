// SqliteStorage's vector capabilities (sdk/storage_vectors.hpp, sdk/storage_vector_changes.hpp):
// claims, vectors, their numbers and the backlog in context_vectors
// (schemas/sqlite/09_context_vectors.sql, 11_vector_seq.sql). Claims and stores run in the one
// write transaction SQLite allows at a time, so no two workers ever get the same version and
// vectors are numbered in commit order.

#include <algorithm>

#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"
#include "sqlite_transaction.hpp"

namespace ctxmgr::sqlite {

namespace {

// Live contexts whose current version has no vector of :model and no unexpired claim on it.
constexpr const char* kPending =
    " FROM context c LEFT JOIN context_vectors v ON v.context_id = c.id AND v.model = :model"
    " WHERE c.deleted = 0 AND (v.context_id IS NULL OR (v.version < c.version AND"
    " NOT (v.claimed_version = c.version AND v.lease_until > :now)))";

}  // namespace

sdk::Result<std::vector<sdk::EmbeddingJob>> SqliteStorage::claim_embedding_jobs(
    std::string_view model, std::int64_t limit, std::int64_t now_us, std::int64_t lease_until_us) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& sql = static_cast<SqliteTransaction&>(**tx).session();
  std::vector<sdk::EmbeddingJob> jobs;
  try {
    const std::string m(model);
    const long long now = now_us, lease = lease_until_us, n = limit;
    std::string id, data;
    long long version = 0;
    soci::statement q = (sql.prepare << std::string("SELECT c.id, c.version, c.context_data") +
                                            kPending + " ORDER BY c.updated_at, c.id LIMIT :n",
                         soci::use(m, "model"), soci::use(now, "now"), soci::use(n, "n"),
                         soci::into(id), soci::into(version), soci::into(data));
    q.execute();
    while (q.fetch()) jobs.push_back({id, version, data});
    for (const auto& j : jobs) {
      const long long v = j.version;
      sql << "INSERT INTO context_vectors (context_id, model, claimed_version, lease_until)"
             " VALUES (:id, :model, :v, :lease) ON CONFLICT (context_id, model) DO UPDATE SET"
             " claimed_version = excluded.claimed_version, lease_until = excluded.lease_until",
          soci::use(j.context_id, "id"), soci::use(m, "model"), soci::use(v, "v"),
          soci::use(lease, "lease");
    }
  } catch (const std::exception& e) {
    return fail(e, "claim embedding jobs");
  }
  if (auto st = (*tx)->commit(); !st) return st.error();
  return jobs;
}

sdk::Status SqliteStorage::put_vectors(std::string_view model,
                                       const std::vector<sdk::ContextVector>& vectors) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& sql = static_cast<SqliteTransaction&>(**tx).session();
  try {
    const std::string m(model);
    // Numbered after every vector of the model stored before (the (model, seq) index finds the
    // highest); inside the write transaction, so no other store numbers meanwhile.
    long long seq = 0;
    sql << "SELECT coalesce(max(seq), 0) FROM context_vectors WHERE model = :model",
        soci::use(m, "model"), soci::into(seq);
    for (const auto& v : vectors) {
      const long long version = v.version;
      const int dims = static_cast<int>(v.values.size());
      const std::string hex = sdk::vector_to_hex(v.values);
      ++seq;
      // Through a SELECT, so that a context purged meanwhile gets no row.
      sql << "INSERT INTO context_vectors (context_id, model, version, dims, vector, seq)"
             " SELECT id, :model, :v, :dims, :vec, :seq FROM context WHERE id = :id"
             " ON CONFLICT (context_id, model) DO UPDATE SET version = excluded.version,"
             " dims = excluded.dims, vector = excluded.vector, seq = excluded.seq"
             " WHERE context_vectors.version <= excluded.version",
          soci::use(m, "model"), soci::use(version, "v"), soci::use(dims, "dims"),
          soci::use(hex, "vec"), soci::use(seq, "seq"), soci::use(v.context_id, "id");
    }
  } catch (const std::exception& e) {
    return fail(e, "store vectors");
  }
  return (*tx)->commit();
}

sdk::Result<std::int64_t> SqliteStorage::embedding_backlog(std::string_view model) {
  try {
    auto slot = readers_.acquire();
    const std::string m(model);
    long long n = 0;
    slot->sql << "SELECT count(*) FROM context c LEFT JOIN context_vectors v ON v.context_id ="
                 " c.id AND v.model = :model WHERE c.deleted = 0 AND"
                 " (v.context_id IS NULL OR v.version < c.version)",
        soci::use(m, "model"), soci::into(n);
    return static_cast<std::int64_t>(n);
  } catch (const std::exception& e) {
    return fail(e, "count the embedding backlog");
  }
}

sdk::Result<std::vector<sdk::ContextVector>> SqliteStorage::current_vectors(
    std::string_view model) {
  try {
    auto slot = readers_.acquire();
    const std::string m(model);
    std::string id, hex;
    long long version = 0;
    std::vector<sdk::ContextVector> out;
    soci::statement q =
        (slot->sql.prepare << "SELECT v.context_id, v.version, v.vector FROM context_vectors v"
                              " JOIN context c ON c.id = v.context_id WHERE v.model = :model"
                              " AND c.deleted = 0 AND v.version = c.version",
         soci::use(m, "model"), soci::into(id), soci::into(version), soci::into(hex));
    q.execute();
    while (q.fetch()) {
      auto values = sdk::vector_from_hex(hex);
      if (!values) return sdk::Error(sdk::Errc::internal, "a stored vector is malformed: " + id);
      out.push_back({id, version, std::move(*values)});
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read vectors");
  }
}

sdk::Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteStorage::vector_models() {
  try {
    auto slot = readers_.acquire();
    std::string model;
    long long n = 0;
    std::vector<std::pair<std::string, std::int64_t>> out;
    soci::statement q = (slot->sql.prepare << "SELECT model, count(*) FROM context_vectors"
                                              " WHERE version > 0 GROUP BY model ORDER BY model",
                         soci::into(model), soci::into(n));
    q.execute();
    while (q.fetch()) out.emplace_back(model, n);
    return out;
  } catch (const std::exception& e) {
    return fail(e, "list vector models");
  }
}

sdk::Result<std::int64_t> SqliteStorage::drop_vectors(std::string_view model) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& sql = static_cast<SqliteTransaction&>(**tx).session();
  long long dropped = 0;
  try {
    const std::string m(model);
    if (m.empty()) {
      sql << "SELECT count(*) FROM context_vectors WHERE version > 0", soci::into(dropped);
      sql << "DELETE FROM context_vectors";
    } else {
      sql << "SELECT count(*) FROM context_vectors WHERE version > 0 AND model = :model",
          soci::use(m, "model"), soci::into(dropped);
      sql << "DELETE FROM context_vectors WHERE model = :model", soci::use(m, "model");
    }
  } catch (const std::exception& e) {
    return fail(e, "drop vectors");
  }
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(dropped);
}

sdk::Result<sdk::VectorChanges> SqliteStorage::vectors_since(std::string_view model,
                                                             std::int64_t cursor,
                                                             std::int64_t limit) {
  try {
    auto slot = readers_.acquire();
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
    soci::statement q =
        (slot->sql.prepare << "SELECT v.seq, v.context_id, v.version,"
                              " CASE WHEN c.deleted = 0 AND c.version = v.version THEN v.vector END"
                              " FROM context_vectors v JOIN context c ON c.id = v.context_id"
                              " WHERE v.model = :model AND v.seq > :after AND v.version > 0"
                              " ORDER BY v.seq LIMIT :n",
         soci::use(m, "model"), soci::use(after, "after"), soci::use(n, "n"), soci::into(seq),
         soci::into(id), soci::into(version), soci::into(hex, hex_ind));
    q.execute();
    while (q.fetch()) {
      ++rows;
      out.cursor = seq;
      if (hex_ind != soci::i_ok) continue;  // not the current version of a live context
      auto values = sdk::vector_from_hex(hex);
      if (!values) return sdk::Error(sdk::Errc::internal, "a stored vector is malformed: " + id);
      out.vectors.push_back({id, version, std::move(*values)});
    }
    out.more = rows == n;
    return out;
  } catch (const std::exception& e) {
    return fail(e, "read vectors since a cursor");
  }
}

}  // namespace ctxmgr::sqlite
