#pragma once
// The history tree: an append-only RFC 9162 Merkle tree whose leaf i is the hash of block i
// (leaf 0 the genesis block), so one recent certified header proves any earlier block, and any
// two heads prove that one chain extends the other. The leaf data is the 32-byte block hash, so
// leaf i's hash is LeafHash(block_hash_i); roots and proofs are byte-for-byte those of merkle.h.
//
// Storage (KeySpace::kHistoryNode), integers big-endian so keys sort by level then index:
//   'H' 'S'                          -> tree size, 8 bytes
//   'H' 'N' level(1) index(8)        -> hash of the perfect subtree over leaves
//                                       [index * 2^level, (index + 1) * 2^level), 32 bytes
// Every perfect subtree is stored once complete, so Append writes O(log n) keys and Root, proofs
// and sizes below the current one cost O(log^2 n) reads at most, never a walk over the leaves.
//
// A HistoryTree holds no state of its own: it reads `store` on every call, so it may sit on an
// Overlay holding a block's pending writes and sees them, and dropping the overlay drops the
// appends. Errors: HISTORY_OUT_OF_RANGE (a size or index from outside beyond the tree),
// HISTORY_CORRUPT (the store lacks a key the size implies, or holds a malformed value),
// HISTORY_FULL (2^64 - 1 leaves).

#include <cstdint>
#include <vector>

#include "common/status.h"
#include "ledger/hash.h"
#include "ledger/kv.h"
#include "ledger/merkle.h"

namespace gongshe::ledger {

class HistoryTree {
 public:
  explicit HistoryTree(const KvReader& store) : store_(store) {}

  // Number of leaves; 0 for a store that has never held the tree.
  Result<uint64_t> Size() const;

  // Appends `block_hash` as leaf Size() and returns the new size. The writes go to `out`, which
  // must be the store this tree reads (typically the same Overlay), or later calls will not see
  // them.
  Result<uint64_t> Append(const Hash& block_hash, KvWriter& out) const;

  // MTH of the first `size` leaves, for any size <= Size(); EmptyRoot() for 0.
  Result<Hash> Root(uint64_t size) const;

  // The audit path of leaf `index` in the tree of the first `size` leaves: index < size <= Size().
  Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) const;

  // The proof that the first `old_size` leaves are a prefix of the first `new_size` leaves:
  // old_size <= new_size <= Size(). Empty when old_size is 0 or new_size.
  Result<std::vector<Hash>> ConsistencyProof(uint64_t old_size, uint64_t new_size) const;

 private:
  Result<Hash> Node(unsigned level, uint64_t index) const;
  Result<Hash> RangeRoot(const LeafRange& range) const;
  Result<std::vector<Hash>> HashRanges(const std::vector<LeafRange>& ranges) const;
  Status CheckSize(uint64_t size, const char* what) const;

  const KvReader& store_;
};

}  // namespace gongshe::ledger
