#pragma once
// CTXMGR_PLUGIN: the one line that turns a class into a loadable plugin.
//
//   constexpr ctxmgr_option_spec kOptions[] = {
//       {.name = "k1", .type = CTXMGR_OPT_NUMBER, .default_json = "1.2", .description = "..."}};
//   CTXMGR_PLUGIN(ctxmgr::sdk::Kind::selector, "bm25", "1.0.0", "BM25 ranking", Bm25, kOptions)
//
// The class derives from the kind's interface and has a constructor
//   Class(ctxmgr::sdk::Host& host, const ctxmgr::sdk::Options& options)
// that may throw ctxmgr::sdk::Error or any std::exception to refuse its options: the generated
// factory catches everything, so no exception ever crosses into the kernel. Use it once per
// plugin, at global scope of one source file. Pass `ctxmgr::sdk::kNoOptions` for no options.

#include <cstddef>
#include <cstring>
#include <exception>
#include <span>
#include <string_view>
#include <type_traits>

#include <boost/dll/alias.hpp>
#include <boost/version.hpp>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/options.hpp"
#include "ctxmgr/sdk/plugin.hpp"
#include "ctxmgr/sdk/provider_tools.hpp"
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

namespace ctxmgr::sdk {

inline constexpr std::span<const ctxmgr_option_spec> kNoOptions{};

namespace detail {

constexpr ctxmgr_build_info this_build() {
  return ctxmgr_build_info{
#if defined(__clang__)
      "clang", static_cast<std::uint32_t>(__clang_major__),
#elif defined(__GNUC__)
      "gcc", static_cast<std::uint32_t>(__GNUC__),
#else
      "unknown", 0,
#endif
#if defined(_GLIBCXX_USE_CXX11_ABI)
      static_cast<std::uint32_t>(_GLIBCXX_USE_CXX11_ABI),
#else
      0,
#endif
      static_cast<std::uint32_t>(__cplusplus / 100), static_cast<std::uint32_t>(BOOST_VERSION)};
}

constexpr ctxmgr_plugin_abi make_descriptor(Kind kind, const char* name, const char* version,
                                            const char* description,
                                            std::span<const ctxmgr_option_spec> options,
                                            std::uint32_t capabilities) {
  return ctxmgr_plugin_abi{{'C', 'T', 'X', 'M', 'G', 'R', 'P', '\0'},
                           static_cast<std::uint32_t>(sizeof(ctxmgr_plugin_abi)),
                           CTXMGR_SDK_ABI_MAJOR,
                           CTXMGR_SDK_ABI_MINOR,
                           static_cast<std::uint32_t>(kind),
                           name,
                           version,
                           description,
                           options.data(),
                           static_cast<std::uint32_t>(options.size()),
                           this_build(),
                           capabilities};
}

// The capability bits of a plugin class, from what it derives from.
template <class C>
constexpr std::uint32_t capabilities_of() {
  std::uint32_t bits = 0;
  if constexpr (std::is_base_of_v<StorageSearch, C>) bits |= CTXMGR_CAP_STORAGE_SEARCH;
  if constexpr (std::is_base_of_v<StorageBackup, C>) bits |= CTXMGR_CAP_STORAGE_BACKUP;
  if constexpr (std::is_base_of_v<StorageRetention, C>) bits |= CTXMGR_CAP_STORAGE_RETENTION;
  if constexpr (std::is_base_of_v<StorageAccessEpoch, C>) bits |= CTXMGR_CAP_STORAGE_ACCESS_EPOCH;
  if constexpr (std::is_base_of_v<StorageBatch, C>) bits |= CTXMGR_CAP_STORAGE_BATCH;
  if constexpr (std::is_base_of_v<StorageContextChanges, C>) {
    bits |= CTXMGR_CAP_STORAGE_CONTEXT_CHANGES;
  }
  if constexpr (std::is_base_of_v<StorageVectors, C>) bits |= CTXMGR_CAP_STORAGE_VECTORS;
  if constexpr (std::is_base_of_v<StorageVectorChanges, C>) {
    bits |= CTXMGR_CAP_STORAGE_VECTOR_CHANGES;
  }
  if constexpr (std::is_base_of_v<StorageMemoryFiles, C>) bits |= CTXMGR_CAP_STORAGE_MEMORY_FILES;
  if constexpr (std::is_base_of_v<ProviderTools, C>) bits |= CTXMGR_CAP_PROVIDER_TOOLS;
  if constexpr (std::is_base_of_v<StorageErasure, C>) bits |= CTXMGR_CAP_STORAGE_ERASURE;
  if constexpr (std::is_base_of_v<StorageChangeWake, C>) bits |= CTXMGR_CAP_STORAGE_CHANGE_WAKE;
  if constexpr (std::is_base_of_v<StorageWebhooks, C>) bits |= CTXMGR_CAP_STORAGE_WEBHOOKS;
  if constexpr (std::is_base_of_v<StorageReceivedGrants, C>) {
    bits |= CTXMGR_CAP_STORAGE_RECEIVED_GRANTS;
  }
  if constexpr (std::is_base_of_v<StorageReadRouting, C>) bits |= CTXMGR_CAP_STORAGE_READ_ROUTING;
  return bits;
}

inline void write_error(char* err, std::size_t cap, std::string_view text) noexcept {
  if (err == nullptr || cap == 0) return;
  const std::size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
  std::memcpy(err, text.data(), n);
  err[n] = '\0';
}

// The body of every factory: builds the object and turns any exception into an error text.
// Returns 0 on success, 1 on failure.
template <class C>
int create_guarded(Host* host, const char* options_json, std::size_t len, Plugin** out, char* err,
                   std::size_t err_cap) noexcept {
  try {
    auto options = Options::parse(std::string_view(options_json, len));
    if (!options) {
      write_error(err, err_cap, options.error().message());
      return 1;
    }
    *out = new C(*host, *options);
    return 0;
  } catch (const Error& e) {
    write_error(err, err_cap, e.message());
  } catch (const std::exception& e) {
    write_error(err, err_cap, e.what());
  } catch (...) {
    write_error(err, err_cap, "unknown exception");
  }
  return 1;
}

}  // namespace detail
}  // namespace ctxmgr::sdk

#define CTXMGR_PLUGIN(KIND, NAME, VERSION, DESCRIPTION, CLASS, OPTION_SPECS)                    \
  static_assert(                                                                                \
      std::is_base_of_v<typename ::ctxmgr::sdk::KindInterface<KIND>::type, CLASS>,              \
      "CTXMGR_PLUGIN: the class must implement the interface of the declared kind");            \
  namespace {                                                                                   \
  const ctxmgr_plugin_abi ctxmgr_plugin_descriptor_ = ::ctxmgr::sdk::detail::make_descriptor(   \
      KIND, NAME, VERSION, DESCRIPTION, std::span<const ctxmgr_option_spec>(OPTION_SPECS),      \
      ::ctxmgr::sdk::detail::capabilities_of<CLASS>());                                         \
  const ctxmgr_plugin_abi* ctxmgr_plugin_abi_entry() { return &ctxmgr_plugin_descriptor_; }     \
  int ctxmgr_plugin_create_entry(::ctxmgr::sdk::Host* host, const char* json, std::size_t len,  \
                                 ::ctxmgr::sdk::Plugin** out, char* err, std::size_t cap) {     \
    return ::ctxmgr::sdk::detail::create_guarded<CLASS>(host, json, len, out, err, cap);        \
  }                                                                                             \
  }                                                                                             \
  BOOST_DLL_ALIAS_SECTIONED(ctxmgr_plugin_abi_entry, ctxmgr_plugin_abi_v1, ctxmgr)              \
  BOOST_DLL_ALIAS_SECTIONED(ctxmgr_plugin_create_entry, ctxmgr_plugin_create_v1, ctxmgr)
