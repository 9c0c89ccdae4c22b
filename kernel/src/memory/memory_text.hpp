#pragma once
// What Claude's memory tool commands do to a file's text and what they answer, as the reference
// implementation in Anthropic's SDKs does it (docs/memory-tool.md): numbered lines, listings two
// levels deep with sizes, the edit commands' checks and messages. Pure functions on text; where
// the text lives is memory_api.cpp's business.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctxmgr::kernel::memory {

inline constexpr std::size_t kMaxFileBytes = std::size_t{1024} * 1024;  // per memory file
inline constexpr std::size_t kMaxLines = 999999;

// A command's outcome on a file: the new text when it changed, and what the model is told.
// `error` set: nothing changes and the message is the model's to act on.
struct Edit {
  std::string text;
  std::string message;
  bool error = false;
};

// "0B", "512B", "1.5K", "12K", "3.2M": the reference's human-readable sizes.
std::string format_size(std::uint64_t bytes);

// The file with numbered lines; `view_range` [first, last] (1-based, last -1: to the end).
Edit view_file(std::string_view path, std::string_view text,
               std::optional<std::pair<std::int64_t, std::int64_t>> view_range);

// A folder's files (paths relative to it, with their sizes in bytes), listed two levels deep:
// folders with the total size of their files, hidden names (starting with '.') left out.
std::string view_folder(std::string_view path,
                        const std::vector<std::pair<std::string, std::uint64_t>>& files);

Edit str_replace(std::string_view path, std::string_view text, std::string_view old_str,
                 std::string_view new_str);
Edit insert(std::string_view path, std::string_view text, std::int64_t insert_line,
            std::string_view insert_text);

// The size check every command that writes makes.
std::optional<std::string> too_large(std::string_view path, std::string_view text);

}  // namespace ctxmgr::kernel::memory
