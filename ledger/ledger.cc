#include "ledger/ledger.h"

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "absl/container/flat_hash_map.h"

#include "ledger/state.h"

namespace gongshe::ledger {
namespace {

std::string HeightKey(KeySpace space, uint64_t height) {
  Bytes rest;
  AppendBigEndian64(rest, height);
  return SpaceKey(space, rest);
}

Status StorageError(const rocksdb::Status& status) { return {"STORAGE", status.ToString()}; }

std::string TxIndexKey(const Hash& tx_id) { return SpaceKey(KeySpace::kTxIndex, tx_id); }

std::string NodeRecordKey(const std::string& key) { return SpaceKey(KeySpace::kNodeRecord, AsBytes(key)); }

// A stored record at `key`, parsed; a record that does not parse means the store is corrupt.
template <typename M>
std::optional<M> ReadRecord(const KvReader& reader, const std::string& key) {
  std::optional<std::string> bytes = reader.Get(key);
  if (!bytes) return std::nullopt;
  M record;
  GS_ASSERT(record.ParseFromString(*bytes));
  return record;
}

std::optional<TxLocation> ReadTxLocation(const KvReader& reader, const Hash& tx_id) {
  std::optional<std::string> bytes = reader.Get(TxIndexKey(tx_id));
  if (!bytes) return std::nullopt;
  GS_ASSERT(bytes->size() == 12);
  const ByteView view = AsBytes(*bytes);
  TxLocation location;
  for (int i = 0; i < 8; ++i) location.height = location.height << 8 | view[i];
  for (int i = 8; i < 12; ++i) location.index = location.index << 8 | view[i];
  return location;
}

std::string EncodeTxLocation(uint64_t height, uint32_t index) {
  Bytes bytes;
  AppendBigEndian64(bytes, height);
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(index >> shift));
  return std::string(AsChars(bytes));
}

// Most reads are point reads, and many are of absent keys (is this transaction committed? is this
// account new?): bloom filters on the tables and the memtable answer those without a search.
// Most written keys are hashes, so each memtable insert lands at a random place: a memtable of
// 8 MiB instead of 64 keeps those searches short and cached (measured: a node's block commits
// took 16% of its CPU under load with 64 MiB, 10% with 8; bench/RESULTS.md).
rocksdb::Options StoreOptions() {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.memtable_prefix_bloom_size_ratio = 0.02;
  options.memtable_whole_key_filtering = true;
  options.write_buffer_size = 8 << 20;
  return options;
}

bool IsStateKey(const std::string& key) {
  GS_ASSERT(!key.empty());  // every key starts with its space
  switch (static_cast<KeySpace>(key.front())) {
    case KeySpace::kStateValue:
    case KeySpace::kStateNode:
    case KeySpace::kHistoryNode:
    case KeySpace::kMeta:
      return true;
    default:
      return false;
  }
}

}  // namespace

// Reads through a RocksDB snapshot: thread-safe and consistent, with no cache.
class Ledger::RocksSnapshot final : public LedgerSnapshot, private KvReader {
 public:
  explicit RocksSnapshot(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
  ~RocksSnapshot() override { db_.ReleaseSnapshot(snapshot_); }

  uint64_t height() const override {
    // Read on first use: mempool admission takes a snapshot after every commit and never asks.
    std::call_once(height_read_, [this] { height_ = StateView(*this).ChainState().height(); });
    return height_;
  }
  const KvReader& state() const override { return *this; }
  std::optional<v1::Block> BlockAt(uint64_t height) const override {
    return ReadRecord<v1::Block>(*this, HeightKey(KeySpace::kBlock, height));
  }
  std::optional<v1::BlockResults> ResultsAt(uint64_t height) const override {
    return ReadRecord<v1::BlockResults>(*this, HeightKey(KeySpace::kResults, height));
  }
  std::optional<v1::CommitCertificate> CertificateAt(uint64_t height) const override {
    return ReadRecord<v1::CommitCertificate>(*this, HeightKey(KeySpace::kCertificate, height));
  }
  std::optional<TxLocation> FindTx(const Hash& tx_id) const override { return ReadTxLocation(*this, tx_id); }

 private:
  std::optional<std::string> Get(const std::string& key) const override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    std::string value;
    rocksdb::Status status = db_.Get(options, key, &value);
    GS_ASSERT(status.ok() || status.IsNotFound());
    if (!status.ok()) return std::nullopt;
    return value;
  }

  rocksdb::DB& db_;
  const rocksdb::Snapshot* const snapshot_;
  mutable std::once_flag height_read_;
  mutable uint64_t height_ = 0;
};

// Reads the committed state from RocksDB through a read-through cache of recent keys (present or
// absent). Only Commit changes what is committed, and it updates the cache with the same batch, so
// the cache never disagrees with the database.
//
// A block's first read of each of its keys (some 4,500 for 1,000 transactions: records and state
// tree pages) misses the CPU caches, so the cache's layout sets the cost of execution: a lookup
// touches the table's control bytes, one slot and one allocation holding the key and the value,
// where a std::unordered_map of strings follows about six pointers (bench/RESULTS.md).
class Ledger::RocksReader final : public KvReader {
 public:
  // Bounds the cache's memory: past this many keys it starts again empty.
  static constexpr size_t kMaxCachedKeys = 500'000;

  explicit RocksReader(rocksdb::DB& db) : db_(db) {}

  std::optional<std::string> Get(const std::string& key) const override {
    std::optional<std::string_view> value = Cached(key);
    if (!value) return std::nullopt;
    return std::string(*value);
  }

  // A view of the cache entry: valid until the next call, as the interface requires (a miss may
  // clear the cache, and Committed rewrites it).
  std::optional<std::string_view> GetView(const std::string& key, std::string&) const override { return Cached(key); }

  // Called after `writes` reached the database. The state the next block reads is remembered;
  // blocks, results and indexes, large and read rarely (by the API), are only forgotten.
  void Committed(const Overlay& writes) {
    for (const auto& [key, value] : writes.writes()) {
      if (IsStateKey(key)) Remember(key, value ? std::optional<std::string_view>(*value) : std::nullopt);
      else cache_.erase(std::string_view(key));
    }
  }

 private:
  // One cached read: `bytes` holds the key (the slot's key views it) and then the value.
  struct Entry {
    std::unique_ptr<char[]> bytes;
    uint32_t value_size = 0;
    bool present = false;
  };
  using Cache = absl::flat_hash_map<std::string_view, Entry>;

  static std::optional<std::string_view> ValueOf(const Cache::value_type& slot) {
    if (!slot.second.present) return std::nullopt;
    return std::string_view(slot.second.bytes.get() + slot.first.size(), slot.second.value_size);
  }

  // The cached value of `key`, read from the database on a miss.
  std::optional<std::string_view> Cached(const std::string& key) const {
    auto it = cache_.find(std::string_view(key));
    if (it != cache_.end()) return ValueOf(*it);
    std::string value;
    rocksdb::Status status = db_.Get(rocksdb::ReadOptions(), key, &value);
    // A read error below the state machine cannot be turned into a deterministic answer.
    GS_ASSERT(status.ok() || status.IsNotFound());
    return Remember(key, status.ok() ? std::optional<std::string_view>(value) : std::nullopt);
  }

  std::optional<std::string_view> Remember(std::string_view key, std::optional<std::string_view> value) const {
    GS_ASSERT(!key.empty());
    cache_.erase(key);
    if (cache_.size() >= kMaxCachedKeys) cache_.clear();
    const size_t value_size = value ? value->size() : 0;
    GS_ASSERT(value_size <= UINT32_MAX);
    Entry entry;
    entry.bytes = std::make_unique_for_overwrite<char[]>(key.size() + value_size);
    std::memcpy(entry.bytes.get(), key.data(), key.size());
    if (value) std::memcpy(entry.bytes.get() + key.size(), value->data(), value_size);
    entry.value_size = static_cast<uint32_t>(value_size);
    entry.present = value.has_value();
    const std::string_view stored_key(entry.bytes.get(), key.size());
    auto [it, inserted] = cache_.emplace(stored_key, std::move(entry));
    GS_ASSERT(inserted);
    return ValueOf(*it);
  }

  rocksdb::DB& db_;
  mutable Cache cache_;
};

Ledger::Ledger(std::unique_ptr<rocksdb::DB> db)
    : db_(std::move(db)), reader_(std::make_unique<RocksReader>(*db_)) {}

Ledger::~Ledger() = default;

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& dir, const GenesisDoc& genesis) {
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(StoreOptions(), dir, &raw);
  if (!status.ok()) return Status{"STORAGE", "cannot open ledger at " + dir + ": " + status.ToString()};
  std::unique_ptr<Ledger> ledger(new Ledger(std::unique_ptr<rocksdb::DB>(raw)));

  if (!ledger->reader_->Get(ChainConfigKey())) {
    Overlay writes(*ledger->reader_);
    WriteGenesisState(genesis, writes);
    GS_RETURN_IF_ERROR(ledger->Commit({&writes}, Durability::kSynced));
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
  GS_RETURN_IF_ERROR(CommitExecuted(block, TxIds(block), *results, writes, nullptr, {}, Durability::kSynced));
  return results;
}

Status Ledger::CommitExecuted(const v1::Block& block, std::span<const Hash> tx_ids, const v1::BlockResults& results,
                              const Overlay& executed, const v1::CommitCertificate* certificate,
                              const NodeRecords& records, Durability durability) {
  const uint64_t height = tip_.state.height() + 1;
  Overlay own(*reader_);
  PutBlockRecords(block, tx_ids, results, certificate, records, own);
  GS_RETURN_IF_ERROR(Commit({&executed, &own}, durability));
  // The executed overlay carried the new chain state: the block really was the next one.
  GS_ASSERT(tip_.state.height() == height);
  return Status::Ok();
}

void Ledger::PutBlockRecords(const v1::Block& block, std::span<const Hash> tx_ids, const v1::BlockResults& results,
                             const v1::CommitCertificate* certificate, const NodeRecords& records,
                             Overlay& out) const {
  const uint64_t height = tip_.state.height() + 1;
  GS_ASSERT(results.results_size() == block.txs_size());
  GS_ASSERT(tx_ids.size() == static_cast<size_t>(block.txs_size()));
  std::string block_bytes, results_bytes;
  GS_ASSERT(block.SerializeToString(&block_bytes) && results.SerializeToString(&results_bytes));
  out.Put(HeightKey(KeySpace::kBlock, height), std::move(block_bytes));
  out.Put(HeightKey(KeySpace::kResults, height), std::move(results_bytes));
  for (size_t i = 0; i < tx_ids.size(); ++i) {
    out.Put(TxIndexKey(tx_ids[i]), EncodeTxLocation(height, static_cast<uint32_t>(i)));
  }
  if (certificate) {
    std::string bytes;
    GS_ASSERT(certificate->SerializeToString(&bytes));
    out.Put(HeightKey(KeySpace::kCertificate, height), std::move(bytes));
  }
  for (const auto& [key, value] : records) {
    if (value) out.Put(NodeRecordKey(key), *value);
    else out.Delete(NodeRecordKey(key));
  }
}

Status Ledger::Commit(std::initializer_list<const Overlay*> writes, Durability durability) {
  rocksdb::WriteBatch batch;
  for (const Overlay* overlay : writes) {
    for (const auto& [key, value] : overlay->writes()) {
      rocksdb::Status status = value ? batch.Put(key, *value) : batch.Delete(key);
      if (!status.ok()) return StorageError(status);
    }
  }
  rocksdb::WriteOptions options;
  options.sync = durability == Durability::kSynced;
  rocksdb::Status status = db_->Write(options, &batch);
  if (!status.ok()) return StorageError(status);
  for (const Overlay* overlay : writes) reader_->Committed(*overlay);
  tip_ = ReadChainTip(*reader_);
  return Status::Ok();
}

Status Ledger::PutNodeRecords(const NodeRecords& records) {
  Overlay writes(*reader_);
  for (const auto& [key, value] : records) {
    if (value) writes.Put(NodeRecordKey(key), *value);
    else writes.Delete(NodeRecordKey(key));
  }
  return Commit({&writes}, Durability::kSynced);
}

std::optional<std::string> Ledger::NodeRecord(const std::string& key) const { return reader_->Get(NodeRecordKey(key)); }

std::vector<std::pair<std::string, std::string>> Ledger::NodeRecordsWithPrefix(const std::string& prefix,
                                                                               size_t limit) const {
  const std::string start = NodeRecordKey(prefix);
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(start); it->Valid() && out.size() < limit && it->key().starts_with(start); it->Next()) {
    out.emplace_back(it->key().ToString().substr(1), it->value().ToString());
  }
  GS_ASSERT(it->status().ok());
  return out;
}

std::optional<v1::CommitCertificate> Ledger::CertificateAt(uint64_t height) const {
  return ReadRecord<v1::CommitCertificate>(*reader_, HeightKey(KeySpace::kCertificate, height));
}

std::shared_ptr<const LedgerSnapshot> Ledger::Snapshot() const { return std::make_shared<RocksSnapshot>(*db_); }

std::optional<v1::Block> Ledger::BlockAt(uint64_t height) const {
  return ReadRecord<v1::Block>(*reader_, HeightKey(KeySpace::kBlock, height));
}

std::optional<v1::BlockResults> Ledger::ResultsAt(uint64_t height) const {
  return ReadRecord<v1::BlockResults>(*reader_, HeightKey(KeySpace::kResults, height));
}

const KvReader& Ledger::state() const { return *reader_; }

}  // namespace gongshe::ledger
