#pragma once
// SHA-256 (OpenSSL EVP) as lower-case hex: token hashes, the audit chain, S3 payload hashes; and
// the hex and random-bytes helpers tokens and keys are made of.

#include <cstddef>
#include <string>
#include <string_view>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

std::string sha256_hex(std::string_view data);

// Bytes as lower-case hex.
std::string to_hex(const unsigned char* data, std::size_t n);
// `n` random bytes (OpenSSL RAND_bytes) as hex; throws std::runtime_error if the RNG fails.
std::string random_hex(std::size_t n);

// The hash of a file's contents, read in chunks.
sdk::Result<std::string> sha256_file_hex(const std::string& path);

}  // namespace ctxmgr::kernel
