#pragma once
// The mempool: transactions this node admitted and that wait for a block.
//
// Admission runs on a shared worker pool, never on the caller's thread and never on the
// consensus thread: size, SHA-256 id, duplicate check, decoding (version, chain id, action),
// signature and co-signature, then the stateful pre-checks of ledger/admission.h against a
// snapshot of the committed ledger (active signer, role, nonce window). Only then is the
// transaction inserted, under the lock, with its bounds checked.
//
// What the pool holds: at most one transaction per (signer, nonce) — the first admitted keeps the
// slot, a later one with the same nonce is refused (DUPLICATE_NONCE), so a pooled transaction is
// never replaced behind a client's back; at most max_txs_per_account per signer; at most max_txs
// transactions and max_bytes bytes in all. Nonces may have gaps: nonce n+2 waits in the pool
// until n+1 arrives, and Reap never takes a transaction across a gap.
//
// Answers (Admission.status, codes stable):
//   OK                    admitted
//   ALREADY_KNOWN         the same bytes are pooled or committed; not an error (the caller's
//                         transaction is, or was, on its way into a block)
//   TX_TOO_LARGE, MALFORMED, UNSUPPORTED_VERSION, WRONG_CHAIN, UNKNOWN_ACTION   (DecodeTx)
//   BAD_SIGNATURE         the signature or the co-signature does not verify
//   UNKNOWN_SIGNER, RETIRED_SIGNER, UNAUTHORIZED, UNEXPECTED_COSIGNATURE,
//   NONCE_TOO_LOW, NONCE_TOO_HIGH                                              (CheckAdmission)
//   DUPLICATE_NONCE       another transaction of the signer with that nonce is pooled
//   ACCOUNT_QUEUE_FULL    the signer has max_txs_per_account pooled transactions
//   MEMPOOL_FULL          the pool is at max_txs or would pass max_bytes; try again later
//   MEMPOOL_BUSY          too many checks pending (or the worker queue is full): the
//                         transaction was not looked at; try again later
//
// Thread-safe. One mutex guards the pool; decoding and signature checks run outside it, and
// every section under it is short, except Reap, which walks the pool (see there).

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "common/thread_pool.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "ledger/kv.h"
#include "ledger/ledger.h"
#include "ledger/transaction.h"
#include "node/service.h"

namespace gongshe::node {

struct MempoolConfig {
  std::string chain_id;
  size_t max_txs = 50'000;               // pooled transactions
  size_t max_bytes = 64 << 20;           // their total size
  uint64_t max_nonce_ahead = 256;        // admitted nonces: [next, next + max_nonce_ahead)
  size_t max_txs_per_account = 256;      // pooled transactions of one signer
  size_t max_pending_checks = 20'000;    // submitted transactions not yet answered
};

// A pooled transaction: its id and its exact bytes, shared so that taking it costs no copy.
struct PooledTx {
  ledger::Hash id{};
  std::shared_ptr<const std::string> bytes;
};

using TxIdSet = std::unordered_set<ledger::Hash, ledger::Hash32Hasher>;

// Where a transaction came from; passed to the admitted hook so the node chooses what to gossip.
enum class TxOrigin { kClient, kPeer };

// Counts since construction, for metrics. Every answered transaction counts in exactly one.
struct MempoolCounters {
  uint64_t admitted = 0;
  uint64_t already_known = 0;
  uint64_t rejected = 0;  // every other code except MEMPOOL_BUSY
  uint64_t busy = 0;      // MEMPOOL_BUSY
};

class Mempool {
 public:
  using Done = std::function<void(const Admission&)>;
  using BatchDone = std::function<void(std::vector<Admission>)>;
  using CommittedSnapshot = std::function<std::shared_ptr<const ledger::LedgerSnapshot>()>;
  // Called once per admitted transaction, on the worker that admitted it, outside the lock,
  // before its `done`: the gossip hook. It must not block for long.
  using OnAdmitted = std::function<void(const PooledTx&, TxOrigin)>;
  using NextNonce = std::function<uint64_t(const ledger::PublicKey&)>;

  // `workers` must outlive the mempool and keep running until it is destroyed. `committed`
  // returns a snapshot of the latest committed ledger; it is called on worker threads.
  Mempool(MempoolConfig config, ThreadPool& workers, CommittedSnapshot committed, OnAdmitted on_admitted = {});
  // Waits until every queued check has run and delivered its answer. Not from a task of
  // `workers`.
  ~Mempool();
  Mempool(const Mempool&) = delete;
  Mempool& operator=(const Mempool&) = delete;

  // Checks `bytes` and inserts them (see the top of this file). `done` (may be empty) gets the
  // answer on a worker thread, or, for MEMPOOL_BUSY, on the caller's thread before Submit
  // returns. The caller's thread only hashes the bytes, and only when the answer is MEMPOOL_BUSY.
  void Submit(std::string bytes, Done done, TxOrigin origin = TxOrigin::kClient);

  // Many transactions at once (gossip): one worker task per chunk of kBatchChunk. `done` (may be
  // empty) runs once, with the answers in input order, on a worker thread or on the caller's
  // thread when no chunk could be queued. Transactions beyond the free check slots answer
  // MEMPOOL_BUSY.
  static constexpr size_t kBatchChunk = 64;
  void SubmitBatch(std::vector<std::string> txs, BatchDone done, TxOrigin origin = TxOrigin::kPeer);

  // Transactions for a new block executed on a state in which `next_nonce(signer)` is each
  // signer's next nonce: the state after the block's uncommitted ancestors (return 0 for a signer
  // with no account: it is skipped). For each signer only a contiguous run of nonces starting at
  // next_nonce is taken, so a gap stops the run. `exclude` holds the ids in those ancestors: they
  // are never returned. One that applied there has a nonce below next_nonce anyway; one at a
  // signer's next nonce failed there, and ends the signer's run (its successors would fail with
  // NONCE_GAP). Signers interleave in admission order: a transaction comes after every
  // transaction admitted before it, except one that waited for its predecessor, which comes right
  // after that predecessor. Stops at max_txs transactions, or at the first one that would pass
  // max_bytes. Runs under the lock, with no signature work: O(transactions walked · log), the
  // result plus the pooled transactions passed over (excluded, stale, or behind a gap);
  // `next_nonce` is called once per signer met, under the lock, and must not call the mempool.
  std::vector<PooledTx> Reap(size_t max_txs, size_t max_bytes, const NextNonce& next_nonce,
                             const TxIdSet& exclude) const;

  // True when `id` is pooled.
  bool Contains(const ledger::Hash& id) const;

  // True when this node verified the signatures of the transaction `id` recently: at admission,
  // or in a block (NoteVerified). The id is the SHA-256 of the exact bytes, so they need no second
  // check, here or when a block holding them executes. Remembers the last kVerifiedIds ids.
  static constexpr size_t kVerifiedIds = 1 << 17;
  bool SignaturesVerified(const ledger::Hash& id) const;
  // Records ids whose bytes decoded for this chain and whose signatures verified.
  void NoteVerified(std::span<const ledger::Hash> ids);

  // After blocks commit, with `state` the new committed state (call it once the ledger's
  // snapshots see that state; admissions racing with it re-check against a newer snapshot):
  // removes the `committed` ids (applied or rejected), then, for the signers of those that were
  // pooled and for a round-robin slice of up to max(kSweepSigners, committed.size()) other
  // signers, every transaction whose nonce is below the signer's next nonce in `state`, and
  // every transaction of a signer that is no longer active. So a transaction made stale by one
  // this node never saw leaves within ceil(signers / kSweepSigners) updates; until then Reap
  // passes over it. Reads of `state` run outside the lock.
  static constexpr size_t kSweepSigners = 256;
  void Update(std::span<const ledger::Hash> committed, const ledger::KvReader& state);

  // Pooled transactions, and their total size in bytes.
  size_t size() const;
  size_t bytes() const;
  // Transactions taken in and not yet answered: 0 again by the time the last answer is delivered.
  size_t pending_checks() const;
  MempoolCounters counters() const;

 private:
  struct Entry {
    ledger::Hash id{};
    ledger::PublicKey signer{};
    uint64_t nonce = 0;
    uint64_t seq = 0;  // admission order
    std::shared_ptr<const std::string> bytes;
  };
  using SignerQueue = std::map<uint64_t, Entry>;  // by nonce; node-based, so entries never move
  struct Batch;

  // The committed ledger as of one Update generation; reused across a chunk of admissions.
  struct CommittedView {
    uint64_t generation = 0;
    std::shared_ptr<const ledger::LedgerSnapshot> snapshot;
  };
  // Per-task scratch: one decoding buffer and one committed view for a run of admissions.
  struct Scratch {
    ledger::DecodedTx tx;
    CommittedView view;
  };

  // Runs on a worker: the whole admission of one transaction, the hook, the counters.
  Admission Admit(std::string bytes, TxOrigin origin, Scratch& scratch);
  Status Check(std::string bytes, const ledger::Hash& id, TxOrigin origin, Scratch& scratch);
  // Points `view` at the latest committed state unless it is there already.
  void Refresh(CommittedView& view) const;
  // Inserts under the lock; nullopt when an Update ran after `generation` was read (the checks
  // must be redone against a newer snapshot).
  std::optional<Status> Insert(const ledger::DecodedTx& tx, const PooledTx& pooled, uint64_t generation);
  Admission Busy(const std::string& bytes, std::string message);
  void Count(const Status& status);
  // Takes up to `n` check slots; returns how many it got.
  size_t ReserveChecks(size_t n);
  void ReleaseChecks(size_t n);
  // Queues `task` on the workers, counted in tasks_ until it has run; false when the queue is full.
  bool Queue(std::function<void()> task);
  void TaskDone();
  void RunBatchChunk(const std::shared_ptr<Batch>& batch, size_t begin, size_t end);
  static void FinishBatchChunk(Batch& batch);

  // Require mu_ held.
  void RemoveLocked(const ledger::Hash& id);
  // Removes the signer's transactions below `next_nonce`, or all of them when it is nullopt.
  void RemoveBelowLocked(const ledger::PublicKey& signer, std::optional<uint64_t> next_nonce);
  // Drops `entry` from the indexes other than its signer's queue.
  void UnindexLocked(const Entry& entry);
  std::vector<ledger::PublicKey> SweepSignersLocked(size_t count);

  const MempoolConfig config_;
  ThreadPool& workers_;
  const CommittedSnapshot committed_;
  const OnAdmitted on_admitted_;

  std::atomic<uint64_t> generation_{0};  // Updates so far
  std::atomic<uint64_t> admitted_{0}, already_known_{0}, rejected_{0}, busy_{0};

  mutable std::mutex mu_;
  std::condition_variable idle_;  // tasks_ reached 0
  size_t pending_checks_ = 0;     // transactions taken in and not yet answered
  size_t tasks_ = 0;              // queued or running worker tasks (the destructor waits for them)
  std::unordered_map<ledger::Hash, const Entry*, ledger::Hash32Hasher> by_id_;
  std::map<ledger::PublicKey, SignerQueue> by_signer_;
  std::map<uint64_t, const Entry*> by_seq_;
  uint64_t next_seq_ = 0;
  size_t bytes_ = 0;
  std::optional<ledger::PublicKey> sweep_from_;  // where the next Update's sweep starts

  // The ids of recently verified transactions: a set, and their insertion order for eviction.
  mutable std::mutex verified_mu_;
  TxIdSet verified_;
  std::deque<ledger::Hash> verified_order_;
};

}  // namespace gongshe::node
