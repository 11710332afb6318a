// libFuzzer target for the law language: any bytes as a law module's source.
//
// Load (lexer, parser, checker) must either succeed or fail with a source error that names the
// file, line and column. A module that loads has its own tests run (Law::RunTests), and each
// test's hook call is run again with a small fuel allowance to check what the interpreter
// promises: a run with explanations has the same effects and fuel use as one without; a run
// that fits in its fuel fits exactly (one unit less is a clean LAW_OUT_OF_FUEL); the unmetered
// interpreter agrees with the metered one; every failure is a documented code with file:line:col.
// A broken promise aborts, which libFuzzer (and the corpus test, fuzz_corpus_main.cc) reports.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "contracts/host.h"
#include "contracts/interpreter.h"
#include "contracts/law.h"

namespace gongshe::contracts {
namespace {

constexpr std::string_view kFile = "fuzz.law";
// Small enough that fuzzed modules run out often; large enough that most tests finish.
constexpr uint64_t kFuzzFuel = 2'000;
// Tests of one module re-run under the checks below (RunTests already runs them all once).
constexpr size_t kMaxCheckedTests = 16;

[[noreturn]] void Broken(const std::string& what, const Status& status = Status()) {
  std::fprintf(stderr, "law_fuzz: %s\n  status: %s\n", what.c_str(), status.ToString().c_str());
  std::abort();
}

// "fuzz.law:LINE:COL: message".
bool NamesThePlace(const std::string& message) {
  std::string_view m = message;
  if (m.substr(0, kFile.size() + 1) != std::string(kFile) + ":") return false;
  m.remove_prefix(kFile.size() + 1);
  for (int part = 0; part < 2; ++part) {
    size_t digits = 0;
    while (digits < m.size() && m[digits] >= '0' && m[digits] <= '9') ++digits;
    if (digits == 0 || digits >= m.size() || m[digits] != ':') return false;
    m.remove_prefix(digits + 1);
  }
  return m.size() > 1 && m[0] == ' ';
}

void CheckLoadError(const Status& s) {
  static const std::set<std::string> kCodes = {"LAW_SYNTAX", "LAW_TYPE", "LAW_OVERFLOW", "LAW_DIVISION_BY_ZERO"};
  if (!kCodes.count(s.code())) Broken("Load failed with an undocumented code", s);
  if (!NamesThePlace(s.message())) Broken("Load's error does not say file:line:col", s);
}

void CheckRunError(const Status& s) {
  static const std::set<std::string> kCodes = {"LAW_OUT_OF_FUEL", "LAW_OVERFLOW",         "LAW_DIVISION_BY_ZERO",
                                               "LAW_NO_PLAN",     "LAW_BAD_EFFECT",       "LAW_TOO_MANY_EFFECTS"};
  if (!kCodes.count(s.code())) Broken("a run failed with an undocumented code", s);
  if (!NamesThePlace(s.message())) Broken("a run's error does not say file:line:col", s);
}

std::string EffectsOf(const Outcome& o) {
  std::string out;
  for (const Effect& e : o.effects) out += EffectToJson(e) + "\n";
  return out;
}

RunOptions Options(int64_t today, uint64_t fuel, bool explain) {
  RunOptions o;
  o.today = today;
  o.fuel = fuel;
  o.explain = explain;
  return o;
}

void CheckRuns(const Law& law, const TestCase& test) {
  const Module& m = law.module();
  std::vector<Value> args;
  int64_t today = 0;
  for (const Given& g : test.givens) {
    if (g.function != "today") continue;
    Result<Value> v = EvalConstant(m.file, *g.value);
    if (!v.ok()) Broken("a checked 'given today' does not evaluate", v.status());
    today = v->number;
  }
  for (const ExprPtr& a : test.args) {
    Result<Value> v = EvalConstant(m.file, *a);
    if (!v.ok()) Broken("a checked test argument does not evaluate", v.status());
    args.push_back(std::move(v).value());
  }
  EmptyLawHost host;
  Result<Outcome> plain = law.Run(test.hook, args, host, Options(today, kFuzzFuel, false));
  Result<Outcome> explained = law.Run(test.hook, args, host, Options(today, kFuzzFuel, true));
  if (plain.ok() != explained.ok()) Broken("explaining changed whether the run succeeds", plain.ok() ? explained.status() : plain.status());
  if (!plain.ok()) {
    CheckRunError(plain.status());
    if (plain.status().ToString() != explained.status().ToString()) Broken("explaining changed the error", explained.status());
    return;
  }
  if (EffectsOf(*plain) != EffectsOf(*explained)) Broken("explaining changed the effects");
  if (plain->fuel_used != explained->fuel_used) Broken("explaining changed the fuel used");
  if (!plain->trace.empty()) Broken("a run without explanations returned a trace");
  if (plain->fuel_used > kFuzzFuel) Broken("a run used more fuel than it had");

  Result<Outcome> exact = law.Run(test.hook, args, host, Options(today, plain->fuel_used, false));
  if (!exact.ok() || EffectsOf(*exact) != EffectsOf(*plain)) Broken("the fuel a run reports is not enough to run it", exact.status());
  if (plain->fuel_used > 0) {
    Result<Outcome> short_by_one = law.Run(test.hook, args, host, Options(today, plain->fuel_used - 1, false));
    if (short_by_one.ok() || short_by_one.status().code() != "LAW_OUT_OF_FUEL") {
      Broken("one unit less than the fuel used did not run out", short_by_one.status());
    }
    CheckRunError(short_by_one.status());
  }
  Result<Outcome> unmetered = RunHookUnmetered(m, test.hook, args, host, Options(today, kFuzzFuel, false));
  if (!unmetered.ok() || EffectsOf(*unmetered) != EffectsOf(*plain)) Broken("the unmetered run disagrees", unmetered.status());
}

void FuzzOne(std::string_view source) {
  Result<std::shared_ptr<const Law>> law = Law::Load(std::string(kFile), source);
  if (!law.ok()) {
    CheckLoadError(law.status());
    return;
  }
  const Law& l = **law;
  for (const TestResult& r : l.RunTests()) {
    if (!r.passed && r.detail.empty()) Broken("a failed test says nothing about why");
  }
  const std::vector<TestCase>& tests = l.module().tests;
  for (size_t i = 0; i < tests.size() && i < kMaxCheckedTests; ++i) CheckRuns(l, tests[i]);
}

}  // namespace
}  // namespace gongshe::contracts

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  gongshe::contracts::FuzzOne(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
