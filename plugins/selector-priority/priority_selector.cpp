// selector-priority: the metadata priority. `high`, `medium` and `low` score the configured
// values; a context without a priority (or with another value) counts as `medium` (API.md).

#include <string_view>

#include <boost/json.hpp>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/selector.hpp"

namespace {

namespace sdk = ctxmgr::sdk;

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::number("high", 0, 1000, "1.0", "score of priority high"),
    option::number("medium", 0, 1000, "0.5", "score of priority medium, and of no priority"),
    option::number("low", 0, 1000, "0.1", "score of priority low"),
};

class PrioritySelector final : public sdk::Selector {
 public:
  PrioritySelector(sdk::Host& /*host*/, const sdk::Options& options)
      : high_(options.get_number("high", 1.0)),
        medium_(options.get_number("medium", 0.5)),
        low_(options.get_number("low", 0.1)) {}

  sdk::Result<std::vector<double>> score(const sdk::SelectQuery& /*query*/,
                                         std::span<const sdk::Candidate> candidates) override {
    std::vector<double> scores;
    scores.reserve(candidates.size());
    for (const auto& c : candidates) scores.push_back(of(c.metadata));
    return scores;
  }

 private:
  double of(std::string_view metadata) const {
    if (metadata.find("priority") == std::string_view::npos) return medium_;
    boost::system::error_code ec;
    const auto v = boost::json::parse(metadata, ec);
    if (ec || !v.is_object()) return medium_;
    const auto* p = v.as_object().if_contains("priority");
    if (p == nullptr || !p->is_string()) return medium_;
    if (p->as_string() == "high") return high_;
    if (p->as_string() == "low") return low_;
    return medium_;
  }

  double high_;
  double medium_;
  double low_;
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::selector, "priority", "1.0.0",
              "metadata priority: high, medium (or none), low", PrioritySelector, kOptions)
