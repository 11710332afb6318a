#pragma once
// The persistent ledger of one node: blocks, their results and the state, in RocksDB. Each block's
// whole effect (state records, state-tree nodes, history-tree nodes, the block and its results) is
// one atomic, synced RocksDB write, so a process killed at any instant reopens at the last applied
// block with that block's state root.

#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/block_executor.h"
#include "ledger/genesis.h"
#include "ledger/kv.h"

namespace rocksdb {
class DB;
}

namespace gongshe::ledger {

class Ledger {
 public:
  // Opens the ledger stored in `dir`, creating it from `genesis` when the directory holds none.
  // A ledger created from another genesis is refused (GENESIS_MISMATCH).
  static Result<std::unique_ptr<Ledger>> Open(const std::string& dir, const GenesisDoc& genesis);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  uint64_t height() const { return tip_.state.height(); }
  // What the next block's header must carry.
  const ChainTip& tip() const { return tip_; }

  // Executes the next block and commits its whole effect durably. A refused block (BAD_BLOCK)
  // changes nothing. The second form checks the signatures itself.
  Result<v1::BlockResults> Apply(const v1::Block& block, const SignatureResults& signatures);
  Result<v1::BlockResults> Apply(const v1::Block& block);

  // Committed blocks and their results, by height (1 .. height()).
  std::optional<v1::Block> BlockAt(uint64_t height) const;
  std::optional<v1::BlockResults> ResultsAt(uint64_t height) const;

  // The committed state, for queries and proofs.
  const KvReader& state() const;

 private:
  class RocksReader;
  Ledger(std::unique_ptr<rocksdb::DB> db);
  // Writes `writes` in one atomic, synced batch and refreshes the tip.
  Status Commit(const Overlay& writes);

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<RocksReader> reader_;
  ChainTip tip_;
};

}  // namespace gongshe::ledger
