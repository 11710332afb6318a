// gongshe_sim: runs the consensus simulator over a range of seeds, or one seed with its trace.
//
//   gongshe_sim --n 4 --seeds 0:999          # CI suite: every seed must pass
//   gongshe_sim --n 7 --seed 123             # replay one seed and print its trace
//   gongshe_sim --n 4 --byzantine 2 --seeds 0:99 --report   # beyond f: report, do not fail
//   gongshe_sim --n 4 --reconfig on --seeds 0:99   # every seed changes its validator set
//
// Exit status: 0 when every seed passed (or --report), 1 when a seed failed, 2 on bad arguments.

#include <algorithm>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "tests/sim/sim.h"

namespace {

using gongshe::sim::RunSimulation;
using gongshe::sim::SimOptions;
using gongshe::sim::SimResult;

// Byzantine count for a seed when not given: f for three seeds in four, fewer for the rest.
uint32_t AutoByzantine(uint32_t n, uint64_t seed) {
  const uint32_t f = (n - 1) / 3;
  return seed % 4 == 0 ? static_cast<uint32_t>((seed / 4) % (f + 1)) : f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deterministic simulator of the Gongshe consensus core"};
  uint32_t n = 4;
  int byzantine = -1;
  std::string seeds = "0:99";
  int64_t single_seed = -1;
  std::string signer = "fast";
  std::string override_rule = "none";
  std::string reconfig = "seeded";
  uint32_t behaviours = gongshe::sim::kAllBehaviours;
  bool no_twins = false;
  bool report = false;
  bool trace = false;
  bool forks_only = false;
  uint64_t chaos_ms = 6000;
  app.add_option("--n", n, "validators")->check(CLI::Range(1, 256));
  app.add_option("--byzantine", byzantine, "Byzantine validators (default: f for most seeds)");
  app.add_option("--seeds", seeds, "seed range FIRST:LAST (inclusive)");
  app.add_option("--seed", single_seed, "run one seed and print its trace");
  app.add_option("--signer", signer, "fast or ed25519")->check(CLI::IsMember({"fast", "ed25519"}));
  app.add_option("--override", override_rule, "test-only: remove a safety rule from honest nodes")
      ->check(CLI::IsMember({"none", "voted-round", "extension"}));
  app.add_option("--reconfig", reconfig, "validator-set changes: seeded (about half the seeds), on or off")
      ->check(CLI::IsMember({"seeded", "on", "off"}));
  app.add_option("--behaviours", behaviours, "bit mask of Byzantine behaviours (see tests/sim/sim.h)");
  app.add_flag("--no-twins", no_twins, "never run Twins");
  app.add_flag("--report", report, "report failures without failing (for runs beyond the fault model)");
  app.add_flag("--forks-only", forks_only, "fail on safety only for conflicting commits, not for evidence against honest keys");
  app.add_flag("--trace", trace, "print the trace of every seed");
  app.add_option("--chaos-ms", chaos_ms, "length of the faulty phase in simulated milliseconds");
  CLI11_PARSE(app, argc, argv);

  uint64_t first = 0, last = 0;
  if (single_seed >= 0) {
    first = last = static_cast<uint64_t>(single_seed);
    trace = true;
  } else if (std::sscanf(seeds.c_str(), "%lu:%lu", &first, &last) != 2 || last < first) {
    std::fprintf(stderr, "error: --seeds must be FIRST:LAST with FIRST <= LAST\n");
    return 2;
  }

  uint64_t failures = 0, safety = 0, liveness = 0, worst_rounds = 0, max_height_sum = 0, events = 0, twins = 0;
  uint64_t evidence = 0, max_round = 0, reconfig_seeds = 0, epoch_switches = 0, forged_rejected = 0;
  for (uint64_t seed = first; seed <= last; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.n = n;
    options.byzantine = byzantine >= 0 ? static_cast<uint32_t>(byzantine) : AutoByzantine(n, seed);
    options.behaviours = behaviours & gongshe::sim::kAllBehaviours;
    options.allow_twins = !no_twins;
    options.signer = signer == "ed25519" ? gongshe::sim::SignerKind::kEd25519 : gongshe::sim::SignerKind::kFast;
    options.honest_override = override_rule == "voted-round" ? gongshe::consensus::SafetyOverride::kSkipVotedRoundCheck
                              : override_rule == "extension" ? gongshe::consensus::SafetyOverride::kSkipExtensionCheck
                                                             : gongshe::consensus::SafetyOverride::kNone;
    options.reconfig = reconfig == "on"    ? gongshe::sim::Reconfig::kOn
                       : reconfig == "off" ? gongshe::sim::Reconfig::kOff
                                           : gongshe::sim::Reconfig::kSeeded;
    options.chaos_ms = chaos_ms;
    options.check_accusations = !forks_only;
    options.trace = trace;
    const SimResult r = RunSimulation(options);
    if (trace) std::fputs(r.trace.c_str(), stdout);
    events += r.events;
    max_height_sum += r.committed_height;
    evidence += r.evidence;
    twins += r.twins ? 1 : 0;
    reconfig_seeds += r.reconfig ? 1 : 0;
    epoch_switches += r.epoch_switches;
    forged_rejected += r.forged_rejected;
    max_round = std::max(max_round, r.max_round);
    if (r.ok) worst_rounds = std::max(worst_rounds, r.rounds_after_heal);
    if (!r.ok) {
      ++failures;
      safety += r.safety_violation ? 1 : 0;
      liveness += r.liveness_violation ? 1 : 0;
      const std::string extra = (override_rule == "none" ? "" : " --override " + override_rule) +
                                (reconfig == "seeded" ? "" : " --reconfig " + reconfig) +
                                (signer == "fast" ? "" : " --signer " + signer) +
                                (no_twins ? " --no-twins" : "") +
                                (behaviours == gongshe::sim::kAllBehaviours ? "" : " --behaviours " + std::to_string(behaviours)) +
                                (chaos_ms == 6000 ? "" : " --chaos-ms " + std::to_string(chaos_ms)) +
                                (forks_only ? " --forks-only" : "");
      std::printf("FAIL %s\n  profile: %s\n  replay: %s --n %u --byzantine %u%s --seed %lu\n", r.failure.c_str(),
                  r.profile.c_str(), argv[0], n, options.byzantine, extra.c_str(), seed);
    }
  }
  const uint64_t count = last - first + 1;
  std::printf(
      "{\"n\": %u, \"seeds\": %lu, \"failures\": %lu, \"safety_violations\": %lu, \"liveness_violations\": %lu, "
      "\"worst_rounds_after_heal\": %lu, \"max_round\": %lu, \"mean_committed_height\": %lu, "
      "\"mean_events\": %lu, \"twins_seeds\": %lu, \"evidence\": %lu, \"reconfig_seeds\": %lu, "
      "\"epoch_switches\": %lu, \"forged_rejected\": %lu}\n",
      n, count, failures, safety, liveness, worst_rounds, max_round, max_height_sum / count, events / count, twins,
      evidence, reconfig_seeds, epoch_switches, forged_rejected);
  return failures == 0 || report ? 0 : 1;
}
