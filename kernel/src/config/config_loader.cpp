#include <charconv>
#include <fstream>
#include <sstream>
#include <tuple>

#include "config/config.hpp"
#include "config/webhooks_config.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;
namespace fs = std::filesystem;

namespace {

// Resolves a relative path against the config file's folder, so a config works from any cwd.
fs::path resolve_near(const fs::path& config_file, const std::string& p) {
  fs::path path(p);
  if (path.is_absolute() || config_file.empty()) return path;
  return config_file.parent_path() / path;
}

// A list of paths, each resolved against the config file's folder.
sdk::Result<std::vector<fs::path>> read_paths(const YamlSource& src, const fs::path& config_file,
                                              const YAML::Node& node, std::string_view path) {
  auto paths = src.string_list(node, path);
  if (!paths) return paths.error();
  std::vector<fs::path> resolved;
  for (const auto& p : *paths) resolved.push_back(resolve_near(config_file, p));
  return resolved;
}

sdk::Status read_log(const YamlSource& src, const YAML::Node& node, LogConfig& out) {
  if (auto st = src.check_mapping(node, "server.log", {"level", "format", "file"}); !st) return st;
  if (node["level"]) {
    auto v = src.scalar(node["level"], "server.log.level");
    if (!v) return v.error();
    std::string level = *v;
    for (auto& c : level) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (level == "warning") level = "warn";
    if (level == "critical") level = "error";
    static const std::vector<std::string> kLevels = {"trace", "debug", "info",
                                                     "warn",  "error", "off"};
    if (std::find(kLevels.begin(), kLevels.end(), level) == kLevels.end()) {
      return src.error(node["level"], "server.log.level",
                       "expected one of trace, debug, info, warn, error, off; got \"" + *v + "\"");
    }
    out.level = level;
  }
  if (node["format"]) {
    auto v = src.scalar(node["format"], "server.log.format");
    if (!v) return v.error();
    if (*v != "text" && *v != "json") {
      return src.error(node["format"], "server.log.format",
                       "expected text or json; got \"" + *v + "\"");
    }
    out.format = *v;
  }
  if (node["file"]) {
    auto v = src.scalar(node["file"], "server.log.file");
    if (!v) return v.error();
    out.file = *v;
  }
  return {};
}

bool valid_plugin_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

sdk::Result<PluginEntry> read_entry(const YamlSource& src, const fs::path& config_file,
                                    const YAML::Node& node, sdk::Kind kind,
                                    const std::string& path) {
  if (auto st = src.check_mapping(node, path,
                                  {"plugin", "name", "path", "required", "enabled", "options"});
      !st) {
    return st.error();
  }
  PluginEntry e;
  e.kind = kind;
  e.node = node;
  e.yaml_path = path;
  if (!node["plugin"]) return src.error(node, path, "missing required key 'plugin'");
  auto plugin = src.scalar(node["plugin"], path + ".plugin");
  if (!plugin) return plugin.error();
  if (!valid_plugin_name(*plugin)) {
    return src.error(node["plugin"], path + ".plugin",
                     "expected a plugin name of a-z, 0-9, '-', '_'; got \"" + *plugin + "\"");
  }
  e.plugin = *plugin;
  e.name = e.plugin;
  if (node["name"]) {
    auto name = src.scalar(node["name"], path + ".name");
    if (!name) return name.error();
    if (!valid_plugin_name(*name)) {
      return src.error(node["name"], path + ".name",
                       "expected a name of a-z, 0-9, '-', '_'; got \"" + *name + "\"");
    }
    e.name = *name;
  }
  if (node["path"]) {
    auto p = src.scalar(node["path"], path + ".path");
    if (!p) return p.error();
    e.path = resolve_near(config_file, *p);
  }
  if (node["required"]) {
    auto r = src.boolean(node["required"], path + ".required");
    if (!r) return r.error();
    e.required = *r;
  }
  if (node["enabled"]) {
    // Empty is false, so that `enabled: ${VAR:+true}` turns an entry on when VAR is set.
    auto text = src.scalar(node["enabled"], path + ".enabled");
    if (!text) return text.error();
    if (!text->empty()) {
      auto on = src.boolean(node["enabled"], path + ".enabled");
      if (!on) return on.error();
      e.enabled = *on;
    } else {
      e.enabled = false;
    }
  }
  if (node["options"]) {
    e.options = node["options"];
    if (!e.options.IsNull() && !e.options.IsMap()) {
      return src.error(e.options, path + ".options",
                       "expected a mapping, got " + std::string(yaml_type_name(e.options)));
    }
  }
  return e;
}

sdk::Status read_entries(const YamlSource& src, const fs::path& config_file, const YAML::Node& node,
                         sdk::Kind kind, const std::string& key, std::vector<PluginEntry>& out) {
  if (node.IsNull()) return {};
  if (!node.IsSequence()) {
    return src.error(node, key,
                     "expected a list of plugins, got " + std::string(yaml_type_name(node)));
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string path = key + "[" + std::to_string(i) + "]";
    auto e = read_entry(src, config_file, node[i], kind, path);
    if (!e) return e.error();
    for (const auto& prev : out) {
      if (prev.kind == kind && prev.name == e->name) {
        return src.error(node[i], path,
                         "instance name '" + e->name + "' is used twice in " + key +
                             " (give one of them another `name:`)");
      }
    }
    if (e->enabled) out.push_back(std::move(*e));
  }
  return {};
}

}  // namespace

namespace {

// The `service:` mapping (configuration.md).
sdk::Status read_service(const YamlSource& src, const YAML::Node& service, ServiceConfig& out) {
  if (auto st = src.check_mapping(service, "service",
                                  {"max_json_depth", "auth", "rate_limit", "access_cache_ttl_ms",
                                   "context_cache", "group_commit"});
      !st) {
    return st.error();
  }
  if (const auto limit = service["rate_limit"]; limit) {
    if (auto st = src.check_mapping(limit, "service.rate_limit", {"requests_per_second", "burst"});
        !st) {
      return st.error();
    }
    if (const auto rps = limit["requests_per_second"]; rps) {
      auto v = src.number(rps, "service.rate_limit.requests_per_second", 0, 1e9);
      if (!v) return v.error();
      out.rate_limit_per_second = *v;
    }
    if (const auto burst = limit["burst"]; burst) {
      auto v = src.number(burst, "service.rate_limit.burst", 0, 1e9);
      if (!v) return v.error();
      out.rate_limit_burst = *v;
    }
  }
  if (const auto auth = service["auth"]; auth) {
    auto v = src.scalar(auth, "service.auth");
    if (!v) return v.error();
    if (*v != "trust" && *v != "token") {
      return src.error(auth, "service.auth", "expected trust or token; got \"" + *v + "\"");
    }
    out.auth = *v;
  }
  if (const auto depth = service["max_json_depth"]; depth) {
    auto n = src.integer(depth, "service.max_json_depth", 1, 1024);
    if (!n) return n.error();
    out.max_json_depth = *n;
  }
  if (const auto gc = service["group_commit"]; gc) {
    if (auto st =
            src.check_mapping(gc, "service.group_commit", {"max_batch", "max_wait_us", "lanes"});
        !st) {
      return st.error();
    }
    if (const auto v = gc["max_batch"]; v) {
      auto n = src.integer(v, "service.group_commit.max_batch", 0, 64);
      if (!n) return n.error();
      out.group_commit_max_batch = *n;
    }
    if (const auto v = gc["max_wait_us"]; v) {
      auto n = src.integer(v, "service.group_commit.max_wait_us", 0, 100000);
      if (!n) return n.error();
      out.group_commit_max_wait_us = *n;
    }
    if (const auto v = gc["lanes"]; v) {
      auto n = src.integer(v, "service.group_commit.lanes", 1, 16);
      if (!n) return n.error();
      out.group_commit_lanes = *n;
    }
  }
  if (const auto cc = service["context_cache"]; cc) {
    if (auto st = src.check_mapping(cc, "service.context_cache", {"ttl_ms", "max_bytes"}); !st) {
      return st.error();
    }
    if (const auto v = cc["ttl_ms"]; v) {
      auto n = src.integer(v, "service.context_cache.ttl_ms", 0, 3600000);
      if (!n) return n.error();
      out.context_cache_ttl_ms = *n;
    }
    if (const auto v = cc["max_bytes"]; v) {
      auto n = src.integer(v, "service.context_cache.max_bytes", 0, std::int64_t{1} << 40);
      if (!n) return n.error();
      out.context_cache_max_bytes = *n;
    }
  }
  if (const auto ttl = service["access_cache_ttl_ms"]; ttl) {
    auto n = src.integer(ttl, "service.access_cache_ttl_ms", 0, 3600000);
    if (!n) return n.error();
    out.access_cache_ttl_ms = *n;
  }
  return {};
}

// The `audit:` mapping (configuration.md, audit.md).
sdk::Status read_audit(const YamlSource& src, const YAML::Node& audit, AuditConfig& out) {
  if (auto st =
          src.check_mapping(audit, "audit",
                            {"reads", "seal_interval_ms", "batch_interval_ms", "batch_capacity",
                             "key_file", "checkpoint_file", "auth_failure_window_ms"});
      !st) {
    return st.error();
  }
  if (const auto reads = audit["reads"]; reads) {
    auto v = src.scalar(reads, "audit.reads");
    if (!v) return v.error();
    if (*v != "off" && *v != "sync" && *v != "batch") {
      return src.error(reads, "audit.reads", "expected off, sync or batch; got \"" + *v + "\"");
    }
    out.reads = *v;
  }
  for (const auto& [key, target] :
       {std::pair{"key_file", &out.key_file}, std::pair{"checkpoint_file", &out.checkpoint_file}}) {
    const auto node = audit[key];
    if (!node) continue;
    auto v = src.scalar(node, std::string("audit.") + key);
    if (!v) return v.error();
    *target = *v;
  }
  return read_integers(src, audit, "audit",
                       {{"auth_failure_window_ms", &out.auth_failure_window_ms, 100, 3600000},
                        {"seal_interval_ms", &out.seal_interval_ms, 10, 3600000},
                        {"batch_interval_ms", &out.batch_interval_ms, 10, 3600000},
                        {"batch_capacity", &out.batch_capacity, 1, 10000000}});
}

sdk::Status read_embeddings(const YamlSource& src, const YAML::Node& node, EmbeddingsConfig& out) {
  if (auto st =
          src.check_mapping(node, "embeddings",
                            {"batch_size", "interval_ms", "retry_ms", "reload_ms", "reconcile_ms",
                             "cool_down_ms", "settle_ms", "hnsw_threshold", "hnsw_ef_search"});
      !st) {
    return st.error();
  }
  return read_integers(src, node, "embeddings",
                       {{"batch_size", &out.batch_size, 1, 2048},
                        {"interval_ms", &out.interval_ms, 10, 3600000},
                        {"retry_ms", &out.retry_ms, 100, 86400000},
                        {"reload_ms", &out.reload_ms, 100, 86400000},
                        {"reconcile_ms", &out.reconcile_ms, 1000, 604800000},
                        {"cool_down_ms", &out.cool_down_ms, 0, 3600000},
                        {"settle_ms", &out.settle_ms, 0, 60000},
                        {"hnsw_threshold", &out.hnsw_threshold, 0, 1000000000},
                        {"hnsw_ef_search", &out.hnsw_ef_search, 1, 100000}});
}

sdk::Status read_memory(const YamlSource& src, const YAML::Node& node, MemoryConfig& out) {
  if (auto st = src.check_mapping(node, "memory", {"max_steps"}); !st) return st.error();
  return read_integers(src, node, "memory", {{"max_steps", &out.max_steps, 1, 64}});
}

sdk::Status read_events(const YamlSource& src, const YAML::Node& node, EventsConfig& out) {
  if (auto st = src.check_mapping(node, "events",
                                  {"enabled", "max_streams", "max_streams_per_agent",
                                   "buffer_bytes", "stall_ms", "poll_ms"});
      !st) {
    return st.error();
  }
  if (node["enabled"]) {
    auto on = src.boolean(node["enabled"], "events.enabled");
    if (!on) return on.error();
    out.enabled = *on;
  }
  return read_integers(src, node, "events",
                       {{"max_streams", &out.max_streams, 1, 1000000},
                        {"max_streams_per_agent", &out.max_streams_per_agent, 1, 1000000},
                        {"buffer_bytes", &out.buffer_bytes, 4096, 1 << 30},
                        {"stall_ms", &out.stall_ms, 100, 3600000},
                        {"poll_ms", &out.poll_ms, 10, 60000}});
}

sdk::Status read_selection(const YamlSource& src, const fs::path& file, const YAML::Node& node,
                           SelectionConfig& out) {
  if (auto st = src.check_mapping(
          node, "selection",
          {"default", "hybrid", "candidates", "chars_per_token", "translations_per_word",
           "dictionaries", "apertium", "feedback", "fusion", "thesaurus"});
      !st) {
    return st.error();
  }
  out.node = node;
  if (const auto d = node["default"]; d) {
    auto v = src.scalar(d, "selection.default");
    if (!v) return v.error();
    out.default_selector = *v;
  }
  if (const auto h = node["hybrid"]; h) {
    if (!h.IsMap()) {
      return src.error(
          h, "selection.hybrid",
          "expected a mapping of selector name to weight, got " + std::string(yaml_type_name(h)));
    }
    std::vector<std::pair<std::string, double>> weights;
    for (const auto& kv : h) {
      // A key may be any node ("? [a]: 1"): only a scalar names a selector.
      auto name = src.scalar(kv.first, "selection.hybrid");
      if (!name) return name.error();
      auto w = src.number(kv.second, "selection.hybrid." + *name, 0, 1000);
      if (!w) return w.error();
      weights.emplace_back(*name, *w);
    }
    out.hybrid = std::move(weights);
  }
  if (const auto n = node["candidates"]; n) {
    auto v = src.integer(n, "selection.candidates", 1, 100000);
    if (!v) return v.error();
    out.candidates = *v;
  }
  if (const auto n = node["translations_per_word"]; n) {
    auto v = src.integer(n, "selection.translations_per_word", 0, 20);
    if (!v) return v.error();
    out.translations_per_word = *v;
  }
  if (const auto n = node["chars_per_token"]; n) {
    auto v = src.number(n, "selection.chars_per_token", 0.5, 100);
    if (!v) return v.error();
    out.chars_per_token = *v;
  }
  if (const auto f = node["fusion"]; f) {
    auto v = src.scalar(f, "selection.fusion");
    if (!v) return v.error();
    if (*v != "weighted" && *v != "rank") {
      return src.error(f, "selection.fusion", "expected weighted or rank; got \"" + *v + "\"");
    }
    out.fusion = *v;
  }
  if (const auto f = node["feedback"]; f) {
    if (auto st = src.check_mapping(f, "selection.feedback",
                                    {"enabled", "docs", "terms", "min_docs", "weight"});
        !st) {
      return st.error();
    }
    if (f["enabled"]) {
      auto on = src.boolean(f["enabled"], "selection.feedback.enabled");
      if (!on) return on.error();
      out.feedback_enabled = *on;
    }
    if (auto st = read_integers(src, f, "selection.feedback",
                                {{"docs", &out.feedback_docs, 1, 100},
                                 {"terms", &out.feedback_terms, 1, 50},
                                 {"min_docs", &out.feedback_min_docs, 1, 100}});
        !st) {
      return st.error();
    }
    if (f["weight"]) {
      auto w = src.number(f["weight"], "selection.feedback.weight", 0, 10);
      if (!w) return w.error();
      out.feedback_weight = *w;
    }
  }
  if (const auto t = node["thesaurus"]; t) {
    if (auto st = src.check_mapping(t, "selection.thesaurus", {"enabled", "per_word", "files"});
        !st) {
      return st.error();
    }
    if (t["enabled"]) {
      auto on = src.boolean(t["enabled"], "selection.thesaurus.enabled");
      if (!on) return on.error();
      out.thesaurus_enabled = *on;
    }
    if (auto st = read_integers(src, t, "selection.thesaurus",
                                {{"per_word", &out.thesaurus_per_word, 0, 20}});
        !st) {
      return st.error();
    }
    if (t["files"]) {
      auto paths = read_paths(src, file, t["files"], "selection.thesaurus.files");
      if (!paths) return paths.error();
      out.thesaurus_files = std::move(*paths);
    }
  }
  if (const auto d = node["dictionaries"]; d) {
    auto paths = read_paths(src, file, d, "selection.dictionaries");
    if (!paths) return paths.error();
    out.dictionaries = std::move(*paths);
  }
  if (const auto d = node["apertium"]; d) {
    auto paths = read_paths(src, file, d, "selection.apertium");
    if (!paths) return paths.error();
    out.apertium = std::move(*paths);
  }
  return {};
}

}  // namespace

sdk::Result<LoadedConfig> parse_config(std::string_view text, const std::string& file,
                                       const Environment& env) {
  auto source = std::make_shared<YamlSource>(file, env);
  const YamlSource& src = *source;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return Error(Errc::invalid_request, file + ":" + std::to_string(e.mark.line + 1) + ":" +
                                            std::to_string(e.mark.column + 1) +
                                            ": not valid YAML: " + e.msg);
  }
  LoadedConfig out;
  Config& cfg = out.config;
  cfg.file = file;
  if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (auto st = src.check_mapping(
          root, "",
          {"server", "service", "audit", "selection", "plugins", "storage", "embedder",
           "embeddings", "memory", "events", "webhooks", "selectors", "providers",
           "transports"});
      !st) {
    return st.error();
  }
  if (const auto server = root["server"]; server) {
    if (auto st = src.check_mapping(server, "server", {"log"}); !st) return st.error();
    if (server["log"]) {
      if (auto st = read_log(src, server["log"], cfg.log); !st) return st.error();
    }
  }
  if (const auto service = root["service"]; service) {
    if (auto st = read_service(src, service, cfg.service); !st) return st.error();
  }
  if (const auto audit = root["audit"]; audit) {
    if (auto st = read_audit(src, audit, cfg.audit); !st) return st.error();
  }
  if (const auto embeddings = root["embeddings"]; embeddings) {
    if (auto st = read_embeddings(src, embeddings, cfg.embeddings); !st) return st.error();
  }
  if (const auto memory = root["memory"]; memory) {
    if (auto st = read_memory(src, memory, cfg.memory); !st) return st.error();
  }
  if (const auto events = root["events"]; events) {
    if (auto st = read_events(src, events, cfg.events); !st) return st.error();
  }
  if (const auto webhooks = root["webhooks"]; webhooks) {
    if (auto st = read_webhooks(src, webhooks, cfg.webhooks); !st) return st.error();
  }
  if (const auto selection = root["selection"]; selection) {
    if (auto st = read_selection(src, cfg.file, selection, cfg.selection); !st) return st.error();
  }
  if (const auto plugins = root["plugins"]; plugins) {
    if (auto st = src.check_mapping(plugins, "plugins", {"search_paths"}); !st) return st.error();
    if (plugins["search_paths"]) {
      auto paths = read_paths(src, cfg.file, plugins["search_paths"], "plugins.search_paths");
      if (!paths) return paths.error();
      cfg.plugin_paths.insert(cfg.plugin_paths.end(), paths->begin(), paths->end());
    }
  }
  if (!root["plugins"] || !root["plugins"]["search_paths"]) {
    // Default: the plugin folder beside the executable (CTXMGR_PLUGIN_DIR).
    if (auto dir = env.get("CTXMGR_PLUGIN_DIR"); dir) cfg.plugin_paths.emplace_back(*dir);
  }
  if (const auto storage = root["storage"]; storage) {
    if (storage.IsSequence()) {
      return src.error(storage, "storage", "expected one storage plugin (a mapping), got a list");
    }
    auto e = read_entry(src, cfg.file, storage, sdk::Kind::storage, "storage");
    if (!e) return e.error();
    if (!e->enabled) return src.error(storage, "storage", "the storage cannot be disabled");
    cfg.plugins.push_back(std::move(*e));
  }
  if (const auto embedder = root["embedder"]; embedder && !embedder.IsNull()) {
    if (!embedder.IsMap()) {
      return src.error(
          embedder, "embedder",
          "expected one embedder plugin (a mapping), got " + std::string(yaml_type_name(embedder)));
    }
    auto e = read_entry(src, cfg.file, embedder, sdk::Kind::embedder, "embedder");
    if (!e) return e.error();
    if (e->enabled) cfg.plugins.push_back(std::move(*e));
  }
  const std::pair<const char*, sdk::Kind> lists[] = {{"selectors", sdk::Kind::selector},
                                                     {"providers", sdk::Kind::provider},
                                                     {"transports", sdk::Kind::transport}};
  for (const auto& [key, kind] : lists) {
    if (const auto node = root[key]; node) {
      if (auto st = read_entries(src, cfg.file, node, kind, key, cfg.plugins); !st) {
        return st.error();
      }
    }
  }
  out.source = std::move(source);
  return out;
}

sdk::Result<LoadedConfig> load_config(const fs::path& file, const Environment& env) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error(Errc::invalid_request, file.string() + ": cannot read the config file");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_config(buf.str(), file.string(), env);
}

}  // namespace ctxmgr::kernel
