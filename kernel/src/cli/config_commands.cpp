// ctxmgr config check | show

#include <iostream>

#include <boost/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli/commands.hpp"
#include "config/redaction.hpp"
#include "log/logging.hpp"
#include "plugin/option_validation.hpp"
#include "plugin/registry.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;

int run_config_check(const CommonOptions& opts) {
  auto boot = bootstrap(opts);
  if (!boot) {
    std::cerr << "ctxmgr: " << boot.error().message() << "\n";
    return kExitUsage;
  }
  // Loading creates every plugin, which validates every options block; nothing is started.
  LogConfig quiet;
  quiet.level = "off";
  (void)configure_logging(quiet);
  MetricsRegistry metrics;
  Registry registry(metrics);
  const auto reports = registry.load(boot->loaded.config, *boot->loaded.source);
  int errors = 0;
  for (const auto& r : reports) {
    if (r.loaded) continue;
    std::cerr << (r.required ? "error: " : "warning (optional, would be skipped): ") << r.error
              << "\n";
    if (r.required) ++errors;
  }
  if (errors != 0) return kExitUsage;
  std::cout << boot->loaded.config.file.string() << ": OK (" << registry.size()
            << " plugin instance(s) would start)\n";
  return kExitOk;
}

namespace {

void emit_json(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::object:
      out << YAML::BeginMap;
      for (const auto& kv : v.as_object()) {
        out << YAML::Key << std::string(kv.key()) << YAML::Value;
        emit_json(out, kv.value());
      }
      out << YAML::EndMap;
      break;
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : v.as_array()) emit_json(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::string: out << YAML::DoubleQuoted << std::string(v.as_string()); break;
    case json::kind::null: out << YAML::Null; break;
    default: out << json::serialize(v); break;
  }
}

// Replaces secrets in shown options: declared secret options, secret-looking keys, passwords
// in connection strings (recursively).
void redact(json::value& v, const PluginInfo* info, bool top_level) {
  if (v.is_object()) {
    for (auto& kv : v.as_object()) {
      bool secret = looks_secret(kv.key());
      if (top_level && info != nullptr) {
        for (const auto& spec : info->options) {
          if (spec.name == kv.key() && spec.secret()) secret = true;
        }
      }
      if (secret && !kv.value().is_null()) {
        kv.value() = json::string(kRedacted);
      } else {
        redact(kv.value(), info, false);
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v.as_array()) redact(item, info, false);
  } else if (v.is_string()) {
    v = json::string(redact_connection_secrets(v.as_string()));
  }
}

}  // namespace

int run_config_show(const CommonOptions& opts) {
  auto boot = bootstrap(opts);
  if (!boot) {
    std::cerr << "ctxmgr: " << boot.error().message() << "\n";
    return kExitUsage;
  }
  const Config& cfg = boot->loaded.config;
  const YamlSource& src = *boot->loaded.source;
  LogConfig quiet;
  quiet.level = "off";
  (void)configure_logging(quiet);

  YAML::Emitter out;
  out << YAML::Comment("effective configuration of " + cfg.file.string() +
                       " (defaults filled in, secrets shown as ***)");
  out << YAML::BeginMap;
  out << YAML::Key << "server" << YAML::Value << YAML::BeginMap << YAML::Key << "log"
      << YAML::Value << YAML::BeginMap << YAML::Key << "level" << YAML::Value << cfg.log.level
      << YAML::Key << "format" << YAML::Value << cfg.log.format << YAML::Key << "file"
      << YAML::Value << redact_connection_secrets(cfg.log.file) << YAML::EndMap << YAML::EndMap;
  out << YAML::Key << "plugins" << YAML::Value << YAML::BeginMap << YAML::Key << "search_paths"
      << YAML::Value << YAML::BeginSeq;
  for (const auto& p : cfg.plugin_paths) out << p.string();
  out << YAML::EndSeq << YAML::EndMap;

  const std::pair<sdk::Kind, const char*> sections[] = {{sdk::Kind::storage, "storage"},
                                                        {sdk::Kind::embedder, "embedder"},
                                                        {sdk::Kind::selector, "selectors"},
                                                        {sdk::Kind::provider, "providers"},
                                                        {sdk::Kind::transport, "transports"}};
  for (const auto& [kind, key] : sections) {
    bool open = false;
    for (const auto& e : cfg.plugins) {
      if (e.kind != kind) continue;
      if (!open) {
        out << YAML::Key << key << YAML::Value;
        const bool single = kind == sdk::Kind::storage || kind == sdk::Kind::embedder;
        if (!single) out << YAML::BeginSeq;
        open = true;
      }
      // Validate against the plugin's own table when it can be read; else show what was written.
      std::optional<PluginInfo> info;
      std::string note;
      json::value options;
      if (auto file = find_plugin_file(cfg, e); file) {
        if (auto lib = PluginLibrary::open(*file); lib) info = (*lib)->info();
        else note = lib.error().message();
      } else {
        note = file.error().message();
      }
      if (info) {
        auto validated = validate_options(src, e.options, e.node, e.yaml_path + ".options",
                                          info->options);
        if (validated) options = std::move(*validated);
        else note = validated.error().message();
      }
      if (options.is_null() && e.options) {
        auto raw = yaml_to_json(src, e.options, e.yaml_path + ".options");
        if (raw) options = std::move(*raw);
        else note = raw.error().message();
      }
      redact(options, info ? &*info : nullptr, true);
      out << YAML::BeginMap;
      out << YAML::Key << "plugin" << YAML::Value << e.plugin;
      out << YAML::Key << "name" << YAML::Value << e.name;
      if (e.path) out << YAML::Key << "path" << YAML::Value << e.path->string();
      out << YAML::Key << "required" << YAML::Value << e.required;
      out << YAML::Key << "options" << YAML::Value;
      if (options.is_null()) options = json::object();
      emit_json(out, options);
      if (!note.empty()) out << YAML::Comment("not validated: " + redact_connection_secrets(note));
      out << YAML::EndMap;
    }
    if (open && kind != sdk::Kind::storage && kind != sdk::Kind::embedder) out << YAML::EndSeq;
  }
  out << YAML::EndMap;
  std::cout << out.c_str() << "\n";
  return kExitOk;
}

}  // namespace ctxmgr::kernel
