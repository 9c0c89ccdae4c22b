#include "events/feed_event.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>

#include "core/time_text.hpp"
#include "ctxmgr/sdk/storage_change_wake.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;

std::optional<FeedEvent> to_feed_event(const sdk::AuditEvent& event) {
  if (!sdk::is_feed_action(event.action)) return std::nullopt;
  FeedEvent out;
  out.seq = event.seq;
  out.at_us = event.at_us;
  out.action = event.action;
  out.context_id = event.context_id;
  out.actor = event.agent_id;
  // The details are the kernel's own JSON; a malformed one (a tampered row) only loses them.
  std::error_code ec;
  const json::value details = json::parse(event.details, ec);
  if (ec || !details.is_object()) return out;
  const auto& d = details.get_object();
  const auto text = [&](std::string_view key) -> std::string {
    const auto* v = d.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  if (const auto* v = d.if_contains("version"); v != nullptr && v->is_int64()) {
    out.version = v->get_int64();
  }
  out.owner = text("owner");
  if (out.action == "grant" || out.action == "revoke") {
    out.grantee = text("agent_id");
    out.permission = text("permission");
    if (out.owner.empty()) out.owner = text("owner_id");
  }
  return out;
}

std::string render_feed_event(const FeedEvent& e) {
  std::string out =
      "{\"seq\":" + std::to_string(e.seq) + ",\"action\":" + json_quote(e.action) +
      ",\"context_id\":" + (e.context_id.empty() ? "null" : json_quote(e.context_id)) +
      ",\"agent_id\":" + (e.owner.empty() ? "null" : json_quote(e.owner)) +
      ",\"actor\":" + json_quote(e.actor) +
      ",\"version\":" + (e.version ? std::to_string(*e.version) : "null") +
      ",\"at\":" + json_quote(format_rfc3339_ms(e.at_us));
  if (!e.grantee.empty()) out += ",\"grantee\":" + json_quote(e.grantee);
  if (!e.permission.empty()) out += ",\"permission\":" + json_quote(e.permission);
  out += '}';
  return out;
}

std::string sse_text(const FeedEvent& e) {
  return "id: " + std::to_string(e.seq) + "\ndata: " + render_feed_event(e) + "\n\n";
}

// "create,update" -> its feed actions, each known, none twice.
sdk::Result<std::vector<std::string>> parse_feed_actions(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    const auto comma = text.find(',');
    const std::string one(text.substr(0, comma));
    if (!sdk::is_feed_action(one)) {
      std::string known;
      for (auto a : sdk::kFeedActions) {
        if (!known.empty()) known += ", ";
        known += a;
      }
      return sdk::Error(sdk::Errc::invalid_request,
                        "action \"" + one + "\" is not a change the feed carries (" + known + ")");
    }
    if (std::find(out.begin(), out.end(), one) == out.end()) out.push_back(one);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace ctxmgr::kernel
