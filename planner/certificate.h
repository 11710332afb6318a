#pragma once
// The exact check of a committed plan. Integer arithmetic only (int64 inputs, int128
// accumulators), one pass over the non-zeros of A per check, results independent of the machine,
// the compiler and the thread count. planner/README.md ("Certificate") states every check and
// tolerance; the scales are those of planner/fixed_point.h:
//   S = 10^9 (coefficients a, l), Q = 10^6 (quantities d, x), V = 10^9 (labour values v).
//
//   primal, row i:   R_i = S x_i - sum_j a_ij x_j - S d_i                (units 10^-15)
//                    |R_i| <= (S + sum_j a_ij) + ((S x_i + sum_j a_ij x_j + S |d_i|) >> 30)
//   dual, column j:  D_j = S v_j - sum_i a_ij v_i - V l_j                (units 10^-18 hours)
//                    |D_j| <= (S + sum_i a_ij) + ((S v_j + sum_i a_ij v_i + V l_j) >> 30)
//   i.e. one unit in the last place of every rounded term, plus 2^-30 (~9.3e-10) relative.
//   productivity:    w_j > 0 and S w_j - sum_i a_ij w_i > 0 for every j (w = v when the plan
//                    carries no separate witness), which proves the spectral radius of A < 1.
//
// Overflow cannot happen in the residuals: n <= 2^21, a_ij <= 10^12 < 2^40, x, v, w < 2^63, so
// every product is < 2^103 and every sum of at most n + 2 of them < 2^125. The labour totals use
// checked arithmetic and reject the plan on overflow.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "gongshe/v1/plan.pb.h"
#include "planner/model.h"

namespace gongshe::planner {

using Int128 = __int128;

// Decimal form of an int128.
std::string Int128ToString(Int128 v);

struct ResidualCheck {
  int64_t first_failure = -1;  // lowest index whose residual exceeds its tolerance; -1 if none
  Int128 max_abs_residual = 0;
  bool ok() const { return first_failure < 0; }
};

// Primal check of x against A and d; fills `residuals` (n entries, R_i) when non-null.
ResidualCheck CheckPrimal(const Economy& e, std::span<const int64_t> x, std::vector<Int128>* residuals);
// Dual check of v against A and l; fills `residuals` (D_j) when non-null.
ResidualCheck CheckDual(const Economy& e, std::span<const int64_t> v, std::vector<Int128>* residuals);
// The lowest j where w fails to prove productivity; -1 when it proves it.
int64_t FirstWitnessFailure(const SparseFixed& a, std::span<const int64_t> w);

struct LabourTotals {
  int64_t consumer = 0, public_projects = 0, accumulation = 0, total = 0;  // 10^-6 hours, floored
};
// v . d_part and l . x, exactly. Error PLAN_OVERFLOW if a total leaves int64.
Result<LabourTotals> ComputeLabourTotals(const Economy& e, std::span<const int64_t> x, std::span<const int64_t> v);

// What a successful verification established.
struct VerifiedPlan {
  uint32_t products = 0;
  uint64_t non_zeros = 0;
  LabourTotals totals;
  Int128 max_primal_residual = 0;  // units 10^-15
  Int128 max_dual_residual = 0;    // units 10^-18 hours
  bool separate_witness = false;
};

inline constexpr uint64_t kMaxPlanBytes = uint64_t{256} << 20;

// Checks the serialised plan against the economy parsed from the inputs, exactly. Takes outside
// bytes: never crashes, never allocates more than the bytes and the economy justify. Errors, in
// the order checked: PLAN_MALFORMED, PLAN_INPUT_MISMATCH, PLAN_NEGATIVE, PLAN_OVER_CAPACITY,
// PLAN_NOT_PRODUCTIVE, PLAN_PRIMAL_RESIDUAL, PLAN_DUAL_RESIDUAL, PLAN_OVERFLOW, PLAN_TOTALS_MISMATCH.
Result<VerifiedPlan> VerifyPlan(ByteView plan_bytes, const Economy& e);

// The canonical one-line JSON report of a verification: identical bytes for identical inputs.
std::string VerificationJson(const Result<VerifiedPlan>& result);

}  // namespace gongshe::planner
