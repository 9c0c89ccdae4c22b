#pragma once
// SHA-256 (OpenSSL EVP) as lower-case hex: token hashes, the audit chain, S3 payload hashes.

#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

std::string sha256_hex(std::string_view data);

// The hash of a file's contents, read in chunks.
sdk::Result<std::string> sha256_file_hex(const std::string& path);

}  // namespace ctxmgr::kernel
