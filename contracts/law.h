#pragma once
// A law: a module of the law language, parsed and checked, ready to run.
//
//   Result<std::shared_ptr<const Law>> law = Law::Load("overtime_pay.law", source);
//   Result<Outcome> out = (*law)->Run(Hook::kWeekClosed, args, host, {.today = day, .explain = true});
//
// A loaded Law is immutable and may be run from many threads at once. Running is deterministic:
// the same law, arguments, host state and options give byte-identical effects and trace.

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "contracts/ast.h"
#include "contracts/host.h"
#include "contracts/interpreter.h"

namespace gongshe::contracts {

struct TestResult {
  std::string name;
  Pos pos;
  bool passed = false;
  std::string detail;  // why it failed; empty when it passed
  std::vector<std::string> trace;
};

class Law {
 public:
  // Parses and checks. Errors: LAW_SYNTAX or LAW_TYPE, "file:line:col: message".
  static Result<std::shared_ptr<const Law>> Load(std::string file, std::string_view source);

  const Module& module() const { return module_; }
  const std::string& name() const { return module_.name; }
  int64_t version() const { return module_.version; }
  // "overtime_pay v2": how explanations name the law.
  const std::string& title() const { return title_; }

  // Runs the law's rules on `hook`; `args` follow HookParams(hook) (see interpreter.h).
  Result<Outcome> Run(Hook hook, std::span<const Value> args, const LawHost& host, const RunOptions& options) const {
    return RunHook(module_, hook, args, host, options);
  }

  // Runs every test inside the module, in source order.
  std::vector<TestResult> RunTests() const;

 private:
  explicit Law(Module m) : module_(std::move(m)), title_(module_.name + " v" + std::to_string(module_.version)) {}
  Module module_;
  std::string title_;
};

// Hook arguments from a JSON object keyed by the hook's argument names. Each value is written as
// in the language — "45h", "@alice", "week 3", "1 credits per hour", "#bread", ["#a", "#b"] — or
// as a JSON number or boolean. Code BAD_ARGS (or BAD_JSON) with the argument's name.
Result<std::vector<Value>> HookArgsFromJson(Hook hook, std::string_view json);

// The effects and trace of a run as one JSON object (stable key order).
std::string OutcomeToJson(const Outcome& outcome);
std::string EffectToJson(const Effect& effect);

}  // namespace gongshe::contracts
