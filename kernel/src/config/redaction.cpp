#include "config/redaction.hpp"

#include <algorithm>
#include <regex>

namespace ctxmgr::kernel {

bool looks_secret(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return std::tolower(c); });
  static const char* const kWords[] = {"password", "passwd", "secret", "token", "api_key",
                                       "apikey",   "access_key", "private_key", "credential"};
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* w) { return k.find(w) != std::string::npos; });
}

std::string redact_connection_secrets(std::string_view text) {
  // scheme://user:password@  (the password may hold anything but '@' and '/')
  static const std::regex kUrl(R"(([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@/\s]*@)");
  static const std::regex kKeyValue(R"((password\s*=\s*)('[^']*'|[^\s]+))", std::regex::icase);
  std::string out = std::regex_replace(std::string(text), kUrl, "$1***@");
  return std::regex_replace(out, kKeyValue, "$1***");
}

}  // namespace ctxmgr::kernel
