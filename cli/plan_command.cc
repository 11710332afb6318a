// `gongshe plan solve|verify|explain|guide`: make a period's plan from its input files, check a plan
// exactly against them, show what drives a product's gross output, and forecast demand with its
// uncertainty and the consequences for gross outputs (planner/README.md).

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "common/file.h"
#include "planner/fixed_point.h"
#include "planner/guide.h"
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
  // guide
  std::string history;
  std::string coverage = "0.9";
  std::string explain;
  std::string demand_out;
};

[[noreturn]] void Fail(const char* command, const Status& status) {
  std::fprintf(stderr, "gongshe plan %s: %s\n", command, status.ToString().c_str());
  throw CLI::RuntimeError(1);
}

void AddInputs(CLI::App* cmd, Inputs& in, bool with_demand = true) {
  cmd->add_option("--matrix", in.matrix, "Technical coefficients A, Matrix Market coordinate real general")->required();
  cmd->add_option("--labour,--products", in.labour, "Products CSV: product,name,labour_hours,capacity")->required();
  if (with_demand) {
    cmd->add_option("--demand", in.demand, "Final demand CSV: product,consumer,public,accumulation")->required();
  }
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
    std::printf("{\"products\":%u,\"non_zeros\":%llu,\"method\":\"%s\",\"passes\":%d,\"iterations\":%d,\"refinements\":%d,"
                "\"consumer_labour_hours\":\"%s\",\"public_labour_hours\":\"%s\",\"accumulation_labour_hours\":\"%s\","
                "\"total_labour_hours\":\"%s\",\"plan\":%s,\"plan_bytes\":%zu,\"plan_sha256\":\"%s\"}\n",
                e.n(), static_cast<unsigned long long>(e.a.nnz()), SolverMethodName(made->stats.method),
                made->stats.passes, made->stats.iterations, made->stats.refinements,
                Hours(p.consumer_labour_micro_hours()).c_str(),
                Hours(p.public_labour_micro_hours()).c_str(), Hours(p.accumulation_labour_micro_hours()).c_str(),
                Hours(p.total_labour_micro_hours()).c_str(), Quote(o.out).c_str(), bytes.size(), plan_hash.c_str());
    return;
  }
  std::printf("%u products, %llu non-zeros; solved by %s (%d passes, %d BiCGSTAB iterations, %d refinements)\n",
              e.n(), static_cast<unsigned long long>(e.a.nnz()), SolverMethodName(made->stats.method),
              made->stats.passes, made->stats.iterations, made->stats.refinements);
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
uint32_t FindProduct(const char* command, const Economy& e, const std::string& product) {
  for (uint32_t j = 0; j < e.n(); ++j) {
    if (!e.names[j].empty() && e.names[j] == product) return j;
  }
  uint32_t k = 0;
  auto [end, ec] = std::from_chars(product.data(), product.data() + product.size(), k);
  if (ec != std::errc() || end != product.data() + product.size() || k == 0 || k > e.n()) {
    Fail(command, Status("BAD_PRODUCT", "'" + product + "' is neither a product name nor a number 1.." + std::to_string(e.n())));
  }
  return k - 1;
}

void RunExplain(const Options& o) {
  Economy e = Load("explain", o.inputs);
  uint32_t product = FindProduct("explain", e, o.product);
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

std::string Units(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

// Where the demand interval puts a product against its capacity: the lowest end above it.
const char* CapacityRisk(const Economy& e, const Guidance& g, uint32_t j) {
  if (e.capacity[j] == Economy::kNoCapacity) return "none";
  const double cap = static_cast<double>(e.capacity[j]) / static_cast<double>(kQuantityScale);
  if (g.gross_low[j] > cap) return "low";
  if (g.gross_point[j] > cap) return "point";
  if (g.gross_high[j] > cap) return "high";
  return "none";
}

// The point forecast as a demand file for `plan solve` (consumer column; public and accumulation 0).
void WriteDemand(const Guidance& g, const std::string& path) {
  std::string out = "product,consumer,public,accumulation\n";
  for (size_t j = 0; j < g.demand.size(); ++j) {
    const auto micro = static_cast<int64_t>(std::llround(g.demand[j].point * static_cast<double>(kQuantityScale)));
    if (micro > 0) out += std::to_string(j + 1) + "," + FormatFixed(micro, kQuantityDecimals) + ",0,0\n";
  }
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file.write(out.data(), static_cast<std::streamsize>(out.size())) || !file.flush()) {
    Fail("guide", Status("IO_ERROR", "cannot write " + path));
  }
}

void PrintGuideJson(const Economy& e, const Guidance& g, const Explanation* why) {
  std::string out = "{\"period\":" + std::to_string(g.period) + ",\"coverage\":\"" +
                    FormatFixed(g.coverage_micro, kQuantityDecimals) + "\",\"method\":\"linear-trend-student-t\",\"products\":[";
  for (uint32_t j = 0; j < e.n(); ++j) {
    const Forecast& f = g.demand[j];
    out += std::string(j ? "," : "") + "{\"product\":" + std::to_string(j + 1) + ",\"name\":" + Quote(e.names[j]) +
           ",\"periods\":" + std::to_string(f.periods) + ",\"forecast\":" + Units(f.point) + ",\"low\":" + Units(f.low) +
           ",\"high\":" + Units(f.high) + ",\"slope\":" + Units(f.slope) + ",\"residual_sd\":" + Units(f.residual_sd) +
           ",\"gross_output\":{\"low\":" + Units(g.gross_low[j]) + ",\"point\":" + Units(g.gross_point[j]) +
           ",\"high\":" + Units(g.gross_high[j]) + "},\"capacity\":" +
           (e.capacity[j] == Economy::kNoCapacity ? std::string("null") : FormatFixed(e.capacity[j], kQuantityDecimals)) +
           ",\"over_capacity\":\"" + CapacityRisk(e, g, j) + "\"}";
  }
  out += "],\"issuance_cap_hours\":{\"low\":" + Units(g.cap_low) + ",\"point\":" + Units(g.cap_point) +
         ",\"high\":" + Units(g.cap_high) + "}";
  if (why) {
    out += ",\"explain\":{\"product\":" + std::to_string(why->product + 1) + ",\"width\":" + Units(why->gross_output) +
           ",\"drivers\":[";
    for (size_t k = 0; k < why->drivers.size(); ++k) {
      const Driver& d = why->drivers[k];
      out += std::string(k ? "," : "") + "{\"product\":" + std::to_string(d.product + 1) + ",\"name\":" +
             Quote(e.names[d.product]) + ",\"multiplier\":" + Units(d.multiplier) + ",\"demand_width\":" +
             Units(d.demand) + ",\"contribution\":" + Units(d.contribution) + "}";
    }
    out += "]}";
  }
  std::printf("%s}\n", out.c_str());
}

void PrintGuideText(const Economy& e, const Guidance& g, const Explanation* why) {
  auto label = [&](uint32_t j) { return std::to_string(j + 1) + (e.names[j].empty() ? "" : " " + e.names[j]); };
  std::string percent = FormatFixed(g.coverage_micro, 4);  // e.g. "90.0000" -> "90"
  percent.erase(percent.find_last_not_of('0') + 1);
  if (percent.back() == '.') percent.pop_back();
  std::printf("guidance for period %lld: linear-trend forecasts with %s%% prediction intervals\n",
              static_cast<long long>(g.period), percent.c_str());
  std::printf("  %-24s %7s %14s %14s %14s | %14s %14s %14s  %s\n", "product", "periods", "forecast", "low", "high",
              "gross out low", "point", "high", "capacity");
  for (uint32_t j = 0; j < e.n(); ++j) {
    const Forecast& f = g.demand[j];
    const char* risk = CapacityRisk(e, g, j);
    std::printf("  %-24s %7u %14.6f %14.6f %14.6f | %14.6f %14.6f %14.6f  %s\n", label(j).c_str(), f.periods, f.point,
                f.low, f.high, g.gross_low[j], g.gross_point[j], g.gross_high[j],
                std::string(risk) == "none" ? "" : (std::string("exceeded at ") + risk).c_str());
  }
  std::printf("issuance cap (labour value of consumer demand): %.6f h (low %.6f, high %.6f)\n", g.cap_point, g.cap_low,
              g.cap_high);
  std::printf("the gross outputs bound those of every demand inside the intervals exactly: (I - A)^-1 >= 0, proved\n");
  if (why) {
    std::printf("width of product %s's gross-output interval: %.6f, from the demand intervals of:\n",
                label(why->product).c_str(), why->gross_output);
    std::printf("  %-30s %14s %16s %16s\n", "product", "multiplier", "demand width", "contribution");
    for (const Driver& d : why->drivers) {
      std::printf("  %-30s %14.6f %16.6f %16.6f\n", label(d.product).c_str(), d.multiplier, d.demand, d.contribution);
    }
  }
}

void RunGuide(const Options& o) {
  Result<Economy> loaded = LoadEconomyWithoutDemand(o.inputs.matrix, o.inputs.labour);
  if (!loaded.ok()) Fail("guide", loaded.status());
  const Economy& e = *loaded;
  Result<int64_t> coverage = ParseFixed(o.coverage, kQuantityDecimals, kQuantityScale);
  if (!coverage.ok() || *coverage <= 0 || *coverage >= kQuantityScale) {
    Fail("guide", Status("BAD_COVERAGE", "--coverage must be a decimal strictly between 0 and 1 with at most 6 "
                                         "decimals, got '" + o.coverage + "'"));
  }
  Result<History> history = LoadHistory(o.history, e.n());
  if (!history.ok()) Fail("guide", history.status());
  SolverOptions options;
  options.threads = o.threads;
  Result<std::unique_ptr<LeontiefSolver>> solver = LeontiefSolver::Create(e.a, options);
  if (!solver.ok()) Fail("guide", solver.status());
  Result<Guidance> g = Guide(e, *history, *coverage, **solver);
  if (!g.ok()) Fail("guide", g.status());
  std::optional<Explanation> why;
  if (!o.explain.empty()) {
    const uint32_t product = FindProduct("guide", e, o.explain);
    Eigen::VectorXd width(e.n());
    for (uint32_t j = 0; j < e.n(); ++j) width[j] = g->demand[j].high - g->demand[j].low;
    Result<Explanation> explained = Explain(**solver, width, product, o.top);
    if (!explained.ok()) Fail("guide", explained.status());
    why = std::move(explained).value();
  }
  if (!o.demand_out.empty()) WriteDemand(*g, o.demand_out);
  if (o.json) {
    PrintGuideJson(e, *g, why ? &*why : nullptr);
  } else {
    PrintGuideText(e, *g, why ? &*why : nullptr);
  }
}

}  // namespace

void AddPlanCommands(CLI::App& app) {
  CLI::App* plan = app.add_subcommand("plan", "Input-output planning: solve, verify, explain and guide a period's plan");
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

  CLI::App* guide = plan->add_subcommand(
      "guide", "Forecast each product's consumer demand with a prediction interval from its history, and the gross "
               "outputs and issuance cap across that interval");
  AddInputs(guide, o.inputs, /*with_demand=*/false);
  guide->add_option("--history", o.history, "Demand history CSV: product,period,quantity")->required();
  guide->add_option("--coverage", o.coverage, "Two-sided coverage of the prediction intervals, in (0, 1)")
      ->capture_default_str();
  guide->add_option("--explain", o.explain, "Also show which demand intervals widen this product's gross output "
                                            "(number or exact name)");
  guide->add_option("--top", o.top, "How many contributions --explain shows")->capture_default_str()->check(CLI::Range(1, 1000));
  guide->add_option("--demand-out", o.demand_out, "Write the point forecast as a demand CSV for `plan solve`");
  guide->add_option("--threads", o.threads, "Solver threads (0: every core; one is faster on a shared machine, see bench/RESULTS.md)")->capture_default_str();
  guide->add_flag("--json", o.json, "Print JSON");
  guide->callback([] { RunGuide(o); });
}

}  // namespace gongshe::cli
