#include "contracts/types.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <limits>

#include "common/assert.h"

namespace gongshe::contracts {
namespace {

using int128 = __int128;

std::optional<int64_t> Narrow(int128 v) {
  if (v < std::numeric_limits<int64_t>::min() || v > std::numeric_limits<int64_t>::max()) return std::nullopt;
  return static_cast<int64_t>(v);
}

// round(n / d), halves away from zero. d != 0. Both fit in int128 without overflow because
// callers build n from two int64 factors.
int128 RoundedDiv(int128 n, int128 d) {
  if (d < 0) {
    n = -n;
    d = -d;
  }
  int128 q = n / d;
  int128 r = n % d;
  if (r < 0) r = -r;
  if (2 * r >= d) q += n < 0 ? -1 : 1;
  return q;
}

// "7.5" from 7500 at scale 1000: the shortest exact decimal.
std::string FormatScaled(int64_t v, int64_t scale) {
  bool negative = v < 0;
  uint64_t mag = negative ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  uint64_t s = static_cast<uint64_t>(scale);
  std::string out = (negative ? "-" : "") + std::to_string(mag / s);
  uint64_t frac = mag % s;
  if (frac == 0) return out;
  std::string digits;
  for (uint64_t p = s / 10; p > 0; p /= 10) {
    digits.push_back(static_cast<char>('0' + frac / p));
    frac %= p;
  }
  while (!digits.empty() && digits.back() == '0') digits.pop_back();
  return out + "." + digits;
}

std::string FormatHours(int64_t minutes) {
  bool negative = minutes < 0;
  uint64_t mag = negative ? 0 - static_cast<uint64_t>(minutes) : static_cast<uint64_t>(minutes);
  uint64_t h = mag / 60, m = mag % 60;
  std::string out = negative ? "-" : "";
  if (h > 0 || m == 0) out += std::to_string(h) + "h";
  if (m > 0) out += std::to_string(m) + "min";
  return out;
}

bool IdChars(std::string_view s, bool allow_upper) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              (allow_upper && c >= 'A' && c <= 'Z');
    if (!ok) return false;
  }
  return true;
}

}  // namespace

TypeRef Type::Of(Base b) {
  GS_ASSERT(b != Base::kList && b != Base::kRecord);
  static const std::array<TypeRef, 13> kScalars = [] {
    std::array<TypeRef, 13> a;
    for (size_t i = 0; i < a.size(); ++i) {
      auto t = std::make_shared<Type>();
      t->base = static_cast<Base>(i);
      a[i] = std::move(t);
    }
    return a;
  }();
  return kScalars[static_cast<size_t>(b)];
}

TypeRef Type::ListOf(TypeRef element, uint32_t cap) {
  GS_ASSERT(element != nullptr);
  auto t = std::make_shared<Type>();
  t->base = Base::kList;
  t->list_cap = cap;
  t->element = std::move(element);
  return t;
}

TypeRef Type::RecordOf(std::vector<std::pair<std::string, TypeRef>> fields) {
  auto t = std::make_shared<Type>();
  t->base = Base::kRecord;
  t->fields = std::move(fields);
  return t;
}

std::string TypeName(const Type& t) {
  switch (t.base) {
    case Base::kCredits: return "credits";
    case Base::kRate: return "credits per hour";
    case Base::kHours: return "hours";
    case Base::kRatio: return "ratio";
    case Base::kCount: return "count";
    case Base::kDate: return "date";
    case Base::kWeek: return "week";
    case Base::kEpoch: return "epoch";
    case Base::kBoolean: return "boolean";
    case Base::kText: return "text";
    case Base::kMember: return "member";
    case Base::kCategory: return "category";
    case Base::kVoucherClass: return "voucher class";
    case Base::kList: return "list of " + TypeName(*t.element) + " up to " + std::to_string(t.list_cap);
    case Base::kRecord: {
      std::string out = "{";
      for (size_t i = 0; i < t.fields.size(); ++i) {
        out += (i ? ", " : "") + t.fields[i].first + ": " + TypeName(*t.fields[i].second);
      }
      return out + "}";
    }
  }
  GS_ASSERT(false);
  return "";
}

bool SameType(const Type& a, const Type& b) {
  if (a.base != b.base) return false;
  if (a.base == Base::kList) return a.list_cap == b.list_cap && SameType(*a.element, *b.element);
  if (a.base == Base::kRecord) {
    if (a.fields.size() != b.fields.size()) return false;
    for (size_t i = 0; i < a.fields.size(); ++i) {
      if (a.fields[i].first != b.fields[i].first || !SameType(*a.fields[i].second, *b.fields[i].second)) return false;
    }
  }
  return true;
}

bool Assignable(const Type& from, const Type& to) {
  if (from.base == Base::kCount && to.base == Base::kRatio) return true;
  if (from.base == Base::kList && to.base == Base::kList) {
    return from.list_cap <= to.list_cap && SameType(*from.element, *to.element);
  }
  return SameType(from, to);
}

bool IsNumeric(Base b) {
  return b == Base::kCredits || b == Base::kRate || b == Base::kHours || b == Base::kRatio || b == Base::kCount;
}

std::string_view VoucherClassName(VoucherClass c) {
  switch (c) {
    case VoucherClass::kGuarantee: return "guarantee";
    case VoucherClass::kConsumption: return "consumption";
    case VoucherClass::kSpecial: return "special";
  }
  GS_ASSERT(false);
  return "";
}

std::optional<VoucherClass> VoucherClassFromName(std::string_view name) {
  if (name == "guarantee") return VoucherClass::kGuarantee;
  if (name == "consumption") return VoucherClass::kConsumption;
  if (name == "special") return VoucherClass::kSpecial;
  return std::nullopt;
}

const std::string& Value::str() const {
  GS_ASSERT(text != nullptr);
  return *text;
}

const std::vector<Value>& Value::list() const {
  GS_ASSERT(items != nullptr);
  return *items;
}

std::string FormatValue(const Type& t, const Value& v) { return FormatValue(t, v, SIZE_MAX); }

namespace {

// The canonical form of a number, index, boolean, text, id or voucher class.
std::string FormatScalar(const Type& t, const Value& v) {
  switch (t.base) {
    case Base::kCredits: return FormatScaled(v.number, kCreditScale) + " credits";
    case Base::kRate: return FormatScaled(v.number, kCreditScale) + " credits per hour";
    case Base::kHours: return FormatHours(v.number);
    case Base::kRatio: return FormatScaled(v.number, kRatioScale);
    case Base::kCount: return std::to_string(v.number);
    case Base::kDate: return FormatDate(v.number);
    case Base::kWeek: return "week " + std::to_string(v.number);
    case Base::kEpoch: return "epoch " + std::to_string(v.number);
    case Base::kBoolean: return v.number ? "true" : "false";
    case Base::kText: return v.str();
    case Base::kMember: return "@" + v.str();
    case Base::kCategory: return "#" + v.str();
    case Base::kVoucherClass: return std::string(VoucherClassName(static_cast<VoucherClass>(v.number)));
    case Base::kList:
    case Base::kRecord: break;
  }
  GS_ASSERT(false);
  return "";
}

// Appends the canonical form of `v`; stops walking once `out` holds more than `limit` bytes.
void AppendValue(std::string& out, const Type& t, const Value& v, size_t limit) {
  if (out.size() > limit) return;
  switch (t.base) {
    case Base::kList: {
      out += '[';
      const std::vector<Value>& items = v.list();
      for (size_t i = 0; i < items.size() && out.size() <= limit; ++i) {
        if (i) out += ", ";
        AppendValue(out, *t.element, items[i], limit);
      }
      out += ']';
      return;
    }
    case Base::kRecord: {
      out += '{';
      const std::vector<Value>& items = v.list();
      GS_ASSERT(items.size() == t.fields.size());
      for (size_t i = 0; i < items.size() && out.size() <= limit; ++i) {
        if (i) out += ", ";
        out.append(t.fields[i].first).append(": ");
        AppendValue(out, *t.fields[i].second, items[i], limit);
      }
      out += '}';
      return;
    }
    default: out += FormatScalar(t, v); return;
  }
}

}  // namespace

std::string FormatValue(const Type& t, const Value& v, size_t max_bytes) {
  std::string out;
  AppendValue(out, t, v, max_bytes);
  if (out.size() <= max_bytes) return out;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
  out.resize(cut);
  return out + "\u2026";
}

uint64_t MaxLeaves(const Type& t) {
  constexpr uint64_t kOver = kMaxValueLeaves + 1;
  switch (t.base) {
    case Base::kList: return std::min<uint64_t>(kOver, uint64_t{t.list_cap} * MaxLeaves(*t.element));
    case Base::kRecord: {
      uint64_t total = 0;
      for (const auto& field : t.fields) total = std::min<uint64_t>(kOver, total + MaxLeaves(*field.second));
      return total;
    }
    default: return 1;
  }
}

int NestingDepth(const Type& t) {
  int deepest = 0;
  if (t.base == Base::kList) deepest = NestingDepth(*t.element);
  for (const auto& field : t.fields) deepest = std::max(deepest, NestingDepth(*field.second));
  return t.base == Base::kList || t.base == Base::kRecord ? deepest + 1 : 0;
}

uint64_t Leaves(const Type& t, const Value& v) {
  if (t.base != Base::kList && t.base != Base::kRecord) return 1;
  const std::vector<Value>& items = v.list();
  uint64_t total = 0;
  for (size_t i = 0; i < items.size(); ++i) total += Leaves(t.base == Base::kList ? *t.element : *t.fields[i].second, items[i]);
  return total;
}


bool ValuesEqual(const Type& t, const Value& a, const Value& b) {
  switch (t.base) {
    case Base::kText:
    case Base::kMember:
    case Base::kCategory: return a.str() == b.str();
    case Base::kList:
    case Base::kRecord: {
      const std::vector<Value>& x = a.list();
      const std::vector<Value>& y = b.list();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        const Type& et = t.base == Base::kList ? *t.element : *t.fields[i].second;
        if (!ValuesEqual(et, x[i], y[i])) return false;
      }
      return true;
    }
    default: return a.number == b.number;
  }
}

std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) { return Narrow(static_cast<int128>(a) + b); }
std::optional<int64_t> CheckedSub(int64_t a, int64_t b) { return Narrow(static_cast<int128>(a) - b); }

std::optional<int64_t> MulDiv(int64_t a, int64_t b, int64_t divisor) {
  GS_ASSERT(divisor > 0);
  int128 product = static_cast<int128>(a) * b;
  if (divisor == 1) return Narrow(product);
  return Narrow(RoundedDiv(product, divisor));
}

std::optional<int64_t> ScaledDiv(int64_t a, int64_t scale, int64_t b) {
  GS_ASSERT(scale > 0);
  if (b == 0) return std::nullopt;
  return Narrow(RoundedDiv(static_cast<int128>(a) * scale, b));
}

// Howard Hinnant's days_from_civil algorithm (public domain), written out for int64.
std::optional<int64_t> DaysFromCivil(int year, int month, int day) {
  if (year < 1900 || year > 9999 || month < 1 || month > 12 || day < 1) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max_day = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  if (day > max_day) return std::nullopt;
  int64_t y = year - (month <= 2 ? 1 : 0);
  int64_t era = y / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string FormatDate(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y), static_cast<long long>(m),
                static_cast<long long>(d));
  return buf;
}

bool IsValidMemberId(std::string_view id) { return IdChars(id, true); }
bool IsValidCategoryName(std::string_view name) { return IdChars(name, false); }

size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
  auto continuation = [&](size_t i) { return (byte(i) & 0xC0) == 0x80; };
  if (s.empty()) return 0;
  const unsigned char b = byte(0);
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return continuation(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return byte(1) >= lo && byte(1) <= hi && continuation(2) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const unsigned char lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return byte(1) >= lo && byte(1) <= hi && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}

}  // namespace gongshe::contracts
