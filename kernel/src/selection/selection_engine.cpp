#include "selection/selection_engine.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/json.hpp>

#include "core/context_render.hpp"
#include "core/request_parsing.hpp"
#include "core/time_text.hpp"
#include "json/json_text.hpp"
#include "selection/semantic_component.hpp"
#include "selection/text_analysis.hpp"

namespace ctxmgr::kernel {

namespace json = boost::json;
using sdk::Errc;
using sdk::Error;

namespace {

constexpr std::int64_t kDefaultLimit = 10;
constexpr std::size_t kMaxQueryBytes = 4096;
constexpr std::size_t kMaxWords = 32;

struct SelectRequest {
  std::string query;
  std::int64_t limit = kDefaultLimit;
  std::optional<std::int64_t> token_budget;
  std::string selector;
  bool include_shared = true;
  bool translate = true;
  bool synonyms = false;         // the thesauri's synonyms; default: selection.thesaurus.enabled
  bool expand = true;            // pseudo-relevance feedback
  std::optional<Fusion> fusion;  // how hybrid's components combine; unset: the configured one
  std::vector<std::string> tags;
  std::optional<std::string> priority;
};

sdk::Result<std::int64_t> integer_field(const json::value& v, std::string_view name,
                                        std::int64_t min, std::int64_t max) {
  if (!v.is_int64() && !v.is_uint64()) {
    return invalid_request(std::string(name) + " must be an integer");
  }
  if (v.is_uint64() || v.as_int64() < min || v.as_int64() > max) {
    return invalid_request(std::string(name) + " must be between " + std::to_string(min) + " and " +
                           std::to_string(max));
  }
  return v.as_int64();
}

sdk::Result<SelectRequest> parse_request(std::string_view body, std::size_t max_depth,
                                         const SelectionSettings& settings) {
  auto obj = parse_body_object(body, max_depth,
                               {"query", "limit", "token_budget", "selector", "include_shared",
                                "translate", "synonyms", "expand", "fusion", "filter"});
  if (!obj) return obj.error();
  SelectRequest r;
  r.selector = settings.default_selector;
  r.synonyms = settings.synonyms;
  r.expand = settings.feedback.enabled;
  const auto* q = obj->if_contains("query");
  if (q == nullptr) return invalid_request("query is required");
  if (!q->is_string()) return invalid_request("query must be a string");
  r.query = std::string(q->as_string());
  if (r.query.size() > kMaxQueryBytes) {
    return invalid_request("query is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  }
  if (const auto* v = obj->if_contains("limit")) {
    auto n = integer_field(*v, "limit", 1, 1000);
    if (!n) return n.error();
    r.limit = *n;
  }
  if (const auto* v = obj->if_contains("token_budget"); v != nullptr && !v->is_null()) {
    auto n = integer_field(*v, "token_budget", 1, 100'000'000);
    if (!n) return n.error();
    r.token_budget = *n;
  }
  if (const auto* v = obj->if_contains("selector")) {
    if (!v->is_string() || v->as_string().empty()) {
      return invalid_request("selector must be a selector's name");
    }
    r.selector = std::string(v->as_string());
  }
  if (const auto* v = obj->if_contains("fusion")) {
    if (!v->is_string() || (v->as_string() != "weighted" && v->as_string() != "rank")) {
      return invalid_request("fusion must be weighted or rank");
    }
    r.fusion = v->as_string() == "rank" ? Fusion::rank : Fusion::weighted;
  }
  for (auto [name, out] : {std::pair<const char*, bool*>{"include_shared", &r.include_shared},
                           std::pair<const char*, bool*>{"translate", &r.translate},
                           std::pair<const char*, bool*>{"synonyms", &r.synonyms},
                           std::pair<const char*, bool*>{"expand", &r.expand}}) {
    if (const auto* v = obj->if_contains(name)) {
      if (!v->is_bool()) return invalid_request(std::string(name) + " must be true or false");
      *out = v->as_bool();
    }
  }
  if (const auto* f = obj->if_contains("filter"); f != nullptr && !f->is_null()) {
    if (!f->is_object()) return invalid_request("filter must be an object");
    for (const auto& [key, value] : f->as_object()) {
      if (key == "tags") {
        if (!value.is_array()) return invalid_request("filter.tags must be an array of strings");
        for (const auto& t : value.as_array()) {
          if (!t.is_string()) return invalid_request("filter.tags must be an array of strings");
          r.tags.emplace_back(t.as_string());
        }
      } else if (key == "priority") {
        if (!value.is_string() || (value.as_string() != "high" && value.as_string() != "medium" &&
                                   value.as_string() != "low")) {
          return invalid_request("filter.priority must be high, medium or low");
        }
        r.priority = std::string(value.as_string());
      } else {
        return invalid_request("filter." + std::string(key) + " is not a known field");
      }
    }
  }
  return r;
}

// Whether metadata.expires_at lies at or before `now_us`.
bool expired(std::string_view metadata, std::int64_t now_us) {
  if (metadata.find("expires_at") == std::string_view::npos) return false;
  boost::system::error_code ec;
  const json::value meta = json::parse(metadata, ec);
  if (ec || !meta.is_object()) return false;
  const auto* at = meta.as_object().if_contains("expires_at");
  if (at == nullptr || !at->is_string()) return false;
  const auto t = parse_rfc3339(at->as_string());
  return t && *t <= now_us;
}

struct Words {
  std::vector<std::string> query;     // the query's own words, as written
  std::vector<std::string> expanded;  // their translations not already among them
  std::vector<std::string> synonyms;  // their synonyms not already among either
};

// Words go to the storage as written: its analysis needs the accents (Spanish stems do). The
// folded form decides what is a stop word, what repeats, and what the dictionary is asked.
// Translations: Apertium's first (when configured), then the dictd dictionaries', at most
// `per_word` from each.
Words analyse(std::string_view query, const ApertiumLexicon* apertium,
              const BilingualDictionary& dict, std::size_t per_word, bool translate,
              const Thesaurus& thesaurus, std::size_t synonyms_per_word, bool synonyms) {
  Words w;
  std::vector<std::string> stop;
  std::vector<std::string> seen;  // folded
  std::vector<std::string> folded_query;
  for (auto& word : split_words(query)) {
    std::string f = fold_word(word);
    if (std::find(seen.begin(), seen.end(), f) != seen.end()) continue;
    seen.push_back(f);
    if (is_stop_word(f)) {
      stop.push_back(std::move(word));
    } else {
      folded_query.push_back(std::move(f));
      w.query.push_back(std::move(word));
    }
    if (w.query.size() >= kMaxWords) break;
  }
  if (w.query.empty()) w.query = std::move(stop);  // "the who": search what there is
  // The words of `more` whose folded form is new, appended to `out`.
  auto add_unseen = [&seen](std::vector<std::string> more, std::vector<std::string>& out) {
    for (auto& t : more) {
      std::string tf = fold_word(t);
      if (std::find(seen.begin(), seen.end(), tf) != seen.end()) continue;
      seen.push_back(std::move(tf));
      out.push_back(std::move(t));
    }
  };
  if (translate) {
    for (const auto& f : folded_query) {
      if (apertium != nullptr) add_unseen(apertium->translate(f, per_word), w.expanded);
      add_unseen(dict.translate(f, per_word), w.expanded);
    }
  }
  if (synonyms) {
    for (const auto& f : folded_query) {
      add_unseen(thesaurus.synonyms(f, synonyms_per_word), w.synonyms);
    }
  }
  return w;
}

std::string number(double v) {
  // Scores travel with 6 significant digits: enough to order, short to read.
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.6g", v);
  return std::string(buf, static_cast<std::size_t>(n));
}

using Component = SelectionComponent;

// Each component's scores divided by its best (so each lies in [0, 1]), the weighted total of
// every candidate, and the candidates' order: best total first, then newest.
struct Ranking {
  std::vector<std::vector<double>> component;
  std::vector<double> total;
  std::vector<std::size_t> order;
};

// Reciprocal rank fusion: each component's contribution is weight / (kRrfK + its rank of the
// candidate), ranks from 1, a candidate a component scores 0 contributing nothing; the total is
// then divided by the best one so that it lies in (0, 1] like the weighted mean's.
constexpr double kRrfK = 60;

void fuse_by_rank(const std::vector<Component>& parts, Ranking& r, std::size_t n) {
  r.total.assign(n, 0.0);
  for (std::size_t p = 0; p < parts.size(); ++p) {
    std::vector<std::size_t> by(n);
    std::iota(by.begin(), by.end(), 0);
    const auto& scores = r.component[p];
    std::stable_sort(by.begin(), by.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    for (std::size_t rank = 0; rank < n; ++rank) {
      if (scores[by[rank]] <= 0) break;
      r.total[by[rank]] += parts[p].weight / (kRrfK + static_cast<double>(rank + 1));
    }
  }
  const double best = n == 0 ? 0 : *std::max_element(r.total.begin(), r.total.end());
  if (best > 0) {
    for (double& t : r.total) t /= best;
  }
}

sdk::Result<Ranking> rank(const std::vector<Component>& parts, const sdk::SelectQuery& query,
                          const std::vector<sdk::Candidate>& candidates, Fusion fusion) {
  Ranking r;
  r.component.resize(parts.size());
  for (std::size_t p = 0; p < parts.size(); ++p) {
    auto scores = parts[p].selector->score(query, candidates);
    if (!scores) return scores.error();
    if (scores->size() != candidates.size()) {
      return Error(Errc::internal, "selector '" + parts[p].name + "' returned " +
                                       std::to_string(scores->size()) + " scores for " +
                                       std::to_string(candidates.size()) + " candidates");
    }
    double best = 0;
    for (double& s : *scores) {
      if (!std::isfinite(s) || s < 0) s = 0;  // the contract says finite and >= 0
      best = std::max(best, s);
    }
    if (best > 0) {
      for (double& s : *scores) s /= best;
    }
    r.component[p] = std::move(*scores);
  }
  if (fusion == Fusion::rank) {
    fuse_by_rank(parts, r, candidates.size());
  } else {
    double weight_sum = 0;
    for (const auto& p : parts) weight_sum += p.weight;
    r.total.assign(candidates.size(), 0.0);
    for (std::size_t i = 0; i < candidates.size(); ++i) {
      for (std::size_t p = 0; p < parts.size(); ++p) {
        r.total[i] += parts[p].weight * r.component[p][i];
      }
      if (weight_sum > 0) r.total[i] /= weight_sum;
    }
  }
  r.order.resize(candidates.size());
  std::iota(r.order.begin(), r.order.end(), 0);
  std::stable_sort(r.order.begin(), r.order.end(), [&](std::size_t a, std::size_t b) {
    if (r.total[a] != r.total[b]) return r.total[a] > r.total[b];
    return candidates[a].updated_at_us > candidates[b].updated_at_us;
  });
  return r;
}

// {"<component>":<value>,...} for each component, in order.
template <class Value>
std::string per_component(const std::vector<Component>& parts, Value&& value) {
  std::string out = "{";
  for (std::size_t p = 0; p < parts.size(); ++p) {
    if (p > 0) out += ',';
    out += json_quote(parts[p].name) + ":" + number(value(p));
  }
  return out + "}";
}

constexpr std::size_t kCutKept = 20;

// What fits the answer: best first, skipping what would pass the token budget, stopping at the
// limit. `items` for the answer, `results` for the selection log.
struct Packed {
  std::string items = "[";
  std::string results = "[";
  // The candidates the token budget left out (at most kCutKept), for the selection log: why an
  // agent did not get a context that ranked high enough.
  std::string cut = "[";
  std::size_t cut_count = 0;
  std::int64_t tokens = 0;
  bool truncated = false;
  std::vector<std::size_t> chosen;  // candidate indexes, in order
};

Packed pack(const SelectRequest& req, const std::vector<Component>& parts, const Ranking& ranking,
            const std::vector<sdk::SearchHit>& hits, double chars_per_token, bool capped) {
  Packed out;
  out.truncated = capped;
  for (const std::size_t i : ranking.order) {
    if (static_cast<std::int64_t>(out.chosen.size()) >= req.limit) {
      out.truncated = true;
      break;
    }
    std::string context = render_context(hits[i].row);
    const auto tokens =
        static_cast<std::int64_t>(std::ceil(static_cast<double>(context.size()) / chars_per_token));
    if (req.token_budget && out.tokens + tokens > *req.token_budget) {
      out.truncated = true;
      if (out.cut_count++ < kCutKept) {
        if (out.cut_count > 1) out.cut += ',';
        out.cut += "{\"id\":" + json_quote(hits[i].row.id) +
                   ",\"version\":" + std::to_string(hits[i].row.version) +
                   ",\"score\":" + number(ranking.total[i]) +
                   ",\"tokens\":" + std::to_string(tokens) + "}";
      }
      continue;
    }
    out.tokens += tokens;
    const std::string scores =
        per_component(parts, [&](std::size_t p) { return ranking.component[p][i]; });
    if (!out.chosen.empty()) {
      out.items += ',';
      out.results += ',';
    }
    out.items += "{\"context\":" + context + ",\"score\":" + number(ranking.total[i]) +
                 ",\"scores\":" + scores + ",\"tokens\":" + std::to_string(tokens) + "}";
    out.results += "{\"id\":" + json_quote(hits[i].row.id) +
                   ",\"version\":" + std::to_string(hits[i].row.version) +
                   ",\"score\":" + number(ranking.total[i]) + ",\"scores\":" + scores +
                   ",\"tokens\":" + std::to_string(tokens) + "}";
    out.chosen.push_back(i);
  }
  out.items += "]";
  out.results += "]";
  out.cut += "]";
  return out;
}

// The selection log's `params`: the request, the words searched, the weights and the outcome.
std::string record_params(const SelectRequest& req, const Words& words,
                          const std::vector<std::string>& feedback, Fusion fusion,
                          const std::vector<Component>& parts, std::size_t candidates,
                          const Packed& packed, const std::string& semantic) {
  const std::string weights = per_component(parts, [&](std::size_t p) { return parts[p].weight; });
  return "{\"limit\":" + std::to_string(req.limit) + ",\"token_budget\":" +
         (req.token_budget ? std::to_string(*req.token_budget) : std::string("null")) +
         ",\"include_shared\":" + (req.include_shared ? "true" : "false") +
         ",\"filter\":{\"tags\":" + json_string_array(req.tags) +
         ",\"priority\":" + (req.priority ? json_quote(*req.priority) : std::string("null")) +
         "},\"words\":" + json_string_array(words.query) +
         ",\"translations\":" + json_string_array(words.expanded) +
         ",\"synonyms\":" + json_string_array(words.synonyms) +
         ",\"feedback\":" + json_string_array(feedback) + ",\"fusion\":\"" +
         (fusion == Fusion::rank ? "rank" : "weighted") + "\",\"weights\":" + weights +
         ",\"candidates\":" + std::to_string(candidates) +
         ",\"total_tokens\":" + std::to_string(packed.tokens) +
         ",\"truncated\":" + (packed.truncated ? "true" : "false") +
         ",\"cut_by_budget\":" + packed.cut +
         (semantic.empty() ? std::string() : ",\"semantic\":" + semantic) + "}";
}

}  // namespace

SelectionEngine::SelectionEngine(sdk::StorageSearch* storage,
                                 std::vector<std::pair<std::string, sdk::Selector*>> selectors,
                                 BilingualDictionary dictionary, Thesaurus thesaurus,
                                 const sdk::Clock& clock, SelectionSettings settings,
                                 SemanticSearch* semantic,
                                 std::unique_ptr<ApertiumLexicon> apertium)
    : storage_(storage),
      semantic_(semantic),
      selectors_(std::move(selectors)),
      dictionary_(std::move(dictionary)),
      apertium_(std::move(apertium)),
      thesaurus_(std::move(thesaurus)),
      clock_(clock),
      settings_(std::move(settings)) {}

std::vector<std::string> SelectionEngine::selector_names() const {
  std::vector<std::string> out;
  if (!settings_.hybrid.empty()) out.emplace_back("hybrid");
  for (const auto& [name, s] : selectors_) out.push_back(name);
  if (semantic_ != nullptr) out.emplace_back(kSemanticComponent);
  return out;
}

sdk::Status SelectionEngine::available() const {
  if (storage_ == nullptr) {
    return Error(Errc::unavailable,
                 "selection needs a storage plugin with full-text search (SDK ABI 1.1)");
  }
  return {};
}

sdk::Result<std::vector<Component>> SelectionEngine::components(const std::string& selector) const {
  std::vector<Component> parts;
  if (selector == "hybrid" && !settings_.hybrid.empty()) {
    for (const auto& [name, weight] : settings_.hybrid) {
      if (name == kSemanticComponent) parts.push_back({name, nullptr, weight});
      for (const auto& [n, s] : selectors_) {
        if (n == name) parts.push_back({n, s, weight});
      }
    }
  } else if (selector == kSemanticComponent && semantic_ != nullptr) {
    parts.push_back({selector, nullptr, 1.0});
  } else {
    for (const auto& [n, s] : selectors_) {
      if (n == selector) parts.push_back({n, s, 1.0});
    }
  }
  if (parts.empty()) {
    const auto names = selector_names();
    if (names.empty()) return Error(Errc::unavailable, "no selector is configured");
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return invalid_request("selector '" + selector + "' is not configured; configured: " + list);
  }
  return parts;
}

sdk::Result<SelectOutcome> SelectionEngine::select(std::string_view agent_id, std::string_view body,
                                                   std::size_t max_depth) {
  if (auto st = available(); !st) return st.error();
  auto req = parse_request(body, max_depth, settings_);
  if (!req) return req.error();
  auto parts = components(req->selector);
  if (!parts) return parts.error();
  const Words words =
      analyse(req->query, apertium_.get(), dictionary_, settings_.translations_per_word,
              req->translate, thesaurus_, settings_.synonyms_per_word, req->synonyms);
  if (words.query.empty()) return invalid_request("query has no words to search for");

  // The candidates: the storage's best by text, the expired ones left out.
  sdk::SearchQuery sq;
  sq.agent_id = std::string(agent_id);
  sq.include_shared = req->include_shared;
  sq.tags = req->tags;
  sq.priority = req->priority;
  sq.terms = words.query;
  sq.terms.insert(sq.terms.end(), words.expanded.begin(), words.expanded.end());
  sq.terms.insert(sq.terms.end(), words.synonyms.begin(), words.synonyms.end());
  sq.order = sdk::SearchOrder::relevance;
  sq.limit = std::max<std::int64_t>(settings_.candidates, req->limit);
  auto hits = storage_->search(sq);
  if (!hits) return hits.error();
  const bool capped = static_cast<std::int64_t>(hits->size()) >= sq.limit;
  // Feedback widens the pool for the components that rank by text or meaning; a request made
  // only of others (priority, recency) would rank the wider pool without a word of the query.
  const bool ranks_by_content = std::any_of(parts->begin(), parts->end(), [](const Component& c) {
    return c.name == "keyword" || c.name == kSemanticComponent;
  });
  std::vector<std::string> feedback;
  if (req->expand && ranks_by_content) {
    feedback = feedback_terms(*hits, sq.terms, settings_.feedback);
    if (!feedback.empty()) {
      sdk::SearchQuery expansion = sq;
      expansion.terms = feedback;
      auto more = storage_->search(expansion);
      if (!more) return more.error();
      interpolate(*hits, std::move(*more), settings_.feedback.weight);
    }
  }
  // The semantic component's neighbours join the candidates; without it, it leaves the ranking
  // (a request for it alone falls back to keyword) and the record says why.
  std::string semantic_record;
  const auto semantic_part = std::find_if(parts->begin(), parts->end(), [](const Component& c) {
    return c.name == kSemanticComponent && c.selector == nullptr;
  });
  SemanticStep semantic;
  if (semantic_part != parts->end()) {
    semantic = run_semantic(semantic_, req->query, sq, static_cast<std::size_t>(sq.limit), *hits);
    semantic_record = semantic.record;
    if (semantic.scores) {
      semantic_part->selector = semantic.scores.get();
    } else {
      parts->erase(semantic_part);
      if (parts->empty()) {
        for (const auto& [n, s] : selectors_) {
          if (n == "keyword") parts->push_back({n, s, 1.0});
        }
        if (parts->empty())
          return Error(Errc::unavailable, "semantic selection: " + semantic_record);
      }
    }
  }
  const std::int64_t now = clock_.now_us();
  std::erase_if(*hits, [&](const sdk::SearchHit& h) { return expired(h.row.metadata, now); });
  std::vector<sdk::Candidate> candidates;
  candidates.reserve(hits->size());
  for (const auto& h : *hits) {
    candidates.push_back(sdk::Candidate{h.row.id, h.row.context_data, h.row.metadata,
                                        h.row.updated_at_us, h.text_score});
  }

  auto ranking = rank(*parts, sdk::SelectQuery{req->query, now}, candidates,
                      req->fusion.value_or(settings_.fusion));
  if (!ranking) return ranking.error();
  const Packed packed = pack(*req, *parts, *ranking, *hits, settings_.chars_per_token, capped);

  sdk::SelectionRecord rec;
  rec.at_us = now;
  rec.agent_id = std::string(agent_id);
  rec.query = req->query;
  rec.selector = req->selector;
  rec.params = record_params(*req, words, feedback, req->fusion.value_or(settings_.fusion), *parts,
                             candidates.size(), packed, semantic_record);
  rec.results = packed.results;
  auto id = storage_->append_selection(rec);
  if (!id) return id.error();

  SelectOutcome out;
  out.selection_id = *id;
  out.items = packed.chosen.size();
  for (std::size_t i : packed.chosen) out.rows.push_back(std::move((*hits)[i].row));
  out.json = "{\"selection_id\":" + std::to_string(*id) +
             ",\"selector\":" + json_quote(req->selector) + ",\"query\":" + json_quote(req->query) +
             ",\"items\":" + packed.items + ",\"total_tokens\":" + std::to_string(packed.tokens) +
             ",\"truncated\":" + (packed.truncated ? "true" : "false") + "}";
  return out;
}

sdk::Result<std::optional<sdk::SelectionRecord>> SelectionEngine::record(std::int64_t id) {
  if (auto st = available(); !st) return st.error();
  return storage_->selection(id);
}

sdk::Result<std::vector<sdk::SelectionRecord>> SelectionEngine::records(std::string_view agent_id,
                                                                        std::int64_t before_id,
                                                                        std::int64_t limit) {
  if (auto st = available(); !st) return st.error();
  return storage_->selections(agent_id, before_id, limit);
}

std::string SelectionEngine::render_record(const sdk::SelectionRecord& r) {
  return "{\"id\":" + std::to_string(r.id) + ",\"at\":" + json_quote(format_rfc3339_ms(r.at_us)) +
         ",\"agent_id\":" + json_quote(r.agent_id) + ",\"query\":" + json_quote(r.query) +
         ",\"selector\":" + json_quote(r.selector) + ",\"params\":" + r.params +
         ",\"results\":" + r.results + "}";
}

}  // namespace ctxmgr::kernel
