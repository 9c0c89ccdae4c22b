// ctxmgr plugins list | describe

#include <iomanip>
#include <iostream>

#include <boost/json.hpp>

#include "cli/commands.hpp"
#include "log/logging.hpp"
#include "plugin/registry.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;

namespace {

std::string abi_text(const PluginInfo& i) {
  return std::to_string(i.abi_major) + "." + std::to_string(i.abi_minor);
}

// Every .so in the search paths, plus configured plugins whose file is missing.
sdk::Result<std::vector<LoadReport>> discover(const CommonOptions& opts, Bootstrap& boot) {
  auto b = bootstrap(opts);
  if (!b) return b.error();
  boot = std::move(*b);
  LogConfig quiet;
  quiet.level = "off";
  (void)configure_logging(quiet);
  const Config& cfg = boot.loaded.config;
  auto reports = scan_plugins(cfg.plugin_paths);
  for (const auto& e : cfg.plugins) {
    auto file = find_plugin_file(cfg, e);
    if (!file) {
      LoadReport r;
      r.instance = e.name;
      r.yaml_path = e.yaml_path;
      r.error = file.error().message();
      reports.push_back(std::move(r));
    } else if (e.path) {
      // An explicit path outside the search folders: list it too.
      bool listed = false;
      for (const auto& r : reports) listed = listed || r.path == *file;
      if (!listed) {
        LoadReport r;
        r.path = *file;
        if (auto lib = PluginLibrary::open(*file); lib) {
          r.info = (*lib)->info();
          r.loaded = true;
        } else {
          r.error = lib.error().message();
        }
        reports.push_back(std::move(r));
      }
    }
  }
  return reports;
}

json::object option_json(const OptionSpec& s) {
  json::object o;
  o["name"] = s.name;
  o["type"] = std::string(option_type_name(s.type));
  o["required"] = s.required();
  o["secret"] = s.secret();
  if (s.default_json) {
    boost::system::error_code ec;
    o["default"] = json::parse(*s.default_json, ec);
  }
  if (s.has_min()) o["minimum"] = s.min;
  if (s.has_max()) o["maximum"] = s.max;
  if (!s.allowed.empty()) {
    json::array a;
    for (const auto& v : s.allowed) a.emplace_back(v);
    o["enum"] = std::move(a);
  }
  o["description"] = s.description;
  return o;
}

}  // namespace

int run_plugins_list(const CommonOptions& opts, bool as_json) {
  Bootstrap boot;
  auto reports = discover(opts, boot);
  if (!reports) {
    std::cerr << "ctxmgr: " << reports.error().message() << "\n";
    return kExitUsage;
  }
  if (as_json) {
    json::array arr;
    for (const auto& r : *reports) {
      json::object o;
      o["path"] = r.path.string();
      if (r.info) {
        o["kind"] = std::string(sdk::kind_name(r.info->kind));
        o["name"] = r.info->name;
        o["version"] = r.info->version;
        o["abi"] = abi_text(*r.info);
      }
      o["loaded"] = r.loaded;
      if (!r.loaded) o["error"] = r.error;
      arr.push_back(std::move(o));
    }
    std::cout << json::serialize(arr) << "\n";
    return kExitOk;
  }
  std::cout << std::left << std::setw(10) << "KIND" << std::setw(16) << "NAME" << std::setw(10)
            << "VERSION" << std::setw(6) << "ABI" << "STATUS / PATH\n";
  for (const auto& r : *reports) {
    std::cout << std::setw(10) << (r.info ? sdk::kind_name(r.info->kind) : "-") << std::setw(16)
              << (r.info ? r.info->name : (r.instance.empty() ? "-" : r.instance))
              << std::setw(10) << (r.info ? r.info->version : "-") << std::setw(6)
              << (r.info ? abi_text(*r.info) : "-")
              << (r.loaded ? "ok " + r.path.string() : "refused: " + r.error) << "\n";
  }
  return kExitOk;
}

int run_plugins_describe(const CommonOptions& opts, const std::string& name) {
  Bootstrap boot;
  auto reports = discover(opts, boot);
  if (!reports) {
    std::cerr << "ctxmgr: " << reports.error().message() << "\n";
    return kExitUsage;
  }
  for (const auto& r : *reports) {
    if (!r.info || r.info->name != name) continue;
    json::object o;
    o["kind"] = std::string(sdk::kind_name(r.info->kind));
    o["name"] = r.info->name;
    o["version"] = r.info->version;
    o["description"] = r.info->description;
    o["abi"] = abi_text(*r.info);
    o["build"] = r.info->build;
    o["path"] = r.path.string();
    json::array options;
    for (const auto& s : r.info->options) options.push_back(option_json(s));
    o["options"] = std::move(options);
    std::cout << json::serialize(o) << "\n";
    return kExitOk;
  }
  std::cerr << "ctxmgr: no plugin named '" << name << "' in the plugin search paths\n";
  return kExitFailure;
}

}  // namespace ctxmgr::kernel
