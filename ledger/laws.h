#pragma once
// Laws on the ledger: how the law modules in force are stored, committed to by the header, checked
// when they enter the chain (at genesis), and loaded once per process for the state machine.
//
// Storage (state records, committed by the state root; keys in state.h):
//   - every version of a law is a LawRecord under (name, version): its exact source text, the
//     SHA-256 of that text, the file it came from, the height that enacted it and the version it
//     replaced, so any two versions can be compared (`gongshe law diff`);
//   - the LawSet record lists the version of each law in force, sorted by name, with the height
//     from which it runs, and the parameters of every run (LawParams: the fuel of one run, the
//     labour rate the ledger passes to the pay hooks).
// An adopted amendment (ledger/amendments.h) adds a LawRecord and rewrites the LawSet, in the
// block that tallies it; nothing else changes them. The new set runs from the next block, whose
// header carries its hash.
//
// The law-set hash (the header's law_set_hash, checked like the other header fields) is
//   SHA-256("gongshe/law-set/v1" || be64(fuel_per_run) || be64(labour_rate_milli_per_hour)
//           || be32(number of laws)
//           || for each law in force, in name order:
//                u8(len(name)) || name || be64(version) || source_hash)
// so one header commits to the exact text of every law in force and to what its runs depend on.

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "contracts/host.h"
#include "contracts/law.h"
#include "gongshe/v1/genesis.pb.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/hash.h"
#include "ledger/kv.h"

namespace gongshe::ledger {

inline constexpr size_t kMaxLaws = 64;
inline constexpr size_t kMaxLawFileBytes = 256;
inline constexpr uint64_t kMaxFuelPerRun = 10'000'000;
inline constexpr int64_t kMaxLabourRateMilli = 1'000'000'000;  // 10^6 credits per hour
// The standard parameters (AddStandardLaws): the language's default fuel, and an hour of work
// credited as one credit, the same for every hour (labour vouchers count time, not trades).
inline constexpr uint64_t kStandardFuelPerRun = contracts::kDefaultFuel;
inline constexpr int64_t kStandardLabourRateMilli = 1'000;

Hash LawSetHash(const v1::LawSet& set);

// The laws in force on a chain, parsed and checked once: each law in name order, and for each
// hook the laws that have rules on it, so the state machine runs only those. Immutable.
class LawBook {
 public:
  LawBook(Hash hash, v1::LawParams params, std::vector<std::shared_ptr<const contracts::Law>> laws);

  const Hash& hash() const { return hash_; }
  const v1::LawParams& params() const { return params_; }
  std::span<const std::shared_ptr<const contracts::Law>> laws() const { return laws_; }
  // The laws with at least one rule on `hook`, in name order.
  std::span<const contracts::Law* const> OnHook(contracts::Hook hook) const {
    return on_hook_[static_cast<size_t>(hook)];
  }

 private:
  Hash hash_;
  v1::LawParams params_;
  std::vector<std::shared_ptr<const contracts::Law>> laws_;
  std::array<std::vector<const contracts::Law*>, contracts::kHookCount> on_hook_;
};

// The law book of the law set stored in `state`, whose hash is `law_set_hash` (ReadChainTip).
// Loaded from the state the first time a hash is asked for, then shared by every ledger of the
// process: a law set is parsed and checked once, not per block. Thread-safe; at most
// kMaxCachedLawBooks are kept. A stored law that does not load means a corrupt store (abort).
inline constexpr size_t kMaxCachedLawBooks = 16;
std::shared_ptr<const LawBook> LawBookOf(const KvReader& state, const Hash& law_set_hash);

// Checks the laws of a genesis and loads them: each file name is 1-256 bytes, each source parses
// and type-checks (contracts/law.h) and passes its own tests, names are unique, at most kMaxLaws,
// and the parameters are in range (fuel 1..kMaxFuelPerRun, rate 0..kMaxLabourRateMilli). The laws
// in name order, each with the index of its GenesisLaw. Errors: BAD_GENESIS naming the law.
struct GenesisLawLoaded {
  int index = 0;
  std::shared_ptr<const contracts::Law> law;
};
Result<std::vector<GenesisLawLoaded>> LoadGenesisLaws(const v1::Genesis& genesis);

// Puts the standard laws (contracts/laws/*.law, compiled in: contracts/standard_laws.h) and the
// standard parameters into `genesis`. The one place the devnet, `gongshe init`, the ledger demo,
// the tests and the benchmarks take their laws from.
void AddStandardLaws(v1::Genesis& genesis);

}  // namespace gongshe::ledger
