// The memory tool's path checks and text commands, against what Anthropic's reference
// implementation (the SDKs' local-filesystem memory tool) answers: the same messages, numbered
// lines and listings, so that a model sees the same tool whichever backend serves it.

#include <gtest/gtest.h>

#include "memory/memory_path.hpp"
#include "memory/memory_text.hpp"

namespace ctxmgr::kernel::memory {
namespace {

TEST(MemoryPath, AcceptsTheRootAndPathsBelowIt) {
  auto root = check_path("/memories", true);
  EXPECT_EQ(root.error, "");
  EXPECT_TRUE(root.path.root);
  auto slash = check_path("/memories/", true);
  EXPECT_EQ(slash.error, "");
  EXPECT_TRUE(slash.path.root);
  auto file = check_path("/memories/notes/día 1.md", false);
  EXPECT_EQ(file.error, "");
  EXPECT_EQ(file.path.text, "/memories/notes/día 1.md");
  EXPECT_FALSE(file.path.root);
  auto folder = check_path("/memories/notes/", true);
  EXPECT_EQ(folder.path.text, "/memories/notes");
}

TEST(MemoryPath, RefusesEveryWayOut) {
  struct Case {
    std::string path;
    std::string says;
  };
  const Case cases[] = {
      {"/etc/passwd", "Path must start with /memories, got: /etc/passwd"},
      {"/memoriesX/a", "Path must start with /memories"},
      {"memories/a", "Path must start with /memories"},
      {"", "Path must start with /memories"},
      {"/memories/../etc/passwd", "would escape /memories directory"},
      {"/memories/a/../../x", "would escape /memories directory"},
      {"/memories/./a", "would escape /memories directory"},
      {"/memories/a//b", "empty segment"},
      {"/memories/a/", "empty segment"},  // a file path with a trailing slash
      {"/memories/%2e%2e/x", "no percent-encoding"},
      {"/memories/a\\..\\b", "backslash"},
      {std::string("/memories/a\0b", 13), "control characters"},
      {"/memories/a\nb", "control characters"},
      {"/memories/" + std::string(256, 'a'), "longer than 255 bytes"},
      {"/memories/" + std::string(100, 'a') + "/" + std::string(200, 'b') + "/" +
           std::string(250, 'c'),
       "longer than 512 bytes"},
  };
  for (const auto& c : cases) {
    const auto checked = check_path(c.path, false);
    EXPECT_NE(checked.error.find(c.says), std::string::npos)
        << "path: " << c.path << " answered: " << checked.error;
  }
}

TEST(MemoryText, SizesAsTheReference) {
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(512), "512B");
  EXPECT_EQ(format_size(1024), "1K");
  EXPECT_EQ(format_size(1536), "1.5K");
  EXPECT_EQ(format_size(3 * 1024 * 1024 + 200 * 1024), "3.2M");
}

TEST(MemoryText, ViewNumbersLinesAndHonoursTheRange) {
  const auto all = view_file("/memories/a.md", "one\ntwo\nthree", std::nullopt);
  EXPECT_FALSE(all.error);
  EXPECT_EQ(all.message,
            "Here's the content of /memories/a.md with line numbers:\n"
            "     1\tone\n     2\ttwo\n     3\tthree");
  const auto part = view_file("/memories/a.md", "one\ntwo\nthree", std::pair{2, -1});
  EXPECT_EQ(part.message,
            "Here's the content of /memories/a.md with line numbers:\n     2\ttwo\n     3\tthree");
  const auto one = view_file("/memories/a.md", "one\ntwo\nthree", std::pair{2, 2});
  EXPECT_EQ(one.message, "Here's the content of /memories/a.md with line numbers:\n     2\ttwo");
  const auto out = view_file("/memories/a.md", "one\ntwo", std::pair{5, 9});
  EXPECT_TRUE(out.error);
  EXPECT_NE(out.message.find("Invalid `view_range` parameter: [5, 9]"), std::string::npos);
}

TEST(MemoryText, FolderListingTwoLevelsDeepWithSizes) {
  const std::string listing = view_folder("/memories", {{"a.md", 10},
                                                        {"notes/b.md", 2048},
                                                        {"notes/deep/c.md", 5},
                                                        {"notes/deep/deeper/d.md", 7},
                                                        {".hidden", 99},
                                                        {"notes/.secret", 1}});
  EXPECT_EQ(listing,
            "Here're the files and directories up to 2 levels deep in /memories, excluding "
            "hidden items:\n"
            "2.1K\t/memories\n"
            "10B\t/memories/a.md\n"
            "2.0K\t/memories/notes/\n"
            "2K\t/memories/notes/b.md\n"
            "12B\t/memories/notes/deep/");
}

TEST(MemoryText, StrReplaceNeedsExactlyOneOccurrence) {
  const std::string text = "a\nb\nc\nd\ne\nf\ng";
  const auto done = str_replace("/memories/x", text, "d", "D");
  EXPECT_FALSE(done.error);
  EXPECT_EQ(done.text, "a\nb\nc\nD\ne\nf\ng");
  EXPECT_EQ(done.message,
            "The memory file has been edited. Here is the snippet showing the change (with line "
            "numbers):\n     2\tb\n     3\tc\n     4\tD\n     5\te\n     6\tf");
  const auto absent = str_replace("/memories/x", text, "zz", "y");
  EXPECT_TRUE(absent.error);
  EXPECT_EQ(absent.message,
            "No replacement was performed, old_str `zz` did not appear verbatim in /memories/x.");
  const auto twice = str_replace("/memories/x", "ab\nab\ncd", "ab", "y");
  EXPECT_TRUE(twice.error);
  EXPECT_EQ(twice.message,
            "No replacement was performed. Multiple occurrences of old_str `ab` in lines: 1, 2. "
            "Please ensure it is unique");
  EXPECT_TRUE(str_replace("/memories/x", text, "", "y").error);
}

TEST(MemoryText, InsertAtALineWithinRange) {
  const auto top = insert("/memories/x", "a\nb\n", 0, "new\n");
  EXPECT_FALSE(top.error);
  EXPECT_EQ(top.text, "new\na\nb\n");
  EXPECT_EQ(top.message, "The file /memories/x has been edited.");
  EXPECT_EQ(insert("/memories/x", "a\nb", 2, "end").text, "a\nb\nend\n");
  EXPECT_EQ(insert("/memories/x", "", 0, "only").text, "only\n");
  const auto past = insert("/memories/x", "a\nb\n", 3, "x");
  EXPECT_TRUE(past.error);
  EXPECT_EQ(past.message,
            "Invalid `insert_line` parameter: 3. It should be within the range [0, 2].");
  EXPECT_TRUE(insert("/memories/x", "a", -1, "x").error);
}

TEST(MemoryText, SizeLimitPerFile) {
  EXPECT_FALSE(too_large("/memories/x", std::string(kMaxFileBytes, 'a')));
  const auto over = too_large("/memories/x", std::string(kMaxFileBytes + 1, 'a'));
  ASSERT_TRUE(over);
  EXPECT_NE(over->find("Nothing was changed"), std::string::npos);
}

}  // namespace
}  // namespace ctxmgr::kernel::memory
