#include "core/context_render.hpp"

#include "core/time_text.hpp"
#include "json/json_text.hpp"

namespace ctxmgr::kernel {

namespace {

std::string render(const sdk::ContextRow& r, std::int64_t version, std::int64_t updated_at,
                   const std::string& updated_by, const std::string& data,
                   const std::string& metadata) {
  std::string out;
  out.reserve(data.size() + metadata.size() + 320);
  out += "{\"id\":";
  out += json_quote(r.id);
  out += ",\"agent_id\":";
  out += json_quote(r.agent_id);
  out += ",\"context_data\":";
  out += data;
  out += ",\"metadata\":";
  out += metadata;
  out += ",\"version\":";
  out += std::to_string(version);
  out += ",\"created_at\":\"";
  out += format_rfc3339_ms(r.created_at_us);
  out += "\",\"updated_at\":\"";
  out += format_rfc3339_ms(updated_at);
  out += "\",\"created_by\":";
  out += json_quote(r.created_by);
  out += ",\"updated_by\":";
  out += json_quote(updated_by);
  if (r.deleted && version == r.version) out += ",\"deleted\":true";
  out += '}';
  return out;
}

}  // namespace

std::string render_context(const sdk::ContextRow& r) {
  return render(r, r.version, r.updated_at_us, r.updated_by, r.context_data, r.metadata);
}

std::string render_context_version(const sdk::ContextRow& current, const sdk::HistoryRow& v) {
  return render(current, v.version, v.at_us, v.agent_id, v.context_data, v.metadata);
}

std::string render_history_item(const sdk::HistoryRow& h) {
  std::string out = "{\"version\":" + std::to_string(h.version) +
                    ",\"action\":" + json_quote(h.action) +
                    ",\"agent_id\":" + json_quote(h.agent_id) + ",\"at\":\"" +
                    format_rfc3339_ms(h.at_us) + "\",\"context_data\":";
  out += h.context_data;
  out += ",\"metadata\":";
  out += h.metadata;
  out += '}';
  return out;
}

}  // namespace ctxmgr::kernel
