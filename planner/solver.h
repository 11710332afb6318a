#pragma once
// Floating-point solvers of the Leontief system, on Eigen: (I - A) x = b for gross outputs and
// (I - A)^T y = b for labour values. Small economies use a sparse LU factorisation; large ones
// BiCGSTAB with a diagonal preconditioner, whose sparse matrix-vector products run on all cores
// (Eigen + OpenMP, row-major storage of both I - A and its transpose).
//
// Nothing here is deterministic across machines and nothing here is trusted: the planner rounds
// the result to fixed point and checks it exactly (planner/certificate.h).

#include <Eigen/SparseCore>

#include <memory>

#include "common/status.h"
#include "planner/model.h"

namespace gongshe::planner {

struct SolverOptions {
  // Up to this n: sparse LU; above: BiCGSTAB. LU fill-in grows fast on input-output structures
  // (hub products used by every industry): measured 0.45 s at n = 1000 and 11 s at n = 3000.
  uint32_t direct_max_products = 256;
  // Threads for the sparse matrix-vector products (OpenMP). Default 1: on the shared 2-core
  // machine (load ~6) two threads made each SpMV 50-80x slower (OpenMP barriers waiting for a
  // descheduled thread; bench/RESULTS.md). 0: every hardware thread, for an idle machine.
  int threads = 1;
  double tolerance = 1e-14;             // BiCGSTAB relative residual |b - M y| / |b|
  int max_iterations = 1000;            // per BiCGSTAB solve
};

enum class SolverMethod { kSparseLu, kBiCgStab };
const char* SolverMethodName(SolverMethod m);

class LeontiefSolver {
 public:
  // Builds I - A (and factorises it for the LU method). Errors: NON_PRODUCTIVE when the LU
  // factorisation finds I - A singular.
  static Result<std::unique_ptr<LeontiefSolver>> Create(const SparseFixed& a, const SolverOptions& options);
  ~LeontiefSolver();

  // (I - A) y = b. Errors: NON_PRODUCTIVE (singular), NO_CONVERGENCE (BiCGSTAB failed to reach
  // 10^-8 relative residual, or produced non-finite values).
  Result<Eigen::VectorXd> Solve(const Eigen::VectorXd& b);
  // (I - A)^T y = b, i.e. y^T (I - A) = b^T. Same errors.
  Result<Eigen::VectorXd> SolveTransposed(const Eigen::VectorXd& b);

  // y = A x, one parallel sparse matrix-vector pass (the benchmark's unit of work).
  void MultiplyA(const Eigen::VectorXd& x, Eigen::VectorXd& y) const;

  SolverMethod method() const;
  // BiCGSTAB iterations of every solve so far (0 for LU).
  int total_iterations() const;

 private:
  struct Impl;
  explicit LeontiefSolver(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gongshe::planner
