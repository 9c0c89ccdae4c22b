// The providers' Server-Sent Events parser, fed the stream in pieces of fuzzed sizes (as a network
// delivers it): the first byte of the input chooses the piece size.
#include <algorithm>

#include "sse_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t piece = 1 + data[0] % 64;
  ctxmgr::provider::SseParser parser([](std::string_view, std::string_view) { return true; });
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    if (!parser.feed(stream.substr(at, std::min(piece, stream.size() - at)))) break;
  }
  return 0;
}
