#include "ledger/history_tree.h"

#include <gtest/gtest.h>

#include <bit>
#include <limits>
#include <string>
#include <vector>

#include "ledger/merkle.h"

namespace gongshe::ledger {
namespace {

Hash BlockHash(uint64_t height) { return Sha256(AsBytes("block" + std::to_string(height))); }

// Checks the root and inclusion and consistency proofs of the tree of size `s` against merkle.h
// over the same leaves: every proof while s <= 64 and around powers of two, a spread of them
// otherwise (each in-memory proof costs O(s), so checking all at every size to 320 is slow).
void ExpectSizeMatchesInMemory(const HistoryTree& tree, std::span<const Hash> leaf_hashes, uint64_t s) {
  std::span<const Hash> prefix = leaf_hashes.first(s);
  Result<Hash> root = tree.Root(s);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  ASSERT_EQ(*root, MerkleRoot(prefix)) << s;
  const bool all = s <= 64 || std::has_single_bit(s - 1) || std::has_single_bit(s) ||
                   std::has_single_bit(s + 1);
  const uint64_t stride = all ? 1 : 23;
  std::vector<uint64_t> points;  // 0, stride, 2 * stride, ... and the last three of 0..s
  for (uint64_t p = 0; p + 3 <= s; p += stride) points.push_back(p);
  for (uint64_t p = s >= 2 ? s - 2 : 0; p <= s; ++p) points.push_back(p);
  for (uint64_t i : points) {
    if (i == s) continue;
    Result<std::vector<Hash>> proof = tree.InclusionProof(i, s);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_EQ(*proof, InclusionProof(prefix, i)) << i << "/" << s;
  }
  for (uint64_t m : points) {
    Result<std::vector<Hash>> proof = tree.ConsistencyProof(m, s);
    ASSERT_TRUE(proof.ok()) << proof.status().ToString();
    ASSERT_EQ(*proof, ConsistencyProof(prefix, m)) << m << "/" << s;
  }
}

void ExpectAllRootsMatch(const HistoryTree& tree, std::span<const Hash> leaf_hashes) {
  ASSERT_EQ(*tree.Size(), leaf_hashes.size());
  for (uint64_t s = 0; s <= leaf_hashes.size(); ++s) {
    ASSERT_EQ(*tree.Root(s), MerkleRoot(leaf_hashes.first(s))) << s;
  }
}

// Counts the reads a HistoryTree makes, to hold it to its cost bounds.
class CountingReader final : public KvReader {
 public:
  explicit CountingReader(const KvReader& base) : base_(base) {}
  std::optional<std::string> Get(const std::string& key) const override {
    ++reads;
    return base_.Get(key);
  }
  mutable uint64_t reads = 0;

 private:
  const KvReader& base_;
};

std::string NodeKey(uint8_t level, uint64_t index) {
  Bytes rest = {'N', level};
  AppendBigEndian64(rest, index);
  return SpaceKey(KeySpace::kHistoryNode, rest);
}

TEST(HistoryTree, EmptyStore) {
  MemKv kv;
  HistoryTree tree(kv);
  EXPECT_EQ(*tree.Size(), 0u);
  EXPECT_EQ(*tree.Root(0), EmptyRoot());
  EXPECT_TRUE(tree.ConsistencyProof(0, 0)->empty());
  EXPECT_EQ(tree.Root(1).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(0, 0).status().code(), "HISTORY_OUT_OF_RANGE");
}

TEST(HistoryTree, FirstLeafIsLeafHashOfGenesisHash) {
  MemKv kv;
  HistoryTree tree(kv);
  ASSERT_EQ(*tree.Append(BlockHash(0), kv), 1u);
  EXPECT_EQ(*tree.Root(1), LeafHash(BlockHash(0)));
  EXPECT_EQ(kv.Get(NodeKey(0, 0)), std::string(AsChars(LeafHash(BlockHash(0)))));
}

// Appends 300 leaves one at a time through an Overlay over MemKv, committed in chunks of varying
// length, and checks after every append that the tree of that size matches merkle.h; the
// committed store alone then reopens the tree, which keeps growing.
TEST(HistoryTree, MatchesInMemoryTreeAtEverySizeAndReopens) {
  MemKv kv;
  std::vector<Hash> leaves;
  uint64_t chunk = 1, pending = 0;
  Overlay overlay(kv);
  HistoryTree tree(overlay);
  for (uint64_t h = 0; h < 300; ++h) {
    Result<uint64_t> size = tree.Append(BlockHash(h), overlay);
    ASSERT_TRUE(size.ok()) << size.status().ToString();
    ASSERT_EQ(*size, h + 1);
    leaves.push_back(LeafHash(BlockHash(h)));
    ExpectSizeMatchesInMemory(tree, leaves, h + 1);
    if (++pending == chunk) {
      overlay.WriteTo(kv);
      overlay.Clear();
      ASSERT_EQ(*HistoryTree(kv).Root(h + 1), MerkleRoot(leaves));
      pending = 0;
      chunk = chunk % 13 + 1;
    }
  }
  overlay.WriteTo(kv);
  overlay.Clear();
  ExpectAllRootsMatch(HistoryTree(kv), leaves);

  MemKv reopened_kv;
  for (const auto& [key, value] : kv.entries()) reopened_kv.Put(key, value);
  HistoryTree reopened(reopened_kv);
  for (uint64_t h = 300; h < 320; ++h) {
    ASSERT_EQ(*reopened.Append(BlockHash(h), reopened_kv), h + 1);
    leaves.push_back(LeafHash(BlockHash(h)));
    ExpectSizeMatchesInMemory(reopened, leaves, h + 1);
  }
  ExpectAllRootsMatch(reopened, leaves);
  ExpectSizeMatchesInMemory(reopened, leaves, 150);
}

TEST(HistoryTree, DroppedOverlayDropsAppends) {
  MemKv kv;
  HistoryTree committed(kv);
  for (uint64_t h = 0; h < 5; ++h) ASSERT_TRUE(committed.Append(BlockHash(h), kv).ok());
  const Hash root5 = *committed.Root(5);
  {
    Overlay overlay(kv);
    HistoryTree pending(overlay);
    ASSERT_EQ(*pending.Append(BlockHash(5), overlay), 6u);
    EXPECT_EQ(*committed.Size(), 5u);
  }
  EXPECT_EQ(*committed.Root(5), root5);
  EXPECT_EQ(committed.Root(6).status().code(), "HISTORY_OUT_OF_RANGE");
}

TEST(HistoryTree, AppendWritesLogarithmicKeysAndReadsStayPolylog) {
  MemKv kv;
  HistoryTree writer(kv);
  for (uint64_t h = 0; h < 1023; ++h) ASSERT_TRUE(writer.Append(BlockHash(h), kv).ok());
  // Leaf 1023 completes subtrees at levels 1..10: 11 nodes plus the size.
  Overlay overlay(kv);
  ASSERT_TRUE(HistoryTree(overlay).Append(BlockHash(1023), overlay).ok());
  EXPECT_EQ(overlay.writes().size(), 12u);
  overlay.WriteTo(kv);

  CountingReader counting(kv);
  HistoryTree tree(counting);
  const uint64_t log_n = 10, bound = (log_n + 1) * (log_n + 1) + 1;
  for (uint64_t size : {1u, 2u, 513u, 767u, 1000u, 1023u, 1024u}) {
    counting.reads = 0;
    ASSERT_TRUE(tree.Root(size).ok());
    EXPECT_LE(counting.reads, log_n + 2) << size;
    for (uint64_t index : {uint64_t{0}, size / 2, size - 1}) {
      counting.reads = 0;
      ASSERT_TRUE(tree.InclusionProof(index, size).ok());
      EXPECT_LE(counting.reads, bound) << index << "/" << size;
    }
    for (uint64_t old_size : {uint64_t{1}, size / 3, size - 1}) {
      counting.reads = 0;
      ASSERT_TRUE(tree.ConsistencyProof(old_size, size).ok());
      EXPECT_LE(counting.reads, bound) << old_size << "/" << size;
    }
  }
}

TEST(HistoryTree, RejectsOutOfRangeArguments) {
  MemKv kv;
  HistoryTree tree(kv);
  for (uint64_t h = 0; h < 10; ++h) ASSERT_TRUE(tree.Append(BlockHash(h), kv).ok());
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(tree.Root(11).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.Root(max).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(10, 10).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(5, 5).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(0, 11).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.InclusionProof(max, max).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.ConsistencyProof(6, 5).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.ConsistencyProof(5, 11).status().code(), "HISTORY_OUT_OF_RANGE");
  EXPECT_EQ(tree.ConsistencyProof(max, max).status().code(), "HISTORY_OUT_OF_RANGE");
  Status status = tree.InclusionProof(10, 10).status();
  EXPECT_NE(status.message().find("leaf 10"), std::string::npos) << status.ToString();
  EXPECT_TRUE(tree.InclusionProof(9, 10).ok());
  EXPECT_TRUE(tree.ConsistencyProof(10, 10)->empty());
}

TEST(HistoryTree, ReportsCorruptStore) {
  MemKv kv;
  HistoryTree tree(kv);
  for (uint64_t h = 0; h < 6; ++h) ASSERT_TRUE(tree.Append(BlockHash(h), kv).ok());
  const std::string size_key = SpaceKey(KeySpace::kHistoryNode, AsBytes("S"));
  ASSERT_TRUE(kv.Get(size_key).has_value());

  MemKv short_size = kv;
  short_size.Put(size_key, "1234567");
  EXPECT_EQ(HistoryTree(short_size).Size().status().code(), "HISTORY_CORRUPT");
  EXPECT_EQ(HistoryTree(short_size).Root(0).status().code(), "HISTORY_CORRUPT");
  EXPECT_EQ(HistoryTree(short_size).Append(BlockHash(6), short_size).status().code(),
            "HISTORY_CORRUPT");

  MemKv missing = kv;
  missing.Delete(NodeKey(2, 0));  // the subtree over leaves 0..3
  EXPECT_EQ(HistoryTree(missing).Root(6).status().code(), "HISTORY_CORRUPT");
  EXPECT_EQ(HistoryTree(missing).InclusionProof(5, 6).status().code(), "HISTORY_CORRUPT");
  EXPECT_EQ(HistoryTree(missing).ConsistencyProof(5, 6).status().code(), "HISTORY_CORRUPT");
  EXPECT_TRUE(HistoryTree(missing).Root(3).ok());

  MemKv truncated = kv;
  truncated.Put(NodeKey(1, 2), std::string(31, 'x'));  // the subtree over leaves 4..5
  Result<Hash> root = HistoryTree(truncated).Root(6);
  EXPECT_EQ(root.status().code(), "HISTORY_CORRUPT");
  EXPECT_NE(root.status().message().find("level 1, index 2"), std::string::npos)
      << root.status().ToString();

  MemKv missing_sibling = kv;
  missing_sibling.Delete(NodeKey(1, 2));
  // Leaf 7 needs the stored subtree over leaves 4..5; leaf 6 needs none.
  HistoryTree damaged(missing_sibling);
  ASSERT_TRUE(damaged.Append(BlockHash(6), missing_sibling).ok());
  EXPECT_EQ(damaged.Append(BlockHash(7), missing_sibling).status().code(), "HISTORY_CORRUPT");
}

TEST(HistoryTree, FullTreeRefusesAppend) {
  MemKv kv;
  Bytes size;
  AppendBigEndian64(size, std::numeric_limits<uint64_t>::max());
  kv.Put(SpaceKey(KeySpace::kHistoryNode, AsBytes("S")), std::string(AsChars(size)));
  EXPECT_EQ(HistoryTree(kv).Append(BlockHash(0), kv).status().code(), "HISTORY_FULL");
}

}  // namespace
}  // namespace gongshe::ledger
