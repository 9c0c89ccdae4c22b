#include "config/yaml_source.hpp"

#include <charconv>

#include <algorithm>
#include <set>

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return std::string(parent) + "." + std::string(key);
}

std::string_view yaml_type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Scalar: return "a scalar";
    default: return "nothing";
  }
}

std::string YamlSource::where(const YAML::Node& node) const {
  const YAML::Mark m = node.Mark();
  if (m.is_null()) return file_;
  return file_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

Error YamlSource::error(const YAML::Node& node, std::string_view path,
                        std::string_view message) const {
  std::string text = where(node) + ": ";
  if (!path.empty()) text += std::string(path) + ": ";
  text += message;
  return Error(Errc::invalid_request, std::move(text));
}

sdk::Result<std::string> YamlSource::scalar(const YAML::Node& node, std::string_view path) const {
  if (!node.IsScalar()) {
    return error(node, path, "expected a value, got " + std::string(yaml_type_name(node)));
  }
  auto value = interpolate(node.Scalar(), *env_);
  if (!value) return error(node, path, value.error().message());
  return value;
}

sdk::Result<bool> YamlSource::boolean(const YAML::Node& node, std::string_view path) const {
  auto text = scalar(node, path);
  if (!text) return text.error();
  std::string v = *text;
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v == "true") return true;
  if (v == "false") return false;
  return error(node, path, "expected true or false, got \"" + *text + "\"");
}

sdk::Result<std::vector<std::string>> YamlSource::string_list(const YAML::Node& node,
                                                              std::string_view path) const {
  if (!node.IsSequence()) {
    return error(node, path, "expected a list, got " + std::string(yaml_type_name(node)));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    auto item = scalar(node[i], std::string(path) + "[" + std::to_string(i) + "]");
    if (!item) return item.error();
    out.push_back(std::move(*item));
  }
  return out;
}

sdk::Status YamlSource::check_mapping(const YAML::Node& node, std::string_view path,
                                      std::initializer_list<std::string_view> allowed) const {
  return check_mapping(node, path, std::vector<std::string>(allowed.begin(), allowed.end()));
}

sdk::Status YamlSource::check_mapping(const YAML::Node& node, std::string_view path,
                                      const std::vector<std::string>& allowed) const {
  if (!node.IsMap()) {
    return error(node, path, "expected a mapping, got " + std::string(yaml_type_name(node)));
  }
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return error(kv.first, path, "keys must be plain names");
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      return error(kv.first, join_path(path, key), "key is set twice");
    }
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return error(kv.first, join_path(path, key),
                   "unknown key '" + key + "'; allowed: " + (list.empty() ? "(none)" : list));
    }
  }
  return {};
}

sdk::Result<std::int64_t> YamlSource::integer(const YAML::Node& node, std::string_view path,
                                              std::int64_t lo, std::int64_t hi) const {
  auto v = scalar(node, path);
  if (!v) return v.error();
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
    return error(node, path, "expected an integer from " + std::to_string(lo) + " to " +
                                 std::to_string(hi) + ", got \"" + *v + "\"");
  }
  return n;
}

sdk::Result<double> YamlSource::number(const YAML::Node& node, std::string_view path, double lo,
                                       double hi) const {
  auto v = scalar(node, path);
  if (!v) return v.error();
  double n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size() || !(n >= lo && n <= hi)) {
    return error(node, path, "expected a number from " + std::to_string(lo) + " to " +
                                 std::to_string(hi) + ", got \"" + *v + "\"");
  }
  return n;
}

sdk::Status read_integers(const YamlSource& src, const YAML::Node& section, const std::string& path,
                          std::initializer_list<IntegerKey> keys) {
  for (const auto& k : keys) {
    const auto node = section[k.key];
    if (!node) continue;
    auto n = src.integer(node, path + "." + k.key, k.min, k.max);
    if (!n) return n.error();
    *k.target = *n;
  }
  return {};
}

}  // namespace ctxmgr::kernel
