#pragma once
// The type checker: resolves every name, checks units, hook signatures, parameters and tests,
// and annotates the tree with what the interpreter must do (ast.h Exec). A module that passes
// can only fail at run time by overflow, division by zero, a missing plan or running out of fuel.
// Errors are Status code LAW_TYPE, "file:line:col: message".

#include "common/status.h"
#include "contracts/ast.h"

namespace gongshe::contracts {

Status CheckModule(Module& module);

// Checks a standalone expression as a constant of type `expected` (a hook argument from the
// command line) and evaluates it.
Result<Value> CheckConstant(const std::string& file, Expr& expr, const Type& expected);

// The ledger reads a law may call, with their argument and result types.
struct HostFunction {
  std::string_view name;
  std::vector<Base> params;
  Base result;
  Exec exec;
};
const HostFunction* FindHostFunction(std::string_view name);

}  // namespace gongshe::contracts
