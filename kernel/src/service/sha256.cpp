#include "service/sha256.hpp"

#include <openssl/evp.h>

#include <array>

namespace ctxmgr::kernel {

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &n, EVP_sha256(), nullptr);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(n) * 2, '0');
  for (unsigned int i = 0; i < n; ++i) {
    out[2 * i] = kDigits[digest[i] >> 4];
    out[2 * i + 1] = kDigits[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace ctxmgr::kernel
