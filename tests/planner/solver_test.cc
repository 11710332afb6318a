// The floating-point solvers: the extrapolated Richardson iteration against sparse LU, its
// componentwise stopping rule, the shared pass of SolveBoth, threads, the extrapolation itself,
// and the fallback to BiCGSTAB.

#include "planner/solver.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "planner/fixed_point.h"

namespace gongshe::planner {
namespace {

// k distinct random inputs per column, column j summing to a value drawn in [sum_low, sum_high]
// (units of 10^-9), so the spectral radius lies in that range.
SparseFixed RandomA(uint32_t n, uint32_t k, int64_t sum_low, int64_t sum_high, uint64_t seed) {
  std::mt19937_64 rng(seed);
  SparseFixed a;
  a.n = n;
  a.col_start.assign(uint64_t{n} + 1, 0);
  for (uint32_t j = 0; j < n; ++j) {
    std::vector<uint32_t> rows;
    while (rows.size() < std::min(k, n)) {
      uint32_t i = static_cast<uint32_t>(rng() % n);
      if (std::find(rows.begin(), rows.end(), i) == rows.end()) rows.push_back(i);
    }
    std::sort(rows.begin(), rows.end());
    const int64_t sum = sum_low + static_cast<int64_t>(rng() % static_cast<uint64_t>(sum_high - sum_low + 1));
    for (uint32_t i : rows) {
      a.row.push_back(i);
      a.coef.push_back(sum / static_cast<int64_t>(rows.size()));
    }
    a.col_start[j + 1] = a.row.size();
  }
  return a;
}

Eigen::VectorXd RandomVector(uint32_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Eigen::VectorXd v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = static_cast<double>(rng() % 1'000'000) / 1000.0 + (i % 5 == 0 ? 0 : 1);
  return v;
}

// A x (transposed: A^T x) in long double, for checking residuals.
std::vector<long double> Product(const SparseFixed& a, const Eigen::VectorXd& x, bool transposed) {
  std::vector<long double> out(a.n, 0.0L);
  for (uint32_t j = 0; j < a.n; ++j) {
    for (uint64_t k = a.col_start[j]; k < a.col_start[j + 1]; ++k) {
      const long double c = static_cast<long double>(a.coef[k]) / 1e9L;
      if (transposed) {
        out[j] += c * x[a.row[k]];
      } else {
        out[a.row[k]] += c * x[j];
      }
    }
  }
  return out;
}

// The largest |r_i| / (|x_i| + |(A x)_i| + |b_i|) of (I - A) x = b (or its transpose).
double Componentwise(const SparseFixed& a, const Eigen::VectorXd& b, const Eigen::VectorXd& x, bool transposed) {
  std::vector<long double> ax = Product(a, x, transposed);
  double worst = 0;
  for (uint32_t i = 0; i < a.n; ++i) {
    const long double r = b[i] + ax[i] - x[i];
    const long double scale = std::fabs(static_cast<long double>(x[i])) + std::fabs(ax[i]) + std::fabs(b[i]);
    worst = std::max(worst, scale == 0 ? (r == 0 ? 0.0 : INFINITY) : static_cast<double>(std::fabs(r) / scale));
  }
  return worst;
}

SolverOptions Richardson(int threads = 1) {
  SolverOptions o;
  o.direct_max_products = 0;
  o.threads = threads;
  return o;
}

TEST(Solver, RichardsonMeetsItsComponentwiseBoundAndAgreesWithLu) {
  const SparseFixed a = RandomA(300, 6, 600'000'000, 800'000'000, 3);
  const Eigen::VectorXd b = RandomVector(300, 4), c = RandomVector(300, 5);
  SolverOptions lu_options;
  lu_options.direct_max_products = 1000;
  auto lu = LeontiefSolver::Create(a, lu_options);
  auto it = LeontiefSolver::Create(a, Richardson());
  ASSERT_TRUE(lu.ok() && it.ok());
  EXPECT_EQ((*lu)->method(), SolverMethod::kSparseLu);
  EXPECT_EQ((*it)->method(), SolverMethod::kRichardson);
  Result<SolvedPair> exact = (*lu)->SolveBoth(b, c);
  Result<SolvedPair> iterated = (*it)->SolveBoth(b, c);
  ASSERT_TRUE(exact.ok() && iterated.ok());
  EXPECT_LE(Componentwise(a, b, iterated->x, false), 0x1p-32 * 1.01);
  EXPECT_LE(Componentwise(a, c, iterated->y, true), 0x1p-32 * 1.01);
  for (uint32_t i = 0; i < 300; ++i) {
    EXPECT_NEAR(iterated->x[i], exact->x[i], 1e-8 * exact->x[i]) << i;
    EXPECT_NEAR(iterated->y[i], exact->y[i], 1e-8 * exact->y[i]) << i;
  }
  EXPECT_GT((*it)->total_passes(), 5);
  EXPECT_EQ((*it)->total_iterations(), 0);
  EXPECT_EQ((*it)->fallbacks(), 0);
}

TEST(Solver, SolveBothSharesPassesAndChangesNothing) {
  const SparseFixed a = RandomA(2000, 10, 600'000'000, 800'000'000, 7);
  const Eigen::VectorXd b = RandomVector(2000, 8), c = RandomVector(2000, 9);
  auto both = LeontiefSolver::Create(a, Richardson());
  auto apart = LeontiefSolver::Create(a, Richardson());
  ASSERT_TRUE(both.ok() && apart.ok());
  Result<SolvedPair> pair = (*both)->SolveBoth(b, c);
  Result<Eigen::VectorXd> x = (*apart)->Solve(b);
  const int primal_passes = (*apart)->total_passes();
  Result<Eigen::VectorXd> y = (*apart)->SolveTransposed(c);
  ASSERT_TRUE(pair.ok() && x.ok() && y.ok());
  // Each system's arithmetic is independent of the other's: bit-identical results.
  EXPECT_EQ(pair->x, *x);
  EXPECT_EQ(pair->y, *y);
  EXPECT_EQ((*both)->total_passes(), std::max(primal_passes, (*apart)->total_passes() - primal_passes));
}

TEST(Solver, TwoThreadsGiveTheSameSolution) {
  const SparseFixed a = RandomA(5000, 12, 600'000'000, 800'000'000, 21);
  const Eigen::VectorXd b = RandomVector(5000, 22), c = RandomVector(5000, 23);
  auto one = LeontiefSolver::Create(a, Richardson(1));
  auto two = LeontiefSolver::Create(a, Richardson(2));
  ASSERT_TRUE(one.ok() && two.ok());
  Result<SolvedPair> p1 = (*one)->SolveBoth(b, c), p2 = (*two)->SolveBoth(b, c);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_LE(Componentwise(a, b, p2->x, false), 0x1p-32 * 1.01);
  EXPECT_LE(Componentwise(a, c, p2->y, true), 0x1p-32 * 1.01);
  for (uint32_t i = 0; i < 5000; ++i) {
    EXPECT_NEAR(p1->x[i], p2->x[i], 1e-8 * p1->x[i]);
    EXPECT_NEAR(p1->y[i], p2->y[i], 1e-8 * p1->y[i]);
  }
  // Same threads, same input: same bits.
  auto again = LeontiefSolver::Create(a, Richardson(2));
  Result<SolvedPair> p3 = (*again)->SolveBoth(b, c);
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(p2->x, p3->x);
  EXPECT_EQ(p2->y, p3->y);
}

TEST(Solver, ExtrapolationRemovesTheSlowPerronComponent) {
  // Every column sums to 0.9, so the Perron eigenvalue is exactly 0.9 (1^T A = 0.9 1^T): the
  // plain Neumann series would need log(2^-32) / log(0.9) = 211 passes. The other eigenvalues of
  // this random matrix are near 0.9 / sqrt(8) ~ 0.32.
  const SparseFixed a = RandomA(3000, 8, 900'000'000, 900'000'000, 31);
  auto solver = LeontiefSolver::Create(a, Richardson());
  ASSERT_TRUE(solver.ok());
  const Eigen::VectorXd b = RandomVector(3000, 32);
  Result<Eigen::VectorXd> x = (*solver)->Solve(b);
  ASSERT_TRUE(x.ok());
  EXPECT_LE(Componentwise(a, b, *x, false), 0x1p-32 * 1.01);
  EXPECT_LT((*solver)->total_passes(), 60);
  EXPECT_EQ((*solver)->fallbacks(), 0);
}

TEST(Solver, FallsBackToBiCgStabWhenOutOfPasses) {
  const SparseFixed a = RandomA(400, 6, 600'000'000, 800'000'000, 41);
  SolverOptions options = Richardson();
  options.max_passes = 3;
  auto solver = LeontiefSolver::Create(a, options);
  ASSERT_TRUE(solver.ok());
  const Eigen::VectorXd b = RandomVector(400, 42), c = RandomVector(400, 43);
  Result<SolvedPair> pair = (*solver)->SolveBoth(b, c);
  ASSERT_TRUE(pair.ok()) << pair.status().ToString();
  EXPECT_EQ((*solver)->total_passes(), 3);
  EXPECT_EQ((*solver)->fallbacks(), 2);
  EXPECT_GT((*solver)->total_iterations(), 0);
  EXPECT_LE(Componentwise(a, b, pair->x, false), 1e-12);
  EXPECT_LE(Componentwise(a, c, pair->y, true), 1e-12);
}

TEST(Solver, DivergenceFallsBackAndBiCgStabOnlyMethod) {
  // Column sums 1.2: the Neumann series diverges; Richardson gives up and BiCGSTAB solves the
  // (non-singular, not productive) system or fails; either way nothing non-finite comes back.
  const SparseFixed over = RandomA(300, 5, 1'200'000'000, 1'200'000'000, 51);
  auto solver = LeontiefSolver::Create(over, Richardson());
  ASSERT_TRUE(solver.ok());
  Result<Eigen::VectorXd> x = (*solver)->Solve(RandomVector(300, 52));
  EXPECT_EQ((*solver)->fallbacks(), 1);
  if (x.ok()) {
    EXPECT_TRUE(x->allFinite());
  } else {
    EXPECT_EQ(x.status().code(), "NO_CONVERGENCE");
  }
  SolverOptions bicgstab = Richardson();
  bicgstab.iterative = SolverMethod::kBiCgStab;
  auto plain = LeontiefSolver::Create(RandomA(300, 5, 600'000'000, 800'000'000, 53), bicgstab);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->method(), SolverMethod::kBiCgStab);
  ASSERT_TRUE((*plain)->Solve(RandomVector(300, 54)).ok());
  EXPECT_EQ((*plain)->total_passes(), 0);
  EXPECT_GT((*plain)->total_iterations(), 0);
}

TEST(Solver, ZeroRightHandSideAndMethodNames) {
  const SparseFixed a = RandomA(100, 4, 600'000'000, 800'000'000, 61);
  auto solver = LeontiefSolver::Create(a, Richardson());
  ASSERT_TRUE(solver.ok());
  Result<SolvedPair> zero = (*solver)->SolveBoth(Eigen::VectorXd::Zero(100), Eigen::VectorXd::Zero(100));
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->x.isZero(0));
  EXPECT_TRUE(zero->y.isZero(0));
  EXPECT_EQ((*solver)->total_passes(), 1);
  EXPECT_STREQ(SolverMethodName(SolverMethod::kSparseLu), "sparse-lu");
  EXPECT_STREQ(SolverMethodName(SolverMethod::kRichardson), "richardson");
  EXPECT_STREQ(SolverMethodName(SolverMethod::kBiCgStab), "bicgstab");
}

}  // namespace
}  // namespace gongshe::planner
