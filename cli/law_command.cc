// `gongshe law ...`: check, test and run law modules locally (no node needed); list, show and
// compare the laws stored on a ledger, through a node's API.

#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cli/api_args.h"
#include "cli/commands.h"
#include "contracts/json.h"
#include "contracts/law.h"
#include "contracts/lexer.h"
#include "contracts/parser.h"
#include "contracts/checker.h"
#include "contracts/text_diff.h"
#include "node/law_text.h"

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

[[noreturn]] void FailLaw(const char* command, const Status& s, bool json) {
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
      if (!law.ok()) FailLaw("check", law.status(), json);
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
      if (!law.ok()) FailLaw("test", law.status(), json);
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
    if (!law.ok()) FailLaw("run", law.status(), json);
    std::optional<contracts::Hook> hook = contracts::HookFromName(hook_name);
    if (!hook) FailLaw("run", Status("BAD_ARGS", "there is no hook '" + hook_name + "'"), json);
    Result<std::vector<contracts::Value>> args = contracts::HookArgsFromJson(*hook, args_json);
    if (!args.ok()) FailLaw("run", args.status(), json);
    Result<contracts::ExprPtr> today_expr = contracts::ParseExpression("--today", today_text);
    if (!today_expr.ok()) FailLaw("run", today_expr.status(), json);
    Result<contracts::Value> today =
        contracts::CheckConstant("--today", **today_expr, *contracts::Type::Of(contracts::Base::kDate));
    if (!today.ok()) FailLaw("run", today.status(), json);
    contracts::RunOptions options;
    options.today = today->number;
    options.fuel = fuel;
    options.explain = explain;
    contracts::EmptyLawHost host;
    Result<contracts::Outcome> out = (*law)->Run(*hook, *args, host, options);
    if (!out.ok()) FailLaw("run", out.status(), json);
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

void PrintLaws(const v1::LawsResponse& laws) {
  std::printf("laws in force at height %llu (law set %s)\n", U(laws.height()), laws.law_set_hash().c_str());
  std::printf("each run has %llu fuel; labour is paid at %s credits per hour\n", U(laws.fuel_per_run()),
              node::CreditsText(laws.labour_rate_milli_per_hour()).c_str());
  for (const v1::LawView& law : laws.laws()) {
    std::printf("  %-20s version %-3lld from height %-6llu %s  %s\n", law.name().c_str(),
                static_cast<long long>(law.version()), U(law.effective_height()), law.source_hash().substr(0, 16).c_str(),
                law.file().c_str());
  }
}

void PrintLaw(const v1::LawResponse& answer) {
  const v1::LawView& law = answer.law();
  std::printf("law %s version %lld, %s\n", law.name().c_str(), static_cast<long long>(law.version()),
              law.in_force() ? ("in force from height " + std::to_string(law.effective_height())).c_str()
                             : "not in force");
  std::printf("file        %s\n", law.file().c_str());
  std::printf("sha256      %s\n", law.source_hash().c_str());
  std::printf("enacted at  height %llu%s\n", U(law.enacted_height()), law.enacted_height() == 0 ? " (genesis)" : "");
  if (law.previous_version() != 0) std::printf("replaces    version %lld\n", static_cast<long long>(law.previous_version()));
  std::printf("\n%s", law.source().c_str());
  if (!law.source().empty() && law.source().back() != '\n') std::printf("\n");
}

void AddList(CLI::App& law) {
  CLI::App* cmd = law.add_subcommand("list", "The laws in force on a ledger, read from a node");
  static NodeOptions node;
  AddNodeOptions(*cmd, node);
  cmd->callback([] {
    const v1::LawsResponse laws = ValueOrFail("law list", ConnectOrFail("law list", node)->GetLaws(), node.json);
    if (node.json) {
      std::printf("%s\n", ToJsonLine(laws).c_str());
    } else {
      PrintLaws(laws);
    }
  });
}

void AddShow(CLI::App& law) {
  CLI::App* cmd = law.add_subcommand("show", "A law stored on a ledger, with its text, read from a node");
  static NodeOptions node;
  static std::string name;
  static int64_t version = 0;
  cmd->add_option("NAME", name, "The law's name, e.g. overtime_pay")->required();
  cmd->add_option("--version", version, "A stored version (default: the one in force)")
      ->check(CLI::Range(int64_t{1}, INT64_MAX));
  AddNodeOptions(*cmd, node);
  cmd->callback([] {
    std::optional<int64_t> wanted;
    if (version > 0) wanted = version;
    const v1::LawResponse answer =
        ValueOrFail("law show", ConnectOrFail("law show", node)->GetLaw(name, wanted), node.json);
    if (node.json) {
      std::printf("%s\n", ToJsonLine(answer).c_str());
    } else {
      PrintLaw(answer);
    }
  });
}

void AddDiff(CLI::App& law) {
  CLI::App* cmd = law.add_subcommand(
      "diff", "Compare two versions of a law stored on a ledger (NAME V1 V2), or a stored version with a\n"
              "local file (NAME V1 --file PATH, e.g. a proposed amendment), as a unified diff");
  static NodeOptions node;
  static std::string name, file;
  static int64_t from = 0, to = 0;
  cmd->add_option("NAME", name, "The law's name")->required();
  cmd->add_option("V1", from, "The stored version to compare from")->required()->check(CLI::Range(int64_t{1}, INT64_MAX));
  CLI::Option* to_option = cmd->add_option("V2", to, "The stored version to compare to")->check(CLI::Range(int64_t{1}, INT64_MAX));
  CLI::Option* file_option = cmd->add_option("--file", file, "A local .law file to compare to, instead of V2");
  to_option->excludes(file_option);
  AddNodeOptions(*cmd, node);
  cmd->callback([to_option, file_option] {
    if (to_option->count() + file_option->count() != 1) {
      Fail("law diff", Status("BAD_ARGS", "give the version to compare to (V2) or --file PATH"), node.json);
    }
    std::unique_ptr<node::Client> client = ConnectOrFail("law diff", node);
    const v1::LawResponse old_law = ValueOrFail("law diff", client->GetLaw(name, from), node.json);
    std::string new_text, new_label;
    if (to_option->count() == 1) {
      new_text = ValueOrFail("law diff", client->GetLaw(name, to), node.json).law().source();
      new_label = name + " version " + std::to_string(to);
    } else {
      new_text = ValueOrFail("law diff", ReadSource(file), node.json);
      new_label = file;
    }
    const std::string old_label = name + " version " + std::to_string(from);
    const std::string diff =
        ValueOrFail("law diff", contracts::UnifiedDiff(old_law.law().source(), new_text, old_label, new_label), node.json);
    if (node.json) {
      std::printf("{\"name\":%s,\"from\":%s,\"to\":%s,\"same\":%s,\"diff\":%s}\n", contracts::JsonQuote(name).c_str(),
                  contracts::JsonQuote(old_label).c_str(), contracts::JsonQuote(new_label).c_str(),
                  diff.empty() ? "true" : "false", contracts::JsonQuote(diff).c_str());
    } else if (diff.empty()) {
      std::printf("%s and %s are the same text\n", old_label.c_str(), new_label.c_str());
    } else {
      std::printf("%s", diff.c_str());
    }
  });
}

}  // namespace

void AddLawCommands(CLI::App& app) {
  CLI::App* law = app.add_subcommand(
      "law", "Laws as code: check, test and run law modules; list, show and diff the laws on a ledger");
  law->require_subcommand(1);
  AddCheck(*law);
  AddTest(*law);
  AddRun(*law);
  AddList(*law);
  AddShow(*law);
  AddDiff(*law);
}

}  // namespace gongshe::cli
