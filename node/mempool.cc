#include "node/mempool.h"

#include <algorithm>
#include <utility>

#include "ledger/admission.h"
#include "ledger/state.h"

namespace gongshe::node {
namespace {

// Checks against a snapshot are redone when an Update lands in between; past this many tries the
// transaction is answered MEMPOOL_BUSY rather than held up.
constexpr int kMaxStateChecks = 4;

Status AlreadyKnown(std::string message) { return {"ALREADY_KNOWN", std::move(message)}; }

}  // namespace

// One SubmitBatch call: its transactions, their answers, and the chunks still running.
struct Mempool::Batch {
  std::vector<std::string> txs;
  std::vector<Admission> answers;
  BatchDone done;
  TxOrigin origin = TxOrigin::kPeer;
  std::atomic<size_t> chunks_left{0};
};

Mempool::Mempool(MempoolConfig config, ThreadPool& workers, CommittedSnapshot committed, OnAdmitted on_admitted)
    : config_(std::move(config)),
      workers_(workers),
      committed_(std::move(committed)),
      on_admitted_(std::move(on_admitted)) {
  GS_ASSERT(committed_);
  GS_ASSERT(config_.max_txs > 0 && config_.max_bytes > 0 && config_.max_nonce_ahead > 0);
  GS_ASSERT(config_.max_txs_per_account > 0 && config_.max_pending_checks > 0);
}

Mempool::~Mempool() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return tasks_ == 0; });
}

void Mempool::Submit(std::string bytes, Done done, TxOrigin origin) {
  if (ReserveChecks(1) == 0) {
    Admission answer = Busy(bytes, "too many transactions are waiting for their checks");
    if (done) done(answer);
    return;
  }
  struct Pending {
    std::string bytes;
    Done done;
  };
  auto pending = std::make_shared<Pending>(Pending{std::move(bytes), std::move(done)});
  const bool queued = Queue([this, pending, origin] {
    Scratch scratch;
    Admission answer = Admit(std::move(pending->bytes), origin, scratch);
    ReleaseChecks(1);
    if (pending->done) pending->done(answer);
  });
  if (queued) return;
  ReleaseChecks(1);
  Admission answer = Busy(pending->bytes, "the worker queue is full");
  if (pending->done) pending->done(answer);
}

void Mempool::SubmitBatch(std::vector<std::string> txs, BatchDone done, TxOrigin origin) {
  auto batch = std::make_shared<Batch>();
  const size_t count = txs.size();
  batch->txs = std::move(txs);
  batch->answers.resize(count);
  batch->done = std::move(done);
  batch->origin = origin;
  const size_t granted = ReserveChecks(count);
  for (size_t i = granted; i < count; ++i) {
    batch->answers[i] = Busy(batch->txs[i], "too many transactions are waiting for their checks");
  }
  const size_t chunks = (granted + kBatchChunk - 1) / kBatchChunk;
  if (chunks == 0) {
    if (batch->done) batch->done(std::move(batch->answers));
    return;
  }
  batch->chunks_left.store(chunks);
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    const size_t begin = chunk * kBatchChunk;
    const size_t end = std::min(granted, begin + kBatchChunk);
    if (Queue([this, batch, begin, end] { RunBatchChunk(batch, begin, end); })) continue;
    ReleaseChecks(end - begin);
    for (size_t i = begin; i < end; ++i) batch->answers[i] = Busy(batch->txs[i], "the worker queue is full");
    FinishBatchChunk(*batch);
  }
}

void Mempool::RunBatchChunk(const std::shared_ptr<Batch>& batch, size_t begin, size_t end) {
  Scratch scratch;  // one decoding buffer and, while no block commits, one snapshot for the chunk
  for (size_t i = begin; i < end; ++i) {
    batch->answers[i] = Admit(std::move(batch->txs[i]), batch->origin, scratch);
  }
  ReleaseChecks(end - begin);
  FinishBatchChunk(*batch);
}

void Mempool::FinishBatchChunk(Batch& batch) {
  // acq_rel: the last chunk sees every other chunk's answers.
  if (batch.chunks_left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (batch.done) batch.done(std::move(batch.answers));
}

Admission Mempool::Admit(std::string bytes, TxOrigin origin, Scratch& scratch) {
  Admission answer;
  if (bytes.size() > ledger::kMaxTxBytes) {
    // Refused before hashing: the id stays zero.
    answer.status = ledger::DecodeTxInto(AsBytes(bytes), config_.chain_id, scratch.tx);
    GS_ASSERT(answer.status.code() == "TX_TOO_LARGE");
  } else {
    answer.tx_id = ledger::Sha256(AsBytes(bytes));
    answer.status = Check(std::move(bytes), answer.tx_id, origin, scratch);
  }
  Count(answer.status);
  return answer;
}

Status Mempool::Check(std::string bytes, const ledger::Hash& id, TxOrigin origin, Scratch& scratch) {
  if (Contains(id)) return AlreadyKnown("the transaction is in the mempool");
  ledger::DecodedTx& tx = scratch.tx;
  GS_RETURN_IF_ERROR(ledger::DecodeTxInto(AsBytes(bytes), config_.chain_id, tx));
  if (!SignaturesVerified(id)) {
    if (!ledger::VerifyTxSignatures(tx, config_.chain_id)) {
      return {"BAD_SIGNATURE", "the signature or the co-signature does not verify for this chain"};
    }
    NoteVerified({&id, 1});
  }
  tx.id = id;
  const PooledTx pooled{id, std::make_shared<const std::string>(std::move(bytes))};
  for (int attempt = 0; attempt < kMaxStateChecks; ++attempt) {
    Refresh(scratch.view);
    const ledger::LedgerSnapshot& snapshot = *scratch.view.snapshot;
    if (std::optional<ledger::TxLocation> at = snapshot.FindTx(id)) {
      return AlreadyKnown("the transaction was committed at height " + std::to_string(at->height));
    }
    GS_RETURN_IF_ERROR(ledger::CheckAdmission(tx, snapshot.state(), config_.max_nonce_ahead));
    std::optional<Status> inserted = Insert(tx, pooled, scratch.view.generation);
    if (!inserted) continue;
    if (inserted->ok() && on_admitted_) on_admitted_(pooled, origin);
    return *std::move(inserted);
  }
  return {"MEMPOOL_BUSY", "blocks kept committing during the checks; try again"};
}

void Mempool::Refresh(CommittedView& view) const {
  // The generation is read before the snapshot is taken: an Update after this read makes Insert
  // refuse, and the next attempt takes a newer snapshot.
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (view.snapshot && view.generation == generation) return;
  view.generation = generation;
  view.snapshot = committed_();
  GS_ASSERT(view.snapshot != nullptr);
}

std::optional<Status> Mempool::Insert(const ledger::DecodedTx& tx, const PooledTx& pooled, uint64_t generation) {
  const uint64_t nonce = tx.body.nonce();
  const size_t size = pooled.bytes->size();
  std::lock_guard lock(mu_);
  if (generation_.load(std::memory_order_relaxed) != generation) return std::nullopt;
  if (by_id_.contains(pooled.id)) return AlreadyKnown("the transaction is in the mempool");
  auto signer = by_signer_.find(tx.signer);
  if (signer != by_signer_.end()) {
    if (signer->second.contains(nonce)) {
      return Status{"DUPLICATE_NONCE", "another transaction of this signer with nonce " + std::to_string(nonce) +
                                           " is waiting in the mempool"};
    }
    if (signer->second.size() >= config_.max_txs_per_account) {
      return Status{"ACCOUNT_QUEUE_FULL", "the signer has " + std::to_string(signer->second.size()) +
                                              " transactions waiting in the mempool; wait for some to commit"};
    }
  }
  GS_ASSERT(bytes_ <= config_.max_bytes);
  if (by_id_.size() >= config_.max_txs || size > config_.max_bytes - bytes_) {
    return Status{"MEMPOOL_FULL", "the mempool holds " + std::to_string(by_id_.size()) + " transactions (" +
                                      std::to_string(bytes_) + " bytes); try again later"};
  }
  SignerQueue& queue = signer != by_signer_.end() ? signer->second : by_signer_[tx.signer];
  const uint64_t seq = next_seq_++;
  auto [entry, inserted] = queue.try_emplace(nonce, Entry{pooled.id, tx.signer, nonce, seq, pooled.bytes});
  const bool new_id = by_id_.emplace(pooled.id, &entry->second).second;
  const bool new_seq = by_seq_.emplace(seq, &entry->second).second;
  GS_ASSERT(inserted && new_id && new_seq);
  bytes_ += size;
  GS_ASSERT(by_id_.size() == by_seq_.size());
  return Status::Ok();
}

std::vector<PooledTx> Mempool::Reap(size_t max_txs, size_t max_bytes, const NextNonce& next_nonce,
                                    const TxIdSet& exclude) const {
  std::vector<PooledTx> out;
  size_t out_bytes = 0;
  std::lock_guard lock(mu_);
  // The next nonce to take, per signer met; each signer's run advances it.
  std::unordered_map<ledger::PublicKey, uint64_t, ledger::Hash32Hasher> next;
  for (auto walk = by_seq_.begin(); walk != by_seq_.end() && out.size() < max_txs; ++walk) {
    const Entry& met = *walk->second;
    auto [expected, first_time] = next.try_emplace(met.signer, 0);
    if (first_time) expected->second = next_nonce(met.signer);
    if (met.nonce != expected->second) continue;  // stale, or behind a gap
    // Take `met`, then its successors that were admitted before it (walked past while they
    // waited); later ones are taken when the walk reaches them. An excluded one failed in an
    // ancestor: its nonce stays free, and the signer's run ends there.
    const SignerQueue& queue = by_signer_.find(met.signer)->second;
    for (auto it = queue.find(met.nonce);
         it != queue.end() && it->first == expected->second && it->second.seq <= met.seq; ++it) {
      const Entry& entry = it->second;
      if (exclude.contains(entry.id)) break;
      if (out.size() == max_txs || entry.bytes->size() > max_bytes - out_bytes) return out;
      out.push_back({entry.id, entry.bytes});
      out_bytes += entry.bytes->size();
      ++expected->second;
    }
  }
  return out;
}

bool Mempool::Contains(const ledger::Hash& id) const {
  std::lock_guard lock(mu_);
  return by_id_.contains(id);
}

bool Mempool::SignaturesVerified(const ledger::Hash& id) const {
  std::lock_guard lock(verified_mu_);
  return verified_.contains(id);
}

void Mempool::NoteVerified(std::span<const ledger::Hash> ids) {
  std::lock_guard lock(verified_mu_);
  for (const ledger::Hash& id : ids) {
    if (!verified_.insert(id).second) continue;
    verified_order_.push_back(id);
    if (verified_order_.size() > kVerifiedIds) {
      verified_.erase(verified_order_.front());
      verified_order_.pop_front();
    }
  }
  GS_ASSERT(verified_.size() == verified_order_.size() && verified_.size() <= kVerifiedIds);
}

void Mempool::Update(std::span<const ledger::Hash> committed, const ledger::KvReader& state) {
  std::vector<ledger::PublicKey> signers;
  {
    std::lock_guard lock(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
    for (const ledger::Hash& id : committed) {
      auto it = by_id_.find(id);
      if (it == by_id_.end()) continue;
      signers.push_back(it->second->signer);
      RemoveLocked(id);
    }
    std::vector<ledger::PublicKey> sweep = SweepSignersLocked(std::max(kSweepSigners, committed.size()));
    signers.insert(signers.end(), sweep.begin(), sweep.end());
  }
  std::sort(signers.begin(), signers.end());
  signers.erase(std::unique(signers.begin(), signers.end()), signers.end());

  // Read outside the lock: admissions go on meanwhile.
  std::vector<std::optional<uint64_t>> next(signers.size());
  ledger::StateView view(state);
  for (size_t i = 0; i < signers.size(); ++i) {
    std::optional<v1::Account> account = view.Account(signers[i]);
    if (account && !account->retired()) next[i] = account->nonce() + 1;
  }

  std::lock_guard lock(mu_);
  for (size_t i = 0; i < signers.size(); ++i) RemoveBelowLocked(signers[i], next[i]);
}

size_t Mempool::size() const {
  std::lock_guard lock(mu_);
  return by_id_.size();
}

size_t Mempool::bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

size_t Mempool::pending_checks() const {
  std::lock_guard lock(mu_);
  return pending_checks_;
}

MempoolCounters Mempool::counters() const {
  return {admitted_.load(), already_known_.load(), rejected_.load(), busy_.load()};
}

Admission Mempool::Busy(const std::string& bytes, std::string message) {
  Admission answer;
  if (bytes.size() <= ledger::kMaxTxBytes) answer.tx_id = ledger::Sha256(AsBytes(bytes));
  answer.status = Status{"MEMPOOL_BUSY", std::move(message)};
  Count(answer.status);
  return answer;
}

void Mempool::Count(const Status& status) {
  if (status.ok()) {
    admitted_.fetch_add(1, std::memory_order_relaxed);
  } else if (status.code() == "ALREADY_KNOWN") {
    already_known_.fetch_add(1, std::memory_order_relaxed);
  } else if (status.code() == "MEMPOOL_BUSY") {
    busy_.fetch_add(1, std::memory_order_relaxed);
  } else {
    rejected_.fetch_add(1, std::memory_order_relaxed);
  }
}

size_t Mempool::ReserveChecks(size_t n) {
  std::lock_guard lock(mu_);
  GS_ASSERT(pending_checks_ <= config_.max_pending_checks);
  const size_t granted = std::min(n, config_.max_pending_checks - pending_checks_);
  pending_checks_ += granted;
  return granted;
}

void Mempool::ReleaseChecks(size_t n) {
  std::lock_guard lock(mu_);
  GS_ASSERT(pending_checks_ >= n);
  pending_checks_ -= n;
}

bool Mempool::Queue(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    ++tasks_;
  }
  const bool queued = workers_.TrySubmit([this, task = std::move(task)] {
    task();
    TaskDone();
  });
  if (!queued) TaskDone();
  return queued;
}

void Mempool::TaskDone() {
  std::lock_guard lock(mu_);
  GS_ASSERT(tasks_ > 0);
  --tasks_;
  // Notified under the lock: once the destructor wakes, this thread no longer touches *this.
  if (tasks_ == 0) idle_.notify_all();
}

void Mempool::UnindexLocked(const Entry& entry) {
  const size_t ids = by_id_.erase(entry.id), seqs = by_seq_.erase(entry.seq);
  GS_ASSERT(ids == 1 && seqs == 1);
  GS_ASSERT(bytes_ >= entry.bytes->size());
  bytes_ -= entry.bytes->size();
}

void Mempool::RemoveLocked(const ledger::Hash& id) {
  auto found = by_id_.find(id);
  GS_ASSERT(found != by_id_.end());
  const ledger::PublicKey signer = found->second->signer;
  const uint64_t nonce = found->second->nonce;
  UnindexLocked(*found->second);
  auto queue = by_signer_.find(signer);
  GS_ASSERT(queue != by_signer_.end());
  const size_t erased = queue->second.erase(nonce);
  GS_ASSERT(erased == 1);
  if (queue->second.empty()) by_signer_.erase(queue);
}

void Mempool::RemoveBelowLocked(const ledger::PublicKey& signer, std::optional<uint64_t> next_nonce) {
  auto queue = by_signer_.find(signer);
  if (queue == by_signer_.end()) return;
  SignerQueue& entries = queue->second;
  const auto end = next_nonce ? entries.lower_bound(*next_nonce) : entries.end();
  for (auto it = entries.begin(); it != end; ++it) UnindexLocked(it->second);
  entries.erase(entries.begin(), end);
  if (entries.empty()) by_signer_.erase(queue);
}

std::vector<ledger::PublicKey> Mempool::SweepSignersLocked(size_t count) {
  std::vector<ledger::PublicKey> out;
  const size_t n = std::min(count, by_signer_.size());
  out.reserve(n);
  auto it = sweep_from_ ? by_signer_.lower_bound(*sweep_from_) : by_signer_.begin();
  for (size_t i = 0; i < n; ++i) {
    if (it == by_signer_.end()) it = by_signer_.begin();
    out.push_back(it->first);
    ++it;
  }
  sweep_from_.reset();
  if (it != by_signer_.end()) sweep_from_ = it->first;
  return out;
}

}  // namespace gongshe::node
