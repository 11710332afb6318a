#include "planner/model.h"

#include <sodium.h>

#include <algorithm>

#include "common/file.h"
#include "planner/fixed_point.h"
#include "planner/text_input.h"

namespace gongshe::planner {
namespace {

using text::ExpectHeader;
using text::Field;
using text::IsCommentOrBlank;
using text::LineReader;
using text::ParseUnsigned;
using text::ProductIndex;
using text::SplitCommas;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Splits on runs of spaces and tabs; at most max_fields fields (more sets `too_many`).
std::vector<std::string_view> SplitWhitespace(std::string_view line, size_t max_fields, bool& too_many) {
  std::vector<std::string_view> out;
  too_many = false;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsBlank(line[i])) ++i;
    if (i == line.size()) break;
    size_t start = i;
    while (i < line.size() && !IsBlank(line[i])) ++i;
    if (out.size() == max_fields) {
      too_many = true;
      break;
    }
    out.push_back(line.substr(start, i - start));
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

struct Entry {
  uint32_t row, col;
  int64_t coef;
  uint64_t line;
};

// Reads the header line, comments and the size line of a Matrix Market file.
Status ReadMatrixHeader(LineReader& lines, uint32_t& n, uint64_t& nnz) {
  std::string_view line;
  Result<bool> more = lines.Next(line);
  if (!more.ok()) return more.status();
  if (!*more) return lines.Error("empty file; expected a Matrix Market header");
  bool too_many;
  std::vector<std::string_view> banner = SplitWhitespace(line, 5, too_many);
  if (too_many || banner.size() != 5 || Lower(banner[0]) != "%%matrixmarket" || Lower(banner[1]) != "matrix" ||
      Lower(banner[2]) != "coordinate" || Lower(banner[3]) != "real" || Lower(banner[4]) != "general") {
    return lines.Error("expected '%%MatrixMarket matrix coordinate real general'");
  }
  for (;;) {  // bounded by the number of lines of the text
    more = lines.Next(line);
    if (!more.ok()) return more.status();
    if (!*more) return lines.Error("missing the size line 'rows columns entries'");
    if (line.empty() || line[0] != '%') break;
  }
  std::vector<std::string_view> size = SplitWhitespace(line, 3, too_many);
  uint32_t rows = 0, cols = 0;
  if (too_many || size.size() != 3 || !ParseUnsigned(size[0], rows) || !ParseUnsigned(size[1], cols) ||
      !ParseUnsigned(size[2], nnz)) {
    return lines.Error("expected the size line 'rows columns entries'");
  }
  if (rows != cols) return lines.Error("the matrix must be square, got " + std::to_string(rows) + "x" + std::to_string(cols));
  if (rows == 0 || rows > kMaxProducts) {
    return lines.Error("the number of products must be 1.." + std::to_string(kMaxProducts));
  }
  if (nnz > kMaxNonZeros || nnz > uint64_t{rows} * rows) {
    return lines.Error("entry count " + std::to_string(nnz) + " exceeds min(n^2, " + std::to_string(kMaxNonZeros) + ")");
  }
  n = rows;
  return Status::Ok();
}

Status ReadMatrixEntry(LineReader& lines, std::string_view line, uint32_t n, std::vector<Entry>& entries) {
  bool too_many;
  std::vector<std::string_view> f = SplitWhitespace(line, 3, too_many);
  uint32_t i = 0, j = 0;
  if (too_many || f.size() != 3 || !ParseUnsigned(f[0], i) || !ParseUnsigned(f[1], j)) {
    return lines.Error("expected 'row column value'");
  }
  if (i == 0 || i > n || j == 0 || j > n) {
    return lines.Error("index (" + std::to_string(i) + ", " + std::to_string(j) + ") outside 1.." + std::to_string(n));
  }
  Result<int64_t> coef = ParseFixed(f[2], kCoefficientDecimals, kMaxCoefficient);
  if (!coef.ok()) return lines.Error(coef.status().message());
  if (*coef < 0) return lines.Error("technical coefficients must be non-negative, got " + std::string(f[2]));
  entries.push_back({i - 1, j - 1, *coef, lines.number()});
  return Status::Ok();
}

bool ValidName(std::string_view name) {
  if (name.size() > kMaxNameBytes) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '"') return false;
  }
  return true;
}

// Parses the matrix and products; with a demand file (non-null `demand`) also the demand, else
// zero demand.
Result<Economy> ParseLabeled(std::string_view matrix, std::string_view products, const std::string_view* demand,
                             const std::string& matrix_label, const std::string& products_label,
                             const std::string& demand_label) {
  Economy e;
  Result<SparseFixed> a = ParseMatrixMarket(matrix, matrix_label);
  if (!a.ok()) return a.status();
  e.a = std::move(a).value();
  GS_RETURN_IF_ERROR(ParseProducts(products, products_label, e));
  e.matrix_sha256 = Sha256Of(AsBytes(matrix));
  e.products_sha256 = Sha256Of(AsBytes(products));
  if (demand == nullptr) {
    e.consumer.assign(e.n(), 0);
    e.public_projects.assign(e.n(), 0);
    e.accumulation.assign(e.n(), 0);
    return e;
  }
  GS_RETURN_IF_ERROR(ParseDemand(*demand, demand_label, e));
  e.demand_sha256 = Sha256Of(AsBytes(*demand));
  return e;
}

}  // namespace

Result<SparseFixed> ParseMatrixMarket(std::string_view text, const std::string& label) {
  LineReader lines(text, label);
  uint32_t n = 0;
  uint64_t nnz = 0;
  GS_RETURN_IF_ERROR(ReadMatrixHeader(lines, n, nnz));
  std::vector<Entry> entries;
  entries.reserve(nnz);
  std::string_view line;
  for (;;) {  // bounded by the number of lines of the text
    Result<bool> more = lines.Next(line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (line.empty() || line[0] == '%') continue;
    if (entries.size() == nnz) return lines.Error("more entries than the " + std::to_string(nnz) + " declared");
    GS_RETURN_IF_ERROR(ReadMatrixEntry(lines, line, n, entries));
  }
  if (entries.size() != nnz) {
    return Status("BAD_INPUT", label + ": " + std::to_string(entries.size()) + " entries, the size line declares " +
                                   std::to_string(nnz));
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& x, const Entry& y) { return x.col != y.col ? x.col < y.col : x.row < y.row; });
  SparseFixed a;
  a.n = n;
  a.col_start.assign(uint64_t{n} + 1, 0);
  a.row.reserve(nnz);
  a.coef.reserve(nnz);
  for (uint64_t k = 0; k < entries.size(); ++k) {
    const Entry& en = entries[k];
    if (k > 0 && entries[k - 1].row == en.row && entries[k - 1].col == en.col) {
      uint64_t first = std::min(entries[k - 1].line, en.line), second = std::max(entries[k - 1].line, en.line);
      return Status("BAD_INPUT", label + " line " + std::to_string(second) + ": duplicate entry (" +
                                     std::to_string(en.row + 1) + ", " + std::to_string(en.col + 1) +
                                     "), first given on line " + std::to_string(first));
    }
    a.row.push_back(en.row);
    a.coef.push_back(en.coef);
    ++a.col_start[en.col + 1];
  }
  for (uint32_t j = 0; j < n; ++j) a.col_start[j + 1] += a.col_start[j];
  return a;
}

Status ParseProducts(std::string_view text, const std::string& label, Economy& e) {
  const uint32_t n = e.n();
  GS_ASSERT(n > 0);
  LineReader lines(text, label);
  GS_RETURN_IF_ERROR(ExpectHeader(lines, "product,name,labour_hours,capacity"));
  e.names.assign(n, "");
  e.labour.assign(n, 0);
  e.capacity.assign(n, Economy::kNoCapacity);
  uint32_t next = 0;
  std::string_view line;
  for (;;) {  // bounded by the number of lines of the text
    Result<bool> more = lines.Next(line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (IsCommentOrBlank(line)) continue;
    std::vector<std::string_view> f = SplitCommas(line);
    if (f.size() != 4) return lines.Error("expected 4 fields 'product,name,labour_hours,capacity'");
    Result<uint32_t> k = ProductIndex(lines, f[0], n);
    if (!k.ok()) return k.status();
    if (*k != next) return lines.Error("expected product " + std::to_string(next + 1) + " (one row per product, in order)");
    if (!ValidName(f[1])) return lines.Error("name longer than 64 bytes or with a control character or quote");
    Result<int64_t> l = Field(lines, f[2], "labour_hours", kCoefficientDecimals, kMaxLabour, false);
    if (!l.ok()) return l.status();
    if (!f[3].empty()) {
      Result<int64_t> cap = Field(lines, f[3], "capacity", kQuantityDecimals, kMaxQuantity, false);
      if (!cap.ok()) return cap.status();
      e.capacity[next] = *cap;
    }
    e.names[next] = std::string(f[1]);
    e.labour[next] = *l;
    ++next;
  }
  if (next != n) {
    return Status("BAD_INPUT", label + ": " + std::to_string(next) + " products listed, the matrix has " + std::to_string(n));
  }
  return Status::Ok();
}

Status ParseDemand(std::string_view text, const std::string& label, Economy& e) {
  const uint32_t n = e.n();
  GS_ASSERT(n > 0);
  LineReader lines(text, label);
  GS_RETURN_IF_ERROR(ExpectHeader(lines, "product,consumer,public,accumulation"));
  e.consumer.assign(n, 0);
  e.public_projects.assign(n, 0);
  e.accumulation.assign(n, 0);
  int64_t previous = -1;
  std::string_view line;
  for (;;) {  // bounded by the number of lines of the text
    Result<bool> more = lines.Next(line);
    if (!more.ok()) return more.status();
    if (!*more) break;
    if (IsCommentOrBlank(line)) continue;
    std::vector<std::string_view> f = SplitCommas(line);
    if (f.size() != 4) return lines.Error("expected 4 fields 'product,consumer,public,accumulation'");
    Result<uint32_t> k = ProductIndex(lines, f[0], n);
    if (!k.ok()) return k.status();
    if (int64_t{*k} <= previous) return lines.Error("products must be listed once each, in increasing order");
    Result<int64_t> c = Field(lines, f[1], "consumer", kQuantityDecimals, kMaxQuantity, false);
    if (!c.ok()) return c.status();
    Result<int64_t> p = Field(lines, f[2], "public", kQuantityDecimals, kMaxQuantity, false);
    if (!p.ok()) return p.status();
    Result<int64_t> acc = Field(lines, f[3], "accumulation", kQuantityDecimals, kMaxQuantity, true);
    if (!acc.ok()) return acc.status();
    e.consumer[*k] = *c;
    e.public_projects[*k] = *p;
    e.accumulation[*k] = *acc;
    previous = *k;
  }
  return Status::Ok();
}

Result<Economy> ParseEconomy(std::string_view matrix, std::string_view products, std::string_view demand) {
  return ParseLabeled(matrix, products, &demand, "matrix", "products", "demand");
}

Result<Economy> ParseEconomyWithoutDemand(std::string_view matrix, std::string_view products) {
  return ParseLabeled(matrix, products, nullptr, "matrix", "products", "");
}

Result<Economy> LoadEconomy(const std::string& matrix_path, const std::string& products_path,
                            const std::string& demand_path) {
  Result<std::string> matrix = ReadFileBytes(matrix_path, kMaxFileBytes);
  if (!matrix.ok()) return matrix.status();
  Result<std::string> products = ReadFileBytes(products_path, kMaxFileBytes);
  if (!products.ok()) return products.status();
  Result<std::string> demand = ReadFileBytes(demand_path, kMaxFileBytes);
  if (!demand.ok()) return demand.status();
  const std::string_view demand_text = *demand;
  return ParseLabeled(*matrix, *products, &demand_text, matrix_path, products_path, demand_path);
}

Result<Economy> LoadEconomyWithoutDemand(const std::string& matrix_path, const std::string& products_path) {
  Result<std::string> matrix = ReadFileBytes(matrix_path, kMaxFileBytes);
  if (!matrix.ok()) return matrix.status();
  Result<std::string> products = ReadFileBytes(products_path, kMaxFileBytes);
  if (!products.ok()) return products.status();
  return ParseLabeled(*matrix, *products, nullptr, matrix_path, products_path, "");
}

Sha256Digest Sha256Of(ByteView data) {
  Sha256Digest out;
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

}  // namespace gongshe::planner
