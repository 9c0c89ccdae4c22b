// selector-tags: ranks contexts by how many words of the query appear among their metadata tags.
//
// A query "billing migration" scores a context tagged ["Billing", "eu"] 1 match out of 2 query
// words; `weight` scales the score and `min_word_length` ignores short words ("a", "de", "la").
// Tags are compared case-insensitively (ASCII); contexts without tags score 0.

#include <algorithm>
#include <cctype>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "ctxmgr/sdk/option_spec.hpp"
#include "ctxmgr/sdk/plugin_main.hpp"
#include "ctxmgr/sdk/selector.hpp"

namespace {

namespace sdk = ctxmgr::sdk;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

class TagsSelector final : public sdk::Selector {
 public:
  TagsSelector(sdk::Host& host, const sdk::Options& options)
      : log_(host.log()),
        weight_(options.get_number("weight", 1.0)),
        min_word_length_(static_cast<std::size_t>(options.get_int("min_word_length", 2))) {
    log_.info("tags selector ready (weight " + std::to_string(weight_) + ")");
  }

  sdk::Result<std::vector<double>> score(const sdk::SelectQuery& query,
                                         std::span<const sdk::Candidate> candidates) override {
    const std::set<std::string> words = query_words(query.query);
    std::vector<double> scores;
    scores.reserve(candidates.size());
    for (const auto& c : candidates) {
      scores.push_back(words.empty() ? 0.0 : weight_ * matches(c.metadata, words) / words.size());
    }
    return scores;
  }

 private:
  std::set<std::string> query_words(std::string_view q) const {
    std::set<std::string> words;
    std::string word;
    for (char ch : std::string(q) + " ") {
      if (std::isalnum(static_cast<unsigned char>(ch)) != 0 || (ch & 0x80) != 0) {
        word += ch;
      } else {
        if (word.size() >= min_word_length_) words.insert(lower(word));
        word.clear();
      }
    }
    return words;
  }

  static double matches(std::string_view metadata, const std::set<std::string>& words) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(metadata, ec);
    if (ec || !v.is_object()) return 0;
    const auto* tags = v.as_object().if_contains("tags");
    if (tags == nullptr || !tags->is_array()) return 0;
    double n = 0;
    for (const auto& t : tags->as_array()) {
      if (t.is_string() && words.count(lower(t.as_string())) != 0) ++n;
    }
    return n;
  }

  sdk::Logger& log_;
  double weight_;
  std::size_t min_word_length_;
};

namespace option = ctxmgr::sdk::option;

constexpr ctxmgr_option_spec kOptions[] = {
    option::number("weight", 0, 1e6, "1.0", "multiplies every score"),
    option::integer("min_word_length", 1, 64, "2", "query words shorter than this are ignored"),
};

}  // namespace

CTXMGR_PLUGIN(ctxmgr::sdk::Kind::selector, "tags", "1.0.0",
              "ranks contexts by query words found among their metadata tags", TagsSelector,
              kOptions)
