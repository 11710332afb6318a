#pragma once
// Types and values of the law language, and the exact fixed-point arithmetic on them.
//
// Every number is an int64 in a fixed unit per type (no floating point anywhere):
//   credits            milli-credits            7.5 credits      -> 7500
//   credits per hour   milli-credits per hour   1 credits per hour -> 1000
//   hours              minutes                  1.5h / 90min     -> 90
//   ratio              millionths               1.5              -> 1500000
//   count              whole units              3                -> 3
//   date               days since 1970-01-01    2026-01-01       -> 20454
//   week, epoch        index                    week 3           -> 3
// Products and quotients are computed in int128 and rounded to the nearest unit, halves away
// from zero; a result outside int64 is an overflow error, never a wrapped value.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gongshe::contracts {

inline constexpr int64_t kRatioScale = 1'000'000;
inline constexpr int64_t kCreditScale = 1'000;
inline constexpr int64_t kMinutesPerHour = 60;
// Bounds that keep every value, and so every evaluation step, small.
inline constexpr uint32_t kMaxListCap = 10'000;
inline constexpr size_t kMaxTextBytes = 1024;
inline constexpr size_t kMaxRecordFields = 32;
// One value holds at most kMaxValueLeaves scalars in all (a list of T up to N holds N times what
// a T holds; a record, the sum of its fields), and its lists and records nest at most
// kMaxValueDepth deep. Without these, lists of lists built from one another ([a, a, a] of
// [a, a, a] ...) grow exponentially with the source, and a single comparison or formatting
// would not finish. The checker refuses any type beyond them.
inline constexpr uint64_t kMaxValueLeaves = 10'000;
inline constexpr int kMaxValueDepth = 8;

enum class Base : uint8_t {
  kCredits,
  kRate,  // credits per hour
  kHours,
  kRatio,
  kCount,
  kDate,
  kWeek,
  kEpoch,
  kBoolean,
  kText,
  kMember,
  kCategory,
  kVoucherClass,
  kList,
  kRecord,
};

struct Type;
using TypeRef = std::shared_ptr<const Type>;

struct Type {
  Base base = Base::kCount;
  uint32_t list_cap = 0;  // kList: the most elements a value may hold
  TypeRef element;        // kList
  std::vector<std::pair<std::string, TypeRef>> fields;  // kRecord, in declaration order

  static TypeRef Of(Base b);
  static TypeRef ListOf(TypeRef element, uint32_t cap);
  static TypeRef RecordOf(std::vector<std::pair<std::string, TypeRef>> fields);
};

// The name a citizen reads: "credits per hour", "list of category up to 8", "{yes: count}".
std::string TypeName(const Type& t);
bool SameType(const Type& a, const Type& b);
// Whether a value of type `from` may be used where `to` is expected: the same type, a list
// with a smaller cap, or a count where a ratio is expected (widened exactly).
bool Assignable(const Type& from, const Type& to);
bool IsNumeric(Base b);

enum class VoucherClass : uint8_t { kGuarantee = 0, kConsumption = 1, kSpecial = 2 };
std::string_view VoucherClassName(VoucherClass c);
std::optional<VoucherClass> VoucherClassFromName(std::string_view name);

// A value. The meaning of `number` and `text` depends on the static type, which the checker
// knows, so a value does not carry it: numbers, dates, weeks, epochs, booleans (0/1) and voucher
// classes use `number`; text, member and category ids use `text`; lists and records use `items`.
struct Value {
  int64_t number = 0;
  std::shared_ptr<const std::string> text;
  std::shared_ptr<const std::vector<Value>> items;

  static Value Number(int64_t n) { return Value{n, nullptr, nullptr}; }
  static Value Text(std::string s) { return Value{0, std::make_shared<const std::string>(std::move(s)), nullptr}; }
  static Value Items(std::vector<Value> v) { return Value{0, nullptr, std::make_shared<const std::vector<Value>>(std::move(v))}; }
  const std::string& str() const;
  const std::vector<Value>& list() const;
};

// The canonical rendering of a value, which is also a literal of the language that reads back
// to the same value: "7.5 credits", "5h30min", "1.5", "week 3", "@alice", "#bread", "[#a, #b]".
std::string FormatValue(const Type& t, const Value& v);
// The same, cut after at most `max_bytes` bytes (at a UTF-8 boundary) and ended with "…" when
// the whole is longer; the walk over the value stops there.
std::string FormatValue(const Type& t, const Value& v, size_t max_bytes);
bool ValuesEqual(const Type& t, const Value& a, const Value& b);

// The most scalars a value of type `t` can hold (saturating at kMaxValueLeaves + 1), and how
// deep its lists and records nest (a scalar is 0 deep).
uint64_t MaxLeaves(const Type& t);
int NestingDepth(const Type& t);
// The scalars that `v` holds (an empty list holds none; a scalar is one).
uint64_t Leaves(const Type& t, const Value& v);

// Exact arithmetic. Each returns nullopt on overflow (or a zero divisor for the divisions).
std::optional<int64_t> CheckedAdd(int64_t a, int64_t b);
std::optional<int64_t> CheckedSub(int64_t a, int64_t b);
// round(a * b / divisor), halves away from zero. divisor > 0.
std::optional<int64_t> MulDiv(int64_t a, int64_t b, int64_t divisor);
// round(a * scale / b), halves away from zero; nullopt when b == 0.
std::optional<int64_t> ScaledDiv(int64_t a, int64_t scale, int64_t b);

// Days since 1970-01-01 for a proleptic Gregorian date; nullopt if the date does not exist or
// the year is outside 1900..9999.
std::optional<int64_t> DaysFromCivil(int year, int month, int day);
std::string FormatDate(int64_t days);

// A member id (after '@'): 1..64 of [A-Za-z0-9_-]. A category (after '#'): 1..64 of [a-z0-9_-],
// as the ledger's IsValidCategory.
bool IsValidMemberId(std::string_view id);

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlong forms,
// no surrogates, nothing above U+10FFFF), or 0 when there is none.
size_t Utf8SequenceLength(std::string_view s);
bool IsValidCategoryName(std::string_view name);

}  // namespace gongshe::contracts
