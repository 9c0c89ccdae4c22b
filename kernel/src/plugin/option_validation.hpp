#pragma once
// Checks a plugin's YAML `options` against the option table in its descriptor and builds the JSON
// object the plugin's factory receives: declared types, ranges and allowed values enforced, every
// default filled in, unknown and missing keys refused — each error with file:line:column.

#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <yaml-cpp/yaml.h>

#include "config/yaml_source.hpp"
#include "plugin/plugin_info.hpp"

namespace ctxmgr::kernel {

// `options` may be null (no options given). `owner` is the plugin entry node, used for the
// position of a missing required option. `path` is the key path, e.g. "storage.options".
sdk::Result<boost::json::object> validate_options(const YamlSource& src, const YAML::Node& options,
                                                  const YAML::Node& owner, const std::string& path,
                                                  const std::vector<OptionSpec>& specs);

// A YAML node as JSON, typing plain scalars by the YAML 1.2 core schema (null, booleans, integers,
// floats) and keeping quoted scalars as strings; scalars are interpolated first.
sdk::Result<boost::json::value> yaml_to_json(const YamlSource& src, const YAML::Node& node,
                                             const std::string& path);

}  // namespace ctxmgr::kernel
