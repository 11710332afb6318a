#include "ledger/state_tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace gongshe::ledger {
namespace {

using Model = std::map<Hash, Hash>;

bool BitOf(const Hash& h, size_t i) { return (h[i / 8] >> (7 - i % 8)) & 1; }

Hash FlipBit(Hash h, size_t i) {
  h[i / 8] ^= static_cast<uint8_t>(0x80u >> (i % 8));
  return h;
}

Hash RandomHash(std::mt19937_64& rng) {
  Hash h;
  for (auto& b : h) b = static_cast<uint8_t>(rng());
  return h;
}

// The root by the rules of the header, written independently of the implementation.
Hash ReferenceRoot(std::span<const std::pair<const Hash, Hash>*> leaves, size_t depth) {
  if (leaves.empty()) return Hash{};
  const uint8_t leaf_tag = 0, node_tag = 1;
  if (leaves.size() == 1) {
    return Sha256({ByteView(&leaf_tag, 1), leaves[0]->first, leaves[0]->second});
  }
  size_t split = 0;
  while (split < leaves.size() && !BitOf(leaves[split]->first, depth)) ++split;
  const Hash left = ReferenceRoot(leaves.first(split), depth + 1);
  const Hash right = ReferenceRoot(leaves.subspan(split), depth + 1);
  return Sha256({ByteView(&node_tag, 1), left, right});
}

Hash ReferenceRoot(const Model& model) {
  std::vector<const std::pair<const Hash, Hash>*> leaves;
  for (const auto& entry : model) leaves.push_back(&entry);
  return ReferenceRoot(leaves, 0);
}

// Records every key read, to check that an update reads each page once.
class CountingReader final : public KvReader {
 public:
  explicit CountingReader(const KvReader& base) : base_(base) {}
  std::optional<std::string> Get(const std::string& key) const override {
    reads.push_back(key);
    return base_.Get(key);
  }
  mutable std::vector<std::string> reads;

 private:
  const KvReader& base_;
};

// Applies `updates` the way a block does (through an overlay) and mirrors them in `model`.
Hash Apply(MemKv& kv, Model& model, const std::vector<StateUpdate>& updates) {
  CountingReader reader(kv);
  Overlay overlay(kv);
  const Hash root = UpdateState(reader, updates, overlay);
  std::set<std::string> distinct(reader.reads.begin(), reader.reads.end());
  EXPECT_EQ(distinct.size(), reader.reads.size()) << "a page was read twice in one update";
  overlay.WriteTo(kv);
  for (const StateUpdate& u : updates) {
    if (u.value_hash) model[u.key_hash] = *u.value_hash;
    else model.erase(u.key_hash);
  }
  return root;
}

// A tree built in one batch from `model`: the canonical storage for that key set.
MemKv Rebuild(const Model& model) {
  std::vector<StateUpdate> updates;
  for (const auto& [key, value] : model) updates.push_back({key, value});
  MemKv kv;
  UpdateState(kv, updates, kv);
  return kv;
}

void ExpectProvesPresence(const MemKv& kv, const Hash& key, const Hash& value) {
  const StateProof proof = ProveState(kv, key);
  auto verified = VerifyStateProof(StateRoot(kv), key, proof);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  ASSERT_TRUE(verified->has_value());
  EXPECT_EQ(**verified, value);
}

void ExpectProvesAbsence(const MemKv& kv, const Hash& key) {
  const StateProof proof = ProveState(kv, key);
  auto verified = VerifyStateProof(StateRoot(kv), key, proof);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_FALSE(verified->has_value());
}

TEST(StateTree, EmptyTree) {
  MemKv kv;
  EXPECT_EQ(StateRoot(kv), kEmptyStateRoot);
  std::mt19937_64 rng(1);
  const Hash key = RandomHash(rng);
  const StateProof proof = ProveState(kv, key);
  EXPECT_TRUE(proof.siblings.empty());
  EXPECT_FALSE(proof.leaf.has_value());
  ExpectProvesAbsence(kv, key);
  // Deleting absent keys from the empty tree changes and writes nothing.
  Overlay overlay(kv);
  std::vector<StateUpdate> deletes = {{key, std::nullopt}, {RandomHash(rng), std::nullopt}};
  EXPECT_EQ(UpdateState(kv, deletes, overlay), kEmptyStateRoot);
  EXPECT_TRUE(overlay.writes().empty());
}

TEST(StateTree, SingleKey) {
  MemKv kv;
  Model model;
  std::mt19937_64 rng(2);
  const Hash key = RandomHash(rng), value = RandomHash(rng);
  const Hash root = Apply(kv, model, {{key, value}});
  EXPECT_EQ(root, StateLeafHash({key, value}));
  EXPECT_EQ(root, ReferenceRoot(model));
  EXPECT_EQ(StateRoot(kv), root);
  EXPECT_EQ(kv.entries().size(), 1u);

  const StateProof proof = ProveState(kv, key);
  EXPECT_TRUE(proof.siblings.empty());
  ASSERT_TRUE(proof.leaf.has_value());
  ExpectProvesPresence(kv, key, value);
  // Any other key is absent, proved by the one leaf.
  const Hash other = RandomHash(rng);
  EXPECT_EQ(ProveState(kv, other).leaf, (StateLeaf{key, value}));
  ExpectProvesAbsence(kv, other);

  EXPECT_EQ(Apply(kv, model, {{key, std::nullopt}}), kEmptyStateRoot);
  EXPECT_EQ(StateRoot(kv), kEmptyStateRoot);
  EXPECT_TRUE(kv.entries().empty());
}

TEST(StateTree, KeysDifferingOnlyInTheLastBit) {
  MemKv kv;
  Model model;
  std::mt19937_64 rng(3);
  const Hash a = RandomHash(rng), b = FlipBit(a, 255), c = FlipBit(a, 100);
  const Hash va = RandomHash(rng), vb = RandomHash(rng);
  const Hash root = Apply(kv, model, {{b, vb}, {a, va}});
  EXPECT_EQ(root, ReferenceRoot(model));
  EXPECT_EQ(StateRoot(kv), root);

  // The path of a and b is 256 deep: every page from depth 0 to 252 exists.
  EXPECT_EQ(kv.entries().size(), 64u);
  const StateProof proof = ProveState(kv, a);
  EXPECT_EQ(proof.siblings.size(), 256u);
  ExpectProvesPresence(kv, a, va);
  ExpectProvesPresence(kv, b, vb);
  // c leaves the path at bit 100 into an empty subtree.
  const StateProof absent = ProveState(kv, c);
  EXPECT_EQ(absent.siblings.size(), 101u);
  EXPECT_FALSE(absent.leaf.has_value());
  ExpectProvesAbsence(kv, c);

  // Adding c, then removing a: b moves up to the depth-101 split, its deep pages disappear.
  Apply(kv, model, {{c, va}});
  EXPECT_EQ(StateRoot(kv), ReferenceRoot(model));
  Apply(kv, model, {{a, std::nullopt}});
  EXPECT_EQ(StateRoot(kv), ReferenceRoot(model));
  EXPECT_EQ(kv.entries(), Rebuild(model).entries());
  EXPECT_EQ(ProveState(kv, b).siblings.size(), 101u);
  ExpectProvesAbsence(kv, a);
  EXPECT_EQ(ProveState(kv, a).leaf, (StateLeaf{b, vb}));

  // Removing c leaves b alone: it becomes the root.
  EXPECT_EQ(Apply(kv, model, {{c, std::nullopt}}), StateLeafHash({b, vb}));
  EXPECT_EQ(kv.entries().size(), 1u);
}

TEST(StateTree, PagesLiveUnderTheStateNodeSpace) {
  MemKv kv;
  Model model;
  std::mt19937_64 rng(4);
  std::vector<StateUpdate> updates;
  for (int i = 0; i < 500; ++i) updates.push_back({RandomHash(rng), RandomHash(rng)});
  Apply(kv, model, updates);
  ASSERT_GT(kv.entries().size(), 1u);
  for (const auto& [key, value] : kv.entries()) {
    ASSERT_GE(key.size(), 2u);
    EXPECT_EQ(key[0], static_cast<char>(KeySpace::kStateNode));
    EXPECT_EQ(static_cast<uint8_t>(key[1]) % 4, 0);
  }
}

TEST(StateTree, ResultIndependentOfUpdateOrder) {
  std::mt19937_64 rng(5);
  MemKv base;
  Model model;
  std::vector<StateUpdate> initial;
  for (int i = 0; i < 300; ++i) initial.push_back({RandomHash(rng), RandomHash(rng)});
  Apply(base, model, initial);

  std::vector<StateUpdate> batch;
  for (int i = 0; i < 100; ++i) batch.push_back({initial[i].key_hash, std::nullopt});
  for (int i = 100; i < 200; ++i) batch.push_back({initial[i].key_hash, RandomHash(rng)});
  for (int i = 0; i < 100; ++i) batch.push_back({RandomHash(rng), RandomHash(rng)});
  Overlay first(base);
  const Hash root = UpdateState(base, batch, first);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(batch.begin(), batch.end(), rng);
    Overlay again(base);
    EXPECT_EQ(UpdateState(base, batch, again), root);
    EXPECT_EQ(again.writes(), first.writes());
  }
}

TEST(StateTree, NoOpUpdatesWriteNothing) {
  std::mt19937_64 rng(6);
  MemKv kv;
  Model model;
  std::vector<StateUpdate> initial;
  for (int i = 0; i < 200; ++i) initial.push_back({RandomHash(rng), RandomHash(rng)});
  const Hash root = Apply(kv, model, initial);
  // Rewriting the same values and deleting absent keys leaves the tree as it is.
  std::vector<StateUpdate> batch(initial.begin(), initial.begin() + 50);
  for (int i = 0; i < 50; ++i) batch.push_back({RandomHash(rng), std::nullopt});
  Overlay overlay(kv);
  EXPECT_EQ(UpdateState(kv, batch, overlay), root);
  EXPECT_TRUE(overlay.writes().empty());
}

TEST(StateTreeDeathTest, DuplicateKeyInOneBatchAborts) {
  MemKv kv;
  std::mt19937_64 rng(7);
  const Hash key = RandomHash(rng);
  std::vector<StateUpdate> batch = {{key, RandomHash(rng)}, {key, std::nullopt}};
  EXPECT_DEATH(UpdateState(kv, batch, kv), "key_hash != sorted");
}

// Keys drawn from a small pool, with near-twins that share long prefixes, so that batches keep
// splitting and merging the same paths.
std::vector<Hash> KeyPool(std::mt19937_64& rng) {
  std::vector<Hash> pool;
  for (int i = 0; i < 120; ++i) {
    const Hash h = RandomHash(rng);
    pool.push_back(h);
    if (i % 4 == 0) pool.push_back(FlipBit(h, 255));
    if (i % 6 == 0) pool.push_back(FlipBit(h, 3 + static_cast<size_t>(rng() % 250)));
    if (i % 10 == 0) pool.push_back(FlipBit(FlipBit(h, 254), 255));
  }
  std::sort(pool.begin(), pool.end());
  pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
  return pool;
}

TEST(StateTree, RandomBatchesMatchRebuildAndReference) {
  std::mt19937_64 rng(20240611);
  const std::vector<Hash> pool = KeyPool(rng);
  MemKv kv;
  Model model;
  for (int iteration = 0; iteration < 300; ++iteration) {
    // Each batch: a random subset of the pool, each key set, changed or deleted.
    const size_t batch_size = 1 + rng() % (iteration % 10 == 0 ? pool.size() : 12);
    std::vector<Hash> keys = pool;
    std::shuffle(keys.begin(), keys.end(), rng);
    keys.resize(batch_size);
    std::vector<StateUpdate> batch;
    const int delete_percent = iteration < 150 ? 30 : 60;  // grow, then shrink
    for (const Hash& key : keys) {
      if (static_cast<int>(rng() % 100) < delete_percent) batch.push_back({key, std::nullopt});
      else batch.push_back({key, RandomHash(rng)});
    }
    const Hash root = Apply(kv, model, batch);
    ASSERT_EQ(root, ReferenceRoot(model)) << "iteration " << iteration;
    ASSERT_EQ(StateRoot(kv), root);
    ASSERT_EQ(kv.entries(), Rebuild(model).entries()) << "iteration " << iteration;
    for (int probe = 0; probe < 4; ++probe) {
      const Hash& key = pool[rng() % pool.size()];
      auto it = model.find(key);
      if (it != model.end()) ExpectProvesPresence(kv, key, it->second);
      else ExpectProvesAbsence(kv, key);
    }
  }
  std::vector<StateUpdate> clear;
  for (const auto& [key, value] : model) clear.push_back({key, std::nullopt});
  EXPECT_EQ(Apply(kv, model, clear), kEmptyStateRoot);
  EXPECT_TRUE(kv.entries().empty());
}

TEST(StateTree, ManySmallBatchesIntoALargerTree) {
  std::mt19937_64 rng(99);
  MemKv kv;
  Model model;
  std::vector<Hash> keys;
  for (int batch = 0; batch < 40; ++batch) {
    std::vector<StateUpdate> updates;
    std::set<Hash> touched;
    for (int i = 0; i < 100; ++i) {
      if (!keys.empty() && rng() % 3 == 0) {
        const Hash key = keys[rng() % keys.size()];
        if (!touched.insert(key).second) continue;
        if (rng() % 2) updates.push_back({key, std::nullopt});
        else updates.push_back({key, RandomHash(rng)});
      } else {
        keys.push_back(RandomHash(rng));
        touched.insert(keys.back());
        updates.push_back({keys.back(), RandomHash(rng)});
      }
    }
    const Hash root = Apply(kv, model, updates);
    ASSERT_EQ(root, ReferenceRoot(model)) << "batch " << batch;
  }
  EXPECT_EQ(kv.entries(), Rebuild(model).entries());
}

// A tree of 2,000 random keys and proofs of each kind in it.
class StateProofTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(8);
    std::vector<StateUpdate> updates;
    for (int i = 0; i < 2000; ++i) updates.push_back({RandomHash(rng), RandomHash(rng)});
    root_ = Apply(kv_, model_, updates);
    present_ = model_.begin()->first;
    // Random absent keys: find one whose path ends at another leaf and one at an empty subtree.
    for (int i = 0; i < 10000 && (!absent_at_leaf_ || !absent_at_empty_); ++i) {
      const Hash key = RandomHash(rng);
      if (ProveState(kv_, key).leaf) absent_at_leaf_ = key;
      else absent_at_empty_ = key;
    }
    ASSERT_TRUE(absent_at_leaf_ && absent_at_empty_);
  }

  std::vector<std::pair<Hash, StateProof>> AllKinds() const {
    return {{present_, ProveState(kv_, present_)},
            {*absent_at_leaf_, ProveState(kv_, *absent_at_leaf_)},
            {*absent_at_empty_, ProveState(kv_, *absent_at_empty_)}};
  }

  MemKv kv_;
  Model model_;
  Hash root_{};
  Hash present_{};
  std::optional<Hash> absent_at_leaf_, absent_at_empty_;
};

TEST_F(StateProofTest, EveryKindVerifies) {
  for (const auto& [key, value] : model_) ExpectProvesPresence(kv_, key, value);
  const StateProof at_leaf = ProveState(kv_, *absent_at_leaf_);
  ASSERT_TRUE(at_leaf.leaf.has_value());
  EXPECT_NE(at_leaf.leaf->key_hash, *absent_at_leaf_);
  ExpectProvesAbsence(kv_, *absent_at_leaf_);
  ExpectProvesAbsence(kv_, *absent_at_empty_);
  // Paths are short: about log2(2000) ~ 11 levels, not 256.
  for (const auto& [key, proof] : AllKinds()) EXPECT_LT(proof.siblings.size(), 30u);
}

TEST_F(StateProofTest, ProofsSurviveEncoding) {
  for (const auto& [key, proof] : AllKinds()) {
    const std::string bytes = EncodeStateProof(proof);
    auto decoded = DecodeStateProof(AsBytes(bytes));
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(*decoded, proof);
    EXPECT_TRUE(VerifyStateProof(root_, key, *decoded).ok());
  }
}

TEST_F(StateProofTest, EveryTamperingIsRejected) {
  std::mt19937_64 rng(9);
  for (const auto& [key, proof] : AllKinds()) {
    ASSERT_TRUE(VerifyStateProof(root_, key, proof).ok());
    auto expect_rejected = [&](const StateProof& p, const Hash& k, const Hash& r, const char* what,
                               const char* code = "STATE_ROOT_MISMATCH") {  // null: either
      auto verified = VerifyStateProof(r, k, p);
      ASSERT_FALSE(verified.ok()) << what << " accepted for key " << ToHex(k);
      if (code != nullptr) {
        EXPECT_EQ(verified.status().code(), code) << what;
      }
    };
    for (size_t i = 0; i < proof.siblings.size(); ++i) {
      StateProof p = proof;
      p.siblings[i] = FlipBit(p.siblings[i], rng() % 256);
      expect_rejected(p, key, root_, "flipped sibling bit");
      p = proof;
      p.siblings.erase(p.siblings.begin() + static_cast<std::ptrdiff_t>(i));
      expect_rejected(p, key, root_, "dropped sibling", nullptr);
      p = proof;
      p.siblings.insert(p.siblings.begin() + static_cast<std::ptrdiff_t>(i), RandomHash(rng));
      expect_rejected(p, key, root_, "inserted sibling", nullptr);
      if (proof.siblings[i] != kEmptyStateRoot) {
        p = proof;
        p.siblings[i] = kEmptyStateRoot;
        // An empty deepest sibling is refused before hashing: the path would end higher.
        expect_rejected(p, key, root_, "emptied sibling",
                        i + 1 == proof.siblings.size() ? "BAD_STATE_PROOF" : "STATE_ROOT_MISMATCH");
      }
    }
    StateProof longer = proof;
    longer.siblings.push_back(RandomHash(rng));
    expect_rejected(longer, key, root_, "appended sibling", nullptr);
    // The same proof for a key whose path leaves this one at the root.
    expect_rejected(proof, FlipBit(key, 0), root_, "wrong key",
                    proof.leaf ? "BAD_STATE_PROOF" : "STATE_ROOT_MISMATCH");
    for (size_t bit = 0; bit < 256; bit += 37) {
      expect_rejected(proof, key, FlipBit(root_, bit), "wrong root");
    }
    // Swapping, altering, adding or removing the leaf.
    StateProof p = proof;
    p.leaf = StateLeaf{std::next(model_.begin())->first, std::next(model_.begin())->second};
    expect_rejected(p, key, root_, "swapped leaf", nullptr);
    if (proof.leaf) {
      p = proof;
      p.leaf->value_hash = FlipBit(p.leaf->value_hash, 7);
      expect_rejected(p, key, root_, "altered leaf value");
      p = proof;
      p.leaf->key_hash = FlipBit(p.leaf->key_hash, 255);
      expect_rejected(p, key, root_, "altered leaf key");
      p = proof;
      p.leaf.reset();
      expect_rejected(p, key, root_, "removed leaf");
    } else {
      p = proof;
      p.leaf = StateLeaf{key, RandomHash(rng)};
      expect_rejected(p, key, root_, "invented leaf");
    }
  }
}

TEST_F(StateProofTest, PresenceProofCannotShowAbsenceOrAnotherValue) {
  const StateProof proof = ProveState(kv_, present_);
  auto verified = VerifyStateProof(root_, present_, proof);
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(**verified, model_.at(present_));
  // An absence proof of a present key cannot be made from a neighbour's proof.
  for (auto it = std::next(model_.begin()); it != std::next(model_.begin(), 50); ++it) {
    auto other = VerifyStateProof(root_, present_, ProveState(kv_, it->first));
    EXPECT_FALSE(other.ok() && !other->has_value()) << "absence shown for a present key";
  }
}

TEST(StateProofLimits, TooManySiblingsRejected) {
  StateProof proof;
  proof.siblings.assign(257, Hash{1});
  auto verified = VerifyStateProof(Hash{}, Hash{}, proof);
  ASSERT_FALSE(verified.ok());
  EXPECT_EQ(verified.status().code(), "BAD_STATE_PROOF");
  // Encoded, it is also refused by the decoder.
  auto decoded = DecodeStateProof(AsBytes(EncodeStateProof(proof)));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), "BAD_STATE_PROOF");
}

TEST(StateProofLimits, EmptyTreeProofMustMatchTheRoot) {
  StateProof proof;
  EXPECT_TRUE(VerifyStateProof(kEmptyStateRoot, Hash{7}, proof).ok());
  auto wrong = VerifyStateProof(Hash{1}, Hash{7}, proof);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), "STATE_ROOT_MISMATCH");
}

TEST(StateProofDecode, MalformedMessagesRejected) {
  auto expect_bad = [](const std::string& bytes, const char* what) {
    auto decoded = DecodeStateProof(AsBytes(bytes));
    ASSERT_FALSE(decoded.ok()) << what;
    EXPECT_EQ(decoded.status().code(), "BAD_STATE_PROOF") << what;
  };
  StateProof good;
  good.siblings = {Hash{1}, Hash{2}};
  good.leaf = StateLeaf{Hash{3}, Hash{4}};
  const std::string encoded = EncodeStateProof(good);
  ASSERT_TRUE(DecodeStateProof(AsBytes(encoded)).ok());

  // Cut short anywhere inside a field.
  for (size_t n = 1; n < encoded.size(); ++n) {
    auto decoded = DecodeStateProof(AsBytes(encoded.substr(0, n)));
    if (decoded.ok()) {
      EXPECT_NE(*decoded, good) << "prefix of " << n << " bytes";
    }
  }
  expect_bad(std::string(17 * 1024, '\x12'), "oversized");
  expect_bad("\xff\xff\xff", "not protobuf");

  // Field-level violations, built on the encoded message.
  expect_bad(std::string("\x08\x02", 2) + encoded.substr(2), "version 2");
  expect_bad(encoded.substr(2), "version 0");
  expect_bad(encoded + std::string("\x12\x1f", 2) + std::string(31, 'a'), "31-byte sibling");
  expect_bad(encoded + std::string("\x12\x21", 2) + std::string(33, 'a'), "33-byte sibling");
  expect_bad(std::string("\x08\x01\x1a\x24\x0a\x20", 6) + std::string(32, 'k') +
                 std::string("\x12\x00", 2),
             "empty leaf value hash");
}

TEST(StateProofDecode, RandomGarbageNeverCrashes) {
  std::mt19937_64 rng(10);
  StateProof good;
  good.siblings = {Hash{1}, Hash{2}, Hash{3}};
  good.leaf = StateLeaf{Hash{3}, Hash{4}};
  const std::string encoded = EncodeStateProof(good);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 200);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {  // mutate a valid encoding
      bytes = encoded;
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng());
      }
    }
    auto decoded = DecodeStateProof(AsBytes(bytes));
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), "BAD_STATE_PROOF");
      continue;
    }
    EXPECT_LE(decoded->siblings.size(), kStateTreeMaxDepth);
    (void)VerifyStateProof(Hash{}, Hash{}, *decoded);  // must return, whatever it says
  }
}

}  // namespace
}  // namespace gongshe::ledger
