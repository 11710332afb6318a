#pragma once
// Verifies many signatures at once on every core: the caller's thread and the workers of a shared
// ThreadPool. Results come back in input order and equal one-by-one Verify() of each item.
//
// The batch is cut into contiguous chunks; the caller and up to pool.workers() helper tasks claim
// chunks one at a time until none is left, so a busy worker only means the others take more
// chunks. The caller returns as soon as every chunk is verified, without waiting for helper tasks
// that never got to start. With a pool of N workers, N + 1 threads verify; for a pool used only
// for this, N = cores - 1 uses every core exactly. Helper tasks go ahead of any backlog in the pool
// (TrySubmitFirst): a batch is latency-critical work, such as the signatures of a block to vote on.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/thread_pool.h"
#include "ledger/crypto.h"
#include "ledger/transaction.h"

namespace gongshe::ledger {

// One signature to check. The views must stay valid until VerifyBatch returns.
struct VerifyItem {
  PublicKey key;
  std::string_view domain;
  std::string_view chain_id;
  ByteView payload;
  Signature signature;
};

class BatchVerifier {
 public:
  // `pool` is shared (e.g. with the mempool) and must outlive the verifier.
  explicit BatchVerifier(ThreadPool& pool) : pool_(pool) {}

  // results[i] == Verify(items[i]...). Must not be called from a task of the same pool.
  std::vector<bool> VerifyBatch(std::span<const VerifyItem> items) const;

  // results[i] == VerifyTxSignatures(*txs[i], chain_id): signature and co-signature together.
  std::vector<bool> VerifyTxs(std::span<const DecodedTx* const> txs, std::string_view chain_id) const;

 private:
  ThreadPool& pool_;
};

}  // namespace gongshe::ledger
