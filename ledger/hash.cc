#include "ledger/hash.h"

// OpenSSL's SHA-256 uses the CPU's SHA extensions where present (about 5x libsodium's portable
// code here). Its low-level SHA256_* calls are deprecated in OpenSSL 3 in favour of EVP, but EVP
// costs twice as much per call on the short inputs that dominate Merkle trees (65 bytes), so the
// low-level API is used deliberately; the output is the same standard SHA-256 either way.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <algorithm>

namespace gongshe::ledger {

Hash Sha256(ByteView data) { return Sha256({data}); }

Hash Sha256(std::initializer_list<ByteView> parts) {
  SHA256_CTX state;
  GS_ASSERT(SHA256_Init(&state) == 1);
  for (ByteView part : parts) GS_ASSERT(SHA256_Update(&state, part.data(), part.size()) == 1);
  Hash out;
  GS_ASSERT(SHA256_Final(out.data(), &state) == 1);
  return out;
}

std::optional<Hash> HashFromBytes(ByteView b) {
  if (b.size() != 32) return std::nullopt;
  Hash h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

}  // namespace gongshe::ledger
