#pragma once
// Guidance with uncertainty (planner/README.md, "Guidance"): from what was taken of each product
// in past periods, a forecast of next period's consumer demand with a prediction interval, and how
// the plan's gross outputs and issuance cap move across that interval.
//
// Forecast, per product: an ordinary least-squares linear trend q_t = a + b t over the product's
// series, with the classical prediction interval of the next value at two-sided coverage c:
//   q^ = a + b T,   q^ +- t_{(1+c)/2, T-2} s sqrt(1 + 1/T + (T - t_bar)^2 / S_tt),
//   s^2 = (sum of squared residuals) / (T - 2),  t = 0..T-1,  t_bar = (T-1)/2,  S_tt = T (T^2-1) / 12,
// which holds exactly when the deviations from the trend are independent and normal with constant
// variance; Student's t quantile is computed from its closed-form distribution function for integer
// degrees of freedom (Abramowitz & Stegun 26.7.3-4). Quantities cannot be negative, so the
// forecast and both ends are cut at 0 (this changes no coverage: the true value is >= 0).
//
// Sensitivity: for a productive economy L = (I - A)^-1 >= 0, so for every demand d with
// d_low <= d <= d_high componentwise, L d_low <= L d <= L d_high: the gross outputs of the two ends
// bound those of every demand in the box, exactly (not a linearisation). The same holds for the
// issuance cap v . d with v = l L >= 0. Productivity is proved exactly first (ProveProductive).
// The box's joint coverage is below c when there are several products (at least 1 - n (1 - c)).
//
// Floating point: the guidance is advice, never committed or checked by validators, so it is
// computed in IEEE double (sums of the series exactly in integers; results rounded to 10^-6 units
// for display). It is deterministic for a given build and input, but not guaranteed bit-identical
// across compilers or CPUs.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "common/status.h"
#include "planner/model.h"
#include "planner/solver.h"

namespace gongshe::planner {

// The demand history: per product, quantities taken in past periods (consumer demand). File
// format (CSV, strict like the other inputs): header `product,period,quantity`; rows in strictly
// increasing (product, period) order; period an integer 0..kMaxPeriod; quantity in [0, 10^12]
// units with up to 6 decimals. A product's series runs from its first listed period to the last
// period of the whole file; periods not listed in between count as 0 (nothing taken). Products
// without rows have no consumer demand (forecast 0, interval [0, 0]).
struct History {
  uint32_t products = 0;
  int64_t last_period = 0;         // the latest period in the file; forecasts are for last_period + 1
  std::vector<uint64_t> start;     // products + 1: product j's rows are [start[j], start[j+1])
  std::vector<int64_t> period;     // strictly increasing within a product
  std::vector<int64_t> quantity;   // 10^-6 units, >= 0
};

inline constexpr int64_t kMaxPeriod = 1'000'000'000;
inline constexpr int64_t kMaxHistoryPeriods = 1'000;  // longest series (first period .. last period)
inline constexpr int kMinHistoryPeriods = 3;           // a trend and its residual spread need T >= 3

// Errors: BAD_INPUT with the label and line (malformed row, order, range, a series longer than
// kMaxHistoryPeriods, no rows at all).
Result<History> ParseHistory(std::string_view text, const std::string& label, uint32_t products);
Result<History> LoadHistory(const std::string& path, uint32_t products);

struct Forecast {
  uint32_t periods = 0;  // T, the series length; 0 for a product without history
  double point = 0;      // q^, units, >= 0
  double low = 0, high = 0;  // the prediction interval, units, 0 <= low <= point <= high
  double slope = 0;          // b, units per period
  double residual_sd = 0;    // s
};

// P(|T| <= t) = coverage for Student's t with `degrees` >= 1 degrees of freedom; coverage in (0, 1).
double StudentTQuantile(double coverage, int degrees);

// Coverage as millionths, 1..999,999 (e.g. 900,000 for 90%): exact, so every run reads the same.
// Errors: INSUFFICIENT_HISTORY (a product with fewer than kMinHistoryPeriods periods).
Result<std::vector<Forecast>> ForecastDemand(const History& history, int64_t coverage_micro);

struct Guidance {
  int64_t period = 0;            // the forecast period
  int64_t coverage_micro = 0;
  std::vector<Forecast> demand;  // per product
  // Gross outputs for the low, point and high demand (units); low <= x <= high for every demand
  // inside the box.
  Eigen::VectorXd gross_low, gross_point, gross_high;
  double cap_low = 0, cap_point = 0, cap_high = 0;  // issuance cap v . d, hours
};

// Forecasts and their consequences for the economy (whose own final demand is ignored).
// Errors: those of ForecastDemand and of the solver; NON_PRODUCTIVE when productivity cannot be
// proved exactly (the bounds would not hold).
Result<Guidance> Guide(const Economy& e, const History& history, int64_t coverage_micro, LeontiefSolver& solver);

}  // namespace gongshe::planner
