#pragma once
// Pseudo-relevance feedback (RM3) for the text search (docs/selection.md: Feedback): the query is
// expanded with the words that weigh most in its best first hits, so that a note that shares no
// word with the query but many with the notes it found — its other-language twin, the tag they
// share, `cobros` beside `facturación` — becomes a candidate.
//
//   weight(t) = sum over the first `docs` hits d of  P(d|q) * tf(t, d) / |d|
//
// with P(d|q) the hit's share of their text scores (RM1), over the string values of each hit's
// context_data and its metadata's tags (not the keys), stop words, the query's own words and
// words found in fewer than `min_docs` of those hits left out. The `terms` best become a second
// text search, and each candidate's text score is then  s1/max1 + weight * s2/max2  (RM3's
// interpolation of the two searches: the expansion can bring a note in, the query's own words still
// rank first).

#include <cstddef>
#include <string>
#include <vector>

#include "ctxmgr/sdk/storage_search.hpp"

namespace ctxmgr::kernel {

struct FeedbackSettings {
  bool enabled = true;
  std::size_t docs = 3;      // first hits read
  std::size_t terms = 4;     // words added
  std::size_t min_docs = 2;  // a word must be in this many of the first hits
  double weight = 0.5;       // of the expansion's scores beside the query's
};

// The expansion words, best first, as first written in the hits (the storage analyses them
// again). `query_words` are the query's words and translations (any form; folded here).
std::vector<std::string> feedback_terms(const std::vector<sdk::SearchHit>& hits,
                                        const std::vector<std::string>& query_words,
                                        const FeedbackSettings& settings);

// Merges the expansion search's hits into the first search's: every id once, text scores
// interpolated as above.
void interpolate(std::vector<sdk::SearchHit>& first, std::vector<sdk::SearchHit> expansion,
                 double weight);

}  // namespace ctxmgr::kernel
