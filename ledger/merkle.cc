#include "ledger/merkle.h"

#include <algorithm>
#include <bit>

#include "common/assert.h"

namespace gongshe::ledger {
namespace {

constexpr uint8_t kLeafPrefix[] = {0x00};
constexpr uint8_t kNodePrefix[] = {0x01};

// k of RFC 9162: the largest power of two smaller than n.
uint64_t SplitPoint(uint64_t n) {
  GS_ASSERT(n >= 2);
  return std::bit_floor(n - 1);
}

std::vector<Hash> HashRanges(std::span<const Hash> leaf_hashes, const std::vector<LeafRange>& ranges) {
  std::vector<Hash> out;
  out.reserve(ranges.size());
  for (const LeafRange& range : ranges) {
    out.push_back(MerkleRoot(leaf_hashes.subspan(range.begin, range.count)));
  }
  return out;
}

}  // namespace

Hash EmptyRoot() { return Sha256(ByteView{}); }

Hash LeafHash(ByteView leaf) { return Sha256({ByteView(kLeafPrefix), leaf}); }

Hash NodeHash(const Hash& left, const Hash& right) {
  return Sha256({ByteView(kNodePrefix), ByteView(left), ByteView(right)});
}

// Level by level, carrying an unpaired last node up unchanged: this builds exactly the RFC tree,
// whose left subtrees are always perfect.
Hash MerkleRoot(std::span<const Hash> leaf_hashes) {
  if (leaf_hashes.empty()) return EmptyRoot();
  std::vector<Hash> level(leaf_hashes.begin(), leaf_hashes.end());
  size_t count = level.size();
  while (count > 1) {
    size_t next = 0;
    for (size_t i = 0; i + 1 < count; i += 2) level[next++] = NodeHash(level[i], level[i + 1]);
    if (count % 2 == 1) level[next++] = level[count - 1];
    count = next;
  }
  return level[0];
}

// PATH(m, D[n]) unrolled from the root down: each step keeps the half holding leaf m and emits
// the other half, so the emitted ranges are disjoint and the path is their reverse.
std::vector<LeafRange> InclusionProofRanges(uint64_t index, uint64_t tree_size) {
  GS_ASSERT(index < tree_size);
  std::vector<LeafRange> ranges;
  uint64_t begin = 0, size = tree_size, m = index;
  while (size > 1) {
    const uint64_t k = SplitPoint(size);
    if (m < k) {
      ranges.push_back({begin + k, size - k});
      size = k;
    } else {
      ranges.push_back({begin, k});
      begin += k;
      m -= k;
      size -= k;
    }
  }
  GS_ASSERT(ranges.size() <= 64);
  std::reverse(ranges.begin(), ranges.end());
  return ranges;
}

// SUBPROOF(m, D[n], true) unrolled the same way. The recursion ends at a subtree of exactly m
// leaves; its hash is emitted first unless it is the whole old tree (b still true), whose root
// the verifier already has.
std::vector<LeafRange> ConsistencyProofRanges(uint64_t old_size, uint64_t new_size) {
  GS_ASSERT(old_size <= new_size);
  if (old_size == 0 || old_size == new_size) return {};
  std::vector<LeafRange> siblings;
  uint64_t begin = 0, size = new_size, m = old_size;
  bool whole_old_tree = true;
  while (m != size) {
    const uint64_t k = SplitPoint(size);
    if (m <= k) {
      siblings.push_back({begin + k, size - k});
      size = k;
    } else {
      siblings.push_back({begin, k});
      begin += k;
      m -= k;
      size -= k;
      whole_old_tree = false;
    }
  }
  GS_ASSERT(siblings.size() <= 64);
  std::vector<LeafRange> ranges;
  ranges.reserve(siblings.size() + 1);
  if (!whole_old_tree) ranges.push_back({begin, size});
  ranges.insert(ranges.end(), siblings.rbegin(), siblings.rend());
  return ranges;
}

std::vector<Hash> InclusionProof(std::span<const Hash> leaf_hashes, uint64_t index) {
  return HashRanges(leaf_hashes, InclusionProofRanges(index, leaf_hashes.size()));
}

std::vector<Hash> ConsistencyProof(std::span<const Hash> leaf_hashes, uint64_t old_size) {
  return HashRanges(leaf_hashes, ConsistencyProofRanges(old_size, leaf_hashes.size()));
}

// RFC 9162 2.1.3.2. Every step shifts sn right at least once, and a step with sn == 0 fails, so
// at most 64 proof elements are ever hashed whatever the proof's length.
bool VerifyInclusion(const Hash& leaf_hash, uint64_t index, uint64_t tree_size,
                     std::span<const Hash> proof, const Hash& root) {
  if (index >= tree_size) return false;
  uint64_t fn = index, sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

// RFC 9162 2.1.4.2, with the prepended old root kept out of the proof instead of copied in.
// Bounded like VerifyInclusion.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                       const Hash& new_root, std::span<const Hash> proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) {
    return proof.empty() && old_root == new_root && (old_size > 0 || old_root == EmptyRoot());
  }
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty()) return false;

  const bool old_is_perfect = std::has_single_bit(old_size);
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = old_is_perfect ? old_root : proof[0];
  Hash sr = fr;
  for (size_t i = old_is_perfect ? 0 : 1; i < proof.size(); ++i) {
    const Hash& c = proof[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && fr == old_root && sr == new_root;
}

}  // namespace gongshe::ledger
