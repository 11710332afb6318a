#include "planner/certificate.h"

#include <algorithm>

#include "planner/fixed_point.h"

namespace gongshe::planner {
namespace {

static_assert(kMaxProducts <= (1u << 21), "the int128 bound of certificate.h assumes n <= 2^21");
static_assert(kMaxCoefficient < (int64_t{1} << 40), "the int128 bound of certificate.h assumes a < 2^40");
static_assert(kMaxLabour < (int64_t{1} << 50) && 3 * kMaxQuantity < (int64_t{1} << 62), "input bounds");
constexpr int kRelativeShift = 30;  // relative tolerance 2^-30
constexpr Int128 kS = kCoefficientScale;
constexpr Int128 kV = kValueScale;

Int128 Abs(Int128 v) { return v < 0 ? -v : v; }

Status Malformed(const std::string& why) { return Status("PLAN_MALFORMED", why); }

std::string Name(const Economy& e, int64_t j) {
  const std::string& name = e.names[static_cast<size_t>(j)];
  return "product " + std::to_string(j + 1) + (name.empty() ? "" : " (" + name + ")");
}

// floor(sum / 10^9) for a checked int128 sum.
bool FloorToInt64(Int128 sum, int64_t& out) {
  Int128 q = sum / kS;
  if (sum % kS != 0 && sum < 0) --q;
  if (q > INT64_MAX || q < INT64_MIN) return false;
  out = static_cast<int64_t>(q);
  return true;
}

// sum_j u_j * w_j exactly, false on overflow.
bool CheckedDot(std::span<const int64_t> u, const std::vector<int64_t>& w, Int128& sum) {
  sum = 0;
  for (size_t j = 0; j < u.size(); ++j) {
    Int128 term;
    if (__builtin_mul_overflow(static_cast<Int128>(u[j]), static_cast<Int128>(w[j]), &term)) return false;
    if (__builtin_add_overflow(sum, term, &sum)) return false;
  }
  return true;
}

Status CheckShape(const v1::Plan& p, const Economy& e) {
  if (p.version() != 1) return Malformed("unknown plan version " + std::to_string(p.version()));
  if (p.products() != e.n()) {
    return Malformed("the plan has " + std::to_string(p.products()) + " products, the inputs " + std::to_string(e.n()));
  }
  auto size_ok = [&](int size) { return static_cast<uint64_t>(size) == e.n(); };
  if (!size_ok(p.gross_output_micro_size())) return Malformed("gross_output_micro must have one entry per product");
  if (!size_ok(p.labour_value_nano_size())) return Malformed("labour_value_nano must have one entry per product");
  if (p.productivity_witness_nano_size() != 0 && !size_ok(p.productivity_witness_nano_size())) {
    return Malformed("productivity_witness_nano must be empty or have one entry per product");
  }
  return Status::Ok();
}

Status CheckInputs(const v1::Plan& p, const Economy& e) {
  struct {
    const std::string& got;
    const Sha256Digest& want;
    const char* what;
  } inputs[] = {{p.matrix_sha256(), e.matrix_sha256, "matrix"},
                {p.products_sha256(), e.products_sha256, "products"},
                {p.demand_sha256(), e.demand_sha256, "demand"}};
  for (const auto& in : inputs) {
    if (in.got.size() != in.want.size()) return Malformed(std::string(in.what) + "_sha256 must be 32 bytes");
    if (!std::equal(in.want.begin(), in.want.end(), reinterpret_cast<const uint8_t*>(in.got.data()))) {
      return Status("PLAN_INPUT_MISMATCH", std::string("the plan was computed from another ") + in.what +
                                               " file (sha256 " + ToHex(AsBytes(in.got)) + ", given " +
                                               ToHex(in.want) + ")");
    }
  }
  return Status::Ok();
}

Status CheckBounds(const std::span<const int64_t> x, const std::span<const int64_t> v, const Economy& e) {
  for (uint32_t j = 0; j < e.n(); ++j) {
    if (x[j] < 0) return Status("PLAN_NEGATIVE", Name(e, j) + ": negative gross output " + FormatFixed(x[j], kQuantityDecimals));
    if (v[j] < 0) return Status("PLAN_NEGATIVE", Name(e, j) + ": negative labour value " + FormatFixed(v[j], kValueDecimals));
    if (e.capacity[j] != Economy::kNoCapacity && x[j] > e.capacity[j]) {
      return Status("PLAN_OVER_CAPACITY", Name(e, j) + ": gross output " + FormatFixed(x[j], kQuantityDecimals) +
                                              " exceeds its capacity " + FormatFixed(e.capacity[j], kQuantityDecimals));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string Int128ToString(Int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  unsigned __int128 m = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string digits;
  while (m != 0) {  // at most 39 digits
    digits.push_back(static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

ResidualCheck CheckPrimal(const Economy& e, std::span<const int64_t> x, std::vector<Int128>* residuals) {
  const SparseFixed& a = e.a;
  GS_ASSERT(x.size() == a.n);
  std::vector<Int128> ax(a.n, 0), row_sum(a.n, 0);
  for (uint32_t j = 0; j < a.n; ++j) {
    for (uint64_t k = a.col_start[j]; k < a.col_start[j + 1]; ++k) {
      ax[a.row[k]] += static_cast<Int128>(a.coef[k]) * x[j];
      row_sum[a.row[k]] += a.coef[k];
    }
  }
  ResidualCheck check;
  if (residuals) residuals->assign(a.n, 0);
  for (uint32_t i = 0; i < a.n; ++i) {
    Int128 d = e.Demand(i);
    Int128 r = kS * x[i] - ax[i] - kS * d;
    Int128 tolerance = (kS + row_sum[i]) + ((kS * x[i] + ax[i] + kS * Abs(d)) >> kRelativeShift);
    if (residuals) (*residuals)[i] = r;
    check.max_abs_residual = std::max(check.max_abs_residual, Abs(r));
    if (Abs(r) > tolerance && check.first_failure < 0) check.first_failure = i;
  }
  return check;
}

ResidualCheck CheckDual(const Economy& e, std::span<const int64_t> v, std::vector<Int128>* residuals) {
  const SparseFixed& a = e.a;
  GS_ASSERT(v.size() == a.n);
  ResidualCheck check;
  if (residuals) residuals->assign(a.n, 0);
  for (uint32_t j = 0; j < a.n; ++j) {
    Int128 va = 0, column_sum = 0;
    for (uint64_t k = a.col_start[j]; k < a.col_start[j + 1]; ++k) {
      va += static_cast<Int128>(a.coef[k]) * v[a.row[k]];
      column_sum += a.coef[k];
    }
    Int128 r = kS * v[j] - va - kV * e.labour[j];
    Int128 tolerance = (kS + column_sum) + ((kS * v[j] + va + kV * e.labour[j]) >> kRelativeShift);
    if (residuals) (*residuals)[j] = r;
    check.max_abs_residual = std::max(check.max_abs_residual, Abs(r));
    if (Abs(r) > tolerance && check.first_failure < 0) check.first_failure = j;
  }
  return check;
}

int64_t FirstWitnessFailure(const SparseFixed& a, std::span<const int64_t> w) {
  GS_ASSERT(w.size() == a.n);
  for (uint32_t j = 0; j < a.n; ++j) {
    if (w[j] <= 0) return j;
    Int128 wa = 0;
    for (uint64_t k = a.col_start[j]; k < a.col_start[j + 1]; ++k) wa += static_cast<Int128>(a.coef[k]) * w[a.row[k]];
    if (kS * w[j] - wa <= 0) return j;
  }
  return -1;
}

Result<LabourTotals> ComputeLabourTotals(const Economy& e, std::span<const int64_t> x, std::span<const int64_t> v) {
  GS_ASSERT(x.size() == e.n() && v.size() == e.n());
  LabourTotals t;
  struct {
    std::span<const int64_t> u;
    const std::vector<int64_t>& w;
    int64_t& out;
    const char* what;
  } totals[] = {{v, e.consumer, t.consumer, "consumer"},
                {v, e.public_projects, t.public_projects, "public"},
                {v, e.accumulation, t.accumulation, "accumulation"},
                {x, e.labour, t.total, "total"}};
  for (const auto& part : totals) {
    Int128 sum;
    if (!CheckedDot(part.u, part.w, sum) || !FloorToInt64(sum, part.out)) {
      return Status("PLAN_OVERFLOW", std::string("the ") + part.what + " labour total does not fit in 64 bits");
    }
  }
  return t;
}

Result<VerifiedPlan> VerifyPlan(ByteView plan_bytes, const Economy& e) {
  if (plan_bytes.size() > kMaxPlanBytes) return Malformed("plan larger than " + std::to_string(kMaxPlanBytes) + " bytes");
  v1::Plan p;
  if (!p.ParseFromArray(plan_bytes.data(), static_cast<int>(plan_bytes.size()))) return Malformed("not a Plan message");
  GS_RETURN_IF_ERROR(CheckShape(p, e));
  GS_RETURN_IF_ERROR(CheckInputs(p, e));
  std::span<const int64_t> x(p.gross_output_micro().data(), e.n());
  std::span<const int64_t> v(p.labour_value_nano().data(), e.n());
  GS_RETURN_IF_ERROR(CheckBounds(x, v, e));
  VerifiedPlan out;
  out.products = e.n();
  out.non_zeros = e.a.nnz();
  out.separate_witness = p.productivity_witness_nano_size() != 0;
  std::span<const int64_t> w = out.separate_witness ? std::span<const int64_t>(p.productivity_witness_nano().data(), e.n()) : v;
  if (int64_t j = FirstWitnessFailure(e.a, w); j >= 0) {
    return Status("PLAN_NOT_PRODUCTIVE", std::string(out.separate_witness ? "the productivity witness" : "v") +
                                             " fails to prove the economy productive at " + Name(e, j) +
                                             " (needs w > 0 and w (I - A) > 0)");
  }
  ResidualCheck primal = CheckPrimal(e, x, nullptr);
  if (!primal.ok()) {
    return Status("PLAN_PRIMAL_RESIDUAL", Name(e, primal.first_failure) +
                                              ": (I - A) x - d exceeds its tolerance (planner/README.md)");
  }
  ResidualCheck dual = CheckDual(e, v, nullptr);
  if (!dual.ok()) {
    return Status("PLAN_DUAL_RESIDUAL", Name(e, dual.first_failure) + ": v (I - A) - l exceeds its tolerance (planner/README.md)");
  }
  Result<LabourTotals> totals = ComputeLabourTotals(e, x, v);
  if (!totals.ok()) return totals.status();
  struct {
    int64_t got, want;
    const char* what;
  } claims[] = {{p.consumer_labour_micro_hours(), totals->consumer, "consumer_labour_micro_hours (the issuance cap)"},
                {p.public_labour_micro_hours(), totals->public_projects, "public_labour_micro_hours"},
                {p.accumulation_labour_micro_hours(), totals->accumulation, "accumulation_labour_micro_hours"},
                {p.total_labour_micro_hours(), totals->total, "total_labour_micro_hours"}};
  for (const auto& c : claims) {
    if (c.got != c.want) {
      return Status("PLAN_TOTALS_MISMATCH", std::string(c.what) + " is " + std::to_string(c.got) + ", recomputed " +
                                                std::to_string(c.want));
    }
  }
  out.totals = *totals;
  out.max_primal_residual = primal.max_abs_residual;
  out.max_dual_residual = dual.max_abs_residual;
  return out;
}

std::string VerificationJson(const Result<VerifiedPlan>& r) {
  if (!r.ok()) {
    std::string message;
    for (char c : r.status().message()) {  // messages carry no quotes or controls, but be sure
      if (c == '"' || c == '\\') message.push_back('\\');
      if (static_cast<unsigned char>(c) >= 0x20) message.push_back(c);
    }
    return "{\"valid\":false,\"code\":\"" + r.status().code() + "\",\"message\":\"" + message + "\"}";
  }
  const VerifiedPlan& p = *r;
  return "{\"valid\":true,\"products\":" + std::to_string(p.products) + ",\"non_zeros\":" + std::to_string(p.non_zeros) +
         ",\"consumer_labour_hours\":\"" + FormatFixed(p.totals.consumer, kHoursDecimals) +
         "\",\"public_labour_hours\":\"" + FormatFixed(p.totals.public_projects, kHoursDecimals) +
         "\",\"accumulation_labour_hours\":\"" + FormatFixed(p.totals.accumulation, kHoursDecimals) +
         "\",\"total_labour_hours\":\"" + FormatFixed(p.totals.total, kHoursDecimals) +
         "\",\"max_primal_residual_1e-15\":\"" + Int128ToString(p.max_primal_residual) +
         "\",\"max_dual_residual_1e-18\":\"" + Int128ToString(p.max_dual_residual) +
         "\",\"separate_productivity_witness\":" + (p.separate_witness ? "true" : "false") + "}";
}

}  // namespace gongshe::planner
