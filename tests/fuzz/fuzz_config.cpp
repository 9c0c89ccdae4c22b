// The YAML configuration with ${VAR} and ${VAR:-default} interpolation: any text either loads or
// is refused with a message; it never crashes or hangs the loader.
#include "config/config.hpp"
#include "config/environment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctxmgr::kernel;
  static Environment env = [] {
    auto e = Environment::load(std::nullopt, false);
    Environment out = std::move(*e);
    out.set_default("CTXMGR_PLUGIN_DIR", "/nonexistent");
    out.set_default("PORT", "5000");
    out.set_default("DATABASE_URL", "postgresql://u:secret@127.0.0.1/db");
    return out;
  }();
  (void)parse_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml", env);
  return 0;
}
