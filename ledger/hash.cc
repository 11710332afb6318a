#include "ledger/hash.h"

#include <sodium.h>

#include <algorithm>

namespace gongshe::ledger {

Hash Sha256(ByteView data) { return Sha256({data}); }

Hash Sha256(std::initializer_list<ByteView> parts) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  for (ByteView part : parts) crypto_hash_sha256_update(&state, part.data(), part.size());
  Hash out;
  crypto_hash_sha256_final(&state, out.data());
  return out;
}

std::optional<Hash> HashFromBytes(ByteView b) {
  if (b.size() != 32) return std::nullopt;
  Hash h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

}  // namespace gongshe::ledger
