#include "config/environment.hpp"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

namespace {

bool valid_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) return false;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

sdk::Result<std::map<std::string, std::string, std::less<>>> parse_dotenv(std::string_view text,
                                                                          std::string_view file) {
  std::map<std::string, std::string, std::less<>> out;
  int line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ")) line = trim(line.substr(7));
    const auto eq = line.find('=');
    auto fail = [&](std::string_view why) {
      return Error(Errc::invalid_request,
                   std::string(file) + ":" + std::to_string(line_no) + ": " + std::string(why));
    };
    if (eq == std::string_view::npos) return fail("expected KEY=value");
    const std::string_view key = trim(line.substr(0, eq));
    if (!valid_name(key)) return fail("invalid variable name '" + std::string(key) + "'");
    std::string_view raw = trim(line.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
      const char quote = raw.front();
      const auto close = raw.rfind(quote);
      if (close == 0) return fail("unterminated quoted value");
      const std::string_view inner = raw.substr(1, close - 1);
      if (quote == '\'') {
        value = inner;
      } else {
        for (std::size_t i = 0; i < inner.size(); ++i) {
          if (inner[i] == '\\' && i + 1 < inner.size()) {
            const char e = inner[++i];
            value += e == 'n' ? '\n' : e == 't' ? '\t' : e;
          } else {
            value += inner[i];
          }
        }
      }
    } else {
      // An unquoted value ends at " #" (an inline comment).
      const auto hash = raw.find(" #");
      value = trim(raw.substr(0, hash));
    }
    out[std::string(key)] = std::move(value);
  }
  return out;
}

sdk::Result<Environment> Environment::load(const std::optional<std::filesystem::path>& env_file,
                                           bool required) {
  Environment env;
  if (!env_file) return env;
  std::ifstream in(*env_file, std::ios::binary);
  if (!in) {
    if (required) {
      return Error(Errc::invalid_request, env_file->string() + ": cannot read the .env file");
    }
    return env;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  auto parsed = parse_dotenv(buf.str(), env_file->string());
  if (!parsed) return parsed.error();
  env.dotenv_ = std::move(*parsed);
  return env;
}

std::optional<std::string> Environment::get(std::string_view name) const {
  const std::string key(name);
  if (const char* v = std::getenv(key.c_str()); v != nullptr) return std::string(v);
  if (auto it = dotenv_.find(name); it != dotenv_.end()) return it->second;
  if (auto it = defaults_.find(name); it != defaults_.end()) return it->second;
  return std::nullopt;
}

void Environment::set_default(std::string name, std::string value) {
  defaults_[std::move(name)] = std::move(value);
}

sdk::Result<std::string> interpolate(std::string_view text, const Environment& env) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '$' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i + 1] != '{') {
      out += c;
      continue;
    }
    const auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Error(Errc::invalid_request, "unterminated '${' in \"" + std::string(text) + "\"");
    }
    const std::string_view expr = text.substr(i + 2, close - i - 2);
    // ${VAR}, ${VAR:-default} or ${VAR:+word}: the operator follows the name.
    const auto sep = expr.find(':');
    const std::string_view name = expr.substr(0, sep);
    const char op = sep == std::string_view::npos || sep + 1 >= expr.size() ? '\0' : expr[sep + 1];
    if (!valid_name(name) || (sep != std::string_view::npos && op != '-' && op != '+')) {
      return Error(Errc::invalid_request,
                   "invalid variable name in '${" + std::string(expr) + "}'");
    }
    auto value = env.get(name);
    const bool set = value && !value->empty();
    if (op == '-' && !set) value = std::string(expr.substr(sep + 2));
    if (op == '+') value = set ? std::string(expr.substr(sep + 2)) : std::string();
    if (!value) {
      return Error(Errc::invalid_request, "environment variable " + std::string(name) +
                                              " is not set (write ${" + std::string(name) +
                                              ":-default} to give a default)");
    }
    out += *value;
    i = close;
  }
  return out;
}

}  // namespace ctxmgr::kernel
