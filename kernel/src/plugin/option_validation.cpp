#include "plugin/option_validation.hpp"

#include <charconv>
#include <cmath>
#include <regex>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace ctxmgr::kernel {

namespace json = boost::json;

namespace {

std::string shown(const OptionSpec& spec, const std::string& text) {
  return spec.secret() ? std::string("***") : "\"" + text + "\"";
}

template <class T>
bool parse_number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end;
}

std::string bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 9e15) return std::to_string(static_cast<std::int64_t>(v));
  return json::serialize(json::value(v));
}

sdk::Status check_range(const YamlSource& src, const YAML::Node& node, const std::string& path,
                        const OptionSpec& spec, double v) {
  if (spec.has_min() && v < spec.min) {
    return src.error(node, path, "must be at least " + bound(spec.min));
  }
  if (spec.has_max() && v > spec.max) {
    return src.error(node, path, "must be at most " + bound(spec.max));
  }
  return {};
}

sdk::Result<json::value> typed_value(const YamlSource& src, const YAML::Node& node,
                                     const std::string& path, const OptionSpec& spec) {
  const std::string type(option_type_name(spec.type));
  switch (spec.type) {
    case CTXMGR_OPT_STRING: {
      auto text = src.scalar(node, path);
      if (!text) return text.error();
      if (!spec.allowed.empty() &&
          std::find(spec.allowed.begin(), spec.allowed.end(), *text) == spec.allowed.end()) {
        std::string list;
        for (const auto& a : spec.allowed) list += (list.empty() ? "" : ", ") + a;
        return src.error(node, path, "expected one of " + list + "; got " + shown(spec, *text));
      }
      return json::value(json::string(*text));
    }
    case CTXMGR_OPT_INTEGER: {
      auto text = src.scalar(node, path);
      if (!text) return text.error();
      std::int64_t v = 0;
      if (!parse_number(*text, v)) {
        return src.error(node, path, "expected an integer, got " + shown(spec, *text));
      }
      if (auto st = check_range(src, node, path, spec, static_cast<double>(v)); !st) {
        return st.error();
      }
      return json::value(v);
    }
    case CTXMGR_OPT_NUMBER: {
      auto text = src.scalar(node, path);
      if (!text) return text.error();
      double v = 0;
      if (!parse_number(*text, v) || !std::isfinite(v)) {
        return src.error(node, path, "expected a number, got " + shown(spec, *text));
      }
      if (auto st = check_range(src, node, path, spec, v); !st) return st.error();
      return json::value(v);
    }
    case CTXMGR_OPT_BOOLEAN: {
      auto v = src.boolean(node, path);
      if (!v) return v.error();
      return json::value(*v);
    }
    case CTXMGR_OPT_STRING_LIST: {
      auto list = src.string_list(node, path);
      if (!list) return list.error();
      json::array arr;
      for (auto& s : *list) arr.emplace_back(json::string(s));
      return json::value(std::move(arr));
    }
    case CTXMGR_OPT_OBJECT: {
      if (!node.IsMap()) {
        return src.error(node, path, "expected a mapping, got " + std::string(yaml_type_name(node)));
      }
      return yaml_to_json(src, node, path);
    }
    default:
      return src.error(node, path, "has an option type this ctxmgr does not know");
  }
}

json::value plain_scalar(const std::string& text) {
  static const std::regex kInt(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  std::int64_t i = 0;
  if (std::regex_match(text, kInt) && parse_number(text[0] == '+' ? text.substr(1) : text, i)) {
    return i;
  }
  double d = 0;
  if (std::regex_match(text, kFloat) && parse_number(text[0] == '+' ? text.substr(1) : text, d)) {
    return d;
  }
  return json::string(text);
}

}  // namespace

sdk::Result<json::value> yaml_to_json(const YamlSource& src, const YAML::Node& node,
                                      const std::string& path) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json::object obj;
      for (const auto& kv : node) {
        const std::string key = kv.first.Scalar();
        if (obj.contains(key)) return src.error(kv.first, join_path(path, key), "key is set twice");
        auto v = yaml_to_json(src, kv.second, join_path(path, key));
        if (!v) return v.error();
        obj.emplace(key, std::move(*v));
      }
      return json::value(std::move(obj));
    }
    case YAML::NodeType::Sequence: {
      json::array arr;
      for (std::size_t i = 0; i < node.size(); ++i) {
        auto v = yaml_to_json(src, node[i], path + "[" + std::to_string(i) + "]");
        if (!v) return v.error();
        arr.push_back(std::move(*v));
      }
      return json::value(std::move(arr));
    }
    case YAML::NodeType::Scalar: {
      auto text = src.scalar(node, path);
      if (!text) return text.error();
      // yaml-cpp tags a plain scalar "?" and a quoted one "!": only plain ones are typed.
      if (node.Tag() == "?") return plain_scalar(*text);
      return json::value(json::string(*text));
    }
    default:
      return json::value(nullptr);
  }
}

sdk::Result<json::object> validate_options(const YamlSource& src, const YAML::Node& options,
                                           const YAML::Node& owner, const std::string& path,
                                           const std::vector<OptionSpec>& specs) {
  json::object out;
  const bool given = options && options.IsMap();
  if (given) {
    std::vector<std::string> allowed;
    allowed.reserve(specs.size());
    for (const auto& s : specs) allowed.push_back(s.name);
    if (auto st = src.check_mapping(options, path, allowed); !st) return st.error();
  }
  for (const auto& spec : specs) {
    const std::string key_path = join_path(path, spec.name);
    const YAML::Node node = given ? options[spec.name] : YAML::Node();
    if (node && !node.IsNull()) {
      auto v = typed_value(src, node, key_path, spec);
      if (!v) return v.error();
      out.emplace(spec.name, std::move(*v));
    } else if (spec.default_json) {
      boost::system::error_code ec;
      auto v = json::parse(*spec.default_json, ec);
      if (ec) return src.error(owner, key_path, "the plugin's default is not valid JSON");
      out.emplace(spec.name, std::move(v));
    } else if (spec.required()) {
      return src.error(given ? options : owner, path,
                       "missing required option '" + spec.name + "' (" +
                           std::string(option_type_name(spec.type)) + ": " + spec.description + ")");
    }
  }
  return out;
}

}  // namespace ctxmgr::kernel
