// RecordingSigner and SelfTrustingVerifier: a validator's own recent signatures are accepted
// without a check, and every answer is the one Ed25519 gives.

#include <gtest/gtest.h>

#include "consensus/signer.h"
#include "tests/unit/consensus_test_util.h"

namespace gongshe::consensus {
namespace {

using testing::KeyFor;
using testing::kChain;

// Ed25519, counting the checks it is asked for.
class CountingVerifier final : public Verifier {
 public:
  bool Verify(const PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
              const Signature& signature) const override {
    ++calls;
    return ed25519_.Verify(key, domain, chain_id, payload, signature);
  }
  mutable int calls = 0;

 private:
  Ed25519Verifier ed25519_;
};

Bytes Payload(uint8_t tag) { return Bytes(40, tag); }

class SelfTrustingVerifierTest : public ::testing::Test {
 protected:
  RecordingSigner own_{KeyFor(0)};
  CountingVerifier inner_;
  SelfTrustingVerifier verifier_{inner_, own_};
};

TEST_F(SelfTrustingVerifierTest, OwnRecentSignatureNeedsNoCheck) {
  const Signature vote = own_.Sign(kVoteDomain, kChain, Payload(1));
  EXPECT_TRUE(verifier_.Verify(own_.public_key(), kVoteDomain, kChain, Payload(1), vote));
  EXPECT_EQ(inner_.calls, 0);
}

TEST_F(SelfTrustingVerifierTest, AnythingElseIsChecked) {
  const Signature vote = own_.Sign(kVoteDomain, kChain, Payload(1));
  // The same signature for other bytes: another payload, domain or chain.
  EXPECT_FALSE(verifier_.Verify(own_.public_key(), kVoteDomain, kChain, Payload(2), vote));
  EXPECT_FALSE(verifier_.Verify(own_.public_key(), kCommitDomain, kChain, Payload(1), vote));
  EXPECT_FALSE(verifier_.Verify(own_.public_key(), kVoteDomain, "other-chain", Payload(1), vote));
  // A tampered signature, and our signature presented under another key.
  Signature tampered = vote;
  tampered[5] ^= 1;
  EXPECT_FALSE(verifier_.Verify(own_.public_key(), kVoteDomain, kChain, Payload(1), tampered));
  EXPECT_FALSE(verifier_.Verify(KeyFor(1).public_key(), kVoteDomain, kChain, Payload(1), vote));
  // Another validator's valid signature.
  const ledger::KeyPair other = KeyFor(1);
  EXPECT_TRUE(verifier_.Verify(other.public_key(), kVoteDomain, kChain, Payload(1),
                               other.Sign(kVoteDomain, kChain, Payload(1))));
  EXPECT_EQ(inner_.calls, 6);
}

TEST_F(SelfTrustingVerifierTest, OverlongChainIdIsFalseNotCrash) {
  const Signature vote = own_.Sign(kVoteDomain, kChain, Payload(1));
  const std::string overlong(ledger::kMaxChainIdSize + 1, 'c');
  EXPECT_FALSE(verifier_.Verify(own_.public_key(), kVoteDomain, overlong, Payload(1), vote));
}

TEST_F(SelfTrustingVerifierTest, OldSignaturesAreCheckedAgain) {
  const Signature first = own_.Sign(kVoteDomain, kChain, Payload(0));
  for (size_t i = 1; i < RecordingSigner::kRemembered; ++i) {
    own_.Sign(kVoteDomain, kChain, Payload(static_cast<uint8_t>(i)));
  }
  EXPECT_TRUE(verifier_.Verify(own_.public_key(), kVoteDomain, kChain, Payload(0), first));
  EXPECT_EQ(inner_.calls, 0);
  own_.Sign(kVoteDomain, kChain, Payload(255));  // pushes `first` out
  EXPECT_TRUE(verifier_.Verify(own_.public_key(), kVoteDomain, kChain, Payload(0), first));
  EXPECT_EQ(inner_.calls, 1);
}

TEST_F(SelfTrustingVerifierTest, SignsLikeTheKey) {
  EXPECT_EQ(own_.public_key(), KeyFor(0).public_key());
  EXPECT_EQ(own_.Sign(kTimeoutDomain, kChain, Payload(3)), KeyFor(0).Sign(kTimeoutDomain, kChain, Payload(3)));
}

}  // namespace
}  // namespace gongshe::consensus
