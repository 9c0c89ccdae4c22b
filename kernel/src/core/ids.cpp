#include "core/ids.hpp"

#include "core/sha256.hpp"

#include <mutex>

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace ctxmgr::kernel {

std::string new_uuid_v7(std::int64_t unix_ms) {
  // A Mersenne Twister per thread, seeded from the OS once: no syscall and no lock per id. Ids
  // need to be unique, not secret (access rules protect contexts).
  thread_local boost::uuids::random_generator_mt19937 random;  // seeded from the OS once
  boost::uuids::uuid u = random();
  const auto ms = static_cast<std::uint64_t>(unix_ms);
  for (int i = 0; i < 6; ++i) u.data[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  u.data[6] = static_cast<std::uint8_t>(0x70 | (u.data[6] & 0x0f));  // version 7
  u.data[8] = static_cast<std::uint8_t>(0x80 | (u.data[8] & 0x3f));  // variant 10
  return boost::uuids::to_string(u);
}

std::string uuid_v8_from(std::string_view name) {
  std::string hex = sha256_hex(name).substr(0, 32);
  hex[12] = '8';  // version 8
  // Variant 10: the top two bits of the 17th digit.
  const int v = hex[16] <= '9' ? hex[16] - '0' : hex[16] - 'a' + 10;
  hex[16] = "89ab"[v & 0x3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20, 12);
}

std::optional<std::string> canonical_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const char c = out[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
    } else if (c >= 'A' && c <= 'F') {
      out[i] = static_cast<char>(c - 'A' + 'a');
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return std::nullopt;
    }
  }
  return out;
}

bool valid_agent_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  const auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(id[0])) return false;
  for (char c : id.substr(1)) {
    if (!alnum(c) && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return true;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace ctxmgr::kernel
