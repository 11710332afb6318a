// `gongshe law ...`: check, test and run law modules locally (no node needed).

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "contracts/json.h"
#include "contracts/law.h"
#include "contracts/lexer.h"
#include "contracts/parser.h"
#include "contracts/checker.h"

namespace gongshe::cli {
namespace {

using contracts::Law;

Result<std::string> ReadSource(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status("NO_FILE", "cannot open " + path);
  std::string text;
  text.resize(contracts::kMaxSourceBytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > contracts::kMaxSourceBytes) {
    return Status("LAW_SYNTAX", path + ":1:1: the law is larger than " + std::to_string(contracts::kMaxSourceBytes) + " bytes");
  }
  return text;
}

Result<std::shared_ptr<const Law>> LoadFile(const std::string& path) {
  Result<std::string> src = ReadSource(path);
  if (!src.ok()) return src.status();
  return Law::Load(path, *src);
}

[[noreturn]] void Fail(const char* command, const Status& s, bool json) {
  if (json) {
    std::printf("{\"ok\":false,\"code\":%s,\"error\":%s}\n", contracts::JsonQuote(s.code()).c_str(),
                contracts::JsonQuote(s.message()).c_str());
  }
  std::fprintf(stderr, "gongshe law %s: %s\n", command, s.message().c_str());
  throw CLI::RuntimeError(1);
}

void AddCheck(CLI::App& law) {
  CLI::App* cmd = law.add_subcommand("check", "Parse and type-check law modules without running them");
  static std::vector<std::string> files;
  static bool json = false;
  cmd->add_option("FILE", files, "Law source files (.law)")->required();
  cmd->add_flag("--json", json, "Print one JSON object");
  cmd->callback([] {
    std::string out = "{\"ok\":true,\"laws\":[";
    for (size_t i = 0; i < files.size(); ++i) {
      Result<std::shared_ptr<const Law>> law = LoadFile(files[i]);
      if (!law.ok()) Fail("check", law.status(), json);
      const contracts::Module& m = (*law)->module();
      if (json) {
        out += std::string(i ? "," : "") + "{\"file\":" + contracts::JsonQuote(files[i]) + ",\"name\":" + contracts::JsonQuote(m.name) +
               ",\"version\":" + std::to_string(m.version) + ",\"params\":" + std::to_string(m.params.size()) +
               ",\"rules\":" + std::to_string(m.rules.size()) + ",\"tests\":" + std::to_string(m.tests.size()) + "}";
      } else {
        std::printf("%s: ok — law %s version %lld: %zu parameters, %zu rules, %zu tests\n", files[i].c_str(), m.name.c_str(),
                    static_cast<long long>(m.version), m.params.size(), m.rules.size(), m.tests.size());
      }
    }
    if (json) std::printf("%s]}\n", out.c_str());
  });
}

void AddTest(CLI::App& law) {
  CLI::App* cmd = law.add_subcommand("test", "Run the tests written inside law modules");
  static std::vector<std::string> files;
  static bool json = false;
  static bool explain = false;
  cmd->add_option("FILE", files, "Law source files (.law)")->required();
  cmd->add_flag("--json", json, "Print one JSON object");
  cmd->add_flag("--explain", explain, "Print the explanation trace of every test, not only of failing ones");
  cmd->callback([] {
    size_t passed = 0, failed = 0;
    std::string out = "{\"results\":[";
    bool first = true;
    for (const std::string& file : files) {
      Result<std::shared_ptr<const Law>> law = LoadFile(file);
      if (!law.ok()) Fail("test", law.status(), json);
      for (const contracts::TestResult& r : (*law)->RunTests()) {
        (r.passed ? passed : failed) += 1;
        std::string where = file + ":" + std::to_string(r.pos.line);
        if (json) {
          out += std::string(first ? "" : ",") + "{\"law\":" + contracts::JsonQuote((*law)->name()) + ",\"test\":" +
                 contracts::JsonQuote(r.name) + ",\"where\":" + contracts::JsonQuote(where) + ",\"passed\":" +
                 (r.passed ? "true" : "false") + ",\"detail\":" + contracts::JsonQuote(r.detail) + "}";
          first = false;
          continue;
        }
        std::printf("%s %s (%s): %s\n", r.passed ? "PASS" : "FAIL", (*law)->name().c_str(), where.c_str(), r.name.c_str());
        if (!r.passed) std::printf("  %s\n", r.detail.c_str());
        if (!r.passed || explain) {
          for (const std::string& line : r.trace) std::printf("    | %s\n", line.c_str());
        }
      }
    }
    if (json) {
      std::printf("%s],\"passed\":%zu,\"failed\":%zu}\n", out.c_str(), passed, failed);
    } else {
      std::printf("%zu passed, %zu failed\n", passed, failed);
    }
    if (failed > 0) throw CLI::RuntimeError(1);
  });
}

void AddRun(CLI::App& law) {
  CLI::App* cmd = law.add_subcommand(
      "run", "Run a law's rules for one hook on an empty ledger (nothing issued, no plan) and print the effects");
  static std::string file, hook_name, args_json, today_text = "2026-01-01";
  static uint64_t fuel = contracts::kDefaultFuel;
  static bool explain = false, json = false;
  cmd->add_option("FILE", file, "Law source file (.law)")->required();
  cmd->add_option("--hook", hook_name, "attendance_recorded, week_closed, epoch_closed, issuance_requested, "
                                      "redemption_requested or proposal_tallied")->required();
  cmd->add_option("--args", args_json, "The hook's arguments as a JSON object, e.g. "
                                      "'{\"worker\":\"@alice\",\"week\":\"week 3\",\"worked\":\"45h\",\"rate\":\"1 credits per hour\"}'")
      ->required();
  cmd->add_option("--today", today_text, "The date that selects each parameter's value (default 2026-01-01)");
  cmd->add_option("--fuel", fuel, "Fuel allowance for the run")->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000'000}));
  cmd->add_flag("--explain", explain, "Print why: which rule fired, with which values");
  cmd->add_flag("--json", json, "Print one JSON object");
  cmd->callback([] {
    Result<std::shared_ptr<const Law>> law = LoadFile(file);
    if (!law.ok()) Fail("run", law.status(), json);
    std::optional<contracts::Hook> hook = contracts::HookFromName(hook_name);
    if (!hook) Fail("run", Status("BAD_ARGS", "there is no hook '" + hook_name + "'"), json);
    Result<std::vector<contracts::Value>> args = contracts::HookArgsFromJson(*hook, args_json);
    if (!args.ok()) Fail("run", args.status(), json);
    Result<contracts::ExprPtr> today_expr = contracts::ParseExpression("--today", today_text);
    if (!today_expr.ok()) Fail("run", today_expr.status(), json);
    Result<contracts::Value> today =
        contracts::CheckConstant("--today", **today_expr, *contracts::Type::Of(contracts::Base::kDate));
    if (!today.ok()) Fail("run", today.status(), json);
    contracts::RunOptions options;
    options.today = today->number;
    options.fuel = fuel;
    options.explain = explain;
    contracts::EmptyLawHost host;
    Result<contracts::Outcome> out = (*law)->Run(*hook, *args, host, options);
    if (!out.ok()) Fail("run", out.status(), json);
    if (json) {
      std::printf("%s\n", contracts::OutcomeToJson(*out).c_str());
      return;
    }
    if (out->effects.empty()) std::printf("no effects\n");
    for (const contracts::Effect& e : out->effects) std::printf("%s\n", contracts::DescribeEffect(e).c_str());
    if (explain) {
      std::printf("why:\n");
      for (const std::string& line : out->trace) std::printf("  %s\n", line.c_str());
    }
    std::printf("fuel used: %llu of %llu\n", static_cast<unsigned long long>(out->fuel_used), static_cast<unsigned long long>(fuel));
  });
}

}  // namespace

void AddLawCommands(CLI::App& app) {
  CLI::App* law = app.add_subcommand("law", "Laws as code: check, test and run law modules");
  law->require_subcommand(1);
  AddCheck(*law);
  AddTest(*law);
  AddRun(*law);
}

}  // namespace gongshe::cli
