#pragma once
// The registry owns every loaded plugin library and every plugin object, and guarantees that a
// library outlives each object it made: an Instance holds its library by shared_ptr, declared
// before the object, so the object is destroyed first; libraries are shared by canonical path, so
// two instances of one .so share one handle and its static initialisation runs once.
//
// Only the main thread mutates the registry (load, start, stop). Between start_all() and
// stop_all() it is read-only and may be read from any thread without locks.

#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "ctxmgr/sdk/provider_tools.hpp"
#include "ctxmgr/sdk/selector.hpp"
#include "ctxmgr/sdk/storage_access_epoch.hpp"
#include "ctxmgr/sdk/storage_backup.hpp"
#include "ctxmgr/sdk/storage_batch.hpp"
#include "ctxmgr/sdk/storage_change_wake.hpp"
#include "ctxmgr/sdk/storage_context_changes.hpp"
#include "ctxmgr/sdk/storage_erasure.hpp"
#include "ctxmgr/sdk/storage_memory_files.hpp"
#include "ctxmgr/sdk/storage_read_routing.hpp"
#include "ctxmgr/sdk/storage_received_grants.hpp"
#include "ctxmgr/sdk/storage_retention.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "ctxmgr/sdk/storage_vector_changes.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "ctxmgr/sdk/storage_webhooks.hpp"
#include "metrics/metrics_registry.hpp"
#include "plugin/host_impl.hpp"
#include "plugin/plugin_library.hpp"

namespace ctxmgr::kernel {

// What happened to one plugin file or configured instance; what `plugins list` prints.
struct LoadReport {
  std::filesystem::path path;      // empty when no file was found
  std::optional<PluginInfo> info;  // when the descriptor could be read
  std::string instance;            // configured instance name, empty for a scanned file
  std::string yaml_path;           // "storage", "selectors[0]"
  bool required = false;
  bool loaded = false;
  std::string error;  // the refusal line when !loaded
};

class Registry {
 public:
  explicit Registry(MetricsRegistry& metrics) : metrics_(&metrics) {}
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Loads, checks and creates every configured plugin (but starts none). A failing optional
  // plugin is logged and skipped; a failing required one is reported and makes ok() false.
  std::vector<LoadReport> load(const Config& config, const YamlSource& source);
  bool ok() const { return failed_required_ == 0; }

  // Starts storage, then selectors, providers and the embedder, then transports. Stops at the
  // first failure.
  sdk::Status start_all();
  // Starts the not yet started instances of one kind, in configured order.
  sdk::Status start(sdk::Kind kind);
  // Stops in reverse order (transports first, so they stop accepting and drain), then destroys
  // the objects; libraries go when the registry does.
  void stop_all() noexcept;
  // Stops the started instances of one kind, in reverse configured order.
  void stop(sdk::Kind kind) noexcept;

  std::size_t size() const { return instances_.size(); }
  // The storage's search interface when its plugin announces it (ABI 1.1+), else null.
  sdk::StorageSearch* storage_search() const;
  // The storage's backup interface, when its plugin has the capability (ABI 1.2); else null.
  sdk::StorageBackup* storage_backup() const;
  // The storage's retention capability (ABI 1.3), or null.
  sdk::StorageRetention* storage_retention() const;
  // The storage's access epoch (ABI 1.4), or null.
  sdk::StorageAccessEpoch* storage_access_epoch() const;
  sdk::StorageContextChanges* storage_context_changes() const;
  // The storage's vectors (ABI 1.8), or null.
  sdk::StorageVectors* storage_vectors() const;
  // The storage's vectors since a cursor (ABI 1.9), or null.
  sdk::StorageVectorChanges* storage_vector_changes() const;
  sdk::StorageMemoryFiles* storage_memory_files() const;
  sdk::StorageErasure* storage_erasure() const;
  sdk::StorageChangeWake* storage_change_wake() const;
  sdk::StorageWebhooks* storage_webhooks() const;
  sdk::StorageReceivedGrants* storage_received_grants() const;
  sdk::StorageReadRouting* storage_read_routing() const;
  // The providers that run tools (CTXMGR_CAP_PROVIDER_TOOLS), by name.
  std::vector<std::pair<std::string, sdk::ProviderTools*>> provider_tools() const;
  // The storage's group-commit capability (ABI 1.4), or null.
  sdk::StorageBatch* storage_batch() const;
  // The instances of a kind, in configured order; the pointer is the kind's interface.
  template <class T>
  std::vector<std::pair<std::string, T*>> of_kind(sdk::Kind kind) const {
    std::vector<std::pair<std::string, T*>> out;
    for (const auto& i : instances_) {
      if (i.kind == kind) out.emplace_back(i.name, static_cast<T*>(i.object.get()));
    }
    return out;
  }

 private:
  // The storage's interface T when its plugin declares `bit`, else null.
  template <class T>
  T* storage_capability(std::uint32_t bit) const;
  struct Instance {
    std::shared_ptr<PluginLibrary> library;  // first: destroyed last
    std::unique_ptr<HostImpl> host;
    std::unique_ptr<sdk::Plugin> object;  // last: destroyed first
    sdk::Kind kind = sdk::Kind::storage;
    std::string name;
    std::uint32_t capabilities = 0;  // CTXMGR_CAP_* from the descriptor
    bool started = false;
  };

  sdk::Result<std::shared_ptr<PluginLibrary>> library_for(const std::filesystem::path& path);
  LoadReport load_one(const Config& config, const YamlSource& source, const PluginEntry& entry);

  MetricsRegistry* metrics_;
  std::vector<std::pair<std::filesystem::path, std::shared_ptr<PluginLibrary>>> libraries_;
  std::vector<Instance> instances_;
  int failed_required_ = 0;
};

// Where the loader looks for a configured plugin: its explicit path, else <kind>-<plugin>.so in
// the search paths, first match wins. An error names every folder it looked in.
sdk::Result<std::filesystem::path> find_plugin_file(const Config& config, const PluginEntry& entry);

// Opens every *.so in the search paths (without creating anything), for `plugins list`. Two files
// that declare the same kind and name are reported as duplicates.
std::vector<LoadReport> scan_plugins(const std::vector<std::filesystem::path>& search_paths);

}  // namespace ctxmgr::kernel
