#include "planner/fixed_point.h"

#include <cstdlib>

namespace gongshe::planner {
namespace {

constexpr int kMaxExponent = 400;
constexpr size_t kMaxNumberChars = 64;

Status Bad(const std::string& why) { return Status("BAD_NUMBER", why); }

Status OverBound(const std::string& shown, int decimals, int64_t max_abs) {
  return Bad("'" + shown + "' exceeds the bound " + FormatFixed(max_abs, decimals));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<int64_t> ParseFixed(std::string_view text, int decimals, int64_t max_abs) {
  GS_ASSERT(decimals >= 0 && decimals <= 18);
  GS_ASSERT(max_abs >= 0);
  const std::string shown(text.substr(0, kMaxNumberChars));
  if (text.empty()) return Bad("empty number");
  if (text.size() > kMaxNumberChars) return Bad("number longer than 64 characters: '" + shown + "...'");
  size_t pos = 0;
  bool negative = false;
  if (text[pos] == '+' || text[pos] == '-') negative = text[pos++] == '-';
  // Significant digits, without leading zeros, and how many of them follow the decimal point.
  std::string digits;
  int fraction_digits = 0;
  bool any_digit = false, seen_point = false;
  for (; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!IsDigit(c)) break;
    any_digit = true;
    if (seen_point) ++fraction_digits;
    if (!digits.empty() || c != '0') digits.push_back(c);  // leading zeros only shift the scale
  }
  if (!any_digit) return Bad("not a number: '" + shown + "'");
  int exponent = 0;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exp_negative = false;
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) exp_negative = text[pos++] == '-';
    size_t exp_start = pos;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
      exponent = exponent * 10 + (text[pos] - '0');
      if (exponent > kMaxExponent) return Bad("exponent out of range: '" + shown + "'");
    }
    if (pos == exp_start) return Bad("missing exponent digits: '" + shown + "'");
    if (exp_negative) exponent = -exponent;
  }
  if (pos != text.size()) return Bad("not a number: '" + shown + "'");
  // value = digits * 10^shift in scaled units.
  int shift = exponent - fraction_digits + decimals;
  if (shift < 0) {
    size_t drop = static_cast<size_t>(-shift);
    size_t keep = drop >= digits.size() ? 0 : digits.size() - drop;
    for (size_t i = keep; i < digits.size(); ++i) {
      if (digits[i] != '0') {
        return Bad("'" + shown + "' has more than " + std::to_string(decimals) + " decimal places");
      }
    }
    digits.resize(keep);
  } else if (!digits.empty()) {
    if (digits.size() + static_cast<size_t>(shift) > 19) return OverBound(shown, decimals, max_abs);
    digits.append(static_cast<size_t>(shift), '0');
  }
  if (digits.size() > 19) return OverBound(shown, decimals, max_abs);
  uint64_t magnitude = 0;
  for (char c : digits) magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');  // < 10^19 < 2^64
  if (magnitude > static_cast<uint64_t>(max_abs)) return OverBound(shown, decimals, max_abs);
  int64_t value = static_cast<int64_t>(magnitude);
  return negative ? -value : value;
}

std::string FormatFixed(int64_t value, int decimals) {
  GS_ASSERT(decimals >= 0 && decimals <= 18);
  uint64_t magnitude = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string out = value < 0 ? "-" : "";
  out += std::to_string(magnitude / scale);
  if (decimals == 0) return out;
  std::string fraction = std::to_string(magnitude % scale);
  out += "." + std::string(static_cast<size_t>(decimals) - fraction.size(), '0') + fraction;
  return out;
}

}  // namespace gongshe::planner
