#include "planner/plan.h"

#include <algorithm>
#include <cmath>

#include "planner/fixed_point.h"

namespace gongshe::planner {
namespace {

constexpr int kMaxRefinements = 4;
// Largest magnitude rounded into int64 fixed point: 2^62.
constexpr double kMaxScaled = 4.611686018427387904e18;

std::string Name(const Economy& e, uint32_t j) {
  return "product " + std::to_string(j + 1) + (e.names[j].empty() ? "" : " (" + e.names[j] + ")");
}

Eigen::VectorXd ToFloating(const std::vector<int64_t>& v, double scale) {
  Eigen::VectorXd out(static_cast<Eigen::Index>(v.size()));
  for (size_t j = 0; j < v.size(); ++j) out[static_cast<Eigen::Index>(j)] = static_cast<double>(v[j]) / scale;
  return out;
}

// Rounds y * scale to int64. Values below -0.5 units in the last place are reported by the
// caller-supplied check; tiny negatives (solver noise around 0) round to 0.
Status Round(const Eigen::VectorXd& y, double scale, std::vector<int64_t>& out) {
  out.resize(static_cast<size_t>(y.size()));
  for (Eigen::Index j = 0; j < y.size(); ++j) {
    double scaled = std::nearbyint(y[j] * scale);
    if (!(std::fabs(scaled) < kMaxScaled)) {
      return Status("QUANTITY_TOO_LARGE", "a planned figure (" + std::to_string(y[j]) + ") leaves the fixed-point range");
    }
    out[static_cast<size_t>(j)] = static_cast<int64_t>(scaled);
  }
  return Status::Ok();
}

// Rounds a solution to fixed point, then corrects it with the exact residual until `check`
// passes or kMaxRefinements corrections were tried. `solve` solves the same system again;
// `residual_scale` converts an exact residual to the floating right-hand side's units.
template <typename SolveFn, typename CheckFn>
Result<std::vector<int64_t>> RoundAndRefine(Eigen::VectorXd y, double scale, double residual_scale, SolveFn solve,
                                            CheckFn check, int& refinements) {
  std::vector<int64_t> fixed;
  for (int round = 0;; ++round) {
    GS_RETURN_IF_ERROR(Round(y, scale, fixed));
    std::vector<Int128> residuals;
    ResidualCheck c = check(fixed, residuals);
    if (c.ok() || round == kMaxRefinements) return fixed;
    Eigen::VectorXd correction_rhs(y.size());
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      correction_rhs[i] = -static_cast<double>(residuals[static_cast<size_t>(i)]) / residual_scale;
    }
    Result<Eigen::VectorXd> correction = solve(correction_rhs);
    if (!correction.ok()) return correction.status();
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      y[i] = static_cast<double>(fixed[static_cast<size_t>(i)]) / scale + (*correction)[i];
    }
    ++refinements;
  }
}

// A vector proving productivity (planner/certificate.h): v itself when every l_j > 0 and v
// passes, else a separate witness (`separate` says which).
Result<std::vector<int64_t>> Witness(const Economy& e, LeontiefSolver& solver, const std::vector<int64_t>& v,
                                     bool& separate) {
  separate = !std::all_of(e.labour.begin(), e.labour.end(), [](int64_t l) { return l > 0; });
  if (!separate && FirstWitnessFailure(e.a, v) < 0) return std::vector<int64_t>{};
  separate = true;
  return ProveProductive(e, solver);
}

}  // namespace

Result<std::vector<int64_t>> ProveProductive(const Economy& e, LeontiefSolver& solver) {
  // For a productive economy w = (I - A)^-T 1 >= 1 and w (I - A) = 1 > 0.
  Result<Eigen::VectorXd> w = solver.SolveTransposed(Eigen::VectorXd::Ones(e.n()));
  if (!w.ok()) return w.status();
  std::vector<int64_t> fixed;
  GS_RETURN_IF_ERROR(Round(*w, static_cast<double>(kValueScale), fixed));
  int64_t failure = FirstWitnessFailure(e.a, fixed);
  if (failure >= 0) {
    return Status("NON_PRODUCTIVE", "the economy is not productive (spectral radius of A >= 1): (I - A)^-1 is not "
                                    "non-negative, first seen at " + Name(e, static_cast<uint32_t>(failure)));
  }
  return fixed;
}

Result<MadePlan> MakePlan(const Economy& e, const SolverOptions& options) {
  const uint32_t n = e.n();
  Result<std::unique_ptr<LeontiefSolver>> created = LeontiefSolver::Create(e.a, options);
  if (!created.ok()) return created.status();
  LeontiefSolver& solver = **created;
  std::vector<int64_t> demand(n);
  for (uint32_t j = 0; j < n; ++j) demand[j] = e.Demand(j);
  MadePlan made;
  made.stats.method = solver.method();

  Result<SolvedPair> solved = solver.SolveBoth(ToFloating(demand, static_cast<double>(kQuantityScale)),
                                               ToFloating(e.labour, static_cast<double>(kCoefficientScale)));
  if (!solved.ok()) return solved.status();
  Result<std::vector<int64_t>> v = RoundAndRefine(
      std::move(solved->y), static_cast<double>(kValueScale), 1e18, [&](const Eigen::VectorXd& b) { return solver.SolveTransposed(b); },
      [&](const std::vector<int64_t>& f, std::vector<Int128>& r) { return CheckDual(e, f, &r); },
      made.stats.refinements);
  if (!v.ok()) return v.status();
  bool separate = false;
  Result<std::vector<int64_t>> witness = Witness(e, solver, *v, separate);
  if (!witness.ok()) return witness.status();

  const Eigen::VectorXd& x_float = solved->x;
  for (uint32_t j = 0; j < n; ++j) {
    if (x_float[j] * static_cast<double>(kQuantityScale) < -0.5) {
      return Status("NO_NONNEGATIVE_SOLUTION", "no non-negative solution: " + Name(e, j) + " would need gross output " +
                                                   std::to_string(x_float[j]) + " (final demand draws down more "
                                                   "than the economy produces)");
    }
  }
  Result<std::vector<int64_t>> x = RoundAndRefine(
      x_float, static_cast<double>(kQuantityScale), 1e15, [&](const Eigen::VectorXd& b) { return solver.Solve(b); },
      [&](const std::vector<int64_t>& f, std::vector<Int128>& r) { return CheckPrimal(e, f, &r); },
      made.stats.refinements);
  if (!x.ok()) return x.status();
  for (uint32_t j = 0; j < n; ++j) {
    if ((*x)[j] < 0 || (*v)[j] < 0) {
      return Status("NO_NONNEGATIVE_SOLUTION", "no non-negative solution: " + Name(e, j) + " has gross output " +
                                                   FormatFixed((*x)[j], kQuantityDecimals) + " and labour value " +
                                                   FormatFixed((*v)[j], kValueDecimals));
    }
    if (e.capacity[j] != Economy::kNoCapacity && (*x)[j] > e.capacity[j]) {
      return Status("OVER_CAPACITY", Name(e, j) + " needs gross output " + FormatFixed((*x)[j], kQuantityDecimals) +
                                         ", over its capacity " + FormatFixed(e.capacity[j], kQuantityDecimals));
    }
  }
  Result<LabourTotals> totals = ComputeLabourTotals(e, *x, *v);
  if (!totals.ok()) return totals.status();

  v1::Plan& p = made.plan;
  p.set_version(1);
  p.set_products(n);
  p.set_matrix_sha256(std::string(e.matrix_sha256.begin(), e.matrix_sha256.end()));
  p.set_products_sha256(std::string(e.products_sha256.begin(), e.products_sha256.end()));
  p.set_demand_sha256(std::string(e.demand_sha256.begin(), e.demand_sha256.end()));
  p.mutable_gross_output_micro()->Add(x->begin(), x->end());
  p.mutable_labour_value_nano()->Add(v->begin(), v->end());
  p.mutable_productivity_witness_nano()->Add(witness->begin(), witness->end());
  p.set_consumer_labour_micro_hours(totals->consumer);
  p.set_public_labour_micro_hours(totals->public_projects);
  p.set_accumulation_labour_micro_hours(totals->accumulation);
  p.set_total_labour_micro_hours(totals->total);
  made.stats.passes = solver.total_passes();
  made.stats.iterations = solver.total_iterations();
  made.stats.fallbacks = solver.fallbacks();
  return made;
}

Result<Explanation> Explain(const Economy& e, LeontiefSolver& solver, uint32_t product, size_t top) {
  Eigen::VectorXd demand(e.n());
  for (uint32_t j = 0; j < e.n(); ++j) {
    demand[j] = static_cast<double>(e.Demand(j)) / static_cast<double>(kQuantityScale);
  }
  return Explain(solver, demand, product, top);
}

Result<Explanation> Explain(LeontiefSolver& solver, const Eigen::VectorXd& demand, uint32_t product, size_t top) {
  const auto n = static_cast<uint32_t>(demand.size());
  if (product >= n) {
    return Status("BAD_PRODUCT", "product " + std::to_string(product + 1) + " outside 1.." + std::to_string(n));
  }
  Eigen::VectorXd unit = Eigen::VectorXd::Zero(n);
  unit[product] = 1.0;
  Result<Eigen::VectorXd> row = solver.SolveTransposed(unit);
  if (!row.ok()) return row.status();
  Explanation out;
  out.product = product;
  std::vector<Driver> drivers;
  for (uint32_t j = 0; j < n; ++j) {
    double contribution = (*row)[j] * demand[j];
    out.gross_output += contribution;
    if (contribution != 0) drivers.push_back({j, (*row)[j], demand[j], contribution});
  }
  size_t keep = std::min(top, drivers.size());
  std::partial_sort(drivers.begin(), drivers.begin() + static_cast<std::ptrdiff_t>(keep), drivers.end(),
                    [](const Driver& a, const Driver& b) {
                      double fa = std::fabs(a.contribution), fb = std::fabs(b.contribution);
                      return fa != fb ? fa > fb : a.product < b.product;
                    });
  drivers.resize(keep);
  out.drivers = std::move(drivers);
  return out;
}

}  // namespace gongshe::planner
