#pragma once
// Who signs and who checks signatures for the core. The core only ever uses these interfaces, so
// a node can plug in Ed25519 (below) and a test can plug in a verifier that caches results or a
// cheaper test-only scheme. Implementations must be deterministic: the same inputs give the same
// answer every time.

#include <array>
#include <map>
#include <mutex>
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

// A validator's signer that remembers its last kRemembered signatures (SelfTrustingVerifier).
// Thread-safe.
class RecordingSigner final : public Signer {
 public:
  static constexpr size_t kRemembered = 64;

  explicit RecordingSigner(ledger::KeyPair key) : key_(std::move(key)) {}
  const ledger::PublicKey& public_key() const override { return key_.public_key(); }
  ledger::Signature Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const override;
  // True iff `signature` is one of the remembered signatures of exactly these bytes.
  bool Made(std::string_view domain, std::string_view chain_id, ByteView payload,
            const ledger::Signature& signature) const;

 private:
  struct Signed {
    Bytes sign_bytes;
    ledger::Signature signature{};
  };
  ledger::KeyPair key_;
  mutable std::mutex mu_;
  mutable std::array<Signed, kRemembered> made_;  // a ring; next_ is the oldest slot
  mutable size_t next_ = 0;
};

// Checks signatures with `inner`, except those `own` made recently, which are valid by
// construction: a validator meets its own vote again inside the QC of the next proposal, and as
// the next leader it handles its own vote. Skipping those checks saves about a fifth of the consensus
// signature checks per block and changes no answer.
class SelfTrustingVerifier final : public Verifier {
 public:
  SelfTrustingVerifier(const Verifier& inner, const RecordingSigner& own) : inner_(inner), own_(own) {}
  bool Verify(const ledger::PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
              const ledger::Signature& signature) const override {
    if (key == own_.public_key() && own_.Made(domain, chain_id, payload, signature)) return true;
    return inner_.Verify(key, domain, chain_id, payload, signature);
  }

 private:
  const Verifier& inner_;
  const RecordingSigner& own_;
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
