#include "json/json_text.hpp"

#include <charconv>
#include <cmath>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ctxmgr::kernel {

namespace json = boost::json;

namespace {

// Whether every number in `v` is finite. Boost.JSON reads a number beyond a double's range
// (1e999) as infinity, which JSON cannot write back; such a body is refused, not altered.
bool all_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& item : v.get_array()) {
        if (!all_finite(item)) return false;
      }
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!all_finite(kv.value())) return false;
      }
      return true;
    default:
      return true;
  }
}

}  // namespace

sdk::Result<json::value> parse_json(std::string_view text, std::size_t max_depth) {
  json::parse_options opt;
  opt.max_depth = max_depth;
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec, {}, opt);
  if (ec == json::error::too_deep) {
    return sdk::Error(sdk::Errc::invalid_request,
                      "JSON nesting deeper than " + std::to_string(max_depth));
  }
  if (ec) {
    return sdk::Error(sdk::Errc::invalid_request, "body is not valid JSON: " + ec.message());
  }
  if (!all_finite(v)) {
    return sdk::Error(sdk::Errc::invalid_request,
                      "body has a number beyond the range of a double (about 1.8e308)");
  }
  return v;
}

namespace {

void write_double(double d, std::string& out) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  if (ec != std::errc() || !std::isfinite(d)) {
    out += "null";  // parse_json refuses such numbers; never emit invalid JSON
    return;
  }
  out += text;
  // A float must read back as a float: "1" becomes "1.0"; "1e+300" is already one.
  if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";
}

}  // namespace

std::string json_quote(std::string_view s) {
  return json::serialize(json::string_view(s.data(), s.size()));
}

std::string json_string_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& s : items) {
    if (out.size() > 1) out += ',';
    out += json_quote(s);
  }
  return out + "]";
}

void write_json(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out.append(buf, end);
      break;
    }
    case json::kind::uint64: {
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
      out.append(buf, end);
      break;
    }
    case json::kind::double_:
      write_double(v.get_double(), out);
      break;
    case json::kind::string:
      out += json::serialize(v.get_string());
      break;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        write_json(item, out);
      }
      out += ']';
      break;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(kv.key());
        out += ':';
        write_json(kv.value(), out);
      }
      out += '}';
      break;
    }
  }
}

std::string to_json(const json::value& v) {
  std::string out;
  write_json(v, out);
  return out;
}

}  // namespace ctxmgr::kernel
