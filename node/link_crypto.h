#pragma once
// The peer link protocol as pure functions: handshake messages, session keys and sealed frames.
// No sockets, no clock; node/transport.h drives these over TCP.
//
// Protocol "gongshe/link/v1" (all integers big-endian):
//
// 1. Hello. As soon as TCP connects, each side sends one hello of exactly kHelloBytes = 135 bytes:
//      magic "GSLK" (4) | version u16 (= kLinkVersion) | chain id length u8 (<= 64)
//      | chain id, zero-padded to 64 bytes | static Ed25519 public key (32)
//      | ephemeral X25519 public key (32), fresh for every connection.
//    The side that opened the TCP connection is the initiator, the other the responder. A hello is
//    refused when its magic or padding is wrong (BAD_HELLO), its version differs (LINK_VERSION),
//    its chain id differs (WRONG_CHAIN), its static key is our own (SELF_LINK) or not in the
//    validator set (UNKNOWN_PEER), or, for the initiator, not the key it dialled
//    (UNEXPECTED_PEER).
// 2. Session keys. libsodium crypto_kx over the two ephemeral keys, the initiator as client:
//    the initiator's tx key is the responder's rx key and vice versa. A degenerate ephemeral key
//    (small-order point) is refused (BAD_KEY).
// 3. Authentication. transcript = SHA-256(initiator hello || responder hello). Each side sends,
//    as its first sealed frame (step 4, counter 0), its 64-byte Ed25519 signature
//      Sign(domain "gongshe/link/v1", chain id, role u8 || transcript)
//    with role 1 for the initiator and 2 for the responder. The receiver opens it with its rx key
//    (which proves the sender derived the same keys, i.e. holds the ephemeral secret) and checks
//    the signature with the static key from the peer's hello (BAD_AUTH otherwise). The transcript
//    names both static and both ephemeral keys, so a signature binds this session to the two
//    identities and cannot be replayed into another session or role.
// 4. Frames. Every later message is a frame:
//      sealed length u32 | XChaCha20-Poly1305-IETF(key = direction key,
//                                                   nonce = 16 zero bytes || counter u64,
//                                                   additional data = the 4 length bytes)
//    The counter starts at 0 in each direction and grows by one per frame, so a frame that is
//    replayed, reordered, dropped from the middle or tampered with fails to open (BAD_FRAME). A
//    sealed length below the 16-byte tag is BAD_FRAME; above max_frame_bytes + 16 it is
//    FRAME_TOO_LARGE and is refused from the 4 header bytes alone, before the body is read. An
//    empty plaintext is a keepalive; applications never see it.
// Any refusal or failure ends the link; a new TCP connection starts a new handshake.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace gongshe::node {

inline constexpr std::string_view kLinkDomain = "gongshe/link/v1";
inline constexpr uint16_t kLinkVersion = 1;
inline constexpr size_t kHelloBytes = 4 + 2 + 1 + ledger::kMaxChainIdSize + 32 + 32;
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kSealOverheadBytes = 16;  // the Poly1305 tag
// The largest plaintext a frame can carry: its sealed length must fit the u32 header.
inline constexpr size_t kMaxFramePlainBytes = 0xFFFFFFFFu - kSealOverheadBytes;
// The authentication frame: header and a sealed Ed25519 signature.
inline constexpr size_t kAuthFrameBytes = kFrameHeaderBytes + 64 + kSealOverheadBytes;

enum class Role : uint8_t { kInitiator = 1, kResponder = 2 };

using SessionKey = std::array<uint8_t, 32>;
using FrameHeader = std::span<const uint8_t, kFrameHeaderBytes>;

struct Hello {
  uint16_t version = kLinkVersion;
  std::string chain_id;
  ledger::PublicKey identity{};         // static Ed25519 key
  std::array<uint8_t, 32> ephemeral{};  // X25519 public key
};

// Requires hello.chain_id.size() <= ledger::kMaxChainIdSize.
Bytes EncodeHello(const Hello& hello);
// Checks the layout only (size, magic, chain id length and padding); BAD_HELLO otherwise. The
// version is returned as sent so the caller can refuse it with its own code.
Result<Hello> DecodeHello(ByteView bytes);

ledger::Hash TranscriptHash(ByteView initiator_hello, ByteView responder_hello);
// The bytes a side of `role` signs (under kLinkDomain and the chain id): role u8 || transcript.
Bytes AuthPayload(Role role, const ledger::Hash& transcript);

// An ephemeral X25519 key pair; the secret is wiped on destruction.
struct EphemeralKey {
  static EphemeralKey Generate();
  EphemeralKey() = default;
  EphemeralKey(const EphemeralKey&) = default;
  EphemeralKey& operator=(const EphemeralKey&) = default;
  ~EphemeralKey();
  std::array<uint8_t, 32> public_key{};
  std::array<uint8_t, 32> secret_key{};
};

struct SessionKeys {
  SessionKeys() = default;
  SessionKeys(const SessionKeys&) = default;
  SessionKeys& operator=(const SessionKeys&) = default;
  ~SessionKeys();
  SessionKey rx{};  // opens what the peer sends
  SessionKey tx{};  // seals what we send
};

// crypto_kx with `role` deciding client (initiator) or server (responder). BAD_KEY when the
// peer's ephemeral key is degenerate.
Result<SessionKeys> DeriveSessionKeys(Role role, const EphemeralKey& ours,
                                      const std::array<uint8_t, 32>& peer_ephemeral);

// Seals the frames of one direction of one session, in order. The key is wiped on destruction.
class FrameSealer {
 public:
  explicit FrameSealer(const SessionKey& key) : key_(key) {}
  FrameSealer(const FrameSealer&) = default;
  FrameSealer& operator=(const FrameSealer&) = default;
  ~FrameSealer();

  // Appends the whole frame (header and sealed bytes, SealedFrameBytes(plaintext.size()) bytes)
  // to `out`. Requires plaintext.size() <= kMaxFramePlainBytes; uses the next counter.
  void Seal(ByteView plaintext, Bytes& out);

 private:
  SessionKey key_;
  uint64_t counter_ = 0;
};

inline size_t SealedFrameBytes(size_t plaintext_bytes) {
  return kFrameHeaderBytes + plaintext_bytes + kSealOverheadBytes;
}

// Opens the frames of one direction of one session, in order. After any error the stream is
// broken and the caller must drop the link. The key is wiped on destruction.
class FrameOpener {
 public:
  // Requires max_frame_bytes <= kMaxFramePlainBytes.
  FrameOpener(const SessionKey& key, size_t max_frame_bytes);
  FrameOpener(const FrameOpener&) = default;
  FrameOpener& operator=(const FrameOpener&) = default;
  ~FrameOpener();

  // The number of sealed bytes that follow `header`; BAD_FRAME when shorter than the tag,
  // FRAME_TOO_LARGE when the plaintext would exceed max_frame_bytes.
  Result<size_t> SealedLength(FrameHeader header) const;
  // The plaintext of the next frame. Requires sealed.size() == *SealedLength(header).
  // BAD_FRAME when it does not authenticate under the next counter.
  Result<Bytes> Open(FrameHeader header, ByteView sealed);

 private:
  SessionKey key_;
  size_t max_frame_bytes_;
  uint64_t counter_ = 0;
};

// An authenticated session: who the peer is and the two directions of its stream.
struct Session {
  ledger::PublicKey peer{};
  FrameSealer sealer;
  FrameOpener opener;
};

// One side of the handshake. Use: send hello(); feed the peer's hello to OnPeerHello and send the
// frame it returns; feed the peer's authentication frame to OnPeerAuth, which yields the Session.
// Each step is called once, in this order; after an error the handshake is dead.
class Handshake {
 public:
  // `chain_id` must be at most ledger::kMaxChainIdSize bytes and max_frame_bytes at most
  // kMaxFramePlainBytes. An initiator passes the key it dialled as `expected_peer`.
  Handshake(const ledger::KeyPair& identity, std::string chain_id, Role role, size_t max_frame_bytes,
            std::optional<ledger::PublicKey> expected_peer);

  const Bytes& hello() const { return our_hello_; }

  // Checks the peer's hello (see the top of this file) against `is_allowed` (the validator
  // set), derives the keys and returns our authentication frame (kAuthFrameBytes bytes).
  Result<Bytes> OnPeerHello(ByteView peer_hello, const std::function<bool(const ledger::PublicKey&)>& is_allowed);

  // The peer's static key; valid after OnPeerHello succeeded.
  const ledger::PublicKey& peer() const { return peer_hello_.identity; }

  // Checks the peer's authentication frame; BAD_AUTH unless it opens and carries the peer's
  // signature of this transcript in its role.
  Result<Session> OnPeerAuth(ByteView frame);

 private:
  enum class Step { kAwaitHello, kAwaitAuth, kDone };

  ledger::KeyPair identity_;
  std::string chain_id_;
  Role role_;
  size_t max_frame_bytes_;
  std::optional<ledger::PublicKey> expected_peer_;
  EphemeralKey ephemeral_;
  Bytes our_hello_;
  Hello peer_hello_;
  ledger::Hash transcript_{};
  std::optional<FrameSealer> sealer_;
  std::optional<FrameOpener> opener_;
  Step step_ = Step::kAwaitHello;
};

}  // namespace gongshe::node
