// A published national input-output table (OECD IOTs 2021 edition, Belgium 2020, 50 industries;
// source and caveats in tests/planner/data/README.md): the copy satisfies the publication's own
// accounting identities, and the plan computed from its coefficients reproduces the published
// gross outputs within the bound that rounding allows, with a certificate that verifies.

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "common/file.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"

namespace gongshe::planner {
namespace {

constexpr size_t kIndustries = 50;
constexpr size_t kFinalUses = 9;  // HFCE NPISH GGFC GFCF INVNT DPABR CONS_NONRES EXPO IMPO

// The CSV with every figure in exact tenths (the table prints one decimal).
struct Table {
  std::vector<std::string> columns;                  // 59 codes after the row label
  std::vector<std::string> row_labels;               // in file order
  std::map<std::string, std::vector<int64_t>> rows;  // label -> 59 figures in tenths
  const std::vector<int64_t>& operator[](const std::string& label) const { return rows.at(label); }
};

std::string Unquote(std::string_view s) {
  return s.size() >= 2 && s.front() == '"' && s.back() == '"' ? std::string(s.substr(1, s.size() - 2)) : std::string(s);
}

std::vector<std::string_view> Split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t comma; (comma = line.find(',', start)) != std::string_view::npos; start = comma + 1) {
    out.push_back(line.substr(start, comma - start));
  }
  out.push_back(line.substr(start));
  return out;
}

Table LoadTable() {
  Result<std::string> text =
      ReadFileBytes(std::string(GONGSHE_SOURCE_DIR) + "/tests/planner/data/oecd_iots2021_bel2020_ttl.csv", 1 << 20);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  Table t;
  if (!text.ok()) return t;
  EXPECT_EQ(text->size(), 15'847u);  // the size of the copied file
  std::string_view rest = *text;
  bool header = true;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    std::vector<std::string_view> fields = Split(line);
    EXPECT_EQ(fields.size(), 1 + kIndustries + kFinalUses) << line;
    if (header) {
      for (size_t k = 1; k < fields.size(); ++k) t.columns.push_back(Unquote(fields[k]));
      header = false;
      continue;
    }
    std::vector<int64_t> values;
    for (size_t k = 1; k < fields.size(); ++k) {
      Result<int64_t> v = ParseFixed(fields[k], 1, int64_t{1} << 40);
      EXPECT_TRUE(v.ok()) << fields[k];
      values.push_back(v.ok() ? *v : 0);
    }
    t.row_labels.push_back(Unquote(fields[0]));
    t.rows[t.row_labels.back()] = std::move(values);
  }
  return t;
}

// The product row of industry column k: "D01" -> "TTL_01".
std::string ProductRow(const Table& t, size_t k) { return "TTL_" + t.columns[k].substr(1); }

TEST(PublishedTable, CopySatisfiesThePublicationsIdentities) {
  const Table t = LoadTable();
  ASSERT_EQ(t.columns.size(), kIndustries + kFinalUses);
  EXPECT_EQ(t.columns[0], "D01");
  EXPECT_EQ(t.columns[kIndustries - 1], "D97T98");
  EXPECT_EQ(t.columns[kIndustries], "HFCE");
  EXPECT_EQ(t.columns.back(), "IMPO");
  ASSERT_EQ(t.row_labels.size(), kIndustries + 5);
  const std::vector<int64_t>& output = t["OUTPUT"];
  // Row i: intermediate uses + final uses = OUTPUT_i, to the rounding of 60 printed figures
  // (each off by at most 0.05, i.e. 0.5 tenths): |deviation| <= 30 tenths.
  for (size_t i = 0; i < kIndustries; ++i) {
    const std::vector<int64_t>& row = t[ProductRow(t, i)];
    int64_t total = 0;
    for (int64_t v : row) total += v;
    EXPECT_LE(std::llabs(total - output[i]), 30) << t.columns[i];
  }
  // Column j (industries and final uses): the 50 product rows + the two tax rows = TTL_INT_FNL,
  // to the rounding of 53 printed figures: |deviation| <= 26 tenths.
  for (size_t j = 0; j < kIndustries + kFinalUses; ++j) {
    int64_t total = t["TXS_IMP_FNL"][j] + t["TXS_INT_FNL"][j];
    for (size_t i = 0; i < kIndustries; ++i) total += t[ProductRow(t, i)][j];
    EXPECT_LE(std::llabs(total - t["TTL_INT_FNL"][j]), 26) << t.columns[j];
  }
}

struct Model {
  std::vector<size_t> industries;  // columns with positive output
  std::string matrix, products, demand;
  std::vector<std::vector<int64_t>> coef;  // 10^-9, dense, by model index
};

// a_ij = z_ij / x_j and l_j = VALU_j / x_j, rounded half up to 10^-9, exactly in integers.
int64_t Ratio(int64_t numerator_tenths, int64_t denominator_tenths) {
  return static_cast<int64_t>((static_cast<__int128>(numerator_tenths) * 1'000'000'000 + denominator_tenths / 2) /
                              denominator_tenths);
}

Model BuildModel(const Table& t) {
  Model m;
  const std::vector<int64_t>& output = t["OUTPUT"];
  for (size_t k = 0; k < kIndustries; ++k) {
    if (output[k] > 0) m.industries.push_back(k);
  }
  const size_t n = m.industries.size();
  m.coef.assign(n, std::vector<int64_t>(n, 0));
  std::string entries;
  size_t nnz = 0;
  for (size_t a = 0; a < n; ++a) {
    const std::vector<int64_t>& row = t[ProductRow(t, m.industries[a])];
    for (size_t b = 0; b < n; ++b) {
      const int64_t z = row[m.industries[b]];
      EXPECT_GE(z, 0);
      if (z == 0) continue;
      m.coef[a][b] = Ratio(z, output[m.industries[b]]);
      entries += std::to_string(a + 1) + " " + std::to_string(b + 1) + " " + FormatFixed(m.coef[a][b], 9) + "\n";
      ++nnz;
    }
  }
  m.matrix = "%%MatrixMarket matrix coordinate real general\n% OECD IOTs 2021, Belgium 2020\n" + std::to_string(n) +
             " " + std::to_string(n) + " " + std::to_string(nnz) + "\n" + entries;
  m.products = "product,name,labour_hours,capacity\n";
  m.demand = "product,consumer,public,accumulation\n";
  for (size_t a = 0; a < n; ++a) {
    const size_t k = m.industries[a];
    m.products += std::to_string(a + 1) + "," + t.columns[k] + "," + FormatFixed(Ratio(t["VALU"][k], output[k]), 9) + ",\n";
    const std::vector<int64_t>& row = t[ProductRow(t, k)];
    const int64_t consumer = row[kIndustries + 0] + row[kIndustries + 1];  // HFCE + NPISH
    const int64_t public_use = row[kIndustries + 2];                       // GGFC
    int64_t accumulation = 0;                                              // GFCF ... IMPO
    for (size_t f = 3; f < kFinalUses; ++f) accumulation += row[kIndustries + f];
    m.demand += std::to_string(a + 1) + "," + FormatFixed(consumer, 1) + "," + FormatFixed(public_use, 1) + "," +
                FormatFixed(accumulation, 1) + "\n";
  }
  return m;
}

TEST(PublishedTable, PlanReproducesThePublishedGrossOutputs) {
  const Table t = LoadTable();
  ASSERT_EQ(t.columns.size(), kIndustries + kFinalUses);
  const Model m = BuildModel(t);
  const size_t n = m.industries.size();
  ASSERT_EQ(n, 47u);  // all but D05, D06, D07
  Result<Economy> e = ParseEconomy(m.matrix, m.products, m.demand);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->a.nnz(), 1981u);

  // What rounding allows. The table gives x = Z 1 + f + eps (eps: the printed rows' rounding,
  // exact below); the rounded coefficients give A x = Z 1 + eta, |eta_i| <= sum_j |a_ij - z_ij/x_j| x_j.
  // So (I - A)(x_pub - x) = eps - eta and |x_pub - x| <= L (|eps| + |eta|) with L = (I - A)^-1 >= 0,
  // summed here as the Neumann series in long double (spectral radius ~0.54).
  const std::vector<int64_t>& output = t["OUTPUT"];
  std::vector<long double> slack(n, 0.0L);
  for (size_t a = 0; a < n; ++a) {
    const std::vector<int64_t>& row = t[ProductRow(t, m.industries[a])];
    int64_t uses = 0;
    for (size_t k = 0; k < kIndustries + kFinalUses; ++k) uses += row[k];
    slack[a] = std::fabs(static_cast<long double>(output[m.industries[a]] - uses)) / 10;
    for (size_t b = 0; b < n; ++b) {
      const long double x_b = static_cast<long double>(output[m.industries[b]]) / 10;
      const long double exact = static_cast<long double>(row[m.industries[b]]) / 10 / x_b;
      slack[a] += std::fabs(static_cast<long double>(m.coef[a][b]) / 1e9L - exact) * x_b;
    }
  }
  std::vector<long double> bound = slack, term = slack;
  for (int power = 0; power < 400; ++power) {
    std::vector<long double> next(n, 0.0L);
    for (size_t a = 0; a < n; ++a) {
      for (size_t b = 0; b < n; ++b) next[a] += static_cast<long double>(m.coef[a][b]) / 1e9L * term[b];
    }
    term = next;
    for (size_t a = 0; a < n; ++a) bound[a] += term[a];
  }

  SolverOptions direct, iterative;
  iterative.direct_max_products = 0;
  for (const SolverOptions& options : {direct, iterative}) {
    Result<MadePlan> made = MakePlan(*e, options);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    Result<VerifiedPlan> verified = VerifyPlan(AsBytes(made->plan.SerializeAsString()), *e);
    ASSERT_TRUE(verified.ok()) << verified.status().ToString();
    EXPECT_FALSE(verified->separate_witness);  // every l_j > 0: v proves productivity
    long double worst = 0;
    for (size_t a = 0; a < n; ++a) {
      const long double planned = static_cast<long double>(made->plan.gross_output_micro(static_cast<int>(a))) / 1e6L;
      const long double published = static_cast<long double>(output[m.industries[a]]) / 10;
      EXPECT_LE(std::fabs(planned - published), bound[a] + 1e-6L + 1e-8L * published) << t.columns[m.industries[a]];
      worst = std::max(worst, bound[a]);
    }
    // The bound is tight enough to mean something: under 1.5 million dollars for every industry
    // (outputs run from 11 to 102,043 million; the largest bound, 1.46, is that of D69T75).
    EXPECT_LT(worst, 1.5L);
  }
}

}  // namespace
}  // namespace gongshe::planner
