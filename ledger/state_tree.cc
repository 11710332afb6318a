#include "ledger/state_tree.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "gongshe/v1/proof.pb.h"

namespace gongshe::ledger {
namespace {

// Page encoding (see the header for what a page holds): the format byte 1, then the page's nodes
// in pre-order, each a tag byte followed by
//   kTagEmpty:    nothing
//   kTagLeaf:     key_hash, value_hash, leaf hash (32 bytes each)
//   kTagInternal: node hash, then the left and right children (levels 0..3 of the page)
//   kTagStub:     node hash (level 4: an internal node whose children are in the next page)
constexpr uint8_t kPageFormat = 1;
constexpr uint8_t kTagEmpty = 0;
constexpr uint8_t kTagLeaf = 1;
constexpr uint8_t kTagInternal = 2;
constexpr uint8_t kTagStub = 3;
constexpr size_t kPageLevels = 4;
// Largest encoded proof: 256 siblings of 35 bytes, a leaf of 70 and a version.
constexpr size_t kMaxProofBytes = 16 * 1024;

bool Bit(const Hash& h, size_t i) { return (h[i / 8] >> (7 - i % 8)) & 1; }

void SetBit(Hash& h, size_t i, bool value) {
  const uint8_t mask = static_cast<uint8_t>(0x80u >> (i % 8));
  h[i / 8] = value ? (h[i / 8] | mask) : (h[i / 8] & ~mask);
}

// The key of the page rooted at depth `depth` (a multiple of 4) on the path of `path`.
std::string PageKey(size_t depth, const Hash& path) {
  GS_ASSERT(depth % kPageLevels == 0 && depth < kStateTreeMaxDepth);
  const size_t prefix_bytes = (depth + 7) / 8;
  std::string key;
  key.reserve(2 + prefix_bytes);
  key.push_back(static_cast<char>(KeySpace::kStateNode));
  key.push_back(static_cast<char>(depth));
  key.append(reinterpret_cast<const char*>(path.data()), prefix_bytes);
  if (depth % 8 != 0) key.back() = static_cast<char>(key.back() & 0xf0);
  return key;
}

// A page being encoded, in a buffer of the largest page's size: 15 internal nodes over 16 leaves,
// and the format byte. Pages are written for every changed path of every block, so encoding
// appends with no capacity checks or reallocation.
class PageBuffer {
 public:
  static constexpr size_t kMaxBytes = 1 + 15 * (1 + 32) + 16 * (1 + 3 * 32);

  void Byte(uint8_t b) {
    GS_ASSERT(size_ < kMaxBytes);
    bytes_[size_++] = static_cast<char>(b);
  }
  void Append(const Hash& h) {
    GS_ASSERT(kMaxBytes - size_ >= h.size());
    std::memcpy(bytes_ + size_, h.data(), h.size());
    size_ += h.size();
  }
  std::string str() const { return std::string(bytes_, size_); }
  void Clear() { size_ = 0; }

 private:
  char bytes_[kMaxBytes];
  size_t size_ = 0;
};

enum class Kind : uint8_t { kEmpty, kLeaf, kInternal };

constexpr uint32_t kNone = UINT32_MAX;
constexpr uint32_t kEmptyNode = 0;  // the one empty node every tree shares

struct Node {
  Hash hash{};
  uint32_t left = kNone;  // children of an internal node; kNone while they are in an unread page
  uint32_t right = kNone;
  uint32_t leaf = kNone;  // index into the leaves of a leaf node
  Kind kind = Kind::kEmpty;
  bool fresh = false;     // created by this update: its page must be written
};

// Node and leaf storage reused by every tree built on a thread: an update of a few thousand keys
// needs megabytes of nodes, and fresh memory costs a page fault per 4 KiB. A tree clears it on
// construction, so nothing outlives one call; trees on one thread never overlap (asserted). Past
// kMaxRetainedNodes the memory is released after use, bounding what an idle thread keeps.
struct TreeArena {
  static constexpr size_t kMaxRetainedNodes = size_t{1} << 17;
  std::vector<Node> nodes;
  std::vector<StateLeaf> leaves;
  bool in_use = false;
};

TreeArena& ThreadTreeArena() {
  thread_local TreeArena arena;
  return arena;
}

// The part of the stored tree one call reads, plus the nodes an update creates. Nodes are never
// modified once built (except for attaching the children of a page when it is read), so an
// update is a new tree sharing every unchanged subtree with the old one.
class Tree {
 public:
  // `out` receives the writes of Update; null when only reading.
  // `expected_nodes` sizes the node arena up front.
  Tree(const KvReader& kv, KvWriter* out, size_t expected_nodes)
      : kv_(kv), out_(out), arena_(ThreadTreeArena()), nodes_(arena_.nodes), leaves_(arena_.leaves) {
    GS_ASSERT(!arena_.in_use);
    arena_.in_use = true;
    nodes_.clear();
    leaves_.clear();
    nodes_.reserve(expected_nodes);
    nodes_.emplace_back();
  }
  ~Tree() {
    if (nodes_.capacity() > TreeArena::kMaxRetainedNodes) {
      nodes_ = {};
      leaves_ = {};
    }
    arena_.in_use = false;
  }
  Tree(const Tree&) = delete;
  Tree& operator=(const Tree&) = delete;

  // The stored root node, kEmptyNode when nothing is stored.
  uint32_t LoadRoot() {
    std::string scratch;
    std::optional<std::string_view> page = kv_.GetView(PageKey(0, Hash{}), scratch);
    return page ? DecodePage(*page) : kEmptyNode;
  }

  // The new root after applying `updates` (sorted by key, distinct) to the subtree `node` at
  // `depth`, all of whose keys share their first `depth` bits with every update.
  uint32_t Apply(uint32_t node, size_t depth, std::span<const StateUpdate> updates) {
    if (updates.empty()) return node;
    GS_ASSERT(depth <= kStateTreeMaxDepth);
    switch (nodes_[node].kind) {
      case Kind::kEmpty: return ApplyToEmpty(depth, updates);
      case Kind::kLeaf: return ApplyToLeaf(node, depth, updates);
      case Kind::kInternal: return ApplyToInternal(node, depth, updates);
    }
    GS_ASSERT(false);
    return kEmptyNode;
  }

  // Writes the pages of the new tree rooted at `root` that this update changed: the root page, and
  // below it the page of every fresh stub, found while encoding the page above.
  void PersistRoot(uint32_t root) {
    GS_ASSERT(out_ != nullptr);
    if (nodes_[root].kind == Kind::kEmpty) {
      out_->Delete(PageKey(0, Hash{}));
      return;
    }
    std::vector<PageToWrite> pending = {{root, 0, Hash{}}};
    PageBuffer page;
    while (!pending.empty()) {
      PageToWrite next = pending.back();
      pending.pop_back();
      page.Clear();
      page.Byte(kPageFormat);
      EncodeNode(page, next.node, next.depth, 0, next.path, pending);
      out_->Put(PageKey(next.depth, next.path), page.str());
    }
  }

  // Reads the page below the stub `node` at `depth` on the path of `path`.
  void LoadChildren(uint32_t node, size_t depth, const Hash& path) {
    GS_ASSERT(nodes_[node].kind == Kind::kInternal && nodes_[node].left == kNone);
    std::string scratch;
    std::optional<std::string_view> page = kv_.GetView(PageKey(depth, path), scratch);
    GS_ASSERT(page.has_value());  // a stub without its page: the store is corrupt
    const uint32_t page_root = DecodePage(*page);
    GS_ASSERT(nodes_[page_root].kind == Kind::kInternal);
    GS_ASSERT(nodes_[page_root].hash == nodes_[node].hash);
    nodes_[node].left = nodes_[page_root].left;
    nodes_[node].right = nodes_[page_root].right;
  }

  const Node& node(uint32_t i) const { return nodes_[i]; }
  const StateLeaf& leaf(uint32_t i) const { return leaves_[nodes_[i].leaf]; }

 private:
  uint32_t ApplyToEmpty(size_t depth, std::span<const StateUpdate> updates) {
    std::vector<StateLeaf> pairs;
    pairs.reserve(updates.size());
    for (const StateUpdate& u : updates) {
      if (u.value_hash) pairs.push_back({u.key_hash, *u.value_hash});
    }
    return Build(depth, pairs, kNone);
  }

  // Merges the leaf's pair into the updates and builds the subtree of the result.
  uint32_t ApplyToLeaf(uint32_t node, size_t depth, std::span<const StateUpdate> updates) {
    const StateLeaf old = leaves_[nodes_[node].leaf];
    std::vector<StateLeaf> pairs;
    pairs.reserve(updates.size() + 1);
    bool old_placed = false;
    for (const StateUpdate& u : updates) {
      if (!old_placed && old.key_hash < u.key_hash) {
        pairs.push_back(old);
        old_placed = true;
      }
      if (u.key_hash == old.key_hash) old_placed = true;  // replaced or deleted
      if (u.value_hash) pairs.push_back({u.key_hash, *u.value_hash});
    }
    if (!old_placed) pairs.push_back(old);
    return Build(depth, pairs, node);
  }

  uint32_t ApplyToInternal(uint32_t node, size_t depth, std::span<const StateUpdate> updates) {
    GS_ASSERT(depth < kStateTreeMaxDepth);
    if (nodes_[node].left == kNone) LoadChildren(node, depth, updates.front().key_hash);
    const auto split = std::partition_point(updates.begin(), updates.end(),
                                            [&](const StateUpdate& u) { return !Bit(u.key_hash, depth); });
    const size_t left_count = static_cast<size_t>(split - updates.begin());
    const uint32_t old_left = nodes_[node].left;
    const uint32_t old_right = nodes_[node].right;
    const uint32_t left = Apply(old_left, depth + 1, updates.first(left_count));
    const uint32_t right = Apply(old_right, depth + 1, updates.subspan(left_count));
    if (nodes_[left].hash == nodes_[old_left].hash && nodes_[right].hash == nodes_[old_right].hash) {
      return node;  // every update was a no-op
    }
    const uint32_t result = Join(left, right);
    // A page exists exactly where an internal node sits at a page depth: this one is gone.
    if (depth % kPageLevels == 0 && depth > 0 && nodes_[result].kind != Kind::kInternal) {
      out_->Delete(PageKey(depth, updates.front().key_hash));
    }
    return result;
  }

  // The subtree at `depth` holding exactly `pairs` (sorted, distinct). `reuse` is an existing
  // leaf returned as is when it is the only pair, so that unchanged leaves are not rehashed.
  uint32_t Build(size_t depth, std::span<const StateLeaf> pairs, uint32_t reuse) {
    if (pairs.empty()) return kEmptyNode;
    if (pairs.size() == 1) {
      if (reuse != kNone && leaves_[nodes_[reuse].leaf] == pairs[0]) return reuse;
      return NewLeaf(pairs[0]);
    }
    GS_ASSERT(depth < kStateTreeMaxDepth);  // distinct keys part before the last bit
    const auto split = std::partition_point(pairs.begin(), pairs.end(),
                                            [&](const StateLeaf& p) { return !Bit(p.key_hash, depth); });
    const size_t left_count = static_cast<size_t>(split - pairs.begin());
    const uint32_t left = Build(depth + 1, pairs.first(left_count), reuse);
    const uint32_t right = Build(depth + 1, pairs.subspan(left_count), reuse);
    return Join(left, right);
  }

  // The node over two sibling subtrees: a lone leaf moves up, an empty pair stays empty.
  uint32_t Join(uint32_t left, uint32_t right) {
    const Kind lk = nodes_[left].kind, rk = nodes_[right].kind;
    if (lk == Kind::kEmpty && rk != Kind::kInternal) return right;
    if (rk == Kind::kEmpty && lk != Kind::kInternal) return left;
    Node n;
    n.kind = Kind::kInternal;
    n.hash = StateInternalHash(nodes_[left].hash, nodes_[right].hash);
    n.left = left;
    n.right = right;
    n.fresh = true;
    return Push(n);
  }

  uint32_t NewLeaf(const StateLeaf& pair) {
    Node n;
    n.kind = Kind::kLeaf;
    n.hash = StateLeafHash(pair);
    n.leaf = static_cast<uint32_t>(leaves_.size());
    n.fresh = true;
    leaves_.push_back(pair);
    return Push(n);
  }

  uint32_t Push(const Node& n) {
    GS_ASSERT(nodes_.size() < kNone);
    nodes_.push_back(n);
    return static_cast<uint32_t>(nodes_.size() - 1);
  }

  // A page to write: its root node, at `depth` on the path of `path`.
  struct PageToWrite {
    uint32_t node;
    size_t depth;
    Hash path;
  };

  // Appends the node at `depth`, `level` levels below the page root, and its descendants in the
  // page; adds the pages below fresh stubs to `pending`. `path` holds the node's path.
  void EncodeNode(PageBuffer& page, uint32_t index, size_t depth, size_t level, Hash& path,
                  std::vector<PageToWrite>& pending) {
    const Node& n = nodes_[index];
    switch (n.kind) {
      case Kind::kEmpty:
        page.Byte(kTagEmpty);
        return;
      case Kind::kLeaf:
        page.Byte(kTagLeaf);
        page.Append(leaves_[n.leaf].key_hash);
        page.Append(leaves_[n.leaf].value_hash);
        page.Append(n.hash);
        return;
      case Kind::kInternal:
        if (level == kPageLevels) {
          page.Byte(kTagStub);
          page.Append(n.hash);
          if (n.fresh) pending.push_back({index, depth, path});
          return;
        }
        page.Byte(kTagInternal);
        page.Append(n.hash);
        GS_ASSERT(n.left != kNone);  // a page being rewritten was read or built
        const uint32_t right = n.right;
        SetBit(path, depth, false);
        EncodeNode(page, n.left, depth + 1, level + 1, path, pending);
        SetBit(path, depth, true);
        EncodeNode(page, right, depth + 1, level + 1, path, pending);
        return;
    }
  }

  // Decodes a stored page into nodes and returns its root. Pages are written only by this file,
  // so a malformed one means a corrupt store: an invariant violation, not an input error.
  uint32_t DecodePage(std::string_view page) {
    GS_ASSERT(!page.empty() && static_cast<uint8_t>(page[0]) == kPageFormat);
    size_t pos = 1;
    const uint32_t root = DecodeNode(page, pos, 0);
    GS_ASSERT(pos == page.size());
    return root;
  }

  uint32_t DecodeNode(std::string_view page, size_t& pos, size_t level) {
    GS_ASSERT(pos < page.size());
    const uint8_t tag = static_cast<uint8_t>(page[pos++]);
    if (tag == kTagEmpty) return kEmptyNode;
    Node n;
    if (tag == kTagLeaf) {
      GS_ASSERT(page.size() - pos >= 96);
      StateLeaf pair;
      std::memcpy(pair.key_hash.data(), page.data() + pos, 32);
      std::memcpy(pair.value_hash.data(), page.data() + pos + 32, 32);
      std::memcpy(n.hash.data(), page.data() + pos + 64, 32);
      pos += 96;
      n.kind = Kind::kLeaf;
      n.leaf = static_cast<uint32_t>(leaves_.size());
      leaves_.push_back(pair);
      return Push(n);
    }
    GS_ASSERT(tag == (level < kPageLevels ? kTagInternal : kTagStub));
    GS_ASSERT(page.size() - pos >= 32);
    std::memcpy(n.hash.data(), page.data() + pos, 32);
    pos += 32;
    n.kind = Kind::kInternal;
    const uint32_t index = Push(n);
    if (tag == kTagInternal) {
      const uint32_t left = DecodeNode(page, pos, level + 1);
      const uint32_t right = DecodeNode(page, pos, level + 1);
      nodes_[index].left = left;
      nodes_[index].right = right;
    }
    return index;
  }

  const KvReader& kv_;
  KvWriter* out_;
  TreeArena& arena_;
  std::vector<Node>& nodes_;
  std::vector<StateLeaf>& leaves_;
};

Status BadProof(std::string message) { return {"BAD_STATE_PROOF", std::move(message)}; }

}  // namespace

Hash StateLeafHash(const StateLeaf& leaf) {
  uint8_t buf[65];
  buf[0] = 0x00;
  std::memcpy(buf + 1, leaf.key_hash.data(), 32);
  std::memcpy(buf + 33, leaf.value_hash.data(), 32);
  return Sha256(ByteView(buf, sizeof buf));
}

Hash StateInternalHash(const Hash& left, const Hash& right) {
  uint8_t buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Sha256(ByteView(buf, sizeof buf));
}

Hash StateRoot(const KvReader& kv) {
  Tree tree(kv, nullptr, 64);
  return tree.node(tree.LoadRoot()).hash;
}

Hash UpdateState(const KvReader& kv, std::span<const StateUpdate> updates, KvWriter& out) {
  std::vector<StateUpdate> sorted(updates.begin(), updates.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const StateUpdate& a, const StateUpdate& b) { return a.key_hash < b.key_hash; });
  for (size_t i = 1; i < sorted.size(); ++i) {
    GS_ASSERT(sorted[i - 1].key_hash != sorted[i].key_hash);  // one update per key
  }
  // About 8 page reads of up to 31 nodes per update when the batch is small against the tree.
  Tree tree(kv, &out, 64 + 32 * sorted.size());
  const uint32_t root = tree.LoadRoot();
  const uint32_t new_root = tree.Apply(root, 0, sorted);
  if (new_root != root) tree.PersistRoot(new_root);
  return tree.node(new_root).hash;
}

StateProof ProveState(const KvReader& kv, const Hash& key_hash) {
  Tree tree(kv, nullptr, 64 * 32);
  StateProof proof;
  uint32_t node = tree.LoadRoot();
  for (size_t depth = 0; tree.node(node).kind == Kind::kInternal; ++depth) {
    GS_ASSERT(depth < kStateTreeMaxDepth);
    if (tree.node(node).left == kNone) tree.LoadChildren(node, depth, key_hash);
    const Node& n = tree.node(node);
    const bool right = Bit(key_hash, depth);
    proof.siblings.push_back(tree.node(right ? n.left : n.right).hash);
    node = right ? n.right : n.left;
  }
  if (tree.node(node).kind == Kind::kLeaf) proof.leaf = tree.leaf(node);
  return proof;
}

Result<std::optional<Hash>> VerifyStateProof(const Hash& root, const Hash& key_hash,
                                             const StateProof& proof) {
  const size_t depth = proof.siblings.size();
  if (depth > kStateTreeMaxDepth) {
    return BadProof("proof has " + std::to_string(depth) + " siblings, at most 256 allowed");
  }
  // The subtree where the path ends must be a lone leaf or empty, so its sibling cannot be empty
  // (the parent would then hold at most one leaf and sit in its place).
  if (depth > 0 && proof.siblings.back() == kEmptyStateRoot) {
    return BadProof("the deepest sibling is empty: the path would have ended one level higher");
  }
  Hash h = kEmptyStateRoot;
  std::optional<Hash> value;
  if (proof.leaf) {
    for (size_t i = 0; i < depth; ++i) {
      if (Bit(proof.leaf->key_hash, i) != Bit(key_hash, i)) {
        return BadProof("the proof's leaf is not on the key's path (bit " + std::to_string(i) + ")");
      }
    }
    if (proof.leaf->key_hash == key_hash) value = proof.leaf->value_hash;
    h = StateLeafHash(*proof.leaf);
  }
  for (size_t i = depth; i-- > 0;) {
    h = Bit(key_hash, i) ? StateInternalHash(proof.siblings[i], h)
                         : StateInternalHash(h, proof.siblings[i]);
  }
  if (h != root) {
    return Status("STATE_ROOT_MISMATCH", "the proof leads to root " + ToHex(h) + ", expected " +
                                             ToHex(root));
  }
  return value;
}

std::string EncodeStateProof(const StateProof& proof) {
  v1::StateProof msg;
  msg.set_version(1);
  for (const Hash& s : proof.siblings) msg.add_siblings(std::string(AsChars(s)));
  if (proof.leaf) {
    msg.mutable_leaf()->set_key_hash(std::string(AsChars(proof.leaf->key_hash)));
    msg.mutable_leaf()->set_value_hash(std::string(AsChars(proof.leaf->value_hash)));
  }
  return msg.SerializeAsString();
}

Result<StateProof> DecodeStateProof(ByteView bytes) {
  if (bytes.size() > kMaxProofBytes) {
    return BadProof("proof is " + std::to_string(bytes.size()) + " bytes, at most " +
                    std::to_string(kMaxProofBytes) + " allowed");
  }
  v1::StateProof msg;
  if (!msg.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return BadProof("not a gongshe.v1.StateProof message");
  }
  if (msg.version() != 1) {
    return BadProof("unsupported proof version " + std::to_string(msg.version()));
  }
  if (static_cast<size_t>(msg.siblings_size()) > kStateTreeMaxDepth) {
    return BadProof("proof has " + std::to_string(msg.siblings_size()) + " siblings, at most 256 allowed");
  }
  StateProof proof;
  proof.siblings.reserve(static_cast<size_t>(msg.siblings_size()));
  for (int i = 0; i < msg.siblings_size(); ++i) {
    std::optional<Hash> s = HashFromBytes(AsBytes(msg.siblings(i)));
    if (!s) return BadProof("sibling " + std::to_string(i) + " is not 32 bytes");
    proof.siblings.push_back(*s);
  }
  if (msg.has_leaf()) {
    std::optional<Hash> key = HashFromBytes(AsBytes(msg.leaf().key_hash()));
    std::optional<Hash> value = HashFromBytes(AsBytes(msg.leaf().value_hash()));
    if (!key || !value) return BadProof("leaf key_hash and value_hash must be 32 bytes each");
    proof.leaf = StateLeaf{*key, *value};
  }
  return proof;
}

}  // namespace gongshe::ledger
