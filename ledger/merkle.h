#pragma once
// Merkle trees of RFC 9162 section 2.1 over SHA-256: the transaction root of a block and the
// history tree over block hashes share these definitions, so any RFC 9162 (Certificate
// Transparency v2) verifier can check Gongshe proofs.
//
//   MTH({})      = SHA-256()
//   leaf hash    = SHA-256(0x00 || leaf)
//   node hash    = SHA-256(0x01 || left || right)
//   MTH(D[n])    = NodeHash(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
//
// Generators take the leaf hashes (not the leaf data) and trust their arguments: a violated
// precondition is a bug of the caller and stops the process. Verifiers take outside input: any
// malformed proof or parameter yields false, in at most 64 hashing steps.

#include <cstdint>
#include <span>
#include <vector>

#include "common/bytes.h"
#include "ledger/hash.h"

namespace gongshe::ledger {

// The root of the tree with no leaves: SHA-256 of the empty string.
Hash EmptyRoot();

// SHA-256(0x00 || leaf).
Hash LeafHash(ByteView leaf);

// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);

// MTH over the leaves whose hashes are `leaf_hashes` (RFC 9162 2.1.1). O(n) hashing.
Hash MerkleRoot(std::span<const Hash> leaf_hashes);

// The audit path PATH(index, D[n]) of RFC 9162 2.1.3.1, deepest sibling first.
// Requires index < leaf_hashes.size(). O(n) hashing.
std::vector<Hash> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index);

// True when `proof` shows that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves
// whose root is `root` (RFC 9162 2.1.3.2).
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                     std::span<const Hash> proof, const Hash& root);

// PROOF(old_size, D[n]) of RFC 9162 2.1.4.1: shows that the tree of the first `old_size` leaves
// is a prefix of the tree of all `leaf_hashes`. Empty when old_size is 0 or n.
// Requires old_size <= leaf_hashes.size(). O(n) hashing.
std::vector<Hash> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t old_size);

// True when `proof` shows that the tree of `old_size` leaves with root `old_root` is a prefix of
// the tree of `new_size` leaves with root `new_root` (RFC 9162 2.1.4.2). The degenerate cases
// the RFC leaves out take an empty proof: old_size == new_size needs equal roots, and
// old_size == 0 needs old_root == EmptyRoot() (every tree extends the empty one).
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, std::span<const Hash> proof);

// The leaves [begin, begin + count) under one proof element: each element of an RFC 9162 proof
// is the MTH of such a range. Stores that keep subtree hashes (the history tree) build proofs
// from these ranges, so they yield the same bytes as the functions above.
struct LeafRange {
  uint64_t begin = 0;
  uint64_t count = 0;
  bool operator==(const LeafRange&) const = default;
};

// The ranges of InclusionProof(leaves of `tree_size`, index), in proof order.
// Requires index < tree_size.
std::vector<LeafRange> InclusionProofRanges(uint64_t index, uint64_t tree_size);

// The ranges of ConsistencyProof(leaves of `new_size`, old_size), in proof order.
// Requires old_size <= new_size.
std::vector<LeafRange> ConsistencyProofRanges(uint64_t old_size, uint64_t new_size);

}  // namespace gongshe::ledger
