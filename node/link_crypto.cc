#include "node/link_crypto.h"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "common/assert.h"

namespace gongshe::node {

static_assert(crypto_kx_PUBLICKEYBYTES == 32 && crypto_kx_SECRETKEYBYTES == 32);
static_assert(crypto_kx_SESSIONKEYBYTES == 32);
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == 32);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kSealOverheadBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
static_assert(kHelloBytes == 135);

namespace {

constexpr std::array<uint8_t, 4> kMagic = {'G', 'S', 'L', 'K'};
constexpr size_t kVersionOffset = 4;
constexpr size_t kChainIdLengthOffset = 6;
constexpr size_t kChainIdOffset = 7;
constexpr size_t kIdentityOffset = kChainIdOffset + ledger::kMaxChainIdSize;
constexpr size_t kEphemeralOffset = kIdentityOffset + 32;
static_assert(kEphemeralOffset + 32 == kHelloBytes);

using Nonce = std::array<uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES>;

Nonce CounterNonce(uint64_t counter) {
  Nonce nonce{};
  for (size_t i = 0; i < 8; ++i) nonce[nonce.size() - 1 - i] = static_cast<uint8_t>(counter >> (8 * i));
  return nonce;
}

uint32_t ReadBigEndian32(FrameHeader header) {
  return uint32_t{header[0]} << 24 | uint32_t{header[1]} << 16 | uint32_t{header[2]} << 8 | uint32_t{header[3]};
}

}  // namespace

Bytes EncodeHello(const Hello& hello) {
  GS_ASSERT(hello.chain_id.size() <= ledger::kMaxChainIdSize);
  Bytes out(kHelloBytes, 0);
  std::copy(kMagic.begin(), kMagic.end(), out.begin());
  out[kVersionOffset] = static_cast<uint8_t>(hello.version >> 8);
  out[kVersionOffset + 1] = static_cast<uint8_t>(hello.version);
  out[kChainIdLengthOffset] = static_cast<uint8_t>(hello.chain_id.size());
  std::copy(hello.chain_id.begin(), hello.chain_id.end(), out.begin() + kChainIdOffset);
  std::copy(hello.identity.begin(), hello.identity.end(), out.begin() + kIdentityOffset);
  std::copy(hello.ephemeral.begin(), hello.ephemeral.end(), out.begin() + kEphemeralOffset);
  return out;
}

Result<Hello> DecodeHello(ByteView bytes) {
  if (bytes.size() != kHelloBytes) {
    return Status("BAD_HELLO",
                  "hello is " + std::to_string(bytes.size()) + " bytes, expected " + std::to_string(kHelloBytes));
  }
  if (!std::equal(kMagic.begin(), kMagic.end(), bytes.begin())) {
    return Status("BAD_HELLO", "hello does not start with the link magic");
  }
  const size_t chain_id_size = bytes[kChainIdLengthOffset];
  if (chain_id_size > ledger::kMaxChainIdSize) {
    return Status("BAD_HELLO", "hello chain id length " + std::to_string(chain_id_size) + " exceeds " +
                                   std::to_string(ledger::kMaxChainIdSize));
  }
  const auto padding = bytes.subspan(kChainIdOffset + chain_id_size, ledger::kMaxChainIdSize - chain_id_size);
  if (std::any_of(padding.begin(), padding.end(), [](uint8_t b) { return b != 0; })) {
    return Status("BAD_HELLO", "hello chain id padding is not zero");
  }
  Hello hello;
  hello.version = static_cast<uint16_t>(bytes[kVersionOffset] << 8 | bytes[kVersionOffset + 1]);
  hello.chain_id = std::string(AsChars(bytes.subspan(kChainIdOffset, chain_id_size)));
  std::copy_n(bytes.begin() + kIdentityOffset, 32, hello.identity.begin());
  std::copy_n(bytes.begin() + kEphemeralOffset, 32, hello.ephemeral.begin());
  return hello;
}

ledger::Hash TranscriptHash(ByteView initiator_hello, ByteView responder_hello) {
  return ledger::Sha256({initiator_hello, responder_hello});
}

Bytes AuthPayload(Role role, const ledger::Hash& transcript) {
  Bytes payload;
  payload.reserve(1 + transcript.size());
  payload.push_back(static_cast<uint8_t>(role));
  payload.insert(payload.end(), transcript.begin(), transcript.end());
  return payload;
}

EphemeralKey EphemeralKey::Generate() {
  ledger::InitCrypto();
  EphemeralKey key;
  crypto_kx_keypair(key.public_key.data(), key.secret_key.data());
  return key;
}

EphemeralKey::~EphemeralKey() { sodium_memzero(secret_key.data(), secret_key.size()); }

SessionKeys::~SessionKeys() {
  sodium_memzero(rx.data(), rx.size());
  sodium_memzero(tx.data(), tx.size());
}

Result<SessionKeys> DeriveSessionKeys(Role role, const EphemeralKey& ours,
                                      const std::array<uint8_t, 32>& peer_ephemeral) {
  ledger::InitCrypto();
  SessionKeys keys;
  const int rc = role == Role::kInitiator
                     ? crypto_kx_client_session_keys(keys.rx.data(), keys.tx.data(), ours.public_key.data(),
                                                     ours.secret_key.data(), peer_ephemeral.data())
                     : crypto_kx_server_session_keys(keys.rx.data(), keys.tx.data(), ours.public_key.data(),
                                                     ours.secret_key.data(), peer_ephemeral.data());
  if (rc != 0) return Status("BAD_KEY", "the peer's ephemeral key is degenerate");
  return keys;
}

FrameSealer::~FrameSealer() { sodium_memzero(key_.data(), key_.size()); }

void FrameSealer::Seal(ByteView plaintext, Bytes& out) {
  GS_ASSERT(plaintext.size() <= kMaxFramePlainBytes);
  // 2^64 frames cannot be sent in the life of a link; reusing a nonce would be fatal.
  GS_ASSERT(counter_ != std::numeric_limits<uint64_t>::max());
  const uint32_t sealed_size = static_cast<uint32_t>(plaintext.size() + kSealOverheadBytes);
  const size_t start = out.size();
  out.resize(start + kFrameHeaderBytes + sealed_size);
  uint8_t* header = out.data() + start;
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) header[i] = static_cast<uint8_t>(sealed_size >> (24 - 8 * i));
  const Nonce nonce = CounterNonce(counter_++);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(header + kFrameHeaderBytes, &written, plaintext.data(), plaintext.size(),
                                             header, kFrameHeaderBytes, nullptr, nonce.data(), key_.data());
  GS_ASSERT(written == sealed_size);
}

FrameOpener::FrameOpener(const SessionKey& key, size_t max_frame_bytes) : key_(key), max_frame_bytes_(max_frame_bytes) {
  GS_ASSERT(max_frame_bytes <= kMaxFramePlainBytes);
}

FrameOpener::~FrameOpener() { sodium_memzero(key_.data(), key_.size()); }

Result<size_t> FrameOpener::SealedLength(FrameHeader header) const {
  const size_t sealed_size = ReadBigEndian32(header);
  if (sealed_size < kSealOverheadBytes) {
    return Status("BAD_FRAME", "frame of " + std::to_string(sealed_size) + " sealed bytes is shorter than its tag");
  }
  if (sealed_size - kSealOverheadBytes > max_frame_bytes_) {
    return Status("FRAME_TOO_LARGE", "frame of " + std::to_string(sealed_size - kSealOverheadBytes) +
                                         " bytes exceeds the limit of " + std::to_string(max_frame_bytes_));
  }
  return sealed_size;
}

Result<Bytes> FrameOpener::Open(FrameHeader header, ByteView sealed) {
  GS_ASSERT(sealed.size() == ReadBigEndian32(header) && sealed.size() >= kSealOverheadBytes);
  if (counter_ == std::numeric_limits<uint64_t>::max()) return Status("BAD_FRAME", "frame counter exhausted");
  const Nonce nonce = CounterNonce(counter_);
  Bytes plaintext(sealed.size() - kSealOverheadBytes);
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plaintext.data(), &written, nullptr, sealed.data(), sealed.size(),
                                                 header.data(), header.size(), nonce.data(), key_.data()) != 0) {
    return Status("BAD_FRAME", "frame " + std::to_string(counter_) + " does not authenticate");
  }
  GS_ASSERT(written == plaintext.size());
  ++counter_;
  return plaintext;
}

Handshake::Handshake(const ledger::KeyPair& identity, std::string chain_id, Role role, size_t max_frame_bytes,
                     std::optional<ledger::PublicKey> expected_peer)
    : identity_(identity),
      chain_id_(std::move(chain_id)),
      role_(role),
      max_frame_bytes_(max_frame_bytes),
      expected_peer_(expected_peer),
      ephemeral_(EphemeralKey::Generate()) {
  GS_ASSERT(chain_id_.size() <= ledger::kMaxChainIdSize);
  GS_ASSERT(max_frame_bytes_ <= kMaxFramePlainBytes);
  GS_ASSERT(role_ == Role::kResponder || expected_peer_.has_value());
  Hello hello;
  hello.chain_id = chain_id_;
  hello.identity = identity_.public_key();
  hello.ephemeral = ephemeral_.public_key;
  our_hello_ = EncodeHello(hello);
}

Result<Bytes> Handshake::OnPeerHello(ByteView peer_hello,
                                     const std::function<bool(const ledger::PublicKey&)>& is_allowed) {
  GS_ASSERT(step_ == Step::kAwaitHello);
  step_ = Step::kAwaitAuth;
  Result<Hello> hello = DecodeHello(peer_hello);
  if (!hello.ok()) return hello.status();
  if (hello->version != kLinkVersion) {
    return Status("LINK_VERSION", "peer speaks link version " + std::to_string(hello->version) + ", we speak " +
                                      std::to_string(kLinkVersion));
  }
  if (hello->chain_id != chain_id_) {
    return Status("WRONG_CHAIN", "peer is on chain '" + hello->chain_id + "', we are on '" + chain_id_ + "'");
  }
  const std::string who = ToHex(hello->identity);
  if (hello->identity == identity_.public_key()) return Status("SELF_LINK", "peer presents our own key");
  if (!is_allowed(hello->identity)) return Status("UNKNOWN_PEER", "key " + who + " is not in the validator set");
  if (expected_peer_.has_value() && hello->identity != *expected_peer_) {
    return Status("UNEXPECTED_PEER", "dialled " + ToHex(*expected_peer_) + " but the peer presents " + who);
  }
  Result<SessionKeys> keys = DeriveSessionKeys(role_, ephemeral_, hello->ephemeral);
  if (!keys.ok()) return keys.status();
  peer_hello_ = std::move(hello).value();
  ephemeral_ = EphemeralKey();  // wipes the secret: the keys are derived
  const Bytes peer_hello_bytes(peer_hello.begin(), peer_hello.end());
  transcript_ = role_ == Role::kInitiator ? TranscriptHash(our_hello_, peer_hello_bytes)
                                          : TranscriptHash(peer_hello_bytes, our_hello_);
  sealer_.emplace(keys->tx);
  opener_.emplace(keys->rx, max_frame_bytes_);
  const ledger::Signature signature = identity_.Sign(kLinkDomain, chain_id_, AuthPayload(role_, transcript_));
  Bytes frame;
  sealer_->Seal(signature, frame);
  GS_ASSERT(frame.size() == kAuthFrameBytes);
  return frame;
}

Result<Session> Handshake::OnPeerAuth(ByteView frame) {
  GS_ASSERT(step_ == Step::kAwaitAuth && sealer_.has_value() && opener_.has_value());
  step_ = Step::kDone;
  if (frame.size() != kAuthFrameBytes) {
    return Status("BAD_AUTH", "authentication frame is " + std::to_string(frame.size()) + " bytes, expected " +
                                  std::to_string(kAuthFrameBytes));
  }
  const FrameHeader header(frame.data(), kFrameHeaderBytes);
  const ByteView sealed = frame.subspan(kFrameHeaderBytes);
  if (ReadBigEndian32(header) != sealed.size()) return Status("BAD_AUTH", "authentication frame header is wrong");
  Result<Bytes> plaintext = opener_->Open(header, sealed);
  if (!plaintext.ok()) return Status("BAD_AUTH", "authentication frame does not open: " + plaintext.status().message());
  std::optional<ledger::Signature> signature = ledger::SignatureFromBytes(*plaintext);
  GS_ASSERT(signature.has_value());  // the frame size fixes the plaintext size
  const Role peer_role = role_ == Role::kInitiator ? Role::kResponder : Role::kInitiator;
  if (!ledger::Verify(peer_hello_.identity, kLinkDomain, chain_id_, AuthPayload(peer_role, transcript_), *signature)) {
    return Status("BAD_AUTH", "peer's handshake signature does not verify");
  }
  return Session{peer_hello_.identity, *sealer_, *opener_};
}

}  // namespace gongshe::node
