#include "ledger/ledger.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <unordered_map>

#include "ledger/state.h"

namespace gongshe::ledger {
namespace {

std::string HeightKey(KeySpace space, uint64_t height) {
  Bytes rest;
  AppendBigEndian64(rest, height);
  return SpaceKey(space, rest);
}

Status StorageError(const rocksdb::Status& status) { return {"STORAGE", status.ToString()}; }

}  // namespace

// Reads the committed state from RocksDB through a read-through cache of recent keys (present or
// absent). Only Commit changes what is committed, and it updates the cache with the same batch, so
// the cache never disagrees with the database.
class Ledger::RocksReader final : public KvReader {
 public:
  // Bounds the cache's memory: past this many keys it starts again empty.
  static constexpr size_t kMaxCachedKeys = 500'000;

  explicit RocksReader(rocksdb::DB& db) : db_(db) {}

  std::optional<std::string> Get(const std::string& key) const override { return Cached(key); }

  // A view of the cache entry: valid until the next call, as the interface requires (a miss may
  // clear the cache, and Committed rewrites it).
  std::optional<std::string_view> GetView(const std::string& key, std::string&) const override {
    const std::optional<std::string>& value = Cached(key);
    if (!value) return std::nullopt;
    return std::string_view(*value);
  }

  // Called after `writes` reached the database.
  void Committed(const Overlay& writes) {
    for (const auto& [key, value] : writes.writes()) Remember(key, value);
  }

 private:
  // The cache entry of `key`, read from the database on a miss.
  const std::optional<std::string>& Cached(const std::string& key) const {
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    std::string value;
    rocksdb::Status status = db_.Get(rocksdb::ReadOptions(), key, &value);
    // A read error below the state machine cannot be turned into a deterministic answer.
    GS_ASSERT(status.ok() || status.IsNotFound());
    std::optional<std::string> result;
    if (status.ok()) result = std::move(value);
    return Remember(key, std::move(result));
  }

  const std::optional<std::string>& Remember(const std::string& key, std::optional<std::string> value) const {
    if (cache_.size() >= kMaxCachedKeys) cache_.clear();
    return cache_.insert_or_assign(key, std::move(value)).first->second;
  }

  rocksdb::DB& db_;
  mutable std::unordered_map<std::string, std::optional<std::string>> cache_;
};

Ledger::Ledger(std::unique_ptr<rocksdb::DB> db)
    : db_(std::move(db)), reader_(std::make_unique<RocksReader>(*db_)) {}

Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& dir, const GenesisDoc& genesis) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, dir, &raw);
  if (!status.ok()) return Status{"STORAGE", "cannot open ledger at " + dir + ": " + status.ToString()};
  std::unique_ptr<Ledger> ledger(new Ledger(std::unique_ptr<rocksdb::DB>(raw)));

  if (!ledger->reader_->Get(ChainConfigKey())) {
    Overlay writes(*ledger->reader_);
    WriteGenesisState(genesis, writes);
    GS_RETURN_IF_ERROR(ledger->Commit(writes));
  } else {
    ledger->tip_ = ReadChainTip(*ledger->reader_);
  }
  if (ledger->tip_.config.genesis_hash() != std::string(AsChars(genesis.hash))) {
    return Status{"GENESIS_MISMATCH", "the ledger at " + dir + " was created from another genesis"};
  }
  return ledger;
}

Result<v1::BlockResults> Ledger::Apply(const v1::Block& block) {
  return Apply(block, VerifyBlockSignatures(block, tip_.config.chain_id()));
}

Result<v1::BlockResults> Ledger::Apply(const v1::Block& block, const SignatureResults& signatures) {
  Overlay writes(*reader_);
  Result<v1::BlockResults> results = ExecuteBlock(block, signatures, writes);
  if (!results.ok()) return results;
  uint64_t height = tip_.state.height() + 1;
  std::string block_bytes, results_bytes;
  GS_ASSERT(block.SerializeToString(&block_bytes) && results->SerializeToString(&results_bytes));
  writes.Put(HeightKey(KeySpace::kBlock, height), std::move(block_bytes));
  writes.Put(HeightKey(KeySpace::kResults, height), std::move(results_bytes));
  GS_RETURN_IF_ERROR(Commit(writes));
  GS_ASSERT(tip_.state.height() == height);
  return results;
}

Status Ledger::Commit(const Overlay& writes) {
  rocksdb::WriteBatch batch;
  for (const auto& [key, value] : writes.writes()) {
    rocksdb::Status status = value ? batch.Put(key, *value) : batch.Delete(key);
    if (!status.ok()) return StorageError(status);
  }
  rocksdb::WriteOptions options;
  options.sync = true;
  rocksdb::Status status = db_->Write(options, &batch);
  if (!status.ok()) return StorageError(status);
  reader_->Committed(writes);
  tip_ = ReadChainTip(*reader_);
  return Status::Ok();
}

std::optional<v1::Block> Ledger::BlockAt(uint64_t height) const {
  std::optional<std::string> bytes = reader_->Get(HeightKey(KeySpace::kBlock, height));
  if (!bytes) return std::nullopt;
  v1::Block block;
  GS_ASSERT(block.ParseFromString(*bytes));
  return block;
}

std::optional<v1::BlockResults> Ledger::ResultsAt(uint64_t height) const {
  std::optional<std::string> bytes = reader_->Get(HeightKey(KeySpace::kResults, height));
  if (!bytes) return std::nullopt;
  v1::BlockResults results;
  GS_ASSERT(results.ParseFromString(*bytes));
  return results;
}

const KvReader& Ledger::state() const { return *reader_; }

}  // namespace gongshe::ledger
