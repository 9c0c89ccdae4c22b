#pragma once
// Paths of memory files (docs/memory-tool.md): "/memories" and below, as Claude's memory tool
// names them. A path is checked before anything is looked up, so no request can reach outside an
// agent's /memories whatever it spells: no "." or ".." segment, no empty segment ("//", a
// trailing "/" on a file), no percent sign (no percent-encoded tricks to decode later), no
// backslash, NUL or other control character, and bounded lengths. (Paths arrive in JSON strings,
// which the parser has already checked to be UTF-8.)

#include <cstddef>
#include <string>
#include <string_view>

namespace ctxmgr::kernel::memory {

inline constexpr std::string_view kRoot = "/memories";
inline constexpr std::size_t kMaxPathBytes = 512;
inline constexpr std::size_t kMaxSegmentBytes = 255;

// What a path names once checked: the root folder, or something below it ("/memories/a/b.md").
struct MemoryPath {
  std::string text;  // without a trailing "/"
  bool root = false;
};

// nullopt-like: `error` is empty when the path is valid. The message says what is wrong in terms
// a model can act on ("Path must start with /memories, got: /etc/passwd").
struct PathCheck {
  MemoryPath path;
  std::string error;
};

// `allow_folder_slash`: a trailing "/" is accepted (view and delete of a folder may write it).
PathCheck check_path(std::string_view text, bool allow_folder_slash);

// "/memories/a/" for "/memories/a": what every path below a folder starts with.
std::string folder_prefix(const MemoryPath& folder);

}  // namespace ctxmgr::kernel::memory
