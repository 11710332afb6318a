#include "contracts/checker.h"

#include <algorithm>

#include "contracts/interpreter.h"
#include "contracts/parser.h"

namespace gongshe::contracts {
namespace {

constexpr int kMaxSlots = 256;

const std::vector<HostFunction>& HostFunctions() {
  static const std::vector<HostFunction> kFunctions = {
      {"issued", {Base::kVoucherClass, Base::kEpoch}, Base::kCredits, Exec::kHostIssued},
      {"issued_to", {Base::kMember, Base::kVoucherClass, Base::kEpoch}, Base::kCredits, Exec::kHostIssuedTo},
      {"plan_exists", {Base::kEpoch}, Base::kBoolean, Exec::kHostPlanExists},
      {"plan_cap", {Base::kEpoch}, Base::kCredits, Exec::kHostPlanCap},
      {"balance", {Base::kMember, Base::kVoucherClass}, Base::kCredits, Exec::kHostBalance},
  };
  return kFunctions;
}

struct Local {
  std::string name;
  int slot;
  TypeRef type;
  Pos pos;
};

// What a name may refer to while checking one expression.
struct Scope {
  const Module* module = nullptr;  // parameters visible when set
  bool constant = false;           // no `today`, no ledger reads
  std::vector<Local> locals;
  int next_slot = 0;
};

bool IsNumber(const Type& t) { return IsNumeric(t.base); }
bool IsIndex(Base b) { return b == Base::kDate || b == Base::kWeek || b == Base::kEpoch; }

class Checker {
 public:
  explicit Checker(const std::string& file) : file_(file) {}

  Status Error(Pos pos, const std::string& message) const { return SourceError("LAW_TYPE", file_, pos, message); }

  Status CheckModule(Module& m) {
    GS_RETURN_IF_ERROR(CheckParams(m));
    if (m.rules.empty()) return Error(m.pos, "the law has no rules: add at least one 'on HOOK(...)' rule");
    if (m.rules.size() > 64) return Error(m.rules[64].pos, "a law has at most 64 rules");
    for (Rule& r : m.rules) {
      GS_RETURN_IF_ERROR(CheckRule(m, r));
      r.citation = Citation(m, r.section);
    }
    if (m.tests.size() > 256) return Error(m.tests[256].pos, "a law has at most 256 tests");
    for (size_t i = 0; i < m.tests.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (m.tests[j].name == m.tests[i].name) return Error(m.tests[i].pos, "two tests are named \"" + m.tests[i].name + "\"");
      }
      GS_RETURN_IF_ERROR(CheckTest(m.tests[i]));
    }
    return Status::Ok();
  }

  // Every type a module forms (declared, or of a list or record literal) stays within the bounds
  // on one value (types.h), so no value can grow beyond them however values are combined.
  Status CheckValueBounds(Pos pos, const Type& t) const {
    if (NestingDepth(t) > kMaxValueDepth) {
      return Error(pos, "lists and records nest at most " + std::to_string(kMaxValueDepth) + " deep, but " + TypeName(t) +
                            " nests " + std::to_string(NestingDepth(t)));
    }
    if (MaxLeaves(t) > kMaxValueLeaves) {
      return Error(pos, "a value holds at most " + std::to_string(kMaxValueLeaves) + " numbers, names or texts in all, but " +
                            TypeName(t) + " could hold more");
    }
    return Status::Ok();
  }

  // A constant of the expected type, evaluated.
  Result<Value> Constant(Expr& e, const Type& expected, const std::string& what) {
    Scope scope;
    scope.constant = true;
    GS_RETURN_IF_ERROR(CheckExpr(e, scope, &expected));
    if (!Assignable(*e.type, expected)) {
      return Error(e.pos, what + " must be " + TypeName(expected) + ", but this is " + TypeName(*e.type));
    }
    WidenTo(e, expected);
    return EvalConstant(file_, e);
  }

 private:
  // --- module parts ---
  Status CheckParams(Module& m) {
    for (size_t i = 0; i < m.params.size(); ++i) {
      Param& p = m.params[i];
      for (size_t j = 0; j < i; ++j) {
        if (m.params[j].name == p.name) {
          return Error(p.pos, "the parameter '" + p.name + "' is already defined at line " + std::to_string(m.params[j].pos.line));
        }
      }
      GS_RETURN_IF_ERROR(CheckValueBounds(p.pos, *p.type));
      for (size_t k = 0; k < p.values.size(); ++k) {
        ParamValue& v = p.values[k];
        if (k > 0 && p.values[k - 1].from_day && *v.from_day <= *p.values[k - 1].from_day) {
          return Error(v.pos, "the dates of '" + p.name + "' must increase: each 'then ... from DATE' after the one before");
        }
        Result<Value> value = Constant(*v.expr, *p.type, "the value of '" + p.name + "'");
        if (!value.ok()) return value.status();
        v.value = std::move(value).value();
      }
    }
    if (m.params.size() > 64) return Error(m.params[64].pos, "a law has at most 64 parameters");
    return Status::Ok();
  }

  Status CheckRule(Module& m, Rule& r) {
    std::optional<Hook> hook = HookFromName(r.hook_name);
    if (!hook) {
      return Error(r.pos, "there is no hook '" + r.hook_name +
                              "'; the hooks are attendance_recorded, week_closed, epoch_closed, issuance_requested, "
                              "redemption_requested and proposal_tallied");
    }
    r.hook = *hook;
    std::span<const HookParam> sig = HookParams(r.hook);
    std::string expected = r.hook_name + "(";
    for (size_t i = 0; i < sig.size(); ++i) {
      expected += (i ? ", " : "") + std::string(sig[i].name) + ": " + TypeName(*Type::Of(sig[i].type));
    }
    expected += ")";
    if (r.params.size() != sig.size()) {
      return Error(r.pos, "the hook takes " + std::to_string(sig.size()) + " arguments: " + expected);
    }
    Scope scope;
    scope.module = &m;
    for (size_t i = 0; i < sig.size(); ++i) {
      if (r.params[i].first != sig[i].name || !SameType(*r.params[i].second, *Type::Of(sig[i].type))) {
        return Error(r.param_pos[i], "argument " + std::to_string(i + 1) + " must be '" + std::string(sig[i].name) + ": " +
                                         TypeName(*Type::Of(sig[i].type)) + "'; the hook is " + expected);
      }
      GS_RETURN_IF_ERROR(Declare(scope, r.params[i].first, r.params[i].second, r.param_pos[i]));
    }
    GS_RETURN_IF_ERROR(CheckBlock(r.body, scope));
    r.slot_count = maxslots_;
    maxslots_ = 0;
    return Status::Ok();
  }

  Status Declare(Scope& scope, const std::string& name, TypeRef type, Pos pos) {
    for (const Local& l : scope.locals) {
      if (l.name == name) return Error(pos, "'" + name + "' is already defined at line " + std::to_string(l.pos.line));
    }
    if (scope.module) {
      for (const Param& p : scope.module->params) {
        if (p.name == name) return Error(pos, "'" + name + "' is already a parameter (line " + std::to_string(p.pos.line) + ")");
      }
    }
    if (scope.next_slot >= kMaxSlots) return Error(pos, "a rule has at most 256 names");
    scope.locals.push_back({name, scope.next_slot++, std::move(type), pos});
    maxslots_ = std::max(maxslots_, scope.next_slot);
    return Status::Ok();
  }

  Status CheckBlock(std::vector<StmtPtr>& body, Scope& scope) {
    size_t saved_locals = scope.locals.size();
    int saved_slot = scope.next_slot;
    for (StmtPtr& s : body) GS_RETURN_IF_ERROR(CheckStmt(*s, scope));
    scope.locals.resize(saved_locals);
    scope.next_slot = saved_slot;
    return Status::Ok();
  }

  Status Expect(Expr& e, Scope& scope, const Type& type, const std::string& what) {
    GS_RETURN_IF_ERROR(CheckExpr(e, scope, &type));
    if (!Assignable(*e.type, type)) return Error(e.pos, what + " must be " + TypeName(type) + ", but this is " + TypeName(*e.type));
    WidenTo(e, type);
    return Status::Ok();
  }

  Status CheckStmt(Stmt& s, Scope& scope) {
    switch (s.kind) {
      case Stmt::Kind::kLet:
        GS_RETURN_IF_ERROR(CheckExpr(*s.value, scope, nullptr));
        GS_RETURN_IF_ERROR(Declare(scope, s.name, s.value->type, s.pos));
        s.slot = scope.locals.back().slot;
        return Status::Ok();
      case Stmt::Kind::kWhen:
        GS_RETURN_IF_ERROR(Expect(*s.value, scope, *Type::Of(Base::kBoolean), "the condition after 'when'"));
        GS_RETURN_IF_ERROR(CheckBlock(s.then_body, scope));
        return CheckBlock(s.else_body, scope);
      case Stmt::Kind::kIssue:
        GS_RETURN_IF_ERROR(Expect(*s.voucher_class, scope, *Type::Of(Base::kVoucherClass),
                                  "what follows 'issue' (guarantee, consumption or special)"));
        GS_RETURN_IF_ERROR(Expect(*s.target, scope, *Type::Of(Base::kMember), "the recipient after 'to'"));
        GS_RETURN_IF_ERROR(Expect(*s.value, scope, *Type::Of(Base::kCredits), "the amount"));
        return CheckTemplate(s.reason, scope);
      case Stmt::Kind::kReject: return CheckTemplate(s.reason, scope);
      case Stmt::Kind::kRecord: return CheckExpr(*s.value, scope, nullptr);
    }
    return Status::Ok();
  }

  Status CheckTemplate(Template& t, Scope& scope) {
    for (TemplatePart& part : t.parts) {
      if (part.expr) GS_RETURN_IF_ERROR(CheckExpr(*part.expr, scope, nullptr));
    }
    return Status::Ok();
  }

  Status CheckTest(TestCase& t) {
    for (Given& g : t.givens) {
      if (g.function == "today") {
        Result<Value> v = Constant(*g.value, *Type::Of(Base::kDate), "'today'");
        if (!v.ok()) return v.status();
        continue;
      }
      const HostFunction* f = FindHostFunction(g.function);
      if (!f) {
        return Error(g.pos, "'given' sets 'today' or a ledger reading (issued, issued_to, plan_exists, plan_cap, "
                            "balance), not '" + g.function + "'");
      }
      if (f->exec == Exec::kHostPlanExists) {
        return Error(g.pos, "set plan_cap(...) instead: a plan exists exactly when it has a cap");
      }
      GS_RETURN_IF_ERROR(CheckCallArgs(*f, g.args, g.pos));
      Result<Value> v = Constant(*g.value, *Type::Of(f->result), "the value of " + g.function + "(...)");
      if (!v.ok()) return v.status();
    }
    std::optional<Hook> hook = HookFromName(t.hook_name);
    if (!hook) return Error(t.call_pos, "there is no hook '" + t.hook_name + "' to test");
    t.hook = *hook;
    std::span<const HookParam> sig = HookParams(t.hook);
    if (t.args.size() != sig.size()) {
      return Error(t.call_pos, t.hook_name + " takes " + std::to_string(sig.size()) + " arguments, not " + std::to_string(t.args.size()));
    }
    for (size_t i = 0; i < sig.size(); ++i) {
      Result<Value> v = Constant(*t.args[i], *Type::Of(sig[i].type), "argument '" + std::string(sig[i].name) + "'");
      if (!v.ok()) return v.status();
    }
    for (Expectation& e : t.expects) {
      if (e.kind == Stmt::Kind::kIssue) {
        GS_RETURN_IF_ERROR(Constant(*e.voucher_class, *Type::Of(Base::kVoucherClass), "the voucher class").status());
        GS_RETURN_IF_ERROR(Constant(*e.target, *Type::Of(Base::kMember), "the recipient").status());
        GS_RETURN_IF_ERROR(Constant(*e.value, *Type::Of(Base::kCredits), "the amount").status());
      } else if (e.kind == Stmt::Kind::kRecord) {
        Scope scope;
        scope.constant = true;
        GS_RETURN_IF_ERROR(CheckExpr(*e.value, scope, nullptr));
        GS_RETURN_IF_ERROR(EvalConstant(file_, *e.value).status());
      }
    }
    return Status::Ok();
  }

  Status CheckCallArgs(const HostFunction& f, std::vector<ExprPtr>& args, Pos pos) {
    if (args.size() != f.params.size()) {
      return Error(pos, std::string(f.name) + " takes " + std::to_string(f.params.size()) + " arguments, not " +
                            std::to_string(args.size()));
    }
    for (size_t i = 0; i < args.size(); ++i) {
      Result<Value> v = Constant(*args[i], *Type::Of(f.params[i]), "argument " + std::to_string(i + 1) + " of " + std::string(f.name));
      if (!v.ok()) return v.status();
    }
    return Status::Ok();
  }

  // --- expressions ---
  void WidenTo(Expr& e, const Type& target) {
    if (e.type->base == Base::kCount && target.base == Base::kRatio) Widen(e);
  }
  // Wraps e (a count) in a widening node, in place.
  static void Widen(Expr& e) {
    auto inner = std::make_unique<Expr>(std::move(e));
    e = Expr();
    e.kind = Expr::Kind::kUnary;
    e.pos = inner->pos;
    e.exec = Exec::kWiden;
    e.type = Type::Of(Base::kRatio);
    e.args.push_back(std::move(inner));
  }

  Status CheckExpr(Expr& e, Scope& scope, const Type* expected) {
    switch (e.kind) {
      case Expr::Kind::kNumber: return CheckNumber(e);
      case Expr::Kind::kDate: {
        std::optional<int64_t> day = DaysFromCivil(std::stoi(e.text.substr(0, 4)), std::stoi(e.text.substr(5, 2)), std::stoi(e.text.substr(8, 2)));
        if (!day) return Error(e.pos, "there is no date " + e.text);
        return Const(e, Base::kDate, Value::Number(*day));
      }
      case Expr::Kind::kString:
        if (e.text.size() > kMaxTextBytes) return Error(e.pos, "a text value is at most 1024 bytes");
        return Const(e, Base::kText, Value::Text(e.text));
      case Expr::Kind::kMember:
        if (!IsValidMemberId(e.text)) return Error(e.pos, "a member is '@' and 1 to 64 letters, digits, '_' or '-'");
        return Const(e, Base::kMember, Value::Text(e.text));
      case Expr::Kind::kCategory:
        if (!IsValidCategoryName(e.text)) return Error(e.pos, "a category is '#' and 1 to 64 of a-z, 0-9, '_' or '-'");
        return Const(e, Base::kCategory, Value::Text(e.text));
      case Expr::Kind::kIndex: {
        if (e.text.find('.') != std::string::npos || e.text.size() > 12) {
          return Error(e.pos, "a " + TypeName(*Type::Of(e.unit)) + " number is a whole number below 10^12");
        }
        return Const(e, e.unit, Value::Number(std::stoll(e.text)));
      }
      case Expr::Kind::kName: return CheckName(e, scope);
      case Expr::Kind::kList: return CheckList(e, scope, expected);
      case Expr::Kind::kRecord: return CheckRecord(e, scope);
      case Expr::Kind::kField: return CheckField(e, scope);
      case Expr::Kind::kUnary: return CheckUnary(e, scope);
      case Expr::Kind::kBinary: return CheckBinary(e, scope);
      case Expr::Kind::kCall: return CheckCall(e, scope);
    }
    return Error(e.pos, "unknown expression");
  }

  static Status Const(Expr& e, Base base, Value v) {
    e.type = Type::Of(base);
    e.exec = Exec::kConst;
    e.constant = std::move(v);
    return Status::Ok();
  }

  // Digits in e.text, exactly converted to the unit's fixed-point form.
  Status CheckNumber(Expr& e) {
    std::string whole = e.text, frac;
    int64_t extra_minutes = 0;
    if (e.unit == Base::kHours) {
      size_t h = e.text.find('h');
      if (h != std::string::npos) {  // "5h30" (from 5h30min) or "0h30" (from 30min)
        whole = e.text.substr(0, h);
        std::string minutes = e.text.substr(h + 1);
        if (minutes.find('.') != std::string::npos || minutes.size() > 12) return Error(e.pos, "minutes must be a whole number");
        extra_minutes = std::stoll(minutes);
        if (whole != "0" && extra_minutes >= 60) return Error(e.pos, "write at most 59 minutes after the hours");
      }
    }
    size_t dot = whole.find('.');
    if (dot != std::string::npos) {
      frac = whole.substr(dot + 1);
      whole = whole.substr(0, dot);
    }
    if (whole.size() > 18) return Error(e.pos, "the number " + e.text + " is too large");
    int64_t scale = 1;
    size_t max_decimals = 0;
    switch (e.unit) {
      case Base::kCredits:
      case Base::kRate: scale = kCreditScale, max_decimals = 3; break;
      case Base::kRatio: scale = kRatioScale, max_decimals = 6; break;
      case Base::kHours: scale = kMinutesPerHour, max_decimals = 6; break;
      default: break;
    }
    if (frac.size() > max_decimals) {
      return Error(e.pos, e.unit == Base::kCount ? "a count is a whole number"
                                                 : TypeName(*Type::Of(e.unit)) + " have at most " + std::to_string(max_decimals) + " decimals");
    }
    // value = whole * scale + frac * scale / 10^len(frac), exact or an error.
    __int128 pow10 = 1;
    for (size_t k = 0; k < frac.size(); ++k) pow10 *= 10;
    __int128 f = frac.empty() ? 0 : std::stoll(frac);
    __int128 numerator = f * scale;
    if (numerator % pow10 != 0) return Error(e.pos, "hours must come to a whole number of minutes");
    __int128 v = static_cast<__int128>(std::stoll(whole)) * scale + numerator / pow10 + extra_minutes;
    if (v > INT64_MAX) return Error(e.pos, "the number " + e.text + " is too large");
    return Const(e, e.unit, Value::Number(static_cast<int64_t>(v)));
  }

  Status CheckName(Expr& e, Scope& scope) {
    for (auto it = scope.locals.rbegin(); it != scope.locals.rend(); ++it) {
      if (it->name == e.text) {
        e.type = it->type;
        e.exec = Exec::kLocal;
        e.slot = it->slot;
        return Status::Ok();
      }
    }
    if (scope.module) {
      for (size_t i = 0; i < scope.module->params.size(); ++i) {
        const Param& p = scope.module->params[i];
        if (p.name != e.text) continue;
        e.type = p.type;
        if (p.values.size() == 1) {
          e.exec = Exec::kConst;
          e.constant = p.values[0].value;
        } else {
          e.exec = Exec::kParam;
        }
        e.slot = static_cast<int>(i);
        return Status::Ok();
      }
    }
    if (e.text == "true" || e.text == "false") return Const(e, Base::kBoolean, Value::Number(e.text == "true"));
    if (std::optional<VoucherClass> c = VoucherClassFromName(e.text)) {
      return Const(e, Base::kVoucherClass, Value::Number(static_cast<int64_t>(*c)));
    }
    if (e.text == "today") {
      if (scope.constant) return Error(e.pos, "'today' is not known here; write a date such as 2026-01-01");
      e.type = Type::Of(Base::kDate);
      e.exec = Exec::kToday;
      return Status::Ok();
    }
    if (scope.constant) return Error(e.pos, "expected a value written out, found the name '" + e.text + "'");
    return Error(e.pos, "unknown name '" + e.text + "'");
  }

  Status CheckList(Expr& e, Scope& scope, const Type* expected) {
    const Type* element_hint = expected && expected->base == Base::kList ? expected->element.get() : nullptr;
    if (e.args.empty()) {
      if (!element_hint) return Error(e.pos, "an empty list [] needs a declared type, as in 'param x : list of category up to 8 = []'");
      e.type = Type::ListOf(expected->element, 0);
    } else {
      TypeRef element;
      for (ExprPtr& item : e.args) {
        GS_RETURN_IF_ERROR(CheckExpr(*item, scope, element_hint));
        if (!element) element = element_hint && Assignable(*item->type, *element_hint) ? expected->element : item->type;
        if (!Assignable(*item->type, *element)) {
          return Error(item->pos, "every element of a list must be " + TypeName(*element) + ", but this is " + TypeName(*item->type));
        }
        WidenTo(*item, *element);
      }
      e.type = Type::ListOf(element, static_cast<uint32_t>(e.args.size()));
      GS_RETURN_IF_ERROR(CheckValueBounds(e.pos, *e.type));
    }
    e.exec = Exec::kList;
    return FoldIfConstant(e);
  }

  Status CheckRecord(Expr& e, Scope& scope) {
    std::vector<std::pair<std::string, TypeRef>> fields;
    for (size_t i = 0; i < e.args.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (e.field_names[j] == e.field_names[i]) return Error(e.args[i]->pos, "the field '" + e.field_names[i] + "' appears twice");
      }
      GS_RETURN_IF_ERROR(CheckExpr(*e.args[i], scope, nullptr));
      fields.emplace_back(e.field_names[i], e.args[i]->type);
    }
    if (fields.empty()) return Error(e.pos, "a record needs at least one field");
    e.type = Type::RecordOf(std::move(fields));
    GS_RETURN_IF_ERROR(CheckValueBounds(e.pos, *e.type));
    e.exec = Exec::kRecord;
    return FoldIfConstant(e);
  }

  Status FoldIfConstant(Expr& e) {
    for (const ExprPtr& a : e.args) {
      if (a->exec != Exec::kConst) return Status::Ok();
    }
    Result<Value> v = EvalConstant(file_, e);
    if (!v.ok()) return v.status();
    e.constant = std::move(v).value();
    e.exec = Exec::kConst;
    e.args.clear();
    return Status::Ok();
  }

  Status CheckField(Expr& e, Scope& scope) {
    GS_RETURN_IF_ERROR(CheckExpr(*e.args[0], scope, nullptr));
    const Type& rt = *e.args[0]->type;
    if (rt.base != Base::kRecord) return Error(e.pos, "'." + e.text + "' needs a record, but this is " + TypeName(rt));
    for (size_t i = 0; i < rt.fields.size(); ++i) {
      if (rt.fields[i].first == e.text) {
        e.type = rt.fields[i].second;
        e.exec = Exec::kField;
        e.slot = static_cast<int>(i);
        return Status::Ok();
      }
    }
    return Error(e.pos, "the record " + TypeName(rt) + " has no field '" + e.text + "'");
  }

  Status CheckUnary(Expr& e, Scope& scope) {
    GS_RETURN_IF_ERROR(CheckExpr(*e.args[0], scope, nullptr));
    const Type& t = *e.args[0]->type;
    if (e.op == Op::kNot) {
      if (t.base != Base::kBoolean) return Error(e.pos, "'not' needs a boolean, but this is " + TypeName(t));
      e.exec = Exec::kNot;
    } else {
      if (!IsNumber(t)) return Error(e.pos, "'-' needs a number, but this is " + TypeName(t));
      e.exec = Exec::kNeg;
    }
    e.type = e.args[0]->type;
    return Status::Ok();
  }

  static std::string_view OpWord(Op op) {
    switch (op) {
      case Op::kAdd: return "add";
      case Op::kSub: return "subtract";
      case Op::kMul: return "multiply";
      case Op::kDiv: return "divide";
      default: return "compare";
    }
  }

  Status CheckBinary(Expr& e, Scope& scope) {
    Expr& a = *e.args[0];
    Expr& b = *e.args[1];
    GS_RETURN_IF_ERROR(CheckExpr(a, scope, nullptr));
    GS_RETURN_IF_ERROR(CheckExpr(b, scope, e.op == Op::kIn ? nullptr : a.type.get()));
    Base x = a.type->base, y = b.type->base;
    // A count meets a ratio: the count widens, exactly.
    if (x == Base::kCount && y == Base::kRatio && e.op != Op::kMul && e.op != Op::kDiv) Widen(a), x = Base::kRatio;
    if (y == Base::kCount && x == Base::kRatio && e.op != Op::kMul && e.op != Op::kDiv) Widen(b), y = Base::kRatio;
    auto mismatch = [&](std::string_view why) {
      return Error(e.pos, "cannot " + std::string(OpWord(e.op)) + " " + TypeName(*a.type) + (e.op == Op::kMul ? " by " : e.op == Op::kDiv ? " by " : e.op == Op::kSub ? " and " : " and ") +
                              TypeName(*b.type) + std::string(why));
    };
    switch (e.op) {
      case Op::kAnd:
      case Op::kOr:
        if (x != Base::kBoolean || y != Base::kBoolean) {
          return Error(e.pos, std::string("'") + (e.op == Op::kAnd ? "and" : "or") + "' joins two booleans, but here are " +
                                  TypeName(*a.type) + " and " + TypeName(*b.type));
        }
        e.exec = e.op == Op::kAnd ? Exec::kAnd : Exec::kOr;
        e.type = Type::Of(Base::kBoolean);
        return Status::Ok();
      case Op::kIn:
        if (y != Base::kList || !Assignable(*a.type, *b.type->element)) {
          return Error(e.pos, "'in' needs a value and a list of that kind, but here are " + TypeName(*a.type) + " and " + TypeName(*b.type));
        }
        WidenTo(a, *b.type->element);
        e.exec = Exec::kIn;
        e.type = Type::Of(Base::kBoolean);
        return Status::Ok();
      case Op::kEq:
      case Op::kNe: {
        if (!SameType(*a.type, *b.type) && !(x == Base::kList && y == Base::kList && SameType(*a.type->element, *b.type->element))) {
          return mismatch(": they are different kinds of value");
        }
        bool deep = x == Base::kText || x == Base::kMember || x == Base::kCategory || x == Base::kList || x == Base::kRecord;
        e.exec = e.op == Op::kEq ? (deep ? Exec::kEqDeep : Exec::kEq) : (deep ? Exec::kNeDeep : Exec::kNe);
        e.type = Type::Of(Base::kBoolean);
        return Status::Ok();
      }
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        if (x != y || !(IsNumeric(x) || IsIndex(x))) return mismatch(": only numbers of one unit, dates, weeks or epochs compare");
        e.exec = e.op == Op::kLt ? Exec::kLt : e.op == Op::kLe ? Exec::kLe : e.op == Op::kGt ? Exec::kGt : Exec::kGe;
        e.type = Type::Of(Base::kBoolean);
        return Status::Ok();
      case Op::kAdd:
      case Op::kSub: return CheckAdditive(e, x, y, mismatch);
      case Op::kMul: return CheckMultiply(e, x, y, mismatch);
      case Op::kDiv: return CheckDivide(e, x, y, mismatch);
      default: break;
    }
    return Error(e.pos, "unknown operator");
  }

  template <typename Mismatch>
  Status CheckAdditive(Expr& e, Base x, Base y, Mismatch& mismatch) {
    e.exec = e.op == Op::kAdd ? Exec::kAdd : Exec::kSub;
    if (x == y && IsNumeric(x)) {
      e.type = e.args[0]->type;
      return Status::Ok();
    }
    if (IsIndex(x) && y == Base::kCount) {
      e.type = e.args[0]->type;
      return Status::Ok();
    }
    if (e.op == Op::kAdd && x == Base::kCount && IsIndex(y)) {
      e.type = e.args[1]->type;
      return Status::Ok();
    }
    if (e.op == Op::kSub && x == y && IsIndex(x)) {
      e.type = Type::Of(Base::kCount);
      return Status::Ok();
    }
    return mismatch(": both sides must have the same unit");
  }

  template <typename Mismatch>
  Status CheckMultiply(Expr& e, Base x, Base y, Mismatch& mismatch) {
    e.exec = Exec::kMulDiv;
    auto result = [&](Base b, int64_t scale) {
      e.type = Type::Of(b);
      e.scale = scale;
      return Status::Ok();
    };
    if (x == Base::kCount && IsNumeric(y)) return result(y, 1);
    if (y == Base::kCount && IsNumeric(x)) return result(x, 1);
    if (x == Base::kRatio && IsNumeric(y)) return result(y, kRatioScale);
    if (y == Base::kRatio && IsNumeric(x)) return result(x, kRatioScale);
    if ((x == Base::kHours && y == Base::kRate) || (x == Base::kRate && y == Base::kHours)) {
      return result(Base::kCredits, kMinutesPerHour);
    }
    return mismatch(x == Base::kHours && y == Base::kCredits
                        ? ": hours times credits per hour gives credits; did you mean a rate?"
                        : ": numbers multiply by counts and ratios, and hours by credits per hour");
  }

  template <typename Mismatch>
  Status CheckDivide(Expr& e, Base x, Base y, Mismatch& mismatch) {
    e.exec = Exec::kScaledDiv;
    auto result = [&](Base b, int64_t scale) {
      e.type = Type::Of(b);
      e.scale = scale;
      return Status::Ok();
    };
    if (x == Base::kCount && y == Base::kCount) return result(Base::kRatio, kRatioScale);
    if (x == Base::kCount && y == Base::kRatio) return result(Base::kRatio, kRatioScale * kRatioScale);
    if (IsNumeric(x) && y == Base::kCount) return result(x, 1);
    if (IsNumeric(x) && y == Base::kRatio) return result(x, kRatioScale);
    if (x == y && IsNumeric(x)) return result(Base::kRatio, kRatioScale);
    if (x == Base::kCredits && y == Base::kHours) return result(Base::kRate, kMinutesPerHour);
    if (x == Base::kCredits && y == Base::kRate) return result(Base::kHours, kMinutesPerHour);
    return mismatch(": these units do not divide");
  }

  Status CheckCall(Expr& e, Scope& scope) {
    if (e.text == "min" || e.text == "max") return CheckMinMax(e, scope);
    if (e.text == "count" || e.text == "sum") {
      if (e.args.size() != 1) return Error(e.pos, e.text + " takes one list");
      GS_RETURN_IF_ERROR(CheckExpr(*e.args[0], scope, nullptr));
      const Type& t = *e.args[0]->type;
      if (t.base != Base::kList) return Error(e.pos, e.text + " needs a list, but this is " + TypeName(t));
      if (e.text == "count") {
        e.exec = Exec::kCount;
        e.type = Type::Of(Base::kCount);
      } else {
        if (!IsNumeric(t.element->base)) return Error(e.pos, "sum needs a list of numbers, but this is " + TypeName(t));
        e.exec = Exec::kSum;
        e.type = t.element;
      }
      return Status::Ok();
    }
    const HostFunction* f = FindHostFunction(e.text);
    if (!f) {
      return Error(e.pos, "unknown function '" + e.text + "'; the functions are min, max, count, sum, issued, issued_to, "
                          "plan_exists, plan_cap and balance");
    }
    if (scope.constant) return Error(e.pos, "the ledger cannot be read here: write a value");
    if (e.args.size() != f->params.size()) {
      return Error(e.pos, e.text + " takes " + std::to_string(f->params.size()) + " arguments, not " + std::to_string(e.args.size()));
    }
    for (size_t i = 0; i < e.args.size(); ++i) {
      GS_RETURN_IF_ERROR(Expect(*e.args[i], scope, *Type::Of(f->params[i]), "argument " + std::to_string(i + 1) + " of " + e.text));
    }
    e.exec = f->exec;
    e.type = Type::Of(f->result);
    return Status::Ok();
  }

  Status CheckMinMax(Expr& e, Scope& scope) {
    if (e.args.size() < 2 || e.args.size() > 8) return Error(e.pos, e.text + " takes 2 to 8 values");
    bool any_ratio = false;
    for (ExprPtr& a : e.args) {
      GS_RETURN_IF_ERROR(CheckExpr(*a, scope, nullptr));
      any_ratio = any_ratio || a->type->base == Base::kRatio;
    }
    TypeRef t = any_ratio ? Type::Of(Base::kRatio) : e.args[0]->type;
    for (ExprPtr& a : e.args) {
      if (!Assignable(*a->type, *t) || !(IsNumeric(t->base) || IsIndex(t->base))) {
        return Error(a->pos, e.text + " needs values of one unit, but here are " + TypeName(*e.args[0]->type) + " and " + TypeName(*a->type));
      }
      WidenTo(*a, *t);
    }
    e.exec = e.text == "min" ? Exec::kMin : Exec::kMax;
    e.type = t;
    return Status::Ok();
  }

  const std::string& file_;
  int maxslots_ = 0;
};

}  // namespace

const HostFunction* FindHostFunction(std::string_view name) {
  for (const HostFunction& f : HostFunctions()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Status CheckModule(Module& module) { return Checker(module.file).CheckModule(module); }

Result<Value> CheckConstant(const std::string& file, Expr& expr, const Type& expected) {
  return Checker(file).Constant(expr, expected, "the value");
}

}  // namespace gongshe::contracts
