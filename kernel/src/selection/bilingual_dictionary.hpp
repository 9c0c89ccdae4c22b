#pragma once
// Word translations from FreeDict dictionaries in dictd format (Debian's dict-freedict-spa-eng
// and dict-freedict-eng-spa: NAME.index + NAME.dict.dz), for expanding a query into the other
// language. Only one-word translations are kept: a phrase's words alone would add noise.

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

class BilingualDictionary {
 public:
  // Adds the entries of one dictionary; `base` is the path without .index / .dict.dz.
  sdk::Status load(const std::filesystem::path& base);
  // Adds one pair of one-word translations, `from` in one language and `to` in the other, as
  // written; read both ways like a dictd entry. How other lexicons join (apertium_lexicon.hpp).
  // A pair whose either side is a stop word or not one word is left out.
  void add(std::string_view from, std::string_view to);

  // Translations of a folded word (see fold_word), as the dictionary writes them (accents kept:
  // stemmers need them), at most `max`: its entry's first, then
  // the headwords whose entries translate to it, in the order the lexicons were loaded. A word
  // not found is also tried without a plural ending (-es, -s) and, as English, without -ing
  // (budgeting: budget, optimizing: optimize) or -ed (trained: train, invoiced: invoice).
  std::vector<std::string> translate(std::string_view folded, std::size_t max) const;

  std::size_t size() const { return entries_.size(); }

 private:
  static void add_once(std::vector<std::string>& slot, const std::string& word);

  std::unordered_map<std::string, std::vector<std::string>> entries_;  // headword -> translations
  std::unordered_map<std::string, std::vector<std::string>> reverse_;  // translation -> headwords
};

}  // namespace ctxmgr::kernel
