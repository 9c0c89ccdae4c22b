#include "memory/memory_path.hpp"

namespace ctxmgr::kernel::memory {

PathCheck check_path(std::string_view text, bool allow_folder_slash) {
  PathCheck out;
  auto refuse = [&](std::string why) {
    out.error = std::move(why);
    return out;
  };
  const std::string shown(text.substr(0, 200));
  if (text.substr(0, kRoot.size()) != kRoot ||
      (text.size() > kRoot.size() && text[kRoot.size()] != '/')) {
    return refuse("Path must start with /memories, got: " + shown);
  }
  if (text.size() > kMaxPathBytes) {
    return refuse("Path is longer than " + std::to_string(kMaxPathBytes) + " bytes: " + shown);
  }
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return refuse("Path must not contain control characters");
    if (c == '\\') return refuse("Path must not contain a backslash: " + shown);
    if (c == '%') return refuse("Path must not contain '%' (no percent-encoding): " + shown);
  }
  std::string_view rest = text.substr(kRoot.size());
  if (allow_folder_slash && rest.size() > 1 && rest.back() == '/') rest.remove_suffix(1);
  if (rest == "/" && allow_folder_slash) rest = {};
  out.path.text = std::string(kRoot);
  out.path.root = rest.empty();
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the '/'
    const auto end = rest.find('/');
    const std::string_view segment = rest.substr(0, end);
    if (segment.empty()) return refuse("Path has an empty segment: " + shown);
    if (segment == "." || segment == "..") {
      return refuse("Path " + shown + " would escape /memories directory");
    }
    if (segment.size() > kMaxSegmentBytes) {
      return refuse("Path has a name longer than " + std::to_string(kMaxSegmentBytes) +
                    " bytes: " + shown);
    }
    out.path.text += '/';
    out.path.text += segment;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  return out;
}

std::string folder_prefix(const MemoryPath& folder) { return folder.text + "/"; }

}  // namespace ctxmgr::kernel::memory
