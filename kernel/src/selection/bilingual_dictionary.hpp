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

  // Translations of a folded word (see fold_word), as the dictionary writes them (accents kept:
  // stemmers need them), at most `max`: its entry's first, then
  // the headwords whose entries translate to it. A word not found is also tried without a plural
  // ending (-s, -es).
  std::vector<std::string> translate(std::string_view folded, std::size_t max) const;

  std::size_t size() const { return entries_.size(); }

 private:
  std::unordered_map<std::string, std::vector<std::string>> entries_;  // headword -> translations
  std::unordered_map<std::string, std::vector<std::string>> reverse_;  // translation -> headwords
};

}  // namespace ctxmgr::kernel
