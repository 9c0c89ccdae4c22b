#pragma once
// One-word translations from an Apertium bilingual dictionary as Debian ships it compiled
// (apertium-eng-spa: /usr/share/apertium/apertium-eng-spa/spa-eng.autobil.bin; docs/selection.md:
// Across languages). Its Spanish-English dictionary holds about 30 000 lemma pairs, technical
// words among them (despliegue: deployment, privacidad: privacy, hito: milestone), where FreeDict's
// has about 5 000.
//
// The module ctxmgr-apertium.so (kernel/apertium/, selection/apertium_abi.h) reads the file with
// lttoolbox, Apertium's own finite-state library, and hands over its lemma pairs; they go into a
// BilingualDictionary (a few MB) and the transducer (~35 MB while read) is freed. Reading takes
// about half a second, so a server reads its dictionaries on its first selection that
// translates, not at start (ApertiumLexicon).

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "ctxmgr/sdk/error.hpp"
#include "selection/bilingual_dictionary.hpp"

namespace ctxmgr::kernel {

// Adds the lemma pairs of a compiled bilingual transducer (an lttoolbox .bin file) to `into`,
// through the module at `module`: the number added. Refused, with the file, when the module
// cannot be loaded or the file cannot be read or is not such a transducer.
// Thread-safety: call before `into` is shared.
sdk::Result<std::size_t> load_apertium_bidix(const std::filesystem::path& module,
                                             const std::filesystem::path& bin,
                                             BilingualDictionary& into);

// What start-up checks of a file it will read later: that it can be opened and begins as
// lttoolbox's files do ("LTTB"). Refused, with the file, otherwise.
sdk::Status check_apertium_bidix(const std::filesystem::path& bin);

// The pairs of some bilingual transducers, read on first use.
// Thread-safety: translate() from any thread; the first call reads the files while later
// callers wait for it; then it only reads.
class ApertiumLexicon {
 public:
  ApertiumLexicon(std::filesystem::path module, std::vector<std::filesystem::path> files);
  // As BilingualDictionary::translate. A file that cannot be read then is logged once (as an
  // error) and left out; the others still serve.
  std::vector<std::string> translate(std::string_view folded, std::size_t max) const;

 private:
  void read() const;

  std::filesystem::path module_;
  std::vector<std::filesystem::path> files_;
  mutable std::once_flag read_;
  mutable BilingualDictionary pairs_;
};

}  // namespace ctxmgr::kernel
