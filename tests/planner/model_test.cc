#include "planner/model.h"

#include <gtest/gtest.h>

namespace gongshe::planner {
namespace {

constexpr const char* kMatrix =
    "%%MatrixMarket matrix coordinate real general\n"
    "% a comment\n"
    "2 2 3\n"
    "1 1 0.2\n"
    "2 1 0.4\n"
    "1 2 0.3\n";
constexpr const char* kProducts =
    "# two products\n"
    "product,name,labour_hours,capacity\n"
    "1,grain,0.5,\n"
    "2,steel,1,1000\n";
constexpr const char* kDemand =
    "product,consumer,public,accumulation\n"
    "2,150,30,-5.5\n";

std::string ErrorOf(std::string matrix, std::string products = kProducts, std::string demand = kDemand) {
  Result<Economy> e = ParseEconomy(matrix, products, demand);
  EXPECT_FALSE(e.ok());
  if (e.ok()) return "";
  EXPECT_EQ(e.status().code(), "BAD_INPUT");
  return e.status().message();
}

TEST(Model, ParsesTheThreeFiles) {
  Result<Economy> r = ParseEconomy(kMatrix, kProducts, kDemand);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Economy& e = *r;
  ASSERT_EQ(e.n(), 2u);
  EXPECT_EQ(e.a.col_start, (std::vector<uint64_t>{0, 2, 3}));
  EXPECT_EQ(e.a.row, (std::vector<uint32_t>{0, 1, 0}));
  EXPECT_EQ(e.a.coef, (std::vector<int64_t>{200'000'000, 400'000'000, 300'000'000}));
  EXPECT_EQ(e.names, (std::vector<std::string>{"grain", "steel"}));
  EXPECT_EQ(e.labour, (std::vector<int64_t>{500'000'000, 1'000'000'000}));
  EXPECT_EQ(e.capacity, (std::vector<int64_t>{Economy::kNoCapacity, 1'000'000'000}));
  EXPECT_EQ(e.consumer, (std::vector<int64_t>{0, 150'000'000}));
  EXPECT_EQ(e.public_projects, (std::vector<int64_t>{0, 30'000'000}));
  EXPECT_EQ(e.accumulation, (std::vector<int64_t>{0, -5'500'000}));
  EXPECT_EQ(e.Demand(1), 174'500'000);
  EXPECT_EQ(e.matrix_sha256, Sha256Of(AsBytes(kMatrix)));
  EXPECT_EQ(e.demand_sha256, Sha256Of(AsBytes(kDemand)));
}

TEST(Model, AcceptsCrlfAndCaseInsensitiveBanner) {
  std::string m = "%%matrixmarket MATRIX coordinate Real general\r\n1 1 1\r\n1 1 0.5\r\n";
  Result<Economy> r = ParseEconomy(m, "product,name,labour_hours,capacity\r\n1,,2,\r\n",
                                   "product,consumer,public,accumulation\r\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->a.coef, (std::vector<int64_t>{500'000'000}));
  EXPECT_EQ(r->consumer, (std::vector<int64_t>{0}));
}

TEST(Model, MatrixRejectionsNameTheLine) {
  const std::string head = "%%MatrixMarket matrix coordinate real general\n2 2 2\n";
  EXPECT_EQ(ErrorOf(""), "matrix: empty file; expected a Matrix Market header");
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix array real general\n").find("line 1: expected '%%MatrixMarket"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real symmetric\n").find("line 1"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real general\n% only comments\n").find("missing the size line"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real general\n2 3 1\n").find("line 2: the matrix must be square"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real general\n0 0 0\n").find("number of products"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real general\n3000000 3000000 1\n").find("number of products"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real general\n2 2 5\n").find("exceeds min(n^2"), std::string::npos);
  EXPECT_NE(ErrorOf("%%MatrixMarket matrix coordinate real general\n2 2 -1\n").find("size line"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n3 1 0.1\n").find("line 4: index (3, 1) outside 1..2"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n0 1 0.1\n").find("line 4: index (0, 1)"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2\n").find("line 4: expected 'row column value'"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 0.1 7\n").find("line 4: expected 'row column value'"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 -0.1\n").find("line 4: technical coefficients must be non-negative"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 1001\n").find("line 4: '1001' exceeds the bound"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 0.0000000001\n").find("line 4: '0.0000000001' has more than 9"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 x\n").find("line 4: not a number"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "2 1 0.1\n% c\n2 1 0.3\n").find("line 5: duplicate entry (2, 1), first given on line 3"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n").find("1 entries, the size line declares 2"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 0.1\n2 2 0.1\n").find("line 5: more entries than the 2 declared"), std::string::npos);
  EXPECT_NE(ErrorOf(head + "1 1 0.1\n1 2 " + std::string(5000, '1') + "\n").find("line 4: line longer than 4096"), std::string::npos);
}

TEST(Model, ProductsRejectionsNameTheLine) {
  const std::string h = "product,name,labour_hours,capacity\n";
  EXPECT_NE(ErrorOf(kMatrix, "").find("products: empty file"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, "product,labour\n").find("products line 1: expected the header"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,0.5,\n").find("products: 1 products listed, the matrix has 2"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "2,a,0.5,\n1,b,1,\n").find("line 2: expected product 1"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,0.5,\n1,b,1,\n").find("line 3: expected product 2"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,0.5,\n2,b,1,\n3,c,1,\n").find("line 4: product 3 outside 1..2"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,0.5\n").find("line 2: expected 4 fields"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,0.5,,\n").find("line 2: expected 4 fields"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "x,a,0.5,\n").find("line 2: bad product number 'x'"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,-0.5,\n").find("line 2: labour_hours must be non-negative"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,0.5,-1\n").find("line 2: capacity must be non-negative"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,a,2000000,\n").find("line 2: labour_hours: '2000000' exceeds the bound"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1,\"a\",1,\n").find("line 2: name"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, h + "1," + std::string(65, 'n') + ",1,\n").find("line 2: name"), std::string::npos);
}

TEST(Model, DemandRejectionsNameTheLine) {
  const std::string h = "product,consumer,public,accumulation\n";
  EXPECT_NE(ErrorOf(kMatrix, kProducts, "product,consumer\n").find("demand line 1: expected the header"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "2,1,1,1\n1,1,1,1\n").find("line 3: products must be listed once each"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "1,1,1,1\n1,1,1,1\n").find("line 3: products must be listed once each"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "1,-1,1,1\n").find("line 2: consumer must be non-negative"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "1,1,-1,1\n").find("line 2: public must be non-negative"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "1,1,1,1e13\n").find("line 2: accumulation: '1e13' exceeds"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "1,0.0000001,1,1\n").find("line 2: consumer: '0.0000001' has more than 6"), std::string::npos);
  EXPECT_NE(ErrorOf(kMatrix, kProducts, h + "9,1,1,1\n").find("line 2: product 9 outside 1..2"), std::string::npos);
}

TEST(Model, LoadReportsMissingFiles) {
  Result<Economy> r = LoadEconomy("/nonexistent/a.mtx", "/nonexistent/b.csv", "/nonexistent/c.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "NOT_FOUND");
  EXPECT_NE(r.status().message().find("/nonexistent/a.mtx"), std::string::npos);
}

TEST(Model, Sha256KnownAnswer) {
  // FIPS 180-2 example: SHA-256("abc").
  EXPECT_EQ(ToHex(Sha256Of(AsBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace gongshe::planner
