#include "memory/memory_text.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace ctxmgr::kernel::memory {

namespace {

// Split on '\n' as Python's str.split("\n"): "a\n" is ["a", ""].
std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (;;) {
    const auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(start));
      return lines;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// "     3\tline": numbers right-aligned to the width of the largest allowed line number.
std::string numbered(std::size_t number, std::string_view line) {
  std::string n = std::to_string(number);
  std::string out(n.size() < 6 ? 6 - n.size() : 0, ' ');
  out += n;
  out += '\t';
  out += line;
  return out;
}

std::string join_numbered(const std::vector<std::string_view>& lines, std::size_t first,
                          std::size_t last, std::size_t number_of_first) {
  std::string out;
  for (std::size_t i = first; i < last; ++i) {
    if (i > first) out += '\n';
    out += numbered(number_of_first + (i - first), lines[i]);
  }
  return out;
}

std::size_t count_lines_before(std::string_view text, std::size_t pos) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < pos; ++i) n += text[i] == '\n' ? 1 : 0;
  return n;
}

Edit refused(std::string message) { return Edit{{}, std::move(message), true}; }

}  // namespace

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  static constexpr const char* kUnits[] = {"B", "K", "M", "G"};
  std::size_t unit = 0;
  auto size = static_cast<double>(bytes);
  while (size >= 1024 && unit + 1 < std::size(kUnits)) {
    size /= 1024;
    ++unit;
  }
  char buf[32];
  if (size == static_cast<double>(static_cast<std::uint64_t>(size))) {
    std::snprintf(buf, sizeof buf, "%llu%s", static_cast<unsigned long long>(size), kUnits[unit]);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f%s", size, kUnits[unit]);
  }
  return buf;
}

Edit view_file(std::string_view path, std::string_view text,
               std::optional<std::pair<std::int64_t, std::int64_t>> view_range) {
  const auto lines = split_lines(text);
  const std::string p(path);
  if (lines.size() > kMaxLines) {
    return refused("File " + p + " exceeds maximum line limit of 999,999 lines.");
  }
  std::size_t first = 0, last = lines.size();
  if (view_range) {
    const auto [from, to] = *view_range;
    const auto n = static_cast<std::int64_t>(lines.size());
    if (from < 1 || from > n || (to != -1 && (to < from || to > n))) {
      return refused("Invalid `view_range` parameter: [" + std::to_string(from) + ", " +
                     std::to_string(to) + "]. The file has " + std::to_string(n) +
                     " lines: the first number should be within [1, " + std::to_string(n) +
                     "] and the second, -1 or within [first, " + std::to_string(n) + "].");
    }
    first = static_cast<std::size_t>(from - 1);
    last = to == -1 ? lines.size() : static_cast<std::size_t>(to);
  }
  return Edit{std::string(text),
              "Here's the content of " + p + " with line numbers:\n" +
                  join_numbered(lines, first, last, first + 1),
              false};
}

std::string view_folder(std::string_view path,
                        const std::vector<std::pair<std::string, std::uint64_t>>& files) {
  // Entries two levels deep, keyed by their relative path ("a/" for a folder): std::map orders
  // them as the reference lists them (a folder's entries after it, names in byte order) once a
  // folder's key sorts before its children's, which "a/" < "a/b" guarantees.
  std::map<std::string, std::uint64_t> entries;
  std::uint64_t total = 0;
  for (const auto& [relative, size] : files) {
    total += size;
    std::vector<std::string_view> segments;
    std::string_view rest = relative;
    while (!rest.empty()) {
      const auto slash = rest.find('/');
      segments.push_back(rest.substr(0, slash));
      rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    bool hidden = false;
    std::string key;
    for (std::size_t depth = 0; depth < segments.size() && depth < 2 && !hidden; ++depth) {
      hidden = !segments[depth].empty() && segments[depth].front() == '.';
      if (hidden) break;
      key += segments[depth];
      const bool folder = depth + 1 < segments.size();
      if (folder) key += '/';
      entries[key] += size;
    }
  }
  const std::string p(path);
  std::string out = "Here're the files and directories up to 2 levels deep in " + p +
                    ", excluding hidden items:\n" + format_size(total) + "\t" + p;
  for (const auto& [key, size] : entries) {
    out += '\n';
    out += format_size(size);
    out += '\t';
    out += p;
    out += '/';
    out += key;
  }
  return out;
}

Edit str_replace(std::string_view path, std::string_view text, std::string_view old_str,
                 std::string_view new_str) {
  const std::string p(path), o(old_str);
  if (old_str.empty()) {
    return refused(
        "No replacement was performed, old_str is empty: give the exact text to replace.");
  }
  std::vector<std::size_t> at;
  for (auto pos = text.find(old_str); pos != std::string_view::npos;
       pos = text.find(old_str, pos + 1)) {
    at.push_back(pos);
  }
  if (at.empty()) {
    return refused("No replacement was performed, old_str `" + o + "` did not appear verbatim in " +
                   p + ".");
  }
  if (at.size() > 1) {
    std::string where;
    for (const auto pos : at) {
      if (!where.empty()) where += ", ";
      where += std::to_string(count_lines_before(text, pos) + 1);
    }
    return refused("No replacement was performed. Multiple occurrences of old_str `" + o +
                   "` in lines: " + where + ". Please ensure it is unique");
  }
  std::string next(text.substr(0, at[0]));
  next += new_str;
  next += text.substr(at[0] + old_str.size());
  const std::size_t changed = count_lines_before(text, at[0]);
  const auto lines = split_lines(next);
  const std::size_t first = changed >= 2 ? changed - 2 : 0;
  const std::size_t last = std::min(lines.size(), changed + 3);
  std::string message =
      "The memory file has been edited. Here is the snippet showing the change (with line "
      "numbers):\n" +
      join_numbered(lines, first, last, first + 1);
  return Edit{std::move(next), std::move(message), false};
}

Edit insert(std::string_view path, std::string_view text, std::int64_t insert_line,
            std::string_view insert_text) {
  // As Python's splitlines() for '\n' endings: a final newline ends the last line.
  auto lines = split_lines(text);
  if (!lines.empty() && lines.back().empty()) lines.pop_back();
  const auto n = static_cast<std::int64_t>(lines.size());
  if (insert_line < 0 || insert_line > n) {
    return refused("Invalid `insert_line` parameter: " + std::to_string(insert_line) +
                   ". It should be within the range [0, " + std::to_string(n) + "].");
  }
  while (!insert_text.empty() && insert_text.back() == '\n') insert_text.remove_suffix(1);
  std::string next;
  for (std::int64_t i = 0; i <= n; ++i) {
    if (i == insert_line) {
      next += insert_text;
      next += '\n';
    }
    if (i < n) {
      next += lines[static_cast<std::size_t>(i)];
      next += '\n';
    }
  }
  return Edit{std::move(next), "The file " + std::string(path) + " has been edited.", false};
}

std::optional<std::string> too_large(std::string_view path, std::string_view text) {
  if (text.size() <= kMaxFileBytes) return std::nullopt;
  return "File " + std::string(path) + " would be " + std::to_string(text.size()) +
         " bytes, more than the " + std::to_string(kMaxFileBytes) +
         " bytes a memory file may hold. Nothing was changed.";
}

}  // namespace ctxmgr::kernel::memory
