#include "contracts/text_diff.h"

#include <algorithm>
#include <cstdint>

namespace gongshe::contracts {
namespace {

// The lines of `text`, without their line breaks; a final line break ends the last line.
std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(begin, end - begin));
    begin = end + 1;
  }
  return lines;
}

std::string HunkRange(int start, int count) {
  // As diff -u: an empty range names the line before it.
  return std::to_string(count == 0 ? start - 1 : start) + (count == 1 ? "" : "," + std::to_string(count));
}

}  // namespace

Result<std::vector<DiffLine>> DiffLines(std::string_view old_text, std::string_view new_text) {
  const std::vector<std::string_view> a = SplitLines(old_text), b = SplitLines(new_text);
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
         a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix]) {
    ++suffix;
  }
  const size_t n = a.size() - prefix - suffix, m = b.size() - prefix - suffix;
  if (n > 0 && m > 0 && n * m > kMaxDiffCells) {
    return Status("TOO_DIFFERENT", "the texts differ in " + std::to_string(n) + " and " + std::to_string(m) +
                                       " lines, too many to compare line by line");
  }
  // lcs[i][j]: the longest common subsequence of the middle lines a[i..] and b[j..]. Lines are
  // at most 64 KiB of source, so the lengths fit 16 bits; the table has (n+1)(m+1) cells.
  std::vector<uint16_t> lcs((n + 1) * (m + 1), 0);
  auto at = [&](size_t i, size_t j) -> uint16_t& { return lcs[i * (m + 1) + j]; };
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      at(i, j) = a[prefix + i] == b[prefix + j] ? static_cast<uint16_t>(at(i + 1, j + 1) + 1)
                                                : std::max(at(i + 1, j), at(i, j + 1));
    }
  }
  std::vector<DiffLine> out;
  out.reserve(a.size() + b.size());
  int old_line = 0, new_line = 0;
  auto same = [&](std::string_view text) { out.push_back({' ', text, ++old_line, ++new_line}); };
  for (size_t k = 0; k < prefix; ++k) same(a[k]);
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[prefix + i] == b[prefix + j]) {
      same(a[prefix + i]);
      ++i, ++j;
    } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {  // removals before additions, as diff -u
      out.push_back({'-', a[prefix + i], ++old_line, 0});
      ++i;
    } else {
      out.push_back({'+', b[prefix + j], 0, ++new_line});
      ++j;
    }
  }
  for (size_t k = a.size() - suffix; k < a.size(); ++k) same(a[k]);
  return out;
}

Result<std::string> UnifiedDiff(std::string_view old_text, std::string_view new_text, std::string_view old_label,
                                std::string_view new_label, int context) {
  Result<std::vector<DiffLine>> diff = DiffLines(old_text, new_text);
  if (!diff.ok()) return diff.status();
  const std::vector<DiffLine>& lines = *diff;
  const int total = static_cast<int>(lines.size());
  std::string out;
  int k = 0;
  while (k < total) {
    if (lines[k].op == ' ') {
      ++k;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that lies within 2 * context same lines of the previous one.
    const int begin = std::max(0, k - context);
    int last_change = k;
    for (int i = k + 1; i < total;) {
      if (lines[i].op != ' ') {
        last_change = i++;
        continue;
      }
      const int run_start = i;
      while (i < total && lines[i].op == ' ') ++i;
      if (i == total || i - run_start > 2 * context) break;
    }
    const int end = std::min(total, last_change + 1 + context);
    int old_start = 0, new_start = 0, old_count = 0, new_count = 0;
    std::string body;
    for (int i = begin; i < end; ++i) {
      const DiffLine& d = lines[i];
      if (d.op != '+' && old_start == 0) old_start = d.old_line;
      if (d.op != '-' && new_start == 0) new_start = d.new_line;
      old_count += d.op != '+';
      new_count += d.op != '-';
      body += d.op;
      body.append(d.text);
      body += '\n';
    }
    // A hunk with no line of one side starts after the last line of that side before it.
    auto before = [&](bool old_side) {
      int line = 0;
      for (int i = 0; i < begin; ++i) line = std::max(line, old_side ? lines[i].old_line : lines[i].new_line);
      return line + 1;
    };
    if (old_count == 0) old_start = before(true);
    if (new_count == 0) new_start = before(false);
    if (out.empty()) out = "--- " + std::string(old_label) + "\n+++ " + std::string(new_label) + "\n";
    out += "@@ -" + HunkRange(old_start, old_count) + " +" + HunkRange(new_start, new_count) + " @@\n" + body;
    k = end;
  }
  return out;
}

}  // namespace gongshe::contracts
