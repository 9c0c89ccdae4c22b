#pragma once
// SHA-256 (OpenSSL EVP) as lower-case hex: token hashes and the audit chain.

#include <string>
#include <string_view>

namespace ctxmgr::kernel {

std::string sha256_hex(std::string_view data);

}  // namespace ctxmgr::kernel
