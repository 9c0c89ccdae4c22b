#include "embedding/embedding_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace ctxmgr::kernel {

namespace json = boost::json;

namespace {

void render(const json::value& v, std::string& out);

void render_member(std::string_view key, const json::value& v, std::string& out) {
  if (!v.is_string() && !v.is_structured()) return;  // a number, boolean or null: left out
  out.append(key);
  out += ':';
  if (v.is_string()) {
    out += ' ';
    out.append(v.get_string());
    out += '\n';
    return;
  }
  out += '\n';
  render(v, out);
}

void render(const json::value& v, std::string& out) {
  if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) render_member(kv.key(), kv.value(), out);
  } else if (const auto* a = v.if_array()) {
    for (const auto& item : *a) {
      if (item.is_string()) {
        out += "- ";
        out.append(item.get_string());
        out += '\n';
      } else {
        render(item, out);
      }
    }
  }
}

}  // namespace

std::string embedding_text(std::string_view context_data) {
  boost::system::error_code ec;
  const json::value v = json::parse(context_data, ec);
  if (ec) return std::string(context_data);
  std::string out;
  render(v, out);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace ctxmgr::kernel
