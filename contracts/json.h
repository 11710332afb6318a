#pragma once
// A small, bounded JSON reader (RFC 8259 subset: no \u escapes beyond ASCII) for hook arguments
// given on the command line, and a quoting helper for JSON output. Numbers are kept as their
// text: nothing here is ever converted to floating point.

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gongshe::contracts {

inline constexpr size_t kMaxJsonBytes = 64 * 1024;
inline constexpr int kMaxJsonDepth = 16;

struct JsonField;

struct Json {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string text;  // kBool ("true"/"false"), kNumber (as written), kString (decoded)
  std::vector<Json> items;                           // kArray
  std::vector<JsonField> fields;  // kObject, in input order
};

// A named member of an object. (Not std::pair: a pair of an incomplete Json does not compile
// with clang and libstdc++.)
struct JsonField {
  std::string key;
  Json value;
};

// Code BAD_JSON with the byte offset on malformed input.
Result<Json> ParseJson(std::string_view text);

// "text" with ", \ and control characters escaped.
std::string JsonQuote(std::string_view s);

}  // namespace gongshe::contracts
