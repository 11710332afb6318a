// `gongshe plan solve|verify|explain`: make a period's plan from its input files, check a plan
// exactly against them, and show what drives a product's gross output (planner/README.md).

#include <charconv>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "common/file.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"

namespace gongshe::cli {
namespace {

using namespace gongshe::planner;

struct Inputs {
  std::string matrix, labour, demand;
};

struct Options {
  Inputs inputs;
  std::string out = "plan.pb";
  std::string plan_path;
  std::string product;
  size_t top = 10;
  int threads = 1;
  bool json = false;
};

[[noreturn]] void Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "gongshe plan %s: %s\n", command, status.ToString().c_str());
  throw CLI::RuntimeError(1);
}

void AddInputs(CLI::App* cmd, Inputs& in) {
  cmd->add_option("--matrix", in.matrix, "Technical coefficients A, Matrix Market coordinate real general")->required();
  cmd->add_option("--labour,--products", in.labour, "Products CSV: product,name,labour_hours,capacity")->required();
  cmd->add_option("--demand", in.demand, "Final demand CSV: product,consumer,public,accumulation")->required();
}

Economy Load(const char* command, const Inputs& in) {
  Result<Economy> e = LoadEconomy(in.matrix, in.labour, in.demand);
  if (!e.ok()) Fail(command, e.status());
  return std::move(e).value();
}

std::string Hours(int64_t micro) { return FormatFixed(micro, kHoursDecimals); }

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

void RunSolve(const Options& o) {
  Economy e = Load("solve", o.inputs);
  SolverOptions solver;
  solver.threads = o.threads;
  Result<MadePlan> made = MakePlan(e, solver);
  if (!made.ok()) Fail("solve", made.status());
  const v1::Plan& p = made->plan;
  std::string bytes = p.SerializeAsString();
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  if (!out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) || !out.flush()) {
    Fail("solve", Status("IO_ERROR", "cannot write " + o.out));
  }
  std::string plan_hash = ToHex(Sha256Of(AsBytes(bytes)));
  if (o.json) {
    std::printf("{\"products\":%u,\"non_zeros\":%llu,\"method\":\"%s\",\"iterations\":%d,\"refinements\":%d,"
                "\"consumer_labour_hours\":\"%s\",\"public_labour_hours\":\"%s\",\"accumulation_labour_hours\":\"%s\","
                "\"total_labour_hours\":\"%s\",\"plan\":%s,\"plan_bytes\":%zu,\"plan_sha256\":\"%s\"}\n",
                e.n(), static_cast<unsigned long long>(e.a.nnz()), SolverMethodName(made->stats.method),
                made->stats.iterations, made->stats.refinements, Hours(p.consumer_labour_micro_hours()).c_str(),
                Hours(p.public_labour_micro_hours()).c_str(), Hours(p.accumulation_labour_micro_hours()).c_str(),
                Hours(p.total_labour_micro_hours()).c_str(), Quote(o.out).c_str(), bytes.size(), plan_hash.c_str());
    return;
  }
  std::printf("%u products, %llu non-zeros; solved by %s (%d iterations, %d refinements)\n", e.n(),
              static_cast<unsigned long long>(e.a.nnz()), SolverMethodName(made->stats.method), made->stats.iterations,
              made->stats.refinements);
  std::printf("issuance cap (labour value of consumer goods): %s h\n", Hours(p.consumer_labour_micro_hours()).c_str());
  std::printf("labour value of public projects:               %s h\n", Hours(p.public_labour_micro_hours()).c_str());
  std::printf("labour value of accumulation:                  %s h\n", Hours(p.accumulation_labour_micro_hours()).c_str());
  std::printf("total direct labour of the plan:               %s h\n", Hours(p.total_labour_micro_hours()).c_str());
  std::printf("plan written to %s (%zu bytes, sha256 %s)\n", o.out.c_str(), bytes.size(), plan_hash.c_str());
}

void RunVerify(const Options& o) {
  Economy e = Load("verify", o.inputs);
  Result<std::string> bytes = ReadFileBytes(o.plan_path, kMaxPlanBytes);
  if (!bytes.ok()) Fail("verify", bytes.status());
  Result<VerifiedPlan> verified = VerifyPlan(AsBytes(*bytes), e);
  if (o.json) {
    std::printf("%s\n", VerificationJson(verified).c_str());
  } else if (verified.ok()) {
    std::printf("valid: %u products, issuance cap %s h, total labour %s h\n", verified->products,
                Hours(verified->totals.consumer).c_str(), Hours(verified->totals.total).c_str());
  }
  if (!verified.ok()) Fail("verify", verified.status());
}

// A 1-based product number or an exact product name.
uint32_t FindProduct(const Economy& e, const std::string& product) {
  for (uint32_t j = 0; j < e.n(); ++j) {
    if (!e.names[j].empty() && e.names[j] == product) return j;
  }
  uint32_t k = 0;
  auto [end, ec] = std::from_chars(product.data(), product.data() + product.size(), k);
  if (ec != std::errc() || end != product.data() + product.size() || k == 0 || k > e.n()) {
    Fail("explain", Status("BAD_PRODUCT", "'" + product + "' is neither a product name nor a number 1.." + std::to_string(e.n())));
  }
  return k - 1;
}

void RunExplain(const Options& o) {
  Economy e = Load("explain", o.inputs);
  uint32_t product = FindProduct(e, o.product);
  SolverOptions options;
  options.threads = o.threads;
  Result<std::unique_ptr<LeontiefSolver>> solver = LeontiefSolver::Create(e.a, options);
  if (!solver.ok()) Fail("explain", solver.status());
  Result<Explanation> why = Explain(e, **solver, product, o.top);
  if (!why.ok()) Fail("explain", why.status());
  auto label = [&](uint32_t j) { return std::to_string(j + 1) + (e.names[j].empty() ? "" : " " + e.names[j]); };
  if (o.json) {
    std::ostringstream drivers;
    for (size_t k = 0; k < why->drivers.size(); ++k) {
      const Driver& d = why->drivers[k];
      char line[256];
      std::snprintf(line, sizeof line, "%s{\"product\":%u,\"name\":%s,\"multiplier\":%.9g,\"demand\":%.9g,\"contribution\":%.9g}",
                    k ? "," : "", d.product + 1, Quote(e.names[d.product]).c_str(), d.multiplier, d.demand, d.contribution);
      drivers << line;
    }
    std::printf("{\"product\":%u,\"name\":%s,\"gross_output\":%.9g,\"drivers\":[%s]}\n", product + 1,
                Quote(e.names[product]).c_str(), why->gross_output, drivers.str().c_str());
    return;
  }
  std::printf("gross output of product %s: %.6f\n", label(product).c_str(), why->gross_output);
  std::printf("largest contributions of final demand, through the Leontief inverse (I - A)^-1:\n");
  std::printf("  %-30s %14s %16s %16s %8s\n", "final demand for", "multiplier", "demand", "contribution", "share");
  for (const Driver& d : why->drivers) {
    double share = why->gross_output != 0 ? 100.0 * d.contribution / why->gross_output : 0.0;
    std::printf("  %-30s %14.6f %16.6f %16.6f %7.2f%%\n", label(d.product).c_str(), d.multiplier, d.demand,
                d.contribution, share);
  }
}

}  // namespace

void AddPlanCommands(CLI::App& app) {
  CLI::App* plan = app.add_subcommand("plan", "Input-output planning: solve, verify and explain a period's plan");
  plan->require_subcommand(1);
  static Options o;

  CLI::App* solve = plan->add_subcommand(
      "solve", "Solve (I - A) x = d and v = l (I - A)^-1, certify the fixed-point plan and write it");
  AddInputs(solve, o.inputs);
  solve->add_option("--out", o.out, "Where to write the plan (gongshe.v1.Plan protobuf)")->capture_default_str();
  solve->add_option("--threads", o.threads, "Solver threads (0: every core; one is faster on a shared machine, see bench/RESULTS.md)")->capture_default_str();
  solve->add_flag("--json", o.json, "Print a JSON summary");
  solve->callback([] { RunSolve(o); });

  CLI::App* verify = plan->add_subcommand("verify", "Check a plan exactly against its input files (integer arithmetic)");
  verify->add_option("plan", o.plan_path, "The plan file")->required();
  AddInputs(verify, o.inputs);
  verify->add_flag("--json", o.json, "Print the canonical JSON verdict");
  verify->callback([] { RunVerify(o); });

  CLI::App* explain = plan->add_subcommand(
      "explain", "Show what drives a product's gross output: the largest contributions of final demand");
  explain->add_option("product", o.product, "Product number (1-based) or exact name")->required();
  AddInputs(explain, o.inputs);
  explain->add_option("--top", o.top, "How many contributions to show")->capture_default_str()->check(CLI::Range(1, 1000));
  explain->add_option("--threads", o.threads, "Solver threads (0: every core; one is faster on a shared machine, see bench/RESULTS.md)")->capture_default_str();
  explain->add_flag("--json", o.json, "Print JSON");
  explain->callback([] { RunExplain(o); });
}

}  // namespace gongshe::cli
