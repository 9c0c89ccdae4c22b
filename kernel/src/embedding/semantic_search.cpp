#include "embedding/semantic_search.hpp"

#include <algorithm>
#include <unordered_map>

namespace ctxmgr::kernel {

SemanticSearch::SemanticSearch(sdk::Embedder& embedder, sdk::StorageVectors& vectors,
                               VectorIndex& index, const sdk::Clock& clock,
                               std::chrono::milliseconds cool_down)
    : embedder_(embedder),
      vectors_(vectors),
      index_(index),
      clock_(clock),
      cool_down_(cool_down),
      model_(embedder.model_id()) {}

sdk::Result<std::vector<float>> SemanticSearch::embed_query(const std::string& query) {
  {
    std::lock_guard lock(mu_);
    const auto since = std::chrono::nanoseconds(clock_.steady_ns() - failed_at_ns_);
    if (failed_at_ns_ != 0 && since < cool_down_) {
      return sdk::Error(sdk::Errc::unavailable, "the embedder failed " +
                                                    std::to_string(since.count() / 1000000) +
                                                    " ms ago: " + failure_);
    }
  }
  auto vectors = embedder_.embed({query});
  std::lock_guard lock(mu_);
  if (!vectors || vectors->size() != 1 || vectors->front().empty()) {
    failed_at_ns_ = clock_.steady_ns();
    failure_ = vectors ? "no vector for the query" : vectors.error().message();
    return sdk::Error(sdk::Errc::unavailable, failure_);
  }
  failed_at_ns_ = 0;
  return std::move(vectors->front());
}

sdk::Result<std::vector<std::pair<sdk::SearchHit, float>>> SemanticSearch::neighbours(
    const sdk::SearchQuery& view, const std::vector<float>& query, std::size_t k) {
  std::vector<std::pair<sdk::SearchHit, float>> out;
  if (k == 0) return out;
  // The view may hold a small part of the index: look wider until k are found or all was seen.
  const std::size_t total = index_.size();
  for (std::size_t fetch = k * 4;; fetch *= 8) {
    const auto near = index_.nearest(query, fetch);
    std::vector<std::string> ids;
    ids.reserve(near.size());
    std::unordered_map<std::string, const Neighbour*> by_id;
    for (const auto& n : near) {
      ids.push_back(n.context_id);
      by_id.emplace(n.context_id, &n);
    }
    auto hits = vectors_.in_view(view, ids);
    if (!hits) return hits.error();
    out.clear();
    for (auto& h : *hits) {
      const Neighbour* n = by_id.at(h.row.id);
      if (n->version != h.row.version) continue;  // a newer version has no vector yet
      out.emplace_back(std::move(h), n->similarity);
    }
    if (out.size() >= k || near.size() < fetch || fetch >= total) break;
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first.row.id < b.first.row.id;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

std::optional<float> SemanticSearch::similarity(const std::string& context_id, std::int64_t version,
                                                const std::vector<float>& query) const {
  return index_.similarity(context_id, version, query);
}

}  // namespace ctxmgr::kernel
