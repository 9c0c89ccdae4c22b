// JSON Merge Patch (RFC 7396) on two fuzzed documents: input = target, a NUL byte, patch. Checks
// the RFC's own property that a merge patch is idempotent: applying it twice is applying it once.
#include <cstring>

#include <boost/json/value.hpp>

#include "json/json_text.hpp"
#include "json/merge_patch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ctxmgr::kernel;
  const char* begin = reinterpret_cast<const char*>(data);
  const char* nul = static_cast<const char*>(std::memchr(begin, '\0', size));
  if (nul == nullptr) return 0;
  auto target = parse_json(std::string_view(begin, nul - begin), 64);
  auto patch = parse_json(std::string_view(nul + 1, size - (nul + 1 - begin)), 64);
  if (!target || !patch) return 0;
  boost::json::value once = *target;
  merge_patch(once, *patch);
  boost::json::value twice = once;
  merge_patch(twice, *patch);
  if (to_json(once) != to_json(twice)) __builtin_trap();
  // What the kernel writes is JSON it reads back.
  if (!parse_json(to_json(once), 128)) __builtin_trap();
  return 0;
}
