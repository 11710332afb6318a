#pragma once
// Ed25519 signatures on libsodium. Every signature is domain-separated and bound to a chain:
//   sign_bytes(domain, chain_id, payload) = domain || uint8(len(chain_id)) || chain_id || payload
// so a signature made for one purpose or one chain never verifies for another.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace gongshe::ledger {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

// Domains, one per kind of signed thing.
inline constexpr std::string_view kTxDomain = "gongshe/tx/v1";
inline constexpr std::string_view kTxCosignDomain = "gongshe/tx-cosign/v1";

// Longest chain id accepted anywhere (it is length-prefixed with one byte).
inline constexpr size_t kMaxChainIdSize = 64;

// Calls sodium_init() once; safe to call from any thread, any number of times. Every entry point
// below calls it, so callers need not.
void InitCrypto();

// An Ed25519 key pair. The secret part is wiped from memory on destruction.
class KeyPair {
 public:
  static KeyPair Generate();
  static KeyPair FromSeed(std::span<const uint8_t, 32> seed);

  KeyPair(const KeyPair&);
  KeyPair& operator=(const KeyPair&);
  ~KeyPair();

  const PublicKey& public_key() const { return public_key_; }
  std::span<const uint8_t, 32> seed() const { return std::span<const uint8_t, 32>(secret_.data(), 32); }

  // Signs SignBytes(domain, chain_id, payload). The chain id must be at most kMaxChainIdSize bytes
  // (callers validate it; a longer one is a bug and aborts).
  Signature Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const;

 private:
  KeyPair() = default;
  PublicKey public_key_{};
  std::array<uint8_t, 64> secret_{};  // libsodium layout: seed || public key
};

// The exact bytes that are signed (see the top of this file). Requires
// chain_id.size() <= kMaxChainIdSize.
Bytes SignBytes(std::string_view domain, std::string_view chain_id, ByteView payload);

// True iff `signature` is key's Ed25519 signature of SignBytes(domain, chain_id, payload). False,
// never a crash, for any outside input, including a chain id longer than kMaxChainIdSize or a key
// that is not a valid curve point.
bool Verify(const PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
            const Signature& signature);

// Exactly 32 / 64 bytes, else nullopt. No curve check: Verify rejects invalid keys.
std::optional<PublicKey> PublicKeyFromBytes(ByteView b);
std::optional<Signature> SignatureFromBytes(ByteView b);

}  // namespace gongshe::ledger
