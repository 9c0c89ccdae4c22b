#include "selection/bilingual_dictionary.hpp"

#include <zlib.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <sstream>

#include "selection/text_analysis.hpp"

namespace ctxmgr::kernel {

namespace {

using sdk::Errc;
using sdk::Error;

// dictd's index numbers: base 64, most significant digit first.
bool decode_b64_number(std::string_view s, std::uint64_t& out) {
  static constexpr std::string_view kDigits =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  out = 0;
  if (s.empty() || s.size() > 10) return false;
  for (char c : s) {
    const auto d = kDigits.find(c);
    if (d == std::string_view::npos) return false;
    out = out * 64 + d;
  }
  return true;
}

// The whole .dict.dz (a gzip file; dictzip only adds a random-access table to the header).
bool read_gzip(const std::filesystem::path& file, std::string& out) {
  struct Closer {
    void operator()(gzFile_s* f) const { gzclose(f); }
  };
  std::unique_ptr<gzFile_s, Closer> f(gzopen(file.c_str(), "rb"));
  if (!f) return false;
  char buf[65536];
  int n = 0;
  while ((n = gzread(f.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return n == 0;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// One-word translations in an entry's body, as written: lines after the headword line, each
// "x, y" or "N. x, y"; "to x" (an English infinitive) counts as x.
std::vector<std::string> translations_of(std::string_view body) {
  std::vector<std::string> out;
  const auto first_nl = body.find('\n');
  if (first_nl == std::string_view::npos) return out;
  body.remove_prefix(first_nl + 1);
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    line = trim(line);
    const auto dot = line.find(". ");
    if (dot != std::string_view::npos && dot <= 3 &&
        std::all_of(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(dot),
                    [](char c) { return c >= '0' && c <= '9'; })) {
      line.remove_prefix(dot + 2);
    }
    while (!line.empty()) {
      const auto sep = line.find_first_of(",;");
      std::string_view item = trim(line.substr(0, sep));
      line = sep == std::string_view::npos ? std::string_view{} : line.substr(sep + 1);
      if (item.starts_with("to ")) item.remove_prefix(3);
      const auto words = split_words(item);
      if (words.size() != 1 || words[0].size() != item.size()) continue;
      if (is_stop_word(fold_word(words[0]))) continue;
      if (std::find(out.begin(), out.end(), words[0]) == out.end()) out.push_back(words[0]);
    }
  }
  return out;
}

}  // namespace

sdk::Status BilingualDictionary::load(const std::filesystem::path& base) {
  const auto index_file = std::filesystem::path(base.string() + ".index");
  const auto dict_file = std::filesystem::path(base.string() + ".dict.dz");
  std::ifstream index(index_file);
  if (!index) return Error(Errc::invalid_request, index_file.string() + ": cannot read");
  std::string dict;
  if (!read_gzip(dict_file, dict)) {
    return Error(Errc::invalid_request, dict_file.string() + ": cannot read (expected gzip)");
  }
  std::string line;
  std::size_t lineno = 0;
  while (std::getline(index, line)) {
    ++lineno;
    const auto t1 = line.find('\t');
    const auto t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    std::uint64_t offset = 0, length = 0;
    if (t2 == std::string::npos ||
        !decode_b64_number(std::string_view(line).substr(t1 + 1, t2 - t1 - 1), offset) ||
        !decode_b64_number(std::string_view(line).substr(t2 + 1), length) ||
        offset + length > dict.size()) {
      return Error(Errc::invalid_request,
                   index_file.string() + ":" + std::to_string(lineno) + ": malformed entry");
    }
    const std::string_view head(line.data(), t1);
    if (head.starts_with("00database") || head.starts_with("00-database")) continue;
    const auto words = split_words(head);
    if (words.size() != 1) continue;
    auto found = translations_of(std::string_view(dict).substr(offset, length));
    if (found.empty()) continue;
    const std::string head_word = fold_word(words[0]);
    if (is_stop_word(head_word)) continue;
    for (const auto& w : found) {
      add_once(entries_[head_word], w);
      // Read backwards too: eng-spa's "invoice: cuenta" also says what "cuenta" is in English.
      add_once(reverse_[fold_word(w)], words[0]);
    }
  }
  return {};
}

void BilingualDictionary::add(std::string_view from, std::string_view to) {
  const auto from_words = split_words(from);
  const auto to_words = split_words(to);
  if (from_words.size() != 1 || from_words[0].size() != from.size() || to_words.size() != 1 ||
      to_words[0].size() != to.size()) {
    return;
  }
  const std::string from_folded = fold_word(from);
  const std::string to_folded = fold_word(to);
  if (from_folded == to_folded || is_stop_word(from_folded) || is_stop_word(to_folded)) return;
  add_once(entries_[from_folded], std::string(to));
  add_once(reverse_[to_folded], std::string(from));
}

void BilingualDictionary::add_once(std::vector<std::string>& slot, const std::string& word) {
  if (std::find(slot.begin(), slot.end(), word) == slot.end()) slot.push_back(word);
}

std::vector<std::string> BilingualDictionary::translate(std::string_view folded,
                                                        std::size_t max) const {
  // The word, then what it may be without an inflection, while what is left is a word (three
  // letters at least).
  std::vector<std::string> forms{std::string(folded)};
  auto strip = [&](std::string_view ending, std::string_view replacement) {
    if (folded.size() >= ending.size() + 3 && folded.ends_with(ending)) {
      forms.push_back(std::string(folded.substr(0, folded.size() - ending.size())) +
                      std::string(replacement));
    }
  };
  strip("es", "");
  strip("s", "");
  strip("ing", "");
  strip("ing", "e");
  strip("ed", "");
  strip("ed", "e");
  std::vector<std::string> out;
  for (const auto* map : {&entries_, &reverse_}) {
    auto it = map->end();
    for (const auto& form : forms) {
      it = map->find(form);
      if (it != map->end()) break;
    }
    if (it == map->end()) continue;
    for (const auto& w : it->second) {
      if (out.size() >= max) return out;
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
    }
  }
  return out;
}

}  // namespace ctxmgr::kernel
