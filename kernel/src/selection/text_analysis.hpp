#pragma once
// The kernel's view of a query's words: split, folded (lower case, no accents) and stripped of
// function words. The storage analyses the words again its own way (stems); the kernel needs
// them to drop stop words and to look them up in the bilingual dictionaries.

#include <string>
#include <string_view>
#include <vector>

namespace ctxmgr::kernel {

// The words of `text`: runs of letters and digits (Unicode), as written.
std::vector<std::string> split_words(std::string_view text);

// Lower case and without accents (Unicode case folding, then canonical decomposition without the
// combining marks): "Facturación" -> "facturacion". Invalid UTF-8 comes back unchanged.
std::string fold_word(std::string_view word);

// Whether a folded word is a Spanish or English function word ("de", "la", "the", "of", ...),
// which matches nearly every context and so says nothing about relevance.
bool is_stop_word(std::string_view folded);

}  // namespace ctxmgr::kernel
