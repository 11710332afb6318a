#pragma once
// The narrow key-value interface the ledger's persistent structures are written against, so the
// same code runs on RocksDB, on an in-memory map in tests, and on an overlay that holds a block's
// pending writes until they are committed in one atomic batch.
//
// Keys are namespaced by their first byte (KeySpace) so that structures sharing one RocksDB column
// family never collide.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace gongshe::ledger {

enum class KeySpace : uint8_t {
  kStateValue = 'S',    // state records (accounts, balances, cohorts, ...)
  kStateNode = 'N',     // nodes of the state commitment tree
  kHistoryNode = 'H',   // nodes of the history tree over block hashes
  kBlock = 'B',         // blocks by height
  kCertificate = 'C',   // commit certificates by height
  kResults = 'R',       // block results by height
  kMeta = 'M',          // chain metadata (last applied height, ...)
  kTxIndex = 'T',       // transaction id -> (height, index) of committed transactions
  kNodeRecord = 'X',    // records of the node around the ledger (consensus safety state, ...)
  kExplanation = 'E',   // (member, week or epoch) -> height of the block whose results explain its closing
};

// A key in `space`: the space byte followed by `rest`.
inline std::string SpaceKey(KeySpace space, ByteView rest) {
  std::string key(1, static_cast<char>(space));
  key.append(AsChars(rest));
  return key;
}

class KvReader {
 public:
  virtual ~KvReader() = default;
  // The value stored under `key`, or nullopt when absent.
  virtual std::optional<std::string> Get(const std::string& key) const = 0;

  // The same value as Get, as a view that stays valid until the next call on this reader or the
  // next write to its store. Readers that hold their values in memory return a view of them, so
  // a hot path reads without copying; the others copy the value into `scratch` and view that.
  virtual std::optional<std::string_view> GetView(const std::string& key, std::string& scratch) const {
    std::optional<std::string> value = Get(key);
    if (!value) return std::nullopt;
    scratch = *std::move(value);
    return std::string_view(scratch);
  }
};

class KvWriter {
 public:
  virtual ~KvWriter() = default;
  virtual void Put(const std::string& key, std::string value) = 0;
  virtual void Delete(const std::string& key) = 0;
};

// An in-memory ordered map: the store of unit tests.
class MemKv final : public KvReader, public KvWriter {
 public:
  std::optional<std::string> Get(const std::string& key) const override {
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<std::string_view> GetView(const std::string& key, std::string&) const override {
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return std::string_view(it->second);
  }
  void Put(const std::string& key, std::string value) override { map_[key] = std::move(value); }
  void Delete(const std::string& key) override { map_.erase(key); }
  const std::map<std::string, std::string>& entries() const { return map_; }

 private:
  std::map<std::string, std::string> map_;
};

// Pending writes over a base reader: reads see the pending writes first. Nothing reaches the base
// until the owner replays `writes()` into a real batch. A deleted key is held as nullopt.
// Overlays stack: a block executed on top of an uncommitted parent reads through the parent's
// overlay, and is rebased onto the store once the parent's writes are committed there.
class Overlay final : public KvReader, public KvWriter {
 public:
  explicit Overlay(const KvReader& base) : base_(&base) {}

  // Reads through `base` from now on; it must read exactly what the old base read.
  void Rebase(const KvReader& base) { base_ = &base; }

  std::optional<std::string> Get(const std::string& key) const override {
    auto it = writes_.find(key);
    if (it != writes_.end()) return it->second;
    return base_->Get(key);
  }
  std::optional<std::string_view> GetView(const std::string& key, std::string& scratch) const override {
    auto it = writes_.find(key);
    if (it == writes_.end()) return base_->GetView(key, scratch);
    if (!it->second) return std::nullopt;
    return std::string_view(*it->second);
  }
  void Put(const std::string& key, std::string value) override { writes_[key] = std::move(value); }
  void Delete(const std::string& key) override { writes_[key] = std::nullopt; }

  // Pending writes in key order; nullopt marks a delete.
  const std::map<std::string, std::optional<std::string>>& writes() const { return writes_; }
  void Clear() { writes_.clear(); }

  // Replays the pending writes into `out`.
  void WriteTo(KvWriter& out) const {
    for (const auto& [key, value] : writes_) {
      if (value) out.Put(key, *value);
      else out.Delete(key);
    }
  }

 private:
  const KvReader* base_;
  std::map<std::string, std::optional<std::string>> writes_;
};

}  // namespace gongshe::ledger
