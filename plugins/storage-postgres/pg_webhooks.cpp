// PgStorage's webhook capability (sdk/storage_webhooks.hpp), on the tables of
// schemas/postgres/14_webhooks.sql. A lease is one conditional UPDATE: of servers asking at once,
// the row lock lets one in and the others see it held.

#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "pg_storage.hpp"
#include "pg_transaction.hpp"

namespace ctxmgr::pg {

namespace {

std::string webhook_columns() {
  return "CAST(id AS text), owner, url, secret, agent_id, context_id, actions, " +
         to_us("created_at") + ", cursor, lease_holder, " + to_us("lease_until");
}

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

}  // namespace

sdk::Status PgStorage::insert_webhook(sdk::Transaction& tx, const sdk::WebhookRow& w) {
  auto* own = dynamic_cast<PgTransaction*>(&tx);
  if (own == nullptr) return sdk::Error(sdk::Errc::internal, "insert webhook: not our transaction");
  try {
    long long created = w.created_at_us, cursor = w.cursor;
    own->session() << "INSERT INTO " + sql_.table("webhooks") +
                          " (id, owner, url, secret, agent_id, context_id, actions, created_at, "
                          "cursor) VALUES (CAST(:id AS uuid), :owner, :url, :secret, :agent, :ctx, "
                          ":actions, " +
                          from_us("created") + ", :cursor)",
        soci::use(w.id, "id"), soci::use(w.owner, "owner"), soci::use(w.url, "url"),
        soci::use(w.secret, "secret"), soci::use(w.agent_id, "agent"),
        soci::use(w.context_id, "ctx"), soci::use(w.actions, "actions"),
        soci::use(created, "created"), soci::use(cursor, "cursor");
    return {};
  } catch (const std::exception& e) {
    return fail(own->lease(), e, "insert webhook");
  }
}

sdk::Result<bool> PgStorage::delete_webhook(sdk::Transaction& tx, std::string_view id) {
  auto* own = dynamic_cast<PgTransaction*>(&tx);
  if (own == nullptr) return sdk::Error(sdk::Errc::internal, "delete webhook: not our transaction");
  try {
    std::string key(id);
    soci::statement st = (own->session().prepare << "DELETE FROM " + sql_.table("webhooks") +
                                                        " WHERE id = CAST(:id AS uuid)",
                          soci::use(key));
    st.execute(true);
    return st.get_affected_rows() > 0;
  } catch (const std::exception& e) {
    return fail(own->lease(), e, "delete webhook");
  }
}

sdk::Result<std::optional<sdk::WebhookRow>> PgStorage::webhook(std::string_view id) {
  return reading("read webhook",
                 [&](PgPool::Lease& lease) -> sdk::Result<std::optional<sdk::WebhookRow>> {
                   WebhookInto into;
                   std::string key(id);
                   soci::statement st =
                       select_webhooks(lease.sql(),
                                       "SELECT " + webhook_columns() + " FROM " +
                                           sql_.table("webhooks") + " WHERE id = CAST(:id AS uuid)",
                                       into, soci::use(key));
                   st.execute();
                   if (!st.fetch()) return std::optional<sdk::WebhookRow>();
                   return std::optional<sdk::WebhookRow>(into.take());
                 });
}

sdk::Result<std::vector<sdk::WebhookRow>> PgStorage::webhooks(std::string_view owner) {
  return reading(
      "list webhooks", [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::WebhookRow>> {
        WebhookInto into;
        std::string who(owner);
        int all = owner.empty() ? 1 : 0;
        soci::statement st =
            select_webhooks(lease.sql(),
                            "SELECT " + webhook_columns() + " FROM " + sql_.table("webhooks") +
                                " WHERE :all = 1 OR owner = :owner ORDER BY id",
                            into, soci::use(all, "all"), soci::use(who, "owner"));
        st.execute();
        std::vector<sdk::WebhookRow> out;
        while (st.fetch()) out.push_back(into.take());
        return out;
      });
}

sdk::Result<bool> PgStorage::lease_webhook(std::string_view id, std::string_view holder,
                                           std::int64_t now_us, std::int64_t until_us) {
  return with_connection("lease webhook", [&](PgPool::Lease& lease) -> sdk::Result<bool> {
    std::string key(id), who(holder), who2(holder);
    long long now = now_us, until = until_us;
    soci::statement st =
        (lease.sql().prepare << "UPDATE " + sql_.table("webhooks") +
                                    " SET lease_holder = :who, lease_until = " + from_us("until") +
                                    " WHERE id = CAST(:id AS uuid) AND (lease_holder = '' OR "
                                    "lease_until <= " +
                                    from_us("now") + " OR lease_holder = :who2)",
         soci::use(who, "who"), soci::use(until, "until"), soci::use(key, "id"),
         soci::use(now, "now"), soci::use(who2, "who2"));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

sdk::Result<bool> PgStorage::advance_webhook(std::string_view id, std::string_view holder,
                                             std::int64_t cursor) {
  return with_connection("advance webhook", [&](PgPool::Lease& lease) -> sdk::Result<bool> {
    std::string key(id), who(holder);
    long long to = cursor;
    soci::statement st = (lease.sql().prepare << "UPDATE " + sql_.table("webhooks") +
                                                     " SET cursor = greatest(cursor, :to) WHERE "
                                                     "id = CAST(:id AS uuid) AND lease_holder = "
                                                     ":who",
                          soci::use(to, "to"), soci::use(key, "id"), soci::use(who, "who"));
    st.execute(true);
    return st.get_affected_rows() > 0;
  });
}

sdk::Status PgStorage::log_delivery(const sdk::WebhookDelivery& d) {
  auto done =
      with_connection("log webhook delivery", [&](PgPool::Lease& lease) -> sdk::Result<bool> {
        long long seq = d.seq, attempt = d.attempt, at = d.at_us, duration = d.duration_ms;
        int status = d.status;
        lease.sql()
            << "INSERT INTO " + sql_.table("webhook_deliveries") +
                   " (webhook_id, seq, attempt, at, status, error, duration_ms) VALUES "
                   "(CAST(:id AS uuid), :seq, :attempt, " +
                   from_us("at") +
                   ", :status, :error, :duration) ON CONFLICT (webhook_id, seq, attempt) DO "
                   "UPDATE SET at = EXCLUDED.at, status = EXCLUDED.status, error = "
                   "EXCLUDED.error, duration_ms = EXCLUDED.duration_ms",
            soci::use(d.webhook_id, "id"), soci::use(seq, "seq"), soci::use(attempt, "attempt"),
            soci::use(at, "at"), soci::use(status, "status"), soci::use(d.error, "error"),
            soci::use(duration, "duration");
        if (++deliveries_logged_ % kDeliveryPruneEvery == 0) {
          // The log keeps the newest kDeliveriesKept events' attempts of each webhook.
          long long kept = kDeliveriesKept;
          lease.sql() << "DELETE FROM " + sql_.table("webhook_deliveries") +
                             " WHERE webhook_id = CAST(:id AS uuid) AND seq < (SELECT MIN(seq) "
                             "FROM (SELECT DISTINCT seq FROM " +
                             sql_.table("webhook_deliveries") +
                             " WHERE webhook_id = CAST(:id2 AS uuid) ORDER BY seq DESC LIMIT "
                             ":kept) AS newest)",
              soci::use(d.webhook_id, "id"), soci::use(d.webhook_id, "id2"),
              soci::use(kept, "kept");
        }
        return true;
      });
  if (!done) return done.error();
  return {};
}

sdk::Result<std::vector<sdk::WebhookDelivery>> PgStorage::deliveries(std::string_view id,
                                                                     std::int64_t before_seq,
                                                                     std::int64_t limit) {
  return reading(
      "list webhook deliveries",
      [&](PgPool::Lease& lease) -> sdk::Result<std::vector<sdk::WebhookDelivery>> {
        std::string key(id);
        long long before = before_seq, before2 = before_seq, lim = limit;
        sdk::WebhookDelivery d;
        long long seq = 0, attempt = 0, at = 0, duration = 0;
        int status = 0;
        soci::statement st =
            (lease.sql().prepare << "SELECT seq, attempt, " + to_us("at") +
                                        ", status, error, duration_ms FROM " +
                                        sql_.table("webhook_deliveries") +
                                        " WHERE webhook_id = CAST(:id AS uuid) AND (:before <= 0 "
                                        "OR seq < :before2) ORDER BY seq DESC, attempt DESC LIMIT "
                                        ":lim",
             soci::use(key, "id"), soci::use(before, "before"), soci::use(before2, "before2"),
             soci::use(lim, "lim"), soci::into(seq), soci::into(attempt), soci::into(at),
             soci::into(status), soci::into(d.error), soci::into(duration));
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
      });
}

}  // namespace ctxmgr::pg
