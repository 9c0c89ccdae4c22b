#pragma once
// Since ABI 1.8. The vector capability of a storage: each context's current version embedded by
// a model, stored beside it (docs/semantic.md). A second base class beside Storage
// (CTXMGR_CAP_STORAGE_VECTORS), like StorageContextChanges.
//
// Vectors are derived data: made from the stored JSON by the kernel's embedding worker, never
// part of a backup, dropped with their context when it is purged, and rebuilt on demand. A vector
// is named by the model id that made it (Embedder::model_id) and the version it was made from;
// vectors of different models are never mixed.
//
// Work sharing: several servers on one database embed each version once. A worker claims jobs
// (a claim lasts until its lease ends, so a crashed worker's claims come back), embeds them, and
// stores the vectors; a claim is granted to one worker only, even when two ask at once.
//
// Thread-safety: every method may be called from many threads at once.
// Errors: Errc::unavailable when the database cannot be reached; Errc::internal otherwise.

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/abi.h"
#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/storage_search.hpp"

namespace ctxmgr::sdk {

// A context version to embed: what the worker renders into text.
struct EmbeddingJob {
  std::string context_id;
  std::int64_t version = 0;
  std::string context_data;  // JSON object text, as stored
};

struct ContextVector {
  std::string context_id;
  std::int64_t version = 0;   // the version it was made from
  std::vector<float> values;  // every vector of one model has one length
};

class CTXMGR_SDK_VISIBLE StorageVectors {
 public:
  virtual ~StorageVectors();
  StorageVectors() = default;
  StorageVectors(const StorageVectors&) = delete;
  StorageVectors& operator=(const StorageVectors&) = delete;

  // Claims up to `limit` live (not deleted) contexts whose current version has no vector of
  // `model` and no unexpired claim, least recently changed first, until `lease_until_us`; `now_us`
  // decides which claims have expired. Returns what this caller got.
  virtual Result<std::vector<EmbeddingJob>> claim_embedding_jobs(std::string_view model,
                                                                 std::int64_t limit,
                                                                 std::int64_t now_us,
                                                                 std::int64_t lease_until_us) = 0;
  // Stores vectors of `model` (in one transaction). A vector older than the one stored for its
  // context is ignored; a context gone meanwhile is skipped.
  virtual Status put_vectors(std::string_view model, const std::vector<ContextVector>& vectors) = 0;
  // Live contexts whose current version has no vector of `model`.
  virtual Result<std::int64_t> embedding_backlog(std::string_view model) = 0;
  // The vectors of `model` made from the current version of live contexts.
  virtual Result<std::vector<ContextVector>> current_vectors(std::string_view model) = 0;
  // The models that have vectors, with how many each (for `ctxmgr embeddings status`).
  virtual Result<std::vector<std::pair<std::string, std::int64_t>>> vector_models() = 0;
  // Forgets every vector and claim of `model` (all models when empty): a rebuild. Returns how
  // many vectors went.
  virtual Result<std::int64_t> drop_vectors(std::string_view model) = 0;
  // The contexts among `ids` that lie in `view`'s scope — the agent's view (own, and shared by a
  // grant when include_shared), its tags and priority filters, not deleted — as hits with
  // text_score 0, in no particular order; `view.terms`, `order` and `limit` are not used. So that
  // neighbours found in memory pass exactly the rules a text search applies.
  virtual Result<std::vector<SearchHit>> in_view(const SearchQuery& view,
                                                 const std::vector<std::string>& ids) = 0;
};

// How the storages keep a vector: the hex text of its little-endian float32 values (SOCI moves
// text alike on every backend; PostgreSQL stores the bytes with decode(..., 'hex')).
inline std::string vector_to_hex(const std::vector<float>& values) {
  static_assert(std::endian::native == std::endian::little, "vectors are stored little-endian");
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(values.size() * 8);
  for (float f : values) {
    unsigned char bytes[4];
    std::memcpy(bytes, &f, 4);
    for (unsigned char b : bytes) {
      out.push_back(kDigits[b >> 4]);
      out.push_back(kDigits[b & 0xF]);
    }
  }
  return out;
}

// The values of vector_to_hex's text; nullopt when it is not such a text.
inline std::optional<std::vector<float>> vector_from_hex(std::string_view hex) {
  if (hex.size() % 8 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::vector<float> out(hex.size() / 8);
  for (std::size_t i = 0; i < out.size(); ++i) {
    unsigned char bytes[4];
    for (std::size_t j = 0; j < 4; ++j) {
      const int hi = nibble(hex[i * 8 + j * 2]);
      const int lo = nibble(hex[i * 8 + j * 2 + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      bytes[j] = static_cast<unsigned char>(hi << 4 | lo);
    }
    std::memcpy(&out[i], bytes, 4);
  }
  return out;
}

}  // namespace ctxmgr::sdk
