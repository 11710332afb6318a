// Validator sets, ids, quorum/timeout/commit certificates and evidence: every acceptance and
// every rejection, with real Ed25519 signatures.

#include <gtest/gtest.h>

#include "tests/unit/consensus_test_util.h"

namespace gongshe::consensus {
namespace {

using testing::H;
using testing::KeyFor;
using testing::kChain;
using testing::MakeQc;
using testing::MakeSetProto;
using testing::Str;

ValidatorSet MakeSet(uint32_t n) { return ValidatorSet::FromProto(MakeSetProto(n)).value(); }

TEST(ValidatorSetTest, QuorumsForThreeFPlusOne) {
  EXPECT_EQ(MakeSet(4).quorum_power(), 3u);
  EXPECT_EQ(MakeSet(4).weak_quorum_power(), 2u);
  EXPECT_EQ(MakeSet(7).quorum_power(), 5u);
  EXPECT_EQ(MakeSet(7).weak_quorum_power(), 3u);
  EXPECT_EQ(MakeSet(10).quorum_power(), 7u);
  EXPECT_EQ(MakeSet(10).weak_quorum_power(), 4u);
  EXPECT_EQ(MakeSet(1).quorum_power(), 1u);
  // n = 3f + 2 and 3f + 3 keep two quorums overlapping in more than the faulty power.
  EXPECT_EQ(MakeSet(5).quorum_power(), 4u);
  EXPECT_EQ(MakeSet(6).quorum_power(), 5u);
}

TEST(ValidatorSetTest, WeightedPower) {
  v1::ValidatorSet proto = MakeSetProto(3);
  proto.mutable_validators(0)->set_power(4);  // total 6
  const ValidatorSet set = ValidatorSet::FromProto(proto).value();
  EXPECT_EQ(set.total_power(), 6u);
  EXPECT_EQ(set.quorum_power(), 5u);
}

TEST(ValidatorSetTest, IndexLeaderAndHash) {
  const ValidatorSet set = MakeSet(4);
  EXPECT_EQ(set.IndexOf(KeyFor(2).public_key()), 2u);
  EXPECT_FALSE(set.IndexOf(KeyFor(9).public_key()).has_value());
  EXPECT_EQ(set.LeaderOf(5), 1u);
  v1::ValidatorSet reordered = MakeSetProto(4);
  reordered.mutable_validators()->SwapElements(0, 1);
  EXPECT_NE(ValidatorSet::FromProto(reordered)->hash(), set.hash());
  v1::ValidatorSet repowered = MakeSetProto(4);
  repowered.mutable_validators(3)->set_power(2);
  EXPECT_NE(ValidatorSet::FromProto(repowered)->hash(), set.hash());
  v1::ValidatorSet renamed = MakeSetProto(4);
  renamed.mutable_validators(3)->set_commune("other");
  EXPECT_EQ(ValidatorSet::FromProto(renamed)->hash(), set.hash());  // names are not consensus data
}

TEST(ValidatorSetTest, Rejections) {
  v1::ValidatorSet empty;
  empty.set_version(kVersion);
  EXPECT_EQ(ValidatorSet::FromProto(empty).status().code(), "BAD_VALIDATOR_SET");
  v1::ValidatorSet version = MakeSetProto(4);
  version.set_version(2);
  EXPECT_FALSE(ValidatorSet::FromProto(version).ok());
  v1::ValidatorSet bad_key = MakeSetProto(4);
  bad_key.mutable_validators(1)->set_public_key("short");
  EXPECT_FALSE(ValidatorSet::FromProto(bad_key).ok());
  v1::ValidatorSet zero = MakeSetProto(4);
  zero.mutable_validators(1)->set_power(0);
  EXPECT_FALSE(ValidatorSet::FromProto(zero).ok());
  v1::ValidatorSet huge = MakeSetProto(4);
  huge.mutable_validators(1)->set_power(kMaxPower + 1);
  EXPECT_FALSE(ValidatorSet::FromProto(huge).ok());
  v1::ValidatorSet duplicate = MakeSetProto(4);
  *duplicate.mutable_validators(3) = duplicate.validators(0);
  EXPECT_FALSE(ValidatorSet::FromProto(duplicate).ok());
}

TEST(BlockIdTest, EveryFieldCounts) {
  const BlockId base = ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2));
  EXPECT_NE(base, ComputeBlockId("other", 1, 5, 3, H(1), 2, H(2)));
  EXPECT_NE(base, ComputeBlockId(kChain, 2, 5, 3, H(1), 2, H(2)));
  EXPECT_NE(base, ComputeBlockId(kChain, 1, 6, 3, H(1), 2, H(2)));
  EXPECT_NE(base, ComputeBlockId(kChain, 1, 5, 4, H(1), 2, H(2)));
  EXPECT_NE(base, ComputeBlockId(kChain, 1, 5, 3, H(9), 2, H(2)));
  EXPECT_NE(base, ComputeBlockId(kChain, 1, 5, 3, H(1), 3, H(2)));
  EXPECT_NE(base, ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(9)));
  EXPECT_EQ(base, ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2)));
}

TEST(BlockIdTest, BindsTheNextValidatorSetButNotCommuneNames) {
  const BlockId base = ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2));
  EXPECT_EQ(base, ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2), std::nullopt));  // old ids unchanged
  const BlockId with = ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2), H(7));
  EXPECT_NE(base, with);
  EXPECT_NE(with, ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2), H(8)));

  v1::ConsensusBlock block;
  block.set_epoch(1);
  block.set_round(5);
  block.set_height(3);
  block.set_parent_id(Str(H(1)));
  block.set_proposer(2);
  block.set_payload_hash(Str(H(2)));
  EXPECT_EQ(BlockIdOf(kChain, block).value(), base);
  *block.mutable_next_validator_set() = MakeSetProto(5);
  const Hash set_hash = ValidatorSet::FromProto(MakeSetProto(5))->hash();
  EXPECT_EQ(BlockIdOf(kChain, block).value(), ComputeBlockId(kChain, 1, 5, 3, H(1), 2, H(2), set_hash));
  v1::ConsensusBlock renamed = block;
  renamed.mutable_next_validator_set()->mutable_validators(0)->set_commune("elsewhere");
  EXPECT_EQ(BlockIdOf(kChain, renamed).value(), BlockIdOf(kChain, block).value());
  v1::ConsensusBlock repowered = block;
  repowered.mutable_next_validator_set()->mutable_validators(0)->set_power(3);
  EXPECT_NE(BlockIdOf(kChain, repowered).value(), BlockIdOf(kChain, block).value());

  v1::ConsensusBlock bad = block;
  bad.mutable_next_validator_set()->mutable_validators(1)->set_power(0);
  EXPECT_EQ(BlockIdOf(kChain, bad).status().code(), "BAD_VALIDATOR_SET");
  bad = block;
  bad.set_parent_id("short");
  EXPECT_EQ(BlockIdOf(kChain, bad).status().code(), "BAD_BLOCK");
  bad = block;
  bad.clear_payload_hash();
  EXPECT_EQ(BlockIdOf(kChain, bad).status().code(), "BAD_BLOCK");
}

class QcTest : public ::testing::Test {
 protected:
  const ValidatorSet set_ = MakeSet(4);
  const Ed25519Verifier verifier_;
};

TEST_F(QcTest, AcceptsQuorumWithCommitSignatures) {
  const v1::QuorumCert qc = MakeQc(set_, 1, 6, 4, H(1), H(2), 5, 3);
  EXPECT_TRUE(QcCarriesCommit(qc));
  EXPECT_TRUE(VerifyQuorumCert(qc, 1, set_, kChain, verifier_).ok());
}

TEST_F(QcTest, AcceptsNonConsecutiveWithoutCommitSignatures) {
  const v1::QuorumCert qc = MakeQc(set_, 1, 6, 4, H(1), H(2), 3, 4);
  EXPECT_FALSE(QcCarriesCommit(qc));
  EXPECT_TRUE(VerifyQuorumCert(qc, 1, set_, kChain, verifier_).ok());
}

TEST_F(QcTest, Rejections) {
  const v1::QuorumCert good = MakeQc(set_, 1, 6, 4, H(1), H(2), 5, 3);
  auto code = [&](const v1::QuorumCert& qc) { return VerifyQuorumCert(qc, 1, set_, kChain, verifier_).code(); };
  EXPECT_EQ(VerifyQuorumCert(good, 2, set_, kChain, verifier_).code(), "WRONG_EPOCH");
  EXPECT_EQ(VerifyQuorumCert(good, 1, set_, "other-chain", verifier_).code(), "BAD_SIGNATURE");
  EXPECT_EQ(code(MakeQc(set_, 1, 6, 4, H(1), H(2), 5, 2)), "NO_QUORUM");
  v1::QuorumCert qc = good;
  qc.set_round(0);
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_parent_round(6);
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_block_id("short");
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.mutable_signatures(1)->set_validator(0);  // duplicate signer
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.mutable_signatures()->SwapElements(0, 1);  // unsorted
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.mutable_signatures(2)->set_validator(7);
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  *qc.add_signatures() = good.signatures(0);
  *qc.add_signatures() = good.signatures(1);
  EXPECT_EQ(code(qc), "BAD_QC");  // more signatures than validators
  qc = good;
  std::string sig = qc.signatures(1).vote_signature();
  sig[5] ^= 1;
  qc.mutable_signatures(1)->set_vote_signature(sig);
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  qc = good;
  qc.mutable_signatures(2)->clear_commit_signature();
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  qc = good;
  qc.set_height(5);  // signatures were for another height
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  v1::QuorumCert no_commit = MakeQc(set_, 1, 6, 4, H(1), H(2), 3, 3);
  no_commit.mutable_signatures(0)->set_commit_signature(good.signatures(0).commit_signature());
  EXPECT_EQ(code(no_commit), "BAD_QC");
}

// A QC whose parent is a payload-free block above a block carrying a change: its commit
// signatures certify that block (H(3), height 2, round 3), named in the QC.
v1::QuorumCert ExplicitTargetQc(const ValidatorSet& set, uint32_t signers) {
  v1::QuorumCert qc;
  qc.set_epoch(1);
  qc.set_round(6);
  qc.set_height(4);
  qc.set_block_id(Str(H(1)));
  qc.set_parent_id(Str(H(2)));
  qc.set_parent_round(5);
  qc.set_commit_block_id(Str(H(3)));
  qc.set_commit_height(2);
  qc.set_commit_round(3);
  testing::SignQc(qc, set, {0, 1, 2, 3}, signers);
  return qc;
}

TEST_F(QcTest, CommitTargetIsTheParentOrTheNamedBlock) {
  const v1::QuorumCert plain = MakeQc(set_, 1, 6, 4, H(1), H(2), 5, 3);
  std::optional<CommitTarget> parent = QcCommitTarget(plain);
  ASSERT_TRUE(parent.has_value());
  EXPECT_EQ(parent->id, H(2));
  EXPECT_EQ(parent->height, 3u);
  EXPECT_EQ(parent->round, 5u);
  EXPECT_FALSE(QcCommitTarget(MakeQc(set_, 1, 6, 4, H(1), H(2), 3, 3)).has_value());  // no commit

  const v1::QuorumCert named = ExplicitTargetQc(set_, 3);
  std::optional<CommitTarget> target = QcCommitTarget(named);
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->id, H(3));
  EXPECT_EQ(target->height, 2u);
  EXPECT_EQ(target->round, 3u);
  EXPECT_TRUE(VerifyQuorumCert(named, 1, set_, kChain, verifier_).ok());
  const v1::CommitCertificate cert = CommitCertificateFromQc(named, set_, kChain);
  EXPECT_EQ(cert.height(), 2u);
  EXPECT_EQ(cert.round(), 3u);
  EXPECT_EQ(cert.block_hash(), Str(H(3)));
  EXPECT_TRUE(VerifyCommitCertificate(cert, MakeSetProto(4), kChain).ok());
}

TEST_F(QcTest, CommitTargetRejections) {
  auto code = [&](const v1::QuorumCert& qc) { return VerifyQuorumCert(qc, 1, set_, kChain, verifier_).code(); };
  const v1::QuorumCert good = ExplicitTargetQc(set_, 3);
  v1::QuorumCert qc = good;
  qc.set_commit_height(3);  // the parent's height: the parent is never named
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_commit_height(0);
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_commit_round(5);  // not below the parent's round
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_commit_round(0);
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_commit_block_id("short");
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.clear_commit_block_id();  // numbers without a block
  EXPECT_EQ(code(qc), "BAD_QC");
  qc = good;
  qc.set_commit_block_id(Str(H(4)));  // signatures certify H(3)
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  qc = good;
  qc.set_commit_round(2);
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  // Signatures over the parent do not certify a named block, nor the reverse.
  qc = MakeQc(set_, 1, 6, 4, H(1), H(2), 5, 3);
  qc.set_commit_block_id(Str(H(3)));
  qc.set_commit_height(2);
  qc.set_commit_round(3);
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  qc = good;
  qc.clear_commit_block_id();
  qc.clear_commit_height();
  qc.clear_commit_round();
  EXPECT_EQ(code(qc), "BAD_SIGNATURE");
  // A named target on a QC that commits nothing.
  qc = MakeQc(set_, 1, 6, 4, H(1), H(2), 3, 3);
  qc.set_commit_block_id(Str(H(3)));
  qc.set_commit_height(2);
  qc.set_commit_round(2);
  EXPECT_EQ(code(qc), "BAD_QC");
}

TEST_F(QcTest, TimeoutCertificate) {
  v1::TimeoutCert tc;
  tc.set_epoch(1);
  tc.set_round(9);
  const uint64_t hqc[] = {4, 7, 6};
  for (uint32_t i = 0; i < 3; ++i) {
    v1::TcSignature* sig = tc.add_signatures();
    sig->set_validator(i);
    sig->set_high_qc_round(hqc[i]);
    sig->set_signature(Str(KeyFor(i).Sign(kTimeoutDomain, kChain, TimeoutSignBytes(1, 9, hqc[i]))));
  }
  EXPECT_TRUE(VerifyTimeoutCert(tc, 1, set_, kChain, verifier_).ok());
  EXPECT_EQ(MaxHighQcRound(tc), 7u);
  auto code = [&](const v1::TimeoutCert& t) { return VerifyTimeoutCert(t, 1, set_, kChain, verifier_).code(); };
  EXPECT_EQ(VerifyTimeoutCert(tc, 3, set_, kChain, verifier_).code(), "WRONG_EPOCH");
  v1::TimeoutCert bad = tc;
  bad.mutable_signatures(1)->set_high_qc_round(8);  // not what was signed
  EXPECT_EQ(code(bad), "BAD_SIGNATURE");
  bad = tc;
  bad.mutable_signatures(1)->set_high_qc_round(9);
  EXPECT_EQ(code(bad), "BAD_TC");
  bad = tc;
  bad.mutable_signatures()->RemoveLast();
  EXPECT_EQ(code(bad), "NO_QUORUM");
  bad = tc;
  bad.mutable_signatures(2)->set_validator(1);
  EXPECT_EQ(code(bad), "BAD_TC");
  bad = tc;
  bad.set_round(0);
  EXPECT_EQ(code(bad), "BAD_TC");
}

class CommitCertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    qc_ = MakeQc(set_, 1, 8, 5, H(1), H(2), 7, 3);
    cert_ = CommitCertificateFromQc(qc_, set_, kChain);
  }
  const v1::ValidatorSet proto_ = MakeSetProto(4);
  const ValidatorSet set_ = ValidatorSet::FromProto(proto_).value();
  v1::QuorumCert qc_;
  v1::CommitCertificate cert_;
};

TEST_F(CommitCertificateTest, NamesTheParentAndVerifiesWithOnlyTheSet) {
  EXPECT_EQ(cert_.height(), 4u);
  EXPECT_EQ(cert_.round(), 7u);
  EXPECT_EQ(cert_.block_hash(), Str(H(2)));
  EXPECT_EQ(cert_.validator_set_hash(), Str(set_.hash()));
  EXPECT_EQ(cert_.signatures_size(), 3);
  EXPECT_TRUE(VerifyCommitCertificate(cert_, proto_, kChain).ok());
  // Deterministic: the same bytes verify the same way through the wire format.
  v1::CommitCertificate reparsed;
  ASSERT_TRUE(reparsed.ParseFromString(cert_.SerializeAsString()));
  EXPECT_TRUE(VerifyCommitCertificate(reparsed, proto_, kChain).ok());
}

TEST_F(CommitCertificateTest, Rejections) {
  auto code = [&](const v1::CommitCertificate& c) { return VerifyCommitCertificate(c, proto_, kChain).code(); };
  EXPECT_EQ(VerifyCommitCertificate(cert_, proto_, "other").code(), "WRONG_CHAIN");
  v1::ValidatorSet other_set = MakeSetProto(5);
  EXPECT_EQ(VerifyCommitCertificate(cert_, other_set, kChain).code(), "WRONG_VALIDATOR_SET");
  v1::ValidatorSet broken_set = MakeSetProto(4);
  broken_set.mutable_validators(0)->set_power(0);
  EXPECT_EQ(VerifyCommitCertificate(cert_, broken_set, kChain).code(), "BAD_VALIDATOR_SET");
  v1::CommitCertificate c = cert_;
  c.set_version(2);
  EXPECT_EQ(code(c), "BAD_CERTIFICATE");
  c = cert_;
  c.set_height(0);
  EXPECT_EQ(code(c), "BAD_CERTIFICATE");
  c = cert_;
  c.set_block_hash("x");
  EXPECT_EQ(code(c), "BAD_CERTIFICATE");
  c = cert_;
  c.set_block_hash(Str(H(3)));
  EXPECT_EQ(code(c), "BAD_SIGNATURE");
  c = cert_;
  c.set_round(6);
  EXPECT_EQ(code(c), "BAD_SIGNATURE");
  c = cert_;
  c.mutable_signatures()->RemoveLast();
  EXPECT_EQ(code(c), "NO_QUORUM");
  c = cert_;
  *c.mutable_signatures(2) = c.signatures(0);
  EXPECT_EQ(code(c), "DUPLICATE_SIGNER");
  c = cert_;
  const PublicKey stranger = KeyFor(40).public_key();
  c.mutable_signatures(1)->set_validator(std::string(stranger.begin(), stranger.end()));
  EXPECT_EQ(code(c), "UNKNOWN_SIGNER");
  c = cert_;
  c.mutable_signatures(1)->set_signature("short");
  EXPECT_EQ(code(c), "BAD_SIGNATURE");
  c = cert_;
  for (int i = 0; i < 3; ++i) *c.add_signatures() = cert_.signatures(i);
  EXPECT_EQ(code(c), "BAD_CERTIFICATE");
  // A vote signature is not a commit signature (domain separation).
  c = cert_;
  c.mutable_signatures(0)->set_signature(qc_.signatures(0).vote_signature());
  EXPECT_EQ(code(c), "BAD_SIGNATURE");
}

class EvidenceTest : public ::testing::Test {
 protected:
  v1::SignedStatement Vote(const Hash& block, uint64_t round = 5) {
    v1::SignedStatement s;
    s.set_round(round);
    s.set_height(3);
    s.set_block_id(Str(block));
    s.set_parent_id(Str(H(7)));
    s.set_parent_round(4);
    s.set_signature(Str(KeyFor(1).Sign(kVoteDomain, kChain, VoteSignBytes(1, round, 3, block, H(7), 4))));
    return s;
  }
  v1::SignedStatement Proposal(const Hash& block) {
    v1::SignedStatement s;
    s.set_round(5);
    s.set_block_id(Str(block));
    s.set_signature(Str(KeyFor(1).Sign(kProposalDomain, kChain, ProposalSignBytes(1, 5, block))));
    return s;
  }
  v1::Evidence Make(v1::Evidence::Kind kind, v1::SignedStatement a, v1::SignedStatement b) {
    v1::Evidence e;
    e.set_version(kVersion);
    e.set_kind(kind);
    e.set_epoch(1);
    const PublicKey key = KeyFor(1).public_key();
    e.set_validator(std::string(key.begin(), key.end()));
    *e.mutable_first() = std::move(a);
    *e.mutable_second() = std::move(b);
    return e;
  }
};

TEST_F(EvidenceTest, DoubleVoteAndDoubleProposalVerify) {
  EXPECT_TRUE(VerifyEvidence(Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2))), kChain).ok());
  EXPECT_TRUE(
      VerifyEvidence(Make(v1::Evidence::KIND_DOUBLE_PROPOSAL, Proposal(H(1)), Proposal(H(2))), kChain).ok());
}

TEST_F(EvidenceTest, Rejections) {
  auto code = [&](const v1::Evidence& e) { return VerifyEvidence(e, kChain).code(); };
  EXPECT_EQ(code(Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(1)))), "BAD_EVIDENCE");  // one block
  EXPECT_EQ(code(Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1), 5), Vote(H(2), 6))), "BAD_EVIDENCE");  // two rounds
  EXPECT_EQ(code(Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Proposal(H(2)))), "BAD_EVIDENCE");
  EXPECT_EQ(code(Make(v1::Evidence::KIND_DOUBLE_PROPOSAL, Vote(H(1)), Vote(H(2)))), "BAD_SIGNATURE");
  EXPECT_EQ(code(Make(v1::Evidence::KIND_UNSPECIFIED, Vote(H(1)), Vote(H(2)))), "BAD_EVIDENCE");
  EXPECT_EQ(VerifyEvidence(Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2))), "other").code(),
            "BAD_SIGNATURE");
  v1::Evidence e = Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2)));
  const PublicKey other = KeyFor(2).public_key();
  e.set_validator(std::string(other.begin(), other.end()));
  EXPECT_EQ(code(e), "BAD_SIGNATURE");  // signed by someone else
  e = Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2)));
  e.set_epoch(2);
  EXPECT_EQ(code(e), "BAD_SIGNATURE");
  e = Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2)));
  e.mutable_second()->set_height(4);
  EXPECT_EQ(code(e), "BAD_SIGNATURE");
  e = Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2)));
  e.set_validator("short");
  EXPECT_EQ(code(e), "BAD_EVIDENCE");
  e = Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2)));
  e.clear_second();
  EXPECT_EQ(code(e), "BAD_EVIDENCE");
  e = Make(v1::Evidence::KIND_DOUBLE_VOTE, Vote(H(1)), Vote(H(2)));
  e.set_version(0);
  EXPECT_EQ(code(e), "BAD_EVIDENCE");
}

}  // namespace
}  // namespace gongshe::consensus
