#include "consensus/types.h"

#include <algorithm>

namespace gongshe::consensus {
namespace {

void AppendU32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void AppendHash(Bytes& out, const Hash& h) { out.insert(out.end(), h.begin(), h.end()); }

}  // namespace

Bytes ProposalSignBytes(uint64_t epoch, uint64_t round, const BlockId& block_id) {
  Bytes out;
  AppendBigEndian64(out, epoch);
  AppendBigEndian64(out, round);
  AppendHash(out, block_id);
  return out;
}

Bytes VoteSignBytes(uint64_t epoch, uint64_t round, uint64_t height, const BlockId& block_id,
                    const BlockId& parent_id, uint64_t parent_round) {
  Bytes out;
  AppendBigEndian64(out, epoch);
  AppendBigEndian64(out, round);
  AppendBigEndian64(out, height);
  AppendHash(out, block_id);
  AppendHash(out, parent_id);
  AppendBigEndian64(out, parent_round);
  return out;
}

Bytes CommitSignBytes(uint64_t height, uint64_t round, const BlockId& block_id, const Hash& validator_set_hash) {
  Bytes out;
  AppendBigEndian64(out, height);
  AppendBigEndian64(out, round);
  AppendHash(out, block_id);
  AppendHash(out, validator_set_hash);
  return out;
}

Bytes TimeoutSignBytes(uint64_t epoch, uint64_t round, uint64_t high_qc_round) {
  Bytes out;
  AppendBigEndian64(out, epoch);
  AppendBigEndian64(out, round);
  AppendBigEndian64(out, high_qc_round);
  return out;
}

BlockId ComputeBlockId(std::string_view chain_id, uint64_t epoch, uint64_t round, uint64_t height,
                       const BlockId& parent_id, uint32_t proposer, const Hash& payload_hash) {
  return ComputeBlockId(chain_id, epoch, round, height, parent_id, proposer, payload_hash, std::nullopt);
}

BlockId ComputeBlockId(std::string_view chain_id, uint64_t epoch, uint64_t round, uint64_t height,
                       const BlockId& parent_id, uint32_t proposer, const Hash& payload_hash,
                       const std::optional<Hash>& next_set_hash) {
  GS_ASSERT(chain_id.size() <= ledger::kMaxChainIdSize);
  Bytes fields;
  fields.push_back(static_cast<uint8_t>(chain_id.size()));
  fields.insert(fields.end(), chain_id.begin(), chain_id.end());
  AppendBigEndian64(fields, epoch);
  AppendBigEndian64(fields, round);
  AppendBigEndian64(fields, height);
  AppendHash(fields, parent_id);
  AppendU32(fields, proposer);
  AppendHash(fields, payload_hash);
  if (next_set_hash) {
    fields.push_back(0x01);
    AppendHash(fields, *next_set_hash);
  }
  return ledger::Sha256({AsBytes(kBlockIdDomain), fields});
}

Result<BlockId> BlockIdOf(std::string_view chain_id, const v1::ConsensusBlock& block) {
  std::optional<Hash> parent_id = ledger::HashFromBytes(AsBytes(block.parent_id()));
  std::optional<Hash> payload_hash = ledger::HashFromBytes(AsBytes(block.payload_hash()));
  if (!parent_id || !payload_hash) return Status("BAD_BLOCK", "parent id and payload hash must be 32 bytes");
  if (chain_id.size() > ledger::kMaxChainIdSize) return Status("BAD_BLOCK", "chain id too long");
  std::optional<Hash> next_set_hash;
  if (block.has_next_validator_set()) {
    Result<ValidatorSet> next = ValidatorSet::FromProto(block.next_validator_set());
    if (!next.ok()) return next.status();
    next_set_hash = next->hash();
  }
  return ComputeBlockId(chain_id, block.epoch(), block.round(), block.height(), *parent_id, block.proposer(),
                        *payload_hash, next_set_hash);
}

Result<ValidatorSet> ValidatorSet::FromProto(const v1::ValidatorSet& proto) {
  if (proto.version() != kVersion) {
    return Status("BAD_VALIDATOR_SET", "unsupported validator set version " + std::to_string(proto.version()));
  }
  const int count = proto.validators_size();
  if (count == 0 || static_cast<size_t>(count) > kMaxValidators) {
    return Status("BAD_VALIDATOR_SET", "validator set must have 1.." + std::to_string(kMaxValidators) +
                                           " members, has " + std::to_string(count));
  }
  ValidatorSet set;
  Bytes encoded;
  AppendU32(encoded, static_cast<uint32_t>(count));
  for (int i = 0; i < count; ++i) {
    const v1::Validator& v = proto.validators(i);
    std::optional<PublicKey> key = ledger::PublicKeyFromBytes(AsBytes(v.public_key()));
    if (!key) return Status("BAD_VALIDATOR_SET", "validator " + std::to_string(i) + " has a malformed public key");
    if (v.power() == 0 || v.power() > kMaxPower) {
      return Status("BAD_VALIDATOR_SET", "validator " + std::to_string(i) + " has power outside [1, 2^32]");
    }
    set.keys_.push_back(*key);
    set.powers_.push_back(v.power());
    set.sorted_.emplace_back(*key, static_cast<uint32_t>(i));
    set.total_power_ += v.power();
    AppendHash(encoded, *key);
    AppendBigEndian64(encoded, v.power());
  }
  std::sort(set.sorted_.begin(), set.sorted_.end());
  for (size_t i = 1; i < set.sorted_.size(); ++i) {
    if (set.sorted_[i - 1].first == set.sorted_[i].first) {
      return Status("BAD_VALIDATOR_SET", "validator key " + ledger::ToHex(set.sorted_[i].first) + " appears twice");
    }
  }
  set.hash_ = ledger::Sha256({AsBytes(kValidatorSetDomain), encoded});
  set.proto_ = proto;
  return set;
}

std::optional<uint32_t> ValidatorSet::IndexOf(const PublicKey& key) const {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(key, uint32_t{0}));
  if (it == sorted_.end() || it->first != key) return std::nullopt;
  return it->second;
}

}  // namespace gongshe::consensus
