// selector-keyword: ranks by the BM25 relevance of the query's words (and their translations),
// which the storage computes through its full-text index (SQLite FTS5, PostgreSQL tsvector) and
// hands over as Candidate::text_score. Options: none; its weight in hybrid is set in YAML.

#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/selector.hpp"

namespace {

namespace sdk = ctxmgr::sdk;

class KeywordSelector final : public sdk::Selector {
 public:
  KeywordSelector(sdk::Host& /*host*/, const sdk::Options& /*options*/) {}

  sdk::Result<std::vector<double>> score(const sdk::SelectQuery& /*query*/,
                                         std::span<const sdk::Candidate> candidates) override {
    std::vector<double> scores;
    scores.reserve(candidates.size());
    for (const auto& c : candidates) scores.push_back(c.text_score > 0 ? c.text_score : 0.0);
    return scores;
  }
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::selector, "keyword", "1.0.0",
              "BM25 relevance of the query's words through the storage's full-text index",
              KeywordSelector, ctxmgr::sdk::kNoOptions)
