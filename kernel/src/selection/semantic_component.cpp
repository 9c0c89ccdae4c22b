#include "selection/semantic_component.hpp"

#include <algorithm>
#include <unordered_set>

#include "json/json_text.hpp"

namespace ctxmgr::kernel {

sdk::Result<std::vector<double>> SemanticScores::score(const sdk::SelectQuery&,
                                                       std::span<const sdk::Candidate> candidates) {
  std::vector<double> out;
  out.reserve(candidates.size());
  for (const auto& c : candidates) {
    const auto it = by_id.find(std::string(c.id));
    out.push_back(it == by_id.end() ? 0.0 : std::max(0.0, it->second));
  }
  return out;
}

SemanticStep run_semantic(SemanticSearch* semantic, const std::string& query,
                          const sdk::SearchQuery& view, std::size_t k,
                          std::vector<sdk::SearchHit>& hits) {
  SemanticStep step;
  auto skipped = [&](const std::string& why) {
    step.record = "{\"skipped\":" + json_quote(why) + "}";
    return std::move(step);
  };
  if (semantic == nullptr) return skipped("no embedder is configured");
  auto q = semantic->embed_query(query);
  if (!q) return skipped(q.error().message());
  auto near = semantic->neighbours(view, *q, k);
  if (!near) return skipped(near.error().message());

  auto scores = std::make_unique<SemanticScores>();
  for (const auto& h : hits) {
    if (auto s = semantic->similarity(h.row.id, h.row.version, *q)) scores->by_id[h.row.id] = *s;
  }
  std::unordered_set<std::string> present;
  for (const auto& h : hits) present.insert(h.row.id);
  std::size_t added = 0;
  for (auto& [hit, similarity] : *near) {
    scores->by_id[hit.row.id] = similarity;
    if (present.insert(hit.row.id).second) {
      hits.push_back(std::move(hit));
      ++added;
    }
  }
  step.scores = std::move(scores);
  step.record = "{\"model\":" + json_quote(semantic->model_id()) +
                ",\"neighbours\":" + std::to_string(near->size()) +
                ",\"added\":" + std::to_string(added) + "}";
  return step;
}

}  // namespace ctxmgr::kernel
