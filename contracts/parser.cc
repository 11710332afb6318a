#include "contracts/parser.h"

#include <algorithm>
#include <array>

namespace gongshe::contracts {
namespace {

// Words that start statements or items, or are values; a name cannot be one of them.
constexpr std::string_view kReserved[] = {
    "law", "version", "param", "on", "when", "otherwise", "let", "issue", "because", "reject", "record", "test",
    "given", "expects", "nothing", "and", "or", "not", "in", "today", "true", "false", "guarantee", "consumption",
    "special", "section"};

bool IsHoursWord(std::string_view w) { return w == "h" || w == "hour" || w == "hours"; }
bool IsMinutesWord(std::string_view w) { return w == "min" || w == "minute" || w == "minutes"; }
bool IsCreditsWord(std::string_view w) { return w == "credit" || w == "credits"; }

class Parser {
 public:
  Parser(std::string_view file, std::string_view source, std::vector<Token> tokens)
      : file_(file), source_(source), toks_(std::move(tokens)) {}

  Result<Module> ParseModuleTop() {
    Module m;
    m.file = std::string(file_);
    m.pos = Peek().pos;
    GS_RETURN_IF_ERROR(ExpectWord("law", "'law NAME version N' at the start"));
    GS_RETURN_IF_ERROR(Name("the law's name", m.name));
    GS_RETURN_IF_ERROR(ExpectWord("version", "'version' after the law's name"));
    if (Peek().kind != Tok::kNumber || Peek().text.find('.') != std::string::npos || Peek().text.size() > 9) {
      return Expected("a whole version number");
    }
    m.version = std::stoll(Next().text);
    if (m.version < 1) return SourceError("LAW_SYNTAX", file_, Prev().pos, "the version must be at least 1");
    if (Peek().kind == Tok::kString) m.preamble = Next().text;
    std::string section;
    while (Peek().kind != Tok::kEnd) {
      const Token& t = Peek();
      if (t.kind == Tok::kSection) {
        GS_RETURN_IF_ERROR(ParseSection(m));
        section = m.sections.back().label;
      } else if (IsWord("param")) {
        GS_RETURN_IF_ERROR(ParseParam(m, section));
      } else if (IsWord("on")) {
        GS_RETURN_IF_ERROR(ParseRule(m, section));
      } else if (IsWord("test")) {
        GS_RETURN_IF_ERROR(ParseTest(m));
      } else {
        return Expected("'§', 'param', 'on' or 'test'");
      }
    }
    return m;
  }

  Result<ExprPtr> ParseStandalone() {
    ExprPtr e;
    GS_RETURN_IF_ERROR(ParseExpr(e));
    if (Peek().kind != Tok::kEnd) return Expected("the end of the value");
    return e;
  }

 private:
  // --- tokens ---
  const Token& Peek(size_t ahead = 0) const { return toks_[std::min(i_ + ahead, toks_.size() - 1)]; }
  const Token& Prev() const { return toks_[i_ == 0 ? 0 : i_ - 1]; }
  const Token& Next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  bool IsWord(std::string_view w, size_t ahead = 0) const { return Peek(ahead).kind == Tok::kWord && Peek(ahead).text == w; }
  bool IsSymbol(std::string_view s) const { return Peek().kind == Tok::kSymbol && Peek().text == s; }
  Status Expected(std::string_view what) const {
    return SourceError("LAW_SYNTAX", file_, Peek().pos, "expected " + std::string(what) + ", found " + Describe(Peek()));
  }
  Status ExpectWord(std::string_view w, std::string_view what) {
    if (!IsWord(w)) return Expected(what);
    Next();
    return Status::Ok();
  }
  Status ExpectSymbol(std::string_view s, std::string_view what) {
    if (!IsSymbol(s)) return Expected(what);
    Next();
    return Status::Ok();
  }
  Status Name(std::string_view what, std::string& out) {
    if (Peek().kind != Tok::kWord) return Expected(what);
    if (IsReservedWord(Peek().text)) {
      return SourceError("LAW_SYNTAX", file_, Peek().pos,
                         "expected " + std::string(what) + ", found the reserved word '" + Peek().text + "'");
    }
    out = Next().text;
    return Status::Ok();
  }
  std::string SourceSince(size_t first_token) const {
    size_t begin = toks_[first_token].begin, end = Prev().end;
    return end > begin ? std::string(source_.substr(begin, end - begin)) : std::string();
  }

  // --- module items ---
  Status ParseSection(Module& m) {
    Section s;
    s.pos = Next().pos;
    if (Peek().kind != Tok::kNumber && Peek().kind != Tok::kWord) return Expected("a section number after '§'");
    s.label = Next().text;
    for (const Section& other : m.sections) {
      if (other.label == s.label) return SourceError("LAW_SYNTAX", file_, s.pos, "section §" + s.label + " appears twice");
    }
    if (Peek().kind != Tok::kString) return Expected("the legal text of section §" + s.label + " in quotes");
    s.text = Next().text;
    m.sections.push_back(std::move(s));
    return Status::Ok();
  }

  Status ParseParam(Module& m, const std::string& section) {
    Param p;
    p.pos = Next().pos;
    p.section = section;
    GS_RETURN_IF_ERROR(Name("the parameter's name", p.name));
    GS_RETURN_IF_ERROR(ExpectSymbol(":", "':' and the parameter's type after its name"));
    GS_RETURN_IF_ERROR(ParseType(p.type, 0));
    GS_RETURN_IF_ERROR(ExpectSymbol("=", "'=' and the parameter's value after its type"));
    ParamValue first;
    first.pos = Peek().pos;
    GS_RETURN_IF_ERROR(ParseExpr(first.expr));
    p.values.push_back(std::move(first));
    while (IsWord("then")) {
      Next();
      ParamValue v;
      v.pos = Peek().pos;
      GS_RETURN_IF_ERROR(ParseExpr(v.expr));
      GS_RETURN_IF_ERROR(ExpectWord("from", "'from' and the date this value takes effect"));
      if (Peek().kind != Tok::kDate) return Expected("a date such as 2027-01-01");
      Result<int64_t> day = ParseDate(Next());
      if (!day.ok()) return day.status();
      v.from_day = *day;
      p.values.push_back(std::move(v));
      if (p.values.size() > 16) return SourceError("LAW_SYNTAX", file_, Prev().pos, "a parameter has at most 16 dated values");
    }
    m.params.push_back(std::move(p));
    return Status::Ok();
  }

  Status ParseRule(Module& m, const std::string& section) {
    Rule r;
    const Token& on = Next();
    r.pos = on.pos;
    r.section = section;
    if (Peek().kind != Tok::kWord) return Expected("a hook name after 'on'");
    r.hook_name = Next().text;
    GS_RETURN_IF_ERROR(ExpectSymbol("(", "'(' and the hook's arguments"));
    while (!IsSymbol(")")) {
      if (!r.params.empty()) GS_RETURN_IF_ERROR(ExpectSymbol(",", "',' or ')' in the hook's arguments"));
      if (r.params.size() >= 16) return SourceError("LAW_SYNTAX", file_, Peek().pos, "a hook has at most 16 arguments");
      r.param_pos.push_back(Peek().pos);
      std::string name;
      GS_RETURN_IF_ERROR(Name("an argument name", name));
      GS_RETURN_IF_ERROR(ExpectSymbol(":", "':' and the argument's type"));
      TypeRef type;
      GS_RETURN_IF_ERROR(ParseType(type, 0));
      r.params.emplace_back(std::move(name), std::move(type));
    }
    Next();
    GS_RETURN_IF_ERROR(ParseBlock(on, "the rule", r.body, 0));
    m.rules.push_back(std::move(r));
    return Status::Ok();
  }

  // The statements of a block are the lines indented deeper than the line of its header, all at
  // one column.
  Status ParseBlock(const Token& header, std::string_view what, std::vector<StmtPtr>& body, int depth) {
    if (depth > kMaxNesting) return SourceError("LAW_SYNTAX", file_, Peek().pos, "blocks are nested too deeply");
    const Token& first = Peek();
    if (!first.starts_line || first.pos.col <= header.indent) {
      return Expected("the statements of " + std::string(what) + " on the next lines, indented deeper than line " +
                      std::to_string(header.pos.line));
    }
    int col = first.pos.col;
    while (Peek().kind != Tok::kEnd && Peek().starts_line && Peek().pos.col == col) {
      if (body.size() >= 64) return SourceError("LAW_SYNTAX", file_, Peek().pos, "a block has at most 64 statements");
      StmtPtr s;
      GS_RETURN_IF_ERROR(ParseStmt(s, depth));
      body.push_back(std::move(s));
      if (Peek().kind != Tok::kEnd && !Peek().starts_line) return Expected("the end of the statement");
    }
    if (Peek().kind != Tok::kEnd && Peek().pos.col > header.indent && Peek().pos.col != col) {
      return SourceError("LAW_SYNTAX", file_, Peek().pos,
                         "this line is indented to column " + std::to_string(Peek().pos.col) +
                             " but the block it belongs to is at column " + std::to_string(col));
    }
    return Status::Ok();
  }

  Status ParseStmt(StmtPtr& out, int depth) {
    auto s = std::make_unique<Stmt>();
    const Token& head = Peek();
    s->pos = head.pos;
    if (IsWord("let")) {
      Next();
      s->kind = Stmt::Kind::kLet;
      GS_RETURN_IF_ERROR(Name("a name after 'let'", s->name));
      GS_RETURN_IF_ERROR(ExpectSymbol("=", "'=' after the name"));
      size_t first = i_;
      GS_RETURN_IF_ERROR(ParseExpr(s->value));
      s->source = SourceSince(first);
    } else if (IsWord("when")) {
      GS_RETURN_IF_ERROR(ParseWhen(*s, depth));
    } else if (IsWord("issue")) {
      Next();
      s->kind = Stmt::Kind::kIssue;
      GS_RETURN_IF_ERROR(ParseIssueTail(s->voucher_class, s->target, s->value));
      GS_RETURN_IF_ERROR(ExpectWord("because", "'because' and the reason, in quotes"));
      GS_RETURN_IF_ERROR(ParseTemplate(s->reason));
    } else if (IsWord("reject")) {
      Next();
      s->kind = Stmt::Kind::kReject;
      GS_RETURN_IF_ERROR(ExpectWord("because", "'because' and the reason, in quotes"));
      GS_RETURN_IF_ERROR(ParseTemplate(s->reason));
    } else if (IsWord("record")) {
      Next();
      s->kind = Stmt::Kind::kRecord;
      GS_RETURN_IF_ERROR(Name("the figure's name after 'record'", s->name));
      GS_RETURN_IF_ERROR(ExpectSymbol("=", "'=' after the figure's name"));
      size_t first = i_;
      GS_RETURN_IF_ERROR(ParseExpr(s->value));
      s->source = SourceSince(first);
    } else {
      return Expected("a statement ('let', 'when', 'issue', 'reject' or 'record')");
    }
    out = std::move(s);
    return Status::Ok();
  }

  // `layout` is the token whose column the block is indented from: the `when` itself, or the
  // `otherwise` of an `otherwise when`.
  Status ParseWhen(Stmt& s, int depth, const Token* layout = nullptr) {
    const Token& when = layout ? *layout : Peek();
    Next();
    s.kind = Stmt::Kind::kWhen;
    size_t first = i_;
    GS_RETURN_IF_ERROR(ParseExpr(s.value));
    s.source = SourceSince(first);
    GS_RETURN_IF_ERROR(ExpectSymbol(":", "':' after the condition"));
    GS_RETURN_IF_ERROR(ParseBlock(when, "'when'", s.then_body, depth + 1));
    if (IsWord("otherwise") && Peek().starts_line && Peek().pos.col == when.pos.col) {
      // `otherwise` lines up with the `when` (or the `otherwise`) that it completes.
      const Token& otherwise = Next();
      if (IsWord("when")) {
        auto nested = std::make_unique<Stmt>();
        nested->pos = Peek().pos;
        GS_RETURN_IF_ERROR(ParseWhen(*nested, depth + 1, &otherwise));
        s.else_body.push_back(std::move(nested));
      } else {
        GS_RETURN_IF_ERROR(ExpectSymbol(":", "':' or 'when' after 'otherwise'"));
        GS_RETURN_IF_ERROR(ParseBlock(otherwise, "'otherwise'", s.else_body, depth + 1));
      }
    }
    return Status::Ok();
  }

  // CLASS to MEMBER amount AMOUNT
  Status ParseIssueTail(ExprPtr& voucher_class, ExprPtr& target, ExprPtr& amount) {
    GS_RETURN_IF_ERROR(ParseExpr(voucher_class));
    GS_RETURN_IF_ERROR(ExpectWord("to", "'to' and the member who receives the vouchers"));
    GS_RETURN_IF_ERROR(ParseExpr(target));
    GS_RETURN_IF_ERROR(ExpectWord("amount", "'amount' and how many credits"));
    return ParseExpr(amount);
  }

  // "text with {name} or {name.field} filled in"
  Status ParseTemplate(Template& t) {
    if (Peek().kind != Tok::kString) return Expected("a reason in quotes");
    const Token& tok = Next();
    t.pos = tok.pos;
    const std::string& s = tok.text;
    std::string literal;
    for (size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '}') return SourceError("LAW_SYNTAX", file_, tok.pos, "'}' without '{' in the reason");
      if (s[k] != '{') {
        literal.push_back(s[k]);
        continue;
      }
      size_t close = s.find('}', k);
      if (close == std::string::npos) return SourceError("LAW_SYNTAX", file_, tok.pos, "'{' without '}' in the reason");
      std::string inner = s.substr(k + 1, close - k - 1);
      Result<ExprPtr> e = ParseExpression(file_, inner);
      if (!e.ok() || ((*e)->kind != Expr::Kind::kName && (*e)->kind != Expr::Kind::kField)) {
        return SourceError("LAW_SYNTAX", file_, tok.pos, "expected a name inside '{' '}' in the reason, found '" + inner + "'");
      }
      SetPos(**e, tok.pos);
      if (!literal.empty()) t.parts.push_back({std::move(literal), nullptr});
      literal.clear();
      t.parts.push_back({"", std::move(e).value()});
      if (t.parts.size() > 32) return SourceError("LAW_SYNTAX", file_, tok.pos, "a reason fills in at most 16 values");
      k = close;
    }
    if (!literal.empty()) t.parts.push_back({std::move(literal), nullptr});
    return Status::Ok();
  }
  static void SetPos(Expr& e, Pos p) {
    e.pos = p;
    for (ExprPtr& a : e.args) SetPos(*a, p);
  }

  Status ParseTest(Module& m) {
    TestCase t;
    t.pos = Next().pos;
    if (Peek().kind != Tok::kString) return Expected("the test's name in quotes");
    t.name = Next().text;
    while (IsWord("given")) {
      Given g;
      g.pos = Next().pos;
      if (IsWord("today")) {
        Next();
        g.function = "today";
      } else {
        if (Peek().kind != Tok::kWord) return Expected("'today' or a ledger reading such as plan_cap(epoch 3)");
        g.function = Next().text;
        GS_RETURN_IF_ERROR(ParseArgs(g.args));
      }
      GS_RETURN_IF_ERROR(ExpectSymbol("=", "'=' and the value it gives"));
      GS_RETURN_IF_ERROR(ParseExpr(g.value));
      t.givens.push_back(std::move(g));
      if (t.givens.size() > 32) return SourceError("LAW_SYNTAX", file_, Prev().pos, "a test has at most 32 'given' lines");
    }
    t.call_pos = Peek().pos;
    if (Peek().kind != Tok::kWord) return Expected("'given' or the hook the test runs, such as week_closed(...)");
    t.hook_name = Next().text;
    GS_RETURN_IF_ERROR(ParseArgs(t.args));
    if (!IsWord("expects")) return Expected("'expects' and the effects the test expects");
    if (IsWord("nothing", 1)) {
      Next();
      Next();
    } else {
      while (IsWord("expects")) {
        Next();
        if (t.expects.size() >= 32) return SourceError("LAW_SYNTAX", file_, Prev().pos, "a test expects at most 32 effects");
        Expectation e;
        GS_RETURN_IF_ERROR(ParseExpectation(e));
        t.expects.push_back(std::move(e));
      }
    }
    m.tests.push_back(std::move(t));
    return Status::Ok();
  }

  Status ParseExpectation(Expectation& e) {
    e.pos = Peek().pos;
    if (IsWord("issue")) {
      Next();
      e.kind = Stmt::Kind::kIssue;
      return ParseIssueTail(e.voucher_class, e.target, e.value);
    }
    if (IsWord("reject")) {
      Next();
      e.kind = Stmt::Kind::kReject;
      if (IsWord("because")) {
        Next();
        if (Peek().kind != Tok::kString) return Expected("the expected reason in quotes");
        e.reason = Next().text;
      }
      return Status::Ok();
    }
    if (IsWord("record")) {
      Next();
      e.kind = Stmt::Kind::kRecord;
      GS_RETURN_IF_ERROR(Name("the figure's name after 'record'", e.name));
      GS_RETURN_IF_ERROR(ExpectSymbol("=", "'=' after the figure's name"));
      return ParseExpr(e.value);
    }
    return Expected("'nothing', 'issue', 'reject' or 'record' after 'expects'");
  }

  Status ParseArgs(std::vector<ExprPtr>& args) {
    GS_RETURN_IF_ERROR(ExpectSymbol("(", "'('"));
    while (!IsSymbol(")")) {
      if (!args.empty()) GS_RETURN_IF_ERROR(ExpectSymbol(",", "',' or ')'"));
      if (args.size() >= 16) return SourceError("LAW_SYNTAX", file_, Peek().pos, "at most 16 arguments");
      ExprPtr e;
      GS_RETURN_IF_ERROR(ParseExpr(e));
      args.push_back(std::move(e));
    }
    Next();
    return Status::Ok();
  }

  // --- types ---
  Status ParseType(TypeRef& out, int depth) {
    if (depth > 4) return SourceError("LAW_SYNTAX", file_, Peek().pos, "types are nested too deeply");
    if (IsSymbol("{")) return ParseRecordType(out, depth);
    if (Peek().kind != Tok::kWord) return Expected("a type");
    std::string w = Next().text;
    static const std::array<std::pair<std::string_view, Base>, 13> kNames = {{
        {"hours", Base::kHours}, {"minutes", Base::kHours}, {"ratio", Base::kRatio}, {"count", Base::kCount},
        {"date", Base::kDate}, {"week", Base::kWeek}, {"epoch", Base::kEpoch}, {"boolean", Base::kBoolean},
        {"text", Base::kText}, {"member", Base::kMember}, {"category", Base::kCategory}, {"credits", Base::kCredits},
        {"voucher", Base::kVoucherClass},
    }};
    if (w == "list") {
      GS_RETURN_IF_ERROR(ExpectWord("of", "'of' after 'list'"));
      TypeRef element;
      GS_RETURN_IF_ERROR(ParseType(element, depth + 1));
      GS_RETURN_IF_ERROR(ExpectWord("up", "'up to N' (the most elements the list may hold)"));
      GS_RETURN_IF_ERROR(ExpectWord("to", "'to' after 'up'"));
      if (Peek().kind != Tok::kNumber || Peek().text.find('.') != std::string::npos || Peek().text.size() > 6 ||
          std::stoll(Peek().text) < 1 || std::stoll(Peek().text) > kMaxListCap) {
        return Expected("a whole number from 1 to " + std::to_string(kMaxListCap));
      }
      out = Type::ListOf(std::move(element), static_cast<uint32_t>(std::stoll(Next().text)));
      return Status::Ok();
    }
    for (const auto& [name, base] : kNames) {
      if (w != name) continue;
      if (base == Base::kCredits && IsWord("per")) {
        Next();
        GS_RETURN_IF_ERROR(ExpectWord("hour", "'hour' after 'credits per'"));
        out = Type::Of(Base::kRate);
        return Status::Ok();
      }
      if (base == Base::kVoucherClass) GS_RETURN_IF_ERROR(ExpectWord("class", "'class' after 'voucher'"));
      out = Type::Of(base);
      return Status::Ok();
    }
    return SourceError("LAW_SYNTAX", file_, Prev().pos,
                       "expected a type (credits, credits per hour, hours, ratio, count, date, week, epoch, boolean, "
                       "text, member, category, voucher class, list of T up to N, {field: T}), found '" + w + "'");
  }

  Status ParseRecordType(TypeRef& out, int depth) {
    Next();
    std::vector<std::pair<std::string, TypeRef>> fields;
    while (!IsSymbol("}")) {
      if (!fields.empty()) GS_RETURN_IF_ERROR(ExpectSymbol(",", "',' or '}' in the record type"));
      if (fields.size() >= kMaxRecordFields) return SourceError("LAW_SYNTAX", file_, Peek().pos, "a record has at most 32 fields");
      std::string name;
      Pos at = Peek().pos;
      GS_RETURN_IF_ERROR(Name("a field name", name));
      for (const auto& f : fields) {
        if (f.first == name) return SourceError("LAW_SYNTAX", file_, at, "the field '" + name + "' appears twice");
      }
      GS_RETURN_IF_ERROR(ExpectSymbol(":", "':' and the field's type"));
      TypeRef t;
      GS_RETURN_IF_ERROR(ParseType(t, depth + 1));
      fields.emplace_back(std::move(name), std::move(t));
    }
    Next();
    if (fields.empty()) return SourceError("LAW_SYNTAX", file_, Prev().pos, "a record type needs at least one field");
    out = Type::RecordOf(std::move(fields));
    return Status::Ok();
  }

  // --- expressions, loosest first: or, and, not, comparison, + -, * /, unary -, .field ---
  Status ParseExpr(ExprPtr& out) { return ParseOr(out, 0); }

  Status Nest(int depth) const {
    if (depth > kMaxNesting) return SourceError("LAW_SYNTAX", file_, Peek().pos, "the expression is nested too deeply");
    return Status::Ok();
  }

  static ExprPtr MakeBinary(Op op, Pos pos, ExprPtr a, ExprPtr b) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kBinary;
    e->op = op;
    e->pos = pos;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  Status ParseOr(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(Nest(depth));
    GS_RETURN_IF_ERROR(ParseAnd(out, depth + 1));
    for (int n = 0; IsWord("or"); ++n) {
      if (n >= 64) return SourceError("LAW_SYNTAX", file_, Peek().pos, "too many terms in one expression");
      Pos pos = Next().pos;
      ExprPtr rhs;
      GS_RETURN_IF_ERROR(ParseAnd(rhs, depth + 1));
      out = MakeBinary(Op::kOr, pos, std::move(out), std::move(rhs));
    }
    return Status::Ok();
  }

  Status ParseAnd(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(ParseNot(out, depth + 1));
    for (int n = 0; IsWord("and"); ++n) {
      if (n >= 64) return SourceError("LAW_SYNTAX", file_, Peek().pos, "too many terms in one expression");
      Pos pos = Next().pos;
      ExprPtr rhs;
      GS_RETURN_IF_ERROR(ParseNot(rhs, depth + 1));
      out = MakeBinary(Op::kAnd, pos, std::move(out), std::move(rhs));
    }
    return Status::Ok();
  }

  Status ParseNot(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(Nest(depth));
    if (!IsWord("not")) return ParseComparison(out, depth + 1);
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kUnary;
    e->op = Op::kNot;
    e->pos = Next().pos;
    e->args.emplace_back();
    GS_RETURN_IF_ERROR(ParseNot(e->args[0], depth + 1));
    out = std::move(e);
    return Status::Ok();
  }

  Status ParseComparison(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(ParseAdditive(out, depth + 1));
    static const std::array<std::pair<std::string_view, Op>, 6> kOps = {
        {{"=", Op::kEq}, {"!=", Op::kNe}, {"<", Op::kLt}, {"<=", Op::kLe}, {">", Op::kGt}, {">=", Op::kGe}}};
    std::optional<Op> op;
    for (const auto& [text, o] : kOps) {
      if (IsSymbol(text)) op = o;
    }
    if (IsWord("in")) op = Op::kIn;
    if (!op) return Status::Ok();
    Pos pos = Next().pos;
    ExprPtr rhs;
    GS_RETURN_IF_ERROR(ParseAdditive(rhs, depth + 1));
    out = MakeBinary(*op, pos, std::move(out), std::move(rhs));
    bool another = IsWord("in");
    for (const auto& entry : kOps) another = another || IsSymbol(entry.first);
    if (another) {
      return SourceError("LAW_SYNTAX", file_, Peek().pos, "comparisons do not chain; join them with 'and'");
    }
    return Status::Ok();
  }

  Status ParseAdditive(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(Nest(depth));
    GS_RETURN_IF_ERROR(ParseMultiplicative(out, depth + 1));
    for (int n = 0; IsSymbol("+") || IsSymbol("-"); ++n) {
      if (n >= 64) return SourceError("LAW_SYNTAX", file_, Peek().pos, "too many terms in one expression");
      Op op = Peek().text == "+" ? Op::kAdd : Op::kSub;
      Pos pos = Next().pos;
      ExprPtr rhs;
      GS_RETURN_IF_ERROR(ParseMultiplicative(rhs, depth + 1));
      out = MakeBinary(op, pos, std::move(out), std::move(rhs));
    }
    return Status::Ok();
  }

  Status ParseMultiplicative(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(ParseUnary(out, depth + 1));
    for (int n = 0; IsSymbol("*") || IsSymbol("/"); ++n) {
      if (n >= 64) return SourceError("LAW_SYNTAX", file_, Peek().pos, "too many terms in one expression");
      Op op = Peek().text == "*" ? Op::kMul : Op::kDiv;
      Pos pos = Next().pos;
      ExprPtr rhs;
      GS_RETURN_IF_ERROR(ParseUnary(rhs, depth + 1));
      out = MakeBinary(op, pos, std::move(out), std::move(rhs));
    }
    return Status::Ok();
  }

  Status ParseUnary(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(Nest(depth));
    if (!IsSymbol("-")) return ParsePostfix(out, depth + 1);
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kUnary;
    e->op = Op::kNeg;
    e->pos = Next().pos;
    e->args.emplace_back();
    GS_RETURN_IF_ERROR(ParseUnary(e->args[0], depth + 1));
    out = std::move(e);
    return Status::Ok();
  }

  Status ParsePostfix(ExprPtr& out, int depth) {
    GS_RETURN_IF_ERROR(ParsePrimary(out, depth + 1));
    for (int n = 0; IsSymbol("."); ++n) {
      if (n >= 8) return SourceError("LAW_SYNTAX", file_, Peek().pos, "too many '.' in a row");
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kField;
      e->pos = Next().pos;
      if (Peek().kind != Tok::kWord) return Expected("a field name after '.'");
      e->text = Next().text;
      e->args.push_back(std::move(out));
      out = std::move(e);
    }
    return Status::Ok();
  }

  Status ParsePrimary(ExprPtr& out, int depth) {
    auto e = std::make_unique<Expr>();
    const Token& t = Peek();
    e->pos = t.pos;
    switch (t.kind) {
      case Tok::kNumber: GS_RETURN_IF_ERROR(ParseNumber(*e)); break;
      case Tok::kDate: {
        e->kind = Expr::Kind::kDate;
        e->text = Next().text;
        break;
      }
      case Tok::kString:
        e->kind = Expr::Kind::kString;
        e->text = Next().text;
        break;
      case Tok::kMember:
        e->kind = Expr::Kind::kMember;
        e->text = Next().text;
        break;
      case Tok::kCategory:
        e->kind = Expr::Kind::kCategory;
        e->text = Next().text;
        break;
      case Tok::kWord: GS_RETURN_IF_ERROR(ParseWordPrimary(*e, depth)); break;
      case Tok::kSymbol:
        if (t.text == "(") {
          Next();
          GS_RETURN_IF_ERROR(ParseOr(out, depth + 1));
          return ExpectSymbol(")", "')'");
        }
        if (t.text == "[") {
          GS_RETURN_IF_ERROR(ParseListLiteral(*e, depth));
          break;
        }
        if (t.text == "{") {
          GS_RETURN_IF_ERROR(ParseRecordLiteral(*e, depth));
          break;
        }
        return Expected("a value");
      default: return Expected("a value");
    }
    out = std::move(e);
    return Status::Ok();
  }

  // 45, 45h, 45 hours, 30min, 5h30min, 7.5 credits, 1 credits per hour, 1.5x, 1.5
  Status ParseNumber(Expr& e) {
    e.kind = Expr::Kind::kNumber;
    e.text = Next().text;
    bool decimal = e.text.find('.') != std::string::npos;
    e.unit = decimal ? Base::kRatio : Base::kCount;
    if (Peek().kind != Tok::kWord) return Status::Ok();
    const std::string& w = Peek().text;
    if (IsHoursWord(w)) {
      Next();
      e.unit = Base::kHours;
    } else if (w.size() > 4 && w[0] == 'h' && w.substr(w.size() - 3) == "min" && Peek().glued &&
               std::all_of(w.begin() + 1, w.end() - 3, [](char c) { return c >= '0' && c <= '9'; })) {
      Next();  // 5h30min: the lexer reads "h30min" as one word
      e.unit = Base::kHours;
      e.text += "h" + w.substr(1, w.size() - 4);
    } else if (IsMinutesWord(w)) {
      Next();
      e.unit = Base::kHours;
      e.text = "0h" + e.text;
    } else if (IsCreditsWord(w)) {
      Next();
      e.unit = Base::kCredits;
      if (IsWord("per")) {
        Next();
        GS_RETURN_IF_ERROR(ExpectWord("hour", "'hour' after 'credits per'"));
        e.unit = Base::kRate;
      }
    } else if (w == "x" && Peek().glued) {
      Next();
      e.unit = Base::kRatio;
    }
    return Status::Ok();
  }

  Status ParseWordPrimary(Expr& e, int depth) {
    const Token& t = Next();
    if ((t.text == "week" || t.text == "epoch") && Peek().kind == Tok::kNumber) {
      e.kind = Expr::Kind::kIndex;
      e.unit = t.text == "week" ? Base::kWeek : Base::kEpoch;
      e.text = Next().text;
      return Status::Ok();
    }
    e.text = t.text;
    if (!IsSymbol("(")) {
      e.kind = Expr::Kind::kName;
      return Status::Ok();
    }
    e.kind = Expr::Kind::kCall;
    (void)depth;
    return ParseArgs(e.args);
  }

  Status ParseListLiteral(Expr& e, int depth) {
    Next();
    e.kind = Expr::Kind::kList;
    while (!IsSymbol("]")) {
      if (!e.args.empty()) GS_RETURN_IF_ERROR(ExpectSymbol(",", "',' or ']' in the list"));
      if (e.args.size() >= 256) return SourceError("LAW_SYNTAX", file_, Peek().pos, "a list written out has at most 256 elements");
      ExprPtr item;
      GS_RETURN_IF_ERROR(ParseOr(item, depth + 1));
      e.args.push_back(std::move(item));
    }
    Next();
    return Status::Ok();
  }

  Status ParseRecordLiteral(Expr& e, int depth) {
    Next();
    e.kind = Expr::Kind::kRecord;
    while (!IsSymbol("}")) {
      if (!e.args.empty()) GS_RETURN_IF_ERROR(ExpectSymbol(",", "',' or '}' in the record"));
      if (e.args.size() >= kMaxRecordFields) return SourceError("LAW_SYNTAX", file_, Peek().pos, "a record has at most 32 fields");
      std::string name;
      GS_RETURN_IF_ERROR(Name("a field name", name));
      GS_RETURN_IF_ERROR(ExpectSymbol(":", "':' and the field's value"));
      ExprPtr v;
      GS_RETURN_IF_ERROR(ParseOr(v, depth + 1));
      e.field_names.push_back(std::move(name));
      e.args.push_back(std::move(v));
    }
    Next();
    return Status::Ok();
  }

  Result<int64_t> ParseDate(const Token& t) {
    int y = std::stoi(t.text.substr(0, 4)), m = std::stoi(t.text.substr(5, 2)), d = std::stoi(t.text.substr(8, 2));
    std::optional<int64_t> day = DaysFromCivil(y, m, d);
    if (!day) return SourceError("LAW_SYNTAX", file_, t.pos, "there is no date " + t.text);
    return *day;
  }

  std::string_view file_;
  std::string_view source_;
  std::vector<Token> toks_;
  size_t i_ = 0;
};

}  // namespace

bool IsReservedWord(std::string_view word) {
  return std::find(std::begin(kReserved), std::end(kReserved), word) != std::end(kReserved);
}

Result<Module> ParseModule(std::string_view file, std::string_view source) {
  Result<std::vector<Token>> toks = Lex(file, source);
  if (!toks.ok()) return toks.status();
  return Parser(file, source, std::move(toks).value()).ParseModuleTop();
}

Result<ExprPtr> ParseExpression(std::string_view file, std::string_view source) {
  Result<std::vector<Token>> toks = Lex(file, source);
  if (!toks.ok()) return toks.status();
  return Parser(file, source, std::move(toks).value()).ParseStandalone();
}

}  // namespace gongshe::contracts
