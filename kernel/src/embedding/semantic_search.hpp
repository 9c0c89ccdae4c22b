#pragma once
// What selection asks of the vectors (docs/semantic.md): the query's vector from the embedder,
// the nearest contexts in the caller's view, and how similar a candidate is. Neighbours come from
// the in-memory index and then pass StorageVectors::in_view, the text search's own access rules,
// so a context outside the view never comes back however close it is; a neighbour whose context
// moved past the version its vector was made from is left out (its new version is not embedded
// yet).
//
// A failing embedder is not asked again for `cool_down`: selection then stays lexical at once
// instead of waiting out a timeout per request, and says why.
//
// Thread-safety: every method from any thread.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ctxmgr/sdk/embedder.hpp"
#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/storage_vectors.hpp"
#include "embedding/vector_index.hpp"

namespace ctxmgr::kernel {

class SemanticSearch {
 public:
  SemanticSearch(sdk::Embedder& embedder, sdk::StorageVectors& vectors, VectorIndex& index,
                 const sdk::Clock& clock, std::chrono::milliseconds cool_down);

  const std::string& model_id() const { return model_; }
  // The query's vector, or why there is none.
  sdk::Result<std::vector<float>> embed_query(const std::string& query);
  // Up to `k` contexts of `view` nearest to `query`, best first, with their similarity.
  sdk::Result<std::vector<std::pair<sdk::SearchHit, float>>> neighbours(
      const sdk::SearchQuery& view, const std::vector<float>& query, std::size_t k);
  // The similarity of a context at `version` to `query`, when its vector is in the index.
  std::optional<float> similarity(const std::string& context_id, std::int64_t version,
                                  const std::vector<float>& query) const;

 private:
  sdk::Embedder& embedder_;
  sdk::StorageVectors& vectors_;
  VectorIndex& index_;
  const sdk::Clock& clock_;
  std::chrono::milliseconds cool_down_;
  std::string model_;
  std::mutex mu_;
  std::int64_t failed_at_ns_ = 0;  // steady time of the last failure, 0: none
  std::string failure_;
};

}  // namespace ctxmgr::kernel
