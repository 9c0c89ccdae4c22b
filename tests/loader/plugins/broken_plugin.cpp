// Deliberately broken plugins for the loader tests, one per BROKEN_* definition. Each must be
// refused with its own one-line reason, and the kernel must stay sound afterwards.

#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/selector.hpp"

namespace {

using ctxmgr::sdk::Host;
using ctxmgr::sdk::Plugin;

ctxmgr_plugin_abi descriptor() {
  return ctxmgr::sdk::detail::make_descriptor(ctxmgr::sdk::Kind::selector, "broken", "0.0.1",
                                              "broken on purpose", ctxmgr::sdk::kNoOptions, 0);
}

class Dummy final : public ctxmgr::sdk::Selector {
 public:
  Dummy(Host&, const ctxmgr::sdk::Options&) {}
  ctxmgr::sdk::Result<std::vector<double>> score(
      const ctxmgr::sdk::SelectQuery&, std::span<const ctxmgr::sdk::Candidate> c) override {
    return std::vector<double>(c.size(), 0.0);
  }
};

[[maybe_unused]] int create_ok(Host* host, const char* json, std::size_t len, Plugin** out,
                               char* err, std::size_t cap) {
  return ctxmgr::sdk::detail::create_guarded<Dummy>(host, json, len, out, err, cap);
}

#if defined(BROKEN_ABI_1_0)
// What a plugin built against SDK ABI 1.0 exports: minor 0 and a descriptor that ends before
// `capabilities`. Whatever follows it in memory is not the plugin's and must not be read.
struct Abi10Image {
  ctxmgr_plugin_abi d;
};
const ctxmgr_plugin_abi* abi() {
  static Abi10Image image = [] {
    Abi10Image x{descriptor()};
    x.d.sdk_abi_minor = 0;
    x.d.struct_size = static_cast<std::uint32_t>(offsetof(ctxmgr_plugin_abi, capabilities));
    x.d.capabilities = 0xffffffffu;  // stands for the bytes beyond a 1.0 descriptor
    return x;
  }();
  return &image.d;
}
#elif defined(BROKEN_UNKNOWN_KIND) || defined(BROKEN_EMBEDDER_BEFORE_1_8)
// A kind number no SDK has, and the embedder kind (5) claimed by a 1.7 plugin, before it existed.
const ctxmgr_plugin_abi* abi() {
  static ctxmgr_plugin_abi d = [] {
    auto x = descriptor();
#if defined(BROKEN_UNKNOWN_KIND)
    x.kind = 9;
#else
    x.kind = CTXMGR_KIND_EMBEDDER;
    x.sdk_abi_minor = 7;
#endif
    return x;
  }();
  return &d;
}
#elif defined(BROKEN_NEWER_MINOR)
const ctxmgr_plugin_abi* abi() {
  static ctxmgr_plugin_abi d = [] {
    auto x = descriptor();
    x.sdk_abi_minor = CTXMGR_SDK_ABI_MINOR + 5;
    return x;
  }();
  return &d;
}
#elif defined(BROKEN_TOOLCHAIN)
const ctxmgr_plugin_abi* abi() {
  static ctxmgr_plugin_abi d = [] {
    auto x = descriptor();
    x.build.boost_version = 108300;
    x.build.compiler_major = 13;
    return x;
  }();
  return &d;
}
#elif defined(BROKEN_BAD_MAGIC)
const ctxmgr_plugin_abi* abi() {
  static ctxmgr_plugin_abi d = [] {
    auto x = descriptor();
    x.magic[0] = 'X';
    return x;
  }();
  return &d;
}
#else
const ctxmgr_plugin_abi* abi() {
  static const ctxmgr_plugin_abi d = descriptor();
  return &d;
}
#endif

#if defined(BROKEN_CREATE_THROWS_STD) || defined(BROKEN_CREATE_THROWS_INT)
// Constructors that throw, behind the same guard CTXMGR_PLUGIN generates.
class Throws final : public ctxmgr::sdk::Selector {
 public:
  Throws(Host&, const ctxmgr::sdk::Options&) {
#if defined(BROKEN_CREATE_THROWS_STD)
    throw std::runtime_error("cannot open /nonexistent/db: No such file or directory");
#else
    throw 42;
#endif
  }
  ctxmgr::sdk::Result<std::vector<double>> score(
      const ctxmgr::sdk::SelectQuery&, std::span<const ctxmgr::sdk::Candidate> c) override {
    return std::vector<double>(c.size(), 0.0);
  }
};
int create(Host* host, const char* json, std::size_t len, Plugin** out, char* err,
           std::size_t cap) {
  return ctxmgr::sdk::detail::create_guarded<Throws>(host, json, len, out, err, cap);
}
#elif defined(BROKEN_CREATE_RETURNS_NULL)
int create(Host*, const char*, std::size_t, Plugin**, char*, std::size_t) { return 0; }
#elif defined(BROKEN_UNRESOLVED)
extern "C" void ctxmgr_test_symbol_that_does_not_exist();
int create(Host* host, const char* json, std::size_t len, Plugin** out, char* err,
           std::size_t cap) {
  ctxmgr_test_symbol_that_does_not_exist();
  return create_ok(host, json, len, out, err, cap);
}
#elif defined(BROKEN_MISSING_DEP)
extern "C" int ctxmgr_test_gone_function();
int create(Host* host, const char* json, std::size_t len, Plugin** out, char* err,
           std::size_t cap) {
  if (ctxmgr_test_gone_function() != 0) return 1;
  return create_ok(host, json, len, out, err, cap);
}
#else
int create(Host* host, const char* json, std::size_t len, Plugin** out, char* err,
           std::size_t cap) {
  return create_ok(host, json, len, out, err, cap);
}
#endif

#if defined(BROKEN_STATIC_CTOR_THROWS)
struct ThrowsAtLoad {
  ThrowsAtLoad() { throw std::runtime_error("static constructor throws"); }
};
const ThrowsAtLoad throws_at_load;
#endif

}  // namespace

#if defined(BROKEN_NO_SECTION)
// An ELF shared object with an ordinary exported function and no 'ctxmgr' section.
extern "C" __attribute__((visibility("default"))) int not_a_plugin() { return 42; }
#elif defined(BROKEN_NEXT_MAJOR)
BOOST_DLL_ALIAS_SECTIONED(abi, ctxmgr_plugin_abi_v2, ctxmgr)
BOOST_DLL_ALIAS_SECTIONED(create, ctxmgr_plugin_create_v2, ctxmgr)
#elif defined(BROKEN_NO_CREATE)
BOOST_DLL_ALIAS_SECTIONED(abi, ctxmgr_plugin_abi_v1, ctxmgr)
#else
BOOST_DLL_ALIAS_SECTIONED(abi, ctxmgr_plugin_abi_v1, ctxmgr)
BOOST_DLL_ALIAS_SECTIONED(create, ctxmgr_plugin_create_v1, ctxmgr)
#endif
