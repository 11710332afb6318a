#pragma once
// Identifiers, signing domains and the exact bytes every consensus signature covers
// (consensus/README.md). All integers are fixed-width big-endian; no protobuf bytes are signed.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/consensus.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace gongshe::consensus {

using ledger::Hash;
using ledger::PublicKey;
using ledger::Signature;
using BlockId = ledger::Hash;

inline constexpr std::string_view kProposalDomain = "gongshe/proposal/v1";
inline constexpr std::string_view kVoteDomain = "gongshe/vote/v1";
inline constexpr std::string_view kCommitDomain = "gongshe/commit/v1";
inline constexpr std::string_view kTimeoutDomain = "gongshe/timeout/v1";
// Hash domains (not signatures).
inline constexpr std::string_view kBlockIdDomain = "gongshe/block-id/v1";
inline constexpr std::string_view kValidatorSetDomain = "gongshe/validator-set/v1";

// Wire format version of every consensus message and record.
inline constexpr uint32_t kVersion = 1;

// Largest validator set the protocol accepts; bounds every per-validator loop.
inline constexpr size_t kMaxValidators = 1024;
// Largest voting power of one validator; keeps every power sum far from overflow.
inline constexpr uint64_t kMaxPower = uint64_t{1} << 32;

Bytes ProposalSignBytes(uint64_t epoch, uint64_t round, const BlockId& block_id);
Bytes VoteSignBytes(uint64_t epoch, uint64_t round, uint64_t height, const BlockId& block_id,
                    const BlockId& parent_id, uint64_t parent_round);
Bytes CommitSignBytes(uint64_t height, uint64_t round, const BlockId& block_id, const Hash& validator_set_hash);
Bytes TimeoutSignBytes(uint64_t epoch, uint64_t round, uint64_t high_qc_round);

// The payload hash of a block without payload: the descendants of a block that carries a
// validator-set change, in that block's epoch (consensus/README.md, "Validator-set changes").
inline constexpr Hash kNoPayloadHash{};

// The id of a block that carries no validator-set change.
BlockId ComputeBlockId(std::string_view chain_id, uint64_t epoch, uint64_t round, uint64_t height,
                       const BlockId& parent_id, uint32_t proposer, const Hash& payload_hash);
// The id of a block; `next_set_hash` is the validator_set_hash of its next_validator_set, if it
// carries one (appended to the hashed fields, so blocks without a change keep their id).
BlockId ComputeBlockId(std::string_view chain_id, uint64_t epoch, uint64_t round, uint64_t height,
                       const BlockId& parent_id, uint32_t proposer, const Hash& payload_hash,
                       const std::optional<Hash>& next_set_hash);
// The id of a block as received. Fails (BAD_BLOCK / BAD_VALIDATOR_SET) when its parent id or
// payload hash is not 32 bytes or its next_validator_set is not a valid set.
Result<BlockId> BlockIdOf(std::string_view chain_id, const v1::ConsensusBlock& block);

// A checked, immutable validator set: distinct keys, powers in [1, kMaxPower], at most
// kMaxValidators members, in the order given (the order fixes indices and leader rotation).
class ValidatorSet {
 public:
  static Result<ValidatorSet> FromProto(const v1::ValidatorSet& proto);

  size_t size() const { return keys_.size(); }
  const PublicKey& key(uint32_t index) const { return keys_.at(index); }
  uint64_t power(uint32_t index) const { return powers_.at(index); }
  uint64_t total_power() const { return total_power_; }
  // Power of any set of signers that certifies: floor(2 * total / 3) + 1.
  uint64_t quorum_power() const { return total_power_ * 2 / 3 + 1; }
  // Power that contains at least one honest validator when the faulty power is below it.
  uint64_t weak_quorum_power() const { return total_power_ - quorum_power() + 1; }
  std::optional<uint32_t> IndexOf(const PublicKey& key) const;
  // Round-robin leader of a round.
  uint32_t LeaderOf(uint64_t round) const { return static_cast<uint32_t>(round % keys_.size()); }
  // SHA-256("gongshe/validator-set/v1" || u32 count || (key || u64 power)*).
  const Hash& hash() const { return hash_; }
  const v1::ValidatorSet& proto() const { return proto_; }

 private:
  ValidatorSet() = default;
  std::vector<PublicKey> keys_;
  std::vector<uint64_t> powers_;
  std::vector<std::pair<PublicKey, uint32_t>> sorted_;  // key -> index, for IndexOf
  uint64_t total_power_ = 0;
  Hash hash_{};
  v1::ValidatorSet proto_;
};

}  // namespace gongshe::consensus
