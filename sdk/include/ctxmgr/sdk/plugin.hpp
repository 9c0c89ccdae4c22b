#pragma once
// What every plugin object is, whatever its kind.

#include <cstdint>
#include <string_view>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::sdk {

enum class Kind : std::uint32_t {
  storage = CTXMGR_KIND_STORAGE,
  selector = CTXMGR_KIND_SELECTOR,
  provider = CTXMGR_KIND_PROVIDER,
  transport = CTXMGR_KIND_TRANSPORT,
  embedder = CTXMGR_KIND_EMBEDDER,  // since ABI 1.8
};

constexpr std::string_view kind_name(Kind k) {
  switch (k) {
    case Kind::storage: return "storage";
    case Kind::selector: return "selector";
    case Kind::provider: return "provider";
    case Kind::transport: return "transport";
    case Kind::embedder: return "embedder";
  }
  return "unknown";
}

// The base of every plugin object. The kernel creates it through the plugin's factory, calls
// start() once before use and stop() once before destroying it; both from the main thread.
// Plugins start in the order storage, selectors, providers, the embedder, transports and stop in
// reverse.
// A plugin joins every thread it started before stop() returns.
class CTXMGR_SDK_VISIBLE Plugin {
 public:
  virtual ~Plugin();
  Plugin() = default;
  Plugin(const Plugin&) = delete;
  Plugin& operator=(const Plugin&) = delete;

  virtual Status start() { return {}; }
  virtual void stop() noexcept {}
};

// Maps a Kind to the interface a plugin of that kind implements; each kind's header adds its
// specialisation. CTXMGR_PLUGIN checks the class against it at compile time, and the kernel casts
// the object to its kind's interface by the descriptor's kind (a static_cast). A capability
// beside that interface (StorageBackup, StorageAccessEpoch, ...: a second base class) it reaches
// with dynamic_cast, and only when the descriptor's CTXMGR_CAP_* bit says the class has it.
template <Kind K>
struct KindInterface;

}  // namespace ctxmgr::sdk
