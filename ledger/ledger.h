#pragma once
// The persistent ledger of one node: blocks, their results and the state, in RocksDB. Each block's
// whole effect (state records, state-tree nodes, history-tree nodes, the block and its results) is
// one atomic, synced RocksDB write, so a process killed at any instant reopens at the last applied
// block with that block's state root.

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

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

// Where a committed transaction is: its block height and index in the block.
struct TxLocation {
  uint64_t height = 0;
  uint32_t index = 0;
};

// Records the node keeps beside the ledger in the same store (KeySpace::kNodeRecord): consensus
// safety state, consensus blocks. Keys are given without the space byte; nullopt deletes.
using NodeRecords = std::vector<std::pair<std::string, std::optional<std::string>>>;

// A consistent, read-only view of the committed ledger at one height. Unlike Ledger, it may be
// used from any thread while blocks are being committed. Release it before the Ledger.
class LedgerSnapshot {
 public:
  virtual ~LedgerSnapshot() = default;
  virtual uint64_t height() const = 0;
  virtual const KvReader& state() const = 0;
  virtual std::optional<v1::Block> BlockAt(uint64_t height) const = 0;
  virtual std::optional<v1::BlockResults> ResultsAt(uint64_t height) const = 0;
  // The commit certificate stored with a block that was certified directly (the last block of
  // each commit); nullopt for blocks certified through a descendant.
  virtual std::optional<v1::CommitCertificate> CertificateAt(uint64_t height) const = 0;
  virtual std::optional<TxLocation> FindTx(const Hash& tx_id) const = 0;
};

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

  // Whether a write waits for the disk. kSynced: durable when the call returns. kBuffered: handed
  // to the operating system (it survives the process being killed, not a power loss) and made
  // durable by the next kSynced write, which syncs every write before it in order.
  enum class Durability { kSynced, kBuffered };

  // Commits a block that ExecuteBlock already ran into `executed` (on a node, ahead of commit),
  // with `results` from that run and `tx_ids` the SHA-256 of each transaction (TxIds). `executed`
  // must have read exactly the committed state: directly, or through overlays of ancestors that are
  // committed now. `certificate` (when the block is certified directly) and node `records` go into
  // the same atomic write.
  Status CommitExecuted(const v1::Block& block, std::span<const Hash> tx_ids, const v1::BlockResults& results,
                        const Overlay& executed, const v1::CommitCertificate* certificate,
                        const NodeRecords& records, Durability durability);

  // Node records outside any block: one atomic, synced write (durable when this returns OK).
  Status PutNodeRecords(const NodeRecords& records);
  std::optional<std::string> NodeRecord(const std::string& key) const;
  // Every node record whose key starts with `prefix`, in key order, at most `limit`.
  std::vector<std::pair<std::string, std::string>> NodeRecordsWithPrefix(const std::string& prefix,
                                                                         size_t limit) const;

  std::optional<v1::CommitCertificate> CertificateAt(uint64_t height) const;
  std::shared_ptr<const LedgerSnapshot> Snapshot() const;

  // Committed blocks and their results, by height (1 .. height()).
  std::optional<v1::Block> BlockAt(uint64_t height) const;
  std::optional<v1::BlockResults> ResultsAt(uint64_t height) const;

  // The committed state, for queries and proofs.
  const KvReader& state() const;

 private:
  class RocksReader;
  class RocksSnapshot;
  Ledger(std::unique_ptr<rocksdb::DB> db);
  // The block's own records (block, results, transaction index, certificate, node records).
  void PutBlockRecords(const v1::Block& block, std::span<const Hash> tx_ids, const v1::BlockResults& results,
                       const v1::CommitCertificate* certificate, const NodeRecords& records, Overlay& out) const;
  // Writes every overlay's writes in one atomic batch and refreshes the tip.
  Status Commit(std::initializer_list<const Overlay*> writes, Durability durability);

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<RocksReader> reader_;
  ChainTip tip_;
};

}  // namespace gongshe::ledger
