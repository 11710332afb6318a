#include "planner/fixed_point.h"

#include <gtest/gtest.h>

namespace gongshe::planner {
namespace {

int64_t Parse(const char* s, int decimals = 6, int64_t max_abs = INT64_MAX) {
  Result<int64_t> r = ParseFixed(s, decimals, max_abs);
  EXPECT_TRUE(r.ok()) << s << ": " << r.status().ToString();
  return r.ok() ? *r : 0;
}

std::string Error(const char* s, int decimals = 6, int64_t max_abs = INT64_MAX) {
  Result<int64_t> r = ParseFixed(s, decimals, max_abs);
  EXPECT_FALSE(r.ok()) << s << " parsed as " << (r.ok() ? *r : 0);
  return r.ok() ? "" : r.status().code() + ": " + r.status().message();
}

TEST(ParseFixed, DecimalForms) {
  EXPECT_EQ(Parse("0"), 0);
  EXPECT_EQ(Parse("-0"), 0);
  EXPECT_EQ(Parse("12"), 12'000'000);
  EXPECT_EQ(Parse("+12.5"), 12'500'000);
  EXPECT_EQ(Parse("-0.000001"), -1);
  EXPECT_EQ(Parse(".5"), 500'000);
  EXPECT_EQ(Parse("5."), 5'000'000);
  EXPECT_EQ(Parse("0001.0100000000"), 1'010'000);  // trailing zeros beyond the scale are exact
  EXPECT_EQ(Parse("1.5e-3"), 1'500);
  EXPECT_EQ(Parse("2E+2"), 200'000'000);
  EXPECT_EQ(Parse("1000e-9"), 1);
  EXPECT_EQ(Parse("1234e-9", 9), 1234);
  EXPECT_EQ(Parse("0.1588", 9), 158'800'000);
  EXPECT_EQ(Parse("9223372036854.775807"), INT64_MAX);
  EXPECT_EQ(Parse("-9223372036854.775807"), -INT64_MAX);
  EXPECT_EQ(Parse("0e400"), 0);
}

TEST(ParseFixed, RefusesInexactMalformedAndLarge) {
  EXPECT_NE(Error("0.0000001").find("more than 6 decimal places"), std::string::npos);
  EXPECT_NE(Error("1e-7").find("decimal places"), std::string::npos);
  EXPECT_NE(Error("9223372036854.775808").find("exceeds the bound"), std::string::npos);
  EXPECT_NE(Error("1234e-9").find("more than 6 decimal places"), std::string::npos);
  EXPECT_NE(Error("1e13", 6, 1'000'000'000'000'000'000).find("exceeds the bound"), std::string::npos);
  EXPECT_NE(Error("1e300").find("exceeds the bound"), std::string::npos);
  EXPECT_NE(Error("123456789012345678901").find("exceeds the bound"), std::string::npos);
  for (const char* bad : {"", "-", "+", ".", "e5", "1e", "1e+", "1.2.3", "1,5", " 1", "1 ", "0x10", "nan", "inf",
                          "1e401", "--1", "1-", "١"}) {
    EXPECT_EQ(Error(bad).rfind("BAD_NUMBER", 0), 0u) << bad;
  }
  EXPECT_NE(Error(std::string(65, '1').c_str()).find("longer than 64"), std::string::npos);
}

TEST(FormatFixed, ExactDecimal) {
  EXPECT_EQ(FormatFixed(0, 6), "0.000000");
  EXPECT_EQ(FormatFixed(-1250, 3), "-1.250");
  EXPECT_EQ(FormatFixed(1, 9), "0.000000001");
  EXPECT_EQ(FormatFixed(42, 0), "42");
  EXPECT_EQ(FormatFixed(INT64_MIN, 6), "-9223372036854.775808");
  for (int64_t v : {int64_t{0}, int64_t{7}, int64_t{-123456789}, INT64_MAX}) {
    EXPECT_EQ(Parse(FormatFixed(v, 6).c_str()), v);
  }
}

}  // namespace
}  // namespace gongshe::planner
