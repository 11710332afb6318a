#pragma once
// The input-output model of one planning period, read from three files (planner/README.md):
//   matrix    A, technical coefficients: a_ij units of product i used per unit of product j
//             (Matrix Market, coordinate real general, 1-based);
//   products  per product: name, labour coefficient l_j (hours per unit), capacity (max gross
//             output; empty = unbounded) (CSV);
//   demand    final demand d = consumer goods + public projects + accumulation (CSV, sparse).
// Every figure is held exactly in fixed point (planner/fixed_point.h), and each file's SHA-256
// is kept so a plan can name exactly the inputs it was computed from.
//
// Parsing is strict: every malformed line, out-of-range figure, duplicate entry or size over the
// bounds below is refused with code BAD_INPUT and a message naming the file and line.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace gongshe::planner {

using Sha256Digest = std::array<uint8_t, 32>;

// Size and magnitude bounds. They also keep every exact check of a certificate inside int128
// (planner/certificate.cc states the arithmetic).
inline constexpr uint32_t kMaxProducts = 2'000'000;                   // n <= 2^21
inline constexpr uint64_t kMaxNonZeros = 64'000'000;
inline constexpr int64_t kMaxCoefficient = 1'000 * 1'000'000'000LL;   // a_ij <= 1000
inline constexpr int64_t kMaxLabour = 1'000'000 * 1'000'000'000LL;    // l_j <= 10^6 hours/unit
inline constexpr int64_t kMaxQuantity = 1'000'000'000'000 * 1'000'000LL;  // |d_j|, cap_j <= 10^12
inline constexpr size_t kMaxLineBytes = 4096;
inline constexpr size_t kMaxNameBytes = 64;
inline constexpr uint64_t kMaxFileBytes = uint64_t{4} << 30;

// A square sparse matrix in compressed sparse column form, coefficients in units of 10^-9.
// Column j's entries are [col_start[j], col_start[j+1]); rows strictly increase in a column.
struct SparseFixed {
  uint32_t n = 0;
  std::vector<uint64_t> col_start;  // n + 1 entries
  std::vector<uint32_t> row;
  std::vector<int64_t> coef;  // 0 <= coef <= kMaxCoefficient
  uint64_t nnz() const { return row.size(); }
};

struct Economy {
  SparseFixed a;
  std::vector<std::string> names;          // n, may be empty strings
  std::vector<int64_t> labour;             // l_j, 10^-9 hours per unit, >= 0
  std::vector<int64_t> capacity;           // 10^-6 units; kNoCapacity when unbounded
  std::vector<int64_t> consumer;           // 10^-6 units, >= 0
  std::vector<int64_t> public_projects;    // 10^-6 units, >= 0
  std::vector<int64_t> accumulation;       // 10^-6 units, any sign (stock may be drawn down)
  Sha256Digest matrix_sha256{};
  Sha256Digest products_sha256{};
  Sha256Digest demand_sha256{};

  static constexpr int64_t kNoCapacity = -1;
  uint32_t n() const { return a.n; }
  // d_j = consumer + public + accumulation; |d_j| <= 3 * kMaxQuantity, no overflow.
  int64_t Demand(uint32_t j) const { return consumer[j] + public_projects[j] + accumulation[j]; }
};

// Each parser takes the file's bytes and a label used in messages ("matrix.mtx line 7: ...").
Result<SparseFixed> ParseMatrixMarket(std::string_view text, const std::string& label);
Status ParseProducts(std::string_view text, const std::string& label, Economy& economy);  // needs economy.a
Status ParseDemand(std::string_view text, const std::string& label, Economy& economy);    // needs economy.a

// Parses the three files' contents and records their SHA-256.
Result<Economy> ParseEconomy(std::string_view matrix, std::string_view products, std::string_view demand);

// Reads the three files (each at most kMaxFileBytes) and parses them; labels are the paths.
Result<Economy> LoadEconomy(const std::string& matrix_path, const std::string& products_path,
                            const std::string& demand_path);

// The matrix and products alone, with zero final demand and an all-zero demand_sha256: for
// guidance (planner/guide.h), whose demand is forecast rather than read.
Result<Economy> ParseEconomyWithoutDemand(std::string_view matrix, std::string_view products);
Result<Economy> LoadEconomyWithoutDemand(const std::string& matrix_path, const std::string& products_path);

Sha256Digest Sha256Of(ByteView data);

}  // namespace gongshe::planner
