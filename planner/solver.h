#pragma once
// Floating-point solvers of the Leontief system: (I - A) x = b for gross outputs and
// (I - A)^T y = b for labour values. Small economies use a sparse LU factorisation (Eigen); large
// ones an extrapolated Richardson iteration (below) that solves both systems in one pass over A
// per step, with Eigen's BiCGSTAB (diagonal preconditioner) as the fallback when it does not
// converge and as an option for comparison.
//
// Extrapolated Richardson. x <- x + w r with r = b - (I - A) x, the same for y with A^T. With
// w = 1 this is the Neumann series x <- A x + b; its error shrinks like A^k, i.e. by the spectral
// radius rho per step, because for a productive economy (A >= 0, rho < 1) the Perron eigenvalue
// rho is the largest. Input-output matrices typically have that eigenvalue well separated from the
// rest, so once the residual norm falls by a steady ratio (two successive ratios agree to 0.2%)
// that ratio estimates rho and one step with w = 1/(1 - rho) removes the Perron component; the
// iteration then continues at the rate of the remaining eigenvalues. A x is a scatter and A^T y a
// gather over the same compressed-column storage, so both systems share every read of A; no dot
// products are needed. Each system stops when every component meets
// |r_i| <= 2^-32 (|x_i| + |(A x)_i| + |b_i|), four times inside the certificate's tolerance
// (planner/certificate.h), and returns the iterate whose residual was checked.
//
// Nothing here is deterministic across machines and nothing here is trusted: the planner rounds
// the result to fixed point and checks it exactly (planner/certificate.h).

#include <Eigen/Core>

#include <memory>

#include "common/status.h"
#include "planner/model.h"

namespace gongshe::planner {

enum class SolverMethod { kSparseLu, kRichardson, kBiCgStab };
const char* SolverMethodName(SolverMethod m);

struct SolverOptions {
  // Up to this n: sparse LU; above: `iterative`. LU fill-in grows fast on input-output structures
  // (hub products used by every industry): measured 0.45 s at n = 1000 and 11 s at n = 3000.
  uint32_t direct_max_products = 256;
  SolverMethod iterative = SolverMethod::kRichardson;  // kRichardson or kBiCgStab
  // Threads for the passes over A (OpenMP). Default 1: on the shared 2-core machine two threads
  // lose whenever the other core is busy (bench/RESULTS.md). 0: every hardware thread.
  int threads = 1;
  int max_passes = 500;                 // Richardson: passes over A per solve before falling back
  double tolerance = 1e-14;             // BiCGSTAB relative residual |b - M y| / |b|
  int max_iterations = 1000;            // per BiCGSTAB solve
};

struct SolvedPair {
  Eigen::VectorXd x;  // (I - A) x = b
  Eigen::VectorXd y;  // (I - A)^T y = c
};

class LeontiefSolver {
 public:
  // Builds I - A (and factorises it for the LU method). Errors: NON_PRODUCTIVE when the LU
  // factorisation finds I - A singular.
  static Result<std::unique_ptr<LeontiefSolver>> Create(const SparseFixed& a, const SolverOptions& options);
  ~LeontiefSolver();

  // (I - A) y = b. Errors: NON_PRODUCTIVE (singular), NO_CONVERGENCE (the iterative methods failed
  // to converge, e.g. spectral radius >= 1, or produced non-finite values).
  Result<Eigen::VectorXd> Solve(const Eigen::VectorXd& b);
  // (I - A)^T y = b, i.e. y^T (I - A) = b^T. Same errors.
  Result<Eigen::VectorXd> SolveTransposed(const Eigen::VectorXd& b);
  // Both at once; the Richardson method shares each pass over A between them.
  Result<SolvedPair> SolveBoth(const Eigen::VectorXd& b, const Eigen::VectorXd& c);

  SolverMethod method() const;
  // Work done by every solve so far: Richardson passes over A (one pass serves both systems of
  // SolveBoth), BiCGSTAB iterations (two matrix-vector products each), and how many Richardson
  // solves fell back to BiCGSTAB.
  int total_passes() const;
  int total_iterations() const;
  int fallbacks() const;

 private:
  struct Impl;
  explicit LeontiefSolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gongshe::planner
