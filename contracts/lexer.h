#pragma once
// Splits law source into tokens. Layout matters in one place only — the statements of a block
// are the lines indented under its header — so every token records its line, its column and
// whether it starts its line, and the parser applies the layout rule.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gongshe::contracts {

// Bounds on outside input: a law is small text.
inline constexpr size_t kMaxSourceBytes = 64 * 1024;
inline constexpr size_t kMaxTokens = 16 * 1024;

struct Pos {
  int line = 0;
  int col = 0;
};

enum class Tok : uint8_t {
  kEnd,
  kWord,      // law, param, overtime, h, credits ...
  kNumber,    // 45, 1.5 (text holds the digits; a unit glued to it, as in 45h, is a separate kWord)
  kString,    // "..." (text holds the decoded contents)
  kDate,      // 2026-01-01
  kMember,    // @alice (text holds alice)
  kCategory,  // #bread (text holds bread)
  kSection,   // § or the word section
  kSymbol,    // ( ) [ ] { } , : . + - * / = != < <= > >=
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  Pos pos;
  bool starts_line = false;
  int indent = 0;      // the column of the first token on this token's line
  bool glued = false;  // no space before this token (a unit suffix such as the h of 45h)
  size_t begin = 0;    // byte offsets of the token in the source
  size_t end = 0;
};

// "file:line:col: message" as a Status with `code`.
Status SourceError(std::string_view code, std::string_view file, Pos pos, std::string_view message);

// Code LAW_SYNTAX on a malformed token, with its position.
Result<std::vector<Token>> Lex(std::string_view file, std::string_view source);

// How a token is quoted in an error: "'when'", "the number 45", "the end of the file".
std::string Describe(const Token& t);

}  // namespace gongshe::contracts
