#include "plugin/registry.hpp"

#include <algorithm>
#include <ranges>
#include <set>

#include <boost/json/serialize.hpp>

#include "log/logging.hpp"
#include "plugin/option_validation.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;
namespace fs = std::filesystem;

namespace {

// The start order of kinds; stop runs it backwards.
constexpr sdk::Kind kStartOrder[] = {sdk::Kind::storage, sdk::Kind::selector, sdk::Kind::provider,
                                     sdk::Kind::embedder, sdk::Kind::transport};

std::string file_name_for(const PluginEntry& e) {
  return std::string(sdk::kind_name(e.kind)) + "-" + e.plugin + ".so";
}

}  // namespace

sdk::Result<fs::path> find_plugin_file(const Config& config, const PluginEntry& entry) {
  if (entry.path) return *entry.path;
  const std::string file = file_name_for(entry);
  std::string looked;
  for (const auto& dir : config.plugin_paths) {
    std::error_code ec;
    if (fs::is_regular_file(dir / file, ec)) return dir / file;
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  return Error(Errc::internal, "plugin " + entry.plugin + " (" + entry.yaml_path + "): no file " +
                                   file + " in the plugin search paths (" +
                                   (looked.empty() ? "none configured" : looked) +
                                   "); set plugins.search_paths or the entry's path");
}

Registry::~Registry() {
  stop_all();
  instances_.clear();  // objects first, then (with the registry) the libraries
}

sdk::Result<std::shared_ptr<PluginLibrary>> Registry::library_for(const fs::path& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) canonical = path;
  for (const auto& [p, lib] : libraries_) {
    if (p == canonical) return lib;
  }
  auto lib = PluginLibrary::open(canonical);
  if (!lib) return lib.error();
  libraries_.emplace_back(canonical, *lib);
  return lib;
}

LoadReport Registry::load_one(const Config& config, const YamlSource& source,
                              const PluginEntry& entry) {
  LoadReport report;
  report.instance = entry.name;
  report.yaml_path = entry.yaml_path;
  report.required = entry.required;
  auto path = find_plugin_file(config, entry);
  if (!path) {
    report.error = path.error().message();
    return report;
  }
  report.path = *path;
  auto lib = library_for(*path);
  if (!lib) {
    report.error = lib.error().message();
    return report;
  }
  const PluginInfo& info = (*lib)->info();
  report.info = info;
  const std::string where = "plugin " + info.path.string() + ": ";
  if (info.kind != entry.kind) {
    report.error = where + "declares kind '" + std::string(sdk::kind_name(info.kind)) +
                   "' but is configured under '" + std::string(sdk::kind_name(entry.kind)) + "' (" +
                   entry.yaml_path + ")";
    return report;
  }
  if (info.name != entry.plugin) {
    report.error = where + "declares name '" + info.name + "' but is configured as '" +
                   entry.plugin + "' (" + entry.yaml_path + ")";
    return report;
  }
  for (const auto& entry_lib : libraries_) {
    const auto& [p, other] = entry_lib;
    if (other != *lib && other->info().kind == info.kind && other->info().name == info.name) {
      // Only a library that made an instance counts as loaded. (A structured binding is not
      // captured by the lambda: clang 14, which builds the fuzzers, does not allow it.)
      const auto& candidate = entry_lib.second;
      const bool in_use = std::any_of(instances_.begin(), instances_.end(),
                                      [&](const Instance& i) { return i.library == candidate; });
      if (in_use) {
        report.error = "plugin " + info.name + " (" + info.path.string() +
                       "): duplicate name, already loaded from " + p.string();
        return report;
      }
    }
  }
  auto options = validate_options(source, entry.options, entry.node, entry.yaml_path + ".options",
                                  info.options);
  if (!options) {
    report.error = where + options.error().message();
    return report;
  }
  const std::string logger_name = std::string(sdk::kind_name(entry.kind)) + "." + entry.name;
  auto host = std::make_unique<HostImpl>(logger_name, entry.name, *metrics_);
  auto object = (*lib)->create(*host, boost::json::serialize(*options));
  if (!object) {
    report.error = object.error().message();
    return report;
  }
  instances_.push_back(Instance{*lib, std::move(host), std::move(*object), entry.kind, entry.name,
                                info.capabilities});
  report.loaded = true;
  return report;
}

sdk::StorageSearch* Registry::storage_search() const {
  for (const auto& i : instances_) {
    if (i.kind == sdk::Kind::storage && (i.capabilities & CTXMGR_CAP_STORAGE_SEARCH) != 0) {
      // The bit comes from CTXMGR_PLUGIN's check that the class derives from StorageSearch.
      return static_cast<sdk::StorageSearch*>(static_cast<sdk::Storage*>(i.object.get()));
    }
  }
  return nullptr;
}

// The capabilities beside Storage are second bases of the plugin's class: a cross-cast, made
// only when the descriptor's bit says the class has that base. The typeinfo both sides compare
// lives once, in libctxmgr-sdk.so.
template <class T>
T* Registry::storage_capability(std::uint32_t bit) const {
  for (const auto& i : instances_) {
    if (i.kind == sdk::Kind::storage && (i.capabilities & bit) != 0) {
      return dynamic_cast<T*>(static_cast<sdk::Storage*>(i.object.get()));
    }
  }
  return nullptr;
}

sdk::StorageBackup* Registry::storage_backup() const {
  return storage_capability<sdk::StorageBackup>(CTXMGR_CAP_STORAGE_BACKUP);
}

sdk::StorageRetention* Registry::storage_retention() const {
  return storage_capability<sdk::StorageRetention>(CTXMGR_CAP_STORAGE_RETENTION);
}

sdk::StorageAccessEpoch* Registry::storage_access_epoch() const {
  return storage_capability<sdk::StorageAccessEpoch>(CTXMGR_CAP_STORAGE_ACCESS_EPOCH);
}

sdk::StorageContextChanges* Registry::storage_context_changes() const {
  return storage_capability<sdk::StorageContextChanges>(CTXMGR_CAP_STORAGE_CONTEXT_CHANGES);
}

sdk::StorageVectors* Registry::storage_vectors() const {
  return storage_capability<sdk::StorageVectors>(CTXMGR_CAP_STORAGE_VECTORS);
}

sdk::StorageVectorChanges* Registry::storage_vector_changes() const {
  return storage_capability<sdk::StorageVectorChanges>(CTXMGR_CAP_STORAGE_VECTOR_CHANGES);
}

sdk::StorageMemoryFiles* Registry::storage_memory_files() const {
  return storage_capability<sdk::StorageMemoryFiles>(CTXMGR_CAP_STORAGE_MEMORY_FILES);
}

sdk::StorageErasure* Registry::storage_erasure() const {
  return storage_capability<sdk::StorageErasure>(CTXMGR_CAP_STORAGE_ERASURE);
}

sdk::StorageChangeWake* Registry::storage_change_wake() const {
  return storage_capability<sdk::StorageChangeWake>(CTXMGR_CAP_STORAGE_CHANGE_WAKE);
}

sdk::StorageWebhooks* Registry::storage_webhooks() const {
  return storage_capability<sdk::StorageWebhooks>(CTXMGR_CAP_STORAGE_WEBHOOKS);
}

sdk::StorageReceivedGrants* Registry::storage_received_grants() const {
  return storage_capability<sdk::StorageReceivedGrants>(CTXMGR_CAP_STORAGE_RECEIVED_GRANTS);
}

sdk::StorageReadRouting* Registry::storage_read_routing() const {
  return storage_capability<sdk::StorageReadRouting>(CTXMGR_CAP_STORAGE_READ_ROUTING);
}

std::vector<std::pair<std::string, sdk::ProviderTools*>> Registry::provider_tools() const {
  std::vector<std::pair<std::string, sdk::ProviderTools*>> out;
  for (const auto& i : instances_) {
    if (i.kind == sdk::Kind::provider && (i.capabilities & CTXMGR_CAP_PROVIDER_TOOLS) != 0) {
      auto* tools = dynamic_cast<sdk::ProviderTools*>(static_cast<sdk::Provider*>(i.object.get()));
      if (tools != nullptr) out.emplace_back(i.name, tools);
    }
  }
  return out;
}

sdk::StorageBatch* Registry::storage_batch() const {
  return storage_capability<sdk::StorageBatch>(CTXMGR_CAP_STORAGE_BATCH);
}

std::vector<LoadReport> Registry::load(const Config& config, const YamlSource& source) {
  std::vector<LoadReport> reports;
  for (const auto& entry : config.plugins) {
    LoadReport r = load_one(config, source, entry);
    if (r.loaded) {
      kernel_log().info("loaded {} '{}' {} from {}", sdk::kind_name(entry.kind), entry.name,
                        r.info->version, r.path.string());
    } else if (entry.required) {
      ++failed_required_;
      kernel_log().error("{}", r.error);
    } else {
      kernel_log().warn("skipping optional plugin: {}", r.error);
    }
    reports.push_back(std::move(r));
  }
  return reports;
}

sdk::Status Registry::start(sdk::Kind kind) {
  for (auto& i : instances_) {
    if (i.kind != kind || i.started) continue;
    auto st = i.object->start();
    if (!st) {
      return Error(st.error().code(), std::string(sdk::kind_name(kind)) + " '" + i.name +
                                          "' failed to start: " + st.error().message());
    }
    i.started = true;
  }
  return {};
}

sdk::Status Registry::start_all() {
  for (sdk::Kind kind : kStartOrder) {
    if (auto st = start(kind); !st) return st;
  }
  return {};
}

void Registry::stop(sdk::Kind kind) noexcept {
  for (auto it = instances_.rbegin(); it != instances_.rend(); ++it) {
    auto& i = *it;
    if (i.kind == kind && i.started) {
      i.object->stop();
      i.started = false;
    }
  }
}

void Registry::stop_all() noexcept {
  for (auto k = std::rbegin(kStartOrder); k != std::rend(kStartOrder); ++k) stop(*k);
}

std::vector<LoadReport> scan_plugins(const std::vector<fs::path>& search_paths) {
  std::vector<LoadReport> reports;
  std::set<fs::path> seen;
  for (const auto& dir : search_paths) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& de : fs::directory_iterator(dir, ec)) {
      if (de.path().extension() == ".so") files.push_back(de.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (!seen.insert(fs::weakly_canonical(file, ec)).second) continue;
      LoadReport r;
      r.path = file;
      auto lib = PluginLibrary::open(file);
      if (lib) {
        r.info = (*lib)->info();
        r.loaded = true;
        for (const auto& prev : reports) {
          if (prev.loaded && prev.info->kind == r.info->kind && prev.info->name == r.info->name) {
            r.loaded = false;
            r.error = "plugin " + r.info->name + " (" + file.string() +
                      "): duplicate name, already found at " + prev.path.string();
          }
        }
      } else {
        r.error = lib.error().message();
      }
      reports.push_back(std::move(r));
    }
  }
  return reports;
}

}  // namespace ctxmgr::kernel
