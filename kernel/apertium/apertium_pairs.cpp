// ctxmgr-apertium.so: the lemma pairs of a compiled Apertium bilingual dictionary, read with
// lttoolbox (selection/apertium_abi.h says why this is a module of its own).
//
// The transducer maps a lemma and its tags to the other language's (respaldo<n> : backrest<n>);
// its paths are walked once and each side's lemma, up to its first tag, makes a pair. Its number
// and regular-expression sections (any digits, any letters) are skipped, and so is a path with
// a digit or a sign in a lemma.

#include <lttoolbox/alphabet.h>
#include <lttoolbox/file_utils.h>
#include <lttoolbox/transducer.h>
#include <malloc.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "selection/apertium_abi.h"

namespace {

// A lemma is at most this long; longer paths are regular expressions, not words.
constexpr int kMaxLemma = 64;
// Transitions followed at most: Debian's spa-eng takes ~230 000; a file that needs far more is
// not a dictionary of words.
constexpr long kMaxSteps = 20'000'000;

std::string to_utf8(const UString& s) {
  std::string out;
  icu::UnicodeString(s.data(), static_cast<int32_t>(s.size())).toUTF8String(out);
  return out;
}

// Letters (of the basic plane), and what joins the words of a lemma ("e-mail", "copia# de");
// a digit or another sign makes a path part of a number or a pattern.
bool lemma_char(int32_t c) {
  return (c <= 0xFFFF && u_isalpha(c)) || c == '-' || c == ' ' || c == '#';
}

// One path being walked: where it is, and each side's lemma until that side's first tag.
struct Walk {
  int state;
  UString from, to;
  bool from_done = false, to_done = false;
  int depth = 0;
};

long walk(const char* path, ctxmgr_apertium_pair_fn pair, void* context, std::string& error) {
  struct Closer {
    void operator()(FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<FILE, Closer> file(std::fopen(path, "rb"));
  if (!file) {
    error = std::string(path) + ": cannot read";
    return -1;
  }
  std::set<UChar32> letters;
  Alphabet alphabet;
  std::map<UString, Transducer> sections;
  try {
    readTransducerSet(file.get(), letters, alphabet, sections);
  } catch (const std::exception& e) {
    error = std::string(path) + ": not an lttoolbox transducer (" + e.what() + ")";
    return -1;
  }
  long pairs = 0;
  long steps = 0;
  bool has_main = false;
  for (auto& [name, transducer] : sections) {
    // "main@standard" holds the entries; "regexp..." sections are patterns.
    if (name.rfind(u"main", 0) != 0) continue;
    has_main = true;
    auto& transitions = transducer.getTransitions();
    std::vector<Walk> stack{{transducer.getInitial(), {}, {}}};
    while (!stack.empty()) {
      Walk w = std::move(stack.back());
      stack.pop_back();
      if (++steps > kMaxSteps) {
        error = std::string(path) + ": too many paths for a dictionary of words";
        return -1;
      }
      if (w.from_done && w.to_done) {
        if (!w.from.empty() && !w.to.empty()) {
          pair(context, to_utf8(w.from).c_str(), to_utf8(w.to).c_str());
          ++pairs;
        }
        continue;
      }
      if (w.depth >= kMaxLemma) continue;
      const auto it = transitions.find(w.state);
      if (it == transitions.end()) continue;
      for (const auto& [label, target] : it->second) {
        // A label is a pair of symbols: a code point, 0 (nothing) or a tag (negative).
        const auto [in, out] = alphabet.decode(label);
        if ((in > 0 && !lemma_char(in)) || (out > 0 && !lemma_char(out))) continue;
        Walk next{target.first, w.from, w.to, w.from_done, w.to_done, w.depth + 1};
        if (in < 0) next.from_done = true;
        if (in > 0 && !next.from_done) next.from.push_back(static_cast<UChar>(in));
        if (out < 0) next.to_done = true;
        if (out > 0 && !next.to_done) next.to.push_back(static_cast<UChar>(out));
        stack.push_back(std::move(next));
      }
    }
  }
  if (!has_main) {
    error = std::string(path) + ": not an lttoolbox transducer with a main section";
    return -1;
  }
  return pairs;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) long ctxmgr_apertium_pairs(
    const char* path, ctxmgr_apertium_pair_fn pair, void* context, char* error, size_t error_size) {
  std::string message;
  long n = -1;
  try {
    n = walk(path, pair, context, message);
  } catch (const std::exception& e) {
    message = std::string(path) + ": " + e.what();
  } catch (...) {
    message = std::string(path) + ": unknown error";
  }
  // The transducer's ~35 MB were freed in small blocks: give the pages back, or the process would
  // keep them for good.
  malloc_trim(0);
  if (n < 0 && error != nullptr && error_size > 0) {
    std::snprintf(error, error_size, "%s", message.c_str());
  }
  return n;
}

static_assert(std::is_same_v<decltype(&ctxmgr_apertium_pairs), ctxmgr_apertium_pairs_fn>,
              "ctxmgr_apertium_pairs must keep the signature of selection/apertium_abi.h");
