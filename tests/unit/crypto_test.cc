#include "ledger/crypto.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace gongshe::ledger {
namespace {

Bytes Hex(std::string_view hex) {
  std::optional<Bytes> b = FromHex(hex);
  GS_ASSERT(b.has_value());
  return *b;
}

std::array<uint8_t, 32> Seed(std::string_view hex) {
  Bytes b = Hex(hex);
  GS_ASSERT(b.size() == 32);
  std::array<uint8_t, 32> seed;
  std::copy(b.begin(), b.end(), seed.begin());
  return seed;
}

// RFC 8032 section 7.1, TEST 1 and TEST 2: the library derives the same key and signature.
struct Rfc8032Vector {
  const char* seed;
  const char* public_key;
  const char* message;
  const char* signature;
};

constexpr Rfc8032Vector kRfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f"
     "0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2ea"
     "eb4302aeeb00d291612bb0c00"},
};

TEST(Ed25519, Rfc8032Vectors) {
  InitCrypto();
  for (const Rfc8032Vector& v : kRfc8032) {
    const auto seed = Seed(v.seed);
    const KeyPair key = KeyPair::FromSeed(seed);
    EXPECT_EQ(ToHex(key.public_key()), v.public_key);
    EXPECT_EQ(ToHex(key.seed()), v.seed);

    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    ASSERT_EQ(crypto_sign_seed_keypair(pk, sk, seed.data()), 0);
    const Bytes message = Hex(v.message);
    Signature sig;
    ASSERT_EQ(crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk), 0);
    EXPECT_EQ(ToHex(sig), v.signature);
    EXPECT_EQ(crypto_sign_verify_detached(sig.data(), message.data(), message.size(),
                                          key.public_key().data()),
              0);
  }
}

TEST(SignBytes, ExactLayout) {
  const Bytes expected = {'d', '/', 3, 'c', 'h', 'n', 0xff, 0x00};
  EXPECT_EQ(SignBytes("d/", "chn", Bytes{0xff, 0x00}), expected);
  EXPECT_EQ(SignBytes("", "", {}), Bytes{0});
}

TEST(SignBytes, ChainIdLongerThanMaxAborts) {
  EXPECT_DEATH(SignBytes(kTxDomain, std::string(kMaxChainIdSize + 1, 'c'), {}), "kMaxChainIdSize");
}

// Sign signs exactly SignBytes(...), as a third party using plain Ed25519 would check it.
TEST(KeyPair, SignSignsSignBytes) {
  const KeyPair key = KeyPair::FromSeed(Seed(kRfc8032[1].seed));
  const Bytes payload = {1, 2, 3};
  const Signature sig = key.Sign(kTxDomain, "gongshe-test", payload);
  const Bytes message = SignBytes(kTxDomain, "gongshe-test", payload);
  EXPECT_EQ(crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.public_key().data()), 0);
}

TEST(KeyPair, RoundTrip) {
  const KeyPair key = KeyPair::Generate();
  const Bytes payload(300, 0x5a);
  const Signature sig = key.Sign(kTxDomain, "chain-a", payload);
  EXPECT_TRUE(Verify(key.public_key(), kTxDomain, "chain-a", payload, sig));
  // Ed25519 is deterministic.
  EXPECT_EQ(sig, key.Sign(kTxDomain, "chain-a", payload));
  // Empty payload and empty chain id are legal.
  EXPECT_TRUE(Verify(key.public_key(), kTxDomain, "", {}, key.Sign(kTxDomain, "", {})));
}

TEST(KeyPair, GenerateIsRandomAndMatchesFromSeed) {
  const KeyPair a = KeyPair::Generate();
  const KeyPair b = KeyPair::Generate();
  EXPECT_NE(a.public_key(), b.public_key());
  EXPECT_NE(ToHex(a.seed()), ToHex(b.seed()));
  EXPECT_EQ(KeyPair::FromSeed(a.seed()).public_key(), a.public_key());
}

TEST(KeyPair, CopyAndAssign) {
  const KeyPair a = KeyPair::Generate();
  KeyPair b = KeyPair::Generate();
  const KeyPair c(a);
  b = a;
  for (const KeyPair* k : {static_cast<const KeyPair*>(&b), &c}) {
    EXPECT_EQ(k->public_key(), a.public_key());
    EXPECT_EQ(ToHex(k->seed()), ToHex(a.seed()));
    EXPECT_EQ(k->Sign(kTxDomain, "x", {}), a.Sign(kTxDomain, "x", {}));
  }
}

TEST(KeyPair, ChainIdBound) {
  const KeyPair key = KeyPair::Generate();
  const std::string longest(kMaxChainIdSize, 'c');
  EXPECT_TRUE(Verify(key.public_key(), kTxDomain, longest, {}, key.Sign(kTxDomain, longest, {})));
  EXPECT_DEATH(key.Sign(kTxDomain, longest + "c", {}), "kMaxChainIdSize");
}

TEST(Verify, ChainIdTooLongIsFalseNotCrash) {
  const KeyPair key = KeyPair::Generate();
  const Signature sig = key.Sign(kTxDomain, "c", {});
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, std::string(kMaxChainIdSize + 1, 'c'), {}, sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, std::string(1000, 'c'), {}, sig));
}

TEST(Verify, DomainSeparation) {
  const KeyPair key = KeyPair::Generate();
  const Bytes payload = {9, 9, 9};
  const Signature sig = key.Sign(kTxDomain, "chain-a", payload);
  EXPECT_TRUE(Verify(key.public_key(), kTxDomain, "chain-a", payload, sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxCosignDomain, "chain-a", payload, sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "chain-b", payload, sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "", payload, sig));
}

TEST(Verify, ChainIdPayloadBoundaryIsBound) {
  const KeyPair key = KeyPair::Generate();
  const Signature sig = key.Sign(kTxDomain, "ab", AsBytes("c"));
  EXPECT_TRUE(Verify(key.public_key(), kTxDomain, "ab", AsBytes("c"), sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "a", AsBytes("bc"), sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "abc", {}, sig));
  EXPECT_NE(SignBytes(kTxDomain, "ab", AsBytes("c")), SignBytes(kTxDomain, "a", AsBytes("bc")));
}

TEST(Verify, TamperedPayloadSignatureOrKey) {
  const KeyPair key = KeyPair::Generate();
  const Bytes payload = {1, 2, 3, 4, 5, 6, 7, 8};
  const Signature sig = key.Sign(kTxDomain, "c", payload);
  for (size_t i = 0; i < payload.size(); ++i) {
    Bytes p = payload;
    p[i] ^= 0x01;
    EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "c", p, sig)) << i;
  }
  Bytes longer = payload;
  longer.push_back(0);
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "c", longer, sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "c", ByteView(payload).first(7), sig));
  for (size_t i = 0; i < sig.size(); ++i) {
    Signature s = sig;
    s[i] ^= 0x80;
    EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "c", payload, s)) << i;
  }
  for (size_t i = 0; i < key.public_key().size(); ++i) {
    PublicKey k = key.public_key();
    k[i] ^= 0x01;
    EXPECT_FALSE(Verify(k, kTxDomain, "c", payload, sig)) << i;
  }
  EXPECT_FALSE(Verify(KeyPair::Generate().public_key(), kTxDomain, "c", payload, sig));
}

TEST(Verify, GarbageKeysAndSignaturesAreRejected) {
  const KeyPair key = KeyPair::Generate();
  const Signature sig = key.Sign(kTxDomain, "c", {});
  PublicKey zero{}, ones;
  ones.fill(0xff);
  EXPECT_FALSE(Verify(zero, kTxDomain, "c", {}, sig));
  EXPECT_FALSE(Verify(ones, kTxDomain, "c", {}, sig));
  Signature zero_sig{}, ones_sig;
  ones_sig.fill(0xff);
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "c", {}, zero_sig));
  EXPECT_FALSE(Verify(key.public_key(), kTxDomain, "c", {}, ones_sig));
  EXPECT_FALSE(Verify(zero, kTxDomain, "c", {}, zero_sig));
}

TEST(FromBytes, ExactLengthsOnly) {
  EXPECT_TRUE(PublicKeyFromBytes(Bytes(32, 1)).has_value());
  EXPECT_FALSE(PublicKeyFromBytes(Bytes(31, 1)).has_value());
  EXPECT_FALSE(PublicKeyFromBytes(Bytes(33, 1)).has_value());
  EXPECT_FALSE(PublicKeyFromBytes({}).has_value());
  EXPECT_TRUE(SignatureFromBytes(Bytes(64, 1)).has_value());
  EXPECT_FALSE(SignatureFromBytes(Bytes(63, 1)).has_value());
  EXPECT_FALSE(SignatureFromBytes(Bytes(65, 1)).has_value());
  Bytes b(32);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(ToHex(*PublicKeyFromBytes(b)), ToHex(b));
}

}  // namespace
}  // namespace gongshe::ledger
