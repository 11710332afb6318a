#include "ledger/crypto.h"

#include <sodium.h>

#include <algorithm>
#include <mutex>

#include "common/assert.h"

namespace gongshe::ledger {

static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_BYTES == 64);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_SEEDBYTES == 32);
// The chain id length is one byte in SignBytes.
static_assert(kMaxChainIdSize <= 255);

void InitCrypto() {
  static std::once_flag once;
  // sodium_init() returns 1 when already initialised, -1 on failure (no usable entropy source).
  std::call_once(once, [] { GS_ASSERT(sodium_init() >= 0); });
}

KeyPair KeyPair::Generate() {
  InitCrypto();
  KeyPair pair;
  crypto_sign_keypair(pair.public_key_.data(), pair.secret_.data());
  return pair;
}

KeyPair KeyPair::FromSeed(std::span<const uint8_t, 32> seed) {
  InitCrypto();
  KeyPair pair;
  crypto_sign_seed_keypair(pair.public_key_.data(), pair.secret_.data(), seed.data());
  return pair;
}

KeyPair::KeyPair(const KeyPair& other) : public_key_(other.public_key_), secret_(other.secret_) {}

KeyPair& KeyPair::operator=(const KeyPair& other) {
  public_key_ = other.public_key_;
  secret_ = other.secret_;
  return *this;
}

KeyPair::~KeyPair() { sodium_memzero(secret_.data(), secret_.size()); }

Signature KeyPair::Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const {
  GS_ASSERT(chain_id.size() <= kMaxChainIdSize);
  const Bytes message = SignBytes(domain, chain_id, payload);
  Signature signature;
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_.data());
  return signature;
}

Bytes SignBytes(std::string_view domain, std::string_view chain_id, ByteView payload) {
  GS_ASSERT(chain_id.size() <= kMaxChainIdSize);
  Bytes out;
  out.reserve(domain.size() + 1 + chain_id.size() + payload.size());
  out.insert(out.end(), domain.begin(), domain.end());
  out.push_back(static_cast<uint8_t>(chain_id.size()));
  out.insert(out.end(), chain_id.begin(), chain_id.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

bool Verify(const PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
            const Signature& signature) {
  if (chain_id.size() > kMaxChainIdSize) return false;
  InitCrypto();
  const Bytes message = SignBytes(domain, chain_id, payload);
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0;
}

std::optional<PublicKey> PublicKeyFromBytes(ByteView b) {
  if (b.size() != PublicKey().size()) return std::nullopt;
  PublicKey key;
  std::copy(b.begin(), b.end(), key.begin());
  return key;
}

std::optional<Signature> SignatureFromBytes(ByteView b) {
  if (b.size() != Signature().size()) return std::nullopt;
  Signature signature;
  std::copy(b.begin(), b.end(), signature.begin());
  return signature;
}

}  // namespace gongshe::ledger
