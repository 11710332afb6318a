// Guidance: Student's t quantiles, trend forecasts with prediction intervals checked by hand, the
// history file's strict parsing, the exact gross-output bounds, and the intervals' real coverage.

#include "planner/guide.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "planner/fixed_point.h"
#include "planner/plan.h"

namespace gongshe::planner {
namespace {

constexpr int64_t k90 = 900'000;  // coverage 0.9 in millionths

History Parse(const std::string& text, uint32_t products) {
  Result<History> h = ParseHistory(text, "history.csv", products);
  EXPECT_TRUE(h.ok()) << h.status().ToString();
  return h.ok() ? *h : History{};
}

std::string ParseError(const std::string& text, uint32_t products = 3) {
  Result<History> h = ParseHistory(text, "history.csv", products);
  EXPECT_FALSE(h.ok()) << text;
  if (h.ok()) return "";
  EXPECT_EQ(h.status().code(), "BAD_INPUT");
  return h.status().message();
}

TEST(StudentT, ClosedFormsAndReferenceValues) {
  // nu = 1 (Cauchy): P(|T| <= t) = 2 atan(t) / pi, so t = tan(c pi / 2).
  EXPECT_NEAR(StudentTQuantile(0.9, 1), std::tan(0.45 * M_PI), 1e-12);
  EXPECT_NEAR(StudentTQuantile(0.5, 1), 1.0, 1e-12);
  // nu = 2: P(|T| <= t) = t / sqrt(2 + t^2), so t = c sqrt(2 / (1 - c^2)).
  EXPECT_NEAR(StudentTQuantile(0.9, 2), 0.9 * std::sqrt(2 / 0.19), 1e-12);
  EXPECT_NEAR(StudentTQuantile(0.95, 2), 0.95 * std::sqrt(2 / (1 - 0.95 * 0.95)), 1e-12);
  // Reference values of scipy.stats.t.ppf((1 + c) / 2, nu) (SciPy 1.10.1); the printed tables
  // agree to their 3 decimals (2.228, 2.015, 2.750, 1.660).
  struct Case {
    int nu;
    double c, t;
  };
  for (const Case& k : {Case{10, 0.95, 2.2281388519649385}, Case{5, 0.9, 2.015048372669157},
                        Case{30, 0.99, 2.7499956535670305}, Case{100, 0.9, 1.66023432606575},
                        Case{998, 0.9, 1.6463818766348755}, Case{3, 0.5, 0.764892328080891},
                        Case{7, 0.999999, 15.767009456337393}}) {
    EXPECT_NEAR(StudentTQuantile(k.c, k.nu), k.t, 1e-8 * k.t) << k.nu << " " << k.c;
  }
  // Monotone in coverage and falling with the degrees of freedom towards the normal 1.6449.
  EXPECT_LT(StudentTQuantile(0.8, 4), StudentTQuantile(0.9, 4));
  EXPECT_GT(StudentTQuantile(0.9, 4), StudentTQuantile(0.9, 40));
  EXPECT_GT(StudentTQuantile(0.9, 998), 1.6448536);
}

// Product 1: 10, 14, 12, 16 in periods 1..4. By hand: t_bar = 1.5, mean 13, S_tt = 5,
// sum (t - 1.5)(q - 13) = 4.5 - 0.5 - 0.5 + 4.5 = 8, so b = 1.6 and the fit is 10.6, 12.2, 13.8,
// 15.4; residuals -0.6, 1.8, -1.8, 0.6, SSE = 7.2, s^2 = 7.2 / 2 = 3.6. Forecast for period 5
// (t = 4): 13 + 1.6 * 2.5 = 17; se^2 = 3.6 (1 + 1/4 + 2.5^2 / 5) = 9, se = 3; at 90% with 2
// degrees of freedom the interval is 17 +- 3 * 0.9 sqrt(2 / 0.19).
// Product 2: constant 20: forecast 20, zero spread.
// Product 3: 10, (period 2 not listed: 0), 12, 16. By hand: mean 9.5, b = 15 / 5 = 3, fit
// 5, 8, 11, 14, residuals 5, -8, 1, 2, SSE = 94, s^2 = 47, forecast 9.5 + 3 * 2.5 = 17,
// se^2 = 47 * 2.5 = 117.5; the low end 17 - 2.92 * 10.84 < 0 is cut at 0.
const char* kHistory =
    "# consumer redemptions per period\n"
    "product,period,quantity\n"
    "1,1,10\n1,2,14\n1,3,12\n1,4,16\n"
    "2,1,20\n2,2,20\n2,3,20\n2,4,20.000000\n"
    "3,1,10\n3,3,12\n3,4,16\n";

TEST(Forecast, LinearTrendWithStudentTIntervalByHand) {
  History h = Parse(kHistory, 4);
  EXPECT_EQ(h.last_period, 4);
  Result<std::vector<Forecast>> f = ForecastDemand(h, k90);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const double t2 = 0.9 * std::sqrt(2 / 0.19);
  EXPECT_EQ((*f)[0].periods, 4u);
  EXPECT_NEAR((*f)[0].point, 17.0, 1e-12);
  EXPECT_NEAR((*f)[0].slope, 1.6, 1e-12);
  EXPECT_NEAR((*f)[0].residual_sd, std::sqrt(3.6), 1e-12);
  EXPECT_NEAR((*f)[0].low, 17.0 - 3 * t2, 1e-9);
  EXPECT_NEAR((*f)[0].high, 17.0 + 3 * t2, 1e-9);
  EXPECT_NEAR((*f)[1].point, 20.0, 1e-12);
  EXPECT_EQ((*f)[1].low, (*f)[1].point);
  EXPECT_EQ((*f)[1].high, (*f)[1].point);
  EXPECT_EQ((*f)[2].periods, 4u);
  EXPECT_NEAR((*f)[2].point, 17.0, 1e-12);
  EXPECT_NEAR((*f)[2].slope, 3.0, 1e-12);
  EXPECT_EQ((*f)[2].low, 0.0);
  EXPECT_NEAR((*f)[2].high, 17.0 + t2 * std::sqrt(117.5), 1e-9);
  // Product 4 has no rows: no consumer demand.
  EXPECT_EQ((*f)[3].periods, 0u);
  EXPECT_EQ((*f)[3].point, 0.0);
  EXPECT_EQ((*f)[3].high, 0.0);
}

TEST(Forecast, SeriesStartAtTheProductsFirstRowAndNeedThreePeriods) {
  // Product 2 starts in period 3 of 5: its series is 5, 7, 9 (T = 3, one degree of freedom), an
  // exact line: forecast 11 with no spread. Product 1 fixes the last period at 5.
  History h = Parse("product,period,quantity\n1,1,1\n1,5,1\n2,3,5\n2,4,7\n2,5,9\n", 2);
  Result<std::vector<Forecast>> f = ForecastDemand(h, k90);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ((*f)[1].periods, 3u);
  EXPECT_NEAR((*f)[1].point, 11.0, 1e-12);
  EXPECT_NEAR((*f)[1].high, 11.0, 1e-12);
  // Two periods cannot bound anything: refused, naming the product and the way out.
  History short_series = Parse("product,period,quantity\n1,1,1\n1,2,3\n1,3,2\n2,2,5\n2,3,5\n", 2);
  Result<std::vector<Forecast>> refused = ForecastDemand(short_series, k90);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), "INSUFFICIENT_HISTORY");
  EXPECT_NE(refused.status().message().find("product 2 has 2 period(s)"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("with 0 where nothing was taken"), std::string::npos);
  // An explicit 0 row starts the series earlier and makes it long enough.
  History padded = Parse("product,period,quantity\n1,1,1\n1,2,3\n1,3,2\n2,1,0\n2,2,5\n2,3,5\n", 2);
  EXPECT_TRUE(ForecastDemand(padded, k90).ok());
}

TEST(Forecast, ExtremeCoveragesStayFinite) {
  History h = Parse(kHistory, 4);
  for (int64_t c : {int64_t{1}, int64_t{500'000}, int64_t{999'999}}) {
    Result<std::vector<Forecast>> f = ForecastDemand(h, c);
    ASSERT_TRUE(f.ok());
    EXPECT_TRUE(std::isfinite((*f)[0].high));
    EXPECT_LE((*f)[0].low, (*f)[0].point);
    EXPECT_GE((*f)[0].high, (*f)[0].point);
  }
}

// Standard normal deviates from a portable generator (Box-Muller on mt19937_64), so the test
// draws the same numbers everywhere.
double Normal(std::mt19937_64& rng) {
  auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) / 9007199254740992.0; };
  return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * M_PI * uniform());
}

TEST(Forecast, IntervalsCoverTheNextValueAtTheStatedRate) {
  // 4000 series of 12 periods from a trend with normal noise, far from 0 so the cut never acts;
  // the next value must fall inside the c interval about a fraction c of the time (measured:
  // 49.8%, 89.6% and 99.05% at 50%, 90% and 99%).
  constexpr uint32_t kSeries = 4000;
  constexpr int kPeriods = 12;
  std::mt19937_64 rng(2024);
  History h;
  h.products = kSeries;
  h.last_period = kPeriods - 1;
  h.start.push_back(0);
  std::vector<double> next(kSeries);
  for (uint32_t j = 0; j < kSeries; ++j) {
    const double level = 1000 + static_cast<double>(j % 17) * 50, slope = static_cast<double>(j % 7) - 3;
    for (int t = 0; t <= kPeriods; ++t) {
      const double q = level + slope * t + 10 * Normal(rng);
      if (t == kPeriods) {
        next[j] = q;
      } else {
        h.period.push_back(t);
        h.quantity.push_back(std::llround(q * 1e6));
      }
    }
    h.start.push_back(h.period.size());
  }
  struct Case {
    int64_t coverage_micro;
    double low, high;  // about +-4 binomial standard deviations
  };
  for (const Case& c : {Case{500'000, 0.47, 0.53}, Case{k90, 0.88, 0.92}, Case{990'000, 0.983, 0.996}}) {
    Result<std::vector<Forecast>> f = ForecastDemand(h, c.coverage_micro);
    ASSERT_TRUE(f.ok());
    uint32_t covered = 0;
    for (uint32_t j = 0; j < kSeries; ++j) covered += (*f)[j].low <= next[j] && next[j] <= (*f)[j].high;
    const double rate = static_cast<double>(covered) / kSeries;
    EXPECT_GT(rate, c.low) << c.coverage_micro;
    EXPECT_LT(rate, c.high) << c.coverage_micro;
  }
}

TEST(HistoryFile, BadRowsAreRejectedWithTheirLineNumbers) {
  const std::string header = "product,period,quantity\n";
  EXPECT_EQ(ParseError(""), "history.csv: empty file; expected the header 'product,period,quantity'");
  EXPECT_EQ(ParseError("product,quantity,period\n1,1,1\n"),
            "history.csv line 1: expected the header 'product,period,quantity'");
  EXPECT_EQ(ParseError(header), "history.csv: no history rows");
  EXPECT_EQ(ParseError(header + "# only a comment\n\n"), "history.csv: no history rows");
  EXPECT_EQ(ParseError(header + "1,1\n"), "history.csv line 2: expected 3 fields 'product,period,quantity'");
  EXPECT_EQ(ParseError(header + "1,1,1,1\n"), "history.csv line 2: expected 3 fields 'product,period,quantity'");
  EXPECT_EQ(ParseError(header + "1,1,1\n0,1,1\n"), "history.csv line 3: product 0 outside 1..3");
  EXPECT_EQ(ParseError(header + "4,1,1\n"), "history.csv line 2: product 4 outside 1..3");
  EXPECT_EQ(ParseError(header + "x,1,1\n"), "history.csv line 2: bad product number 'x'");
  for (const char* period : {"-1", "1.5", "", " 1", "+2", "1000000001", "99999999999999999999"}) {
    EXPECT_EQ(ParseError(header + "1," + period + ",1\n"), "history.csv line 2: period must be an integer 0..1000000000")
        << period;
  }
  EXPECT_NE(ParseError(header + "1,1,-1\n").find("line 2: quantity must be non-negative"), std::string::npos);
  EXPECT_NE(ParseError(header + "1,1,0.0000001\n").find("line 2: quantity:"), std::string::npos);
  EXPECT_NE(ParseError(header + "1,1,1000000000001\n").find("line 2: quantity:"), std::string::npos);
  EXPECT_NE(ParseError(header + "1,1,abc\n").find("line 2: quantity:"), std::string::npos);
  const std::string order = "history.csv line 4: rows must be in increasing (product, period) order, each pair once";
  EXPECT_EQ(ParseError(header + "1,1,1\n1,3,1\n1,2,1\n"), order);
  EXPECT_EQ(ParseError(header + "1,1,1\n1,3,1\n1,3,1\n"), order);
  EXPECT_EQ(ParseError(header + "1,1,1\n2,3,1\n1,5,1\n"), order);
  EXPECT_EQ(ParseError(header + std::string(5000, '1') + "\n"), "history.csv line 2: line longer than 4096 bytes");
  // A series longer than kMaxHistoryPeriods is refused at the product's first row.
  EXPECT_EQ(ParseError(header + "1,5,1\n2,0,1\n2,1000,1\n"),
            "history.csv line 3: product 2's series runs from period 0 to 1000, 1001 periods; at most 1000");
  EXPECT_TRUE(ParseHistory(header + "1,5,1\n2,1,1\n2,1000,1\n", "h", 3).ok());
  // CRLF, comments and blank lines are fine.
  History h = Parse("# from the ledger\r\nproduct,period,quantity\r\n\r\n1,7,2.5\r\n# gap\r\n1,9,3\r\n", 3);
  EXPECT_EQ(h.last_period, 9);
  EXPECT_EQ(h.quantity, (std::vector<int64_t>{2'500'000, 3'000'000}));
  EXPECT_EQ(h.start, (std::vector<uint64_t>{0, 2, 2, 2}));
}

std::string TwoSectorMatrix() {
  return "%%MatrixMarket matrix coordinate real general\n2 2 4\n1 1 0.2\n1 2 0.3\n2 1 0.4\n2 2 0.1\n";
}

// The two-sector economy of plan_test.cc: (I - A)^-1 = [[1.5, 0.5], [2/3, 4/3]], v = (17/12, 19/12)
// for l = (0.5, 1). Demand forecasts: product 1 in [17 - m, 17 + m] (m = 3 * 0.9 sqrt(2 / 0.19)),
// product 2 exactly 20.
TEST(Guide, GrossOutputsAndCapAcrossTheDemandIntervalByHand) {
  Result<Economy> e = ParseEconomyWithoutDemand(TwoSectorMatrix(), "product,name,labour_hours,capacity\n1,grain,0.5,40\n2,steel,1,\n");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  History h = Parse("product,period,quantity\n1,1,10\n1,2,14\n1,3,12\n1,4,16\n2,1,20\n2,2,20\n2,3,20\n2,4,20\n", 2);
  for (uint32_t direct : {256u, 0u}) {  // LU and the extrapolated Richardson iteration
    SolverOptions options;
    options.direct_max_products = direct;
    auto solver = LeontiefSolver::Create(e->a, options);
    ASSERT_TRUE(solver.ok());
    Result<Guidance> g = Guide(*e, h, k90, **solver);
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    EXPECT_EQ(g->period, 5);
    const double m = 3 * 0.9 * std::sqrt(2 / 0.19);
    EXPECT_NEAR(g->gross_point[0], 1.5 * 17 + 0.5 * 20, 1e-8);  // 35.5
    EXPECT_NEAR(g->gross_point[1], 17 * 2.0 / 3 + 20 * 4.0 / 3, 1e-8);  // 38
    EXPECT_NEAR(g->gross_low[0], 1.5 * (17 - m) + 10, 1e-8);
    EXPECT_NEAR(g->gross_high[0], 1.5 * (17 + m) + 10, 1e-8);
    EXPECT_NEAR(g->gross_low[1], (17 - m) * 2 / 3 + 80.0 / 3, 1e-8);
    EXPECT_NEAR(g->gross_high[1], (17 + m) * 2 / 3 + 80.0 / 3, 1e-8);
    EXPECT_NEAR(g->cap_point, 17.0 / 12 * 17 + 19.0 / 12 * 20, 1e-8);  // 55.75 hours
    EXPECT_NEAR(g->cap_low, 17.0 / 12 * (17 - m) + 19.0 / 12 * 20, 1e-8);
    EXPECT_NEAR(g->cap_high, 17.0 / 12 * (17 + m) + 19.0 / 12 * 20, 1e-8);
  }
}

TEST(Guide, BoundsHoldForEveryDemandInsideTheBox) {
  // A random productive economy; the exact fixed-point plan of any demand inside the forecast box
  // (made and certified by MakePlan) lies between the guidance's gross outputs.
  constexpr uint32_t n = 40;
  std::mt19937_64 rng(11);
  std::string matrix;
  size_t nnz = 0;
  for (uint32_t j = 0; j < n; ++j) {
    for (uint32_t t = 0; t < 4; ++t) {
      matrix += std::to_string((j * 7 + t * 13) % n + 1) + " " + std::to_string(j + 1) + " 0.15" + std::to_string(t) + "\n";
      ++nnz;
    }
  }
  matrix = "%%MatrixMarket matrix coordinate real general\n" + std::to_string(n) + " " + std::to_string(n) + " " +
           std::to_string(nnz) + "\n" + matrix;
  std::string products = "product,name,labour_hours,capacity\n", history = "product,period,quantity\n";
  for (uint32_t j = 0; j < n; ++j) {
    products += std::to_string(j + 1) + ",," + std::to_string(1 + j % 3) + ",\n";
    for (int p = 1; p <= 8; ++p) {
      history += std::to_string(j + 1) + "," + std::to_string(p) + "," + std::to_string(50 + rng() % 100) + "\n";
    }
  }
  Result<Economy> e = ParseEconomyWithoutDemand(matrix, products);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  Result<History> h = ParseHistory(history, "h", n);
  ASSERT_TRUE(h.ok());
  auto solver = LeontiefSolver::Create(e->a, SolverOptions{});
  ASSERT_TRUE(solver.ok());
  Result<Guidance> g = Guide(*e, *h, k90, **solver);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  for (int trial = 0; trial < 20; ++trial) {
    std::string demand = "product,consumer,public,accumulation\n";
    for (uint32_t j = 0; j < n; ++j) {
      const Forecast& f = g->demand[j];
      const double u = trial == 0 ? 0.0 : trial == 1 ? 1.0 : static_cast<double>(rng() % 1001) / 1000;
      const auto lo = static_cast<int64_t>(std::llround(f.low * 1e6)), hi = static_cast<int64_t>(std::llround(f.high * 1e6));
      const auto micro = static_cast<int64_t>(std::llround((f.low + u * (f.high - f.low)) * 1e6));
      demand += std::to_string(j + 1) + "," + FormatFixed(std::clamp(micro, lo, hi), 6) + ",0,0\n";
    }
    Result<Economy> with_demand = ParseEconomy(matrix, products, demand);
    ASSERT_TRUE(with_demand.ok()) << with_demand.status().ToString();
    Result<MadePlan> plan = MakePlan(*with_demand, SolverOptions{});
    ASSERT_TRUE(plan.ok()) << plan.status().ToString();
    for (uint32_t j = 0; j < n; ++j) {
      const double x = static_cast<double>(plan->plan.gross_output_micro(static_cast<int>(j))) / 1e6;
      EXPECT_GE(x, g->gross_low[j] - 1e-5) << j;
      EXPECT_LE(x, g->gross_high[j] + 1e-5) << j;
    }
  }
}

TEST(Guide, NonProductiveEconomyIsRefused) {
  Result<Economy> e = ParseEconomyWithoutDemand(
      "%%MatrixMarket matrix coordinate real general\n2 2 4\n1 1 0.6\n1 2 0.5\n2 1 0.5\n2 2 0.6\n",
      "product,name,labour_hours,capacity\n1,,1,\n2,,1,\n");
  ASSERT_TRUE(e.ok());
  History h = Parse("product,period,quantity\n1,1,1\n1,2,2\n1,3,3\n", 2);
  auto solver = LeontiefSolver::Create(e->a, SolverOptions{});
  ASSERT_TRUE(solver.ok());  // I - A is invertible; (I - A)^-1 is not non-negative
  Result<Guidance> g = Guide(*e, h, k90, **solver);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), "NON_PRODUCTIVE");
}

TEST(Guide, EconomyWithoutDemandKeepsTheInputHashes) {
  const std::string products = "product,name,labour_hours,capacity\n1,a,1,\n2,b,2,\n";
  Result<Economy> e = ParseEconomyWithoutDemand(TwoSectorMatrix(), products);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->Demand(0), 0);
  EXPECT_EQ(e->Demand(1), 0);
  EXPECT_EQ(e->matrix_sha256, Sha256Of(AsBytes(TwoSectorMatrix())));
  EXPECT_EQ(e->products_sha256, Sha256Of(AsBytes(products)));
  EXPECT_EQ(e->demand_sha256, Sha256Digest{});
  EXPECT_EQ(ParseEconomyWithoutDemand(TwoSectorMatrix(), "product,name,labour_hours,capacity\n1,a,1,\n").status().code(),
            "BAD_INPUT");
}

}  // namespace
}  // namespace gongshe::planner
