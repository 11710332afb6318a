// Epoch helpers: which validator set certifies a height (ValidatorSetHistory), the light-client
// check at any height, and epoch changes (their check and stored form), with real Ed25519 keys.

#include <gtest/gtest.h>

#include "consensus/epoch.h"
#include "tests/unit/consensus_test_util.h"

namespace gongshe::consensus {
namespace {

using testing::H;
using testing::kChain;
using testing::MakeSetProto;
using testing::MakeSetProtoOf;
using testing::Str;

ValidatorSet SetOf(const std::vector<uint32_t>& keys) { return ValidatorSet::FromProto(MakeSetProtoOf(keys)).value(); }

TEST(ValidatorSetHistoryTest, TheSetOfAnEpochCertifiesUpToTheBlockCarryingTheNextChange) {
  ValidatorSetHistory history = ValidatorSetHistory::Create(7, MakeSetProtoOf({0, 1, 2, 3})).value();
  EXPECT_EQ(history.EpochAt(0), 7u);
  EXPECT_EQ(history.EpochAt(1000), 7u);
  ASSERT_TRUE(history.AddChange(10, MakeSetProtoOf({1, 2, 3, 4})).ok());
  ASSERT_TRUE(history.AddChange(11, MakeSetProtoOf({4, 5, 6})).ok());  // a change in the first block
  ASSERT_TRUE(history.AddChange(30, MakeSetProtoOf({0, 1, 2, 3})).ok());
  const Hash first = SetOf({0, 1, 2, 3}).hash();
  for (uint64_t h : {0u, 1u, 9u, 10u}) {
    EXPECT_EQ(history.EpochAt(h), 7u) << h;
    EXPECT_EQ(history.SetAt(h).hash(), first) << h;
  }
  EXPECT_EQ(history.EpochAt(11), 8u);
  EXPECT_EQ(history.SetAt(11).hash(), SetOf({1, 2, 3, 4}).hash());
  EXPECT_EQ(history.EpochAt(12), 9u);
  EXPECT_EQ(history.SetAt(30).hash(), SetOf({4, 5, 6}).hash());
  EXPECT_EQ(history.EpochAt(31), 10u);
  EXPECT_EQ(history.SetAt(31).hash(), first);
  EXPECT_EQ(history.SetAt(UINT64_MAX).hash(), first);
  EXPECT_EQ(history.change_heights(), (std::vector<uint64_t>{10, 11, 30}));
}

TEST(ValidatorSetHistoryTest, Rejections) {
  v1::ValidatorSet empty;
  empty.set_version(kVersion);
  EXPECT_EQ(ValidatorSetHistory::Create(0, empty).status().code(), "BAD_VALIDATOR_SET");
  ValidatorSetHistory history = ValidatorSetHistory::Create(0, MakeSetProto(4)).value();
  EXPECT_EQ(history.AddChange(0, MakeSetProto(5)).code(), "BAD_HISTORY");
  ASSERT_TRUE(history.AddChange(5, MakeSetProto(5)).ok());
  EXPECT_EQ(history.AddChange(5, MakeSetProto(6)).code(), "BAD_HISTORY");
  EXPECT_EQ(history.AddChange(4, MakeSetProto(6)).code(), "BAD_HISTORY");
  EXPECT_EQ(history.AddChange(6, empty).code(), "BAD_VALIDATOR_SET");
  EXPECT_EQ(history.change_heights().size(), 1u);  // nothing recorded by a rejected change
  EXPECT_EQ(history.EpochAt(100), 1u);
}

TEST(ValidatorSetHistoryTest, CertificatesVerifyWithTheSetOfTheirHeight) {
  const ValidatorSet old_set = SetOf({0, 1, 2, 3});
  const ValidatorSet new_set = SetOf({4, 5, 6, 7});
  ValidatorSetHistory history = ValidatorSetHistory::Create(1, MakeSetProtoOf({0, 1, 2, 3})).value();
  ASSERT_TRUE(history.AddChange(4, MakeSetProtoOf({4, 5, 6, 7})).ok());
  const Ed25519Verifier verifier;
  // The change block (height 4) is certified by the old set, height 5 by the new one.
  v1::QuorumCert old_qc = testing::MakeQc(old_set, 1, 6, 5, H(1), H(2), 5, 3);
  const v1::CommitCertificate at_change = CommitCertificateFromQc(old_qc, old_set, kChain);
  ASSERT_EQ(at_change.height(), 4u);
  EXPECT_TRUE(VerifyCommitCertificateAt(at_change, history, kChain, verifier).ok());
  v1::QuorumCert new_qc;
  new_qc.set_epoch(2);
  new_qc.set_round(3);
  new_qc.set_height(6);
  new_qc.set_block_id(Str(H(3)));
  new_qc.set_parent_id(Str(H(4)));
  new_qc.set_parent_round(2);
  testing::SignQc(new_qc, new_set, {4, 5, 6, 7}, 3);
  const v1::CommitCertificate after = CommitCertificateFromQc(new_qc, new_set, kChain);
  ASSERT_EQ(after.height(), 5u);
  EXPECT_TRUE(VerifyCommitCertificateAt(after, history, kChain, verifier).ok());
  // The old set cannot certify a height after the change, nor the new one a height before it.
  v1::QuorumCert late_old = testing::MakeQc(old_set, 1, 8, 6, H(5), H(6), 7, 4);
  EXPECT_EQ(VerifyCommitCertificateAt(CommitCertificateFromQc(late_old, old_set, kChain), history, kChain, verifier)
                .code(),
            "WRONG_VALIDATOR_SET");
  v1::QuorumCert early_new = new_qc;
  early_new.set_height(4);
  testing::SignQc(early_new, new_set, {4, 5, 6, 7}, 3);
  EXPECT_EQ(
      VerifyCommitCertificateAt(CommitCertificateFromQc(early_new, new_set, kChain), history, kChain, verifier).code(),
      "WRONG_VALIDATOR_SET");
}

class EpochChangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Epoch 3 ends at block H(9) (height 20, round 11); the QC of its child (round 12) commits it.
    change_.epoch = EpochInfo{4, MakeSetProtoOf({2, 3, 4, 5, 6}), H(9), 20};
    change_.previous_validators = MakeSetProto(4);
    change_.root_qc = testing::MakeQc(previous_, 3, 12, 21, H(8), H(9), 11, 3);
  }
  const ValidatorSet previous_ = ValidatorSet::FromProto(MakeSetProto(4)).value();
  const Ed25519Verifier verifier_;
  EpochChange change_;
};

TEST_F(EpochChangeTest, VerifiesAndRoundTripsThroughItsRecord) {
  EXPECT_TRUE(VerifyEpochChange(change_, kChain, verifier_).ok());
  v1::EpochChangeRecord record;
  ASSERT_TRUE(record.ParseFromString(EpochChangeToRecord(change_).SerializeAsString()));
  Result<EpochChange> back = EpochChangeFromRecord(record, kChain, verifier_);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->epoch.epoch, 4u);
  EXPECT_EQ(back->epoch.root_id, H(9));
  EXPECT_EQ(back->epoch.root_height, 20u);
  EXPECT_EQ(back->epoch.validators.SerializeAsString(), change_.epoch.validators.SerializeAsString());
  EXPECT_EQ(back->previous_validators.SerializeAsString(), change_.previous_validators.SerializeAsString());
  EXPECT_EQ(back->root_qc.SerializeAsString(), change_.root_qc.SerializeAsString());
}

TEST_F(EpochChangeTest, Rejections) {
  auto code = [&](const EpochChange& c) { return VerifyEpochChange(c, kChain, verifier_).code(); };
  EpochChange c = change_;
  c.epoch.epoch = 0;
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.epoch.epoch = 5;  // the root QC is of epoch 3, not 4
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.epoch.root_id = H(7);
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.epoch.root_height = 19;
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.previous_validators = MakeSetProtoOf({0, 1, 2, 9});  // not the set that signed
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.root_qc = testing::MakeQc(previous_, 3, 12, 21, H(8), H(9), 11, 2);  // no quorum
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.root_qc = testing::MakeQc(previous_, 3, 12, 21, H(8), H(9), 10, 3);  // commits nothing
  EXPECT_EQ(code(c), "BAD_EPOCH");
  c = change_;
  c.epoch.validators.mutable_validators(1)->set_public_key("short");
  EXPECT_EQ(code(c), "BAD_VALIDATOR_SET");
  c = change_;
  c.previous_validators.clear_validators();
  EXPECT_EQ(code(c), "BAD_VALIDATOR_SET");
  v1::EpochChangeRecord record = EpochChangeToRecord(change_);
  record.set_version(2);
  EXPECT_EQ(EpochChangeFromRecord(record, kChain, verifier_).status().code(), "BAD_EPOCH");
  record = EpochChangeToRecord(change_);
  record.set_root_id("short");
  EXPECT_EQ(EpochChangeFromRecord(record, kChain, verifier_).status().code(), "BAD_EPOCH");
  record = EpochChangeToRecord(change_);
  EXPECT_EQ(EpochChangeFromRecord(record, "other-chain", verifier_).status().code(), "BAD_EPOCH");
}

TEST(ConsensusSetProtoTest, ClearsCommuneNamesOnly) {
  const v1::ValidatorSet named = MakeSetProto(4);
  const v1::ValidatorSet plain = ConsensusSetProto(named);
  ASSERT_EQ(plain.validators_size(), 4);
  for (const v1::Validator& v : plain.validators()) EXPECT_TRUE(v.commune().empty());
  EXPECT_EQ(ValidatorSet::FromProto(plain)->hash(), ValidatorSet::FromProto(named)->hash());
}

}  // namespace
}  // namespace gongshe::consensus
