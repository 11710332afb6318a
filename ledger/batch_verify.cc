#include "ledger/batch_verify.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "common/assert.h"

namespace gongshe::ledger {
namespace {

// Chunks per participating thread: small enough chunks that a late or busy thread does not leave
// the others idle at the end, large enough that claiming one costs nothing next to ~50 us per
// verification.
constexpr size_t kChunksPerThread = 4;
// Below this many items per chunk, handing work to another thread costs more than it saves.
constexpr size_t kMinChunkSize = 4;

// Shared by the caller and the helper tasks. Helpers hold it by shared_ptr because one may start
// after the caller has returned; such a helper finds no chunk left and touches neither `items`
// nor `results`.
struct BatchState {
  std::span<const VerifyItem> items;
  std::vector<uint8_t> results;  // not vector<bool>: threads write neighbouring elements
  size_t chunk_size = 0;
  size_t chunk_count = 0;
  std::atomic<size_t> next_chunk{0};
  std::mutex mu;
  std::condition_variable all_done;
  size_t chunks_done = 0;  // guarded by mu
};

// Claims and verifies chunks until none is left.
void VerifyChunks(BatchState& state) {
  for (;;) {
    const size_t chunk = state.next_chunk.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= state.chunk_count) return;
    const size_t begin = chunk * state.chunk_size;
    const size_t end = std::min(begin + state.chunk_size, state.items.size());
    GS_ASSERT(begin < end);
    for (size_t i = begin; i < end; ++i) {
      const VerifyItem& item = state.items[i];
      state.results[i] = Verify(item.key, item.domain, item.chain_id, item.payload, item.signature);
    }
    std::lock_guard lock(state.mu);
    ++state.chunks_done;
    if (state.chunks_done == state.chunk_count) state.all_done.notify_one();
  }
}

}  // namespace

std::vector<bool> BatchVerifier::VerifyBatch(std::span<const VerifyItem> items) const {
  const size_t threads = pool_.workers() + 1;
  auto state = std::make_shared<BatchState>();
  state->items = items;
  state->results.assign(items.size(), 0);
  state->chunk_size = std::max(kMinChunkSize, (items.size() + threads * kChunksPerThread - 1) /
                                                  (threads * kChunksPerThread));
  state->chunk_count = (items.size() + state->chunk_size - 1) / state->chunk_size;
  // A full queue means the pool is busy: the caller then does that share itself.
  const size_t helpers = std::min(pool_.workers(), state->chunk_count > 0 ? state->chunk_count - 1 : 0);
  for (size_t i = 0; i < helpers; ++i) {
    if (!pool_.TrySubmitFirst([state] { VerifyChunks(*state); })) break;
  }
  VerifyChunks(*state);
  {
    std::unique_lock lock(state->mu);
    state->all_done.wait(lock, [&] { return state->chunks_done == state->chunk_count; });
  }
  return std::vector<bool>(state->results.begin(), state->results.end());
}

std::vector<bool> BatchVerifier::VerifyTxs(std::span<const DecodedTx* const> txs, std::string_view chain_id) const {
  std::vector<VerifyItem> items;
  items.reserve(txs.size() * 2);
  for (const DecodedTx* tx : txs) {
    const ByteView body = AsBytes(tx->envelope.body());
    items.push_back({tx->signer, kTxDomain, chain_id, body, tx->signature});
    if (tx->cosigner) items.push_back({*tx->cosigner, kTxCosignDomain, chain_id, body, tx->cosignature});
  }
  const std::vector<bool> verified = VerifyBatch(items);
  std::vector<bool> results(txs.size());
  size_t next = 0;
  for (size_t i = 0; i < txs.size(); ++i) {
    results[i] = verified[next++];
    if (txs[i]->cosigner) results[i] = verified[next++] && results[i];
  }
  GS_ASSERT(next == items.size());
  return results;
}

}  // namespace gongshe::ledger
