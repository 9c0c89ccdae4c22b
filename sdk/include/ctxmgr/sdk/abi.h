/* The plugin ABI in plain C: what the kernel reads from a plugin before it touches any C++ object.
 *
 * A plugin exports exactly two unmangled entry points (as Boost.DLL aliases in the ELF section
 * "ctxmgr"). Their names carry the ABI major, so the kernel can tell "built for another major"
 * from the file alone, before dlopen runs a single static constructor:
 *   const struct ctxmgr_plugin_abi* ctxmgr_plugin_abi_v1(void);
 *   int ctxmgr_plugin_create_v1(ctxmgr::sdk::Host*, const char* options_json, size_t len,
 *                               ctxmgr::sdk::Plugin** out, char* err, size_t err_cap);
 * Within one major the descriptor only grows at its end (struct_size tells how much a plugin has),
 * and a plugin built for a newer minor than the host's is refused.
 */
#ifndef CTXMGR_SDK_ABI_H
#define CTXMGR_SDK_ABI_H

#include <stddef.h>
#include <stdint.h>

#define CTXMGR_SDK_ABI_MAJOR 1
#define CTXMGR_SDK_ABI_MINOR 16

#define CTXMGR_PLUGIN_MAGIC "CTXMGRP"
#define CTXMGR_PLUGIN_SECTION_NAME "ctxmgr"
#define CTXMGR_PLUGIN_ABI_SYMBOL_PREFIX "ctxmgr_plugin_abi_v"
#define CTXMGR_PLUGIN_ABI_SYMBOL "ctxmgr_plugin_abi_v1"
#define CTXMGR_PLUGIN_CREATE_SYMBOL "ctxmgr_plugin_create_v1"

/* Exported on purpose although the build hides everything by default. */
#define CTXMGR_SDK_VISIBLE __attribute__((visibility("default")))

#ifdef __cplusplus
extern "C" {
#endif

/* What a plugin is. The numbers are part of the ABI. */
enum ctxmgr_plugin_kind {
  CTXMGR_KIND_STORAGE = 1,
  CTXMGR_KIND_SELECTOR = 2,
  CTXMGR_KIND_PROVIDER = 3,
  CTXMGR_KIND_TRANSPORT = 4,
  CTXMGR_KIND_EMBEDDER = 5 /* since ABI 1.8 */
};

/* The type of one option in a plugin's option table. */
enum ctxmgr_option_type {
  CTXMGR_OPT_STRING = 1,
  CTXMGR_OPT_INTEGER = 2, /* 64-bit signed */
  CTXMGR_OPT_NUMBER = 3,  /* double */
  CTXMGR_OPT_BOOLEAN = 4,
  CTXMGR_OPT_STRING_LIST = 5,
  CTXMGR_OPT_OBJECT = 6 /* any YAML mapping, passed on as a JSON object */
};

/* Flags of one option. */
#define CTXMGR_OPT_REQUIRED 0x1u /* must be given (and has no default) */
#define CTXMGR_OPT_SECRET 0x2u   /* never logged, redacted in `config show` and in errors */
#define CTXMGR_OPT_HAS_MIN 0x4u  /* integer/number: value >= min */
#define CTXMGR_OPT_HAS_MAX 0x8u  /* integer/number: value <= max */

/* One entry of a plugin's option table (the Fluent Bit config_map idea). The kernel validates the
 * YAML `options` of a plugin against this table, with file:line:column in every error, fills in the
 * defaults, and hands the plugin a JSON object that already has the declared types. */
struct ctxmgr_option_spec {
  const char* name;
  uint32_t type;             /* enum ctxmgr_option_type */
  uint32_t flags;            /* CTXMGR_OPT_* */
  const char* default_json;  /* JSON text of the default, or NULL for none */
  double min;                /* with CTXMGR_OPT_HAS_MIN */
  double max;                /* with CTXMGR_OPT_HAS_MAX */
  const char* allowed;       /* strings only: "a|b|c", or NULL for any */
  const char* description;   /* one line, for `plugins describe` and the docs */
};

/* The toolchain a plugin was built with. C++ objects cross the boundary, so the kernel refuses a
 * plugin built with another compiler family or major, another libstdc++ string ABI, another C++
 * standard or another Boost. */
struct ctxmgr_build_info {
  const char* compiler;      /* "gcc" or "clang" */
  uint32_t compiler_major;
  uint32_t cxx11_abi;        /* _GLIBCXX_USE_CXX11_ABI */
  uint32_t cplusplus;        /* __cplusplus / 100 (e.g. 2020 for C++20) */
  uint32_t boost_version;    /* BOOST_VERSION of the build: CTXMGR_PLUGIN always writes it (the
                              * SDK's macro uses Boost.DLL); 0 only from a hand-made descriptor */
};

/* The descriptor every plugin returns from ctxmgr_plugin_abi_v1(). Static data, owned by the
 * plugin library and valid while it is loaded. */
struct ctxmgr_plugin_abi {
  char magic[8];             /* CTXMGR_PLUGIN_MAGIC, NUL-terminated */
  uint32_t struct_size;      /* sizeof(struct ctxmgr_plugin_abi) as the plugin saw it */
  uint32_t sdk_abi_major;
  uint32_t sdk_abi_minor;
  uint32_t kind;             /* enum ctxmgr_plugin_kind */
  const char* name;          /* [a-z0-9-]+, unique per kind */
  const char* version;       /* the plugin's own semantic version */
  const char* description;
  const struct ctxmgr_option_spec* options;
  uint32_t option_count;
  struct ctxmgr_build_info build;
  /* Since ABI 1.1 (read only when struct_size covers it): CTXMGR_CAP_* bits of interfaces the
   * plugin's object implements beyond its kind's. */
  uint32_t capabilities;
};

/* Capabilities (ABI 1.1). */
#define CTXMGR_CAP_STORAGE_SEARCH 0x1u /* a storage object that is a ctxmgr::sdk::StorageSearch */
/* ABI 1.2 */
#define CTXMGR_CAP_STORAGE_BACKUP 0x2u /* a storage object that is also a ctxmgr::sdk::StorageBackup */
/* ABI 1.3 */
#define CTXMGR_CAP_STORAGE_RETENTION 0x4u /* ... also a ctxmgr::sdk::StorageRetention */
/* ABI 1.4 */
#define CTXMGR_CAP_STORAGE_ACCESS_EPOCH 0x8u /* ... also a ctxmgr::sdk::StorageAccessEpoch */
#define CTXMGR_CAP_STORAGE_BATCH 0x10u /* ... also a ctxmgr::sdk::StorageBatch */
/* ABI 1.5 */
#define CTXMGR_CAP_STORAGE_CONTEXT_CHANGES 0x20u /* ... also a ctxmgr::sdk::StorageContextChanges */
/* ABI 1.8 */
#define CTXMGR_CAP_STORAGE_VECTORS 0x40u /* ... also a ctxmgr::sdk::StorageVectors */
/* ABI 1.9 */
#define CTXMGR_CAP_STORAGE_VECTOR_CHANGES 0x80u /* ... also a ctxmgr::sdk::StorageVectorChanges */
/* ABI 1.10 */
#define CTXMGR_CAP_STORAGE_MEMORY_FILES 0x100u /* ... also a ctxmgr::sdk::StorageMemoryFiles */
#define CTXMGR_CAP_PROVIDER_TOOLS 0x200u /* a provider also a ctxmgr::sdk::ProviderTools */
#define CTXMGR_CAP_STORAGE_ERASURE 0x400u /* ... also a ctxmgr::sdk::StorageErasure */
/* ABI 1.11 */
#define CTXMGR_CAP_STORAGE_CHANGE_WAKE 0x800u /* ... also a ctxmgr::sdk::StorageChangeWake */
/* ABI 1.12 */
#define CTXMGR_CAP_STORAGE_WEBHOOKS 0x1000u /* ... also a ctxmgr::sdk::StorageWebhooks */
/* ABI 1.13 */
#define CTXMGR_CAP_STORAGE_RECEIVED_GRANTS 0x2000u /* ... also a ctxmgr::sdk::StorageReceivedGrants */
/* ABI 1.14 */
#define CTXMGR_CAP_STORAGE_READ_ROUTING 0x4000u /* ... also a ctxmgr::sdk::StorageReadRouting */

typedef const struct ctxmgr_plugin_abi* (*ctxmgr_plugin_abi_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CTXMGR_SDK_ABI_H */
