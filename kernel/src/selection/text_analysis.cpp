#include "selection/text_analysis.hpp"

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include <algorithm>
#include <cstdlib>
#include <iterator>
#include <memory>

namespace ctxmgr::kernel {

namespace {

const uint8_t* bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

// Folded. Short lists on purpose: only words that carry no topic in either language.
constexpr std::string_view kStopWords[] = {
    "a",    "about", "al",    "algo", "an",    "and",   "ante",  "are",     "as",    "at",
    "be",   "been",  "but",   "by",   "can",   "como",  "con",   "contra",  "cual",  "cuando",
    "de",   "del",   "desde", "did",  "do",    "does",  "donde", "durante", "e",     "el",
    "ella", "ellas", "ellos", "en",   "entre", "era",   "es",    "esa",     "ese",   "eso",
    "esta", "estan", "este",  "esto", "for",   "from",  "fue",   "ha",      "had",   "han",
    "has",  "hasta", "have",  "hay",  "he",    "her",   "his",   "how",     "i",     "if",
    "in",   "into",  "is",    "it",   "its",   "la",    "las",   "le",      "les",   "lo",
    "los",  "mas",   "me",    "mi",   "mis",   "muy",   "my",    "ni",      "no",    "nos",
    "not",  "o",     "of",    "on",   "or",    "os",    "otra",  "otro",    "our",   "para",
    "pero", "por",   "que",   "se",   "sea",   "ser",   "she",   "si",      "sin",   "sobre",
    "son",  "su",    "sus",   "that", "the",   "their", "them",  "then",    "there", "these",
    "they", "this",  "those", "to",   "tu",    "tus",   "u",     "un",      "una",   "unas",
    "uno",  "unos",  "us",    "was",  "we",    "were",  "what",  "when",    "where", "which",
    "who",  "why",   "will",  "with", "y",     "ya",    "yo",    "you",     "your"};

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  std::size_t start = std::string_view::npos;
  while (i < text.size()) {
    ucs4_t c = 0;
    const int n = u8_mbtouc(&c, bytes(text.substr(i)), text.size() - i);
    const bool part = uc_is_alnum(c) || uc_is_general_category(c, UC_CATEGORY_M);
    if (part && start == std::string_view::npos) start = i;
    if (!part && start != std::string_view::npos) {
      out.emplace_back(text.substr(start, i - start));
      start = std::string_view::npos;
    }
    i += static_cast<std::size_t>(n > 0 ? n : 1);
  }
  if (start != std::string_view::npos) out.emplace_back(text.substr(start));
  return out;
}

std::string fold_word(std::string_view word) {
  if (u8_check(bytes(word), word.size()) != nullptr) return std::string(word);
  std::size_t len = 0;
  std::unique_ptr<uint8_t, FreeDeleter> folded(
      u8_casefold(bytes(word), word.size(), nullptr, UNINORM_NFD, nullptr, &len));
  if (!folded) return std::string(word);
  std::string out;
  out.reserve(len);
  std::size_t i = 0;
  while (i < len) {
    ucs4_t c = 0;
    const int n = u8_mbtouc(&c, folded.get() + i, len - i);
    const std::size_t step = static_cast<std::size_t>(n > 0 ? n : 1);
    if (!uc_is_general_category(c, UC_CATEGORY_Mn)) {
      out.append(reinterpret_cast<const char*>(folded.get() + i), step);
    }
    i += step;
  }
  return out;
}

bool is_stop_word(std::string_view folded) {
  return std::find(std::begin(kStopWords), std::end(kStopWords), folded) != std::end(kStopWords);
}

}  // namespace ctxmgr::kernel
