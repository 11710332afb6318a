#pragma once
// A deterministic network simulator driving n copies of the consensus core (consensus/core.h).
//
// One seed fixes everything: the fault profile (delay, loss, duplication, partitions, crashes),
// which validators are Byzantine and how, and every random choice during the run. A run has a
// chaos phase (faults on) followed by a healed phase (synchronous network, every crashed node
// restarted), and checks throughout:
//   safety   - no two honest nodes commit different blocks at one height; every honest commit
//              continues the node's previous commit, carries only valid payloads, and comes with
//              a commit certificate that VerifyCommitCertificate accepts; every evidence an honest
//              node reports verifies and accuses a Byzantine key;
//   liveness - after the heal, every honest node commits a block above the highest height any
//              honest node had committed at the heal, within a bounded number of rounds.

#include <cstdint>
#include <map>
#include <string>

#include "consensus/core.h"

namespace gongshe::sim {

enum class SignerKind {
  kFast,     // test-only keyed hash (cheap); keys and everything else as in production
  kEd25519,  // the real signatures, verified once each through a cache
};

// Test-only Byzantine behaviours; a Byzantine validator gets a random non-empty mix per seed.
enum ByzantineBehaviour : uint32_t {
  kSilent = 1 << 0,            // sends nothing
  kEquivocate = 1 << 1,        // as leader, sends two different blocks to two halves
  kDoubleVote = 1 << 2,        // votes for every proposal it sees, besides its own vote
  kInvalidProposal = 1 << 3,   // as leader, sends malformed, oversized or invalid blocks
  kStaleAndFuture = 1 << 4,    // replays old messages, sends timeouts and proposals for far rounds
  kForkLeader = 1 << 5,        // as leader after a timeout, extends an older QC than allowed
  kAllBehaviours = (1 << 6) - 1,
};

struct SimOptions {
  uint64_t seed = 0;
  uint32_t n = 4;
  // Byzantine validators (keys). At most f keeps the fault model; f + 1 probes beyond it.
  uint32_t byzantine = 0;
  // Behaviours Byzantine validators draw from (a subset of kAllBehaviours).
  uint32_t behaviours = kAllBehaviours;
  // Whether a seed may run Twins: one Byzantine key held by two honest-code nodes, partitioned apart.
  bool allow_twins = true;
  SignerKind signer = SignerKind::kFast;
  // Test-only: the rule removed from honest validators (the harness's teeth).
  consensus::SafetyOverride honest_override = consensus::SafetyOverride::kNone;
  uint64_t chaos_ms = 6000;
  // Whether evidence against an honest key fails the run. Off to require an actual fork (two
  // honest nodes committing different blocks at one height) before a run fails on safety.
  bool check_accusations = true;
  uint64_t liveness_cap_ms = 300000;  // give up (liveness failure) this long after the heal
  // Honest nodes must progress within this many rounds after the heal; 0 = 4n + 20.
  uint64_t liveness_round_bound = 0;
  bool trace = false;
};

struct SimResult {
  bool ok = true;
  std::string failure;  // first violated check, with the seed
  bool safety_violation = false;
  bool liveness_violation = false;
  uint64_t max_round = 0;
  uint64_t committed_height = 0;  // highest honest commit
  uint64_t rounds_after_heal = 0;  // rounds the honest nodes needed to progress after the heal
  uint64_t messages = 0;
  uint64_t events = 0;
  uint64_t evidence = 0;
  uint64_t sim_time_ms = 0;
  bool twins = false;
  std::map<std::string, uint64_t> rejections;  // by status code, for honest receivers
  std::string profile;  // the seed's fault profile, one line
  std::string trace;    // filled when options.trace
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace gongshe::sim
