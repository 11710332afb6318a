// Planner benchmark: solve, certify and verify a synthetic economy of n products, and one sparse
// matrix-vector pass (y = A x, Eigen, row-major, one thread, fastest of 11) as the memory-bandwidth unit. Prints
// one JSON object.
//
//   [PLANNER_THREADS=T] gongshe_planner_bench N [NNZ_PER_COLUMN=12] [SEED=1] [DUMP_DIR]
//
// Times, each the median of PLANNER_REPEATS runs (default 3): both floating solves (I - A) x = d and
// (I - A)^T v = l with the extrapolated Richardson iteration (one pass over A serves both) and with
// BiCGSTAB (diagonal preconditioner, tolerance 1e-14; the two systems one after the other); the
// full MakePlan (Richardson: setup, solves, rounding, exact checks, refinements); VerifyPlan.
//
// DUMP_DIR, when given, receives the same system as raw little-endian arrays for
// bench/planner_bench.py (SciPy): indptr.i64 (n+1), indices.i32, data.f64 (A in CSC, exactly the
// fixed-point coefficients / 10^9), demand.f64, labour.f64.
//
// Generator (deterministic from SEED): column j (the using product) draws NNZ_PER_COLUMN input
// rows: half from a band j-50..j+50 (suppliers of the same industry cluster), a quarter from 32
// hub products spread over the index range (energy, transport, services: used by everyone), a
// quarter uniformly at random; duplicates are merged. Weights are uniform in (0, 1] and scaled
// so the column sums to s_j, uniform in [0.6, 0.8]; the spectral radius of A is then between
// min s_j and max s_j, i.e. in [0.6, 0.8]. Coefficients are rounded to 10^-9 (the input scale).
// Labour coefficients: uniform in [0.01, 1] hours; consumer demand on every third product,
// public demand on every seventh, accumulation on every eleventh, uniform up to 10^6 units.

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <thread>

#include <Eigen/SparseCore>

#include "planner/certificate.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"

namespace {

using gongshe::planner::Economy;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds of the whole process (every thread): leaves out time spent waiting for a core.
double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

Economy Generate(uint32_t n, uint32_t per_column, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](uint64_t bound) { return rng() % bound; };
  Economy e;
  e.a.n = n;
  e.a.col_start.assign(uint64_t{n} + 1, 0);
  const uint32_t hubs = std::min<uint32_t>(32, n);
  std::vector<uint32_t> rows;
  std::vector<uint64_t> weights;
  for (uint32_t j = 0; j < n; ++j) {
    rows.clear();
    for (uint32_t t = 0; t < per_column; ++t) {
      uint32_t i;
      if (t % 4 < 2) {
        int64_t r = int64_t{j} + static_cast<int64_t>(uniform(101)) - 50;
        i = static_cast<uint32_t>(std::clamp<int64_t>(r, 0, n - 1));
      } else if (t % 4 == 2) {
        i = static_cast<uint32_t>(uniform(hubs) * (n / hubs));
      } else {
        i = static_cast<uint32_t>(uniform(n));
      }
      rows.push_back(i);
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    weights.assign(rows.size(), 0);
    uint64_t total = 0;
    for (uint64_t& w : weights) total += (w = 1 + uniform(1'000'000));
    int64_t column_sum = 600'000'000 + static_cast<int64_t>(uniform(200'000'001));  // s_j in 10^-9
    for (size_t k = 0; k < rows.size(); ++k) {
      e.a.row.push_back(rows[k]);
      e.a.coef.push_back(static_cast<int64_t>(static_cast<unsigned __int128>(column_sum) * weights[k] / total));
    }
    e.a.col_start[j + 1] = e.a.row.size();
  }
  e.names.assign(n, "");
  e.capacity.assign(n, Economy::kNoCapacity);
  e.labour.resize(n);
  e.consumer.assign(n, 0);
  e.public_projects.assign(n, 0);
  e.accumulation.assign(n, 0);
  for (uint32_t j = 0; j < n; ++j) {
    e.labour[j] = 10'000'000 + static_cast<int64_t>(uniform(990'000'001));
    if (j % 3 == 0) e.consumer[j] = static_cast<int64_t>(uniform(1'000'000'000'000));
    if (j % 7 == 0) e.public_projects[j] = static_cast<int64_t>(uniform(1'000'000'000'000));
    if (j % 11 == 0) e.accumulation[j] = static_cast<int64_t>(uniform(1'000'000'000'000));
  }
  return e;
}

template <typename T>
void Write(const std::string& path, const std::vector<T>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

void Dump(const Economy& e, const std::string& dir) {
  std::vector<int64_t> indptr(e.a.col_start.begin(), e.a.col_start.end());
  std::vector<int32_t> indices(e.a.row.begin(), e.a.row.end());
  std::vector<double> data, demand, labour;
  for (int64_t c : e.a.coef) data.push_back(static_cast<double>(c) / 1e9);
  for (uint32_t j = 0; j < e.n(); ++j) {
    demand.push_back(static_cast<double>(e.Demand(j)) / 1e6);
    labour.push_back(static_cast<double>(e.labour[j]) / 1e9);
  }
  Write(dir + "/indptr.i64", indptr);
  Write(dir + "/indices.i32", indices);
  Write(dir + "/data.f64", data);
  Write(dir + "/demand.f64", demand);
  Write(dir + "/labour.f64", labour);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The SpMV unit: y = A x on Eigen's row-major storage, one thread, the fastest of 11 (the cost of
// the pass itself, without the time lost to other processes on a shared machine).
double SpmvSeconds(const Economy& e) {
  Eigen::SparseMatrix<double, Eigen::ColMajor, int> columns(e.n(), e.n());
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(e.a.nnz());
  for (uint32_t j = 0; j < e.n(); ++j) {
    for (uint64_t k = e.a.col_start[j]; k < e.a.col_start[j + 1]; ++k) {
      entries.emplace_back(static_cast<int>(e.a.row[k]), static_cast<int>(j), static_cast<double>(e.a.coef[k]) / 1e9);
    }
  }
  columns.setFromTriplets(entries.begin(), entries.end());
  Eigen::SparseMatrix<double, Eigen::RowMajor, int> rows = columns;
  Eigen::VectorXd x = Eigen::VectorXd::Ones(e.n()), y(e.n());
  Eigen::setNbThreads(1);
  std::vector<double> times;
  for (int r = 0; r < 11; ++r) {
    auto start = Clock::now();
    y.noalias() = rows * x;
    times.push_back(Seconds(start));
  }
  return *std::min_element(times.begin(), times.end());
}

struct SolveTiming {
  double seconds = 0, cpu_seconds = 0;
  int passes = 0, iterations = 0, fallbacks = 0;
};

// Median over `repeats` fresh solvers of the time to solve both systems (setup excluded).
SolveTiming TimeSolves(const Economy& e, gongshe::planner::SolverOptions options, int repeats) {
  using namespace gongshe::planner;
  Eigen::VectorXd d(e.n()), l(e.n());
  for (uint32_t j = 0; j < e.n(); ++j) {
    d[j] = static_cast<double>(e.Demand(j)) / 1e6;
    l[j] = static_cast<double>(e.labour[j]) / 1e9;
  }
  std::vector<double> times, cpu_times;
  SolveTiming out;
  for (int r = 0; r < repeats; ++r) {
    gongshe::Result<std::unique_ptr<LeontiefSolver>> solver = LeontiefSolver::Create(e.a, options);
    if (!solver.ok()) std::fprintf(stderr, "%s\n", solver.status().ToString().c_str()), std::exit(1);
    auto start = Clock::now();
    const double cpu_start = CpuSeconds();
    gongshe::Result<SolvedPair> pair = (*solver)->SolveBoth(d, l);
    cpu_times.push_back(CpuSeconds() - cpu_start);
    times.push_back(Seconds(start));
    if (!pair.ok()) std::fprintf(stderr, "%s\n", pair.status().ToString().c_str()), std::exit(1);
    out.passes = (*solver)->total_passes();
    out.iterations = (*solver)->total_iterations();
    out.fallbacks = (*solver)->fallbacks();
  }
  out.seconds = Median(times);
  out.cpu_seconds = Median(cpu_times);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace gongshe::planner;
  using gongshe::Result;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s N [NNZ_PER_COLUMN=12] [SEED=1] [DUMP_DIR]\n", argv[0]);
    return 2;
  }
  const uint32_t n = static_cast<uint32_t>(std::stoul(argv[1]));
  const uint32_t per_column = argc > 2 ? static_cast<uint32_t>(std::stoul(argv[2])) : 12;
  const uint64_t seed = argc > 3 ? std::stoull(argv[3]) : 1;
  if (n == 0 || n > kMaxProducts || per_column == 0 || per_column > 64) {
    std::fprintf(stderr, "N must be 1..%u, NNZ_PER_COLUMN 1..64\n", kMaxProducts);
    return 2;
  }
  Economy e = Generate(n, per_column, seed);
  if (argc > 4) Dump(e, argv[4]);
  SolverOptions options;
  options.direct_max_products = 0;  // the iterative methods at every size
  if (const char* threads = std::getenv("PLANNER_THREADS")) options.threads = std::atoi(threads);
  int repeats = 3;
  if (const char* r = std::getenv("PLANNER_REPEATS")) repeats = std::max(1, std::atoi(r));

  const double unit = SpmvSeconds(e);
  options.iterative = SolverMethod::kRichardson;
  const SolveTiming richardson = TimeSolves(e, options, repeats);
  options.iterative = SolverMethod::kBiCgStab;
  const SolveTiming bicgstab = TimeSolves(e, options, repeats);
  options.iterative = SolverMethod::kRichardson;

  auto start = Clock::now();
  Result<MadePlan> made = MakePlan(e, options);
  const double plan_s = Seconds(start);
  if (!made.ok()) return std::fprintf(stderr, "%s\n", made.status().ToString().c_str()), 1;
  std::string bytes = made->plan.SerializeAsString();
  start = Clock::now();
  Result<VerifiedPlan> verified = VerifyPlan(gongshe::AsBytes(bytes), e);
  const double verify_s = Seconds(start);
  if (!verified.ok()) return std::fprintf(stderr, "%s\n", verified.status().ToString().c_str()), 1;

  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  std::printf(
      "{\"n\":%u,\"nnz\":%llu,\"threads\":%d,\"repeats\":%d,\"spmv_s\":%.6f,"
      "\"solve_x_and_v_s\":%.6f,\"solve_x_and_v_cpu_s\":%.6f,\"solve_in_spmv\":%.1f,\"richardson_passes\":%d,\"richardson_fallbacks\":%d,"
      "\"bicgstab_solve_x_and_v_s\":%.6f,\"bicgstab_solve_x_and_v_cpu_s\":%.6f,\"bicgstab_in_spmv\":%.1f,\"bicgstab_iterations\":%d,"
      "\"plan_s\":%.6f,\"plan_passes\":%d,\"plan_refinements\":%d,\"verify_s\":%.6f,\"verify_in_spmv\":%.1f,"
      "\"plan_bytes\":%zu}\n",
      n, static_cast<unsigned long long>(e.a.nnz()), threads, repeats, unit, richardson.seconds, richardson.cpu_seconds,
      richardson.seconds / unit, richardson.passes, richardson.fallbacks, bicgstab.seconds, bicgstab.cpu_seconds,
      bicgstab.seconds / unit,
      bicgstab.iterations, plan_s, made->stats.passes, made->stats.refinements, verify_s, verify_s / unit,
      bytes.size());
  return 0;
}
