#pragma once
// Parses law source into a Module (syntax only; names and types are the checker's). Errors are
// Status code LAW_SYNTAX, "file:line:col: expected X, found Y".

#include <string_view>

#include "common/status.h"
#include "contracts/ast.h"

namespace gongshe::contracts {

// Deepest nesting of expressions and blocks; bounds the parser's recursion on hostile input.
inline constexpr int kMaxNesting = 32;

Result<Module> ParseModule(std::string_view file, std::string_view source);

// Parses one expression standing alone (a hook argument given on the command line).
Result<ExprPtr> ParseExpression(std::string_view file, std::string_view source);

// Words that cannot name a parameter, argument or local value.
bool IsReservedWord(std::string_view word);

}  // namespace gongshe::contracts
