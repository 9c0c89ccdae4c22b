#include "selection/apertium_lexicon.hpp"

#include <boost/dll/shared_library.hpp>

#include <chrono>
#include <fstream>
#include <system_error>

#include "log/logging.hpp"
#include "selection/apertium_abi.h"

namespace ctxmgr::kernel {

using sdk::Errc;
using sdk::Error;

sdk::Result<std::size_t> load_apertium_bidix(const std::filesystem::path& module,
                                             const std::filesystem::path& bin,
                                             BilingualDictionary& into) {
  // Loaded once and kept (never unloaded, not even at exit): unloading ICU and lttoolbox again
  // buys nothing once they were needed. A process uses one module: another path is refused
  // rather than answered by the module loaded first.
  static std::mutex mu;
  static auto& library = *new boost::dll::shared_library;
  ctxmgr_apertium_pairs_fn pairs = nullptr;
  {
    std::lock_guard lock(mu);
    if (!library.is_loaded()) {
      try {
        library.load(module.string(),
                     boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
      } catch (const std::exception& e) {
        return Error(Errc::unavailable, "Apertium dictionaries need " + module.string() +
                                            ", which cannot be loaded: " + e.what());
      }
    } else if (std::error_code ec; !std::filesystem::equivalent(library.location(), module, ec)) {
      return Error(Errc::unavailable, "Apertium dictionaries need " + module.string() +
                                          ", but this process already loaded " +
                                          library.location().string());
    }
    if (!library.has(CTXMGR_APERTIUM_PAIRS_SYMBOL)) {
      return Error(Errc::unavailable,
                   module.string() + " has no " + CTXMGR_APERTIUM_PAIRS_SYMBOL + " function");
    }
    pairs =
        library.get<std::remove_pointer_t<ctxmgr_apertium_pairs_fn>>(CTXMGR_APERTIUM_PAIRS_SYMBOL);
  }
  char error[512] = {};
  const long n = pairs(
      bin.c_str(),
      [](void* context, const char* from, const char* to) {
        static_cast<BilingualDictionary*>(context)->add(from, to);
      },
      &into, error, sizeof error);
  if (n < 0) return Error(Errc::invalid_request, error);
  return static_cast<std::size_t>(n);
}

sdk::Status check_apertium_bidix(const std::filesystem::path& bin) {
  std::ifstream file(bin, std::ios::binary);
  if (!file) return Error(Errc::invalid_request, bin.string() + ": cannot read");
  char magic[4] = {};
  file.read(magic, sizeof magic);
  if (file.gcount() != 4 || std::string_view(magic, 4) != "LTTB") {
    return Error(Errc::invalid_request,
                 bin.string() + ": not an lttoolbox transducer (no LTTB header)");
  }
  return {};
}

ApertiumLexicon::ApertiumLexicon(std::filesystem::path module,
                                 std::vector<std::filesystem::path> files)
    : module_(std::move(module)), files_(std::move(files)) {}

std::vector<std::string> ApertiumLexicon::translate(std::string_view folded,
                                                    std::size_t max) const {
  std::call_once(read_, [this] { read(); });
  return pairs_.translate(folded, max);
}

void ApertiumLexicon::read() const {
  for (const auto& f : files_) {
    const auto start = std::chrono::steady_clock::now();
    auto n = load_apertium_bidix(module_, f, pairs_);
    if (!n) {
      kernel_log().error("Apertium dictionary {} not read: {}", f.string(), n.error().message());
      continue;
    }
    kernel_log().info("Apertium dictionary {}: {} pairs read in {} ms", f.string(), *n,
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
}

}  // namespace ctxmgr::kernel
