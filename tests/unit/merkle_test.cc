#include "ledger/merkle.h"

#include <gtest/gtest.h>

#include <bit>
#include <limits>
#include <string>
#include <vector>

namespace gongshe::ledger {
namespace {

// Leaf data "leaf0", "leaf1", ...: the hex vectors below were computed for these leaves with an
// independent implementation of RFC 9162's recursive definitions (python3 hashlib).
std::vector<Hash> TestLeafHashes(uint64_t n) {
  std::vector<Hash> out;
  for (uint64_t i = 0; i < n; ++i) out.push_back(LeafHash(AsBytes("leaf" + std::to_string(i))));
  return out;
}

std::vector<std::string> Hex(const std::vector<Hash>& hashes) {
  std::vector<std::string> out;
  for (const Hash& h : hashes) out.push_back(ToHex(h));
  return out;
}

TEST(MerkleHashes, DomainSeparation) {
  EXPECT_EQ(ToHex(EmptyRoot()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(LeafHash({})), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  const uint8_t leaf_input[] = {0x00, 'a', 'b'};
  EXPECT_EQ(LeafHash(AsBytes("ab")), Sha256(leaf_input));
  Hash l = Sha256(AsBytes("l")), r = Sha256(AsBytes("r"));
  Bytes node_input = {0x01};
  node_input.insert(node_input.end(), l.begin(), l.end());
  node_input.insert(node_input.end(), r.begin(), r.end());
  EXPECT_EQ(NodeHash(l, r), Sha256(node_input));
  EXPECT_NE(NodeHash(l, r), NodeHash(r, l));
}

/* The 7-leaf tree of RFC 9162 2.1.5, with its nodes named as there:
            root
           /    \
          k      l
         / \    / \
        g   h  i   j
       / \ / \ / \ |
       a b c d e f d6
*/
struct RfcExampleTree {
  std::vector<Hash> leaves = TestLeafHashes(7);
  Hash a = leaves[0], b = leaves[1], c = leaves[2], d = leaves[3], e = leaves[4], f = leaves[5];
  Hash j = leaves[6];
  Hash g = NodeHash(a, b), h = NodeHash(c, d), i = NodeHash(e, f);
  Hash k = NodeHash(g, h), l = NodeHash(i, j);
  Hash root = NodeHash(k, l);
};

TEST(MerkleRoot, HandComposedSmallTrees) {
  std::vector<Hash> x = TestLeafHashes(8);
  auto root = [&](size_t n) { return MerkleRoot(std::span<const Hash>(x).first(n)); };
  EXPECT_EQ(root(0), Sha256(ByteView{}));
  EXPECT_EQ(root(1), x[0]);
  EXPECT_EQ(root(2), NodeHash(x[0], x[1]));
  EXPECT_EQ(root(3), NodeHash(NodeHash(x[0], x[1]), x[2]));
  const Hash left4 = NodeHash(NodeHash(x[0], x[1]), NodeHash(x[2], x[3]));
  EXPECT_EQ(root(4), left4);
  EXPECT_EQ(root(5), NodeHash(left4, x[4]));
  EXPECT_EQ(root(7), NodeHash(left4, NodeHash(NodeHash(x[4], x[5]), x[6])));
  EXPECT_EQ(root(8), NodeHash(left4, NodeHash(NodeHash(x[4], x[5]), NodeHash(x[6], x[7]))));
  EXPECT_EQ(root(7), RfcExampleTree().root);
}

TEST(MerkleRoot, IndependentHexVectors) {
  std::vector<Hash> x = TestLeafHashes(8);
  auto root = [&](size_t n) { return ToHex(MerkleRoot(std::span<const Hash>(x).first(n))); };
  EXPECT_EQ(root(1), "e6c410a9745b0151d82d1a9f007b81f378a1588c3fb63dc634a2ab001379c3d2");
  EXPECT_EQ(root(2), "82bbd1c5de08394573f035ab3871ffaa6d8aba80baf47c7b28fb2b167f18464e");
  EXPECT_EQ(root(3), "f1aed069e1b79c5f12193e715059c468eff1559a5c989c6d7c46bc29f4f84f6c");
  EXPECT_EQ(root(5), "2f4e0d79b7e066069be4d391a858023d0acd245505ab6913a8fd69726b65741d");
  EXPECT_EQ(root(7), "4b6939132387c5bf27ebaf5ac122810ce866eb0c7bf44082364b35c06f713aa6");
  EXPECT_EQ(root(8), "d12334b61aa2f244f11754c40896641551d64cd5c79fa0f9760d2ec3079d1834");
}

// The 8-leaf vector of Certificate Transparency's published Merkle test data.
TEST(MerkleRoot, CertificateTransparencyVector) {
  const char* inputs[] = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"};
  std::vector<Hash> leaves;
  for (const char* input : inputs) leaves.push_back(LeafHash(*FromHex(input)));
  EXPECT_EQ(ToHex(MerkleRoot(leaves)),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  EXPECT_EQ(ToHex(MerkleRoot(std::span<const Hash>(leaves).first(7))),
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c");
}

TEST(InclusionProof, RfcExample) {
  RfcExampleTree t;
  EXPECT_EQ(InclusionProof(t.leaves, 1), (std::vector<Hash>{t.a, t.h, t.l}));  // leaf b
  EXPECT_EQ(InclusionProof(t.leaves, 3), (std::vector<Hash>{t.c, t.g, t.l}));  // leaf d
  EXPECT_EQ(InclusionProof(t.leaves, 6), (std::vector<Hash>{t.i, t.k}));       // leaf d6
  EXPECT_TRUE(VerifyInclusion(t.b, 1, 7, InclusionProof(t.leaves, 1), t.root));
  EXPECT_TRUE(VerifyInclusion(t.d, 3, 7, InclusionProof(t.leaves, 3), t.root));
  EXPECT_TRUE(VerifyInclusion(t.j, 6, 7, InclusionProof(t.leaves, 6), t.root));
  EXPECT_TRUE(InclusionProof(std::span<const Hash>(t.leaves).first(1), 0).empty());
}

TEST(InclusionProof, IndependentHexVectors) {
  std::vector<Hash> x = TestLeafHashes(7);
  EXPECT_EQ(Hex(InclusionProof(x, 3)),
            (std::vector<std::string>{
                "30415163f9aea87a7f53b3679c4d75318ee1367567efb6b2183c0e875ab02b4e",
                "82bbd1c5de08394573f035ab3871ffaa6d8aba80baf47c7b28fb2b167f18464e",
                "00937c8c69f4605e57c72c0dc0581d768770f59c4d08919c485ca53274551272"}));
  EXPECT_EQ(Hex(InclusionProof(x, 6)),
            (std::vector<std::string>{
                "04dce8407036aee2c73aa6527387ae71a36257934b17a77b006b95a42a5be0e1",
                "86f9ec25a8a2b32a4bd733e04c213de63c8b0655bcb887b75cfd8b02691be0e5"}));
}

TEST(ConsistencyProof, RfcExample) {
  RfcExampleTree t;
  const Hash root3 = NodeHash(t.g, t.c);
  const Hash root4 = t.k;
  const Hash root6 = NodeHash(t.k, t.i);
  EXPECT_EQ(ConsistencyProof(t.leaves, 3), (std::vector<Hash>{t.c, t.d, t.g, t.l}));
  EXPECT_EQ(ConsistencyProof(t.leaves, 4), (std::vector<Hash>{t.l}));
  EXPECT_EQ(ConsistencyProof(t.leaves, 6), (std::vector<Hash>{t.i, t.j, t.k}));
  EXPECT_TRUE(VerifyConsistency(3, 7, root3, t.root, ConsistencyProof(t.leaves, 3)));
  EXPECT_TRUE(VerifyConsistency(4, 7, root4, t.root, ConsistencyProof(t.leaves, 4)));
  EXPECT_TRUE(VerifyConsistency(6, 7, root6, t.root, ConsistencyProof(t.leaves, 6)));
  EXPECT_TRUE(ConsistencyProof(t.leaves, 0).empty());
  EXPECT_TRUE(ConsistencyProof(t.leaves, 7).empty());
}

TEST(ConsistencyProof, IndependentHexVectors) {
  std::vector<Hash> x = TestLeafHashes(8);
  EXPECT_EQ(Hex(ConsistencyProof(std::span<const Hash>(x).first(7), 3)),
            (std::vector<std::string>{
                "30415163f9aea87a7f53b3679c4d75318ee1367567efb6b2183c0e875ab02b4e",
                "f1fbbbe36a7c26642bf89e87d44e785402b9e723cd9b190566ff6a5f8a1de294",
                "82bbd1c5de08394573f035ab3871ffaa6d8aba80baf47c7b28fb2b167f18464e",
                "00937c8c69f4605e57c72c0dc0581d768770f59c4d08919c485ca53274551272"}));
  EXPECT_EQ(Hex(ConsistencyProof(x, 4)),
            (std::vector<std::string>{
                "1237e2e6fc1b599b8808d61755765c4672a74f54a31a946c36fc329811392be5"}));
  EXPECT_EQ(Hex(ConsistencyProof(x, 5)),
            (std::vector<std::string>{
                "929a82444d49121b8f9f31e6a720898d3bc0e591699ac8133f3bc28b27ead191",
                "0a3cbf95255b47870e5062c32214e1df457cf640991aa94ac276a4121b977508",
                "515351d56b565b5ec878c6b8959f42cf7f587e3bbb414e8aecf158ea7822e9ad",
                "86f9ec25a8a2b32a4bd733e04c213de63c8b0655bcb887b75cfd8b02691be0e5"}));
}

TEST(VerifyInclusion, RejectsMalformedParameters) {
  std::vector<Hash> x = TestLeafHashes(5);
  const Hash root = MerkleRoot(x);
  std::vector<Hash> proof = InclusionProof(x, 4);
  ASSERT_TRUE(VerifyInclusion(x[4], 4, 5, proof, root));
  EXPECT_FALSE(VerifyInclusion(x[4], 5, 5, proof, root));
  EXPECT_FALSE(VerifyInclusion(x[4], 4, 0, proof, root));
  EXPECT_FALSE(VerifyInclusion(x[4], 0, 0, {}, EmptyRoot()));
  EXPECT_FALSE(VerifyInclusion(x[4], std::numeric_limits<uint64_t>::max(),
                               std::numeric_limits<uint64_t>::max(), proof, root));
  // A single leaf is its own root with an empty proof, and nothing else.
  EXPECT_TRUE(VerifyInclusion(x[0], 0, 1, {}, x[0]));
  EXPECT_FALSE(VerifyInclusion(x[0], 0, 1, {}, x[1]));
  EXPECT_FALSE(VerifyInclusion(x[0], 0, 1, std::vector<Hash>{x[0]}, x[0]));
  // A huge proof is rejected after at most 64 steps rather than hashed through.
  std::vector<Hash> huge(1'000'000, x[1]);
  EXPECT_FALSE(VerifyInclusion(x[0], 0, std::numeric_limits<uint64_t>::max(), huge, root));
}

TEST(VerifyConsistency, RejectsMalformedParameters) {
  std::vector<Hash> x = TestLeafHashes(7);
  const Hash root7 = MerkleRoot(x);
  const Hash root3 = MerkleRoot(std::span<const Hash>(x).first(3));
  std::vector<Hash> proof = ConsistencyProof(x, 3);
  ASSERT_TRUE(VerifyConsistency(3, 7, root3, root7, proof));
  EXPECT_FALSE(VerifyConsistency(7, 3, root7, root3, proof));
  EXPECT_FALSE(VerifyConsistency(3, 7, root3, root7, {}));
  EXPECT_FALSE(VerifyConsistency(0, 7, EmptyRoot(), root7, proof));
  EXPECT_FALSE(VerifyConsistency(0, 7, root3, root7, {}));
  EXPECT_TRUE(VerifyConsistency(0, 7, EmptyRoot(), root7, {}));
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyRoot(), EmptyRoot(), {}));
  EXPECT_FALSE(VerifyConsistency(0, 0, root3, root3, {}));
  EXPECT_FALSE(VerifyConsistency(0, 0, EmptyRoot(), root3, {}));
  EXPECT_TRUE(VerifyConsistency(7, 7, root7, root7, {}));
  EXPECT_FALSE(VerifyConsistency(7, 7, root7, root3, {}));
  EXPECT_FALSE(VerifyConsistency(7, 7, root7, root7, std::vector<Hash>{root7}));
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  std::vector<Hash> huge(1'000'000, x[1]);
  EXPECT_FALSE(VerifyConsistency(max - 1, max, root3, root7, huge));
  EXPECT_FALSE(VerifyConsistency(1, max, x[0], root7, huge));
  EXPECT_FALSE(VerifyConsistency(uint64_t{1} << 62, max, x[0], root7, huge));
}

// --- Exhaustive checks against oracles written straight from the RFC's recursive text. ---

// For each element of PATH(m, D[n]), whether the verifier must hash it on the left.
void PathSides(uint64_t m, uint64_t n, std::vector<bool>& sides) {
  if (n <= 1) return;
  const uint64_t k = std::bit_floor(n - 1);
  if (m < k) {
    PathSides(m, k, sides);
    sides.push_back(false);
  } else {
    PathSides(m - k, n - k, sides);
    sides.push_back(true);
  }
}

// The old and new roots that SUBPROOF(m, D[n], b) lets a verifier compute, as expressions over
// the proof's elements p0, p1, ... and the old root R that the verifier already holds.
void SubproofShape(uint64_t m, uint64_t n, bool b, int& next, std::string& old_expr,
                   std::string& new_expr) {
  if (m == n) {
    old_expr = new_expr = b ? "R" : "p" + std::to_string(next++);
    return;
  }
  const uint64_t k = std::bit_floor(n - 1);
  if (m <= k) {
    SubproofShape(m, k, b, next, old_expr, new_expr);
    new_expr = "(" + new_expr + ",p" + std::to_string(next++) + ")";
  } else {
    SubproofShape(m - k, n - k, false, next, old_expr, new_expr);
    const std::string p = "p" + std::to_string(next++);
    old_expr = "(" + p + "," + old_expr + ")";
    new_expr = "(" + p + "," + new_expr + ")";
  }
}

std::string ConsistencyShape(uint64_t m, uint64_t n) {
  int next = 0;
  std::string old_expr, new_expr;
  SubproofShape(m, n, true, next, old_expr, new_expr);
  return old_expr + " " + new_expr + " " + std::to_string(next);
}

// Whether the verifier must accept the proof of (m, n) when told the sizes are (m2, n2): only
// when it checks the very same computation (RFC verification binds a proof to the shape of the
// path, which some other sizes share; e.g. the proof for leaf 0 in a tree of 6 also describes
// leaf 0 of a tree of 7).
bool SameInclusionShape(uint64_t i, uint64_t n, uint64_t i2, uint64_t n2) {
  if (i2 >= n2) return false;
  std::vector<bool> a, b;
  PathSides(i, n, a);
  PathSides(i2, n2, b);
  return a == b && i == i2;
}

bool SameConsistencyShape(uint64_t m, uint64_t n, uint64_t m2, uint64_t n2) {
  if (m2 > n2) return false;
  const bool empty_proof = m == 0 || m == n;
  if (m2 == n2) return m == n;  // needs an empty proof and equal roots
  if (m2 == 0) return m == 0;   // needs an empty proof and the empty old root
  if (empty_proof) return false;
  return ConsistencyShape(m2, n2) == ConsistencyShape(m, n);
}

// RFC verification binds a proof to the shape of its path, not to the sizes themselves: these
// documented coincidences are why the exhaustive tests below expect acceptance exactly when the
// oracle finds the same shape, rather than for every changed size.
TEST(MerkleOracles, SomeSizesShareAProofShape) {
  std::vector<Hash> x = TestLeafHashes(7);
  std::span<const Hash> six = std::span<const Hash>(x).first(6);
  EXPECT_TRUE(SameInclusionShape(0, 6, 0, 7));
  EXPECT_TRUE(VerifyInclusion(x[0], 0, 7, InclusionProof(six, 0), MerkleRoot(six)));
  EXPECT_FALSE(SameInclusionShape(5, 6, 5, 7));
  EXPECT_FALSE(VerifyInclusion(x[5], 5, 7, InclusionProof(six, 5), MerkleRoot(six)));
  const Hash root4 = MerkleRoot(std::span<const Hash>(x).first(4));
  EXPECT_TRUE(SameConsistencyShape(4, 6, 4, 7));
  EXPECT_TRUE(VerifyConsistency(4, 7, root4, MerkleRoot(six), ConsistencyProof(six, 4)));
  const Hash root5 = MerkleRoot(std::span<const Hash>(x).first(5));
  EXPECT_FALSE(SameConsistencyShape(5, 6, 5, 7));
  EXPECT_FALSE(VerifyConsistency(5, 7, root5, MerkleRoot(six), ConsistencyProof(six, 5)));
}

Hash FlipBit(Hash h, int bit) {
  h[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

// Every bit of every hash is flipped in trees of up to 16 leaves, which hold every kind of step
// the verifiers take; in larger trees one bit per byte (a different bit in each byte, 9 apart),
// which keeps the suite fast. Index and size flips cover all 64 bits at every size.
int FlipStride(uint64_t n) { return n <= 16 ? 1 : 9; }

class MerkleExhaustive : public ::testing::TestWithParam<uint64_t> {};

TEST_P(MerkleExhaustive, InclusionProofsVerifyAndEveryBitFlipFails) {
  const uint64_t n = GetParam();
  const std::vector<Hash> leaves = TestLeafHashes(n);
  const Hash root = MerkleRoot(leaves);
  for (uint64_t i = 0; i < n; ++i) {
    std::vector<Hash> proof = InclusionProof(leaves, i);
    std::vector<bool> sides;
    PathSides(i, n, sides);
    ASSERT_EQ(proof.size(), sides.size());
    ASSERT_TRUE(VerifyInclusion(leaves[i], i, n, proof, root)) << i << "/" << n;
    for (int bit = 0; bit < 256; bit += FlipStride(n)) {
      ASSERT_FALSE(VerifyInclusion(FlipBit(leaves[i], bit), i, n, proof, root));
      ASSERT_FALSE(VerifyInclusion(leaves[i], i, n, proof, FlipBit(root, bit)));
      for (size_t p = 0; p < proof.size(); ++p) {
        std::vector<Hash> bad = proof;
        bad[p] = FlipBit(bad[p], bit);
        ASSERT_FALSE(VerifyInclusion(leaves[i], i, n, bad, root)) << i << "/" << n << " " << p;
      }
    }
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t i2 = i ^ (uint64_t{1} << bit), n2 = n ^ (uint64_t{1} << bit);
      ASSERT_FALSE(VerifyInclusion(leaves[i], i2, n, proof, root)) << i << "/" << n;
      ASSERT_EQ(VerifyInclusion(leaves[i], i, n2, proof, root), SameInclusionShape(i, n, i, n2))
          << i << "/" << n2;
    }
    std::vector<Hash> longer = proof;
    longer.push_back(root);
    ASSERT_FALSE(VerifyInclusion(leaves[i], i, n, longer, root));
    longer.insert(longer.begin(), leaves[i]);
    longer.pop_back();
    ASSERT_FALSE(VerifyInclusion(leaves[i], i, n, longer, root));
    if (!proof.empty()) {
      ASSERT_FALSE(VerifyInclusion(leaves[i], i, n, std::span(proof).first(proof.size() - 1), root));
      ASSERT_FALSE(VerifyInclusion(leaves[i], i, n, std::span(proof).subspan(1), root));
    }
  }
}

TEST_P(MerkleExhaustive, ConsistencyProofsVerifyAndEveryBitFlipFails) {
  const uint64_t n = GetParam();
  const std::vector<Hash> leaves = TestLeafHashes(n);
  const Hash new_root = MerkleRoot(leaves);
  for (uint64_t m = 0; m <= n; ++m) {
    const Hash old_root = MerkleRoot(std::span(leaves).first(m));
    std::vector<Hash> proof = ConsistencyProof(leaves, m);
    ASSERT_EQ(proof.empty(), m == 0 || m == n);
    ASSERT_TRUE(VerifyConsistency(m, n, old_root, new_root, proof)) << m << "/" << n;
    for (int bit = 0; bit < 256; bit += FlipStride(n)) {
      ASSERT_FALSE(VerifyConsistency(m, n, FlipBit(old_root, bit), new_root, proof));
      // With old_size 0 the new root is not constrained: every tree extends the empty one.
      ASSERT_EQ(VerifyConsistency(m, n, old_root, FlipBit(new_root, bit), proof), m == 0);
      for (size_t p = 0; p < proof.size(); ++p) {
        std::vector<Hash> bad = proof;
        bad[p] = FlipBit(bad[p], bit);
        ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, bad)) << m << "/" << n << " " << p;
      }
    }
    for (int bit = 0; bit < 64; ++bit) {
      const uint64_t m2 = m ^ (uint64_t{1} << bit), n2 = n ^ (uint64_t{1} << bit);
      ASSERT_EQ(VerifyConsistency(m2, n, old_root, new_root, proof), SameConsistencyShape(m, n, m2, n))
          << m2 << "/" << n;
      ASSERT_EQ(VerifyConsistency(m, n2, old_root, new_root, proof), SameConsistencyShape(m, n, m, n2))
          << m << "/" << n2;
    }
    std::vector<Hash> longer = proof;
    longer.push_back(new_root);
    ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, longer));
    longer.insert(longer.begin(), old_root);
    longer.pop_back();
    ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, longer));
    if (!proof.empty()) {
      ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, std::span(proof).first(proof.size() - 1)));
      ASSERT_FALSE(VerifyConsistency(m, n, old_root, new_root, std::span(proof).subspan(1)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes1To70, MerkleExhaustive, ::testing::Range<uint64_t>(1, 71));

}  // namespace
}  // namespace gongshe::ledger
