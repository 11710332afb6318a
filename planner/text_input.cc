#include "planner/text_input.h"

#include "planner/fixed_point.h"
#include "planner/model.h"

namespace gongshe::planner::text {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

Result<bool> LineReader::Next(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  line = text_.substr(pos_, end - pos_);
  pos_ = end + 1;
  ++number_;
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > kMaxLineBytes) return Error("line longer than " + std::to_string(kMaxLineBytes) + " bytes");
  return true;
}

Status LineReader::Error(const std::string& why) const {
  if (number_ == 0) return Status("BAD_INPUT", label_ + ": " + why);
  return Status("BAD_INPUT", label_ + " line " + std::to_string(number_) + ": " + why);
}

std::vector<std::string_view> SplitCommas(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {  // bounded: each pass consumes one comma of a line of at most kMaxLineBytes
    size_t comma = line.find(',', start);
    if (comma == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, comma - start));
    start = comma + 1;
  }
}

bool IsCommentOrBlank(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsBlank(line[i])) ++i;
  return i == line.size() || line[i] == '#';
}

Status ExpectHeader(LineReader& lines, std::string_view expected) {
  std::string_view line;
  for (;;) {  // bounded by the number of lines of the text
    Result<bool> more = lines.Next(line);
    if (!more.ok()) return more.status();
    if (!*more) return lines.Error("empty file; expected the header '" + std::string(expected) + "'");
    if (!IsCommentOrBlank(line)) break;
  }
  if (line != expected) return lines.Error("expected the header '" + std::string(expected) + "'");
  return Status::Ok();
}

Result<uint32_t> ProductIndex(const LineReader& lines, std::string_view field, uint32_t n) {
  uint32_t k = 0;
  if (!ParseUnsigned(field, k)) return lines.Error("bad product number '" + std::string(field.substr(0, 32)) + "'");
  if (k == 0 || k > n) return lines.Error("product " + std::to_string(k) + " outside 1.." + std::to_string(n));
  return k - 1;
}

Result<int64_t> Field(const LineReader& lines, std::string_view field, const char* what, int decimals, int64_t max_abs,
                      bool allow_negative) {
  Result<int64_t> v = ParseFixed(field, decimals, max_abs);
  if (!v.ok()) return lines.Error(std::string(what) + ": " + v.status().message());
  if (!allow_negative && *v < 0) return lines.Error(std::string(what) + " must be non-negative");
  return *v;
}

}  // namespace gongshe::planner::text
