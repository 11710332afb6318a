#pragma once
// Who signs and who checks signatures for the core. The core only ever uses these interfaces, so
// a node can plug in Ed25519 (below) and a test can plug in a verifier that caches results or a
// cheaper test-only scheme. Implementations must be deterministic: the same inputs give the same
// answer every time.

#include <map>
#include <string_view>

#include "common/bytes.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace gongshe::consensus {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual const ledger::PublicKey& public_key() const = 0;
  // Signs SignBytes(domain, chain_id, payload) (ledger/crypto.h).
  virtual ledger::Signature Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const = 0;
};

class Verifier {
 public:
  virtual ~Verifier() = default;
  virtual bool Verify(const ledger::PublicKey& key, std::string_view domain, std::string_view chain_id,
                      ByteView payload, const ledger::Signature& signature) const = 0;
};

class Ed25519Signer final : public Signer {
 public:
  explicit Ed25519Signer(ledger::KeyPair key) : key_(std::move(key)) {}
  const ledger::PublicKey& public_key() const override { return key_.public_key(); }
  ledger::Signature Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const override {
    return key_.Sign(domain, chain_id, payload);
  }

 private:
  ledger::KeyPair key_;
};

class Ed25519Verifier final : public Verifier {
 public:
  bool Verify(const ledger::PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
              const ledger::Signature& signature) const override {
    return ledger::Verify(key, domain, chain_id, payload, signature);
  }
};

// Checks each distinct (key, domain, chain id, payload, signature) once with `inner` and remembers
// the answer: for simulations and benchmarks where many validators in one process check the same
// signatures. Its memory grows with the number of distinct signatures seen; not for a node.
class CachingVerifier final : public Verifier {
 public:
  explicit CachingVerifier(const Verifier& inner) : inner_(inner) {}
  bool Verify(const ledger::PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
              const ledger::Signature& signature) const override {
    const uint8_t sizes[2] = {static_cast<uint8_t>(domain.size()), static_cast<uint8_t>(chain_id.size())};
    const ledger::Hash cache_key =
        ledger::Sha256({key, sizes, AsBytes(domain), AsBytes(chain_id), payload, signature});
    auto it = cache_.find(cache_key);
    if (it != cache_.end()) return it->second;
    const bool ok = inner_.Verify(key, domain, chain_id, payload, signature);
    cache_.emplace(cache_key, ok);
    return ok;
  }

 private:
  const Verifier& inner_;
  mutable std::map<ledger::Hash, bool> cache_;
};

}  // namespace gongshe::consensus
