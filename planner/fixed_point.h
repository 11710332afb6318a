#pragma once
// Exact decimal <-> fixed-point conversion. Every figure of a plan and of its inputs is an integer
// count of a fixed unit (planner/README.md, "Fixed point"), so that validators check plans with
// integer arithmetic only and agree bit for bit.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gongshe::planner {

// Technical coefficients a_ij and labour coefficients l_j: units of 10^-9.
inline constexpr int64_t kCoefficientScale = 1'000'000'000;
inline constexpr int kCoefficientDecimals = 9;
// Quantities (final demand d, gross output x, capacities): units of 10^-6 of a product's unit.
inline constexpr int64_t kQuantityScale = 1'000'000;
inline constexpr int kQuantityDecimals = 6;
// Labour values v_j: 10^-9 hours per unit of product j.
inline constexpr int64_t kValueScale = 1'000'000'000;
inline constexpr int kValueDecimals = 9;
// Labour totals (the issuance cap): 10^-6 hours.
inline constexpr int64_t kHoursScale = 1'000'000;
inline constexpr int kHoursDecimals = 6;

// Parses a decimal number ("12", "-0.25", "1.5e-3", "2E+2") into round(value * 10^decimals),
// refusing any number that is not exactly representable at that scale (more digits than the
// scale) or whose magnitude exceeds max_abs (in scaled units). No locale, no floating point.
// Error code BAD_NUMBER; the message says why, without position (the caller adds it).
Result<int64_t> ParseFixed(std::string_view text, int decimals, int64_t max_abs);

// The exact decimal form of value / 10^decimals, e.g. FormatFixed(-1250, 3) == "-1.250".
std::string FormatFixed(int64_t value, int decimals);

}  // namespace gongshe::planner
