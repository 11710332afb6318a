// Planner benchmark: solve, certify and verify a synthetic economy of n products, and one sparse
// matrix-vector pass (y = A x, both cores) as the memory-bandwidth unit. Prints one JSON object.
//
//   [PLANNER_THREADS=T] gongshe_planner_bench N [NNZ_PER_COLUMN=12] [SEED=1] [DUMP_DIR]
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
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "planner/certificate.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"

namespace {

using gongshe::planner::Economy;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

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
  if (const char* threads = std::getenv("PLANNER_THREADS")) options.threads = std::atoi(threads);

  auto start = Clock::now();
  Result<std::unique_ptr<LeontiefSolver>> solver = LeontiefSolver::Create(e.a, options);
  if (!solver.ok()) return std::fprintf(stderr, "%s\n", solver.status().ToString().c_str()), 1;
  const double setup_s = Seconds(start);
  Eigen::VectorXd x = Eigen::VectorXd::Ones(n), y(n);
  std::vector<double> spmv;
  for (int r = 0; r < 11; ++r) {
    start = Clock::now();
    (*solver)->MultiplyA(x, y);
    spmv.push_back(Seconds(start));
  }
  Eigen::VectorXd d(n), l(n);
  for (uint32_t j = 0; j < n; ++j) {
    d[j] = static_cast<double>(e.Demand(j)) / 1e6;
    l[j] = static_cast<double>(e.labour[j]) / 1e9;
  }
  start = Clock::now();
  Result<Eigen::VectorXd> xs = (*solver)->Solve(d);
  Result<Eigen::VectorXd> vs = (*solver)->SolveTransposed(l);
  const double solve_s = Seconds(start);
  if (!xs.ok() || !vs.ok()) return std::fprintf(stderr, "solve failed\n"), 1;
  const int iterations = (*solver)->total_iterations();
  solver->reset();

  start = Clock::now();
  Result<MadePlan> made = MakePlan(e, options);
  const double plan_s = Seconds(start);
  if (!made.ok()) return std::fprintf(stderr, "%s\n", made.status().ToString().c_str()), 1;
  std::string bytes = made->plan.SerializeAsString();
  start = Clock::now();
  Result<VerifiedPlan> verified = VerifyPlan(gongshe::AsBytes(bytes), e);
  const double verify_s = Seconds(start);
  if (!verified.ok()) return std::fprintf(stderr, "%s\n", verified.status().ToString().c_str()), 1;

  const double unit = Median(spmv);
  std::printf(
      "{\"n\":%u,\"nnz\":%llu,\"method\":\"%s\",\"threads\":%d,\"setup_s\":%.6f,\"spmv_s\":%.6f,"
      "\"solve_x_and_v_s\":%.6f,\"solve_in_spmv\":%.1f,\"bicgstab_iterations\":%d,\"plan_s\":%.6f,"
      "\"plan_refinements\":%d,\"verify_s\":%.6f,\"verify_in_spmv\":%.1f,\"plan_bytes\":%zu}\n",
      n, static_cast<unsigned long long>(e.a.nnz()), SolverMethodName(made->stats.method), Eigen::nbThreads(), setup_s,
      unit, solve_s, solve_s / unit, iterations, plan_s, made->stats.refinements, verify_s, verify_s / unit,
      bytes.size());
  return 0;
}
