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
  for (uint64_t seed = 0; seed < 200; ++seed) {
    options.seed = seed;
    const SimResult r = RunSimulation(options);
    ASSERT_TRUE(r.ok) << r.failure;
  }
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
