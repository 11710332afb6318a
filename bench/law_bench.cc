// The overtime-pay law on 1,000,000 week closures, through Law::Run as the state machine calls it
// (same options: the chain's fuel per run, no explanation; the member is the 64 hex digits of a
// key). bench/law_bench.py runs this and the same logic in Lua 5.4 (bench/lua/overtime_pay.lua)
// on one input file and compares. Input: one closure per line, "worker_hex week worked_minutes
// rate_milli_per_hour". The file is read and parsed before any timing; each repetition times
// the whole loop in this process's CPU time (as Lua's os.clock) and in wall-clock time.
//
// Three loops, interleaved per repetition: "metered" (Law::Run: the ledger's path), "unmetered"
// (RunHookUnmetered: the same interpreter compiled without the fuel check, to measure what
// metering costs), and "ledger" (metered, plus the second run with explanations that the state
// machine makes when a law issues). Prints one JSON object: medians over the repetitions, the
// totals of what was issued (which the script checks against Lua's), and the first `dump`
// effects when asked.
//
// Usage: gongshe_law_bench LAW_FILE INPUT_FILE [repetitions=5] [dump=0] [only=metered|unmetered|ledger]
// (`only` runs one loop: for counting instructions under valgrind, e.g. the metering's cost.)

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "contracts/host.h"
#include "contracts/interpreter.h"
#include "contracts/json.h"
#include "contracts/law.h"

namespace gongshe::contracts {
namespace {

struct Closure {
  uint32_t worker = 0;  // index into the worker ids
  int64_t week = 0;
  int64_t minutes = 0;
  int64_t rate_milli = 0;
};

struct Input {
  std::vector<Value> workers;  // member values, one per distinct id (as the ledger keeps keys)
  std::vector<Closure> closures;
};

struct Totals {
  uint64_t issues = 0;
  int64_t amount_milli = 0;
  uint64_t reason_bytes = 0;
  uint64_t fuel = 0;
  bool operator==(const Totals&) const = default;
};

struct Timing {
  double cpu_s = 0;
  double wall_s = 0;
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool ReadInput(const char* path, Input& in) {
  std::ifstream f(path);
  if (!f) return false;
  std::map<std::string, uint32_t> index;
  std::string id;
  Closure c;
  while (f >> id >> c.week >> c.minutes >> c.rate_milli) {
    auto [it, added] = index.emplace(id, static_cast<uint32_t>(in.workers.size()));
    if (added) in.workers.push_back(Value::Text(id));
    c.worker = it->second;
    in.closures.push_back(c);
  }
  return f.eof() && !in.closures.empty();
}

enum class Mode { kMetered, kUnmetered, kLedger };

// One pass over every closure. Returns false (after printing why) if a run fails.
bool Pass(const Law& law, const Input& in, Mode mode, Totals& totals, Timing& timing) {
  EmptyLawHost host;
  RunOptions options;
  options.fuel = kDefaultFuel;  // ledger::kStandardFuelPerRun
  std::array<Value, 4> args;
  const double cpu0 = CpuSeconds();
  const auto wall0 = std::chrono::steady_clock::now();
  for (const Closure& c : in.closures) {
    args[0] = in.workers[c.worker];
    args[1] = Value::Number(c.week);
    args[2] = Value::Number(c.minutes);
    args[3] = Value::Number(c.rate_milli);
    Result<Outcome> out = mode == Mode::kUnmetered ? RunHookUnmetered(law.module(), Hook::kWeekClosed, args, host, options)
                                                   : law.Run(Hook::kWeekClosed, args, host, options);
    if (out.ok() && mode == Mode::kLedger && !out->effects.empty()) {
      RunOptions explain = options;
      explain.explain = true;
      out = law.Run(Hook::kWeekClosed, args, host, explain);
    }
    if (!out.ok()) {
      std::fprintf(stderr, "run failed: %s\n", out.status().ToString().c_str());
      return false;
    }
    totals.fuel += out->fuel_used;
    for (const Effect& e : out->effects) {
      totals.issues += 1;
      totals.amount_milli += e.amount;
      totals.reason_bytes += e.reason.size();
    }
  }
  timing.cpu_s = CpuSeconds() - cpu0;
  timing.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  return true;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

void Dump(const Law& law, const Input& in, size_t n) {
  EmptyLawHost host;
  RunOptions options;
  std::printf("[");
  for (size_t i = 0; i < n && i < in.closures.size(); ++i) {
    const Closure& c = in.closures[i];
    std::array<Value, 4> args = {in.workers[c.worker], Value::Number(c.week), Value::Number(c.minutes), Value::Number(c.rate_milli)};
    Result<Outcome> out = law.Run(Hook::kWeekClosed, args, host, options);
    std::string line = out.ok() && !out->effects.empty()
                           ? out->effects[0].member + " " + std::to_string(out->effects[0].amount) + " " + out->effects[0].reason
                           : "-";
    std::printf("%s%s", i ? "," : "", JsonQuote(line).c_str());
  }
  std::printf("]");
}

int Main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: gongshe_law_bench LAW_FILE INPUT_FILE [repetitions=5] [dump=0] [only=metered|unmetered|ledger]\n");
    return 2;
  }
  std::ifstream lf(argv[1]);
  std::stringstream source;
  source << lf.rdbuf();
  Result<std::shared_ptr<const Law>> law = Law::Load(argv[1], source.str());
  if (!law.ok()) {
    std::fprintf(stderr, "%s\n", law.status().ToString().c_str());
    return 1;
  }
  Input in;
  if (!ReadInput(argv[2], in)) {
    std::fprintf(stderr, "cannot read the closures in %s\n", argv[2]);
    return 1;
  }
  const int reps = argc > 3 ? std::max(1, std::atoi(argv[3])) : 5;
  const size_t dump = argc > 4 ? static_cast<size_t>(std::max(0, std::atoi(argv[4]))) : 0;

  const Mode modes[] = {Mode::kMetered, Mode::kUnmetered, Mode::kLedger};
  const char* names[] = {"metered", "unmetered", "ledger"};
  const std::string only = argc > 5 ? argv[5] : "";
  if (!only.empty()) {
    for (size_t m = 0; m < 3; ++m) {
      if (only != names[m]) continue;
      Totals t;
      Timing timing;
      if (!Pass(**law, in, modes[m], t, timing)) return 1;
      std::printf("{\"only\":\"%s\",\"closures\":%zu,\"issues\":%llu,\"cpu_s\":%.4f}\n", names[m], in.closures.size(),
                  static_cast<unsigned long long>(t.issues), timing.cpu_s);
      return 0;
    }
    std::fprintf(stderr, "only: expected metered, unmetered or ledger, not '%s'\n", only.c_str());
    return 2;
  }
  std::array<std::vector<double>, 3> cpu, wall;
  std::array<Totals, 3> totals{};
  for (int r = 0; r < reps; ++r) {
    for (size_t m = 0; m < 3; ++m) {
      Totals t;
      Timing timing;
      if (!Pass(**law, in, modes[m], t, timing)) return 1;
      if (r > 0 && !(t == totals[m])) {
        std::fprintf(stderr, "repetition %d gave different totals\n", r);
        return 1;
      }
      totals[m] = t;
      cpu[m].push_back(timing.cpu_s);
      wall[m].push_back(timing.wall_s);
    }
  }
  // Fuel is not counted without metering; everything else must agree.
  if (totals[0].issues != totals[1].issues || totals[0].amount_milli != totals[1].amount_milli ||
      totals[0].reason_bytes != totals[1].reason_bytes || totals[0].issues != totals[2].issues ||
      totals[0].amount_milli != totals[2].amount_milli || totals[0].reason_bytes != totals[2].reason_bytes) {
    std::fprintf(stderr, "the loops disagree\n");
    return 1;
  }
  const double n = static_cast<double>(in.closures.size());
  std::printf("{\"closures\":%zu,\"workers\":%zu,\"repetitions\":%d,\"issues\":%llu,\"amount_milli\":%lld,\"reason_bytes\":%llu,"
              "\"fuel_used\":%llu",
              in.closures.size(), in.workers.size(), reps, static_cast<unsigned long long>(totals[0].issues),
              static_cast<long long>(totals[0].amount_milli), static_cast<unsigned long long>(totals[0].reason_bytes),
              static_cast<unsigned long long>(totals[0].fuel));
  for (size_t m = 0; m < 3; ++m) {
    std::printf(",\"%s\":{\"cpu_s\":%.4f,\"wall_s\":%.4f,\"closures_per_cpu_s\":%.0f}", names[m], Median(cpu[m]), Median(wall[m]),
                n / Median(cpu[m]));
  }
  std::printf(",\"fuel_overhead\":%.4f", Median(cpu[0]) / Median(cpu[1]) - 1);
  if (dump > 0) {
    std::printf(",\"dump\":");
    Dump(**law, in, dump);
  }
  std::printf("}\n");
  return 0;
}

}  // namespace
}  // namespace gongshe::contracts

int main(int argc, char** argv) { return gongshe::contracts::Main(argc, argv); }
