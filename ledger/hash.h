#pragma once
// SHA-256, the one hash of the ledger: transaction ids, block hashes and every Merkle tree.

#include <array>
#include <cstring>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "common/assert.h"
#include "common/bytes.h"

namespace gongshe::ledger {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(ByteView data);

// SHA-256 of several byte strings concatenated, without building the concatenation.
Hash Sha256(std::initializer_list<ByteView> parts);

inline std::string ToHex(const Hash& h) { return gongshe::ToHex(h); }

// Hashes a SHA-256 digest (or an Ed25519 key) for unordered containers: its first 8 bytes, which
// are uniformly distributed already.
struct Hash32Hasher {
  size_t operator()(const std::array<uint8_t, 32>& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

// The 32 bytes of `b` as a Hash; nullopt unless exactly 32 bytes.
std::optional<Hash> HashFromBytes(ByteView b);

}  // namespace gongshe::ledger
