#include "node/link_crypto.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace gongshe::node {
namespace {

using ledger::KeyPair;
using ledger::PublicKey;

constexpr std::string_view kChain = "gongshe-test";
constexpr size_t kMaxFrame = 1 << 20;

KeyPair Key(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed.fill(n);
  return KeyPair::FromSeed(seed);
}

std::function<bool(const PublicKey&)> Allow(std::vector<PublicKey> keys) {
  return [keys = std::move(keys)](const PublicKey& k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
}

Bytes Text(std::string_view s) { return Bytes(s.begin(), s.end()); }

FrameHeader HeaderOf(const Bytes& frame) { return FrameHeader(frame.data(), kFrameHeaderBytes); }
ByteView BodyOf(const Bytes& frame) { return ByteView(frame).subspan(kFrameHeaderBytes); }

// Both sides of one handshake, run in memory.
struct Pair {
  Pair(const KeyPair& a, const KeyPair& b)
      : initiator(a, std::string(kChain), Role::kInitiator, kMaxFrame, b.public_key()),
        responder(b, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt),
        allowed(Allow({a.public_key(), b.public_key()})) {}
  Handshake initiator;
  Handshake responder;
  std::function<bool(const PublicKey&)> allowed;
};

struct Sessions {
  Session initiator;
  Session responder;
};

Sessions RunHandshake(Pair& p) {
  Result<Bytes> auth_i = p.initiator.OnPeerHello(p.responder.hello(), p.allowed);
  Result<Bytes> auth_r = p.responder.OnPeerHello(p.initiator.hello(), p.allowed);
  EXPECT_TRUE(auth_i.ok()) << auth_i.status().ToString();
  EXPECT_TRUE(auth_r.ok()) << auth_r.status().ToString();
  Result<Session> s_i = p.initiator.OnPeerAuth(*auth_r);
  Result<Session> s_r = p.responder.OnPeerAuth(*auth_i);
  EXPECT_TRUE(s_i.ok()) << s_i.status().ToString();
  EXPECT_TRUE(s_r.ok()) << s_r.status().ToString();
  return {std::move(s_i).value(), std::move(s_r).value()};
}

Bytes SealOne(FrameSealer& sealer, ByteView plaintext) {
  Bytes frame;
  sealer.Seal(plaintext, frame);
  return frame;
}

Result<Bytes> OpenOne(FrameOpener& opener, const Bytes& frame) {
  Result<size_t> length = opener.SealedLength(HeaderOf(frame));
  if (!length.ok()) return length.status();
  EXPECT_EQ(*length, frame.size() - kFrameHeaderBytes);
  return opener.Open(HeaderOf(frame), BodyOf(frame));
}

TEST(LinkCryptoTest, HelloLayoutIsFixed) {
  Hello hello;
  hello.chain_id = "abc";
  hello.identity.fill(0x11);
  hello.ephemeral.fill(0x22);
  const Bytes b = EncodeHello(hello);
  ASSERT_EQ(b.size(), kHelloBytes);
  EXPECT_EQ(ToHex(ByteView(b).first(10)), "47534c4b000103616263");  // "GSLK", v1, len 3, "abc"
  EXPECT_TRUE(std::all_of(b.begin() + 10, b.begin() + 71, [](uint8_t x) { return x == 0; }));
  EXPECT_TRUE(std::all_of(b.begin() + 71, b.begin() + 103, [](uint8_t x) { return x == 0x11; }));
  EXPECT_TRUE(std::all_of(b.begin() + 103, b.end(), [](uint8_t x) { return x == 0x22; }));
  Result<Hello> back = DecodeHello(b);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->version, kLinkVersion);
  EXPECT_EQ(back->chain_id, "abc");
  EXPECT_EQ(back->identity, hello.identity);
  EXPECT_EQ(back->ephemeral, hello.ephemeral);
}

TEST(LinkCryptoTest, MalformedHellosAreRejected) {
  Hello hello;
  hello.chain_id = std::string(ledger::kMaxChainIdSize, 'c');
  const Bytes good = EncodeHello(hello);
  ASSERT_TRUE(DecodeHello(good).ok());
  auto expect_bad = [](const Bytes& b) {
    Result<Hello> r = DecodeHello(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), "BAD_HELLO");
  };
  expect_bad({});
  expect_bad(Bytes(good.begin(), good.end() - 1));
  Bytes longer = good;
  longer.push_back(0);
  expect_bad(longer);
  Bytes magic = good;
  magic[3] = 'X';
  expect_bad(magic);
  Bytes chain_length = good;
  chain_length[6] = ledger::kMaxChainIdSize + 1;
  expect_bad(chain_length);
  hello.chain_id = "short";
  Bytes padding = EncodeHello(hello);
  padding[7 + 5] = 1;
  expect_bad(padding);
}

TEST(LinkCryptoTest, HandshakeAuthenticatesBothSidesAndKeysMatch) {
  const KeyPair a = Key(1), b = Key(2);
  Pair p(a, b);
  Sessions s = RunHandshake(p);
  EXPECT_EQ(s.initiator.peer, b.public_key());
  EXPECT_EQ(s.responder.peer, a.public_key());
  EXPECT_EQ(p.initiator.peer(), b.public_key());
  EXPECT_EQ(p.responder.peer(), a.public_key());
  for (int i = 0; i < 5; ++i) {
    const Bytes ab = Text("a to b " + std::to_string(i));
    const Bytes ba = Text("b to a " + std::to_string(i));
    Result<Bytes> got_ab = OpenOne(s.responder.opener, SealOne(s.initiator.sealer, ab));
    Result<Bytes> got_ba = OpenOne(s.initiator.opener, SealOne(s.responder.sealer, ba));
    ASSERT_TRUE(got_ab.ok()) << got_ab.status().ToString();
    ASSERT_TRUE(got_ba.ok()) << got_ba.status().ToString();
    EXPECT_EQ(*got_ab, ab);
    EXPECT_EQ(*got_ba, ba);
  }
}

TEST(LinkCryptoTest, EveryConnectionHasFreshKeys) {
  const KeyPair a = Key(1), b = Key(2);
  Pair p1(a, b), p2(a, b);
  EXPECT_NE(p1.initiator.hello(), p2.initiator.hello());  // fresh ephemeral keys
  Sessions s1 = RunHandshake(p1);
  Sessions s2 = RunHandshake(p2);
  Result<Bytes> cross = OpenOne(s2.responder.opener, SealOne(s1.initiator.sealer, Text("x")));
  ASSERT_FALSE(cross.ok());
  EXPECT_EQ(cross.status().code(), "BAD_FRAME");
}

TEST(LinkCryptoTest, PeerOutsideTheValidatorSetIsRefused) {
  const KeyPair a = Key(1), b = Key(2);
  Handshake responder(b, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt);
  Handshake initiator(a, std::string(kChain), Role::kInitiator, kMaxFrame, b.public_key());
  Result<Bytes> r = responder.OnPeerHello(initiator.hello(), Allow({b.public_key(), Key(3).public_key()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "UNKNOWN_PEER");
}

TEST(LinkCryptoTest, OwnKeyIsRefused) {
  const KeyPair a = Key(1);
  Handshake responder(a, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt);
  Handshake initiator(a, std::string(kChain), Role::kInitiator, kMaxFrame, a.public_key());
  Result<Bytes> r = responder.OnPeerHello(initiator.hello(), Allow({a.public_key()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "SELF_LINK");
}

TEST(LinkCryptoTest, WrongChainIsRefused) {
  const KeyPair a = Key(1), b = Key(2);
  Handshake responder(b, "chain-one", Role::kResponder, kMaxFrame, std::nullopt);
  Handshake initiator(a, "chain-two", Role::kInitiator, kMaxFrame, b.public_key());
  Result<Bytes> r = responder.OnPeerHello(initiator.hello(), Allow({a.public_key()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "WRONG_CHAIN");
}

TEST(LinkCryptoTest, OtherVersionIsRefused) {
  const KeyPair a = Key(1), b = Key(2);
  Handshake responder(b, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt);
  Hello hello;
  hello.version = kLinkVersion + 1;
  hello.chain_id = std::string(kChain);
  hello.identity = a.public_key();
  hello.ephemeral = EphemeralKey::Generate().public_key;
  Result<Bytes> r = responder.OnPeerHello(EncodeHello(hello), Allow({a.public_key()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "LINK_VERSION");
}

TEST(LinkCryptoTest, InitiatorRefusesAResponderItDidNotDial) {
  const KeyPair a = Key(1), b = Key(2), c = Key(3);
  Handshake initiator(a, std::string(kChain), Role::kInitiator, kMaxFrame, b.public_key());
  Handshake responder(c, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt);
  Result<Bytes> r = initiator.OnPeerHello(responder.hello(), Allow({b.public_key(), c.public_key()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "UNEXPECTED_PEER");
}

TEST(LinkCryptoTest, DegenerateEphemeralKeyIsRefused) {
  const KeyPair a = Key(1), b = Key(2);
  Handshake responder(b, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt);
  Hello hello;
  hello.chain_id = std::string(kChain);
  hello.identity = a.public_key();
  hello.ephemeral.fill(0);  // the identity point: every shared secret would be zero
  Result<Bytes> r = responder.OnPeerHello(EncodeHello(hello), Allow({a.public_key()}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), "BAD_KEY");
}

TEST(LinkCryptoTest, TamperedEphemeralKeyFailsAuthentication) {
  const KeyPair a = Key(1), b = Key(2);
  Pair p(a, b);
  Bytes responder_hello = p.responder.hello();
  responder_hello[kHelloBytes - 1] ^= 0x40;  // a different, valid-looking ephemeral key
  Result<Bytes> auth_i = p.initiator.OnPeerHello(responder_hello, p.allowed);
  Result<Bytes> auth_r = p.responder.OnPeerHello(p.initiator.hello(), p.allowed);
  ASSERT_TRUE(auth_r.ok());
  ASSERT_TRUE(auth_i.ok()) << auth_i.status().ToString();  // a valid point, just not the sender's
  Result<Session> s_i = p.initiator.OnPeerAuth(*auth_r);
  ASSERT_FALSE(s_i.ok());
  EXPECT_EQ(s_i.status().code(), "BAD_AUTH");
  Result<Session> s_r = p.responder.OnPeerAuth(*auth_i);
  ASSERT_FALSE(s_r.ok());
  EXPECT_EQ(s_r.status().code(), "BAD_AUTH");
}

TEST(LinkCryptoTest, SubstitutedIdentityFailsAuthentication) {
  // A man in the middle rewrites the initiator's static key to another validator's: the keys
  // still agree, but the initiator's signature does not verify under the substituted key.
  const KeyPair a = Key(1), b = Key(2), c = Key(3);
  Pair p(a, b);
  p.allowed = Allow({a.public_key(), b.public_key(), c.public_key()});
  Bytes initiator_hello = p.initiator.hello();
  std::copy(c.public_key().begin(), c.public_key().end(), initiator_hello.begin() + 71);
  Result<Bytes> auth_r = p.responder.OnPeerHello(initiator_hello, p.allowed);
  ASSERT_TRUE(auth_r.ok()) << auth_r.status().ToString();
  EXPECT_EQ(p.responder.peer(), c.public_key());
  Result<Bytes> auth_i = p.initiator.OnPeerHello(p.responder.hello(), p.allowed);
  ASSERT_TRUE(auth_i.ok());
  Result<Session> s_r = p.responder.OnPeerAuth(*auth_i);
  ASSERT_FALSE(s_r.ok());
  EXPECT_EQ(s_r.status().code(), "BAD_AUTH");
  EXPECT_NE(s_r.status().message().find("signature"), std::string::npos) << s_r.status().message();
}

// A responder built by hand from the public pieces, which signs with `signer` in `role`.
Bytes ForgedResponderAuth(Handshake& initiator, const PublicKey& claimed, const KeyPair& signer, Role role,
                          Bytes& responder_hello_out) {
  EphemeralKey eph = EphemeralKey::Generate();
  Hello hello;
  hello.chain_id = std::string(kChain);
  hello.identity = claimed;
  hello.ephemeral = eph.public_key;
  responder_hello_out = EncodeHello(hello);
  Result<Hello> initiator_hello = DecodeHello(initiator.hello());
  EXPECT_TRUE(initiator_hello.ok());
  Result<SessionKeys> keys = DeriveSessionKeys(Role::kResponder, eph, initiator_hello->ephemeral);
  EXPECT_TRUE(keys.ok());
  FrameSealer sealer(keys->tx);
  const ledger::Hash transcript = TranscriptHash(initiator.hello(), responder_hello_out);
  const ledger::Signature sig = signer.Sign(kLinkDomain, kChain, AuthPayload(role, transcript));
  return SealOne(sealer, sig);
}

Status InitiatorVerdict(const KeyPair& a, const KeyPair& b, const KeyPair& signer, Role role) {
  Handshake initiator(a, std::string(kChain), Role::kInitiator, kMaxFrame, b.public_key());
  Bytes responder_hello;
  const Bytes auth = ForgedResponderAuth(initiator, b.public_key(), signer, role, responder_hello);
  Result<Bytes> ours = initiator.OnPeerHello(responder_hello, Allow({b.public_key()}));
  EXPECT_TRUE(ours.ok());
  Result<Session> s = initiator.OnPeerAuth(auth);
  return s.ok() ? Status::Ok() : s.status();
}

TEST(LinkCryptoTest, HandBuiltResponderWithTheRightKeyIsAccepted) {
  // Shows the forgery tests below fail only for the reason they name.
  const KeyPair a = Key(1), b = Key(2);
  EXPECT_TRUE(InitiatorVerdict(a, b, b, Role::kResponder).ok());
}

TEST(LinkCryptoTest, SignatureByAnotherKeyIsRefused) {
  const KeyPair a = Key(1), b = Key(2), mallory = Key(9);
  EXPECT_EQ(InitiatorVerdict(a, b, mallory, Role::kResponder).code(), "BAD_AUTH");
}

TEST(LinkCryptoTest, SignatureForTheOtherRoleIsRefused) {
  const KeyPair a = Key(1), b = Key(2);
  EXPECT_EQ(InitiatorVerdict(a, b, b, Role::kInitiator).code(), "BAD_AUTH");
}

TEST(LinkCryptoTest, ReplayedHandshakeIsRefused) {
  // An eavesdropper records a whole handshake of the initiator and plays it to a new responder.
  const KeyPair a = Key(1), b = Key(2);
  Pair recorded(a, b);
  Result<Bytes> auth_i = recorded.initiator.OnPeerHello(recorded.responder.hello(), recorded.allowed);
  ASSERT_TRUE(auth_i.ok());
  Handshake fresh(b, std::string(kChain), Role::kResponder, kMaxFrame, std::nullopt);
  ASSERT_TRUE(fresh.OnPeerHello(recorded.initiator.hello(), recorded.allowed).ok());
  Result<Session> s = fresh.OnPeerAuth(*auth_i);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), "BAD_AUTH");
}

TEST(LinkCryptoTest, MalformedAuthFramesAreRefused) {
  const KeyPair a = Key(1), b = Key(2);
  auto verdict = [&](const std::function<void(Bytes&)>& mutate) {
    Pair p(a, b);
    Result<Bytes> auth_i = p.initiator.OnPeerHello(p.responder.hello(), p.allowed);
    Result<Bytes> auth_r = p.responder.OnPeerHello(p.initiator.hello(), p.allowed);
    EXPECT_TRUE(auth_i.ok() && auth_r.ok());
    Bytes frame = *auth_r;
    mutate(frame);
    Result<Session> s = p.initiator.OnPeerAuth(frame);
    return s.ok() ? std::string("OK") : s.status().code();
  };
  EXPECT_EQ(verdict([](Bytes&) {}), "OK");
  EXPECT_EQ(verdict([](Bytes& f) { f.pop_back(); }), "BAD_AUTH");
  EXPECT_EQ(verdict([](Bytes& f) { f.push_back(0); }), "BAD_AUTH");
  EXPECT_EQ(verdict([](Bytes& f) { f[3] ^= 1; }), "BAD_AUTH");      // header
  EXPECT_EQ(verdict([](Bytes& f) { f[10] ^= 1; }), "BAD_AUTH");     // ciphertext
  EXPECT_EQ(verdict([](Bytes& f) { f.back() ^= 1; }), "BAD_AUTH");  // tag
}

class FrameTest : public ::testing::Test {
 protected:
  FrameTest() : pair_(Key(1), Key(2)), s_(RunHandshake(pair_)) {}
  Pair pair_;
  Sessions s_;
};

TEST_F(FrameTest, RoundTripOfManySizes) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{4096}, kMaxFrame}) {
    Bytes plaintext(size);
    for (size_t i = 0; i < size; ++i) plaintext[i] = static_cast<uint8_t>(i * 31 + size);
    const Bytes frame = SealOne(s_.initiator.sealer, plaintext);
    EXPECT_EQ(frame.size(), SealedFrameBytes(size));
    Result<Bytes> got = OpenOne(s_.responder.opener, frame);
    ASSERT_TRUE(got.ok()) << size << ": " << got.status().ToString();
    EXPECT_EQ(*got, plaintext);
  }
}

TEST_F(FrameTest, SealAppendsToTheBuffer) {
  Bytes out = Text("prefix");
  s_.initiator.sealer.Seal(Text("body"), out);
  ASSERT_EQ(out.size(), 6 + SealedFrameBytes(4));
  const Bytes frame(out.begin() + 6, out.end());
  Result<Bytes> got = OpenOne(s_.responder.opener, frame);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, Text("body"));
}

TEST_F(FrameTest, TamperedFramesAreRejected) {
  const Bytes frame = SealOne(s_.initiator.sealer, Text("pay 10 credits"));
  for (size_t i = kFrameHeaderBytes; i < frame.size(); ++i) {
    Bytes bad = frame;
    bad[i] ^= 0x01;
    FrameOpener opener = s_.responder.opener;  // each try from the same stream position
    Result<Bytes> got = OpenOne(opener, bad);
    ASSERT_FALSE(got.ok()) << "byte " << i;
    EXPECT_EQ(got.status().code(), "BAD_FRAME");
  }
  EXPECT_TRUE(OpenOne(s_.responder.opener, frame).ok());
}

TEST_F(FrameTest, ReplayedFrameIsRejected) {
  const Bytes f0 = SealOne(s_.initiator.sealer, Text("zero"));
  ASSERT_TRUE(OpenOne(s_.responder.opener, f0).ok());
  Result<Bytes> again = OpenOne(s_.responder.opener, f0);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), "BAD_FRAME");
}

TEST_F(FrameTest, ReorderedOrSkippedFramesAreRejected) {
  const Bytes f0 = SealOne(s_.initiator.sealer, Text("zero"));
  const Bytes f1 = SealOne(s_.initiator.sealer, Text("one"));
  FrameOpener opener = s_.responder.opener;
  EXPECT_EQ(OpenOne(opener, f1).status().code(), "BAD_FRAME");
  ASSERT_TRUE(OpenOne(s_.responder.opener, f0).ok());
  ASSERT_TRUE(OpenOne(s_.responder.opener, f1).ok());
}

TEST_F(FrameTest, ReflectedFrameIsRejected) {
  // A frame sent back to its sender: the two directions use different keys.
  const Bytes f0 = SealOne(s_.initiator.sealer, Text("zero"));
  EXPECT_EQ(OpenOne(s_.initiator.opener, f0).status().code(), "BAD_FRAME");
}

TEST_F(FrameTest, LengthIsBoundedBeforeTheBodyIsRead) {
  auto header = [](uint32_t n) {
    return std::array<uint8_t, 4>{static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                                  static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
  };
  FrameOpener& opener = s_.responder.opener;
  EXPECT_EQ(opener.SealedLength(header(0)).status().code(), "BAD_FRAME");
  EXPECT_EQ(opener.SealedLength(header(kSealOverheadBytes - 1)).status().code(), "BAD_FRAME");
  ASSERT_TRUE(opener.SealedLength(header(kSealOverheadBytes)).ok());
  EXPECT_EQ(*opener.SealedLength(header(kSealOverheadBytes)), kSealOverheadBytes);
  ASSERT_TRUE(opener.SealedLength(header(kMaxFrame + kSealOverheadBytes)).ok());
  EXPECT_EQ(opener.SealedLength(header(kMaxFrame + kSealOverheadBytes + 1)).status().code(), "FRAME_TOO_LARGE");
  EXPECT_EQ(opener.SealedLength(header(0xFFFFFFFFu)).status().code(), "FRAME_TOO_LARGE");
  // The sender side does not enforce the receiver's limit: a larger frame is sealed and refused.
  const Bytes big = SealOne(s_.initiator.sealer, Bytes(kMaxFrame + 1));
  EXPECT_EQ(opener.SealedLength(HeaderOf(big)).status().code(), "FRAME_TOO_LARGE");
}

}  // namespace
}  // namespace gongshe::node
