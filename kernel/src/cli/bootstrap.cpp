#include "cli/bootstrap.hpp"

#include <cstdlib>

namespace ctxmgr::kernel {

namespace fs = std::filesystem;
using sdk::Errc;
using sdk::Error;

fs::path executable_dir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

sdk::Result<fs::path> find_config_file(const CommonOptions& opts) {
  if (!opts.config.empty()) return fs::path(opts.config);
  if (const char* env = std::getenv("CTXMGR_CONFIG"); env != nullptr && *env != '\0') {
    return fs::path(env);
  }
  const fs::path candidates[] = {fs::path("config") / "ctxmgr.yaml",
                                 executable_dir() / ".." / "etc" / "ctxmgr" / "ctxmgr.yaml",
                                 fs::path("/etc/ctxmgr/ctxmgr.yaml")};
  std::error_code ec;
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c, ec)) return c.lexically_normal();
  }
  return Error(Errc::invalid_request,
               "no config file: pass --config FILE or set CTXMGR_CONFIG (looked for "
               "./config/ctxmgr.yaml, <prefix>/etc/ctxmgr/ctxmgr.yaml, /etc/ctxmgr/ctxmgr.yaml)");
}

sdk::Result<Bootstrap> bootstrap(const CommonOptions& opts) {
  const bool named = !opts.env_file.empty();
  auto env = Environment::load(named ? fs::path(opts.env_file) : fs::path(".env"), named);
  if (!env) return env.error();
  Bootstrap b;
  b.env = std::make_unique<Environment>(std::move(*env));
  // Built-in values a config may refer to; the process environment or .env may override them.
  const fs::path prefix = (executable_dir() / "..").lexically_normal();
  b.env->set_default("CTXMGR_PLUGIN_DIR", (prefix / "lib" / "ctxmgr" / "plugins").string());
  b.env->set_default("CTXMGR_SCHEMA_DIR", (prefix / "share" / "ctxmgr" / "schemas").string());
  auto file = find_config_file(opts);
  if (!file) return file.error();
  auto loaded = load_config(*file, *b.env);
  if (!loaded) return loaded.error();
  b.loaded = std::move(*loaded);
  return b;
}

}  // namespace ctxmgr::kernel
