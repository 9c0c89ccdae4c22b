#pragma once
// Where ${VAR} values come from: the process environment first, then an optional .env file (the
// seed keeps DATABASE_URL, API keys, CONTEXT_MANAGER_PORT and LOG_LEVEL there), then the defaults
// the kernel itself provides (e.g. CTXMGR_PLUGIN_DIR).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

class Environment {
 public:
  // Reads `env_file` when given. A missing file is an error only when `required` (the user named
  // it); the implicit ./.env may be absent.
  static sdk::Result<Environment> load(const std::optional<std::filesystem::path>& env_file,
                                       bool required);

  std::optional<std::string> get(std::string_view name) const;
  // A value used only when neither the process nor the .env file sets `name`.
  void set_default(std::string name, std::string value);

 private:
  std::map<std::string, std::string, std::less<>> dotenv_;
  std::map<std::string, std::string, std::less<>> defaults_;
};

// Parses .env text: `KEY=value` lines, optional `export `, `#` comments, blank lines, values in
// single quotes (literal) or double quotes (with \n, \", \\ escapes). Errors name file:line.
sdk::Result<std::map<std::string, std::string, std::less<>>> parse_dotenv(std::string_view text,
                                                                        std::string_view file);

// Expands ${VAR}, ${VAR:-default} (the default when VAR is unset or empty) and ${VAR:+word}
// (word when VAR is set and not empty, else nothing), as in the shell; `$$` is a literal `$`. An
// unset VAR without an operator is an error naming it.
sdk::Result<std::string> interpolate(std::string_view text, const Environment& env);

}  // namespace ctxmgr::kernel
