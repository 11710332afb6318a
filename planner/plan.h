#pragma once
// Making a plan: solve the Leontief system in floating point, round to fixed point, refine until
// the exact certificate checks pass, and package the result as a gongshe.v1.Plan. Also the
// advisory analyses built on the same solver (what drives a product's gross output).

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "gongshe/v1/plan.pb.h"
#include "planner/certificate.h"
#include "planner/model.h"
#include "planner/solver.h"

namespace gongshe::planner {

struct PlanStats {
  SolverMethod method = SolverMethod::kSparseLu;
  int passes = 0;       // Richardson passes over A, every solve (one pass serves x and v together)
  int iterations = 0;   // BiCGSTAB iterations, every solve
  int fallbacks = 0;    // Richardson solves that fell back to BiCGSTAB
  int refinements = 0;  // correction solves needed after rounding (primal + dual)
};

struct MadePlan {
  v1::Plan plan;
  PlanStats stats;
};

// Errors: NON_PRODUCTIVE (spectral radius of A >= 1: I - A singular, or no w > 0 with
// w (I - A) > 0), NO_CONVERGENCE, NO_NONNEGATIVE_SOLUTION (x would have a negative entry, e.g.
// an accumulation drawdown larger than what the economy produces), OVER_CAPACITY,
// QUANTITY_TOO_LARGE (a figure leaves the fixed-point range), PLAN_OVERFLOW. The plan returned
// always passes VerifyPlan against the same economy.
Result<MadePlan> MakePlan(const Economy& e, const SolverOptions& options);

// Proves exactly that the spectral radius of A is below 1, so (I - A)^-1 >= 0: solves
// (I - A)^T w = 1, rounds w to 10^-9 and checks w > 0, w (I - A) > 0 in integers
// (FirstWitnessFailure). Returns the witness, or NON_PRODUCTIVE / NO_CONVERGENCE.
Result<std::vector<int64_t>> ProveProductive(const Economy& e, LeontiefSolver& solver);

struct Driver {
  uint32_t product = 0;       // 0-based
  double multiplier = 0;      // (I - A)^-1 [target, product]: gross output per unit of its demand
  double demand = 0;          // d_product, units
  double contribution = 0;    // multiplier * demand, units of the target product
};

struct Explanation {
  uint32_t product = 0;
  double gross_output = 0;    // sum of every contribution
  std::vector<Driver> drivers;  // the largest |contribution| first, ties by product number
};

// What drives gross output x_k: x_k = sum_j L_kj d_j with L = (I - A)^-1; row k of L is one solve
// of (I - A)^T z = e_k. Returns the `top` largest contributions. `demand` (units, n entries) is
// the final demand to explain; the first overload takes the economy's own d.
Result<Explanation> Explain(const Economy& e, LeontiefSolver& solver, uint32_t product, size_t top);
Result<Explanation> Explain(LeontiefSolver& solver, const Eigen::VectorXd& demand, uint32_t product, size_t top);

}  // namespace gongshe::planner
