#pragma once
// Shared helpers for the consensus unit tests: deterministic Ed25519 validators and a signed QC.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/certificate.h"
#include "consensus/signer.h"
#include "consensus/types.h"
#include "ledger/crypto.h"

namespace gongshe::consensus::testing {

inline constexpr std::string_view kChain = "test-chain";

inline std::string Str(const Hash& h) { return std::string(h.begin(), h.end()); }
inline std::string Str(const Signature& s) { return std::string(s.begin(), s.end()); }

inline ledger::KeyPair KeyFor(uint32_t i) {
  std::array<uint8_t, 32> seed{};
  seed[0] = static_cast<uint8_t>(i + 1);
  seed[31] = 0x5a;
  return ledger::KeyPair::FromSeed(seed);
}

// A set of the keys KeyFor(k) for k in `keys`, in that order, power 1 each.
inline v1::ValidatorSet MakeSetProtoOf(const std::vector<uint32_t>& keys) {
  v1::ValidatorSet set;
  set.set_version(kVersion);
  for (uint32_t k : keys) {
    v1::Validator* v = set.add_validators();
    const PublicKey key = KeyFor(k).public_key();
    v->set_public_key(std::string(key.begin(), key.end()));
    v->set_power(1);
    v->set_commune("c" + std::to_string(k));
  }
  return set;
}

inline v1::ValidatorSet MakeSetProto(uint32_t n) {
  std::vector<uint32_t> keys(n);
  for (uint32_t i = 0; i < n; ++i) keys[i] = i;
  return MakeSetProtoOf(keys);
}

inline Hash H(uint8_t tag) {
  Hash h{};
  h.fill(tag);
  return h;
}

// Signs `qc` (its fields set) by the members [0, signers) of `set`, whose keys are KeyFor(keys[i]);
// the commit signatures certify QcCommitTarget(qc).
inline void SignQc(v1::QuorumCert& qc, const ValidatorSet& set, const std::vector<uint32_t>& keys, uint32_t signers) {
  const Hash block = *ledger::HashFromBytes(AsBytes(qc.block_id()));
  const Hash parent = *ledger::HashFromBytes(AsBytes(qc.parent_id()));
  qc.clear_signatures();
  for (uint32_t i = 0; i < signers; ++i) {
    const ledger::KeyPair key = KeyFor(keys[i]);
    v1::QcSignature* sig = qc.add_signatures();
    sig->set_validator(i);
    sig->set_vote_signature(Str(key.Sign(
        kVoteDomain, kChain, VoteSignBytes(qc.epoch(), qc.round(), qc.height(), block, parent, qc.parent_round()))));
    if (std::optional<CommitTarget> target = QcCommitTarget(qc)) {
      sig->set_commit_signature(Str(key.Sign(kCommitDomain, kChain,
                                             CommitSignBytes(target->height, target->round, target->id, set.hash()))));
    }
  }
}

// A QC for (round, height, block, parent) signed by validators [0, signers) of MakeSetProto(n).
inline v1::QuorumCert MakeQc(const ValidatorSet& set, uint64_t epoch, uint64_t round, uint64_t height,
                             const Hash& block, const Hash& parent, uint64_t parent_round, uint32_t signers) {
  v1::QuorumCert qc;
  qc.set_epoch(epoch);
  qc.set_round(round);
  qc.set_height(height);
  qc.set_block_id(Str(block));
  qc.set_parent_id(Str(parent));
  qc.set_parent_round(parent_round);
  std::vector<uint32_t> keys(set.size());
  for (uint32_t i = 0; i < keys.size(); ++i) keys[i] = i;
  SignQc(qc, set, keys, signers);
  return qc;
}

}  // namespace gongshe::consensus::testing
