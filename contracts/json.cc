#include "contracts/json.h"

#include <cstdio>

namespace gongshe::contracts {
namespace {

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  Result<Json> Document() {
    if (s_.size() > kMaxJsonBytes) return Status("BAD_JSON", "the JSON text is longer than 64 KiB");
    Json v;
    GS_RETURN_IF_ERROR(Value(v, 0));
    Space();
    if (i_ != s_.size()) return Error("unexpected text after the JSON value");
    return v;
  }

 private:
  Status Error(const std::string& m) const { return Status("BAD_JSON", "at byte " + std::to_string(i_) + ": " + m); }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool Eat(char c) {
    Space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

  Status Value(Json& v, int depth) {
    if (depth > kMaxJsonDepth) return Error("nested too deeply");
    Space();
    if (i_ >= s_.size()) return Error("expected a value, found the end");
    char c = s_[i_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"') {
      v.kind = Json::Kind::kString;
      return String(v.text);
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (s_.substr(i_, word.size()) == word) {
        i_ += word.size();
        v.kind = word == "null" ? Json::Kind::kNull : Json::Kind::kBool;
        v.text = std::string(word);
        return Status::Ok();
      }
    }
    if (c == '-' || (c >= '0' && c <= '9')) return Number(v);
    return Error(std::string("unexpected character '") + c + "'");
  }

  Status Number(Json& v) {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&] {
      size_t d = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ > d;
    };
    if (!digits()) return Error("expected digits");
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) return Error("expected digits after '.'");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) return Error("exponents are not accepted; write the number out");
    v.kind = Json::Kind::kNumber;
    v.text = std::string(s_.substr(start, i_ - start));
    return Status::Ok();
  }

  Status String(std::string& out) {
    ++i_;
    while (true) {
      if (i_ >= s_.size()) return Error("unterminated string");
      char c = s_[i_++];
      if (c == '"') return Status::Ok();
      if (static_cast<unsigned char>(c) < 0x20) return Error("control character in a string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return Error("unterminated escape");
      char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        default: return Error(std::string("unsupported escape '\\") + e + "'");
      }
    }
  }

  Status Array(Json& v, int depth) {
    ++i_;
    v.kind = Json::Kind::kArray;
    if (Eat(']')) return Status::Ok();
    do {
      if (v.items.size() >= 10'000) return Error("more than 10000 elements");
      v.items.emplace_back();
      GS_RETURN_IF_ERROR(Value(v.items.back(), depth + 1));
    } while (Eat(','));
    if (!Eat(']')) return Error("expected ',' or ']'");
    return Status::Ok();
  }

  Status Object(Json& v, int depth) {
    ++i_;
    v.kind = Json::Kind::kObject;
    if (Eat('}')) return Status::Ok();
    do {
      Space();
      if (i_ >= s_.size() || s_[i_] != '"') return Error("expected a quoted key");
      std::string key;
      GS_RETURN_IF_ERROR(String(key));
      for (const auto& f : v.fields) {
        if (f.key == key) return Error("the key \"" + key + "\" appears twice");
      }
      if (!Eat(':')) return Error("expected ':' after the key");
      if (v.fields.size() >= 1000) return Error("more than 1000 keys");
      v.fields.push_back(JsonField{std::move(key), Json()});
      GS_RETURN_IF_ERROR(Value(v.fields.back().value, depth + 1));
    } while (Eat(','));
    if (!Eat('}')) return Error("expected ',' or '}'");
    return Status::Ok();
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

Result<Json> ParseJson(std::string_view text) { return JsonReader(text).Document(); }

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace gongshe::contracts
