// SqliteStorage's retention capability (sdk/storage_retention.hpp): pruning the selection log by
// age and the audit log below an anchor, each in one write transaction.

#include "ctxmgr/sdk/storage_retention.hpp"
#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"
#include "sqlite_transaction.hpp"

namespace ctxmgr::sqlite {

sdk::Result<std::int64_t> SqliteStorage::prune_selections(std::int64_t before_us) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& sql = static_cast<SqliteTransaction&>(**tx).session();
  long long deleted = 0;
  try {
    const long long before = before_us;
    sql << "DELETE FROM selection_log WHERE at < :before", soci::use(before);
    sql << "SELECT changes()", soci::into(deleted);
  } catch (const std::exception& e) {
    return fail(e, "prune selection log");
  }
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(deleted);
}

sdk::Result<std::int64_t> SqliteStorage::prune_audit(std::int64_t anchor_seq,
                                                     const sdk::AuditEvent& record) {
  auto tx = begin();
  if (!tx) return tx.error();
  auto& sql = static_cast<SqliteTransaction&>(**tx).session();
  long long deleted = 0;
  try {
    const long long anchor = anchor_seq;
    without_log_guards(sql, [&] {
      sql << "DELETE FROM access_log_seal WHERE seq < :anchor", soci::use(anchor);
      sql << "DELETE FROM access_log WHERE seq < :anchor", soci::use(anchor);
      sql << "SELECT changes()", soci::into(deleted);
    });
  } catch (const std::exception& e) {
    return fail(e, "prune audit log");
  }
  if (auto seq = (*tx)->append_audit(record); !seq) return seq.error();
  if (auto st = (*tx)->commit(); !st) return st.error();
  return static_cast<std::int64_t>(deleted);
}

}  // namespace ctxmgr::sqlite
