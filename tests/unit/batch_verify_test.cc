#include "ledger/batch_verify.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "common/thread_pool.h"
#include "ledger/transaction.h"

namespace gongshe::ledger {
namespace {

// Signed items whose payloads and chain ids live as long as the fixture.
class Batch {
 public:
  explicit Batch(size_t n) : payloads_(n) {
    const KeyPair keys[] = {KeyPair::Generate(), KeyPair::Generate(), KeyPair::Generate()};
    for (size_t i = 0; i < n; ++i) {
      payloads_[i] = "payload " + std::to_string(i);
      const KeyPair& key = keys[i % 3];
      const std::string_view chain = i % 2 == 0 ? "chain-a" : "chain-b";
      items_.push_back({key.public_key(), kTxDomain, chain, AsBytes(payloads_[i]),
                        key.Sign(kTxDomain, chain, AsBytes(payloads_[i]))});
    }
  }
  std::vector<VerifyItem>& items() { return items_; }

 private:
  std::vector<std::string> payloads_;
  std::vector<VerifyItem> items_;
};

// Occupies one worker of a pool until released (at the latest when it goes away, which must be
// before the pool does).
class Blocker {
 public:
  explicit Blocker(ThreadPool& pool) {
    GS_ASSERT(pool.Submit([this] {
      std::unique_lock lock(mu_);
      started_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return released_; });
      finished_ = true;
      cv_.notify_all();
    }));
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return started_; });
  }
  // Waits for the task to let go of this object: it may still be waking when Release returns.
  ~Blocker() {
    Release();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finished_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false, released_ = false, finished_ = false;
};

std::vector<bool> OneByOne(std::span<const VerifyItem> items) {
  std::vector<bool> out;
  for (const VerifyItem& it : items) out.push_back(Verify(it.key, it.domain, it.chain_id, it.payload, it.signature));
  return out;
}

TEST(BatchVerifier, EmptyBatch) {
  ThreadPool pool(2, 8);
  EXPECT_TRUE(BatchVerifier(pool).VerifyBatch({}).empty());
}

TEST(BatchVerifier, SingleItem) {
  ThreadPool pool(2, 8);
  BatchVerifier verifier(pool);
  Batch batch(1);
  EXPECT_EQ(verifier.VerifyBatch(batch.items()), std::vector<bool>{true});
  batch.items()[0].signature[5] ^= 1;
  EXPECT_EQ(verifier.VerifyBatch(batch.items()), std::vector<bool>{false});
}

TEST(BatchVerifier, ManyValid) {
  for (size_t workers : {1, 3}) {
    ThreadPool pool(workers, 8);
    Batch batch(203);
    EXPECT_EQ(BatchVerifier(pool).VerifyBatch(batch.items()), std::vector<bool>(203, true));
  }
}

// One invalid item at each position in turn, for every size around the chunk boundaries.
TEST(BatchVerifier, OneInvalidAtEveryPosition) {
  ThreadPool pool(1, 8);
  BatchVerifier verifier(pool);
  for (size_t n : {2, 7, 8, 9, 33}) {
    Batch batch(n);
    for (size_t bad = 0; bad < n; ++bad) {
      std::vector<VerifyItem> items = batch.items();
      items[bad].payload = AsBytes("forged");
      std::vector<bool> expected(n, true);
      expected[bad] = false;
      ASSERT_EQ(verifier.VerifyBatch(items), expected) << "n=" << n << " bad=" << bad;
    }
  }
}

TEST(BatchVerifier, RandomMixEqualsOneByOne) {
  ThreadPool pool(3, 4);
  BatchVerifier verifier(pool);
  std::mt19937 rng(42);
  Batch batch(150);
  std::vector<VerifyItem> items = batch.items();
  const std::string too_long(kMaxChainIdSize + 1, 'c');
  size_t invalid = 0;
  for (VerifyItem& it : items) {
    switch (rng() % 6) {
      case 0: it.signature[rng() % 64] ^= 0x10; break;
      case 1: it.key[rng() % 32] ^= 0x01; break;
      case 2: it.domain = kTxCosignDomain; break;
      case 3: it.chain_id = too_long; break;
      default: continue;
    }
    ++invalid;
  }
  ASSERT_GT(invalid, 0u);
  ASSERT_LT(invalid, items.size());
  const std::vector<bool> results = verifier.VerifyBatch(items);
  EXPECT_EQ(results, OneByOne(items));
  EXPECT_EQ(static_cast<size_t>(std::count(results.begin(), results.end(), false)), invalid);
}

// With every worker busy and the queue full, the caller verifies the whole batch itself and does
// not wait for the pool.
TEST(BatchVerifier, BusyPoolFallsBackToCaller) {
  ThreadPool pool(1, 1);
  Blocker blocker(pool);
  ASSERT_TRUE(pool.TrySubmit([] {}));  // fills the queue
  Batch batch(40);
  batch.items()[17].signature[0] ^= 1;
  std::vector<bool> expected(40, true);
  expected[17] = false;
  EXPECT_EQ(BatchVerifier(pool).VerifyBatch(batch.items()), expected);
}

// A helper task that starts after the batch is done must find nothing to do: run with a worker
// that is blocked while the batch completes on the caller thread, then released.
TEST(BatchVerifier, LateHelperIsHarmless) {
  ThreadPool pool(1, 16);
  Blocker blocker(pool);
  std::vector<bool> results;
  {
    Batch batch(64);
    results = BatchVerifier(pool).VerifyBatch(batch.items());
  }  // items destroyed before the queued helper runs
  blocker.Release();
  pool.Shutdown();
  EXPECT_EQ(results, std::vector<bool>(64, true));
}

TEST(ThreadPool, RunsEveryTaskWithBoundedQueue) {
  std::atomic<int> sum{0};
  {
    ThreadPool pool(2, 3);
    for (int i = 1; i <= 1000; ++i) ASSERT_TRUE(pool.Submit([&sum, i] { sum += i; }));
  }  // the destructor drains the queue
  EXPECT_EQ(sum.load(), 500500);
}

TEST(ThreadPool, TrySubmitRefusesWhenFullAndAfterShutdown) {
  ThreadPool pool(1, 2);
  Blocker blocker(pool);
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_TRUE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
  blocker.Release();
  pool.Shutdown();
  EXPECT_EQ(ran.load(), 2);  // queued before shutdown: run, not dropped
  EXPECT_FALSE(pool.TrySubmit([&] { ++ran; }));
  EXPECT_FALSE(pool.Submit([&] { ++ran; }));
  pool.Shutdown();  // idempotent
  EXPECT_EQ(ran.load(), 2);
}

TEST(ThreadPool, SubmitBlockedOnFullQueueIsReleasedByShutdown) {
  ThreadPool pool(1, 1);
  Blocker blocker(pool);
  ASSERT_TRUE(pool.TrySubmit([] {}));  // fills the queue
  std::atomic<bool> submit_returned{false}, submit_result{true};
  std::thread blocked([&] {
    submit_result = pool.Submit([] {});
    submit_returned = true;
  });
  std::thread stopper([&] { pool.Shutdown(); });
  // Shutdown waits for the blocked task; the blocked Submit must return false meanwhile.
  while (!submit_returned) std::this_thread::yield();
  EXPECT_FALSE(submit_result.load());
  blocker.Release();
  blocked.join();
  stopper.join();
}

TEST(ThreadPool, TrySubmitFirstRunsAheadOfWaitingTasks) {
  ThreadPool pool(1, 8);
  std::vector<int> order;
  std::mutex mu;
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard lock(mu);
      order.push_back(n);
    };
  };
  {
    Blocker blocker(pool);
    ASSERT_TRUE(pool.TrySubmit(record(1)));
    ASSERT_TRUE(pool.TrySubmit(record(2)));
    ASSERT_TRUE(pool.TrySubmitFirst(record(3)));
  }
  pool.Shutdown();
  EXPECT_EQ(order, (std::vector<int>{3, 1, 2}));
}

TEST(ThreadPool, WorkersRunAtTheRequestedNiceness) {
  ThreadPool pool(2, 8, 7);
  std::atomic<int> seen{-100};
  ASSERT_TRUE(pool.Submit([&] { seen = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())); }));
  pool.Shutdown();
  EXPECT_EQ(seen.load(), std::min(19, ::getpriority(PRIO_PROCESS, 0) + 7));
}

// A process started niced (as under `nice make test`) keeps its workers below its other threads.
TEST(ThreadPool, WorkersNicenessIsRelativeToTheirCreator) {
  std::atomic<int> creator{-100}, seen{-100};
  std::thread([&] {
    const auto tid = static_cast<id_t>(::gettid());
    ASSERT_EQ(::setpriority(PRIO_PROCESS, tid, std::min(19, ::getpriority(PRIO_PROCESS, tid) + 3)), 0);
    creator = ::getpriority(PRIO_PROCESS, tid);
    ThreadPool pool(1, 8, 7);
    ASSERT_TRUE(pool.Submit([&] { seen = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())); }));
    pool.Shutdown();
  }).join();
  EXPECT_EQ(seen.load(), std::min(19, creator.load() + 7));
}

// VerifyTxs combines signature and co-signature per transaction.
TEST(BatchVerifier, TransactionsWithAndWithoutCosignatures) {
  ThreadPool pool(2, 64);
  const KeyPair signer = KeyPair::Generate(), cosigner = KeyPair::Generate();
  std::vector<DecodedTx> txs;
  for (uint64_t nonce = 1; nonce <= 6; ++nonce) {
    v1::TxBody body;
    body.set_version(1);
    body.set_chain_id("chain");
    body.set_nonce(nonce);
    body.mutable_retire_account()->set_public_key(std::string(32, 'a'));
    const bool cosigned = nonce % 2 == 0;
    Result<DecodedTx> tx = DecodeTx(AsBytes(SignTx(body, signer, cosigned ? &cosigner : nullptr)), "chain");
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    txs.push_back(*std::move(tx));
  }
  txs[2].signature[0] ^= 1;    // plain, bad signature
  txs[3].cosignature[5] ^= 1;  // good signature, bad co-signature
  txs[5].signature[9] ^= 1;    // bad signature, good co-signature
  std::vector<const DecodedTx*> pointers;
  for (const DecodedTx& tx : txs) pointers.push_back(&tx);
  const std::vector<bool> results = BatchVerifier(pool).VerifyTxs(pointers, "chain");
  EXPECT_EQ(results, (std::vector<bool>{true, true, false, false, true, false}));
  for (size_t i = 0; i < txs.size(); ++i) EXPECT_EQ(results[i], VerifyTxSignatures(txs[i], "chain")) << i;
  EXPECT_TRUE(BatchVerifier(pool).VerifyTxs({}, "chain").empty());
}

}  // namespace
}  // namespace gongshe::ledger
