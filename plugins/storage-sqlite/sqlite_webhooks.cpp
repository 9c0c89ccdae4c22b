// SqliteStorage's webhook capability (sdk/storage_webhooks.hpp), on the tables of
// schemas/sqlite/14_webhooks.sql. Leases and cursors move in write transactions: SQLite's one
// writer makes each check-and-set atomic across processes.

#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "sqlite_storage.hpp"
#include "sqlite_transaction.hpp"

namespace ctxmgr::sqlite {

namespace {

constexpr const char* kWebhookColumns =
    "id, owner, url, secret, agent_id, context_id, actions, created_at, cursor, lease_holder, "
    "lease_until";

struct WebhookInto {
  sdk::WebhookRow row;
  long long created = 0, cursor = 0, lease_until = 0;
  sdk::WebhookRow take() {
    sdk::WebhookRow out = row;
    out.created_at_us = created;
    out.cursor = cursor;
    out.lease_until_us = lease_until;
    return out;
  }
};

// `text` prepared with `uses` (soci::use(...)) and the columns into `w`.
template <class... Uses>
soci::statement select_webhooks(soci::session& sql, const std::string& text, WebhookInto& w,
                                Uses&&... uses) {
  return (((sql.prepare << text), ..., std::forward<Uses>(uses)), soci::into(w.row.id),
          soci::into(w.row.owner), soci::into(w.row.url), soci::into(w.row.secret),
          soci::into(w.row.agent_id), soci::into(w.row.context_id), soci::into(w.row.actions),
          soci::into(w.created), soci::into(w.cursor), soci::into(w.row.lease_holder),
          soci::into(w.lease_until));
}

SqliteTransaction* own(sdk::Transaction& tx) { return dynamic_cast<SqliteTransaction*>(&tx); }

}  // namespace

sdk::Status SqliteStorage::insert_webhook(sdk::Transaction& tx, const sdk::WebhookRow& w) {
  auto* t = own(tx);
  if (t == nullptr) return sdk::Error(sdk::Errc::internal, "insert webhook: not our transaction");
  try {
    long long created = w.created_at_us, cursor = w.cursor;
    t->session() << "INSERT INTO webhooks (id, owner, url, secret, agent_id, context_id, actions, "
                    "created_at, cursor) VALUES (:id, :owner, :url, :secret, :agent, :ctx, "
                    ":actions, :created, :cursor)",
        soci::use(w.id), soci::use(w.owner), soci::use(w.url), soci::use(w.secret),
        soci::use(w.agent_id), soci::use(w.context_id), soci::use(w.actions), soci::use(created),
        soci::use(cursor);
    return {};
  } catch (const std::exception& e) {
    return fail(e, "insert webhook");
  }
}

sdk::Result<bool> SqliteStorage::delete_webhook(sdk::Transaction& tx, std::string_view id) {
  auto* t = own(tx);
  if (t == nullptr) return sdk::Error(sdk::Errc::internal, "delete webhook: not our transaction");
  try {
    std::string key(id);
    soci::statement st =
        (t->session().prepare << "DELETE FROM webhooks WHERE id = :id", soci::use(key));
    st.execute(true);
    return st.get_affected_rows() > 0;
  } catch (const std::exception& e) {
    return fail(e, "delete webhook");
  }
}

sdk::Result<std::optional<sdk::WebhookRow>> SqliteStorage::webhook(std::string_view id) {
  try {
    auto slot = readers_.acquire();
    WebhookInto into;
    std::string key(id);
    soci::statement st = select_webhooks(
        slot->sql, std::string("SELECT ") + kWebhookColumns + " FROM webhooks WHERE id = :id", into,
        soci::use(key));
    st.execute();
    if (!st.fetch()) return std::optional<sdk::WebhookRow>();
    return std::optional<sdk::WebhookRow>(into.take());
  } catch (const std::exception& e) {
    return fail(e, "read webhook");
  }
}

sdk::Result<std::vector<sdk::WebhookRow>> SqliteStorage::webhooks(std::string_view owner) {
  try {
    auto slot = readers_.acquire();
    WebhookInto into;
    std::string who(owner);
    int all = owner.empty() ? 1 : 0;
    soci::statement st =
        select_webhooks(slot->sql,
                        std::string("SELECT ") + kWebhookColumns +
                            " FROM webhooks WHERE :all = 1 OR owner = :owner ORDER BY id",
                        into, soci::use(all), soci::use(who));
    st.execute();
    std::vector<sdk::WebhookRow> out;
    while (st.fetch()) out.push_back(into.take());
    return out;
  } catch (const std::exception& e) {
    return fail(e, "list webhooks");
  }
}

sdk::Result<bool> SqliteStorage::lease_webhook(std::string_view id, std::string_view holder,
                                               std::int64_t now_us, std::int64_t until_us) {
  auto tx = begin();
  if (!tx) return tx.error();
  try {
    std::string key(id), who(holder), who2(holder);
    long long now = now_us, until = until_us;
    soci::statement st =
        (static_cast<SqliteTransaction&>(**tx).session().prepare
             << "UPDATE webhooks SET lease_holder = :who, lease_until = :until WHERE id = :id AND "
                "(lease_holder = '' OR lease_until <= :now OR lease_holder = :who2)",
         soci::use(who), soci::use(until), soci::use(key), soci::use(now), soci::use(who2));
    st.execute(true);
    const bool held = st.get_affected_rows() > 0;
    if (auto c = (*tx)->commit(); !c) return c.error();
    return held;
  } catch (const std::exception& e) {
    return fail(e, "lease webhook");
  }
}

sdk::Result<bool> SqliteStorage::advance_webhook(std::string_view id, std::string_view holder,
                                                 std::int64_t cursor) {
  auto tx = begin();
  if (!tx) return tx.error();
  try {
    std::string key(id), who(holder);
    long long to = cursor;
    soci::statement st = (static_cast<SqliteTransaction&>(**tx).session().prepare
                              << "UPDATE webhooks SET cursor = max(cursor, :to) WHERE id = :id AND "
                                 "lease_holder = :who",
                          soci::use(to), soci::use(key), soci::use(who));
    st.execute(true);
    const bool moved = st.get_affected_rows() > 0;
    if (auto c = (*tx)->commit(); !c) return c.error();
    return moved;
  } catch (const std::exception& e) {
    return fail(e, "advance webhook");
  }
}

sdk::Status SqliteStorage::log_delivery(const sdk::WebhookDelivery& d) {
  auto tx = begin();
  if (!tx) return tx.error();
  try {
    long long seq = d.seq, attempt = d.attempt, at = d.at_us, duration = d.duration_ms;
    int status = d.status;
    static_cast<SqliteTransaction&>(**tx).session()
        << "INSERT OR REPLACE INTO webhook_deliveries (webhook_id, seq, attempt, at, status, "
           "error, duration_ms) VALUES (:id, :seq, :attempt, :at, :status, :error, :duration)",
        soci::use(d.webhook_id), soci::use(seq), soci::use(attempt), soci::use(at),
        soci::use(status), soci::use(d.error), soci::use(duration);
    if (++deliveries_logged_ % kDeliveryPruneEvery == 0) {
      // The log keeps the newest kDeliveriesKept events' attempts of each webhook.
      long long kept = kDeliveriesKept;
      static_cast<SqliteTransaction&>(**tx).session()
          << "DELETE FROM webhook_deliveries WHERE webhook_id = :id AND seq < (SELECT MIN(seq) "
             "FROM (SELECT DISTINCT seq FROM webhook_deliveries WHERE webhook_id = :id2 ORDER BY "
             "seq DESC LIMIT :kept))",
          soci::use(d.webhook_id), soci::use(d.webhook_id), soci::use(kept);
    }
    return (*tx)->commit();
  } catch (const std::exception& e) {
    return fail(e, "log webhook delivery");
  }
}

sdk::Result<std::vector<sdk::WebhookDelivery>> SqliteStorage::deliveries(std::string_view id,
                                                                         std::int64_t before_seq,
                                                                         std::int64_t limit) {
  try {
    auto slot = readers_.acquire();
    std::string key(id);
    long long before = before_seq, before2 = before_seq, lim = limit;
    sdk::WebhookDelivery d;
    long long seq = 0, attempt = 0, at = 0, duration = 0;
    int status = 0;
    soci::statement st =
        (slot->sql.prepare << "SELECT seq, attempt, at, status, error, duration_ms FROM "
                              "webhook_deliveries WHERE webhook_id = :id AND (:before <= 0 OR "
                              "seq < :before2) ORDER BY seq DESC, attempt DESC LIMIT :lim",
         soci::use(key), soci::use(before), soci::use(before2), soci::use(lim), soci::into(seq),
         soci::into(attempt), soci::into(at), soci::into(status), soci::into(d.error),
         soci::into(duration));
    st.execute();
    std::vector<sdk::WebhookDelivery> out;
    while (st.fetch()) {
      d.webhook_id = key;
      d.seq = seq;
      d.attempt = attempt;
      d.at_us = at;
      d.status = status;
      d.duration_ms = duration;
      out.push_back(d);
    }
    return out;
  } catch (const std::exception& e) {
    return fail(e, "list webhook deliveries");
  }
}

}  // namespace ctxmgr::sqlite
