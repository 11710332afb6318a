// What a validator checks of the evidence in a block before it votes (node/evidence.h), and the
// pool of evidence waiting for a block.

#include "node/evidence.h"

#include <gtest/gtest.h>

#include "ledger/block_executor.h"
#include "ledger/evidence.h"

namespace gongshe::node {
namespace {

using ledger::Hash;
using ledger::KeyPair;

constexpr const char* kChain = "gongshe-evidence-test";

KeyPair Key(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed[0] = n;
  seed[31] = 0x3c;
  return KeyPair::FromSeed(seed);
}

Hash H(uint8_t n) {
  Hash h{};
  h.fill(n);
  return h;
}

std::string Str(ByteView bytes) { return std::string(AsChars(bytes)); }

// Two votes for different blocks in one round, signed by `signer` as if in `epoch`.
v1::Evidence DoubleVote(const KeyPair& signer, uint64_t epoch, uint64_t round, const char* chain = kChain) {
  v1::Evidence evidence;
  evidence.set_version(1);
  evidence.set_kind(v1::Evidence::KIND_DOUBLE_VOTE);
  evidence.set_epoch(epoch);
  evidence.set_validator(Str(signer.public_key()));
  uint8_t block = 1;
  for (v1::SignedStatement* s : {evidence.mutable_first(), evidence.mutable_second()}) {
    s->set_round(round);
    s->set_height(4);
    s->set_block_id(Str(H(block)));
    s->set_parent_id(Str(H(9)));
    s->set_parent_round(round - 1);
    s->set_signature(Str(signer.Sign(consensus::kVoteDomain, chain,
                                     consensus::VoteSignBytes(epoch, round, 4, H(block), H(9), round - 1))));
    ++block;
  }
  return evidence;
}

v1::Evidence DoubleProposal(const KeyPair& signer, uint64_t epoch, uint64_t round) {
  v1::Evidence evidence;
  evidence.set_version(1);
  evidence.set_kind(v1::Evidence::KIND_DOUBLE_PROPOSAL);
  evidence.set_epoch(epoch);
  evidence.set_validator(Str(signer.public_key()));
  uint8_t block = 1;
  for (v1::SignedStatement* s : {evidence.mutable_first(), evidence.mutable_second()}) {
    s->set_round(round);
    s->set_block_id(Str(H(block)));
    s->set_signature(
        Str(signer.Sign(consensus::kProposalDomain, kChain, consensus::ProposalSignBytes(epoch, round, H(block)))));
    ++block;
  }
  return evidence;
}

class NodeEvidenceTest : public ::testing::Test {
 protected:
  NodeEvidenceTest() {
    v1::ValidatorSet proto;
    proto.set_version(1);
    for (uint8_t n = 1; n <= 4; ++n) {
      v1::Validator* v = proto.add_validators();
      v->set_public_key(Str(Key(n).public_key()));
      v->set_power(1);
    }
    Result<consensus::ValidatorSet> set = consensus::ValidatorSet::FromProto(proto);
    EXPECT_TRUE(set.ok()) << set.status().ToString();
    set_.emplace(*std::move(set));
  }

  std::string Code(const v1::Evidence& evidence, uint64_t epoch = 0) {
    return VerifyEvidenceInEpoch(evidence, epoch, *set_, kChain, verifier_).code();
  }

  static v1::Block BlockOf(const std::vector<v1::Evidence>& items) {
    v1::Block block;
    for (const v1::Evidence& e : items) block.add_evidence(e.SerializeAsString());
    return block;
  }

  std::optional<consensus::ValidatorSet> set_;
  consensus::Ed25519Verifier verifier_;
};

TEST_F(NodeEvidenceTest, EvidenceOfAMemberInTheEpochVerifies) {
  EXPECT_EQ(Code(DoubleVote(Key(2), 0, 7)), "");
  EXPECT_EQ(Code(DoubleProposal(Key(3), 0, 7)), "");
  EXPECT_EQ(Code(DoubleVote(Key(2), 3, 7), 3), "");
  EXPECT_TRUE(VerifyBlockEvidence(BlockOf({DoubleVote(Key(2), 0, 7), DoubleProposal(Key(3), 0, 7)}), 0, *set_, kChain,
                                  verifier_)
                  .ok());
  EXPECT_TRUE(VerifyBlockEvidence(BlockOf({}), 0, *set_, kChain, verifier_).ok());
}

TEST_F(NodeEvidenceTest, ForgedSignatureIsRefused) {
  v1::Evidence forged = DoubleVote(Key(2), 0, 7);
  std::string signature = forged.second().signature();
  signature[10] ^= 0x01;
  forged.mutable_second()->set_signature(signature);
  EXPECT_EQ(Code(forged), "BAD_SIGNATURE");
  // Statements signed by another member, under the accused key's name.
  v1::Evidence framed = DoubleVote(Key(3), 0, 7);
  framed.set_validator(Str(Key(2).public_key()));
  EXPECT_EQ(Code(framed), "BAD_SIGNATURE");
  // Signed for another chain.
  EXPECT_EQ(Code(DoubleVote(Key(2), 0, 7, "another-chain")), "BAD_SIGNATURE");
  // A vote's signature does not pass for a proposal's (domains differ).
  v1::Evidence kind = DoubleVote(Key(2), 0, 7);
  kind.set_kind(v1::Evidence::KIND_DOUBLE_PROPOSAL);
  EXPECT_EQ(Code(kind), "BAD_SIGNATURE");
}

TEST_F(NodeEvidenceTest, NonMemberKeyIsRefused) {
  // Correctly signed by a key outside the set: no offence of a validator.
  EXPECT_EQ(Code(DoubleVote(Key(5), 0, 7)), "NOT_A_VALIDATOR");
  EXPECT_EQ(Code(DoubleProposal(Key(6), 0, 7)), "NOT_A_VALIDATOR");
}

TEST_F(NodeEvidenceTest, WrongEpochIsRefused) {
  // Correctly signed in epoch 1 by a member, checked in epoch 0, and the other way round.
  EXPECT_EQ(Code(DoubleVote(Key(2), 1, 7)), "WRONG_EPOCH");
  EXPECT_EQ(Code(DoubleVote(Key(2), 0, 7), 1), "WRONG_EPOCH");
  // The epoch is bound by the signatures: relabelling it breaks them.
  v1::Evidence relabelled = DoubleVote(Key(2), 1, 7);
  relabelled.set_epoch(0);
  EXPECT_EQ(Code(relabelled), "BAD_SIGNATURE");
}

TEST_F(NodeEvidenceTest, ABlockWithAnyBadItemIsRefused) {
  v1::Block block = BlockOf({DoubleVote(Key(2), 0, 7), DoubleVote(Key(5), 0, 7)});
  Status status = VerifyBlockEvidence(block, 0, *set_, kChain, verifier_);
  EXPECT_EQ(status.code(), "NOT_A_VALIDATOR");
  EXPECT_NE(status.message().find("evidence 1"), std::string::npos) << status.message();
  block = BlockOf({DoubleVote(Key(2), 0, 7)});
  block.add_evidence("\x08\x01garbage");
  EXPECT_EQ(VerifyBlockEvidence(block, 0, *set_, kChain, verifier_).code(), "BAD_EVIDENCE");
  std::vector<v1::Evidence> many;
  for (uint64_t round = 1; round <= ledger::kMaxBlockEvidence + 1; ++round) many.push_back(DoubleVote(Key(2), 0, round));
  EXPECT_EQ(VerifyBlockEvidence(BlockOf(many), 0, *set_, kChain, verifier_).code(), "BAD_EVIDENCE");
}

TEST_F(NodeEvidenceTest, PoolKeepsOneItemPerOffenceWithinItsBound) {
  ledger::MemKv committed;
  EvidencePool pool(3);
  using R = EvidencePool::AddResult;
  EXPECT_EQ(pool.Add(DoubleVote(Key(2), 0, 7).SerializeAsString(), committed), R::kAdded);
  // The same offence again, or proved by another pair of statements: pending already.
  EXPECT_EQ(pool.Add(DoubleVote(Key(2), 0, 7).SerializeAsString(), committed), R::kPending);
  v1::Evidence other_pair = DoubleVote(Key(2), 0, 7);
  other_pair.mutable_second()->set_block_id(Str(H(3)));
  EXPECT_EQ(pool.Add(other_pair.SerializeAsString(), committed), R::kPending);
  EXPECT_EQ(pool.Add("not evidence", committed), R::kMalformed);
  EXPECT_EQ(pool.Add(DoubleProposal(Key(2), 0, 7).SerializeAsString(), committed), R::kAdded);
  EXPECT_EQ(pool.Add(DoubleVote(Key(3), 0, 7).SerializeAsString(), committed), R::kAdded);
  EXPECT_EQ(pool.Add(DoubleVote(Key(4), 0, 7).SerializeAsString(), committed), R::kFull);
  EXPECT_EQ(pool.size(), 3u);

  // Select skips what the state records and stops at its bound.
  ledger::MemKv state;
  const std::string recorded = DoubleVote(Key(3), 0, 7).SerializeAsString();
  state.Put(ledger::EvidenceRecordKey(ledger::OffenceOf(*ledger::ParseEvidence(recorded))), "record");
  std::vector<std::string> selected = pool.Select(state, 10);
  EXPECT_EQ(selected.size(), 2u);
  EXPECT_EQ(std::count(selected.begin(), selected.end(), recorded), 0);
  EXPECT_EQ(pool.Select(state, 1).size(), 1u);
  EXPECT_EQ(pool.Select(committed, 10).size(), 3u);
  EXPECT_EQ(pool.Select(state, 10), pool.Select(state, 10));  // deterministic order

  // Once committed, recorded evidence leaves the pool, and is not taken again.
  EXPECT_EQ(pool.DropRecorded(state), 1u);
  EXPECT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool.Add(recorded, state), R::kRecorded);
  EXPECT_EQ(pool.Add(DoubleVote(Key(4), 0, 7).SerializeAsString(), state), R::kAdded);
}

}  // namespace
}  // namespace gongshe::node
