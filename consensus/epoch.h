#pragma once
// Epochs (consensus/README.md, "Validator-set changes (epochs)"): the validator set a core runs
// with, how an epoch after the first began, and which set certifies a given height of the chain
// (what a light client, `gongshe verify` and the node's block sync need).

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "consensus/signer.h"
#include "consensus/types.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/consensus.pb.h"

namespace gongshe::consensus {

// The epoch a core runs in: its validator set and its root (genesis, or the last block of the
// previous epoch), whose implicit QC has round 0.
struct EpochInfo {
  uint64_t epoch = 0;
  v1::ValidatorSet validators;
  BlockId root_id{};
  uint64_t root_height = 0;
};

// How an epoch after the first began. `epoch.root_id` is the committed block that carried the
// change (its next_validator_set is `epoch.validators`, commune names cleared); `root_qc` is a
// QC of epoch `epoch.epoch - 1`, valid for `previous_validators`, whose commit signatures certify
// the root. Every block extending the root carries such a QC as its justify, so a validator still
// in the previous epoch checks the switch with the set it knows.
struct EpochChange {
  EpochInfo epoch;
  v1::ValidatorSet previous_validators;
  v1::QuorumCert root_qc;
};

// That `change` is consistent: both sets valid, epoch >= 1, root_qc a valid QC of the previous
// epoch for previous_validators whose commit target is the root (id and height).
Status VerifyEpochChange(const EpochChange& change, std::string_view chain_id, const Verifier& verifier);

// The stored form of an EpochChange, and back (the latter runs VerifyEpochChange).
v1::EpochChangeRecord EpochChangeToRecord(const EpochChange& change);
Result<EpochChange> EpochChangeFromRecord(const v1::EpochChangeRecord& record, std::string_view chain_id,
                                          const Verifier& verifier);

// Which validator set certifies each height of a chain, from the genesis set and the committed
// set changes in height order. The set of an epoch certifies the heights from its root + 1 up to
// and including the block that carries the next change: the genesis set certifies heights
// 1..h1 (h1 = the first block carrying a change), the next set h1 + 1..h2, and so on.
class ValidatorSetHistory {
 public:
  static Result<ValidatorSetHistory> Create(uint64_t genesis_epoch, const v1::ValidatorSet& genesis_set);

  // Records that the committed block at `height` carried `next`. Heights must strictly increase.
  Status AddChange(uint64_t height, const v1::ValidatorSet& next);

  // The epoch and the set whose signatures certify the block at `height` (height 0, the genesis
  // block, maps to the genesis epoch).
  uint64_t EpochAt(uint64_t height) const { return genesis_epoch_ + Index(height); }
  const ValidatorSet& SetAt(uint64_t height) const { return sets_[Index(height)]; }
  // Heights of the blocks that carried a change, ascending.
  const std::vector<uint64_t>& change_heights() const { return change_heights_; }

 private:
  ValidatorSetHistory(uint64_t genesis_epoch, ValidatorSet genesis) : genesis_epoch_(genesis_epoch) {
    sets_.push_back(std::move(genesis));
  }
  size_t Index(uint64_t height) const;

  uint64_t genesis_epoch_;
  std::vector<uint64_t> change_heights_;
  std::vector<ValidatorSet> sets_;  // sets_[i] follows change i - 1; sets_.size() == changes + 1
};

// The light-client check at any height: VerifyCommitCertificate against the set of the
// certificate's height.
Status VerifyCommitCertificateAt(const v1::CommitCertificate& cert, const ValidatorSetHistory& history,
                                 std::string_view chain_id, const Verifier& verifier);

// A copy of `set` without commune names: the form the core hands out (names are not consensus data).
v1::ValidatorSet ConsensusSetProto(const v1::ValidatorSet& set);

}  // namespace gongshe::consensus
