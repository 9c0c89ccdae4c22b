#pragma once
// The `semantic` component of a selection (docs/semantic.md): the query embedded, its nearest
// contexts in the caller's view added to the text search's candidates, and every candidate scored
// by its cosine similarity to the query (0 below 0, and for a candidate whose current version has
// no vector yet). It takes part like a selector — alone (`"selector": "semantic"`) or weighted in
// hybrid — but is the kernel's own, since it needs the embedder and the vectors.
//
// When it cannot run (no embedder configured, the embedder failing), the selection goes on
// without it and the record's params say why under "semantic".

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ctxmgr/sdk/selector.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "embedding/semantic_search.hpp"

namespace ctxmgr::kernel {

inline constexpr const char* kSemanticComponent = "semantic";

// One request's similarities, served to the ranking as a selector's scores.
class SemanticScores final : public sdk::Selector {
 public:
  sdk::Result<std::vector<double>> score(const sdk::SelectQuery& query,
                                         std::span<const sdk::Candidate> candidates) override;
  std::unordered_map<std::string, double> by_id;
};

struct SemanticStep {
  std::unique_ptr<SemanticScores> scores;  // null when the component could not run
  std::string record;                      // the record's "semantic" value (a JSON object)
};

// Embeds `query`, adds up to `k` neighbours within `view` to `hits` (those not already there),
// and scores every hit. `semantic` may be null (no embedder configured).
SemanticStep run_semantic(SemanticSearch* semantic, const std::string& query,
                          const sdk::SearchQuery& view, std::size_t k,
                          std::vector<sdk::SearchHit>& hits);

}  // namespace ctxmgr::kernel
