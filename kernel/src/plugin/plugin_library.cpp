#include "plugin/plugin_library.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>

#include <boost/dll/library_info.hpp>

#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/version.hpp"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;
namespace fs = std::filesystem;

bool OptionSpec::required() const { return (flags & CTXMGR_OPT_REQUIRED) != 0; }
bool OptionSpec::secret() const { return (flags & CTXMGR_OPT_SECRET) != 0; }
bool OptionSpec::has_min() const { return (flags & CTXMGR_OPT_HAS_MIN) != 0; }
bool OptionSpec::has_max() const { return (flags & CTXMGR_OPT_HAS_MAX) != 0; }

std::string_view option_type_name(std::uint32_t type) {
  switch (type) {
    case CTXMGR_OPT_STRING:
      return "string";
    case CTXMGR_OPT_INTEGER:
      return "integer";
    case CTXMGR_OPT_NUMBER:
      return "number";
    case CTXMGR_OPT_BOOLEAN:
      return "boolean";
    case CTXMGR_OPT_STRING_LIST:
      return "string list";
    case CTXMGR_OPT_OBJECT:
      return "mapping";
    default:
      return "unknown";
  }
}

ctxmgr_build_info host_build() { return sdk::detail::this_build(); }

std::string describe_build(const ctxmgr_build_info& b) {
  const char* compiler = b.compiler != nullptr ? b.compiler : "unknown";
  std::string text = std::string(compiler) + " " + std::to_string(b.compiler_major) + ", C++" +
                     std::to_string(b.cplusplus % 100);
  if (b.boost_version != 0) {
    text += ", Boost " + std::to_string(b.boost_version / 100000) + "." +
            std::to_string(b.boost_version / 100 % 1000);
  }
  if (b.cxx11_abi == 0) text += ", old libstdc++ string ABI";
  return text;
}

namespace {

Error refuse(const fs::path& path, const std::string& what) {
  return Error(Errc::internal, "plugin " + path.string() + ": " + what);
}

bool world_writable(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IWOTH) != 0;
}

std::string abi_range() {
  return "SDK ABI " + std::to_string(sdk::kHostAbi.major) + ".0–" +
         std::to_string(sdk::kHostAbi.major) + "." + std::to_string(sdk::kHostAbi.minor);
}

std::string str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

bool same_toolchain(const ctxmgr_build_info& a, const ctxmgr_build_info& b) {
  return str(a.compiler) == str(b.compiler) && a.compiler_major == b.compiler_major &&
         a.cxx11_abi == b.cxx11_abi && a.cplusplus == b.cplusplus &&
         a.boost_version == b.boost_version;
}

// Reads the entry-point names from the file without running any of its code.
sdk::Status check_sections(const fs::path& path) {
  std::vector<std::string> symbols;
  try {
    boost::dll::library_info info(path);
    auto sections = info.sections();
    if (std::find(sections.begin(), sections.end(), CTXMGR_PLUGIN_SECTION_NAME) == sections.end()) {
      return refuse(path,
                    "not a ctxmgr plugin (no 'ctxmgr' section; was it built with "
                    "CTXMGR_PLUGIN?)");
    }
    symbols = info.symbols(CTXMGR_PLUGIN_SECTION_NAME);
  } catch (const std::exception&) {
    return refuse(path, "not a ctxmgr plugin (not an ELF shared object)");
  }
  const auto has = [&](std::string_view s) {
    return std::find(symbols.begin(), symbols.end(), s) != symbols.end();
  };
  if (!has(CTXMGR_PLUGIN_ABI_SYMBOL)) {
    for (const auto& s : symbols) {
      if (s.starts_with(CTXMGR_PLUGIN_ABI_SYMBOL_PREFIX)) {
        const std::string major = s.substr(std::strlen(CTXMGR_PLUGIN_ABI_SYMBOL_PREFIX));
        return refuse(path, "built for SDK ABI " + major +
                                ".x; this ctxmgr " CTXMGR_VERSION_TEXT " loads " + abi_range() +
                                "; rebuild it against ctxmgr-sdk " +
                                std::to_string(sdk::kHostAbi.major) + ".x");
      }
    }
    return refuse(path, "not a ctxmgr plugin (no " CTXMGR_PLUGIN_ABI_SYMBOL " entry point)");
  }
  if (!has(CTXMGR_PLUGIN_CREATE_SYMBOL)) {
    return refuse(path, "lacks the entry point " CTXMGR_PLUGIN_CREATE_SYMBOL
                        "; expected it beside " CTXMGR_PLUGIN_ABI_SYMBOL);
  }
  return {};
}

sdk::Result<PluginInfo> read_descriptor(const fs::path& path, const ctxmgr_plugin_abi* abi) {
  if (abi == nullptr) return refuse(path, CTXMGR_PLUGIN_ABI_SYMBOL " returned no descriptor");
  if (std::memcmp(abi->magic, CTXMGR_PLUGIN_MAGIC, sizeof(CTXMGR_PLUGIN_MAGIC)) != 0) {
    return refuse(path, "descriptor has a wrong magic; expected \"" CTXMGR_PLUGIN_MAGIC "\"");
  }
  // ABI 1.0's descriptor ends before `capabilities`; later minors only append.
  constexpr std::size_t kAbi10Size = offsetof(ctxmgr_plugin_abi, capabilities);
  if (abi->struct_size < kAbi10Size) {
    return refuse(path, "descriptor of " + std::to_string(abi->struct_size) +
                            " bytes; SDK ABI 1.0 needs at least " + std::to_string(kAbi10Size));
  }
  const sdk::AbiVersion found{abi->sdk_abi_major, abi->sdk_abi_minor};
  const std::string found_text = std::to_string(found.major) + "." + std::to_string(found.minor);
  if (found.major != sdk::kHostAbi.major) {
    return refuse(path, "built for SDK ABI " + found_text +
                            "; this ctxmgr " CTXMGR_VERSION_TEXT " loads " + abi_range() +
                            "; rebuild it against ctxmgr-sdk " +
                            std::to_string(sdk::kHostAbi.major) + ".x");
  }
  if (!sdk::abi_compatible(sdk::kHostAbi, found)) {
    return refuse(
        path, "built for SDK ABI " + found_text + ", newer than this ctxmgr's " +
                  std::to_string(sdk::kHostAbi.major) + "." + std::to_string(sdk::kHostAbi.minor) +
                  "; upgrade ctxmgr or rebuild against ctxmgr-sdk " +
                  std::to_string(sdk::kHostAbi.major) + "." + std::to_string(sdk::kHostAbi.minor));
  }
  const ctxmgr_build_info host = host_build();
  if (!same_toolchain(abi->build, host)) {
    return refuse(path, "built with " + describe_build(abi->build) + "; this ctxmgr uses " +
                            describe_build(host) + "; rebuild with the same toolchain");
  }
  if (abi->kind < CTXMGR_KIND_STORAGE || abi->kind > CTXMGR_KIND_EMBEDDER) {
    return refuse(path, "declares unknown kind " + std::to_string(abi->kind) +
                            "; expected storage, selector, provider, transport or embedder");
  }
  if (abi->kind == CTXMGR_KIND_EMBEDDER && found.minor < 8) {
    return refuse(path, "declares kind embedder, which SDK ABI " + found_text +
                            " does not have (it came with 1.8)");
  }
  if (abi->name == nullptr || *abi->name == '\0') return refuse(path, "declares no name");

  PluginInfo info;
  info.path = path;
  info.kind = static_cast<sdk::Kind>(abi->kind);
  info.name = abi->name;
  info.version = str(abi->version);
  info.description = str(abi->description);
  info.abi_major = found.major;
  info.abi_minor = found.minor;
  info.build = describe_build(abi->build);
  if (found.minor >= 1 &&
      abi->struct_size >= offsetof(ctxmgr_plugin_abi, capabilities) + sizeof(abi->capabilities)) {
    info.capabilities = abi->capabilities;
  }
  for (std::uint32_t i = 0; i < abi->option_count; ++i) {
    const ctxmgr_option_spec& s = abi->options[i];
    if (s.name == nullptr || s.type < CTXMGR_OPT_STRING || s.type > CTXMGR_OPT_OBJECT) {
      return refuse(path, "option table entry " + std::to_string(i) +
                              " is malformed (no name or unknown type)");
    }
    OptionSpec spec;
    spec.name = s.name;
    spec.type = s.type;
    spec.flags = s.flags;
    if (s.default_json != nullptr) spec.default_json = s.default_json;
    spec.min = s.min;
    spec.max = s.max;
    spec.description = str(s.description);
    if (s.allowed != nullptr) {
      std::string_view rest(s.allowed);
      while (!rest.empty()) {
        const auto bar = rest.find('|');
        spec.allowed.emplace_back(rest.substr(0, bar));
        rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
      }
    }
    info.options.push_back(std::move(spec));
  }
  return info;
}

}  // namespace

sdk::Result<std::shared_ptr<PluginLibrary>> PluginLibrary::open(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return refuse(path, "no such file");
  if (world_writable(path) || world_writable(path.parent_path())) {
    return refuse(path,
                  "the file or its folder is writable by every user; refusing to load it "
                  "(chmod o-w)");
  }
  if (auto st = check_sections(path); !st) return st.error();

  auto lib = std::make_shared<PluginLibrary>();
  try {
    lib->lib_.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    return refuse(path, std::string("could not be loaded: ") + e.what());
  }
  const auto* abi = lib->lib_.get_alias<const ctxmgr_plugin_abi*()>(CTXMGR_PLUGIN_ABI_SYMBOL)();
  auto info = read_descriptor(path, abi);
  if (!info) return info.error();
  lib->info_ = std::move(*info);
  lib->create_ = &lib->lib_.get_alias<CreateFn>(CTXMGR_PLUGIN_CREATE_SYMBOL);
  return lib;
}

sdk::Result<std::unique_ptr<sdk::Plugin>> PluginLibrary::create(
    sdk::Host& host, std::string_view options_json) const {
  std::array<char, 2048> err{};
  sdk::Plugin* raw = nullptr;
  const int rc =
      create_(&host, options_json.data(), options_json.size(), &raw, err.data(), err.size());
  const std::string prefix = "plugin " + info_.name + " (" + info_.path.string() + "): ";
  if (rc != 0) {
    delete raw;  // a well-behaved factory leaves it null; never leak if not
    err.back() = '\0';
    return Error(Errc::internal, prefix + "create failed: " + err.data());
  }
  if (raw == nullptr)
    return Error(Errc::internal, prefix + "create failed: plugin returned no object");
  return std::unique_ptr<sdk::Plugin>(raw);
}

}  // namespace ctxmgr::kernel
