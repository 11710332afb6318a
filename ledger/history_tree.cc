#include "ledger/history_tree.h"

#include <bit>
#include <limits>
#include <string>

#include "common/assert.h"

namespace gongshe::ledger {
namespace {

constexpr uint8_t kSizeTag = 'S';
constexpr uint8_t kNodeTag = 'N';

std::string SizeKey() {
  const uint8_t rest[] = {kSizeTag};
  return SpaceKey(KeySpace::kHistoryNode, rest);
}

std::string NodeKey(unsigned level, uint64_t index) {
  GS_ASSERT(level < 64);
  Bytes rest = {kNodeTag, static_cast<uint8_t>(level)};
  AppendBigEndian64(rest, index);
  return SpaceKey(KeySpace::kHistoryNode, rest);
}

std::string EncodeSize(uint64_t size) {
  Bytes b;
  AppendBigEndian64(b, size);
  return std::string(AsChars(b));
}

Status OutOfRange(const std::string& message) { return Status("HISTORY_OUT_OF_RANGE", message); }

}  // namespace

Result<uint64_t> HistoryTree::Size() const {
  std::optional<std::string> value = store_.Get(SizeKey());
  if (!value) return uint64_t{0};
  if (value->size() != 8) {
    return Status("HISTORY_CORRUPT", "history tree size is " + std::to_string(value->size()) +
                                         " bytes, expected 8");
  }
  return ReadBigEndian64(AsBytes(*value));
}

// Leaf n completes one perfect subtree per trailing one bit of n: each is the node hash of its
// stored left sibling and the subtree just completed on its right.
Result<uint64_t> HistoryTree::Append(const Hash& block_hash, KvWriter& out) const {
  Result<uint64_t> size = Size();
  if (!size.ok()) return size.status();
  const uint64_t n = *size;
  if (n == std::numeric_limits<uint64_t>::max()) {
    return Status("HISTORY_FULL", "the history tree holds 2^64 - 1 leaves");
  }
  Hash node = LeafHash(block_hash);
  out.Put(NodeKey(0, n), std::string(AsChars(node)));
  unsigned level = 0;
  for (uint64_t index = n; (index & 1) == 1; index >>= 1) {
    Result<Hash> left = Node(level, index - 1);
    if (!left.ok()) return left.status();
    node = NodeHash(*left, node);
    ++level;
    out.Put(NodeKey(level, index >> 1), std::string(AsChars(node)));
  }
  out.Put(SizeKey(), EncodeSize(n + 1));
  return n + 1;
}

Result<Hash> HistoryTree::Root(uint64_t size) const {
  GS_RETURN_IF_ERROR(CheckSize(size, "root of size"));
  if (size == 0) return EmptyRoot();
  return RangeRoot({0, size});
}

Result<std::vector<Hash>> HistoryTree::InclusionProof(uint64_t index, uint64_t size) const {
  GS_RETURN_IF_ERROR(CheckSize(size, "inclusion proof in tree size"));
  if (index >= size) {
    return OutOfRange("leaf " + std::to_string(index) + " is not in a tree of " +
                      std::to_string(size) + " leaves");
  }
  return HashRanges(InclusionProofRanges(index, size));
}

Result<std::vector<Hash>> HistoryTree::ConsistencyProof(uint64_t old_size, uint64_t new_size) const {
  GS_RETURN_IF_ERROR(CheckSize(new_size, "consistency proof to tree size"));
  if (old_size > new_size) {
    return OutOfRange("consistency proof from size " + std::to_string(old_size) +
                      " to the smaller size " + std::to_string(new_size));
  }
  return HashRanges(ConsistencyProofRanges(old_size, new_size));
}

Result<Hash> HistoryTree::Node(unsigned level, uint64_t index) const {
  std::optional<std::string> value = store_.Get(NodeKey(level, index));
  std::optional<Hash> hash = value ? HashFromBytes(AsBytes(*value)) : std::nullopt;
  if (hash) return *hash;
  const std::string where =
      "history node (level " + std::to_string(level) + ", index " + std::to_string(index) + ")";
  if (!value) return Status("HISTORY_CORRUPT", where + " is missing");
  return Status("HISTORY_CORRUPT", where + " is " + std::to_string(value->size()) + " bytes, expected 32");
}

// A range of a proof starts at a multiple of the largest power of two not above its count, so
// it splits into perfect subtrees along the one bits of count, largest first; the RFC tree over
// it hangs each of them left of the tree over the rest.
Result<Hash> HistoryTree::RangeRoot(const LeafRange& range) const {
  GS_ASSERT(range.count > 0);
  GS_ASSERT(range.begin % std::bit_floor(range.count) == 0);
  Hash peaks[64];
  int peak_count = 0;
  uint64_t begin = range.begin;
  for (int level = 63; level >= 0; --level) {
    const uint64_t width = uint64_t{1} << level;
    if ((range.count & width) == 0) continue;
    Result<Hash> peak = Node(static_cast<unsigned>(level), begin >> level);
    if (!peak.ok()) return peak.status();
    peaks[peak_count++] = *peak;
    begin += width;
  }
  Hash root = peaks[peak_count - 1];
  for (int i = peak_count - 2; i >= 0; --i) root = NodeHash(peaks[i], root);
  return root;
}

Result<std::vector<Hash>> HistoryTree::HashRanges(const std::vector<LeafRange>& ranges) const {
  std::vector<Hash> out;
  out.reserve(ranges.size());
  for (const LeafRange& range : ranges) {
    Result<Hash> hash = RangeRoot(range);
    if (!hash.ok()) return hash.status();
    out.push_back(*hash);
  }
  return out;
}

Status HistoryTree::CheckSize(uint64_t size, const char* what) const {
  Result<uint64_t> current = Size();
  if (!current.ok()) return current.status();
  if (size > *current) {
    return OutOfRange(std::string(what) + " " + std::to_string(size) +
                      " beyond the history tree's " + std::to_string(*current) + " leaves");
  }
  return Status::Ok();
}

}  // namespace gongshe::ledger
