// PgStorage's retention capability (sdk/storage_retention.hpp): pruning the selection log by age
// and the audit log below an anchor, each in one transaction.

#include "ctxmgr/sdk/storage_retention.hpp"
#include "pg_sql.hpp"
#include "pg_storage.hpp"
#include "pg_transaction.hpp"

namespace ctxmgr::pg {

sdk::Result<std::int64_t> PgStorage::prune_selections(std::int64_t before_us) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& pt = static_cast<PgTransaction&>(**tx);
  long long deleted = 0;
  try {
    const long long before = before_us;
    pt.session() << "WITH d AS (DELETE FROM " + sql_.table("selection_log") + " WHERE at < " +
                        from_us("before") + " RETURNING 1) SELECT count(*) FROM d",
        soci::use(before, "before"), soci::into(deleted);
  } catch (const std::exception& e) {
    return fail(pt.lease(), e, "prune selection log");
  }
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(deleted);
}

sdk::Result<std::int64_t> PgStorage::prune_audit(std::int64_t anchor_seq,
                                                 const sdk::AuditEvent& record) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& pt = static_cast<PgTransaction&>(**tx);
  long long deleted = 0;
  try {
    auto& sql = pt.session();
    const long long anchor = anchor_seq;
    // The append-only triggers are off inside this transaction only (ALTER TABLE is
    // transactional and holds the tables' lock until the end: writers wait out the prune).
    for (const char* t : {"access_log", "access_log_seal"}) {
      sql << "ALTER TABLE " + sql_.table(t) + " DISABLE TRIGGER USER";
    }
    sql << "DELETE FROM " + sql_.table("access_log_seal") + " WHERE seq < :anchor",
        soci::use(anchor, "anchor");
    sql << "WITH d AS (DELETE FROM " + sql_.table("access_log") +
               " WHERE seq < :anchor RETURNING 1) SELECT count(*) FROM d",
        soci::use(anchor, "anchor"), soci::into(deleted);
    for (const char* t : {"access_log", "access_log_seal"}) {
      sql << "ALTER TABLE " + sql_.table(t) + " ENABLE TRIGGER USER";
    }
  } catch (const std::exception& e) {
    return fail(pt.lease(), e, "prune audit log");
  }
  if (auto seq = (*tx)->append_audit(record); !seq) return seq.error();
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(deleted);
}

}  // namespace ctxmgr::pg
