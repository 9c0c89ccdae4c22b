// selector-recency: newer first. A context updated `age` ago scores 0.5^(age / half_life): 1 when
// just written, 0.5 after one half-life, 0.25 after two. A time in the future counts as now.

#include <algorithm>
#include <cmath>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/selector.hpp"

namespace {

namespace sdk = ctxmgr::sdk;

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::number("half_life_hours", 0.001, 1e6, "168",
                   "hours after which a context's recency score halves (default one week)"),
};

class RecencySelector final : public sdk::Selector {
 public:
  RecencySelector(sdk::Host& /*host*/, const sdk::Options& options)
      : half_life_us_(options.get_number("half_life_hours", 168) * 3600e6) {}

  sdk::Result<std::vector<double>> score(const sdk::SelectQuery& query,
                                         std::span<const sdk::Candidate> candidates) override {
    std::vector<double> scores;
    scores.reserve(candidates.size());
    for (const auto& c : candidates) {
      const double age =
          static_cast<double>(std::max<std::int64_t>(0, query.now_us - c.updated_at_us));
      scores.push_back(std::exp2(-age / half_life_us_));
    }
    return scores;
  }

 private:
  double half_life_us_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::selector, "recency", "1.0.0",
              "newer contexts first, halving the score every half-life", RecencySelector, kOptions)
