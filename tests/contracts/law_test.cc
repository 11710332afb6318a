// The law language: the standard laws' own tests, a table of malformed and ill-typed modules
// with their exact errors, fuel and overflow aborts, exact arithmetic, determinism, and
// hook arguments from JSON.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "contracts/checker.h"
#include "contracts/json.h"
#include "contracts/law.h"
#include "contracts/parser.h"

namespace gongshe::contracts {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<const Law> MustLoad(const std::string& source) {
  Result<std::shared_ptr<const Law>> law = Law::Load("t.law", source);
  EXPECT_TRUE(law.ok()) << law.status().ToString();
  return law.ok() ? *law : nullptr;
}

std::vector<Value> Args(Hook hook, const std::string& json) {
  Result<std::vector<Value>> args = HookArgsFromJson(hook, json);
  EXPECT_TRUE(args.ok()) << args.status().ToString();
  return args.ok() ? *args : std::vector<Value>{};
}

// --- the standard laws ---

TEST(StandardLaws, EveryLawLoadsAndPassesItsOwnTests) {
  std::filesystem::path dir = std::filesystem::path(GONGSHE_SOURCE_DIR) / "contracts" / "laws";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".law") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> names;
  for (const auto& f : files) names.push_back(f.stem().string());
  EXPECT_EQ(names, (std::vector<std::string>{"amendment_tally", "guarantee_tickets", "issuance_cap", "labour_pay",
                                             "overtime_pay", "special_vouchers", "voucher_expiry"}));
  for (const auto& f : files) {
    Result<std::shared_ptr<const Law>> law = Law::Load(f.string(), ReadFile(f));
    ASSERT_TRUE(law.ok()) << law.status().ToString();
    EXPECT_EQ((*law)->name(), f.stem().string());
    std::vector<TestResult> results = (*law)->RunTests();
    EXPECT_GE(results.size(), 4u) << f;
    for (const TestResult& r : results) EXPECT_TRUE(r.passed) << f << ": " << r.name << "\n" << r.detail;
  }
}

TEST(StandardLaws, OvertimeExplainsItself) {
  std::filesystem::path p = std::filesystem::path(GONGSHE_SOURCE_DIR) / "contracts/laws/overtime_pay.law";
  Result<std::shared_ptr<const Law>> law = Law::Load("overtime_pay.law", ReadFile(p));
  ASSERT_TRUE(law.ok()) << law.status().ToString();
  EmptyLawHost host;
  RunOptions options;
  options.explain = true;
  Result<Outcome> out = (*law)->Run(Hook::kWeekClosed,
                                    Args(Hook::kWeekClosed, R"j({"worker":"@alice","week":"week 3","worked":"45h","rate":"1 credits per hour"})j"),
                                    host, options);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->effects.size(), 1u);
  EXPECT_EQ(DescribeEffect(out->effects[0]),
            "issue consumption 2.5 credits to @alice because overtime 5h at 1.5x in week 3 (overtime_pay v2 §2)");
  std::vector<std::string> expected = {
      "overtime_pay v2 §2, on week_closed (overtime_pay.law:13): worker = @alice, week = week 3, worked = 45h, rate = 1 credits per hour",
      "  with standard_week = 40h, premium = 1.5",
      "  let overtime = max(worked - standard_week, 0h) = 5h",
      "  when overtime > 0h: yes",
      "    issue consumption 2.5 credits to @alice because overtime 5h at 1.5x in week 3 (overtime_pay v2 §2)",
  };
  EXPECT_EQ(out->trace, expected);
}

TEST(LawTests, AFailingExpectationFailsWithBothSidesShown) {
  auto law = MustLoad(
      "law t version 1\n"
      "on epoch_closed(citizen: member, epoch: epoch)\n"
      "  issue guarantee to citizen amount 3 credits because \"x\"\n"
      "test \"wrong amount\"\n"
      "  epoch_closed(@a, epoch 1)\n"
      "  expects issue guarantee to @a amount 4 credits\n"
      "test \"wrong kind\"\n"
      "  epoch_closed(@a, epoch 1)\n"
      "  expects nothing\n"
      "test \"right\"\n"
      "  epoch_closed(@a, epoch 1)\n"
      "  expects issue guarantee to @a amount 3 credits\n");
  ASSERT_NE(law, nullptr);
  std::vector<TestResult> r = law->RunTests();
  ASSERT_EQ(r.size(), 3u);
  EXPECT_FALSE(r[0].passed);
  EXPECT_EQ(r[0].detail, "expected\n    issue guarantee 4 credits to @a\n  got\n    issue guarantee 3 credits to @a because x (t v1)");
  EXPECT_FALSE(r[1].passed);
  EXPECT_TRUE(r[2].passed);
}

// --- malformed and ill-typed modules: the exact error, with file:line:col ---

struct BadModule {
  const char* source;
  const char* code;
  const char* message;
};

const BadModule kBadModules[] = {
    {"version 1",
     "LAW_SYNTAX", "bad.law:1:1: expected 'law NAME version N' at the start, found 'version'"},
    {"law x",
     "LAW_SYNTAX", "bad.law:1:6: expected 'version' after the law's name, found the end of the file"},
    {"law x version",
     "LAW_SYNTAX", "bad.law:1:14: expected a whole version number, found the end of the file"},
    {"law x version 0",
     "LAW_SYNTAX", "bad.law:1:15: the version must be at least 1"},
    {"law version 1",
     "LAW_SYNTAX", "bad.law:1:5: expected the law's name, found the reserved word 'version'"},
    {"law x version 1 \"t\" param a : hours",
     "LAW_SYNTAX", "bad.law:1:36: expected '=' and the parameter's value after its type, found the end of the file"},
    {"law x version 1 param a : furlongs = 1",
     "LAW_SYNTAX", "bad.law:1:27: expected a type (credits, credits per hour, hours, ratio, count, date, week, epoch, boolean, text, member, category, voucher class, list of T up to N, {field: T}), found 'furlongs'"},
    {"law x version 1 param a : hours = 1h on week_closed(worker: member, week: week, worked: hours, rate: credits per hour) let b = a",
     "LAW_SYNTAX", "bad.law:1:120: expected the statements of the rule on the next lines, indented deeper than line 1, found 'let'"},
    {"law x version 1 on week_closed(worker: member)\n  let a = 1",
     "LAW_TYPE", "bad.law:1:17: the hook takes 4 arguments: week_closed(worker: member, week: week, worked: hours, rate: credits per hour)"},
    {"law x version 1 on payday(worker: member)\n  let a = 1",
     "LAW_TYPE", "bad.law:1:17: there is no hook 'payday'; the hooks are attendance_recorded, week_closed, epoch_closed, issuance_requested, redemption_requested and proposal_tallied"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: week)\n  let a = 1",
     "LAW_TYPE", "bad.law:1:50: argument 2 must be 'epoch: epoch'; the hook is epoch_closed(citizen: member, epoch: epoch)"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\nlet a = 1",
     "LAW_SYNTAX", "bad.law:2:1: expected the statements of the rule on the next lines, indented deeper than line 1, found 'let'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1h + 1 credits",
     "LAW_TYPE", "bad.law:2:14: cannot add hours and credits: both sides must have the same unit"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1h * 2 credits",
     "LAW_TYPE", "bad.law:2:14: cannot multiply hours by credits: hours times credits per hour gives credits; did you mean a rate?"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  when 1h:\n    let a = 1",
     "LAW_TYPE", "bad.law:2:8: the condition after 'when' must be boolean, but this is hours"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  issue consumption to citizen amount 5h because \"x\"",
     "LAW_TYPE", "bad.law:2:39: the amount must be credits, but this is hours"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  issue bread to citizen amount 5 credits because \"x\"",
     "LAW_TYPE", "bad.law:2:9: unknown name 'bread'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  issue consumption to #bread amount 5 credits because \"x\"",
     "LAW_TYPE", "bad.law:2:24: the recipient after 'to' must be member, but this is category"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = unknown + 1",
     "LAW_TYPE", "bad.law:2:11: unknown name 'unknown'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let epoch = 1",
     "LAW_TYPE", "bad.law:2:3: 'epoch' is already defined at line 1"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let when = 1",
     "LAW_SYNTAX", "bad.law:2:7: expected a name after 'let', found the reserved word 'when'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1.2345 credits",
     "LAW_TYPE", "bad.law:2:11: credits have at most 3 decimals"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1.001h",
     "LAW_TYPE", "bad.law:2:11: hours must come to a whole number of minutes"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1 < 2 < 3",
     "LAW_SYNTAX", "bad.law:2:17: comparisons do not chain; join them with 'and'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = (1 + 2",
     "LAW_SYNTAX", "bad.law:2:17: expected ')', found the end of the file"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  reject because \"a {nope} b\"",
     "LAW_TYPE", "bad.law:2:18: unknown name 'nope'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  reject because \"a {citizen b\"",
     "LAW_SYNTAX", "bad.law:2:18: '{' without '}' in the reason"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  reject \"no because\"",
     "LAW_SYNTAX", "bad.law:2:10: expected 'because' and the reason, in quotes, found a text \"no because\""},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 2026-02-30",
     "LAW_TYPE", "bad.law:2:11: there is no date 2026-02-30"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = max(1h, 1 credits)",
     "LAW_TYPE", "bad.law:2:19: max needs values of one unit, but here are hours and credits"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = citizen in [#bread]",
     "LAW_TYPE", "bad.law:2:19: 'in' needs a value and a list of that kind, but here are member and list of category up to 1"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = frobnicate(1)",
     "LAW_TYPE", "bad.law:2:11: unknown function 'frobnicate'; the functions are min, max, count, sum, issued, issued_to, plan_exists, plan_cap and balance"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = plan_cap(3)",
     "LAW_TYPE", "bad.law:2:20: argument 1 of plan_cap must be epoch, but this is count"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = {yes: 1}.no",
     "LAW_TYPE", "bad.law:2:19: the record {yes: count} has no field 'no'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1 and true",
     "LAW_TYPE", "bad.law:2:13: 'and' joins two booleans, but here are count and boolean"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = []",
     "LAW_TYPE", "bad.law:2:11: an empty list [] needs a declared type, as in 'param x : list of category up to 8 = []'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  when true:\n  let a = 1",
     "LAW_SYNTAX", "bad.law:3:3: expected the statements of 'when' on the next lines, indented deeper than line 2, found 'let'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1\n   let b = 2",
     "LAW_SYNTAX", "bad.law:3:4: this line is indented to column 4 but the block it belongs to is at column 3"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n\tlet a = 1",
     "LAW_SYNTAX", "bad.law:2:1: tabs are not allowed; indent with spaces"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = \"unterminated",
     "LAW_SYNTAX", "bad.law:2:11: this text has no closing '\"'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1 $ 2",
     "LAW_SYNTAX", "bad.law:2:13: unexpected character '$'"},
    {"law x version 1 param p : count = 1 param p : count = 2 on epoch_closed(citizen: member, epoch: epoch)\n  let a = p",
     "LAW_TYPE", "bad.law:1:37: the parameter 'p' is already defined at line 1"},
    {"law x version 1 param p : count = 1 then 2 from 2027-01-01 then 3 from 2026-01-01 on epoch_closed(citizen: member, epoch: epoch)\n  let a = p",
     "LAW_TYPE", "bad.law:1:65: the dates of 'p' must increase: each 'then ... from DATE' after the one before"},
    {"law x version 1 param p : list of category up to 2 = [#a, #b, #c] on epoch_closed(citizen: member, epoch: epoch)\n  let a = p",
     "LAW_TYPE", "bad.law:1:54: the value of 'p' must be list of category up to 2, but this is list of category up to 3"},
    {"law x version 1 param p : date = today on epoch_closed(citizen: member, epoch: epoch)\n  let a = p",
     "LAW_TYPE", "bad.law:1:34: 'today' is not known here; write a date such as 2026-01-01"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1\ntest \"t\"\n  epoch_closed(@a)\n  expects nothing",
     "LAW_TYPE", "bad.law:4:3: epoch_closed takes 2 arguments, not 1"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1\ntest \"t\"\n  epoch_closed(@a, epoch 1)",
     "LAW_SYNTAX", "bad.law:4:28: expected 'expects' and the effects the test expects, found the end of the file"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1\ntest \"t\"\n  given wages(@a) = 1\n  epoch_closed(@a, epoch 1)\n  expects nothing",
     "LAW_TYPE", "bad.law:4:3: 'given' sets 'today' or a ledger reading (issued, issued_to, plan_exists, plan_cap, balance), not 'wages'"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1\ntest \"t\"\n  epoch_closed(@a, 3)\n  expects nothing",
     "LAW_TYPE", "bad.law:4:20: argument 'epoch' must be epoch, but this is count"},
    {"law x version 1 param a : ratio = 99999999999999999999 on epoch_closed(citizen: member, epoch: epoch)\n  let b = a",
     "LAW_TYPE", "bad.law:1:35: the number 99999999999999999999 is too large"},
    {"law x version 1 param a : credits = 9000000000000 credits * 1000000 on epoch_closed(citizen: member, epoch: epoch)\n  let b = a",
     "LAW_OVERFLOW", "bad.law:1:59: overflow: the result is too large to hold exactly"},
    {"law x version 1 § 1 \"a\" § 1 \"b\" on epoch_closed(citizen: member, epoch: epoch)\n  let b = 1",
     "LAW_SYNTAX", "bad.law:1:25: section §1 appears twice"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = @",
     "LAW_SYNTAX", "bad.law:2:11: expected a name after '@'"},
    {"law x version 1 \"only a preamble\"",
     "LAW_TYPE", "bad.law:1:1: the law has no rules: add at least one 'on HOOK(...)' rule"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1\ntest \"t\"\n  epoch_closed(@a, epoch 1)\n  expects nothing\ntest \"t\"\n  epoch_closed(@a, epoch 2)\n  expects nothing",
     "LAW_TYPE", "bad.law:6:1: two tests are named \"t\""},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = -\"x\"",
     "LAW_TYPE", "bad.law:2:11: '-' needs a number, but this is text"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = week 3 + epoch 4",
     "LAW_TYPE", "bad.law:2:18: cannot add week and epoch: both sides must have the same unit"},
    {"law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = 1 credits / 2 week",
     "LAW_SYNTAX", "bad.law:2:25: expected the end of the statement, found 'week'"},
};

TEST(BadModules, EachIsRejectedWithItsExactError) {
  static_assert(std::size(kBadModules) >= 30);
  for (const BadModule& bad : kBadModules) {
    Result<std::shared_ptr<const Law>> law = Law::Load("bad.law", bad.source);
    ASSERT_FALSE(law.ok()) << bad.source;
    EXPECT_EQ(law.status().code(), bad.code) << bad.source;
    EXPECT_EQ(law.status().message(), bad.message) << bad.source;
  }
}

TEST(BadModules, OversizedAndDeeplyNestedInputFailsCleanly) {
  std::string big = "law x version 1 \"" + std::string(kMaxSourceBytes, 'a') + "\"";
  EXPECT_EQ(Law::Load("big.law", big).status().code(), "LAW_SYNTAX");
  std::string deep = "law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = " + std::string(5000, '(') + "1";
  Result<std::shared_ptr<const Law>> law = Law::Load("deep.law", deep);
  ASSERT_FALSE(law.ok());
  EXPECT_NE(law.status().message().find("nested too deeply"), std::string::npos) << law.status().message();
  std::string minus = "law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = " + std::string(5000, '-') + "1";
  EXPECT_FALSE(Law::Load("minus.law", minus).ok());
  std::string nots = "law x version 1 on epoch_closed(citizen: member, epoch: epoch)\n  let a = ";
  for (int i = 0; i < 2000; ++i) nots += "not ";
  EXPECT_FALSE(Law::Load("not.law", nots + "true").ok());
}

// --- run-time aborts ---

constexpr const char* kArithmetic =
    "law arith version 1\n"
    "on issuance_requested(recipient: member, class: voucher class, amount: credits, epoch: epoch)\n"
    "  let doubled = amount * 2\n"
    "  let share = amount / (epoch - epoch 5)\n"
    "  record share = share\n";

TEST(RunAborts, OutOfFuelAbortsWithNoEffects) {
  auto law = MustLoad(kArithmetic);
  ASSERT_NE(law, nullptr);
  EmptyLawHost host;
  std::vector<Value> args = Args(Hook::kIssuanceRequested, R"j({"recipient":"@a","class":"consumption","amount":"10 credits","epoch":"epoch 7"})j");
  RunOptions options;
  Result<Outcome> full = law->Run(Hook::kIssuanceRequested, args, host, options);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  EXPECT_EQ(FormatValue(*full->effects[0].figure_type, full->effects[0].figure_value), "5 credits");
  uint64_t needed = full->fuel_used;
  ASSERT_GT(needed, 5u);
  for (uint64_t fuel = 0; fuel < needed; ++fuel) {
    options.fuel = fuel;
    Result<Outcome> out = law->Run(Hook::kIssuanceRequested, args, host, options);
    ASSERT_FALSE(out.ok()) << fuel;
    EXPECT_EQ(out.status().code(), "LAW_OUT_OF_FUEL");
    EXPECT_NE(out.status().message().find("out of fuel: the run used its whole allowance of " + std::to_string(fuel) + " steps"),
              std::string::npos)
        << out.status().message();
  }
  options.fuel = needed;
  EXPECT_TRUE(law->Run(Hook::kIssuanceRequested, args, host, options).ok());
}

TEST(RunAborts, OverflowAndDivisionByZeroAreErrorsNotWraps) {
  auto law = MustLoad(kArithmetic);
  ASSERT_NE(law, nullptr);
  EmptyLawHost host;
  Result<Outcome> zero = law->Run(Hook::kIssuanceRequested,
                                  Args(Hook::kIssuanceRequested, R"j({"recipient":"@a","class":"consumption","amount":"10 credits","epoch":"epoch 5"})j"),
                                  host, {});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().ToString(), "LAW_DIVISION_BY_ZERO: t.law:4:22: division by zero");
  Result<Outcome> big = law->Run(
      Hook::kIssuanceRequested,
      Args(Hook::kIssuanceRequested, R"j({"recipient":"@a","class":"consumption","amount":"5000000000000000 credits","epoch":"epoch 7"})j"),
      host, {});
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().ToString(), "LAW_OVERFLOW: t.law:3:24: overflow: the result is too large to hold exactly");
}

TEST(RunAborts, NonPositiveIssueAndMissingPlanAreErrors) {
  auto law = MustLoad(
      "law t version 1\n"
      "on issuance_requested(recipient: member, class: voucher class, amount: credits, epoch: epoch)\n"
      "  when class = special:\n"
      "    issue special to recipient amount 0 credits - amount because \"x\"\n"
      "  let cap = plan_cap(epoch)\n");
  ASSERT_NE(law, nullptr);
  EmptyLawHost host;
  Result<Outcome> neg = law->Run(Hook::kIssuanceRequested,
                                 Args(Hook::kIssuanceRequested, R"j({"recipient":"@a","class":"special","amount":"1 credits","epoch":"epoch 1"})j"), host, {});
  EXPECT_EQ(neg.status().ToString(),
            "LAW_BAD_EFFECT: t.law:4:5: the amount to issue is -1 credits; it must be more than 0 credits");
  Result<Outcome> noplan = law->Run(Hook::kIssuanceRequested,
                                    Args(Hook::kIssuanceRequested, R"j({"recipient":"@a","class":"guarantee","amount":"1 credits","epoch":"epoch 1"})j"), host, {});
  EXPECT_EQ(noplan.status().ToString(), "LAW_NO_PLAN: t.law:5:13: there is no plan for epoch 1; check plan_exists first");
}

// --- bounds on one value (found by fuzzing: lists built from lists grew exponentially) ---

std::string NestedLists(int levels) {
  std::string src = "law t version 1\non epoch_closed(citizen: member, epoch: epoch)\n  let a0 = [1, 2, 3, 4, 5, 6, 7, 8]\n";
  for (int i = 1; i <= levels; ++i) {
    std::string prev = "a" + std::to_string(i - 1);
    src += "  let a" + std::to_string(i) + " = [" + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev + ", " + prev +
           ", " + prev + ", " + prev + "]\n";
  }
  return src + "  record r = a0 in a1\n";
}

TEST(ValueBounds, TypesThatCouldHoldTooMuchAreRefused) {
  EXPECT_TRUE(Law::Load("t.law", NestedLists(3)).ok());  // 8^4 = 4096 numbers
  Result<std::shared_ptr<const Law>> big = Law::Load("t.law", NestedLists(8));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().ToString(),
            "LAW_TYPE: t.law:7:12: a value holds at most 10000 numbers, names or texts in all, but list of list of list of "
            "list of list of count up to 8 up to 8 up to 8 up to 8 up to 8 could hold more");
  struct Case {
    const char* source;
    const char* error;
  };
  const Case cases[] = {
      {"law t version 1\nparam p : list of list of count up to 1000 up to 11 = []\non epoch_closed(citizen: member, epoch: epoch)\n  let a = p",
       "LAW_TYPE: t.law:2:1: a value holds at most 10000 numbers, names or texts in all, but list of list of count up to 1000 up to 11 could hold more"},
      {"law t version 1\non epoch_closed(citizen: member, epoch: epoch)\n  let a0 = [1]\n  let a1 = [a0]\n  let a2 = [a1]\n"
       "  let a3 = [a2]\n  let a4 = [a3]\n  let a5 = [a4]\n  let a6 = [a5]\n  let a7 = [a6]\n  let a8 = [a7]\n",
       "LAW_TYPE: t.law:11:12: lists and records nest at most 8 deep, but list of list of list of list of list of list of list of "
       "list of list of count up to 1 up to 1 up to 1 up to 1 up to 1 up to 1 up to 1 up to 1 up to 1 nests 9"},
      {"law t version 1\nparam p : list of count up to 6000 = [1]\non epoch_closed(citizen: member, epoch: epoch)\n  let r = {a: p, b: p}",
       "LAW_TYPE: t.law:4:11: a value holds at most 10000 numbers, names or texts in all, but {a: list of count up to 6000, b: list of count up to 6000} could hold more"},
  };
  for (const Case& c : cases) EXPECT_EQ(Law::Load("t.law", c.source).status().ToString(), c.error) << c.source;
}

TEST(ValueBounds, ComparisonsOfNestedValuesCostOneFuelPerScalar) {
  // let q: 1 + 1 (a folded constant); let l: 1 + 5; record: 1 + (1 + 2 + 12 scalars compared).
  auto equal = MustLoad("law t version 1\non epoch_closed(citizen: member, epoch: epoch)\n  let q = [1, 2, 3]\n  let l = [q, q, q, q]\n  record same = l = l\n");
  // record: 1 + (1 + 1 + 4 elements + 1 + 4 * 2 more scalars per comparison).
  auto member = MustLoad("law t version 1\non epoch_closed(citizen: member, epoch: epoch)\n  let q = [1, 2, 3]\n  let l = [q, q, q, q]\n  record found = q in l\n");
  ASSERT_NE(equal, nullptr);
  ASSERT_NE(member, nullptr);
  EmptyLawHost host;
  std::vector<Value> args = Args(Hook::kEpochClosed, R"j({"citizen":"@a","epoch":"epoch 1"})j");
  Result<Outcome> eq = equal->Run(Hook::kEpochClosed, args, host, {});
  Result<Outcome> in = member->Run(Hook::kEpochClosed, args, host, {});
  ASSERT_TRUE(eq.ok() && in.ok());
  EXPECT_EQ(eq->fuel_used, 24u);
  EXPECT_EQ(in->fuel_used, 24u);
}

TEST(ValueBounds, LongValuesAreCutInTracesAndRefusedInFiguresAndReasons) {
  std::string text(100, 'x');
  std::string list = "[t, t, t, t, t, t, t, t, t, t, t]";  // 11 * 100 bytes written out
  std::string head = "law t version 1\nparam t : text = \"" + text + "\"\non epoch_closed(citizen: member, epoch: epoch)\n  let l = " + list + "\n";
  auto figure = MustLoad(head + "  record big = l\n");
  auto reason = MustLoad(head + "  reject because \"{l}\"\n");
  ASSERT_NE(figure, nullptr);
  ASSERT_NE(reason, nullptr);
  EmptyLawHost host;
  std::vector<Value> args = Args(Hook::kEpochClosed, R"j({"citizen":"@a","epoch":"epoch 1"})j");
  RunOptions options;
  options.explain = true;
  Result<Outcome> f = figure->Run(Hook::kEpochClosed, args, host, options);
  EXPECT_EQ(f.status().ToString(), "LAW_BAD_EFFECT: t.law:5:3: the figure 'big' is longer than 1024 bytes when written out");
  Result<Outcome> r = reason->Run(Hook::kEpochClosed, args, host, options);
  EXPECT_EQ(r.status().ToString(), "LAW_BAD_EFFECT: t.law:5:18: the reason is longer than 1024 bytes");
  auto shown = MustLoad(head + "  record n = count(l)\n");
  ASSERT_NE(shown, nullptr);
  Result<Outcome> s = shown->Run(Hook::kEpochClosed, args, host, options);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_EQ(s->trace.size(), 4u);
  std::string value = s->trace[2].substr(s->trace[2].find("] = ") + 4);
  EXPECT_EQ(value, "[" + text + ", " + text + ", " + text.substr(0, 256 - 2 * 102 - 1) + "\u2026");
}

// --- determinism ---

TEST(Determinism, SameLawSameInputsGiveByteIdenticalEffectsAndTraces) {
  std::filesystem::path dir = std::filesystem::path(GONGSHE_SOURCE_DIR) / "contracts" / "laws";
  for (const char* name : {"guarantee_tickets", "labour_pay", "overtime_pay", "issuance_cap"}) {
    std::string src = ReadFile(dir / (std::string(name) + ".law"));
    std::string first;
    for (int round = 0; round < 3; ++round) {
      auto law = MustLoad(src);  // a fresh load each round: nothing carries over
      ASSERT_NE(law, nullptr);
      std::string all;
      for (const TestResult& r : law->RunTests()) {
        all += r.name + "\n";
        for (const std::string& line : r.trace) all += line + "\n";
      }
      EmptyLawHost host;
      RunOptions options;
      options.explain = true;
      for (int worked = 0; worked <= 60 * 60; worked += 37) {
        std::string args = R"j({"worker":"@w","week":"week 2","day":"2026-03-02","worked":")" + std::to_string(worked) +
                           R"(min","rate":"1.25 credits per hour"})j";
        for (Hook hook : {Hook::kWeekClosed, Hook::kAttendanceRecorded}) {
          Result<std::vector<Value>> a = HookArgsFromJson(hook, args);
          if (!a.ok()) continue;  // the other hook's extra key
          Result<Outcome> out = law->Run(hook, *a, host, options);
          all += out.ok() ? OutcomeToJson(*out) : out.status().ToString();
        }
      }
      if (round == 0) first = all;
      EXPECT_EQ(all, first) << name;
    }
  }
}

// --- exact arithmetic ---

TEST(Arithmetic, RoundsHalfAwayFromZeroAndDetectsOverflow) {
  EXPECT_EQ(MulDiv(1, 1, 2), 1);
  EXPECT_EQ(MulDiv(-1, 1, 2), -1);
  EXPECT_EQ(MulDiv(1, 1, 3), 0);
  EXPECT_EQ(MulDiv(2, 1, 3), 1);
  EXPECT_EQ(MulDiv(INT64_MAX, 2, 2), INT64_MAX);  // the int128 intermediate holds it
  EXPECT_EQ(MulDiv(INT64_MAX, 2, 1), std::nullopt);
  EXPECT_EQ(ScaledDiv(10, 1, 4), 3);   // 2.5 -> 3
  EXPECT_EQ(ScaledDiv(-10, 1, 4), -3);
  EXPECT_EQ(ScaledDiv(10, 1, -4), -3);
  EXPECT_EQ(ScaledDiv(1, 1, 0), std::nullopt);
  EXPECT_EQ(CheckedAdd(INT64_MAX, 1), std::nullopt);
  EXPECT_EQ(CheckedSub(INT64_MIN, 1), std::nullopt);
}

TEST(Arithmetic, UnitsCombineExactly) {
  auto law = MustLoad(
      "law u version 1\n"
      "on week_closed(worker: member, week: week, worked: hours, rate: credits per hour)\n"
      "  record pay = worked * rate\n"
      "  record per_hour = worked * rate / worked\n"
      "  record hours_for_10 = 10 credits / rate\n"
      "  record share = 1 credits / 3\n"
      "  record ratio = worked / 40h\n"
      "  record third = 1 / 3\n"
      "  record scaled = 2 / 0.5\n"
      "  record next = week + 1\n"
      "  record day = 2026-12-31 + 1\n"
      "  record days = 2027-03-01 - 2027-02-28\n"
      "  record shares = sum([1 credits, 2.5 credits]) * 1.5\n");
  ASSERT_NE(law, nullptr);
  EmptyLawHost host;
  Result<Outcome> out = law->Run(
      Hook::kWeekClosed, Args(Hook::kWeekClosed, R"j({"worker":"@a","week":"week 52","worked":"45h30min","rate":"1.1 credits per hour"})j"),
      host, {});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<std::string> got;
  for (const Effect& e : out->effects) got.push_back(e.figure + " = " + FormatValue(*e.figure_type, e.figure_value));
  EXPECT_EQ(got, (std::vector<std::string>{"pay = 50.05 credits", "per_hour = 1.1 credits per hour", "hours_for_10 = 9h5min",
                                           "share = 0.333 credits", "ratio = 1.1375", "third = 0.333333", "scaled = 4",
                                           "next = week 53", "day = 2027-01-01", "days = 1", "shares = 5.25 credits"}));
}

TEST(Values, CanonicalFormsReadBackToTheSameValue) {
  struct Case {
    const char* text;
    Base type;
  };
  const Case cases[] = {{"7.5 credits", Base::kCredits}, {"-0.001 credits", Base::kCredits}, {"5h30min", Base::kHours},
                        {"45min", Base::kHours},         {"0h", Base::kHours},               {"1.5", Base::kRatio},
                        {"0.000001", Base::kRatio},      {"2026-02-28", Base::kDate},        {"week 3", Base::kWeek},
                        {"epoch 0", Base::kEpoch},       {"@Alice-1", Base::kMember},        {"#bread", Base::kCategory},
                        {"special", Base::kVoucherClass}, {"1.25 credits per hour", Base::kRate}, {"true", Base::kBoolean}};
  for (const Case& c : cases) {
    Result<ExprPtr> e = ParseExpression("v", c.text);
    ASSERT_TRUE(e.ok()) << c.text << ": " << e.status().ToString();
    Result<Value> v = CheckConstant("v", **e, *Type::Of(c.type));
    ASSERT_TRUE(v.ok()) << c.text << ": " << v.status().ToString();
    EXPECT_EQ(FormatValue(*Type::Of(c.type), *v), c.text);
  }
}

// --- hook arguments from JSON ---

TEST(HookArgs, RejectsMissingUnknownAndIllTypedArguments) {
  const std::pair<const char*, const char*> cases[] = {
      {R"j([1])j", "BAD_ARGS: the arguments must be a JSON object keyed by argument name"},
      {R"j({"citizen":"@a"})j", "BAD_ARGS: missing argument 'epoch' (epoch)"},
      {R"j({"citizen":"@a","epoch":"epoch 1","extra":1})j", "BAD_ARGS: epoch_closed has no argument 'extra'"},
      {R"j({"citizen":"#a","epoch":"epoch 1"})j", "BAD_ARGS: argument 'citizen':1:1: the value must be member, but this is category"},
      {R"j({"citizen":"@a","epoch":3})j", "BAD_ARGS: argument 'epoch':1:1: the value must be epoch, but this is count"},
      {R"j({"citizen":"@a","epoch":null})j", "BAD_ARGS: argument 'epoch': null is not a value"},
      {R"j({"citizen":"@a","epoch":"today"})j", "BAD_ARGS: argument 'epoch':1:1: 'today' is not known here; write a date such as 2026-01-01"},
      {R"j({"citizen":"@a","epoch":"plan_cap(epoch 1)"})j", "BAD_ARGS: argument 'epoch':1:1: the ledger cannot be read here: write a value"},
      {R"j({"citizen":"@a","epoch":"epoch 1")j", "BAD_JSON: at byte 33: expected ',' or '}'"},
      {R"j({"citizen":"@a","citizen":"@b"})j", "BAD_JSON: at byte 25: the key \"citizen\" appears twice"},
      {R"j({"citizen":"@a","epoch":1e3})j", "BAD_JSON: at byte 25: exponents are not accepted; write the number out"},
  };
  for (const auto& [json, error] : cases) {
    Result<std::vector<Value>> args = HookArgsFromJson(Hook::kEpochClosed, json);
    ASSERT_FALSE(args.ok()) << json;
    EXPECT_EQ(args.status().ToString(), error) << json;
  }
  Result<std::vector<Value>> ok = HookArgsFromJson(Hook::kRedemptionRequested,
                                                   R"j({"category":"#milk","holder":"@a","class":"guarantee","amount":"2 credits"})j");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 4u);  // in the hook's order, whatever the JSON order
  EXPECT_EQ((*ok)[0].str(), "a");
  EXPECT_EQ((*ok)[1].number, static_cast<int64_t>(VoucherClass::kGuarantee));
  EXPECT_EQ((*ok)[2].number, 2000);
  EXPECT_EQ((*ok)[3].str(), "milk");
  Result<std::vector<Value>> count = HookArgsFromJson(Hook::kRedemptionRequested,
                                                      R"j({"holder":"@a","class":"guarantee","amount":2,"category":"#milk"})j");
  EXPECT_EQ(count.status().ToString(), "BAD_ARGS: argument 'amount':1:1: the value must be credits, but this is count");
}

}  // namespace
}  // namespace gongshe::contracts
