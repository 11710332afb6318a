#include "contracts/law.h"

#include <map>

#include "contracts/checker.h"
#include "contracts/json.h"
#include "contracts/parser.h"

namespace gongshe::contracts {
namespace {

// The ledger as a test's 'given' lines describe it; everything else reads as zero / no plan.
class GivenHost final : public LawHost {
 public:
  void Set(std::string key, int64_t value) { values_[std::move(key)] = value; }

  Result<int64_t> IssuedInEpoch(VoucherClass c, int64_t epoch) const override {
    return Get(Key("issued", {std::string(VoucherClassName(c)), EpochText(epoch)}));
  }
  Result<int64_t> IssuedToMember(std::string_view member, VoucherClass c, int64_t epoch) const override {
    return Get(Key("issued_to", {"@" + std::string(member), std::string(VoucherClassName(c)), EpochText(epoch)}));
  }
  Result<std::optional<int64_t>> PlanCap(int64_t epoch) const override {
    auto it = values_.find(Key("plan_cap", {EpochText(epoch)}));
    if (it == values_.end()) return std::optional<int64_t>{};
    return std::optional<int64_t>{it->second};
  }
  Result<int64_t> Balance(std::string_view member, VoucherClass c) const override {
    return Get(Key("balance", {"@" + std::string(member), std::string(VoucherClassName(c))}));
  }

  static std::string Key(std::string_view function, const std::vector<std::string>& args) {
    std::string k = std::string(function) + "(";
    for (size_t i = 0; i < args.size(); ++i) k += (i ? ", " : "") + args[i];
    return k + ")";
  }

 private:
  static std::string EpochText(int64_t e) { return "epoch " + std::to_string(e); }
  int64_t Get(const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? 0 : it->second;
  }
  std::map<std::string, int64_t> values_;
};

Value Evaluated(const Module& m, const Expr& e) {
  Result<Value> v = EvalConstant(m.file, e);
  GS_ASSERT(v.ok());  // the checker evaluated every test constant already
  return std::move(v).value();
}

std::string DescribeExpected(const Module& m, const Expectation& e) {
  switch (e.kind) {
    case Stmt::Kind::kIssue:
      return "issue " + FormatValue(*e.voucher_class->type, Evaluated(m, *e.voucher_class)) + " " +
             FormatValue(*e.value->type, Evaluated(m, *e.value)) + " to " + FormatValue(*e.target->type, Evaluated(m, *e.target));
    case Stmt::Kind::kReject: return e.reason ? "reject because " + *e.reason : "reject";
    default: return "record " + e.name + " = " + FormatValue(*e.value->type, Evaluated(m, *e.value));
  }
}

bool Matches(const Module& m, const Expectation& x, const Effect& got) {
  switch (x.kind) {
    case Stmt::Kind::kIssue:
      return got.kind == Effect::Kind::kIssue && Evaluated(m, *x.voucher_class).number == static_cast<int64_t>(got.voucher_class) &&
             Evaluated(m, *x.target).str() == got.member && Evaluated(m, *x.value).number == got.amount;
    case Stmt::Kind::kReject: return got.kind == Effect::Kind::kReject && (!x.reason || *x.reason == got.reason);
    default:
      return got.kind == Effect::Kind::kRecord && got.figure == x.name &&
             FormatValue(*x.value->type, Evaluated(m, *x.value)) == FormatValue(*got.figure_type, got.figure_value);
  }
}

TestResult RunOne(const Module& m, const TestCase& t) {
  TestResult r;
  r.name = t.name;
  r.pos = t.pos;
  GivenHost host;
  RunOptions options;
  options.explain = true;
  for (const Given& g : t.givens) {
    Value v = Evaluated(m, *g.value);
    if (g.function == "today") {
      options.today = v.number;
      continue;
    }
    std::vector<std::string> args;
    for (const ExprPtr& a : g.args) args.push_back(FormatValue(*a->type, Evaluated(m, *a)));
    host.Set(GivenHost::Key(g.function, args), v.number);
  }
  std::vector<Value> args;
  for (const ExprPtr& a : t.args) args.push_back(Evaluated(m, *a));
  Result<Outcome> out = RunHook(m, t.hook, args, host, options);
  if (!out.ok()) {
    r.detail = "the run failed: " + out.status().ToString();
    return r;
  }
  r.trace = out->trace;
  bool same = out->effects.size() == t.expects.size();
  for (size_t i = 0; same && i < t.expects.size(); ++i) same = Matches(m, t.expects[i], out->effects[i]);
  if (same) {
    r.passed = true;
    return r;
  }
  std::string expected, got;
  for (const Expectation& x : t.expects) expected += "\n    " + DescribeExpected(m, x);
  for (const Effect& e : out->effects) got += "\n    " + DescribeEffect(e);
  r.detail = "expected" + (expected.empty() ? std::string(" nothing") : expected) + "\n  got" +
             (got.empty() ? std::string(" nothing") : got);
  return r;
}

// A JSON value as the literal text the language reads.
Result<std::string> LiteralText(const Json& j, int depth) {
  switch (j.kind) {
    case Json::Kind::kString:
    case Json::Kind::kNumber:
    case Json::Kind::kBool: return j.text;
    case Json::Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < j.items.size(); ++i) {
        Result<std::string> item = LiteralText(j.items[i], depth + 1);
        if (!item.ok()) return item.status();
        out += (i ? ", " : "") + *item;
      }
      return out + "]";
    }
    case Json::Kind::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < j.fields.size(); ++i) {
        Result<std::string> item = LiteralText(j.fields[i].value, depth + 1);
        if (!item.ok()) return item.status();
        out += (i ? ", " : "") + j.fields[i].key + ": " + *item;
      }
      return out + "}";
    }
    case Json::Kind::kNull: break;
  }
  return Status("BAD_ARGS", "null is not a value");
}

}  // namespace

Result<std::shared_ptr<const Law>> Law::Load(std::string file, std::string_view source) {
  Result<Module> m = ParseModule(file, source);
  if (!m.ok()) return m.status();
  GS_RETURN_IF_ERROR(CheckModule(*m));
  return std::shared_ptr<const Law>(new Law(std::move(m).value()));
}

std::vector<TestResult> Law::RunTests() const {
  std::vector<TestResult> results;
  for (const TestCase& t : module_.tests) results.push_back(RunOne(module_, t));
  return results;
}

Result<std::vector<Value>> HookArgsFromJson(Hook hook, std::string_view json) {
  Result<Json> doc = ParseJson(json);
  if (!doc.ok()) return doc.status();
  if (doc->kind != Json::Kind::kObject) return Status("BAD_ARGS", "the arguments must be a JSON object keyed by argument name");
  std::span<const HookParam> sig = HookParams(hook);
  for (const auto& [key, value] : doc->fields) {
    bool known = false;
    for (const HookParam& p : sig) known = known || p.name == key;
    if (!known) return Status("BAD_ARGS", std::string(HookName(hook)) + " has no argument '" + key + "'");
  }
  std::vector<Value> out;
  for (const HookParam& p : sig) {
    const Json* found = nullptr;
    for (const auto& [key, value] : doc->fields) {
      if (key == p.name) found = &value;
    }
    std::string where = "argument '" + std::string(p.name) + "'";
    if (!found) return Status("BAD_ARGS", "missing " + where + " (" + TypeName(*Type::Of(p.type)) + ")");
    Result<std::string> text = LiteralText(*found, 0);
    if (!text.ok()) return Status("BAD_ARGS", where + ": " + text.status().message());
    Result<ExprPtr> expr = ParseExpression(where, *text);
    if (!expr.ok()) return Status("BAD_ARGS", expr.status().message());
    Result<Value> v = CheckConstant(where, **expr, *Type::Of(p.type));
    if (!v.ok()) return Status("BAD_ARGS", v.status().message());
    out.push_back(std::move(v).value());
  }
  return out;
}

std::string EffectToJson(const Effect& e) {
  std::string out = "{";
  switch (e.kind) {
    case Effect::Kind::kIssue:
      out += "\"effect\":\"issue\",\"class\":" + JsonQuote(VoucherClassName(e.voucher_class)) + ",\"member\":" + JsonQuote(e.member) +
             ",\"amount_milli\":" + std::to_string(e.amount) + ",\"amount\":" +
             JsonQuote(FormatValue(*Type::Of(Base::kCredits), Value::Number(e.amount))) + ",\"reason\":" + JsonQuote(e.reason);
      break;
    case Effect::Kind::kReject: out += "\"effect\":\"reject\",\"reason\":" + JsonQuote(e.reason); break;
    case Effect::Kind::kRecord:
      out += "\"effect\":\"record\",\"figure\":" + JsonQuote(e.figure) + ",\"type\":" + JsonQuote(TypeName(*e.figure_type)) +
             ",\"value\":" + JsonQuote(FormatValue(*e.figure_type, e.figure_value));
      break;
  }
  return out + ",\"citation\":" + JsonQuote(e.citation) + "}";
}

std::string OutcomeToJson(const Outcome& o) {
  std::string out = "{\"effects\":[";
  for (size_t i = 0; i < o.effects.size(); ++i) out += (i ? "," : "") + EffectToJson(o.effects[i]);
  out += "],\"trace\":[";
  for (size_t i = 0; i < o.trace.size(); ++i) out += (i ? "," : "") + JsonQuote(o.trace[i]);
  return out + "],\"fuel_used\":" + std::to_string(o.fuel_used) + "}";
}

}  // namespace gongshe::contracts
