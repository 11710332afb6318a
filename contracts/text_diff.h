#pragma once
// Line differences between two texts, for comparing two versions of a law (`gongshe law diff`).
// The diff is a longest common subsequence of lines, after the common first and last lines are
// set aside; printed in the unified format that `diff -u` and `git diff` use.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gongshe::contracts {

// Bounds the work on outside texts: the lines that differ, once the common first and last lines
// are set aside, may form at most this many pairs (a table of 2 bytes each).
inline constexpr size_t kMaxDiffCells = 4'000'000;

struct DiffLine {
  char op = ' ';  // ' ' in both, '-' only in the old text, '+' only in the new
  std::string_view text;
  int old_line = 0;  // 1-based; 0 when the line is not in the old text
  int new_line = 0;  // 1-based; 0 when the line is not in the new text
};

// Every line of both texts in order, each marked. TOO_DIFFERENT past kMaxDiffCells.
Result<std::vector<DiffLine>> DiffLines(std::string_view old_text, std::string_view new_text);

// The changed lines with `context` lines around them, in hunks headed "@@ -a,n +b,m @@", after
// "--- old_label" and "+++ new_label". Empty when the texts are the same.
Result<std::string> UnifiedDiff(std::string_view old_text, std::string_view new_text, std::string_view old_label,
                                std::string_view new_label, int context = 3);

}  // namespace gongshe::contracts
