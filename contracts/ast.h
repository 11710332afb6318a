#pragma once
// The syntax tree of a law module. The parser builds it; the checker annotates it in place
// (types, resolved names, the exact arithmetic to run), and the interpreter walks it.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "contracts/host.h"
#include "contracts/lexer.h"
#include "contracts/types.h"

namespace gongshe::contracts {

enum class Op : uint8_t { kAdd, kSub, kMul, kDiv, kEq, kNe, kLt, kLe, kGt, kGe, kAnd, kOr, kIn, kNot, kNeg };

// What the interpreter does for a node; chosen by the checker from the operand types, so the
// interpreter never looks at a type.
enum class Exec : uint8_t {
  kUnchecked,
  kConst,      // constant (literals, folded enum names, param values without effective dates)
  kLocal,      // slot
  kParam,      // param index (value chosen by date at run time)
  kToday,
  kAdd,
  kSub,
  kMulDiv,     // round(a * b / scale)
  kScaledDiv,  // round(a * scale / b)
  kWiden,      // count -> ratio
  kNeg,
  kNot,
  kAnd,
  kOr,
  kLt,
  kLe,
  kGt,
  kGe,
  kEq,   // numbers
  kNe,
  kEqDeep,  // text, lists, records
  kNeDeep,
  kIn,
  kMin,
  kMax,
  kCount,
  kSum,
  kList,
  kRecord,
  kField,  // slot = field index
  kHostIssued,
  kHostIssuedTo,
  kHostPlanExists,
  kHostPlanCap,
  kHostBalance,
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : uint8_t { kNumber, kDate, kString, kMember, kCategory, kIndex, kName, kList, kRecord, kField, kUnary, kBinary, kCall };
  Kind kind = Kind::kNumber;
  Pos pos;
  std::string text;     // digits, date, text, id, name, field or function name
  Base unit = Base::kCount;  // kNumber: the unit written after it; kIndex: kWeek or kEpoch
  Op op = Op::kAdd;
  std::vector<ExprPtr> args;
  std::vector<std::string> field_names;  // kRecord
  // Set by the checker.
  TypeRef type;
  Exec exec = Exec::kUnchecked;
  int64_t scale = 1;
  int slot = -1;
  Value constant;
};

struct TemplatePart {
  std::string literal;
  ExprPtr expr;  // when set, the part is this value, formatted
};

struct Template {
  Pos pos;
  std::vector<TemplatePart> parts;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;

struct Stmt {
  enum class Kind : uint8_t { kLet, kWhen, kIssue, kReject, kRecord };
  Kind kind = Kind::kLet;
  Pos pos;
  std::string name;     // kLet, kRecord
  std::string source;   // the expression as written, for the trace
  ExprPtr value;        // let value, when condition, issue amount, record value
  ExprPtr voucher_class;  // kIssue
  ExprPtr target;         // kIssue: the member
  Template reason;        // kIssue, kReject
  std::vector<StmtPtr> then_body;
  std::vector<StmtPtr> else_body;
  int slot = -1;  // kLet, set by the checker
};

struct ParamValue {
  Pos pos;
  std::optional<int64_t> from_day;  // effective from this date; none for the first value
  ExprPtr expr;
  Value value;  // set by the checker
};

struct Param {
  Pos pos;
  std::string name;
  TypeRef type;
  std::string section;
  std::vector<ParamValue> values;
};

struct Rule {
  Pos pos;
  std::string hook_name;
  Hook hook = Hook::kAttendanceRecorded;
  std::string section;
  std::vector<std::pair<std::string, TypeRef>> params;
  std::vector<Pos> param_pos;
  std::vector<StmtPtr> body;
  int slot_count = 0;    // set by the checker
  std::string citation;  // "overtime_pay v2 §2", set by the checker
};

struct Given {
  Pos pos;
  std::string function;  // "today" or a host read
  std::vector<ExprPtr> args;
  ExprPtr value;
};

struct Expectation {
  Pos pos;
  Stmt::Kind kind = Stmt::Kind::kIssue;  // kIssue, kReject or kRecord
  ExprPtr voucher_class;
  ExprPtr target;
  ExprPtr value;  // amount or figure
  std::string name;
  std::optional<std::string> reason;
};

struct TestCase {
  Pos pos;
  std::string name;
  std::vector<Given> givens;
  Pos call_pos;
  std::string hook_name;
  Hook hook = Hook::kAttendanceRecorded;
  std::vector<ExprPtr> args;
  std::vector<Expectation> expects;  // empty: expects nothing
};

struct Section {
  Pos pos;
  std::string label;
  std::string text;
};

struct Module {
  std::string file;
  Pos pos;
  std::string name;
  int64_t version = 0;
  std::string preamble;
  std::vector<Section> sections;
  std::vector<Param> params;
  std::vector<Rule> rules;
  std::vector<TestCase> tests;
};

}  // namespace gongshe::contracts
