// Admission pre-checks (ledger/admission.h): every rejection, the nonce window's edges, and that
// admission and the state machine agree on who may send what.

#include "ledger/admission.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "tests/ledger/test_chain.h"

namespace gongshe::ledger {
namespace {

using testing::kChainId;
using testing::TestChain;

constexpr uint64_t kAhead = 8;

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    member_ = chain_.NewAccount(v1::ROLE_MEMBER);
    store_ = chain_.NewAccount(v1::ROLE_STORE);
    workplace_ = chain_.NewAccount(v1::ROLE_WORKPLACE);
  }

  // An issue from the genesis issuer to member_ with `nonce`.
  std::string IssueWithNonce(uint64_t nonce) {
    v1::TxBody body;
    body.set_version(1);
    body.set_chain_id(kChainId);
    body.set_nonce(nonce);
    body.mutable_issue_vouchers()->set_voucher_class(v1::VOUCHER_CLASS_CONSUMPTION);
    body.mutable_issue_vouchers()->set_member(testing::Bytes32(member_.public_key()));
    body.mutable_issue_vouchers()->set_amount_milli(5);
    return SignTx(body, chain_.issuer());
  }

  // Decodes `bytes` (which must decode) and runs CheckAdmission on the chain's state.
  Status Check(const std::string& bytes, uint64_t max_nonce_ahead = kAhead) {
    Result<DecodedTx> tx = DecodeTx(AsBytes(bytes), kChainId);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    if (!tx.ok()) return tx.status();
    Status status = CheckAdmission(*tx, chain_.kv(), max_nonce_ahead);
    EXPECT_EQ(status.ok(), status.message().empty()) << status.ToString();
    return status;
  }

  uint64_t IssuerNext() { return chain_.state().Account(chain_.issuer().public_key())->nonce() + 1; }

  TestChain chain_;
  KeyPair member_ = testing::TestKey(0), store_ = testing::TestKey(0), workplace_ = testing::TestKey(0);
};

TEST_F(AdmissionTest, AcceptsTheNextNonceOfAnActiveSigner) {
  EXPECT_TRUE(Check(chain_.Issue(chain_.issuer(), member_.public_key(), v1::VOUCHER_CLASS_CONSUMPTION, 1)).ok());
  EXPECT_TRUE(Check(chain_.Redeem(member_, store_, v1::VOUCHER_CLASS_CONSUMPTION, 1, "bread")).ok());
  EXPECT_TRUE(Check(chain_.Attend(workplace_, member_.public_key(), testing::kGenesisTimeMs / 1000, 60)).ok());
  EXPECT_TRUE(Check(chain_.Register(chain_.registrar(), chain_.NewKey().public_key(), v1::ROLE_MEMBER)).ok());
}

TEST_F(AdmissionTest, UnknownSigner) {
  KeyPair stranger = chain_.NewKey();
  Status status = Check(chain_.Register(stranger, chain_.NewKey().public_key(), v1::ROLE_MEMBER));
  EXPECT_EQ(status.code(), "UNKNOWN_SIGNER");
}

TEST_F(AdmissionTest, RetiredSigner) {
  std::string redeem = chain_.Redeem(member_, store_, v1::VOUCHER_CLASS_CONSUMPTION, 1, "bread");
  chain_.ForgetLastBody(member_);
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), member_.public_key()));
  EXPECT_EQ(Check(redeem).code(), "RETIRED_SIGNER");
}

TEST_F(AdmissionTest, NonceWindowEdges) {
  const uint64_t next = IssuerNext();
  chain_.ApplyOk(IssueWithNonce(next));  // the issuer's next nonce is now next + 1
  EXPECT_EQ(Check(IssueWithNonce(next)).code(), "NONCE_TOO_LOW");
  EXPECT_EQ(Check(IssueWithNonce(0)).code(), "NONCE_TOO_LOW");
  EXPECT_TRUE(Check(IssueWithNonce(next + 1)).ok());
  EXPECT_TRUE(Check(IssueWithNonce(next + kAhead)).ok());  // the window's last nonce
  EXPECT_EQ(Check(IssueWithNonce(next + 1 + kAhead)).code(), "NONCE_TOO_HIGH");
  EXPECT_EQ(Check(IssueWithNonce(std::numeric_limits<uint64_t>::max())).code(), "NONCE_TOO_HIGH");
  // A window of one takes only the next nonce, as a block does.
  EXPECT_TRUE(Check(IssueWithNonce(next + 1), 1).ok());
  EXPECT_EQ(Check(IssueWithNonce(next + 2), 1).code(), "NONCE_TOO_HIGH");
  // The widest window cannot overflow.
  EXPECT_TRUE(Check(IssueWithNonce(std::numeric_limits<uint64_t>::max()), std::numeric_limits<uint64_t>::max()).ok());
}

TEST_F(AdmissionTest, UnexpectedCosignature) {
  v1::TxBody body = chain_.Body(chain_.issuer());
  body.mutable_issue_vouchers()->set_voucher_class(v1::VOUCHER_CLASS_CONSUMPTION);
  body.mutable_issue_vouchers()->set_member(testing::Bytes32(member_.public_key()));
  body.mutable_issue_vouchers()->set_amount_milli(1);
  EXPECT_EQ(Check(SignTx(body, chain_.issuer(), &store_)).code(), "UNEXPECTED_COSIGNATURE");
}

// Every role sends every action: admission says UNAUTHORIZED exactly when the block does, and
// the roles that may send each action are the documented ones.
TEST_F(AdmissionTest, RoleRulesAgreeWithTheStateMachine) {
  struct Sender {
    v1::Role role;
    KeyPair key;
  };
  std::vector<Sender> senders = {{v1::ROLE_COMMUNE, chain_.registrar()},
                                 {v1::ROLE_ISSUER, chain_.issuer()},
                                 {v1::ROLE_MEMBER, member_},
                                 {v1::ROLE_STORE, store_},
                                 {v1::ROLE_WORKPLACE, workplace_}};
  for (v1::Role role : {v1::ROLE_DELEGATE, v1::ROLE_PLANNER}) senders.push_back({role, chain_.NewAccount(role)});
  const std::vector<std::pair<const char*, std::vector<v1::Role>>> actions = {
      {"register", {v1::ROLE_COMMUNE}}, {"retire", {v1::ROLE_COMMUNE}},
      {"attend", {v1::ROLE_WORKPLACE}}, {"issue", {v1::ROLE_ISSUER}},
      {"redeem", {v1::ROLE_MEMBER}},    {"propose", {v1::ROLE_DELEGATE}},
      {"vote", {v1::ROLE_DELEGATE, v1::ROLE_MEMBER}}};
  const int64_t now_s = chain_.time_ms() / 1000;
  for (const Sender& sender : senders) {
    for (const auto& [action, allowed] : actions) {
      SCOPED_TRACE(std::string(action) + " by " + v1::Role_Name(sender.role));
      std::string tx;
      const std::string a(action);
      if (a == "register") tx = chain_.Register(sender.key, chain_.NewKey().public_key(), v1::ROLE_MEMBER);
      if (a == "retire") tx = chain_.Retire(sender.key, chain_.NewAccount(v1::ROLE_MEMBER).public_key());
      if (a == "attend") tx = chain_.Attend(sender.key, member_.public_key(), now_s, 1);
      if (a == "issue") tx = chain_.Issue(sender.key, member_.public_key(), v1::VOUCHER_CLASS_GUARANTEE, 1);
      if (a == "redeem") tx = chain_.Redeem(sender.key, store_, v1::VOUCHER_CLASS_GUARANTEE, 1, "bread");
      if (a == "propose" || a == "vote") {
        v1::TxBody body = chain_.Body(sender.key);
        if (a == "propose") {
          body.mutable_propose_amendment()->set_file("a.law");
          body.mutable_propose_amendment()->set_source(
              "law a version 1\n  \"A law.\"\n\non epoch_closed(citizen: member, epoch: epoch)\n  let unused = 0\n");
          body.mutable_propose_amendment()->set_closes_week(1);
        } else {
          body.mutable_cast_vote()->set_proposal(std::string(32, 'p'));
          body.mutable_cast_vote()->set_choice(v1::VOTE_CHOICE_YES);
        }
        tx = SignTx(body, sender.key);
      }
      Status admission = Check(tx);
      std::vector<std::string> block_codes = chain_.Apply({tx});
      ASSERT_EQ(block_codes.size(), 1u);
      if (std::find(allowed.begin(), allowed.end(), sender.role) != allowed.end()) {
        EXPECT_TRUE(admission.ok()) << admission.ToString();
        EXPECT_NE(block_codes[0], "UNAUTHORIZED");
      } else {
        EXPECT_EQ(admission.code(), "UNAUTHORIZED");
        EXPECT_EQ(block_codes[0], "UNAUTHORIZED");
      }
    }
  }
}

}  // namespace
}  // namespace gongshe::ledger
