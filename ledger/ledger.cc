#include "ledger/ledger.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

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

class Ledger::RocksReader final : public KvReader {
 public:
  explicit RocksReader(rocksdb::DB& db) : db_(db) {}
  std::optional<std::string> Get(const std::string& key) const override {
    std::string value;
    rocksdb::Status status = db_.Get(rocksdb::ReadOptions(), key, &value);
    if (status.IsNotFound()) return std::nullopt;
    // A read error below the state machine cannot be turned into a deterministic answer.
    GS_ASSERT(status.ok());
    return value;
  }

 private:
  rocksdb::DB& db_;
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
