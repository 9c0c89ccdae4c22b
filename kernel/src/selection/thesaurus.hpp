#pragma once
// Synonyms from MyThes thesauri (Debian's mythes-es and mythes-en-us, the English one made from
// WordNet: /usr/share/mythes/th_*_v2.dat), for expanding a query within its own language
// (docs/selection.md: Synonyms). Only one-word synonyms without a qualifier are kept: "(generic
// term)", "(antonym)" and the like are other relations, and a phrase's words alone add noise.
//
// Thread-safety: load() before use; then const methods from any thread.

#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ctxmgr/sdk/error.hpp"

namespace ctxmgr::kernel {

class Thesaurus {
 public:
  // Adds the entries of one .dat file (its first line names its encoding: UTF-8 or ISO8859-1).
  // Refused, with the line, when the file cannot be read or is not in MyThes's format.
  sdk::Status load(const std::filesystem::path& dat);

  // Synonyms of a folded word (see fold_word), as the thesaurus writes them, at most `max`: the
  // first of each sense, then the second of each, and so on (senses are in no order of use).
  std::vector<std::string> synonyms(std::string_view folded, std::size_t max) const;

  std::size_t size() const { return entries_.size(); }

 private:
  // folded headword -> its senses' one-word synonyms, each sense in the file's order
  std::unordered_map<std::string, std::vector<std::vector<std::string>>> entries_;
};

}  // namespace ctxmgr::kernel
