#pragma once
// A deterministic network simulator driving copies of the consensus core (consensus/core.h).
//
// One seed fixes everything: the fault profile (delay, loss, duplication, partitions, crashes),
// which validators are Byzantine and how, the validator-set changes the application makes, and
// every random choice during the run. A run has a chaos phase (faults on) followed by a healed
// phase (synchronous network, every crashed node restarted), and checks throughout:
//   safety   - no two honest nodes commit different blocks at one height, across epochs; every
//              honest commit continues the node's previous commit, carries only valid payloads,
//              and comes with a commit certificate valid for the validator set of its height
//              (ValidatorSetHistory over the committed changes); every epoch change names the
//              scheduled set, its root and a root QC that VerifyEpochChange accepts, the same at
//              every honest node; every evidence an honest node reports verifies and accuses a
//              Byzantine key; no message a removed Byzantine validator forges for a later epoch
//              is accepted;
//   liveness - after the heal, every honest member of the newest epoch's set commits a block
//              above the highest height any honest node had committed at the heal, within a
//              bounded number of rounds (counted across the epochs that start meanwhile).
//
// Reconfiguration: the application (the simulator) plans one to three set changes per seed:
// add a validator (new or returning), remove one (often a Byzantine one, which then keeps
// forging messages), replace a key, or resize among n = 4, 7, 10, keeping n >= 3b + 1 for the b
// Byzantine members of every set. The change of epoch e is proposed at a planned height above
// its root; an honest application accepts a block only if it carries exactly the planned change.
// In seeds with crashes, a validator that commits the block ending an epoch crashes right after
// that commit one time in four (restart during the switch).

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

enum class Reconfig {
  kSeeded,  // about half of the seeds plan validator-set changes
  kOn,      // every seed does
  kOff,     // none does (validator-set changes are disabled in the cores)
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
  Reconfig reconfig = Reconfig::kSeeded;
  // Test-only: the rule removed from honest validators (the harness's teeth).
  consensus::SafetyOverride honest_override = consensus::SafetyOverride::kNone;
  // Test-only: the honest application accepts any validator-set change a block carries, as a
  // shell that ignored ExecuteBlock::next_validators would (the harness's teeth for epochs).
  bool accept_any_change = false;
  uint64_t chaos_ms = 6000;
  // Whether evidence against an honest key fails the run. Off to require an actual fork (two
  // honest nodes committing different blocks at one height) before a run fails on safety.
  bool check_accusations = true;
  uint64_t liveness_cap_ms = 300000;  // give up (liveness failure) this long after the heal
  // Honest nodes must progress within this many rounds after the heal; 0 = 4m + 20 + 10 per epoch
  // switch after the heal, where m is the largest set size of the run.
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
  bool reconfig = false;          // whether the seed planned validator-set changes
  uint64_t epoch_switches = 0;    // epochs entered by honest nodes after the first
  uint64_t forged_rejected = 0;   // forged messages of removed validators refused by honest nodes
  std::map<std::string, uint64_t> rejections;  // by status code, for honest receivers
  std::string profile;  // the seed's fault profile, one line
  std::string trace;    // filled when options.trace
};

SimResult RunSimulation(const SimOptions& options);

}  // namespace gongshe::sim
