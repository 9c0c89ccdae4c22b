#pragma once
// Selector plugins rank candidate contexts for a query.
//
// The kernel gathers the candidates (the contexts the asking agent may read, after filters), asks
// the storage for their full-text relevance, and hands them to each configured selector. A
// selector only scores; access rules, filters, limits and token budgets stay in the kernel.
//
// Thread-safety: score() may be called concurrently from many threads.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "ctxmgr/sdk/plugin.hpp"

namespace ctxmgr::sdk {

// One context to score. The views are valid for the duration of the score() call only.
struct Candidate {
  std::string_view id;
  std::string_view context_data;  // JSON object text, verbatim as stored
  std::string_view metadata;      // JSON object text, verbatim as stored
  std::int64_t updated_at_us = 0;
  double text_score = 0;  // the storage's full-text relevance for the query; 0 when none
};

struct SelectQuery {
  std::string_view query;
  std::int64_t now_us = 0;
};

class CTXMGR_SDK_VISIBLE Selector : public Plugin {
 public:
  ~Selector() override;
  // One score per candidate, in the candidates' order, each finite and >= 0, higher is better.
  // Scores of one call are comparable with each other; the kernel normalises across selectors.
  virtual Result<std::vector<double>> score(const SelectQuery& query,
                                            std::span<const Candidate> candidates) = 0;
};

template <>
struct KindInterface<Kind::selector> {
  using type = Selector;
};

}  // namespace ctxmgr::sdk
