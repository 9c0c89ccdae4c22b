// The webhook endpoints (docs/events.md: Webhooks): registration checked (URL against the
// outbound policy, the filters as GET /api/events takes them), stored with its audit event in one
// transaction, and the dispatcher told; listing, reading, removing, and the delivery log.

#include <boost/json.hpp>

#include "core/ids.hpp"
#include "core/page.hpp"
#include "core/request_parsing.hpp"
#include "core/time_text.hpp"
#include "events/webhook_dispatcher.hpp"
#include "json/json_text.hpp"
#include "service/context_service.hpp"

namespace ctxmgr::kernel {

using sdk::ApiResponse;
using sdk::Errc;
using sdk::Error;
using R = sdk::Result<ApiResponse>;

namespace {

constexpr std::size_t kMinSecret = 16;
constexpr std::size_t kMaxSecret = 256;

std::string nullable(const std::string& s) { return s.empty() ? "null" : json_quote(s); }

std::string render_webhook(const sdk::WebhookRow& w) {
  const std::string actions =
      json_array_of(webhook_filter(w).actions, [](const std::string& a) { return json_quote(a); });
  return "{\"id\":" + json_quote(w.id) + ",\"owner\":" + json_quote(w.owner) +
         ",\"url\":" + json_quote(w.url) + ",\"agent_id\":" + nullable(w.agent_id) +
         ",\"context_id\":" + nullable(w.context_id) + ",\"action\":" + actions +
         ",\"created_at\":\"" + format_rfc3339_ms(w.created_at_us) +
         "\",\"delivered_through\":" + std::to_string(w.cursor) + "}";
}

std::string render_delivery(const sdk::WebhookDelivery& d) {
  return "{\"seq\":" + std::to_string(d.seq) + ",\"attempt\":" + std::to_string(d.attempt) +
         ",\"at\":\"" + format_rfc3339_ms(d.at_us) + "\",\"status\":" +
         (d.status == 0 ? std::string("null") : std::to_string(d.status)) +
         ",\"delivered\":" + (d.status >= 200 && d.status < 300 ? "true" : "false") +
         ",\"error\":" + nullable(d.error) + ",\"duration_ms\":" + std::to_string(d.duration_ms) +
         "}";
}

// `action` as a comma list or an array of names, each a feed action, none twice; as stored
// ("create,update").
sdk::Result<std::string> webhook_actions(const boost::json::value& v) {
  std::string text;
  if (v.is_string()) {
    text = std::string(v.get_string());
  } else if (v.is_array()) {
    for (const auto& a : v.get_array()) {
      if (!a.is_string()) return Error(Errc::invalid_request, "action must hold strings");
      text += (text.empty() ? "" : ",") + std::string(a.get_string());
    }
  } else {
    return Error(Errc::invalid_request, "action must be a string (\"create,update\") or an array");
  }
  if (text.empty()) return text;
  auto parsed = parse_feed_actions(text);
  if (!parsed) return parsed.error();
  std::string out;
  for (const auto& a : *parsed) out += (out.empty() ? "" : ",") + a;
  return out;
}

}  // namespace

sdk::Result<sdk::StorageWebhooks*> ContextService::webhook_store() const {
  if (settings_.webhooks == nullptr || settings_.webhook_dispatcher == nullptr) {
    return Error(Errc::unavailable,
                 "webhooks are off on this server (webhooks.enabled, events.enabled, or a "
                 "storage that keeps no webhooks)");
  }
  return settings_.webhooks;
}

// The webhook `id` when `who` may see it (its owner or an admin): anyone else is told it does
// not exist.
sdk::Result<sdk::WebhookRow> ContextService::webhook_of(const Identity& who, std::string_view id) {
  auto store = webhook_store();
  if (!store) return store.error();
  auto key = canonical_uuid(id);
  if (!key) return Error(Errc::invalid_request, "a webhook id is a UUID");
  auto row = (*store)->webhook(*key);
  if (!row) return row.error();
  if (!row->has_value() || (!who.admin && (*row)->owner != who.agent_id)) {
    return Error(Errc::not_found, "webhook " + *key + " does not exist");
  }
  return std::move(**row);
}

R ContextService::create_webhook(const sdk::Caller& caller, std::string_view body) {
  return as_caller("webhook.create", caller, [&](const Identity& who) -> R {
    auto store = webhook_store();
    if (!store) return store.error();
    auto obj = parse_body_object(body, settings_.max_json_depth,
                                 {"url", "secret", "agent_id", "context_id", "action"});
    if (!obj) return obj.error();
    sdk::WebhookRow w;
    w.owner = who.agent_id;
    const auto* url = obj->if_contains("url");
    if (url == nullptr || !url->is_string()) {
      return Error(Errc::invalid_request, "url is required: the http(s) URL deliveries go to");
    }
    w.url = std::string(url->get_string());
    const auto* secret = obj->if_contains("secret");
    if (secret == nullptr || !secret->is_string() || secret->get_string().size() < kMinSecret ||
        secret->get_string().size() > kMaxSecret) {
      return Error(Errc::invalid_request,
                   "secret is required: 16–256 characters, the key deliveries are signed with");
    }
    w.secret = std::string(secret->get_string());
    if (const auto* a = obj->if_contains("agent_id"); a != nullptr && !a->is_null()) {
      if (!a->is_string()) return Error(Errc::invalid_request, "agent_id must be a string");
      auto agent = parse_agent_id(std::string_view(a->get_string()), "agent_id");
      if (!agent) return agent.error();
      w.agent_id = *agent;
    }
    if (const auto* c = obj->if_contains("context_id"); c != nullptr && !c->is_null()) {
      if (!c->is_string()) return Error(Errc::invalid_request, "context_id must be a string");
      auto id = parse_context_id(std::string_view(c->get_string()));
      if (!id) return id.error();
      w.context_id = *id;
    }
    if (const auto* a = obj->if_contains("action"); a != nullptr && !a->is_null()) {
      auto actions = webhook_actions(*a);
      if (!actions) return actions.error();
      w.actions = *actions;
    }
    // An agent registers for its own changes (or one context it names); an admin for anyone's.
    if (!who.admin) {
      if (w.agent_id.empty() && w.context_id.empty()) w.agent_id = who.agent_id;
      if (!w.agent_id.empty() && w.agent_id != who.agent_id) {
        return Error(Errc::forbidden, "only " + w.agent_id +
                                          " or an admin may register a webhook on " +
                                          w.agent_id + "'s changes");
      }
    }
    const auto& policy = settings_.webhook_dispatcher->policy();
    auto target = check_url(policy, w.url);
    if (!target) return target.error();
    if (auto st = resolve_allowed(policy, *target); !st) {
      if (st.error().code() == Errc::forbidden) return st.error();
      return Error(Errc::invalid_request, st.error().message());
    }
    auto mine = (*store)->webhooks(who.agent_id);
    if (!mine) return mine.error();
    if (mine->size() >= settings_.webhooks_per_agent) {
      return Error(Errc::forbidden, "agent " + who.agent_id + " has " +
                                        std::to_string(mine->size()) +
                                        " webhooks, the most allowed (webhooks.max_per_agent)");
    }
    // Deliveries start after the newest change committed now.
    auto from = settings_.events->newest_seq();
    if (!from) return from.error();
    w.cursor = *from;
    w.created_at_us = clock_.now_us();
    w.id = new_uuid_v7(w.created_at_us / 1000);
    auto result = write(caller, who, "webhook.create", [&](sdk::Transaction& tx,
                                                           sdk::AuditEvent& ev) {
      ev.details = "{\"webhook_id\":" + json_quote(w.id) + ",\"host\":" + json_quote(target->host) +
                   "}";
      if (auto st = (*store)->insert_webhook(tx, w); !st) return R(st.error());
      ApiResponse r;
      r.status = 201;
      r.json = render_webhook(w);
      return R(std::move(r));
    });
    if (result) settings_.webhook_dispatcher->rescan();
    return result;
  });
}

R ContextService::list_webhooks(const sdk::Caller& caller) {
  return as_caller("webhooks", caller, [&](const Identity& who) -> R {
    auto store = webhook_store();
    if (!store) return store.error();
    auto rows = (*store)->webhooks(who.admin ? "" : who.agent_id);
    if (!rows) return rows.error();
    ApiResponse r;
    r.json = "{\"items\":" + json_array_of(*rows, render_webhook) + "}";
    return r;
  });
}

R ContextService::get_webhook(const sdk::Caller& caller, std::string_view id) {
  return as_caller("webhook", caller, [&](const Identity& who) -> R {
    auto w = webhook_of(who, id);
    if (!w) return w.error();
    auto last = settings_.webhooks->deliveries(w->id, 0, 1);
    if (!last) return last.error();
    ApiResponse r;
    r.json = render_webhook(*w);
    r.json.pop_back();
    r.json += ",\"last_delivery\":" + (last->empty() ? "null" : render_delivery(last->front())) +
              "}";
    return r;
  });
}

R ContextService::delete_webhook(const sdk::Caller& caller, std::string_view id) {
  return as_caller("webhook.delete", caller, [&](const Identity& who) -> R {
    auto w = webhook_of(who, id);
    if (!w) return w.error();
    auto result =
        write(caller, who, "webhook.delete", [&](sdk::Transaction& tx, sdk::AuditEvent& ev) {
          ev.details = "{\"webhook_id\":" + json_quote(w->id) + "}";
          auto removed = settings_.webhooks->delete_webhook(tx, w->id);
          if (!removed) return R(removed.error());
          if (!*removed) return R(Error(Errc::not_found, "webhook " + w->id + " does not exist"));
          ApiResponse r;
          r.status = 204;
          return R(std::move(r));
        });
    if (result) settings_.webhook_dispatcher->rescan();
    return result;
  });
}

R ContextService::webhook_deliveries(const sdk::Caller& caller, std::string_view id,
                                     const sdk::PageParams& page) {
  return as_caller("webhook.deliveries", caller, [&](const Identity& who) -> R {
    auto limit = parse_limit(page.limit, 50);
    if (!limit) return limit.error();
    std::int64_t before = 0;
    if (page.cursor) {
      auto seq = parse_positive(*page.cursor, "cursor");
      if (!seq) return seq.error();
      before = *seq;
    }
    auto w = webhook_of(who, id);
    if (!w) return w.error();
    auto rows = settings_.webhooks->deliveries(w->id, before, *limit + 1);
    if (!rows) return rows.error();
    // A page ends between two events, never between two attempts of one: the next page reads
    // below the last event it shows whole.
    std::optional<std::int64_t> next;
    if (rows->size() > static_cast<std::size_t>(*limit)) {
      rows->resize(static_cast<std::size_t>(*limit));
      const std::int64_t cut = rows->back().seq;
      if (rows->front().seq != cut) {
        while (rows->back().seq == cut) rows->pop_back();
        next = cut + 1;
      } else {
        next = cut;  // one event's attempts fill the page: the rest of them are not shown
      }
    }
    ApiResponse r;
    r.json = "{\"items\":" + json_array_of(*rows, render_delivery) +
             ",\"next_cursor\":" + (next ? json_quote(std::to_string(*next)) : "null") + "}";
    return r;
  });
}

}  // namespace ctxmgr::kernel
