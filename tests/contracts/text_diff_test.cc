// Line diffs of law texts (`gongshe law diff`): the lines each side keeps, removes and adds, the
// unified format's hunks and ranges, and the bound on work for texts that differ everywhere.

#include "contracts/text_diff.h"

#include <gtest/gtest.h>

namespace gongshe::contracts {
namespace {

std::string Ops(std::string_view a, std::string_view b) {
  Result<std::vector<DiffLine>> diff = DiffLines(a, b);
  EXPECT_TRUE(diff.ok());
  std::string out;
  for (const DiffLine& d : *diff) out += std::string(1, d.op) + std::string(d.text) + "|";
  return out;
}

TEST(TextDiff, MarksKeptRemovedAndAddedLinesInOrder) {
  EXPECT_EQ(Ops("a\nb\nc\n", "a\nb\nc\n"), " a| b| c|");
  EXPECT_EQ(Ops("a\nb\nc\n", "a\nB\nc\n"), " a|-b|+B| c|");
  EXPECT_EQ(Ops("a\nb\n", "a\nb\nc\n"), " a| b|+c|");
  EXPECT_EQ(Ops("x\na\nb\n", "a\nb\n"), "-x| a| b|");
  EXPECT_EQ(Ops("", "a\n"), "+a|");
  EXPECT_EQ(Ops("a\n", ""), "-a|");
  EXPECT_EQ(Ops("", ""), "");
  // A line moved is a removal and an addition; the common subsequence is kept.
  EXPECT_EQ(Ops("a\nb\nc\nd\n", "b\nc\na\nd\n"), "-a| b| c|+a| d|");
  // A missing final line break changes nothing but the last line's text.
  EXPECT_EQ(Ops("a\nb", "a\nb\n"), " a| b|");
}

TEST(TextDiff, LineNumbersFollowEachSide) {
  Result<std::vector<DiffLine>> diff = DiffLines("a\nb\nc\n", "a\nx\ny\nc\n");
  ASSERT_TRUE(diff.ok());
  ASSERT_EQ(diff->size(), 5u);
  EXPECT_EQ((*diff)[1].op, '-');
  EXPECT_EQ((*diff)[1].old_line, 2);
  EXPECT_EQ((*diff)[1].new_line, 0);
  EXPECT_EQ((*diff)[3].op, '+');
  EXPECT_EQ((*diff)[3].new_line, 3);
  EXPECT_EQ((*diff)[4].old_line, 3);
  EXPECT_EQ((*diff)[4].new_line, 4);
}

TEST(TextDiff, UnifiedHunksWithContext) {
  std::string old_text, new_text;
  for (int i = 1; i <= 20; ++i) {
    old_text += "line " + std::to_string(i) + "\n";
    new_text += (i == 5 ? "LINE 5" : i == 16 ? "LINE 16" : "line " + std::to_string(i)) + "\n";
  }
  Result<std::string> diff = UnifiedDiff(old_text, new_text, "v1", "v2", 2);
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(*diff,
            "--- v1\n+++ v2\n"
            "@@ -3,5 +3,5 @@\n line 3\n line 4\n-line 5\n+LINE 5\n line 6\n line 7\n"
            "@@ -14,5 +14,5 @@\n line 14\n line 15\n-line 16\n+LINE 16\n line 17\n line 18\n");
  // Changes at most twice the context apart share one hunk, as in diff -u.
  EXPECT_EQ(*UnifiedDiff("a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\n", "x", "y", 2),
            "--- x\n+++ y\n@@ -1,5 +1,5 @@\n-a\n+A\n b\n c\n d\n-e\n+E\n");
  EXPECT_EQ(*UnifiedDiff("a\nb\nc\nd\ne\n", "A\nb\nc\nd\nE\n", "x", "y", 1),
            "--- x\n+++ y\n@@ -1,2 +1,2 @@\n-a\n+A\n b\n@@ -4,2 +4,2 @@\n d\n-e\n+E\n");
  EXPECT_EQ(*UnifiedDiff("a\nb\n", "a\nb\nc\n", "x", "y"), "--- x\n+++ y\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
  // Without context, lines only added leave the old range empty, naming the line before.
  EXPECT_EQ(*UnifiedDiff("a\nb\n", "a\nb\nc\n", "x", "y", 0), "--- x\n+++ y\n@@ -2,0 +3 @@\n+c\n");
  EXPECT_EQ(*UnifiedDiff("same\n", "same\n", "x", "y"), "");
}

TEST(TextDiff, TextsTooDifferentToCompareAreRefused) {
  std::string a, b;
  for (int i = 0; i < 2100; ++i) {
    a += "a" + std::to_string(i) + "\n";
    b += "b" + std::to_string(i) + "\n";
  }
  Result<std::vector<DiffLine>> diff = DiffLines(a, b);
  ASSERT_FALSE(diff.ok());
  EXPECT_EQ(diff.status().code(), "TOO_DIFFERENT");
  // The same size with only one line changed is cheap: common lines are set aside first.
  std::string c = a;
  c.replace(0, 2, "zz");
  EXPECT_TRUE(DiffLines(a, c).ok());
}

}  // namespace
}  // namespace gongshe::contracts
