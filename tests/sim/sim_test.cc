// Simulator tests beyond the seed suites: determinism, the harness's teeth (honest validators
// built with one safety rule removed must be caught forking within a bounded number of seeds),
// and a run beyond the fault model (f + 1 Byzantine) showing the bound is tight.

#include <gtest/gtest.h>

#include <cstdio>

#include "tests/sim/sim.h"

namespace gongshe::sim {
namespace {

TEST(SimTest, SameSeedSameRun) {
  SimOptions options;
  options.seed = 7;
  options.n = 4;
  options.byzantine = 1;
  options.trace = true;
  const SimResult a = RunSimulation(options);
  const SimResult b = RunSimulation(options);
  EXPECT_TRUE(a.ok) << a.failure;
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.events, b.events);
  EXPECT_GT(a.committed_height, 0u);
  EXPECT_NE(a.trace.find("HEAL"), std::string::npos);
}

// Seeds until the first run where two honest validators commit different blocks at one height.
uint64_t SeedsUntilFork(SimOptions options, uint64_t max_seeds) {
  options.check_accusations = false;  // only an actual fork counts
  for (uint64_t seed = 0; seed < max_seeds; ++seed) {
    options.seed = seed;
    const SimResult r = RunSimulation(options);
    if (r.safety_violation) {
      EXPECT_NE(r.failure.find("SAFETY"), std::string::npos) << r.failure;
      std::printf("first fork at seed %lu: %s\n", seed, r.failure.c_str());
      return seed + 1;
    }
  }
  return max_seeds + 1;
}

TEST(SimTeethTest, WithoutTheVotingRuleTheSimulatorFindsAFork) {
  SimOptions options;
  options.n = 4;
  options.byzantine = 1;
  options.reconfig = Reconfig::kOn;  // with validator-set changes in every run
  options.honest_override = consensus::SafetyOverride::kSkipVotedRoundCheck;
  const uint64_t seeds = SeedsUntilFork(options, 500);
  std::printf("voting rule removed: fork found after %lu seeds\n", seeds);
  EXPECT_LE(seeds, 500u);
}

TEST(SimTeethTest, WithoutTheLockingRuleTheSimulatorFindsAFork) {
  SimOptions options;
  options.n = 4;
  options.byzantine = 1;
  options.behaviours = kForkLeader | kDoubleVote;
  options.allow_twins = false;
  options.reconfig = Reconfig::kOff;  // about 1 seed in 500 forks; epochs only make it rarer
  options.honest_override = consensus::SafetyOverride::kSkipExtensionCheck;
  const uint64_t seeds = SeedsUntilFork(options, 1000);
  std::printf("locking rule removed: fork found after %lu seeds\n", seeds);
  EXPECT_LE(seeds, 1000u);
}

TEST(SimTeethTest, TheSameSeedsPassWithEveryRule) {
  SimOptions options;
  options.n = 4;
  options.byzantine = 1;
  options.behaviours = kForkLeader | kDoubleVote;
  options.allow_twins = false;
  options.reconfig = Reconfig::kOff;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    options.seed = seed;
    const SimResult r = RunSimulation(options);
    ASSERT_TRUE(r.ok) << r.failure;
  }
}

TEST(SimReconfigTest, EpochsSwitchDeterministically) {
  SimOptions options;
  options.seed = 3;
  options.n = 7;
  options.byzantine = 2;
  options.reconfig = Reconfig::kOn;
  options.trace = true;
  const SimResult a = RunSimulation(options);
  const SimResult b = RunSimulation(options);
  EXPECT_TRUE(a.ok) << a.failure;
  EXPECT_TRUE(a.reconfig);
  EXPECT_GT(a.epoch_switches, 0u);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_NE(a.trace.find("ENDS EPOCH"), std::string::npos);
}

TEST(SimReconfigTest, RemovedByzantineValidatorsForgeInVain) {
  // Seeds where a planned change removes a Byzantine validator, which then signs messages of the
  // new epoch in the name of its members: every one is refused, and the runs pass.
  SimOptions options;
  options.n = 4;
  options.byzantine = 1;
  options.reconfig = Reconfig::kOn;
  options.behaviours = kDoubleVote | kStaleAndFuture;  // never silent: it keeps talking
  uint64_t forged = 0, seeds_with_removal = 0;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    options.seed = seed;
    const SimResult r = RunSimulation(options);
    ASSERT_TRUE(r.ok) << r.failure << "\n" << r.profile;
    forged += r.forged_rejected;
    seeds_with_removal += r.forged_rejected > 0 ? 1 : 0;
  }
  std::printf("removed Byzantine validators: %lu forged messages refused over %lu seeds\n", forged,
              seeds_with_removal);
  EXPECT_GE(seeds_with_removal, 5u);
}

TEST(SimReconfigTest, AnApplicationAcceptingAnyChangeIsCaught) {
  // Honest applications that do not check ExecuteBlock::next_validators let a Byzantine leader
  // hand the chain to a set of its own; the simulator must see the unplanned epoch.
  SimOptions options;
  options.n = 4;
  options.byzantine = 1;
  options.reconfig = Reconfig::kOn;
  options.behaviours = kInvalidProposal;
  options.allow_twins = false;
  options.accept_any_change = true;
  uint64_t seeds = 0;
  for (uint64_t seed = 0; seed < 200 && seeds == 0; ++seed) {
    options.seed = seed;
    const SimResult r = RunSimulation(options);
    if (!r.ok) {
      EXPECT_TRUE(r.safety_violation) << r.failure;
      EXPECT_NE(r.failure.find("differs from the plan"), std::string::npos) << r.failure;
      seeds = seed + 1;
    }
  }
  std::printf("application accepting any change: caught after %lu seeds\n", seeds);
  EXPECT_GT(seeds, 0u);
}

TEST(SimBeyondFaultModelTest, FPlusOneByzantineBreaksTheGuarantees) {
  // Twins of two Byzantine keys out of four let each side of a partition form a quorum.
  SimOptions options;
  options.n = 4;
  options.byzantine = 2;
  uint64_t safety = 0, liveness = 0;
  for (uint64_t seed = 0; seed < 100; ++seed) {
    options.seed = seed;
    const SimResult r = RunSimulation(options);
    safety += r.safety_violation ? 1 : 0;
    liveness += r.liveness_violation ? 1 : 0;
  }
  std::printf("n=4 with 2 Byzantine over 100 seeds: %lu safety and %lu liveness violations\n", safety, liveness);
  EXPECT_GT(safety, 0u);
  EXPECT_GT(liveness, 0u);
}

}  // namespace
}  // namespace gongshe::sim
