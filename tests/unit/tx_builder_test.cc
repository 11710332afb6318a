#include "ledger/tx_builder.h"

#include <gtest/gtest.h>

#include <limits>

#include "ledger/transaction.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::ledger {
namespace {

using testing::TestKey;

TEST(TxBuilderTest, EveryActionDecodesAndVerifiesForItsChain) {
  const TxBuilder builder("chain-a");
  const KeyPair signer = TestKey(1), other = TestKey(2);
  const std::string txs[] = {
      builder.Register(signer, 7, other.public_key(), v1::ROLE_STORE),
      builder.Retire(signer, 7, other.public_key()),
      builder.Attend(signer, 7, other.public_key(), 1'700'000'000, 90),
      builder.Issue(signer, 7, v1::VOUCHER_CLASS_SPECIAL, other.public_key(), 1'500, "why"),
      builder.Redeem(signer, 7, other, v1::VOUCHER_CLASS_GUARANTEE, 2'000, "bread"),
      builder.RegisterMember(signer, 7, other.public_key(), TestKey(3).public_key()),
      builder.ProposeAmendment(signer, 7, "a.law", "law a version 1\n", 4),
      builder.Vote(signer, 7, Sha256(AsBytes("proposal")), v1::VOTE_CHOICE_ABSTAIN),
  };
  const v1::TxBody::ActionCase actions[] = {v1::TxBody::kRegisterAccount, v1::TxBody::kRetireAccount,
                                            v1::TxBody::kAttendance,      v1::TxBody::kIssueVouchers,
                                            v1::TxBody::kRedeemVouchers,  v1::TxBody::kRegisterAccount,
                                            v1::TxBody::kProposeAmendment, v1::TxBody::kCastVote};
  for (size_t i = 0; i < std::size(txs); ++i) {
    Result<DecodedTx> tx = DecodeTx(AsBytes(txs[i]), "chain-a");
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    EXPECT_TRUE(VerifyTxSignatures(*tx, "chain-a"));
    EXPECT_EQ(tx->body.nonce(), 7u);
    EXPECT_EQ(tx->body.action_case(), actions[i]);
    EXPECT_EQ(tx->signer, signer.public_key());
    EXPECT_EQ(tx->cosigner.has_value(), actions[i] == v1::TxBody::kRedeemVouchers);
    EXPECT_EQ(DecodeTx(AsBytes(txs[i]), "chain-b").status().code(), "WRONG_CHAIN");
  }
  const DecodedTx redeem = *DecodeTx(AsBytes(txs[4]), "chain-a");
  EXPECT_EQ(*redeem.cosigner, other.public_key());
  EXPECT_EQ(redeem.body.redeem_vouchers().store(), std::string(AsChars(other.public_key())));
  EXPECT_EQ(redeem.body.redeem_vouchers().amount_milli(), 2'000);
  EXPECT_EQ(redeem.body.redeem_vouchers().category(), "bread");
  const DecodedTx issue = *DecodeTx(AsBytes(txs[3]), "chain-a");
  EXPECT_EQ(issue.body.issue_vouchers().reason(), "why");
  EXPECT_EQ(issue.body.issue_vouchers().voucher_class(), v1::VOUCHER_CLASS_SPECIAL);
  const v1::RegisterAccount member = DecodeTx(AsBytes(txs[5]), "chain-a")->body.register_account();
  EXPECT_EQ(member.role(), v1::ROLE_MEMBER);
  EXPECT_EQ(member.delegate(), std::string(AsChars(TestKey(3).public_key())));
  EXPECT_TRUE(DecodeTx(AsBytes(txs[0]), "chain-a")->body.register_account().delegate().empty());
  const v1::ProposeAmendment proposal = DecodeTx(AsBytes(txs[6]), "chain-a")->body.propose_amendment();
  EXPECT_EQ(proposal.file(), "a.law");
  EXPECT_EQ(proposal.source(), "law a version 1\n");
  EXPECT_EQ(proposal.closes_week(), 4u);
  const v1::CastVote vote = DecodeTx(AsBytes(txs[7]), "chain-a")->body.cast_vote();
  EXPECT_EQ(vote.proposal(), std::string(AsChars(Sha256(AsBytes("proposal")))));
  EXPECT_EQ(vote.choice(), v1::VOTE_CHOICE_ABSTAIN);
}

TEST(TxBuilderTest, ChainIdsMustBeSignable) {
  EXPECT_TRUE(TxBuilder::CheckChainId("gongshe-main").ok());
  EXPECT_TRUE(TxBuilder::CheckChainId(std::string(kMaxChainIdSize, 'c')).ok());
  EXPECT_EQ(TxBuilder::CheckChainId("").code(), "BAD_CHAIN_ID");
  EXPECT_EQ(TxBuilder::CheckChainId(std::string(kMaxChainIdSize + 1, 'c')).code(), "BAD_CHAIN_ID");
}

TEST(CreditsTest, ParsesExactDecimals) {
  EXPECT_EQ(*ParseCredits("12.5"), 12'500);
  EXPECT_EQ(*ParseCredits("3"), 3'000);
  EXPECT_EQ(*ParseCredits("0.001"), 1);
  EXPECT_EQ(*ParseCredits("0"), 0);
  EXPECT_EQ(*ParseCredits("007.120"), 7'120);
  EXPECT_EQ(*ParseCredits(std::string(kMaxCreditDigits, '9') + ".999"), 999'999'999'999'999'999);
  for (const char* bad : {"", ".", "1.", ".5", "-1", "+1", "1.2345", "1e3", "1,5", " 1", "1 ", "0x10", "1.2.3", "abc",
                          "9999999999999999"}) {
    EXPECT_EQ(ParseCredits(bad).status().code(), "BAD_AMOUNT") << bad;
  }
}

TEST(CreditsTest, FormatsWithThreeDecimals) {
  EXPECT_EQ(FormatCredits(12'500), "12.500");
  EXPECT_EQ(FormatCredits(1), "0.001");
  EXPECT_EQ(FormatCredits(0), "0.000");
  EXPECT_EQ(FormatCredits(-1), "-0.001");
  EXPECT_EQ(FormatCredits(-52'500), "-52.500");
  EXPECT_EQ(FormatCredits(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
  EXPECT_EQ(FormatCredits(std::numeric_limits<int64_t>::max()), "9223372036854775.807");
  EXPECT_EQ(*ParseCredits(FormatCredits(123'456'789)), 123'456'789);
}

}  // namespace
}  // namespace gongshe::ledger
