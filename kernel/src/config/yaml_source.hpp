#pragma once
// Reading a YAML document with positions: every error names file:line:column and the key's path
// (e.g. `ctxmgr.yaml:12:7: storage.options.busy_timeout_ms: expected an integer, got "abc"`).
// Scalars are read through ${VAR} interpolation.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/environment.hpp"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

class YamlSource {
 public:
  YamlSource(std::string file, const Environment& env) : file_(std::move(file)), env_(&env) {}

  const std::string& file() const { return file_; }
  const Environment& env() const { return *env_; }

  // "file:line:column" of a node (1-based).
  std::string where(const YAML::Node& node) const;
  // An invalid_request error "file:line:column: path: message".
  sdk::Error error(const YAML::Node& node, std::string_view path, std::string_view message) const;

  // The interpolated text of a scalar; an error for a mapping or sequence.
  sdk::Result<std::string> scalar(const YAML::Node& node, std::string_view path) const;
  sdk::Result<bool> boolean(const YAML::Node& node, std::string_view path) const;
  // An integer / a number within [lo, hi].
  sdk::Result<std::int64_t> integer(const YAML::Node& node, std::string_view path, std::int64_t lo,
                                    std::int64_t hi) const;
  sdk::Result<double> number(const YAML::Node& node, std::string_view path, double lo,
                             double hi) const;
  sdk::Result<std::vector<std::string>> string_list(const YAML::Node& node,
                                                    std::string_view path) const;

  // Checks that `node` is a mapping whose keys are all in `allowed`, each given once.
  sdk::Status check_mapping(const YAML::Node& node, std::string_view path,
                            std::initializer_list<std::string_view> allowed) const;
  // The same for a runtime list of allowed keys.
  sdk::Status check_mapping(const YAML::Node& node, std::string_view path,
                            const std::vector<std::string>& allowed) const;

 private:
  std::string file_;
  const Environment* env_;
};

// The integer keys of a section that are given, each checked against its bounds.
struct IntegerKey {
  const char* key;
  std::int64_t* target;
  std::int64_t min;
  std::int64_t max;
};
sdk::Status read_integers(const YamlSource& src, const YAML::Node& section, const std::string& path,
                          std::initializer_list<IntegerKey> keys);

// Joins a key path: join_path("storage", "options") == "storage.options"; join_path("", "x") == "x".
std::string join_path(std::string_view parent, std::string_view key);

// The human name of a YAML node's type ("a mapping", "a sequence", "a scalar", "nothing").
std::string_view yaml_type_name(const YAML::Node& node);

}  // namespace ctxmgr::kernel
