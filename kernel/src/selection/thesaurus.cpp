#include "selection/thesaurus.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>

#include "selection/text_analysis.hpp"

namespace ctxmgr::kernel {

namespace {

using sdk::Errc;
using sdk::Error;

// ISO 8859-1 to UTF-8: each byte is its own code point.
std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80) {
      out += ch;
    } else {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }
  return out;
}

// A synonym worth searching: one word, no qualifier in parentheses.
bool one_plain_word(std::string_view s) {
  return !s.empty() && s.find_first_of(" ()") == std::string_view::npos;
}

}  // namespace

sdk::Status Thesaurus::load(const std::filesystem::path& dat) {
  std::ifstream in(dat, std::ios::binary);
  if (!in) return Error(Errc::invalid_request, "cannot read thesaurus " + dat.string());
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  bool latin1 = false;
  if (line == "ISO8859-1" || line == "ISO-8859-1") {
    latin1 = true;
  } else if (line != "UTF-8") {
    return Error(Errc::invalid_request,
                 dat.string() +
                     " is not a MyThes thesaurus: its first line names no encoding "
                     "(UTF-8 or ISO8859-1)");
  }
  std::size_t number = 1;
  auto refuse = [&](const std::string& what) {
    return Error(Errc::invalid_request,
                 dat.string() + " line " + std::to_string(number) + ": " + what);
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    // "word|senses", then one line per sense: "(pos)|synonym|synonym..."
    const auto bar = line.rfind('|');
    int senses = 0;
    if (bar == std::string::npos ||
        std::from_chars(line.data() + bar + 1, line.data() + line.size(), senses).ec !=
            std::errc() ||
        senses < 0) {
      return refuse("expected 'word|number of senses'");
    }
    const std::string word = latin1 ? latin1_to_utf8(line.substr(0, bar)) : line.substr(0, bar);
    std::vector<std::vector<std::string>> meanings;
    for (int i = 0; i < senses; ++i) {
      if (!std::getline(in, line)) return refuse("the file ends inside an entry");
      ++number;
      if (latin1) line = latin1_to_utf8(line);
      std::vector<std::string> sense;
      std::size_t at = line.find('|');  // after the part of speech
      while (at != std::string::npos) {
        const auto next = line.find('|', at + 1);
        std::string_view s(line.data() + at + 1,
                           (next == std::string::npos ? line.size() : next) - at - 1);
        if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
        if (one_plain_word(s) && fold_word(s) != fold_word(word)) sense.emplace_back(s);
        at = next;
      }
      if (!sense.empty()) meanings.push_back(std::move(sense));
    }
    if (!one_plain_word(word) || meanings.empty()) continue;
    auto& entry = entries_[fold_word(word)];
    for (auto& m : meanings) entry.push_back(std::move(m));
  }
  return {};
}

std::vector<std::string> Thesaurus::synonyms(std::string_view folded, std::size_t max) const {
  std::vector<std::string> out;
  const auto it = entries_.find(std::string(folded));
  if (it == entries_.end()) return out;
  std::vector<std::string> seen{std::string(folded)};
  for (std::size_t rank = 0; out.size() < max; ++rank) {
    bool more = false;
    for (const auto& sense : it->second) {
      if (rank >= sense.size()) continue;
      more = true;
      std::string f = fold_word(sense[rank]);
      if (std::find(seen.begin(), seen.end(), f) != seen.end()) continue;
      seen.push_back(std::move(f));
      out.push_back(sense[rank]);
      if (out.size() >= max) break;
    }
    if (!more) break;
  }
  return out;
}

}  // namespace ctxmgr::kernel
