#include "planner/solver.h"

#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseLU>

#include <cmath>
#include <thread>

#include "planner/fixed_point.h"

namespace gongshe::planner {
namespace {

using ColMatrix = Eigen::SparseMatrix<double, Eigen::ColMajor, int>;
using RowMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;
using Lu = Eigen::SparseLU<ColMatrix, Eigen::COLAMDOrdering<int>>;
using BiCg = Eigen::BiCGSTAB<RowMatrix, Eigen::DiagonalPreconditioner<double>>;

constexpr double kAcceptableResidual = 1e-8;

// A in compressed sparse column form, in floating point.
ColMatrix ToFloating(const SparseFixed& a) {
  ColMatrix m(a.n, a.n);
  Eigen::VectorXi per_column(a.n);
  for (uint32_t j = 0; j < a.n; ++j) per_column[j] = static_cast<int>(a.col_start[j + 1] - a.col_start[j]);
  m.reserve(per_column);
  for (uint32_t j = 0; j < a.n; ++j) {
    for (uint64_t k = a.col_start[j]; k < a.col_start[j + 1]; ++k) {
      m.insert(static_cast<int>(a.row[k]), static_cast<int>(j)) =
          static_cast<double>(a.coef[k]) / static_cast<double>(kCoefficientScale);
    }
  }
  m.makeCompressed();
  return m;
}

bool AllFinite(const Eigen::VectorXd& y) { return y.allFinite(); }

}  // namespace

const char* SolverMethodName(SolverMethod m) { return m == SolverMethod::kSparseLu ? "sparse-lu" : "bicgstab"; }

struct LeontiefSolver::Impl {
  SolverMethod method;
  RowMatrix a_rows;  // A itself, for MultiplyA
  // LU method.
  Lu lu, lu_transposed;
  // BiCGSTAB method.
  RowMatrix m_rows, mt_rows;
  BiCg bicg, bicg_transposed;
  int iterations = 0;

  Result<Eigen::VectorXd> Iterate(BiCg& solver, const Eigen::VectorXd& b) {
    if (b.squaredNorm() == 0) return Eigen::VectorXd(Eigen::VectorXd::Zero(b.size()));
    Eigen::VectorXd y = solver.solve(b);
    iterations += static_cast<int>(solver.iterations());
    if (!AllFinite(y) || !(solver.error() <= kAcceptableResidual)) {
      return Status("NO_CONVERGENCE", "BiCGSTAB did not converge (relative residual " + std::to_string(solver.error()) +
                                          " after " + std::to_string(solver.iterations()) +
                                          " iterations): the economy is probably not productive (spectral radius "
                                          "of A >= 1) or badly conditioned");
    }
    return y;
  }

  Result<Eigen::VectorXd> Factored(Lu& solver, const Eigen::VectorXd& b) {
    Eigen::VectorXd y = solver.solve(b);
    if (solver.info() != Eigen::Success || !AllFinite(y)) {
      return Status("NON_PRODUCTIVE", "I - A is singular: the economy is not productive (spectral radius of A >= 1)");
    }
    return y;
  }
};

LeontiefSolver::LeontiefSolver(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LeontiefSolver::~LeontiefSolver() = default;

Result<std::unique_ptr<LeontiefSolver>> LeontiefSolver::Create(const SparseFixed& a, const SolverOptions& options) {
  GS_ASSERT(a.n > 0);
  GS_ASSERT(options.max_iterations > 0 && options.tolerance > 0);
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Eigen::setNbThreads(threads);
  auto impl = std::make_unique<Impl>();
  ColMatrix a_columns = ToFloating(a);
  impl->a_rows = a_columns;
  ColMatrix identity(a.n, a.n);
  identity.setIdentity();
  ColMatrix m = identity - a_columns;
  if (a.n <= options.direct_max_products) {
    impl->method = SolverMethod::kSparseLu;
    impl->lu.compute(m);
    if (impl->lu.info() != Eigen::Success) {
      return Status("NON_PRODUCTIVE", "I - A is singular: the economy is not productive (spectral radius of A >= 1)");
    }
    ColMatrix mt = m.transpose();
    impl->lu_transposed.compute(mt);
    if (impl->lu_transposed.info() != Eigen::Success) {
      return Status("NON_PRODUCTIVE", "I - A is singular: the economy is not productive (spectral radius of A >= 1)");
    }
  } else {
    impl->method = SolverMethod::kBiCgStab;
    impl->m_rows = m;
    impl->mt_rows = m.transpose();
    for (BiCg* s : {&impl->bicg, &impl->bicg_transposed}) {
      s->setTolerance(options.tolerance);
      s->setMaxIterations(options.max_iterations);
    }
    impl->bicg.compute(impl->m_rows);
    impl->bicg_transposed.compute(impl->mt_rows);
  }
  return std::unique_ptr<LeontiefSolver>(new LeontiefSolver(std::move(impl)));
}

Result<Eigen::VectorXd> LeontiefSolver::Solve(const Eigen::VectorXd& b) {
  GS_ASSERT(b.size() == impl_->a_rows.rows());
  return impl_->method == SolverMethod::kSparseLu ? impl_->Factored(impl_->lu, b) : impl_->Iterate(impl_->bicg, b);
}

Result<Eigen::VectorXd> LeontiefSolver::SolveTransposed(const Eigen::VectorXd& b) {
  GS_ASSERT(b.size() == impl_->a_rows.rows());
  return impl_->method == SolverMethod::kSparseLu ? impl_->Factored(impl_->lu_transposed, b)
                                                  : impl_->Iterate(impl_->bicg_transposed, b);
}

void LeontiefSolver::MultiplyA(const Eigen::VectorXd& x, Eigen::VectorXd& y) const {
  GS_ASSERT(x.size() == impl_->a_rows.cols());
  y.noalias() = impl_->a_rows * x;
}

SolverMethod LeontiefSolver::method() const { return impl_->method; }
int LeontiefSolver::total_iterations() const { return impl_->iterations; }

}  // namespace gongshe::planner
