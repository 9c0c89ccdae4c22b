#include "cli/selection_setup.hpp"

#include <algorithm>

#include "cli/bootstrap.hpp"
#include "log/logging.hpp"
#include "selection/apertium_lexicon.hpp"
#include "selection/semantic_component.hpp"

namespace ctxmgr::kernel {

namespace {

// Debian's FreeDict dictionaries (dict-freedict-spa-eng, dict-freedict-eng-spa).
const char* const kDefaultDictionaries[] = {"/usr/share/dictd/freedict-spa-eng",
                                            "/usr/share/dictd/freedict-eng-spa"};
// Debian's Apertium Spanish-English dictionary (apertium-eng-spa), compiled Spanish to English
// (its pairs are read both ways).
const char* const kDefaultApertium[] = {"/usr/share/apertium/apertium-eng-spa/spa-eng.autobil.bin"};
// Debian's MyThes thesauri (mythes-es, mythes-en-us: the English one made from WordNet).
const char* const kDefaultThesauri[] = {"/usr/share/mythes/th_es_ES_v2.dat",
                                        "/usr/share/mythes/th_en_US_v2.dat"};
// hybrid without `selection.hybrid`: relevance first, then priority, then freshness; meaning
// beside words when an embedder is configured (docs/semantic.md).
const std::pair<const char*, double> kDefaultWeights[] = {
    {"keyword", 0.7}, {"priority", 0.2}, {"recency", 0.1}, {kSemanticComponent, 0.5}};

}  // namespace

sdk::Result<std::unique_ptr<SelectionEngine>> build_selection(const Config& config,
                                                              const YamlSource& source,
                                                              const Registry& registry,
                                                              const sdk::Clock& clock,
                                                              SemanticSearch* semantic) {
  const SelectionConfig& sc = config.selection;
  auto selectors = registry.of_kind<sdk::Selector>(sdk::Kind::selector);
  // `semantic` is the kernel's own component: a weight for it is kept without an embedder too
  // (the record then says it was skipped), so one config serves both.
  auto known = [&](const std::string& name) {
    return name == kSemanticComponent ||
           std::any_of(selectors.begin(), selectors.end(),
                       [&](const auto& s) { return s.first == name; });
  };
  SelectionSettings settings;
  settings.default_selector = sc.default_selector;
  settings.candidates = sc.candidates;
  settings.chars_per_token = sc.chars_per_token;
  settings.translations_per_word = static_cast<std::size_t>(sc.translations_per_word);
  settings.synonyms = sc.thesaurus_enabled;
  settings.synonyms_per_word = static_cast<std::size_t>(sc.thesaurus_per_word);
  settings.feedback =
      FeedbackSettings{sc.feedback_enabled, static_cast<std::size_t>(sc.feedback_docs),
                       static_cast<std::size_t>(sc.feedback_terms),
                       static_cast<std::size_t>(sc.feedback_min_docs), sc.feedback_weight};
  if (sc.hybrid) {
    for (const auto& [name, weight] : *sc.hybrid) {
      if (!known(name)) {
        return source.error(sc.node["hybrid"], "selection.hybrid." + name,
                            "no selector instance named '" + name + "' is configured");
      }
      settings.hybrid.emplace_back(name, weight);
    }
  } else {
    for (const auto& [name, weight] : kDefaultWeights) {
      const bool semantic_part = std::string_view(name) == kSemanticComponent;
      if (semantic_part ? semantic != nullptr : known(name)) {
        settings.hybrid.emplace_back(name, weight);
      }
    }
  }
  if (settings.default_selector != "hybrid" && settings.default_selector != kSemanticComponent &&
      !known(settings.default_selector)) {
    return source.error(
        sc.node["default"], "selection.default",
        "no selector instance named '" + settings.default_selector + "' is configured");
  }
  // Apertium's dictionaries are read on the first selection that translates (hundreds of ms);
  // here only checked, so that a configured one that cannot be read stops start-up.
  std::vector<std::filesystem::path> apertium_files;
  if (sc.apertium) {
    for (const auto& a : *sc.apertium) {
      if (auto st = check_apertium_bidix(a); !st) {
        return source.error(sc.node["apertium"], "selection.apertium", st.error().message());
      }
      apertium_files.push_back(a);
    }
  } else {
    for (const char* a : kDefaultApertium) {
      if (!std::filesystem::exists(a)) continue;
      if (auto st = check_apertium_bidix(a); !st) {
        kernel_log().warn("Apertium dictionary {} skipped: {}", a, st.error().message());
      } else {
        apertium_files.emplace_back(a);
      }
    }
  }
  BilingualDictionary dictionary;
  if (sc.dictionaries) {
    for (const auto& d : *sc.dictionaries) {
      if (auto st = dictionary.load(d); !st) {
        return source.error(sc.node["dictionaries"], "selection.dictionaries",
                            st.error().message());
      }
    }
  } else {
    for (const char* d : kDefaultDictionaries) {
      if (std::filesystem::exists(std::string(d) + ".index")) {
        if (auto st = dictionary.load(d); !st) {
          kernel_log().warn("dictionary {} skipped: {}", d, st.error().message());
        }
      }
    }
  }
  // Thesauri are loaded only when wanted (the English one is 18 MB of text).
  Thesaurus thesaurus;
  if (sc.thesaurus_files) {
    for (const auto& t : *sc.thesaurus_files) {
      if (auto st = thesaurus.load(t); !st) {
        return source.error(sc.node["thesaurus"]["files"], "selection.thesaurus.files",
                            st.error().message());
      }
    }
  } else if (sc.thesaurus_enabled) {
    for (const char* t : kDefaultThesauri) {
      if (!std::filesystem::exists(t)) {
        kernel_log().warn("thesaurus {} not installed: no synonyms from it", t);
      } else if (auto st = thesaurus.load(t); !st) {
        kernel_log().warn("thesaurus {} skipped: {}", t, st.error().message());
      }
    }
  }
  auto* storage = registry.storage_search();
  if (storage == nullptr) {
    kernel_log().warn(
        "the storage plugin has no full-text search (SDK ABI 1.1): selection "
        "answers 503");
  }
  kernel_log().info(
      "selection: {} selector(s), hybrid of {}, {} dictionary words, {} Apertium "
      "dictionaries (read on first use), {} thesaurus words",
      selectors.size(), settings.hybrid.size(), dictionary.size(), apertium_files.size(),
      thesaurus.size());
  // The module that reads them sits beside the plugin folder (<prefix>/lib/ctxmgr/).
  auto apertium = apertium_files.empty()
                      ? nullptr
                      : std::make_unique<ApertiumLexicon>(
                            executable_dir() / ".." / "lib" / "ctxmgr" / "ctxmgr-apertium.so",
                            std::move(apertium_files));
  return std::make_unique<SelectionEngine>(storage, std::move(selectors), std::move(dictionary),
                                           std::move(thesaurus), clock, std::move(settings),
                                           semantic, std::move(apertium));
}

}  // namespace ctxmgr::kernel
