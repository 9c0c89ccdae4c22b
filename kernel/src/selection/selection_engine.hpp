#pragma once
// Selection (API.md "Selection"): the contexts an agent may read, ranked for a query by the
// configured selector plugins, cut to `limit` and packed into a token budget, and recorded in the
// algorithm engine's log (selection_log) so an operator can see why an agent got what it got.
//
//   1. The query's words (split_words); stop words are dropped unless nothing else is left;
//      each word's one-word translations from the bilingual dictionaries are added.
//   2. The storage proposes candidates: the agent's view (own, and shared with include_shared),
//      filtered by tags and priority, matching any of the words, best BM25 first, at most
//      `candidates`. With feedback (feedback.hpp) the best words of the first hits make a second
//      search whose scores are interpolated with the first's. Expired contexts
//      (metadata.expires_at in the past) are dropped here.
//      With the `semantic` component (semantic_component.hpp), the query's nearest contexts in
//      the same view are added, and every candidate gets its similarity to the query.
//   3. Each selector of the request scores every candidate; scores are divided by the best one
//      (each component in [0, 1]) and `hybrid` sums them with its configured weights.
//   4. Best first; an item whose tokens do not fit the remaining budget is skipped (never cut),
//      and at most `limit` items are returned.
// Tokens are estimated as ceil(bytes of the item's context JSON / chars_per_token).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctxmgr/sdk/host.hpp"
#include "ctxmgr/sdk/selector.hpp"
#include "ctxmgr/sdk/storage_search.hpp"
#include "embedding/semantic_search.hpp"
#include "selection/apertium_lexicon.hpp"
#include "selection/bilingual_dictionary.hpp"
#include "selection/feedback.hpp"
#include "selection/thesaurus.hpp"

namespace ctxmgr::kernel {

// How hybrid combines its components: the weighted mean of their scores (each divided by its
// best), or reciprocal rank fusion (weight / (60 + rank)).
enum class Fusion { weighted, rank };

struct SelectionSettings {
  std::string default_selector = "hybrid";
  // hybrid's components: selector instance name and weight.
  std::vector<std::pair<std::string, double>> hybrid;
  std::int64_t candidates = 100;  // how many the storage proposes at most
  double chars_per_token = 4.0;   // the token estimator
  std::size_t translations_per_word = 2;
  bool synonyms = false;  // requests ask for the thesauri's synonyms unless they say
  std::size_t synonyms_per_word = 2;
  FeedbackSettings feedback;  // pseudo-relevance feedback (feedback.hpp)
  Fusion fusion = Fusion::weighted;
};

struct SelectOutcome {
  std::string json;  // the answer body
  std::int64_t selection_id = 0;
  std::size_t items = 0;
  std::vector<sdk::ContextRow> rows;  // the items' contexts, best first
};

// One selector of a request, with its weight (1 alone; hybrid's configured weights). The
// `semantic` component has no plugin: its selector is set per request.
struct SelectionComponent {
  std::string name;
  sdk::Selector* selector;
  double weight;
};

class SelectionEngine {
 public:
  // `storage` may be null (a storage without the search capability): selection is then 503.
  // `semantic` may be null (no embedder): the `semantic` component is then skipped.
  // `apertium` may be null (no Apertium dictionary): translations come from `dictionary` alone.
  SelectionEngine(sdk::StorageSearch* storage,
                  std::vector<std::pair<std::string, sdk::Selector*>> selectors,
                  BilingualDictionary dictionary, Thesaurus thesaurus, const sdk::Clock& clock,
                  SelectionSettings settings, SemanticSearch* semantic = nullptr,
                  std::unique_ptr<ApertiumLexicon> apertium = nullptr);

  // Runs a selection over `agent_id`'s view for a request body of API.md.
  sdk::Result<SelectOutcome> select(std::string_view agent_id, std::string_view body,
                                    std::size_t max_depth);

  // A record of the log as JSON, and a page of one agent's records (newest first).
  sdk::Result<std::optional<sdk::SelectionRecord>> record(std::int64_t id);
  sdk::Result<std::vector<sdk::SelectionRecord>> records(std::string_view agent_id,
                                                         std::int64_t before_id,
                                                         std::int64_t limit);
  static std::string render_record(const sdk::SelectionRecord& r);

  const SelectionSettings& settings() const { return settings_; }
  std::vector<std::string> selector_names() const;

 private:
  sdk::Status available() const;
  // The selectors a request's `selector` names: hybrid's weighted list, or one alone.
  sdk::Result<std::vector<SelectionComponent>> components(const std::string& selector) const;

  sdk::StorageSearch* storage_;
  SemanticSearch* semantic_;
  std::vector<std::pair<std::string, sdk::Selector*>> selectors_;
  BilingualDictionary dictionary_;
  std::unique_ptr<ApertiumLexicon> apertium_;
  Thesaurus thesaurus_;
  const sdk::Clock& clock_;
  SelectionSettings settings_;
};

}  // namespace ctxmgr::kernel
