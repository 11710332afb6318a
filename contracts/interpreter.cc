#include "contracts/interpreter.h"

#include <algorithm>
#include <array>

namespace gongshe::contracts {
namespace {

constexpr size_t kMaxFrameSlots = 256;
// A value in the trace is written out up to this many bytes (then "…"): an explanation stays
// readable and small whatever the values.
constexpr size_t kMaxTraceValueBytes = 256;

template <bool kMetered>
class Evaluator {
 public:
  Evaluator(const Module& m, const LawHost* host, const RunOptions& options)
      : m_(m), host_(host), options_(options), fuel_(options.fuel) {}

  Result<Outcome> Run(Hook hook, std::span<const Value> args) {
    if (args.size() != HookParams(hook).size()) {
      return Status("LAW_BAD_ARGS", std::string(HookName(hook)) + " takes " + std::to_string(HookParams(hook).size()) +
                                        " arguments, not " + std::to_string(args.size()));
    }
    size_t slots = 0;
    for (const Rule& r : m_.rules) slots = std::max(slots, static_cast<size_t>(r.slot_count));
    // Most rules need a few slots: those live in the evaluator, with no allocation.
    if (slots > kInlineSlots) {
      spilled_.resize(slots);
      frame_ = spilled_.data();
    }
    for (const Rule& r : m_.rules) {
      if (r.hook != hook) continue;
      GS_ASSERT(static_cast<size_t>(r.slot_count) <= kMaxFrameSlots);
      GS_ASSERT(args.size() == r.params.size());
      rule_ = &r;
      for (size_t i = 0; i < args.size(); ++i) frame_[i] = args[i];
      if (options_.explain) TraceRuleStart(r, args);
      if (!ExecBlock(r.body, 1)) return std::move(error_);
      if (rejected_) break;
    }
    out_.fuel_used = options_.fuel - fuel_;
    return std::move(out_);
  }

  Result<Value> Constant(const Expr& e) {
    Value v;
    if (!Eval(e, v)) return std::move(error_);
    return v;
  }

 private:
  // --- errors and fuel ---
  bool Fail(std::string_view code, Pos pos, const std::string& message) {
    error_ = SourceError(code, m_.file, pos, message);
    return false;
  }
  // Charged at every node: the check stays inline and the error's construction out of line.
  bool Charge(Pos pos, uint64_t units) {
    if constexpr (kMetered) {
      if (fuel_ < units) [[unlikely]] return OutOfFuel(pos);
      fuel_ -= units;
    } else {
      (void)pos;
      (void)units;
    }
    return true;
  }
  [[gnu::noinline, gnu::cold]] bool OutOfFuel(Pos pos) {
    return Fail("LAW_OUT_OF_FUEL", pos, "out of fuel: the run used its whole allowance of " + std::to_string(options_.fuel) + " steps");
  }
  bool Overflow(const Expr& e) { return Fail("LAW_OVERFLOW", e.pos, "overflow: the result is too large to hold exactly"); }

  // The value of parameter `index` in force on `today`: the last whose effective date has come.
  const Value& ParamValue(size_t index) const {
    const Param& p = m_.params[index];
    size_t chosen = 0;
    for (size_t k = 1; k < p.values.size(); ++k) {
      if (*p.values[k].from_day <= options_.today) chosen = k;
    }
    return p.values[chosen].value;
  }

  // --- statements ---
  bool ExecBlock(const std::vector<StmtPtr>& body, int depth) {
    for (const StmtPtr& s : body) {
      if (!Exec(*s, depth)) return false;
      if (rejected_) return true;
    }
    return true;
  }

  bool Exec(const Stmt& s, int depth) {
    if (!Charge(s.pos, 1)) return false;
    switch (s.kind) {
      case Stmt::Kind::kLet: {
        if (!Eval(*s.value, frame_[s.slot])) return false;
        if (options_.explain) Trace(depth, "let " + s.name + " = " + s.source + " = " + TraceValue(*s.value->type, frame_[s.slot]));
        return true;
      }
      case Stmt::Kind::kWhen: {
        Value c;
        if (!Eval(*s.value, c)) return false;
        if (options_.explain) Trace(depth, "when " + s.source + ": " + (c.number ? "yes" : "no"));
        return ExecBlock(c.number ? s.then_body : s.else_body, depth + 1);
      }
      case Stmt::Kind::kIssue: return ExecIssue(s, depth);
      case Stmt::Kind::kReject: {
        Effect e;
        e.kind = Effect::Kind::kReject;
        if (!Format(s.reason, e.reason)) return false;
        rejected_ = true;
        return Emit(s.pos, std::move(e), depth);
      }
      case Stmt::Kind::kRecord: {
        Effect e;
        e.kind = Effect::Kind::kRecord;
        e.figure = s.name;
        e.figure_type = s.value->type;
        if (!Eval(*s.value, e.figure_value)) return false;
        if (FormatValue(*e.figure_type, e.figure_value, kMaxTextBytes).size() > kMaxTextBytes) {
          return Fail("LAW_BAD_EFFECT", s.pos, "the figure '" + s.name + "' is longer than 1024 bytes when written out");
        }
        return Emit(s.pos, std::move(e), depth);
      }
    }
    return true;
  }

  bool ExecIssue(const Stmt& s, int depth) {
    Value cls, who, amount;
    if (!Eval(*s.voucher_class, cls) || !Eval(*s.target, who) || !Eval(*s.value, amount)) return false;
    if (amount.number <= 0) {
      return Fail("LAW_BAD_EFFECT", s.pos,
                  "the amount to issue is " + FormatValue(*s.value->type, amount) + "; it must be more than 0 credits");
    }
    Effect e;
    e.kind = Effect::Kind::kIssue;
    e.voucher_class = static_cast<VoucherClass>(cls.number);
    e.member = who.str();
    e.amount = amount.number;
    if (!Format(s.reason, e.reason)) return false;
    return Emit(s.pos, std::move(e), depth);
  }

  bool Emit(Pos pos, Effect e, int depth) {
    if (out_.effects.size() >= kMaxEffects) {
      return Fail("LAW_TOO_MANY_EFFECTS", pos, "a run may return at most " + std::to_string(kMaxEffects) + " effects");
    }
    e.citation = rule_->citation;
    if (options_.explain) Trace(depth, DescribeEffect(e));
    out_.effects.push_back(std::move(e));
    return true;
  }

  bool Format(const Template& t, std::string& out) {
    for (const TemplatePart& part : t.parts) {
      if (!Charge(t.pos, 1)) return false;
      if (!part.expr) {
        out += part.literal;
        continue;
      }
      Value v;
      if (!Eval(*part.expr, v)) return false;
      out += FormatValue(*part.expr->type, v, kMaxTextBytes);
      if (out.size() > kMaxTextBytes) return Fail("LAW_BAD_EFFECT", t.pos, "the reason is longer than 1024 bytes");
    }
    return true;
  }

  // --- trace ---
  static std::string TraceValue(const Type& t, const Value& v) { return FormatValue(t, v, kMaxTraceValueBytes); }

  void Trace(int depth, std::string line) {
    if (out_.trace.size() >= kMaxTraceLines) return;
    if (out_.trace.size() + 1 == kMaxTraceLines) line = "(trace cut at " + std::to_string(kMaxTraceLines) + " lines)", depth = 0;
    out_.trace.push_back(std::string(static_cast<size_t>(depth) * 2, ' ') + line);
  }

  void TraceRuleStart(const Rule& r, std::span<const Value> args) {
    std::string line = r.citation + ", on " + r.hook_name + " (" + m_.file + ":" + std::to_string(r.pos.line) + "):";
    for (size_t i = 0; i < args.size(); ++i) {
      line += (i ? ", " : " ") + r.params[i].first + " = " + TraceValue(*r.params[i].second, args[i]);
    }
    Trace(0, line);
    if (m_.params.empty()) return;
    std::string params = "with";
    for (size_t i = 0; i < m_.params.size(); ++i) {
      params += (i ? ", " : " ") + m_.params[i].name + " = " + TraceValue(*m_.params[i].type, ParamValue(i));
    }
    Trace(1, params);
  }

  // --- expressions ---
  bool Eval(const Expr& e, Value& out) {
    if (!Charge(e.pos, 1)) return false;
    switch (e.exec) {
      case Exec::kConst: out = e.constant; return true;
      case Exec::kLocal: out = frame_[e.slot]; return true;
      case Exec::kParam: out = ParamValue(static_cast<size_t>(e.slot)); return true;
      case Exec::kToday: out = Value::Number(options_.today); return true;
      case Exec::kAnd:
      case Exec::kOr: {
        if (!Eval(*e.args[0], out)) return false;
        if ((out.number != 0) == (e.exec == Exec::kOr)) return true;
        return Eval(*e.args[1], out);
      }
      case Exec::kNot:
      case Exec::kNeg:
      case Exec::kWiden: return EvalUnary(e, out);
      case Exec::kList:
      case Exec::kRecord: return EvalAggregate(e, out);
      case Exec::kField: {
        Value r;
        if (!Eval(*e.args[0], r)) return false;
        out = r.list()[static_cast<size_t>(e.slot)];
        return true;
      }
      case Exec::kIn:
      case Exec::kCount:
      case Exec::kSum: return EvalListOp(e, out);
      case Exec::kMin:
      case Exec::kMax: return EvalMinMax(e, out);
      case Exec::kHostIssued:
      case Exec::kHostIssuedTo:
      case Exec::kHostPlanExists:
      case Exec::kHostPlanCap:
      case Exec::kHostBalance: return EvalHost(e, out);
      case Exec::kUnchecked: GS_ASSERT(false); return false;
      default: return EvalBinary(e, out);
    }
  }

  bool EvalUnary(const Expr& e, Value& out) {
    if (!Eval(*e.args[0], out)) return false;
    if (e.exec == Exec::kNot) {
      out.number = !out.number;
    } else if (e.exec == Exec::kNeg) {
      std::optional<int64_t> v = CheckedSub(0, out.number);
      if (!v) return Overflow(e);
      out.number = *v;
    } else {
      std::optional<int64_t> v = MulDiv(out.number, kRatioScale, 1);
      if (!v) return Overflow(e);
      out.number = *v;
    }
    return true;
  }

  bool EvalBinary(const Expr& e, Value& out) {
    Value a, b;
    if (!Eval(*e.args[0], a) || !Eval(*e.args[1], b)) return false;
    std::optional<int64_t> r;
    switch (e.exec) {
      case Exec::kAdd: r = CheckedAdd(a.number, b.number); break;
      case Exec::kSub: r = CheckedSub(a.number, b.number); break;
      case Exec::kMulDiv: r = MulDiv(a.number, b.number, e.scale); break;
      case Exec::kScaledDiv:
        if (b.number == 0) return Fail("LAW_DIVISION_BY_ZERO", e.pos, "division by zero");
        r = ScaledDiv(a.number, e.scale, b.number);
        break;
      case Exec::kLt: r = a.number < b.number; break;
      case Exec::kLe: r = a.number <= b.number; break;
      case Exec::kGt: r = a.number > b.number; break;
      case Exec::kGe: r = a.number >= b.number; break;
      case Exec::kEq: r = a.number == b.number; break;
      case Exec::kNe: r = a.number != b.number; break;
      case Exec::kEqDeep:
      case Exec::kNeDeep: {
        if (!Charge(e.pos, Leaves(*e.args[0]->type, a))) return false;
        bool eq = ValuesEqual(*e.args[0]->type, a, b);
        r = e.exec == Exec::kEqDeep ? eq : !eq;
        break;
      }
      default: GS_ASSERT(false);
    }
    if (!r) return Overflow(e);
    out = Value::Number(*r);
    return true;
  }

  bool EvalAggregate(const Expr& e, Value& out) {
    std::vector<Value> items(e.args.size());
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (!Eval(*e.args[i], items[i])) return false;
    }
    out = Value::Items(std::move(items));
    return true;
  }

  bool EvalListOp(const Expr& e, Value& out) {
    const Expr& list_expr = *e.args.back();
    Value list;
    if (!Eval(list_expr, list)) return false;
    const std::vector<Value>& items = list.list();
    if (!Charge(e.pos, items.size())) return false;
    if (e.exec == Exec::kCount) {
      out = Value::Number(static_cast<int64_t>(items.size()));
      return true;
    }
    if (e.exec == Exec::kSum) {
      int64_t total = 0;
      for (const Value& v : items) {
        std::optional<int64_t> t = CheckedAdd(total, v.number);
        if (!t) return Overflow(e);
        total = *t;
      }
      out = Value::Number(total);
      return true;
    }
    Value needle;
    if (!Eval(*e.args[0], needle)) return false;
    const Type& et = *list_expr.type->element;
    // Each comparison walks at most the needle's scalars (items.size() is charged above).
    if (!Charge(e.pos, items.size() * (std::max<uint64_t>(1, Leaves(et, needle)) - 1))) return false;
    bool found = false;
    for (const Value& v : items) found = found || ValuesEqual(et, needle, v);
    out = Value::Number(found);
    return true;
  }

  bool EvalMinMax(const Expr& e, Value& out) {
    if (!Eval(*e.args[0], out)) return false;
    for (size_t i = 1; i < e.args.size(); ++i) {
      Value v;
      if (!Eval(*e.args[i], v)) return false;
      if (e.exec == Exec::kMin ? v.number < out.number : v.number > out.number) out.number = v.number;
    }
    return true;
  }

  bool EvalHost(const Expr& e, Value& out) {
    GS_ASSERT(host_ != nullptr);
    if (!Charge(e.pos, kHostReadFuel)) return false;
    std::array<Value, 3> a;
    GS_ASSERT(e.args.size() <= a.size());
    for (size_t i = 0; i < e.args.size(); ++i) {
      if (!Eval(*e.args[i], a[i])) return false;
    }
    auto cls = [](const Value& v) { return static_cast<VoucherClass>(v.number); };
    Result<int64_t> n = int64_t{0};
    switch (e.exec) {
      case Exec::kHostIssued: n = host_->IssuedInEpoch(cls(a[0]), a[1].number); break;
      case Exec::kHostIssuedTo: n = host_->IssuedToMember(a[0].str(), cls(a[1]), a[2].number); break;
      case Exec::kHostBalance: n = host_->Balance(a[0].str(), cls(a[1])); break;
      case Exec::kHostPlanExists:
      case Exec::kHostPlanCap: {
        Result<std::optional<int64_t>> cap = host_->PlanCap(a[0].number);
        if (!cap.ok()) return Fail("LAW_HOST", e.pos, "reading the ledger failed: " + cap.status().ToString());
        if (e.exec == Exec::kHostPlanExists) {
          out = Value::Number(cap->has_value());
          return true;
        }
        if (!cap->has_value()) {
          return Fail("LAW_NO_PLAN", e.pos, "there is no plan for epoch " + std::to_string(a[0].number) + "; check plan_exists first");
        }
        out = Value::Number(**cap);
        return true;
      }
      default: GS_ASSERT(false);
    }
    if (!n.ok()) return Fail("LAW_HOST", e.pos, "reading the ledger failed: " + n.status().ToString());
    out = Value::Number(*n);
    return true;
  }

  const Module& m_;
  const LawHost* host_;
  const RunOptions& options_;
  uint64_t fuel_;
  static constexpr size_t kInlineSlots = 8;
  std::array<Value, kInlineSlots> inline_frame_;
  std::vector<Value> spilled_;
  Value* frame_ = inline_frame_.data();
  const Rule* rule_ = nullptr;
  bool rejected_ = false;
  Outcome out_;
  Status error_;
};

template <bool kMetered>
Result<Outcome> RunWith(const Module& module, Hook hook, std::span<const Value> args, const LawHost& host,
                        const RunOptions& options) {
  return Evaluator<kMetered>(module, &host, options).Run(hook, args);
}

}  // namespace

Result<Outcome> RunHook(const Module& module, Hook hook, std::span<const Value> args, const LawHost& host,
                        const RunOptions& options) {
  return RunWith<true>(module, hook, args, host, options);
}

Result<Outcome> RunHookUnmetered(const Module& module, Hook hook, std::span<const Value> args, const LawHost& host,
                                 const RunOptions& options) {
  return RunWith<false>(module, hook, args, host, options);
}

Result<Value> EvalConstant(const std::string& file, const Expr& expr) {
  Module m;
  m.file = file;
  RunOptions options;
  return Evaluator<true>(m, nullptr, options).Constant(expr);
}

std::string Citation(const Module& module, const std::string& section) {
  std::string out = module.name + " v" + std::to_string(module.version);
  if (!section.empty()) out += " §" + section;
  return out;
}

std::string DescribeEffect(const Effect& e) {
  std::string out;
  out.reserve(64 + e.member.size() + e.reason.size() + e.citation.size());
  switch (e.kind) {
    case Effect::Kind::kIssue:
      out.append("issue ").append(VoucherClassName(e.voucher_class)).append(" ");
      out.append(FormatValue(*Type::Of(Base::kCredits), Value::Number(e.amount)));
      out.append(" to @").append(e.member).append(" because ").append(e.reason);
      break;
    case Effect::Kind::kReject: out.append("reject because ").append(e.reason); break;
    case Effect::Kind::kRecord:
      out.append("record ").append(e.figure).append(" = ").append(FormatValue(*e.figure_type, e.figure_value));
      break;
  }
  return out.append(" (").append(e.citation).append(")");
}

}  // namespace gongshe::contracts
