#include "planner/solver.h"

#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCore>
#include <Eigen/SparseLU>
#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <utility>
#include <vector>

#include "planner/fixed_point.h"

namespace gongshe::planner {
namespace {

using ColMatrix = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
using RowMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;
using Lu = Eigen::SparseLU<ColMatrix, Eigen::COLAMDOrdering<int>>;
using BiCg = Eigen::BiCGSTAB<RowMatrix, Eigen::DiagonalPreconditioner<double>>;

constexpr double kAcceptableResidual = 1e-8;  // BiCGSTAB: worse than this is a failure
// Richardson: a component is done when |r_i| <= 2^-32 (|x_i| + |(A x)_i| + |b_i|).
constexpr double kComponentTolerance = 0x1p-32;
// Two successive residual-norm ratios agreeing to this relative difference estimate rho.
constexpr double kRatioAgreement = 2e-3;
// Largest extrapolation step 1/(1 - rho): rho up to 0.999.
constexpr double kMaxRatio = 0.999;
// A residual norm this many times the first one means divergence (spectral radius >= 1).
constexpr double kDivergence = 1e12;

const Status& Singular() {
  static const Status s("NON_PRODUCTIVE", "I - A is singular: the economy is not productive (spectral radius of A >= 1)");
  return s;
}

// The passes prefetch the work-array slot of the non-zero this many entries ahead: at n = 10^6
// the random accesses miss every cache, and prefetching overlaps the misses (measured 2.5-3x
// faster passes at distances 64-128 on the benchmark's structure).
constexpr uint64_t kPrefetchDistance = 64;

// A in compressed sparse column form, in floating point: what every Richardson pass reads. `row`
// carries kPrefetchDistance extra zeros past the last non-zero so the prefetch needs no bound.
struct Csc {
  uint32_t n = 0;
  std::vector<uint64_t> col_start;
  std::vector<uint32_t> row;
  std::vector<double> val;
};

Csc ToCsc(const SparseFixed& a) {
  Csc m;
  m.n = a.n;
  m.col_start = a.col_start;
  m.row = a.row;
  m.row.resize(a.row.size() + kPrefetchDistance, 0);
  m.val.resize(a.coef.size());
  for (size_t k = 0; k < a.coef.size(); ++k) {
    m.val[k] = static_cast<double>(a.coef[k]) / static_cast<double>(kCoefficientScale);
  }
  return m;
}

// I - A as an Eigen matrix (for LU and BiCGSTAB).
ColMatrix IdentityMinus(const Csc& a) {
  ColMatrix m(a.n, a.n);
  Eigen::VectorXi per_column(a.n);
  for (uint32_t j = 0; j < a.n; ++j) per_column[j] = static_cast<int>(a.col_start[j + 1] - a.col_start[j]) + 1;
  m.reserve(per_column);
  for (uint32_t j = 0; j < a.n; ++j) {
    bool diagonal = false;
    for (uint64_t k = a.col_start[j]; k < a.col_start[j + 1]; ++k) {
      double v = -a.val[k];
      if (a.row[k] == j) {
        v += 1.0;
        diagonal = true;
      }
      m.insert(static_cast<int>(a.row[k]), static_cast<int>(j)) = v;
    }
    if (!diagonal) m.insert(static_cast<int>(j), static_cast<int>(j)) = 1.0;
  }
  m.makeCompressed();
  return m;
}

// Runs f(t) for t = 0..threads-1, on OpenMP threads when threads > 1 (each t exactly once, even
// if OpenMP grants fewer threads).
template <typename F>
void ForEachChunk(int threads, F&& f) {
  if (threads == 1) {
    f(0);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    for (int t = omp_get_thread_num(); t < threads; t += omp_get_num_threads()) f(t);
  }
}

// Chooses each Richardson step from the residual norms: 1, or 1/(1 - rho) when the last two
// norm ratios after plain steps agree (the Perron component dominates; planner/solver.h).
class StepControl {
 public:
  explicit StepControl(double first_norm) : previous_norm_(first_norm) {}

  double Next(double norm) {
    const bool ratio_known = last_step_ == 1.0 && previous_norm_ > 0;
    const double ratio = ratio_known ? norm / previous_norm_ : 0.0;
    double step = 1.0;
    if (ratio_known && have_ratio_ && ratio > 0 && ratio < kMaxRatio &&
        std::fabs(ratio - previous_ratio_) <= kRatioAgreement * ratio) {
      step = 1.0 / (1.0 - ratio);
    }
    have_ratio_ = ratio_known && step == 1.0;  // after an extrapolation, ratios start afresh
    previous_ratio_ = ratio;
    previous_norm_ = norm;
    last_step_ = step;
    return step;
  }

 private:
  double previous_norm_;
  double previous_ratio_ = 0;
  double last_step_ = 1.0;
  bool have_ratio_ = false;
};

// A zeroed array of doubles, 2 MiB-aligned and advised onto transparent huge pages: the passes
// read and write it at random over up to 32 MB, which on 4 KiB pages misses the TLB on most
// accesses. Move-only.
class HugeBuffer {
 public:
  HugeBuffer() = default;
  explicit HugeBuffer(size_t count) {
    constexpr size_t kHuge = size_t{2} << 20;
    bytes_ = (std::max<size_t>(count, 1) * sizeof(double) + kHuge - 1) / kHuge * kHuge;
    data_ = static_cast<double*>(std::aligned_alloc(kHuge, bytes_));
    if (data_ == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    madvise(data_, bytes_, MADV_HUGEPAGE);  // advisory: without it, only slower
#endif
    std::memset(data_, 0, bytes_);
  }
  HugeBuffer(HugeBuffer&& other) noexcept : data_(std::exchange(other.data_, nullptr)), bytes_(other.bytes_) {}
  HugeBuffer& operator=(HugeBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }
  ~HugeBuffer() { std::free(data_); }
  double* data() { return data_; }

 private:
  double* data_ = nullptr;
  size_t bytes_ = 0;
};

// One system of the Richardson iteration. Primal: (I - A) x = b; the pending update
// x += step * r is applied inside the next pass over A. Dual: (I - A)^T v = b; v lives in the odd
// slots of the work arrays (Impl::pairs) and is updated before each pass.
struct System {
  const Eigen::VectorXd* b = nullptr;
  Eigen::VectorXd x;  // primal only
  Eigen::VectorXd r;  // primal: residual of x; dual: A^T v, then the residual of v
  double step = 1.0;
  bool active = false;
  bool converged = false;
};

}  // namespace

const char* SolverMethodName(SolverMethod m) {
  switch (m) {
    case SolverMethod::kSparseLu: return "sparse-lu";
    case SolverMethod::kRichardson: return "richardson";
    case SolverMethod::kBiCgStab: return "bicgstab";
  }
  return "unknown";
}

struct LeontiefSolver::Impl {
  SolverMethod method = SolverMethod::kSparseLu;
  SolverOptions options;
  int threads = 1;
  Csc a;
  // LU method.
  Lu lu, lu_transposed;
  // BiCGSTAB: the method itself, or the fallback of Richardson (built on first use).
  std::unique_ptr<RowMatrix> m_rows, mt_rows;
  std::unique_ptr<BiCg> bicg, bicg_transposed;
  // Richardson work space, one interleaved array of 2n doubles per thread: slot 2i is the thread's
  // share of (A x)_i (the primal scatter target), slot 2i+1 the dual iterate v_i (the same in every
  // array). One random access per non-zero so touches one cache line for both systems.
  std::vector<HugeBuffer> pairs;
  std::vector<uint32_t> column_split, row_split;
  int passes = 0, iterations = 0, fallbacks = 0;

  void PrepareRichardson() {
    pairs.clear();
    for (int t = 0; t < threads; ++t) pairs.emplace_back(2 * size_t{a.n});
    column_split.assign(static_cast<size_t>(threads) + 1, a.n);
    row_split.assign(static_cast<size_t>(threads) + 1, a.n);
    column_split[0] = row_split[0] = 0;
    const uint64_t nnz = a.col_start.back();
    for (int t = 1; t < threads; ++t) {  // equal non-zeros per thread for the matrix pass
      uint64_t target = nnz * static_cast<uint64_t>(t) / static_cast<uint64_t>(threads);
      auto it = std::lower_bound(a.col_start.begin(), a.col_start.end(), target);
      column_split[static_cast<size_t>(t)] = static_cast<uint32_t>(std::min<ptrdiff_t>(it - a.col_start.begin(), a.n));
      row_split[static_cast<size_t>(t)] = static_cast<uint32_t>(uint64_t{a.n} * static_cast<uint64_t>(t) / static_cast<uint64_t>(threads));
    }
  }

  void PrepareBiCgStab() {
    if (bicg) return;
    ColMatrix m = IdentityMinus(a);
    m_rows = std::make_unique<RowMatrix>(m);
    mt_rows = std::make_unique<RowMatrix>(m.transpose());
    bicg = std::make_unique<BiCg>();
    bicg_transposed = std::make_unique<BiCg>();
    for (BiCg* s : {bicg.get(), bicg_transposed.get()}) {
      s->setTolerance(options.tolerance);
      s->setMaxIterations(options.max_iterations);
    }
    bicg->compute(*m_rows);
    bicg_transposed->compute(*mt_rows);
  }

  Result<Eigen::VectorXd> Iterate(BiCg& solver, const Eigen::VectorXd& b) {
    if (b.squaredNorm() == 0) return Eigen::VectorXd(Eigen::VectorXd::Zero(b.size()));
    Eigen::VectorXd y = solver.solve(b);
    iterations += static_cast<int>(solver.iterations());
    if (!y.allFinite() || !(solver.error() <= kAcceptableResidual)) {
      return Status("NO_CONVERGENCE", "BiCGSTAB did not converge (relative residual " + std::to_string(solver.error()) +
                                          " after " + std::to_string(solver.iterations()) +
                                          " iterations): the economy is probably not productive (spectral radius "
                                          "of A >= 1) or badly conditioned");
    }
    return y;
  }

  Result<Eigen::VectorXd> Factored(Lu& solver, const Eigen::VectorXd& b) {
    Eigen::VectorXd y = solver.solve(b);
    if (solver.info() != Eigen::Success || !y.allFinite()) return Singular();
    return y;
  }

  // One pass over A: the pending primal update, A x scattered into the even slots of the
  // thread's work array, and A^T v (v from the odd slots) gathered into dual.r.
  void MatrixPass(System& primal, System& dual) {
    const bool do_primal = primal.active, do_dual = dual.active;
    ForEachChunk(threads, [&](int t) {
      const uint64_t* __restrict cs = a.col_start.data();
      const uint32_t* __restrict rows = a.row.data();
      const double* __restrict val = a.val.data();
      double* __restrict work = pairs[static_cast<size_t>(t)].data();
      double* __restrict x = primal.x.data();
      const double* __restrict r = primal.r.data();
      const double step = primal.step;
      double* __restrict at_v = dual.r.data();
      const uint32_t begin = column_split[static_cast<size_t>(t)], end = column_split[static_cast<size_t>(t) + 1];
      if (do_primal && do_dual) {
        for (uint32_t j = begin; j < end; ++j) {
          const double xj = x[j] + step * r[j];
          x[j] = xj;
          double acc = 0;
          for (uint64_t k = cs[j]; k < cs[j + 1]; ++k) {
            __builtin_prefetch(work + 2 * size_t{rows[k + kPrefetchDistance]}, 1);
            double* slot = work + 2 * size_t{rows[k]};
            slot[0] += val[k] * xj;
            acc += val[k] * slot[1];
          }
          at_v[j] = acc;
        }
      } else if (do_primal) {
        for (uint32_t j = begin; j < end; ++j) {
          const double xj = x[j] + step * r[j];
          x[j] = xj;
          for (uint64_t k = cs[j]; k < cs[j + 1]; ++k) {
            __builtin_prefetch(work + 2 * size_t{rows[k + kPrefetchDistance]}, 1);
            work[2 * size_t{rows[k]}] += val[k] * xj;
          }
        }
      } else {
        for (uint32_t j = begin; j < end; ++j) {
          double acc = 0;
          for (uint64_t k = cs[j]; k < cs[j + 1]; ++k) {
            __builtin_prefetch(work + 2 * size_t{rows[k + kPrefetchDistance]} + 1, 0);
            acc += val[k] * work[2 * size_t{rows[k]} + 1];
          }
          at_v[j] = acc;
        }
      }
    });
  }

  struct Residuals {
    double primal_norm = 0, dual_norm = 0;
    uint64_t primal_failures = 0, dual_failures = 0;
  };

  // Residuals of both systems, their 1-norms and how many components miss the tolerance. Leaves
  // the scatter slots zeroed and the residuals in primal.r and dual.r.
  Residuals VectorPass(System& primal, System& dual) {
    std::vector<Residuals> partial(static_cast<size_t>(threads));
    ForEachChunk(threads, [&](int t) {
      Residuals& out = partial[static_cast<size_t>(t)];
      const uint32_t begin = row_split[static_cast<size_t>(t)], end = row_split[static_cast<size_t>(t) + 1];
      double* __restrict work = pairs[0].data();
      if (primal.active) {
        for (size_t other = 1; other < pairs.size(); ++other) {  // gather the other threads' scatters
          double* __restrict y = pairs[other].data();
#pragma omp simd
          for (uint32_t i = begin; i < end; ++i) {
            work[2 * size_t{i}] += y[2 * size_t{i}];
            y[2 * size_t{i}] = 0;
          }
        }
        const double* __restrict b = primal.b->data();
        const double* __restrict x = primal.x.data();
        double* __restrict r = primal.r.data();
        double norm = 0;
        uint64_t failures = 0;
#pragma omp simd reduction(+ : norm, failures)
        for (uint32_t i = begin; i < end; ++i) {
          const double ax = work[2 * size_t{i}];
          const double ri = b[i] + ax - x[i];
          const double bound = kComponentTolerance * (std::fabs(x[i]) + std::fabs(ax) + std::fabs(b[i]));
          r[i] = ri;
          work[2 * size_t{i}] = 0;
          norm += std::fabs(ri);
          failures += std::fabs(ri) <= bound ? 0 : 1;  // NaN fails
        }
        out.primal_norm = norm;
        out.primal_failures = failures;
      }
      if (dual.active) {
        const double* __restrict b = dual.b->data();
        double* __restrict r = dual.r.data();  // holds A^T v on entry
        double norm = 0;
        uint64_t failures = 0;
#pragma omp simd reduction(+ : norm, failures)
        for (uint32_t j = begin; j < end; ++j) {
          const double v = work[2 * size_t{j} + 1];
          const double rj = b[j] + r[j] - v;
          const double bound = kComponentTolerance * (std::fabs(v) + std::fabs(r[j]) + std::fabs(b[j]));
          r[j] = rj;
          norm += std::fabs(rj);
          failures += std::fabs(rj) <= bound ? 0 : 1;
        }
        out.dual_norm = norm;
        out.dual_failures = failures;
      }
    });
    Residuals sum;  // in thread order: the same result for the same thread count
    for (const Residuals& p : partial) {
      sum.primal_norm += p.primal_norm;
      sum.dual_norm += p.dual_norm;
      sum.primal_failures += p.primal_failures;
      sum.dual_failures += p.dual_failures;
    }
    return sum;
  }

  // v += step * r in the odd slots of every work array.
  void UpdateDual(const System& dual) {
    ForEachChunk(threads, [&](int t) {
      const uint32_t begin = row_split[static_cast<size_t>(t)], end = row_split[static_cast<size_t>(t) + 1];
      const double* __restrict r = dual.r.data();
      const double step = dual.step;
      double* __restrict first = pairs[0].data();
#pragma omp simd
      for (uint32_t j = begin; j < end; ++j) first[2 * size_t{j} + 1] += step * r[j];
      for (size_t other = 1; other < pairs.size(); ++other) {
        double* __restrict copy = pairs[other].data();
#pragma omp simd
        for (uint32_t j = begin; j < end; ++j) copy[2 * size_t{j} + 1] = first[2 * size_t{j} + 1];
      }
    });
  }

  // Decides whether a system is done, gives up on it, or takes its next step.
  static void Advance(System& s, StepControl& control, double norm, uint64_t failures, double first_norm) {
    if (failures == 0) {
      s.converged = true;
      s.active = false;
      return;
    }
    if (!std::isfinite(norm) || norm > kDivergence * first_norm) {
      s.active = false;  // diverging: the caller falls back
      return;
    }
    s.step = control.Next(norm);
  }

  // Runs the extrapolated Richardson iteration on the systems given (b or c may be null); a
  // converged dual's solution is left in dual.x.
  void Richardson(const Eigen::VectorXd* b, const Eigen::VectorXd* c, System& primal, System& dual) {
    const Eigen::Index n = a.n;
    for (HugeBuffer& buffer : pairs) {  // scatter slots 0, v = c (x_0 = 0 plus one plain step)
      double* work = buffer.data();
      for (Eigen::Index i = 0; i < n; ++i) {
        work[2 * i] = 0;
        work[2 * i + 1] = c ? (*c)[i] : 0.0;
      }
    }
    if (b) {
      primal.b = b;
      primal.x = Eigen::VectorXd::Zero(n);
      primal.r = *b;  // x_1 = 0 + 1 * b, applied by the first pass
      primal.active = true;
    }
    if (c) {
      dual.b = c;
      dual.r = Eigen::VectorXd::Zero(n);
      dual.active = true;
    }
    const double primal_first = b ? b->lpNorm<1>() : 0, dual_first = c ? c->lpNorm<1>() : 0;
    StepControl primal_control(primal_first), dual_control(dual_first);
    for (int pass = 0; pass < options.max_passes && (primal.active || dual.active); ++pass) {
      MatrixPass(primal, dual);
      ++passes;
      Residuals res = VectorPass(primal, dual);
      if (primal.active) Advance(primal, primal_control, res.primal_norm, res.primal_failures, primal_first);
      if (dual.active) {
        Advance(dual, dual_control, res.dual_norm, res.dual_failures, dual_first);
        if (dual.active) UpdateDual(dual);
      }
    }
    primal.active = dual.active = false;  // out of passes: not converged, the caller falls back
    if (dual.converged) {
      dual.x.resize(n);
      const double* work = pairs[0].data();
      for (Eigen::Index j = 0; j < n; ++j) dual.x[j] = work[2 * j + 1];
    }
  }

  // Richardson for the systems given, BiCGSTAB for any that did not converge.
  Result<SolvedPair> RichardsonWithFallback(const Eigen::VectorXd* b, const Eigen::VectorXd* c) {
    System primal, dual;
    Richardson(b, c, primal, dual);
    SolvedPair out;
    if (b) {
      if (primal.converged && primal.x.allFinite()) {
        out.x = std::move(primal.x);
      } else {
        ++fallbacks;
        PrepareBiCgStab();
        Result<Eigen::VectorXd> x = Iterate(*bicg, *b);
        if (!x.ok()) return x.status();
        out.x = std::move(x).value();
      }
    }
    if (c) {
      if (dual.converged && dual.x.allFinite()) {
        out.y = std::move(dual.x);
      } else {
        ++fallbacks;
        PrepareBiCgStab();
        Result<Eigen::VectorXd> y = Iterate(*bicg_transposed, *c);
        if (!y.ok()) return y.status();
        out.y = std::move(y).value();
      }
    }
    return out;
  }
};

LeontiefSolver::LeontiefSolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LeontiefSolver::~LeontiefSolver() = default;

Result<std::unique_ptr<LeontiefSolver>> LeontiefSolver::Create(const SparseFixed& a, const SolverOptions& options) {
  GS_ASSERT(a.n > 0);
  GS_ASSERT(options.max_iterations > 0 && options.tolerance > 0 && options.max_passes > 0);
  GS_ASSERT(options.iterative == SolverMethod::kRichardson || options.iterative == SolverMethod::kBiCgStab);
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Eigen::setNbThreads(impl->threads);
  impl->a = ToCsc(a);
  if (a.n <= options.direct_max_products) {
    impl->method = SolverMethod::kSparseLu;
    ColMatrix m = IdentityMinus(impl->a);
    impl->lu.compute(m);
    if (impl->lu.info() != Eigen::Success) return Singular();
    ColMatrix mt = m.transpose();
    impl->lu_transposed.compute(mt);
    if (impl->lu_transposed.info() != Eigen::Success) return Singular();
  } else if (options.iterative == SolverMethod::kRichardson) {
    impl->method = SolverMethod::kRichardson;
    impl->PrepareRichardson();
  } else {
    impl->method = SolverMethod::kBiCgStab;
    impl->PrepareBiCgStab();
  }
  return std::unique_ptr<LeontiefSolver>(new LeontiefSolver(std::move(impl)));
}

Result<Eigen::VectorXd> LeontiefSolver::Solve(const Eigen::VectorXd& b) {
  GS_ASSERT(b.size() == impl_->a.n);
  switch (impl_->method) {
    case SolverMethod::kSparseLu: return impl_->Factored(impl_->lu, b);
    case SolverMethod::kBiCgStab: return impl_->Iterate(*impl_->bicg, b);
    case SolverMethod::kRichardson: break;
  }
  Result<SolvedPair> pair = impl_->RichardsonWithFallback(&b, nullptr);
  if (!pair.ok()) return pair.status();
  return std::move(pair->x);
}

Result<Eigen::VectorXd> LeontiefSolver::SolveTransposed(const Eigen::VectorXd& b) {
  GS_ASSERT(b.size() == impl_->a.n);
  switch (impl_->method) {
    case SolverMethod::kSparseLu: return impl_->Factored(impl_->lu_transposed, b);
    case SolverMethod::kBiCgStab: return impl_->Iterate(*impl_->bicg_transposed, b);
    case SolverMethod::kRichardson: break;
  }
  Result<SolvedPair> pair = impl_->RichardsonWithFallback(nullptr, &b);
  if (!pair.ok()) return pair.status();
  return std::move(pair->y);
}

Result<SolvedPair> LeontiefSolver::SolveBoth(const Eigen::VectorXd& b, const Eigen::VectorXd& c) {
  GS_ASSERT(b.size() == impl_->a.n && c.size() == impl_->a.n);
  if (impl_->method == SolverMethod::kRichardson) return impl_->RichardsonWithFallback(&b, &c);
  Result<Eigen::VectorXd> x = Solve(b);
  if (!x.ok()) return x.status();
  Result<Eigen::VectorXd> y = SolveTransposed(c);
  if (!y.ok()) return y.status();
  return SolvedPair{std::move(x).value(), std::move(y).value()};
}

SolverMethod LeontiefSolver::method() const { return impl_->method; }
int LeontiefSolver::total_passes() const { return impl_->passes; }
int LeontiefSolver::total_iterations() const { return impl_->iterations; }
int LeontiefSolver::fallbacks() const { return impl_->fallbacks; }

}  // namespace gongshe::planner
