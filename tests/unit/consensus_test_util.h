#pragma once
// Shared helpers for the consensus unit tests: deterministic Ed25519 validators and a signed QC.

#include <memory>
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

inline v1::ValidatorSet MakeSetProto(uint32_t n) {
  v1::ValidatorSet set;
  set.set_version(kVersion);
  for (uint32_t i = 0; i < n; ++i) {
    v1::Validator* v = set.add_validators();
    const PublicKey key = KeyFor(i).public_key();
    v->set_public_key(std::string(key.begin(), key.end()));
    v->set_power(1);
    v->set_commune("c" + std::to_string(i));
  }
  return set;
}

inline Hash H(uint8_t tag) {
  Hash h{};
  h.fill(tag);
  return h;
}

// A QC for (round, height, block, parent) signed by validators [0, signers).
inline v1::QuorumCert MakeQc(const ValidatorSet& set, uint64_t epoch, uint64_t round, uint64_t height,
                             const Hash& block, const Hash& parent, uint64_t parent_round, uint32_t signers) {
  v1::QuorumCert qc;
  qc.set_epoch(epoch);
  qc.set_round(round);
  qc.set_height(height);
  qc.set_block_id(Str(block));
  qc.set_parent_id(Str(parent));
  qc.set_parent_round(parent_round);
  for (uint32_t i = 0; i < signers; ++i) {
    const ledger::KeyPair key = KeyFor(i);
    v1::QcSignature* sig = qc.add_signatures();
    sig->set_validator(i);
    sig->set_vote_signature(
        Str(key.Sign(kVoteDomain, kChain, VoteSignBytes(epoch, round, height, block, parent, parent_round))));
    if (QcCarriesCommit(qc)) {
      sig->set_commit_signature(
          Str(key.Sign(kCommitDomain, kChain, CommitSignBytes(height - 1, parent_round, parent, set.hash()))));
    }
  }
  return qc;
}

}  // namespace gongshe::consensus::testing
