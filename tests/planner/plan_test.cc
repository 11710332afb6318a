// Plans end to end: textbook economies with hand-checked solutions, a published table, rejected
// economies, and certificates that pass, fail when tampered with, and verify byte-identically.

#include "planner/plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "planner/fixed_point.h"

namespace gongshe::planner {
namespace {

struct Files {
  std::string matrix, products, demand;
};

// A dense coefficient table (rows = inputs, columns = using product) as Matrix Market text,
// zeros left out.
std::string MatrixText(const std::vector<std::vector<const char*>>& a) {
  std::string body;
  size_t nnz = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < a.size(); ++j) {
      if (std::string(a[i][j]) == "0") continue;
      body += std::to_string(i + 1) + " " + std::to_string(j + 1) + " " + a[i][j] + "\n";
      ++nnz;
    }
  }
  return "%%MatrixMarket matrix coordinate real general\n" + std::to_string(a.size()) + " " + std::to_string(a.size()) +
         " " + std::to_string(nnz) + "\n" + body;
}

std::string ProductsText(const std::vector<const char*>& labour) {
  std::string out = "product,name,labour_hours,capacity\n";
  for (size_t j = 0; j < labour.size(); ++j) out += std::to_string(j + 1) + ",p" + std::to_string(j + 1) + "," + labour[j] + ",\n";
  return out;
}

std::string DemandText(const std::vector<const char*>& consumer) {
  std::string out = "product,consumer,public,accumulation\n";
  for (size_t j = 0; j < consumer.size(); ++j) out += std::to_string(j + 1) + "," + consumer[j] + ",0,0\n";
  return out;
}

Economy Parse(const Files& f) {
  Result<Economy> e = ParseEconomy(f.matrix, f.products, f.demand);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return std::move(e).value();
}

SolverOptions Direct() { return SolverOptions{}; }
SolverOptions Iterative() {
  SolverOptions o;
  o.direct_max_products = 0;
  return o;
}

v1::Plan Solve(const Economy& e, const SolverOptions& options = Direct()) {
  Result<MadePlan> made = MakePlan(e, options);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? made->plan : v1::Plan();
}

std::string Bytes(const v1::Plan& p) { return p.SerializeAsString(); }

Result<VerifiedPlan> Verify(const std::string& bytes, const Economy& e) { return VerifyPlan(AsBytes(bytes), e); }

// (I - A) x = d checked by hand: A = [[0.2, 0.3], [0.4, 0.1]], det(I - A) = 0.72 - 0.12 = 0.6,
// (I - A)^-1 = [[1.5, 0.5], [2/3, 4/3]]; d = (100, 200) gives x = (250, 1000/3);
// l = (0.5, 1) gives v = l (I - A)^-1 = (17/12, 19/12), and v . d = l . x = 1375/3 hours.
Files TwoSectors() {
  return {MatrixText({{"0.2", "0.3"}, {"0.4", "0.1"}}), ProductsText({"0.5", "1"}), DemandText({"100", "200"})};
}

TEST(Plan, TwoSectorTextbookSolution) {
  for (const SolverOptions& options : {Direct(), Iterative()}) {
    Economy e = Parse(TwoSectors());
    v1::Plan p = Solve(e, options);
    ASSERT_EQ(p.gross_output_micro_size(), 2);
    EXPECT_EQ(p.gross_output_micro(0), 250'000'000);
    EXPECT_EQ(p.gross_output_micro(1), 333'333'333);
    EXPECT_EQ(p.labour_value_nano(0), 1'416'666'667);
    EXPECT_EQ(p.labour_value_nano(1), 1'583'333'333);
    EXPECT_EQ(p.productivity_witness_nano_size(), 0);  // l > 0: v is the witness
    // floor((1416666667 * 100e6 + 1583333333 * 200e6) / 1e9) = 458333333 micro-hours.
    EXPECT_EQ(p.consumer_labour_micro_hours(), 458'333'333);
    EXPECT_EQ(p.public_labour_micro_hours(), 0);
    // l . x = 0.5 * 250 + 1000/3 -> floor((0.5e9 * 250e6 + 1e9 * 333333333) / 1e9) = 458333333.
    EXPECT_EQ(p.total_labour_micro_hours(), 458'333'333);
    Result<VerifiedPlan> ok = Verify(Bytes(p), e);
    ASSERT_TRUE(ok.ok()) << ok.status().ToString();
    EXPECT_EQ(ok->totals.consumer, 458'333'333);
  }
}

// Nilpotent chain: product 1 uses 0.5 of product 2, which uses 0.5 of product 3. By hand,
// (I - A)^-1 = I + A + A^2 = [[1, .5, .25], [0, 1, .5], [0, 0, 1]], so d = (0, 0, 8) needs
// x = (2, 4, 8). Product 1 needs no labour: the plan must carry a separate productivity witness.
Files Chain() {
  return {MatrixText({{"0", "0.5", "0"}, {"0", "0", "0.5"}, {"0", "0", "0"}}), ProductsText({"0", "1", "2"}),
          DemandText({"0", "0", "8"})};
}

TEST(Plan, NilpotentChainAndExplain) {
  Economy e = Parse(Chain());
  v1::Plan p = Solve(e);
  EXPECT_EQ(std::vector<int64_t>(p.gross_output_micro().begin(), p.gross_output_micro().end()),
            (std::vector<int64_t>{2'000'000, 4'000'000, 8'000'000}));
  // v = l (I - A)^-1 = (0, 1, 2.5).
  EXPECT_EQ(std::vector<int64_t>(p.labour_value_nano().begin(), p.labour_value_nano().end()),
            (std::vector<int64_t>{0, 1'000'000'000, 2'500'000'000}));
  EXPECT_EQ(p.productivity_witness_nano_size(), 3);
  EXPECT_EQ(p.consumer_labour_micro_hours(), 20'000'000);  // 2.5 h * 8
  ASSERT_TRUE(Verify(Bytes(p), e).ok());

  auto solver = LeontiefSolver::Create(e.a, Direct());
  ASSERT_TRUE(solver.ok());
  Result<Explanation> why = Explain(e, **solver, 0, 5);
  ASSERT_TRUE(why.ok()) << why.status().ToString();
  EXPECT_NEAR(why->gross_output, 2.0, 1e-12);
  ASSERT_EQ(why->drivers.size(), 1u);  // only product 3 has final demand
  EXPECT_EQ(why->drivers[0].product, 2u);
  EXPECT_NEAR(why->drivers[0].multiplier, 0.25, 1e-12);
  EXPECT_NEAR(why->drivers[0].contribution, 2.0, 1e-12);
  EXPECT_EQ(Explain(e, **solver, 3, 5).status().code(), "BAD_PRODUCT");
}

// Lay, "Linear Algebra and Its Applications", section 2.6, Example 3: C = [[.5, .4, .2],
// [.2, .3, .1], [.1, .1, .3]], d = (50, 30, 20). By hand: x = (6100, 3200, 2100) / 27, since
// (.5*6100 - .4*3200 - .2*2100, -.2*6100 + .7*3200 - .1*2100, -.1*6100 - .1*3200 + .7*2100)
// = (1350, 810, 540) = 27 * (50, 30, 20).
TEST(Plan, ThreeSectorTextbookSolution) {
  Economy e = Parse({MatrixText({{".5", ".4", ".2"}, {".2", ".3", ".1"}, {".1", ".1", ".3"}}),
                     ProductsText({"1", "1", "1"}), DemandText({"50", "30", "20"})});
  for (const SolverOptions& options : {Direct(), Iterative()}) {
    v1::Plan p = Solve(e, options);
    EXPECT_EQ(p.gross_output_micro(0), 225'925'926);  // 6100/27 = 225.9259259...
    EXPECT_EQ(p.gross_output_micro(1), 118'518'519);  // 3200/27 = 118.5185185...
    EXPECT_EQ(p.gross_output_micro(2), 77'777'778);   // 2100/27 = 77.7777777...
    EXPECT_TRUE(Verify(Bytes(p), e).ok());
  }
}

// A published table: the 1958 U.S. input-output table (Leontief, "The Structure of the U.S.
// Economy", Scientific American, April 1965), 81 sectors aggregated into 7, as printed in Lay,
// "Linear Algebra and Its Applications", section 2.6, exercise 13: (1) nonmetal household and
// personal products, (2) final metal products, (3) basic metal products and mining, (4) basic
// nonmetal products and agriculture, (5) energy, (6) services, (7) entertainment and
// miscellaneous; millions of dollars. The book's answer, rounded to whole millions:
// x = (99576, 97703, 51231, 131570, 49488, 329554, 13835).
TEST(Plan, Leontief1958UnitedStatesSevenSectors) {
  Files f{MatrixText({{".1588", ".0064", ".0025", ".0304", ".0014", ".0083", ".1594"},
                      {".0057", ".2645", ".0436", ".0099", ".0083", ".0201", ".3413"},
                      {".0264", ".1506", ".3557", ".0139", ".0142", ".0070", ".0236"},
                      {".3299", ".0565", ".0495", ".3636", ".0204", ".0483", ".0649"},
                      {".0089", ".0081", ".0333", ".0295", ".3412", ".0237", ".0020"},
                      {".1190", ".0901", ".0996", ".1260", ".1722", ".2368", ".3369"},
                      {".0063", ".0126", ".0196", ".0098", ".0064", ".0132", ".0012"}}),
          ProductsText({"1", "1", "1", "1", "1", "1", "1"}),
          DemandText({"74000", "56000", "10500", "25000", "17500", "196000", "5000"})};
  Economy e = Parse(f);
  const int64_t published[] = {99576, 97703, 51231, 131570, 49488, 329554, 13835};
  for (const SolverOptions& options : {Direct(), Iterative()}) {
    v1::Plan p = Solve(e, options);
    ASSERT_EQ(p.gross_output_micro_size(), 7);
    for (int j = 0; j < 7; ++j) {
      EXPECT_LE(std::llabs(p.gross_output_micro(j) - published[j] * kQuantityScale), kQuantityScale / 2) << j;
    }
    EXPECT_TRUE(Verify(Bytes(p), e).ok());
  }
}

TEST(Plan, NonProductiveEconomiesAreRejected) {
  // Column sums 1.1: spectral radius 1.1; (I - A)^-1 exists but is negative.
  Economy over = Parse({MatrixText({{"0.6", "0.5"}, {"0.5", "0.6"}}), ProductsText({"1", "1"}), DemandText({"1", "1"})});
  // Spectral radius exactly 1: I - A singular.
  Economy singular = Parse({MatrixText({{"0.5", "0.5"}, {"0.5", "0.5"}}), ProductsText({"1", "1"}), DemandText({"1", "1"})});
  for (const Economy* e : {&over, &singular}) {
    Result<MadePlan> made = MakePlan(*e, Direct());
    ASSERT_FALSE(made.ok());
    EXPECT_EQ(made.status().code(), "NON_PRODUCTIVE") << made.status().ToString();
    EXPECT_NE(made.status().message().find("spectral radius of A >= 1"), std::string::npos);
  }
  Result<MadePlan> iterative = MakePlan(over, Iterative());
  ASSERT_FALSE(iterative.ok());
  EXPECT_TRUE(iterative.status().code() == "NON_PRODUCTIVE" || iterative.status().code() == "NO_CONVERGENCE")
      << iterative.status().ToString();
}

TEST(Plan, NegativeSolutionAndCapacityAreRejected) {
  Files drawdown = TwoSectors();
  drawdown.demand = "product,consumer,public,accumulation\n1,10,0,-100\n2,200,0,0\n";  // d_1 = -90
  // x_1 = 1.5 * -90 + 0.5 * 200 = -35.
  Result<MadePlan> made = MakePlan(Parse(drawdown), Direct());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), "NO_NONNEGATIVE_SOLUTION");
  EXPECT_NE(made.status().message().find("product 1 (p1)"), std::string::npos);

  Files capped = TwoSectors();
  capped.products = "product,name,labour_hours,capacity\n1,grain,0.5,249.999999\n2,steel,1,\n";
  made = MakePlan(Parse(capped), Direct());
  ASSERT_FALSE(made.ok());
  EXPECT_EQ(made.status().code(), "OVER_CAPACITY");
  capped.products = "product,name,labour_hours,capacity\n1,grain,0.5,250\n2,steel,1,\n";
  EXPECT_TRUE(MakePlan(Parse(capped), Direct()).ok());
}

std::string CodeOf(const v1::Plan& p, const Economy& e) {
  Result<VerifiedPlan> r = Verify(Bytes(p), e);
  return r.ok() ? "OK" : r.status().code();
}

TEST(Certificate, TamperedPlansFail) {
  Economy e = Parse(TwoSectors());
  const v1::Plan good = Solve(e);
  ASSERT_EQ(CodeOf(good, e), "OK");

  auto tampered = [&](auto change) {
    v1::Plan p = good;
    change(p);
    return CodeOf(p, e);
  };
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_gross_output_micro(0, p.gross_output_micro(0) + 1'000); }), "PLAN_PRIMAL_RESIDUAL");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_gross_output_micro(1, p.gross_output_micro(1) - 5); }), "PLAN_PRIMAL_RESIDUAL");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_labour_value_nano(1, p.labour_value_nano(1) + 10); }), "PLAN_DUAL_RESIDUAL");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_consumer_labour_micro_hours(p.consumer_labour_micro_hours() + 1); }),
            "PLAN_TOTALS_MISMATCH");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_total_labour_micro_hours(0); }), "PLAN_TOTALS_MISMATCH");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_gross_output_micro(0, -1); }), "PLAN_NEGATIVE");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_labour_value_nano(0, -1); }), "PLAN_NEGATIVE");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_labour_value_nano(0, 0); }), "PLAN_NOT_PRODUCTIVE");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.add_productivity_witness_nano(1);
    p.add_productivity_witness_nano(0);
  }), "PLAN_NOT_PRODUCTIVE");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_version(2); }), "PLAN_MALFORMED");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.set_products(3); }), "PLAN_MALFORMED");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.add_gross_output_micro(1); }), "PLAN_MALFORMED");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.mutable_labour_value_nano()->RemoveLast(); }), "PLAN_MALFORMED");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.add_productivity_witness_nano(1); }), "PLAN_MALFORMED");
  EXPECT_EQ(tampered([](v1::Plan& p) { p.mutable_matrix_sha256()->pop_back(); }), "PLAN_MALFORMED");
  EXPECT_EQ(tampered([](v1::Plan& p) { (*p.mutable_demand_sha256())[0] ^= 1; }), "PLAN_INPUT_MISMATCH");
  // The plan is exact about its inputs: swapping the consumer and public columns of the demand
  // leaves d (and so x) unchanged, but it is another input and another issuance cap.
  Files swapped = TwoSectors();
  swapped.demand = "product,consumer,public,accumulation\n1,0,100,0\n2,0,200,0\n";
  Result<VerifiedPlan> r = Verify(Bytes(good), Parse(swapped));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "PLAN_INPUT_MISMATCH");
  EXPECT_NE(r.status().message().find("another demand file"), std::string::npos);
  // Another matrix.
  Files other = TwoSectors();
  other.matrix = MatrixText({{"0.2", "0.3"}, {"0.4", "0.2"}});
  EXPECT_EQ(Verify(Bytes(good), Parse(other)).status().code(), "PLAN_INPUT_MISMATCH");
}

TEST(Certificate, ResidualCheckIsTightAtOneUnitInTheLastPlace) {
  Economy e = Parse(TwoSectors());
  v1::Plan good = Solve(e);
  // x_2 = 333.333333 (true 333.3333333...). One unit of change stays inside the tolerance of
  // one unit in the last place per term; a few units do not.
  std::vector<int64_t> x(good.gross_output_micro().begin(), good.gross_output_micro().end());
  EXPECT_TRUE(CheckPrimal(e, x, nullptr).ok());
  x[1] += 1;
  EXPECT_TRUE(CheckPrimal(e, x, nullptr).ok());
  x[1] += 2;
  ResidualCheck c = CheckPrimal(e, x, nullptr);
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(c.first_failure, 1);
}

TEST(Certificate, RandomBytesNeverCrash) {
  Economy e = Parse(TwoSectors());
  const std::string good = Bytes(Solve(e));
  std::mt19937_64 rng(6);
  int accepted = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (round % 3 == 0) bytes.resize(rng() % bytes.size());
    Result<VerifiedPlan> r = Verify(bytes, e);
    if (r.ok()) ++accepted;
  }
  // A change that survives must leave a genuinely valid plan (e.g. the low bit of a figure
  // inside its tolerance); nothing forces many of them.
  EXPECT_LT(accepted, 300);
  for (size_t len : {size_t{0}, size_t{1}, size_t{7}}) {
    std::string junk(len, '\xff');
    EXPECT_EQ(Verify(junk, e).status().code(), "PLAN_MALFORMED");
  }
}

// A random productive economy: k inputs per column, column sums in [0.6, 0.8].
Files RandomEconomy(uint32_t n, uint32_t k, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string body;
  for (uint32_t j = 0; j < n; ++j) {
    std::vector<uint32_t> rows;
    for (uint32_t t = 0; t < k; ++t) {
      uint32_t i = static_cast<uint32_t>(rng() % n);
      if (std::find(rows.begin(), rows.end(), i) == rows.end()) rows.push_back(i);
    }
    int64_t column_budget = 600'000'000 + static_cast<int64_t>(rng() % 200'000'001);
    for (uint32_t i : rows) {
      body += std::to_string(i + 1) + " " + std::to_string(j + 1) + " " +
              FormatFixed(column_budget / static_cast<int64_t>(rows.size()), 9) + "\n";
    }
  }
  size_t nnz = static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
  Files f;
  f.matrix = "%%MatrixMarket matrix coordinate real general\n" + std::to_string(n) + " " + std::to_string(n) + " " +
             std::to_string(nnz) + "\n" + body;
  f.products = "product,name,labour_hours,capacity\n";
  f.demand = "product,consumer,public,accumulation\n";
  for (uint32_t j = 0; j < n; ++j) {
    f.products += std::to_string(j + 1) + ",," + FormatFixed(10'000'000 + static_cast<int64_t>(rng() % 990'000'000), 9) + ",\n";
    if (j % 3 == 0) {
      f.demand += std::to_string(j + 1) + "," + FormatFixed(static_cast<int64_t>(rng() % 1'000'000'000'000), 6) + "," +
                  FormatFixed(static_cast<int64_t>(rng() % 1'000'000'000), 6) + ",0\n";
    }
  }
  return f;
}

TEST(Certificate, RandomEconomiesBothMethodsVerify) {
  Economy small = Parse(RandomEconomy(240, 8, 42));
  v1::Plan direct = Solve(small, Direct());
  v1::Plan iterative = Solve(small, Iterative());
  Result<VerifiedPlan> a = Verify(Bytes(direct), small), b = Verify(Bytes(iterative), small);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  // Two different solvers land within the tolerance of each other.
  for (int j = 0; j < 240; ++j) {
    ASSERT_LE(std::llabs(direct.gross_output_micro(j) - iterative.gross_output_micro(j)),
              1 + direct.gross_output_micro(j) / 100'000'000)
        << j;
  }
  Economy large = Parse(RandomEconomy(20'000, 12, 43));
  Result<MadePlan> made = MakePlan(large, Direct());  // above direct_max_products: Richardson
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_EQ(made->stats.method, SolverMethod::kRichardson);
  EXPECT_GT(made->stats.passes, 0);
  EXPECT_EQ(made->stats.fallbacks, 0);
  Result<VerifiedPlan> c = Verify(Bytes(made->plan), large);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  SolverOptions bicgstab = Direct();
  bicgstab.iterative = SolverMethod::kBiCgStab;
  Result<MadePlan> other = MakePlan(large, bicgstab);
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  EXPECT_EQ(other->stats.method, SolverMethod::kBiCgStab);
  EXPECT_GT(other->stats.iterations, 0);
  EXPECT_TRUE(Verify(Bytes(other->plan), large).ok());
}

TEST(Certificate, VerificationIsByteIdenticalAcrossRuns) {
  Files f = RandomEconomy(500, 8, 7);
  const std::string plan = Bytes(Solve(Parse(f)));
  std::string first;
  for (int run = 0; run < 5; ++run) {
    Economy e = Parse(f);  // a fresh parse each time, as another validator would
    std::string json = VerificationJson(Verify(plan, e));
    if (run == 0) first = json;
    EXPECT_EQ(json, first);
  }
  EXPECT_EQ(first.rfind("{\"valid\":true,\"products\":500,", 0), 0u) << first;
  std::string bad = plan;
  bad[bad.size() / 2] ^= 0x10;
  Economy e = Parse(f);
  EXPECT_EQ(VerificationJson(Verify(bad, e)), VerificationJson(Verify(bad, e)));
}

}  // namespace
}  // namespace gongshe::planner
