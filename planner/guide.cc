#include "planner/guide.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/file.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"
#include "planner/text_input.h"

namespace gongshe::planner {
namespace {

constexpr double kUnits = static_cast<double>(kQuantityScale);

// P(|T| <= t) for Student's t with nu degrees of freedom, from the closed forms of
// Abramowitz & Stegun 26.7.3 (odd nu) and 26.7.4 (even nu), theta = atan(t / sqrt(nu)):
//   odd:  (2/pi) (theta + sin(theta) sum_{m=0}^{(nu-3)/2} a_m cos^{2m+1}(theta)),  a_0 = 1, a_m = a_{m-1} 2m/(2m+1)
//   even: sin(theta) sum_{m=0}^{(nu-2)/2} b_m cos^{2m}(theta),                     b_0 = 1, b_m = b_{m-1} (2m-1)/(2m)
double TwoSidedT(double t, int nu) {
  const double theta = std::atan(t / std::sqrt(static_cast<double>(nu)));
  const double s = std::sin(theta), c = std::cos(theta), c2 = c * c;
  double sum = 0;
  if (nu % 2 == 1) {
    double term = c;  // a_0 cos(theta)
    for (int m = 0; m <= (nu - 3) / 2; ++m) {
      sum += term;
      term *= c2 * (2.0 * (m + 1)) / (2.0 * (m + 1) + 1.0);
    }
    return 2.0 / std::numbers::pi * (theta + s * sum);
  }
  double term = 1.0;  // b_0
  for (int m = 0; m <= (nu - 2) / 2; ++m) {
    sum += term;
    term *= c2 * (2.0 * (m + 1) - 1.0) / (2.0 * (m + 1));
  }
  return s * sum;
}

std::string ProductName(uint32_t j) { return "product " + std::to_string(j + 1); }

// The trend forecast of one product's series (rows [begin, end) of the history).
Result<Forecast> ForecastOne(const History& h, uint32_t j, double coverage, std::vector<double>& quantiles) {
  const uint64_t begin = h.start[j], end = h.start[j + 1];
  Forecast f;
  if (begin == end) return f;
  const int64_t first = h.period[begin];
  const int64_t periods = h.last_period - first + 1;
  GS_ASSERT(periods >= 1 && periods <= kMaxHistoryPeriods);
  if (periods < kMinHistoryPeriods) {
    return Status("INSUFFICIENT_HISTORY",
                  ProductName(j) + " has " + std::to_string(periods) + " period(s) of history (" + std::to_string(first) +
                      ".." + std::to_string(h.last_period) + "); a forecast interval needs at least " +
                      std::to_string(kMinHistoryPeriods) + ": list earlier periods, with 0 where nothing was taken");
  }
  // Exact sums in 10^-6 units (q <= 10^18, T <= 1000: sum t q < 10^24).
  Int128 sum_q = 0, sum_tq = 0;
  for (uint64_t k = begin; k < end; ++k) {
    sum_q += h.quantity[k];
    sum_tq += static_cast<Int128>(h.period[k] - first) * h.quantity[k];
  }
  const double n = static_cast<double>(periods);
  const double t_bar = (n - 1) / 2;
  const double s_tt = n * (n * n - 1) / 12;
  const double mean = static_cast<double>(sum_q) / n / kUnits;
  // b = sum (t - t_bar) q / S_tt = 6 (2 sum t q - (T-1) sum q) / (T (T^2 - 1)).
  const Int128 numerator = 2 * sum_tq - static_cast<Int128>(periods - 1) * sum_q;
  const double slope = 6.0 * static_cast<double>(numerator) / (n * (n * n - 1)) / kUnits;
  double sse = 0;
  uint64_t k = begin;
  for (int64_t t = 0; t < periods; ++t) {  // every period, the unlisted ones as 0
    double q = 0;
    if (k < end && h.period[k] == first + t) q = static_cast<double>(h.quantity[k++]) / kUnits;
    const double e = q - mean - slope * (static_cast<double>(t) - t_bar);
    sse += e * e;
  }
  const double s = std::sqrt(sse / (n - 2));
  const double ahead = n - t_bar;  // the forecast period T minus t_bar
  const double se = s * std::sqrt(1 + 1 / n + ahead * ahead / s_tt);
  const auto degrees = static_cast<size_t>(periods - 2);
  if (quantiles[degrees] == 0) quantiles[degrees] = StudentTQuantile(coverage, static_cast<int>(degrees));
  const double predicted = mean + slope * ahead;
  const double margin = quantiles[degrees] * se;
  f.periods = static_cast<uint32_t>(periods);
  f.point = std::max(predicted, 0.0);
  f.low = std::max(predicted - margin, 0.0);
  f.high = std::max(predicted + margin, 0.0);
  f.slope = slope;
  f.residual_sd = s;
  return f;
}

}  // namespace

double StudentTQuantile(double coverage, int degrees) {
  GS_ASSERT(coverage > 0 && coverage < 1 && degrees >= 1);
  double low = 0, high = 1;
  for (int i = 0; i < 64 && TwoSidedT(high, degrees) < coverage; ++i) high *= 2;  // 2^64 > any quantile here
  for (int i = 0; i < 200 && high - low > 1e-15 * high; ++i) {  // bisection: TwoSidedT increases in t
    const double mid = (low + high) / 2;
    (TwoSidedT(mid, degrees) < coverage ? low : high) = mid;
  }
  return (low + high) / 2;
}

Result<History> ParseHistory(std::string_view text_in, const std::string& label, uint32_t products) {
  GS_ASSERT(products > 0);
  text::LineReader lines(text_in, label);
  GS_RETURN_IF_ERROR(text::ExpectHeader(lines, "product,period,quantity"));
  History h;
  h.products = products;
  h.start.assign(uint64_t{products} + 1, 0);
  std::vector<uint64_t> first_line(products, 0);
  int64_t previous_product = -1, previous_period = -1;
  std::string_view line;
  for (;;) {  // bounded by the number of lines of the text
    Result<bool> more = lines.Next(line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (text::IsCommentOrBlank(line)) continue;
    std::vector<std::string_view> f = text::SplitCommas(line);
    if (f.size() != 3) return lines.Error("expected 3 fields 'product,period,quantity'");
    Result<uint32_t> k = text::ProductIndex(lines, f[0], products);
    if (!k.ok()) return k.status();
    uint64_t period = 0;
    if (!text::ParseUnsigned(f[1], period) || period > static_cast<uint64_t>(kMaxPeriod)) {
      return lines.Error("period must be an integer 0.." + std::to_string(kMaxPeriod));
    }
    Result<int64_t> q = text::Field(lines, f[2], "quantity", kQuantityDecimals, kMaxQuantity, false);
    if (!q.ok()) return q.status();
    const auto product = static_cast<int64_t>(*k), p = static_cast<int64_t>(period);
    if (product < previous_product || (product == previous_product && p <= previous_period)) {
      return lines.Error("rows must be in increasing (product, period) order, each pair once");
    }
    if (product != previous_product) first_line[*k] = lines.number();
    h.period.push_back(p);
    h.quantity.push_back(*q);
    ++h.start[*k + 1];
    h.last_period = std::max(h.last_period, p);
    previous_product = product;
    previous_period = p;
  }
  if (h.period.empty()) return Status("BAD_INPUT", label + ": no history rows");
  for (uint32_t j = 0; j < products; ++j) h.start[j + 1] += h.start[j];
  for (uint32_t j = 0; j < products; ++j) {
    if (h.start[j] == h.start[j + 1]) continue;
    const int64_t span = h.last_period - h.period[h.start[j]] + 1;
    if (span > kMaxHistoryPeriods) {
      return Status("BAD_INPUT", label + " line " + std::to_string(first_line[j]) + ": " + ProductName(j) +
                                     "'s series runs from period " + std::to_string(h.period[h.start[j]]) + " to " +
                                     std::to_string(h.last_period) + ", " + std::to_string(span) +
                                     " periods; at most " + std::to_string(kMaxHistoryPeriods));
    }
  }
  return h;
}

Result<History> LoadHistory(const std::string& path, uint32_t products) {
  Result<std::string> bytes = ReadFileBytes(path, kMaxFileBytes);
  if (!bytes.ok()) return bytes.status();
  return ParseHistory(*bytes, path, products);
}

Result<std::vector<Forecast>> ForecastDemand(const History& history, int64_t coverage_micro) {
  GS_ASSERT(coverage_micro > 0 && coverage_micro < kQuantityScale);
  const double coverage = static_cast<double>(coverage_micro) / 1e6;
  std::vector<double> quantiles(static_cast<size_t>(kMaxHistoryPeriods) + 1, 0.0);  // by degrees of freedom
  std::vector<Forecast> out(history.products);
  for (uint32_t j = 0; j < history.products; ++j) {
    Result<Forecast> f = ForecastOne(history, j, coverage, quantiles);
    if (!f.ok()) return f.status();
    out[j] = *f;
  }
  return out;
}

Result<Guidance> Guide(const Economy& e, const History& history, int64_t coverage_micro, LeontiefSolver& solver) {
  GS_ASSERT(history.products == e.n());
  const uint32_t n = e.n();
  Result<std::vector<Forecast>> forecasts = ForecastDemand(history, coverage_micro);
  if (!forecasts.ok()) return forecasts.status();
  Result<std::vector<int64_t>> witness = ProveProductive(e, solver);  // L >= 0, or the bounds fail
  if (!witness.ok()) return witness.status();
  Eigen::VectorXd low(n), point(n), high(n), labour(n);
  for (uint32_t j = 0; j < n; ++j) {
    low[j] = (*forecasts)[j].low;
    point[j] = (*forecasts)[j].point;
    high[j] = (*forecasts)[j].high;
    labour[j] = static_cast<double>(e.labour[j]) / static_cast<double>(kCoefficientScale);
  }
  Guidance g;
  g.period = history.last_period + 1;
  g.coverage_micro = coverage_micro;
  for (auto [d, x] : {std::pair{&low, &g.gross_low}, std::pair{&point, &g.gross_point}, std::pair{&high, &g.gross_high}}) {
    Result<Eigen::VectorXd> solved = solver.Solve(*d);
    if (!solved.ok()) return solved.status();
    *x = solved->cwiseMax(0.0);  // L d >= 0 exactly; only rounding noise is below 0
  }
  Result<Eigen::VectorXd> values = solver.SolveTransposed(labour);
  if (!values.ok()) return values.status();
  const Eigen::VectorXd v = values->cwiseMax(0.0);
  g.cap_low = v.dot(low);
  g.cap_point = v.dot(point);
  g.cap_high = v.dot(high);
  g.demand = std::move(forecasts).value();
  return g;
}

}  // namespace gongshe::planner
