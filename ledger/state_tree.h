#pragma once
// The state commitment: a compressed binary sparse Merkle tree over 256-bit key hashes, with
// proofs of presence and of absence that anyone can check against the root alone.
//
// The tree (what the root commits to; enough to re-implement VerifyStateProof):
//   - Each record is a leaf (key_hash, value_hash): key_hash = SHA-256(record key), value_hash =
//     SHA-256(record bytes). A key's path is the bits of key_hash, most significant bit of byte 0
//     first: bit i is (key_hash[i / 8] >> (7 - i % 8)) & 1; 0 goes left, 1 goes right.
//   - The subtree at depth d (0 = root) with path prefix p holds the leaves whose key_hash starts
//     with the d bits p. Its hash is
//       no leaf:     32 zero bytes (never hashed);
//       one leaf:    SHA-256(0x00 || key_hash || value_hash), at whatever depth (the compression:
//                    a single leaf sits as high as it can, so depth ~ log2(number of keys));
//       more leaves: SHA-256(0x01 || left || right), the hashes of its two depth-(d+1) children
//                    (one of them may be empty).
//   - The root is the hash of the depth-0 subtree. It depends only on the set of leaves.
//
// A proof for key k lists the siblings along k's path from the root down to where the path ends:
// at k's leaf (presence), at another leaf whose key shares the path so far (absence), or at an
// empty subtree (absence). The verifier folds the siblings upwards and compares with the root.
//
// Storage: the latest tree only, in KeySpace::kStateNode, as pages of 4 binary levels. A page
// holds the nodes of depths D..D+4 under one internal node at a depth D that is a multiple of 4;
// internal nodes at depth D+4 are stubs (their hash) whose children are in the page at D+4. The
// page key is 'N', the byte D, and the first D bits of the path (ceil(D/8) bytes, unused low bits
// zero); the root page (D = 0) may also hold a single leaf. Stored nodes depend only on the set of
// leaves, so an update leaves no garbage behind.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "ledger/hash.h"
#include "ledger/kv.h"

namespace gongshe::ledger {

// The deepest a path can go: two keys that differ only in their last bit sit at depth 256.
inline constexpr size_t kStateTreeMaxDepth = 256;

// The root of the tree with no leaves.
inline constexpr Hash kEmptyStateRoot{};

struct StateLeaf {
  Hash key_hash;
  Hash value_hash;
  bool operator==(const StateLeaf&) const = default;
};

// Sets key_hash to value_hash, or deletes key_hash when value_hash is nullopt (deleting an absent
// key changes nothing).
struct StateUpdate {
  Hash key_hash;
  std::optional<Hash> value_hash;
};

struct StateProof {
  std::vector<Hash> siblings;     // siblings[i] is at depth i + 1, off the key's path
  std::optional<StateLeaf> leaf;  // the leaf at depth siblings.size(), if the path ends at one
  bool operator==(const StateProof&) const = default;
};

Hash StateLeafHash(const StateLeaf& leaf);
Hash StateInternalHash(const Hash& left, const Hash& right);

// The root of the tree stored in `kv`; kEmptyStateRoot when nothing is stored.
Hash StateRoot(const KvReader& kv);

// Applies `updates` (any order, each key at most once: a duplicate is a caller bug and aborts) to
// the tree stored in `kv`, writes the changed pages to `out` (usually an Overlay over `kv`) and
// returns the new root. Only pages on the changed paths are read (each once) and written; only
// changed nodes are hashed, once each. `out` may be `kv` itself: no page is read after it is
// written or deleted.
Hash UpdateState(const KvReader& kv, std::span<const StateUpdate> updates, KvWriter& out);

// The proof for `key_hash` against StateRoot(kv), whether the key is present or not.
StateProof ProveState(const KvReader& kv, const Hash& key_hash);

// Checks `proof` for `key_hash` against `root` alone. Returns the value hash when the proof shows
// the key present, nullopt when it shows the key absent, and an error when the proof is malformed
// (BAD_STATE_PROOF) or leads to another root (STATE_ROOT_MISMATCH).
Result<std::optional<Hash>> VerifyStateProof(const Hash& root, const Hash& key_hash,
                                             const StateProof& proof);

// The proof as a gongshe.v1.StateProof message (gongshe/v1/proof.proto), and back. Decoding
// takes outside bytes: anything but a well-formed version-1 proof of at most 256 siblings is a
// BAD_STATE_PROOF error.
std::string EncodeStateProof(const StateProof& proof);
Result<StateProof> DecodeStateProof(ByteView bytes);

}  // namespace gongshe::ledger
