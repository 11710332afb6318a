#include "contracts/lexer.h"

#include "contracts/types.h"

namespace gongshe::contracts {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsWordChar(char c) { return IsWordStart(c) || IsDigit(c); }
bool IsIdChar(char c) { return IsWordChar(c) || c == '-'; }

class Lexer {
 public:
  Lexer(std::string_view file, std::string_view src) : file_(file), src_(src) {}

  Result<std::vector<Token>> Run() {
    if (src_.size() > kMaxSourceBytes) {
      return SourceError("LAW_SYNTAX", file_, {1, 1},
                         "the law is " + std::to_string(src_.size()) + " bytes; at most " +
                             std::to_string(kMaxSourceBytes) + " are allowed");
    }
    // Texts and comments pass through to reasons, explanations and stored records: the whole
    // source must be UTF-8.
    for (size_t at = 0; at < src_.size();) {
      const size_t length = Utf8SequenceLength(src_.substr(at));
      if (length == 0) {
        while (i_ < at) Advance();
        return Error("byte 0x" + ToHexByte(src_[at]) + " is not UTF-8; laws are written in UTF-8 text");
      }
      at += length;
    }
    std::vector<Token> out;
    bool line_start = true;
    bool space_before = true;
    int indent = 1;
    while (true) {
      if (out.size() >= kMaxTokens) return Error("the law has too many tokens (at most " + std::to_string(kMaxTokens) + ")");
      char c = Peek();
      if (i_ >= src_.size()) break;
      if (c == '\n') {
        Advance();
        line_start = true;
        space_before = true;
        continue;
      }
      if (c == ' ' || c == '\r') {
        Advance();
        space_before = true;
        continue;
      }
      if (c == '\t') return Error("tabs are not allowed; indent with spaces");
      if (c == '-' && Peek(1) == '-') {  // comment to the end of the line
        while (i_ < src_.size() && Peek() != '\n') Advance();
        continue;
      }
      Token t;
      t.pos = pos_;
      t.starts_line = line_start;
      if (line_start) indent = pos_.col;
      t.indent = indent;
      t.glued = !space_before;
      line_start = false;
      space_before = false;
      t.begin = i_;
      Status s = LexOne(t);
      if (!s.ok()) return s;
      t.end = i_;
      out.push_back(std::move(t));
    }
    Token end;
    end.pos = pos_;
    end.starts_line = true;
    end.begin = end.end = src_.size();
    out.push_back(end);
    return out;
  }

 private:
  char Peek(size_t ahead = 0) const { return i_ + ahead < src_.size() ? src_[i_ + ahead] : '\0'; }
  void Advance() {
    if (src_[i_] == '\n') {
      ++pos_.line;
      pos_.col = 1;
    } else if ((static_cast<unsigned char>(src_[i_]) & 0xC0) != 0x80) {
      ++pos_.col;  // columns count characters, not UTF-8 continuation bytes
    }
    ++i_;
  }
  Status Error(const std::string& message) const { return SourceError("LAW_SYNTAX", file_, pos_, message); }
  Status ErrorAt(Pos p, const std::string& message) const { return SourceError("LAW_SYNTAX", file_, p, message); }

  Status LexOne(Token& t) {
    char c = Peek();
    if (IsDigit(c)) return LexNumberOrDate(t);
    if (IsWordStart(c)) {
      while (IsWordChar(Peek())) t.text.push_back(src_[i_]), Advance();
      if (t.text.size() > 64) return ErrorAt(t.pos, "a name is at most 64 characters");
      t.kind = t.text == "section" ? Tok::kSection : Tok::kWord;
      return Status::Ok();
    }
    if (c == '"') return LexString(t);
    if (c == '@' || c == '#') {
      Advance();
      while (IsIdChar(Peek())) t.text.push_back(src_[i_]), Advance();
      t.kind = c == '@' ? Tok::kMember : Tok::kCategory;
      if (t.text.empty()) return ErrorAt(t.pos, std::string("expected a name after '") + c + "'");
      return Status::Ok();
    }
    if (static_cast<unsigned char>(c) == 0xC2 && static_cast<unsigned char>(Peek(1)) == 0xA7) {
      Advance();
      Advance();
      t.kind = Tok::kSection;
      t.text = "§";
      return Status::Ok();
    }
    static constexpr std::string_view kTwo[] = {"!=", "<=", ">="};
    for (std::string_view two : kTwo) {
      if (c == two[0] && Peek(1) == two[1]) {
        Advance();
        Advance();
        t.kind = Tok::kSymbol;
        t.text = std::string(two);
        return Status::Ok();
      }
    }
    if (std::string_view("()[]{},:.+-*/=<>").find(c) != std::string_view::npos) {
      Advance();
      t.kind = Tok::kSymbol;
      t.text = std::string(1, c);
      return Status::Ok();
    }
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Error("unexpected byte 0x" + ToHexByte(c) + "; laws are written in plain text");
    }
    return Error(std::string("unexpected character '") + c + "'");
  }

  static std::string ToHexByte(char c) {
    static constexpr char kDigits[] = "0123456789abcdef";
    auto u = static_cast<unsigned char>(c);
    return {kDigits[u >> 4], kDigits[u & 0xf]};
  }

  Status LexNumberOrDate(Token& t) {
    size_t start = i_;
    while (IsDigit(Peek())) Advance();
    // A date is exactly dddd-dd-dd.
    if (i_ - start == 4 && Peek() == '-' && IsDigit(Peek(1)) && IsDigit(Peek(2)) && Peek(3) == '-' &&
        IsDigit(Peek(4)) && IsDigit(Peek(5)) && !IsDigit(Peek(6))) {
      for (int k = 0; k < 6; ++k) Advance();
      t.kind = Tok::kDate;
      t.text = std::string(src_.substr(start, i_ - start));
      return Status::Ok();
    }
    if (Peek() == '.' && IsDigit(Peek(1))) {
      Advance();
      while (IsDigit(Peek())) Advance();
    }
    t.kind = Tok::kNumber;
    t.text = std::string(src_.substr(start, i_ - start));
    if (t.text.size() > 30) return ErrorAt(t.pos, "a number is at most 30 characters long");
    return Status::Ok();
  }

  Status LexString(Token& t) {
    Advance();  // opening quote
    t.kind = Tok::kString;
    while (true) {
      char c = Peek();
      if (i_ >= src_.size()) return ErrorAt(t.pos, "this text has no closing '\"'");
      if (c == '"') {
        Advance();
        break;
      }
      if (c == '\n') {  // a text may run over several lines; each line break and indent reads as one space
        Advance();
        while (Peek() == ' ' || Peek() == '\r') Advance();
        t.text.push_back(' ');
        continue;
      }
      if (c == '\\') {
        char e = Peek(1);
        if (e != '"' && e != '\\') return Error("expected '\\\"' or '\\\\' after a backslash in text");
        Advance();
      } else if (static_cast<unsigned char>(c) < 0x20) {
        return Error("control characters are not allowed in text");
      }
      t.text.push_back(src_[i_]);
      Advance();
      if (t.text.size() > kMaxTextBytesInSource) return ErrorAt(t.pos, "a text is at most 4096 bytes");
    }
    return Status::Ok();
  }

  static constexpr size_t kMaxTextBytesInSource = 4096;
  std::string_view file_;
  std::string_view src_;
  size_t i_ = 0;
  Pos pos_{1, 1};
};

}  // namespace

Status SourceError(std::string_view code, std::string_view file, Pos pos, std::string_view message) {
  return Status(std::string(code),
                std::string(file) + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.col) + ": " +
                    std::string(message));
}

Result<std::vector<Token>> Lex(std::string_view file, std::string_view source) { return Lexer(file, source).Run(); }

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd: return "the end of the file";
    case Tok::kNumber: return "the number " + t.text;
    case Tok::kString: return "a text \"" + (t.text.size() > 20 ? t.text.substr(0, 20) + "..." : t.text) + "\"";
    case Tok::kDate: return "the date " + t.text;
    case Tok::kMember: return "the member @" + t.text;
    case Tok::kCategory: return "the category #" + t.text;
    default: return "'" + t.text + "'";
  }
}

}  // namespace gongshe::contracts
