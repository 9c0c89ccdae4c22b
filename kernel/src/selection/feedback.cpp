#include "selection/feedback.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "selection/text_analysis.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;

namespace {

// The string values of a JSON text (object keys left out), appended to `out`.
void string_values(const json::value& v, std::vector<std::string_view>& out) {
  if (v.is_string()) {
    out.push_back(v.get_string());
  } else if (const auto* o = v.if_object()) {
    for (const auto& kv : *o) string_values(kv.value(), out);
  } else if (const auto* a = v.if_array()) {
    for (const auto& item : *a) string_values(item, out);
  }
}

}  // namespace

std::vector<std::string> feedback_terms(const std::vector<sdk::SearchHit>& hits,
                                        const std::vector<std::string>& query_words,
                                        const FeedbackSettings& settings) {
  std::unordered_set<std::string> excluded;
  for (const auto& w : query_words) excluded.insert(fold_word(w));
  const std::size_t n = std::min(settings.docs, hits.size());
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += hits[i].text_score;
  if (n == 0 || total <= 0) return {};
  std::unordered_map<std::string, double> weight;          // folded word -> RM1 weight
  std::unordered_map<std::string, std::size_t> docs_with;  // folded word -> feedback docs
  std::unordered_map<std::string, std::string> shown;      // folded word -> first form seen
  for (std::size_t i = 0; i < n; ++i) {
    // The context's string values and its metadata's tags (priority's high/medium/low and the
    // like say nothing of the topic).
    std::vector<std::string> words;
    std::vector<std::string_view> strings;
    boost::system::error_code ec;
    const json::value data = json::parse(hits[i].row.context_data, ec);
    if (!ec) string_values(data, strings);
    const json::value meta = json::parse(hits[i].row.metadata, ec);
    if (!ec && meta.is_object()) {
      if (const auto* tags = meta.get_object().if_contains("tags")) string_values(*tags, strings);
    }
    for (const auto s : strings) {
      for (auto& w : split_words(s)) words.push_back(std::move(w));
    }
    if (words.empty()) continue;
    const double doc_weight = hits[i].text_score / total / static_cast<double>(words.size());
    std::unordered_set<std::string> in_doc;
    for (const auto& w : words) {
      std::string f = fold_word(w);
      if (f.size() < 3 || is_stop_word(f) || excluded.count(f) != 0) continue;
      weight[f] += doc_weight;
      if (in_doc.insert(f).second) ++docs_with[f];
      if (!shown.count(f)) {
        std::string lower = w;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        shown.emplace(f, std::move(lower));
      }
    }
  }
  // A word of one feedback note alone is that note's, not the topic's.
  std::vector<std::pair<std::string, double>> ranked;
  for (const auto& [f, w] : weight) {
    if (docs_with[f] >= std::min<std::size_t>(settings.min_docs, n)) ranked.emplace_back(f, w);
  }
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second != b.second) return a.second > b.second;
    return a.first < b.first;  // ties in a stable order
  });
  std::vector<std::string> out;
  for (std::size_t i = 0; i < ranked.size() && out.size() < settings.terms; ++i) {
    out.push_back(shown.at(ranked[i].first));
  }
  return out;
}

void interpolate(std::vector<sdk::SearchHit>& first, std::vector<sdk::SearchHit> expansion,
                 double weight) {
  auto best = [](const std::vector<sdk::SearchHit>& hits) {
    double m = 0;
    for (const auto& h : hits) m = std::max(m, h.text_score);
    return m > 0 ? m : 1.0;
  };
  const double max1 = best(first), max2 = best(expansion);
  std::unordered_map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < first.size(); ++i) {
    first[i].text_score /= max1;
    at.emplace(first[i].row.id, i);
  }
  for (auto& h : expansion) {
    const double s = weight * h.text_score / max2;
    if (const auto it = at.find(h.row.id); it != at.end()) {
      first[it->second].text_score += s;
    } else {
      h.text_score = s;
      at.emplace(h.row.id, first.size());
      first.push_back(std::move(h));
    }
  }
}

}  // namespace ctxmgr::kernel
