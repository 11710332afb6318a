#pragma once
// Runs a checked module: walks the annotated tree, charging one unit of fuel for every
// expression and statement it evaluates (more for ledger reads and list scans). Exact integer
// arithmetic only; overflow, division by zero and running out of fuel end the run with an error
// and no effects. Laws cannot loop, so a run is also bounded by the size of the module.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "contracts/ast.h"
#include "contracts/host.h"

namespace gongshe::contracts {

inline constexpr uint64_t kDefaultFuel = 100'000;
inline constexpr size_t kMaxEffects = 64;
inline constexpr size_t kMaxTraceLines = 512;
inline constexpr uint64_t kHostReadFuel = 20;

struct RunOptions {
  int64_t today = 0;  // the date (days since 1970-01-01) that selects each parameter's value
  uint64_t fuel = kDefaultFuel;
  bool explain = false;  // collect the trace
};

struct Effect {
  enum class Kind : uint8_t { kIssue, kReject, kRecord };
  Kind kind = Kind::kIssue;
  VoucherClass voucher_class = VoucherClass::kConsumption;  // kIssue
  std::string member;    // kIssue: the recipient's id
  int64_t amount = 0;    // kIssue: milli-credits, > 0
  std::string reason;    // kIssue, kReject
  std::string figure;    // kRecord: the figure's name
  TypeRef figure_type;   // kRecord
  Value figure_value;    // kRecord
  std::string citation;  // "overtime_pay v2 §2"
};

// The result of running one hook. If a reject is present it is the last effect: the ledger
// refuses the request and applies none of the effects.
struct Outcome {
  std::vector<Effect> effects;
  std::vector<std::string> trace;  // empty unless RunOptions::explain
  uint64_t fuel_used = 0;
};

// Runs every rule of `module` on `hook`, in source order. `args` follow HookParams(hook), each
// of the type listed there (LAW_BAD_ARGS if their number differs).
// Errors: LAW_OUT_OF_FUEL, LAW_OVERFLOW, LAW_DIVISION_BY_ZERO, LAW_NO_PLAN, LAW_BAD_EFFECT,
// LAW_TOO_MANY_EFFECTS, LAW_HOST (a ledger read failed), each with file:line:col.
Result<Outcome> RunHook(const Module& module, Hook hook, std::span<const Value> args, const LawHost& host,
                        const RunOptions& options);

// The same without fuel metering. Only for measuring what metering costs (bench/law_bench);
// the ledger and the CLI always use RunHook.
Result<Outcome> RunHookUnmetered(const Module& module, Hook hook, std::span<const Value> args, const LawHost& host,
                                 const RunOptions& options);

// Evaluates a checked expression that uses no local names, parameters, `today` or ledger reads.
Result<Value> EvalConstant(const std::string& file, const Expr& expr);

std::string Citation(const Module& module, const std::string& section);
std::string DescribeEffect(const Effect& effect);

}  // namespace gongshe::contracts
