#pragma once
// Strict line-oriented reading shared by the planner's input parsers (model.cc, guide.cc): lines
// with their numbers, comma fields, header and field checks. Every error is BAD_INPUT naming the
// file label and the line. Internal to planner/.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gongshe::planner::text {

// Yields the lines of a text one at a time with their 1-based numbers; a final line without a
// newline counts, a trailing "\r" is dropped (CRLF files are accepted). Lines are at most
// kMaxLineBytes (planner/model.h).
class LineReader {
 public:
  LineReader(std::string_view text, const std::string& label) : text_(text), label_(label) {}

  // False at the end of the text. A line longer than kMaxLineBytes is an error.
  Result<bool> Next(std::string_view& line);
  // BAD_INPUT "label line N: why" (without the line before the first line was read).
  Status Error(const std::string& why) const;
  uint64_t number() const { return number_; }

 private:
  std::string_view text_;
  const std::string& label_;
  size_t pos_ = 0;
  uint64_t number_ = 0;
};

std::vector<std::string_view> SplitCommas(std::string_view line);
bool IsCommentOrBlank(std::string_view line);  // blank, or '#' after optional blanks

// A decimal integer of digits only (no sign, no spaces) that fits T.
template <typename T>
bool ParseUnsigned(std::string_view s, T& out) {
  if (s.empty() || s[0] == '+' || s[0] == '-') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// Skips comments and blank lines, then requires the header line to equal `expected`.
Status ExpectHeader(LineReader& lines, std::string_view expected);
// A 1-based product number 1..n, returned 0-based.
Result<uint32_t> ProductIndex(const LineReader& lines, std::string_view field, uint32_t n);
// A fixed-point figure (planner/fixed_point.h) of at most max_abs scaled units; `what` names it.
Result<int64_t> Field(const LineReader& lines, std::string_view field, const char* what, int decimals, int64_t max_abs,
                      bool allow_negative);

}  // namespace gongshe::planner::text
