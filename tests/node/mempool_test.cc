// The mempool (node/mempool.h) over a real RocksDB ledger: every admission answer, dedup, nonce
// order and gaps, Reap's order, bounds and exclusions, Update, many threads at once, floods, and
// admissions racing with a commit.

#include "node/mempool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "ledger/ledger.h"
#include "ledger/state.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::node {
namespace {

using ledger::Hash;
using ledger::KeyPair;
using ledger::PublicKey;
using ledger::testing::kChainId;

Hash IdOf(const std::string& bytes) { return ledger::Sha256(AsBytes(bytes)); }

// Collects asynchronous answers and waits for a given number of them.
class Answers {
 public:
  Mempool::Done Callback() {
    return [this](const Admission& answer) {
      std::lock_guard lock(mu_);
      answers_.push_back(answer);
      cv_.notify_all();
    };
  }
  std::vector<Admission> WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(60), [&] { return answers_.size() >= n; }));
    return answers_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Admission> answers_;
};

class MempoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("mempool-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    const v1::Genesis genesis = ledger::testing::TestGenesis();
    ledger::GenesisDoc doc{genesis, ledger::Sha256(AsBytes(ledger::GenesisToJson(genesis)))};
    Result<std::unique_ptr<ledger::Ledger>> opened = ledger::Ledger::Open(dir_.string(), doc);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ledger_ = std::move(opened).value();
    member_ = NewAccount(v1::ROLE_MEMBER);
    store_ = NewAccount(v1::ROLE_STORE);
    workplace_ = NewAccount(v1::ROLE_WORKPLACE);
    for (int i = 0; i < 4; ++i) issuers_.push_back(NewAccount(v1::ROLE_ISSUER));
  }

  void TearDown() override {
    pool_.reset();
    ledger_.reset();
    std::filesystem::remove_all(dir_);
  }

  static MempoolConfig Config() {
    MempoolConfig config;
    config.chain_id = kChainId;
    return config;
  }

  void MakePool(MempoolConfig config = Config(), ThreadPool* workers = nullptr,
                Mempool::CommittedSnapshot committed = {}) {
    if (!committed) committed = [this] { return ledger_->Snapshot(); };
    pool_ = std::make_unique<Mempool>(std::move(config), workers ? *workers : workers_, std::move(committed),
                                      [this](const PooledTx& tx, TxOrigin origin) {
                                        std::lock_guard lock(hook_mu_);
                                        hooked_.emplace_back(tx.id, origin);
                                      });
  }

  // Commits a block of `txs` to the ledger and to the chain that tracks nonces; returns the codes.
  std::vector<std::string> Commit(const std::vector<std::string>& txs) {
    const int64_t time_ms = chain_.time_ms() + 1000;
    Result<v1::BlockResults> results = ledger_->Apply(chain_.Block(txs, time_ms));
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    std::vector<std::string> codes = chain_.Apply(txs, time_ms);
    EXPECT_EQ(std::string(AsChars(ledger_->tip().state_root)), std::string(AsChars(chain_.root())));
    return codes;
  }

  KeyPair NewAccount(v1::Role role) {
    KeyPair key = chain_.NewKey();
    EXPECT_EQ(Commit({chain_.Register(chain_.registrar(), key.public_key(), role)}), std::vector<std::string>{"OK"});
    return key;
  }

  // An issue from `issuer` to member_ with an explicit nonce; `amount` varies the bytes.
  std::string Issue(const KeyPair& issuer, uint64_t nonce, int64_t amount = 1, const std::string& chain = kChainId) {
    v1::TxBody body;
    body.set_version(1);
    body.set_chain_id(chain);
    body.set_nonce(nonce);
    v1::IssueVouchers* issue = body.mutable_issue_vouchers();
    issue->set_voucher_class(v1::VOUCHER_CLASS_CONSUMPTION);
    issue->set_member(ledger::testing::Bytes32(member_.public_key()));
    issue->set_amount_milli(amount);
    return ledger::SignTx(body, issuer);
  }

  Admission Submit(std::string bytes) {
    std::promise<Admission> answer;
    pool_->Submit(std::move(bytes), [&answer](const Admission& a) { answer.set_value(a); });
    return answer.get_future().get();
  }

  std::vector<Admission> SubmitBatch(std::vector<std::string> txs) {
    std::promise<std::vector<Admission>> answers;
    pool_->SubmitBatch(std::move(txs), [&answers](std::vector<Admission> a) { answers.set_value(std::move(a)); });
    return answers.get_future().get();
  }

  uint64_t CommittedNextNonce(const PublicKey& key) {
    std::optional<v1::Account> account = ledger::StateView(ledger_->state()).Account(key);
    return account ? account->nonce() + 1 : 0;
  }

  // Reaps with the committed state's nonces; returns the bytes.
  std::vector<std::string> Reap(const TxIdSet& exclude = {}, size_t max_txs = 10'000, size_t max_bytes = 1 << 30) {
    std::vector<std::string> out;
    for (const PooledTx& tx : pool_->Reap(max_txs, max_bytes, [this](const PublicKey& k) { return CommittedNextNonce(k); },
                                          exclude)) {
      EXPECT_EQ(tx.id, IdOf(*tx.bytes));
      out.push_back(*tx.bytes);
    }
    return out;
  }

  void Update(const std::vector<std::string>& committed) {
    std::vector<Hash> ids;
    for (const std::string& tx : committed) ids.push_back(IdOf(tx));
    pool_->Update(ids, ledger_->state());
  }

  size_t Hooked() {
    std::lock_guard lock(hook_mu_);
    return hooked_.size();
  }

  std::filesystem::path dir_;
  ledger::testing::TestChain chain_;
  std::unique_ptr<ledger::Ledger> ledger_;
  ThreadPool workers_{2, 4096};
  std::unique_ptr<Mempool> pool_;  // after what it uses: destroyed first
  KeyPair member_ = ledger::testing::TestKey(0), store_ = ledger::testing::TestKey(0),
          workplace_ = ledger::testing::TestKey(0);
  std::vector<KeyPair> issuers_;
  std::mutex hook_mu_;
  std::vector<std::pair<Hash, TxOrigin>> hooked_;
};

TEST_F(MempoolTest, AdmitsAValidTransaction) {
  MakePool();
  const std::string tx = Issue(issuers_[0], 1);
  Admission answer = Submit(tx);
  EXPECT_TRUE(answer.status.ok()) << answer.status.ToString();
  EXPECT_EQ(answer.tx_id, IdOf(tx));
  EXPECT_TRUE(pool_->Contains(IdOf(tx)));
  EXPECT_FALSE(pool_->Contains(IdOf(Issue(issuers_[0], 2))));
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->bytes(), tx.size());
  EXPECT_EQ(pool_->pending_checks(), 0u);
  EXPECT_EQ(Reap(), std::vector<std::string>{tx});
  ASSERT_EQ(Hooked(), 1u);
  EXPECT_EQ(hooked_[0].first, IdOf(tx));
  EXPECT_EQ(hooked_[0].second, TxOrigin::kClient);
  EXPECT_EQ(pool_->counters().admitted, 1u);
}

TEST_F(MempoolTest, RefusesEveryInvalidTransaction) {
  MakePool();
  KeyPair retired = NewAccount(v1::ROLE_MEMBER);
  Commit({chain_.Retire(chain_.registrar(), retired.public_key())});
  const KeyPair& used = issuers_[1];
  Commit({Issue(used, 1)});  // its next nonce is 2

  auto resigned = [](const std::string& tx, bool cosignature) {
    v1::SignedTx envelope;
    EXPECT_TRUE(envelope.ParseFromString(tx));
    std::string& signature = cosignature ? *envelope.mutable_cosignature() : *envelope.mutable_signature();
    signature[7] = static_cast<char>(signature[7] ^ 1);
    return envelope.SerializeAsString();
  };
  v1::TxBody cosigned_issue = chain_.Body(issuers_[0]);
  cosigned_issue.mutable_issue_vouchers()->set_voucher_class(v1::VOUCHER_CLASS_CONSUMPTION);
  cosigned_issue.mutable_issue_vouchers()->set_member(ledger::testing::Bytes32(member_.public_key()));
  cosigned_issue.mutable_issue_vouchers()->set_amount_milli(1);
  chain_.ForgetLastBody(issuers_[0]);

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "MALFORMED"},
      {"\xff\xff garbage \x01", "MALFORMED"},
      {std::string(ledger::kMaxTxBytes + 1, 'x'), "TX_TOO_LARGE"},
      {Issue(issuers_[0], 1, 1, "another-chain"), "WRONG_CHAIN"},
      {resigned(Issue(issuers_[0], 1), false), "BAD_SIGNATURE"},
      {resigned(chain_.Redeem(member_, store_, v1::VOUCHER_CLASS_CONSUMPTION, 1, "bread"), true), "BAD_SIGNATURE"},
      {Issue(chain_.NewKey(), 1), "UNKNOWN_SIGNER"},
      {chain_.Redeem(retired, store_, v1::VOUCHER_CLASS_CONSUMPTION, 1, "bread"), "RETIRED_SIGNER"},
      {chain_.Attend(store_, member_.public_key(), chain_.time_ms() / 1000, 60), "UNAUTHORIZED"},
      {ledger::SignTx(cosigned_issue, issuers_[0], &store_), "UNEXPECTED_COSIGNATURE"},
      {Issue(used, 1, 2), "NONCE_TOO_LOW"},
      {Issue(used, 2 + Config().max_nonce_ahead), "NONCE_TOO_HIGH"},
  };
  for (const auto& [tx, code] : cases) {
    SCOPED_TRACE(code);
    Admission answer = Submit(tx);
    EXPECT_EQ(answer.status.code(), code);
    EXPECT_FALSE(answer.status.message().empty());
    if (code == "TX_TOO_LARGE") {
      EXPECT_EQ(answer.tx_id, Hash{}) << "too large to be hashed";
    } else {
      EXPECT_EQ(answer.tx_id, IdOf(tx));
    }
  }
  EXPECT_EQ(pool_->size(), 0u);
  EXPECT_EQ(pool_->bytes(), 0u);
  EXPECT_EQ(Hooked(), 0u);
  EXPECT_EQ(pool_->counters().rejected, cases.size());
  EXPECT_EQ(pool_->counters().admitted, 0u);
  // The window's last nonce is admitted.
  EXPECT_TRUE(Submit(Issue(used, 1 + Config().max_nonce_ahead)).status.ok());
}

TEST_F(MempoolTest, DuplicatesAreAlreadyKnown) {
  MakePool();
  const std::string tx = Issue(issuers_[0], 1);
  EXPECT_TRUE(Submit(tx).status.ok());
  Admission again = Submit(tx);
  EXPECT_EQ(again.status.code(), "ALREADY_KNOWN");
  EXPECT_EQ(again.tx_id, IdOf(tx));
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->bytes(), tx.size());
  EXPECT_EQ(Hooked(), 1u) << "a duplicate is not gossiped again";
  EXPECT_EQ(pool_->counters().already_known, 1u);
}

TEST_F(MempoolTest, RemembersVerifiedIdsAndTrustsThem) {
  MakePool();
  const std::string admitted = Issue(issuers_[0], 1);
  EXPECT_FALSE(pool_->SignaturesVerified(IdOf(admitted)));
  ASSERT_TRUE(Submit(admitted).status.ok());
  EXPECT_TRUE(pool_->SignaturesVerified(IdOf(admitted))) << "admission remembers what it verified";
  // A refused signature is not remembered.
  std::string forged = Issue(issuers_[0], 2);
  forged[forged.size() - 3] ^= 1;
  EXPECT_EQ(Submit(forged).status.code(), "BAD_SIGNATURE");
  EXPECT_FALSE(pool_->SignaturesVerified(IdOf(forged)));
  // An id noted as verified (by a block check) skips the signature check: the id is the hash of
  // the exact bytes, so the noting caller vouches for these bytes. Shown with forged bytes.
  pool_->NoteVerified(std::vector<Hash>{IdOf(forged)});
  EXPECT_TRUE(Submit(forged).status.ok());
}

TEST_F(MempoolTest, VerifiedIdsAreBoundedOldestFirst) {
  MakePool();
  std::vector<Hash> ids(Mempool::kVerifiedIds + 2);
  for (size_t i = 0; i < ids.size(); ++i) {
    ids[i] = ledger::Sha256(AsBytes(std::to_string(i)));
  }
  pool_->NoteVerified(std::span<const Hash>(ids).first(Mempool::kVerifiedIds));
  pool_->NoteVerified(ids);  // the first kVerifiedIds again change nothing; the last two evict two
  EXPECT_FALSE(pool_->SignaturesVerified(ids[0]));
  EXPECT_FALSE(pool_->SignaturesVerified(ids[1]));
  EXPECT_TRUE(pool_->SignaturesVerified(ids[2]));
  EXPECT_TRUE(pool_->SignaturesVerified(ids.back()));
}

TEST_F(MempoolTest, CommittedTransactionsAreAlreadyKnownEvenWhenTheyFailed) {
  MakePool();
  const std::string applied = Issue(issuers_[0], 1);
  // Redeeming vouchers never issued fails in its block: its nonce stays unused, so only the
  // committed-id check keeps it from entering a second block.
  const std::string failed = chain_.Redeem(member_, store_, v1::VOUCHER_CLASS_SPECIAL, 5, "piano");
  EXPECT_EQ(Commit({applied, failed}), (std::vector<std::string>{"OK", "INSUFFICIENT_BALANCE"}));
  for (const std::string& tx : {applied, failed}) {
    Admission answer = Submit(tx);
    EXPECT_EQ(answer.status.code(), "ALREADY_KNOWN") << answer.status.ToString();
  }
  EXPECT_EQ(pool_->size(), 0u);
}

TEST_F(MempoolTest, SameNonceKeepsTheFirst) {
  MakePool();
  const std::string first = Issue(issuers_[0], 1, 1), second = Issue(issuers_[0], 1, 2);
  EXPECT_TRUE(Submit(first).status.ok());
  EXPECT_EQ(Submit(second).status.code(), "DUPLICATE_NONCE");
  EXPECT_EQ(Reap(), std::vector<std::string>{first});
  EXPECT_FALSE(pool_->Contains(IdOf(second)));
}

TEST_F(MempoolTest, GapsWaitAndReapTakesContiguousRunsOnly) {
  MakePool();
  const KeyPair& a = issuers_[0];
  const std::string a1 = Issue(a, 1), a2 = Issue(a, 2), a3 = Issue(a, 3), a5 = Issue(a, 5);
  EXPECT_TRUE(Submit(a3).status.ok());
  EXPECT_TRUE(Submit(a5).status.ok());
  EXPECT_TRUE(Reap().empty()) << "nonce 3 waits for 1 and 2";
  EXPECT_TRUE(Submit(a2).status.ok());
  EXPECT_TRUE(Reap().empty());
  EXPECT_TRUE(Submit(a1).status.ok());
  EXPECT_EQ(Reap(), (std::vector<std::string>{a1, a2, a3})) << "5 stays behind the gap at 4";
  EXPECT_EQ(pool_->size(), 4u);
  // On a state where 1 is already applied (an uncommitted ancestor), the run starts at 2.
  std::vector<PooledTx> after_one =
      pool_->Reap(100, 1 << 20, [&](const PublicKey& k) { return k == a.public_key() ? 2 : 0; }, {});
  ASSERT_EQ(after_one.size(), 2u);
  EXPECT_EQ(*after_one[0].bytes, a2);
  EXPECT_EQ(*after_one[1].bytes, a3);
}

TEST_F(MempoolTest, ReapInterleavesSignersInAdmissionOrder) {
  MakePool();
  const KeyPair &a = issuers_[0], &b = issuers_[1];
  const std::string a1 = Issue(a, 1), a2 = Issue(a, 2), b1 = Issue(b, 1), b2 = Issue(b, 2);
  for (const std::string& tx : {a1, b1, a2, b2}) ASSERT_TRUE(Submit(tx).status.ok());
  EXPECT_EQ(Reap(), (std::vector<std::string>{a1, b1, a2, b2}));

  MakePool();  // a fresh pool: a2 arrives before its predecessor and follows it right away
  for (const std::string& tx : {a2, b1, a1, b2}) ASSERT_TRUE(Submit(tx).status.ok());
  EXPECT_EQ(Reap(), (std::vector<std::string>{b1, a1, a2, b2}));
}

TEST_F(MempoolTest, ExcludedTransactionsAreNeverTaken) {
  MakePool();
  const KeyPair &a = issuers_[0], &b = issuers_[1], &c = issuers_[2];
  const std::string a1 = Issue(a, 1), a2 = Issue(a, 2), a3 = Issue(a, 3), b1 = Issue(b, 1), b2 = Issue(b, 2),
                    c1 = Issue(c, 1);
  for (const std::string& tx : {a1, b1, a2, c1, a3, b2}) ASSERT_TRUE(Submit(tx).status.ok());
  const TxIdSet in_ancestors = {IdOf(a1), IdOf(b1)};
  // In the state after the ancestors a1 applied (a's next nonce is 2) but b1 failed (b's is
  // still 1): a's run goes on, b's ends at the excluded b1, c is untouched.
  const std::map<PublicKey, uint64_t> next = {{a.public_key(), 2}, {b.public_key(), 1}, {c.public_key(), 1}};
  std::vector<PooledTx> taken =
      pool_->Reap(100, 1 << 20, [&](const PublicKey& k) { return next.at(k); }, in_ancestors);
  std::vector<std::string> bytes;
  for (const PooledTx& tx : taken) bytes.push_back(*tx.bytes);
  EXPECT_EQ(bytes, (std::vector<std::string>{a2, c1, a3}));
  EXPECT_EQ(pool_->size(), 6u) << "Reap takes nothing out of the pool";
}

TEST_F(MempoolTest, ReapRespectsItsBoundsAndAsksEachSignerOnce) {
  MakePool();
  std::vector<std::string> txs;
  for (uint64_t nonce = 1; nonce <= 3; ++nonce) {
    for (int signer = 0; signer < 2; ++signer) txs.push_back(Issue(issuers_[signer], nonce, 1 + nonce * 1000));
  }
  for (const std::string& tx : txs) ASSERT_TRUE(Submit(tx).status.ok());
  EXPECT_TRUE(Reap({}, 0).empty());
  EXPECT_EQ(Reap({}, 3), std::vector<std::string>(txs.begin(), txs.begin() + 3));
  EXPECT_EQ(Reap({}, 100, txs[0].size() + txs[1].size()), std::vector<std::string>(txs.begin(), txs.begin() + 2));
  EXPECT_EQ(Reap({}, 100, txs[0].size() + txs[1].size() + txs[2].size() - 1),
            std::vector<std::string>(txs.begin(), txs.begin() + 2));
  EXPECT_TRUE(Reap({}, 100, txs[0].size() - 1).empty());
  EXPECT_EQ(Reap(), txs);

  std::map<PublicKey, int> asked;
  std::vector<PooledTx> all = pool_->Reap(100, 1 << 20,
                                          [&](const PublicKey& k) {
                                            ++asked[k];
                                            return CommittedNextNonce(k);
                                          },
                                          {});
  EXPECT_EQ(all.size(), txs.size());
  EXPECT_EQ(asked.size(), 2u);
  for (const auto& [key, times] : asked) EXPECT_EQ(times, 1);
  // A signer the state does not know (next nonce 0) is skipped.
  EXPECT_TRUE(pool_->Reap(100, 1 << 20, [](const PublicKey&) { return uint64_t{0}; }, {}).empty());
}

TEST_F(MempoolTest, FullPoolAnswersMempoolFull) {
  MempoolConfig config = Config();
  config.max_txs = 3;
  MakePool(config);
  std::vector<std::string> txs;
  for (int i = 0; i < 3; ++i) txs.push_back(Issue(issuers_[i], 1));
  for (const std::string& tx : txs) ASSERT_TRUE(Submit(tx).status.ok());
  Admission full = Submit(Issue(issuers_[3], 1));
  EXPECT_EQ(full.status.code(), "MEMPOOL_FULL");
  EXPECT_EQ(pool_->size(), 3u);
  // Room again once a block took one.
  Commit({txs[0]});
  Update({txs[0]});
  EXPECT_EQ(pool_->size(), 2u);
  EXPECT_TRUE(Submit(Issue(issuers_[3], 1)).status.ok());

  config = Config();
  const std::string one = Issue(issuers_[1], 2), two = Issue(issuers_[2], 2);
  config.max_bytes = one.size() + two.size();
  MakePool(config);
  EXPECT_TRUE(Submit(one).status.ok());
  EXPECT_TRUE(Submit(two).status.ok());
  EXPECT_EQ(pool_->bytes(), config.max_bytes);
  EXPECT_EQ(Submit(Issue(issuers_[3], 2)).status.code(), "MEMPOOL_FULL");
}

TEST_F(MempoolTest, PerAccountBound) {
  MempoolConfig config = Config();
  config.max_txs_per_account = 2;
  MakePool(config);
  EXPECT_TRUE(Submit(Issue(issuers_[0], 1)).status.ok());
  EXPECT_TRUE(Submit(Issue(issuers_[0], 3)).status.ok());
  EXPECT_EQ(Submit(Issue(issuers_[0], 2)).status.code(), "ACCOUNT_QUEUE_FULL");
  EXPECT_TRUE(Submit(Issue(issuers_[1], 1)).status.ok());
  EXPECT_EQ(pool_->size(), 3u);
}

TEST_F(MempoolTest, UpdateRemovesCommittedStaleAndRetiredSigners) {
  MakePool();
  const KeyPair &a = issuers_[0], &b = issuers_[1];
  const std::string a1 = Issue(a, 1), a2 = Issue(a, 2), a3 = Issue(a, 3), b1 = Issue(b, 1, 1);
  const std::string attend = chain_.Attend(workplace_, member_.public_key(), chain_.time_ms() / 1000, 30);
  for (const std::string& tx : {a1, a2, a3, b1, attend}) ASSERT_TRUE(Submit(tx).status.ok());

  // The block holds two pooled transactions, one this node never saw that uses b's nonce 1, and
  // the retirement of the workplace.
  const std::string other_b1 = Issue(b, 1, 2);
  const std::vector<std::string> block = {a1, a2, other_b1, chain_.Retire(chain_.registrar(), workplace_.public_key())};
  EXPECT_EQ(Commit(block), (std::vector<std::string>{"OK", "OK", "OK", "OK"}));
  Update(block);
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->bytes(), a3.size());
  EXPECT_TRUE(pool_->Contains(IdOf(a3)));
  EXPECT_EQ(Reap(), std::vector<std::string>{a3});
}

TEST_F(MempoolTest, UpdateSweepsEverySignerWithinABoundedNumberOfUpdates) {
  constexpr size_t kSigners = Mempool::kSweepSigners + 44;
  std::vector<KeyPair> signers;
  std::vector<std::string> registrations;
  for (size_t i = 0; i < kSigners; ++i) {
    signers.push_back(chain_.NewKey());
    registrations.push_back(chain_.Register(chain_.registrar(), signers.back().public_key(), v1::ROLE_ISSUER));
  }
  Commit(registrations);
  MakePool();
  std::vector<std::string> pooled, elsewhere;
  for (const KeyPair& signer : signers) {
    pooled.push_back(Issue(signer, 1, 1));
    elsewhere.push_back(Issue(signer, 1, 2));
  }
  for (const Admission& answer : SubmitBatch(pooled)) ASSERT_TRUE(answer.status.ok()) << answer.status.ToString();
  ASSERT_EQ(pool_->size(), kSigners);
  Commit(elsewhere);  // every pooled transaction is now stale, and none was committed itself
  Update({});
  EXPECT_EQ(pool_->size(), kSigners - Mempool::kSweepSigners);
  Update({});
  EXPECT_EQ(pool_->size(), 0u);
  EXPECT_EQ(pool_->bytes(), 0u);
}

TEST_F(MempoolTest, SubmitBatchAnswersInOrderAcrossChunks) {
  MakePool();
  std::vector<std::string> txs;
  std::vector<std::string> expected;
  for (uint64_t nonce = 1; nonce <= 40; ++nonce) {
    for (const KeyPair& issuer : issuers_) {
      txs.push_back(Issue(issuer, nonce));
      expected.push_back("");
    }
    txs.push_back(Issue(issuers_[0], nonce, 1, "another-chain"));
    expected.push_back("WRONG_CHAIN");
  }
  ASSERT_GT(txs.size(), 2 * Mempool::kBatchChunk);
  std::vector<Admission> answers = SubmitBatch(txs);
  ASSERT_EQ(answers.size(), txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(answers[i].status.code(), expected[i]) << i;
    EXPECT_EQ(answers[i].tx_id, IdOf(txs[i])) << i;
  }
  EXPECT_EQ(pool_->size(), 160u);
  EXPECT_EQ(Hooked(), 160u);
  for (const auto& [id, origin] : hooked_) EXPECT_EQ(origin, TxOrigin::kPeer);
  EXPECT_EQ(Reap().size(), 160u);
  std::vector<Admission> again = SubmitBatch({txs[0]});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status.code(), "ALREADY_KNOWN");
  EXPECT_TRUE(SubmitBatch({}).empty());
}

// Answers come back from the workers; a blocked pool shows the bounds on pending checks.
TEST_F(MempoolTest, TooManyPendingChecksAnswersBusyAtOnce) {
  Answers answers;  // outlives the worker that answers into it
  ThreadPool one_worker(1, 16);
  MempoolConfig config = Config();
  config.max_pending_checks = 2;
  MakePool(config, &one_worker);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(one_worker.Submit([released] { released.wait(); }));

  pool_->Submit(Issue(issuers_[0], 1), answers.Callback());
  pool_->Submit(Issue(issuers_[1], 1), answers.Callback());
  EXPECT_EQ(pool_->pending_checks(), 2u);
  bool answered = false;
  const std::string third = Issue(issuers_[2], 1);
  pool_->Submit(third, [&](const Admission& a) {
    answered = true;
    EXPECT_EQ(a.status.code(), "MEMPOOL_BUSY");
    EXPECT_EQ(a.tx_id, IdOf(third));
  });
  EXPECT_TRUE(answered) << "a busy answer comes before Submit returns";
  std::vector<Admission> batch;
  pool_->SubmitBatch({Issue(issuers_[3], 1), "junk"}, [&](std::vector<Admission> a) { batch = std::move(a); });
  EXPECT_EQ(batch.size(), 2u);
  for (const Admission& a : batch) EXPECT_EQ(a.status.code(), "MEMPOOL_BUSY");
  EXPECT_EQ(pool_->size(), 0u);

  release.set_value();
  for (const Admission& a : answers.WaitFor(2)) EXPECT_TRUE(a.status.ok()) << a.status.ToString();
  EXPECT_EQ(pool_->size(), 2u);
  EXPECT_EQ(pool_->counters().busy, 3u);
  pool_.reset();  // before one_worker
}

TEST_F(MempoolTest, FullWorkerQueueAnswersBusy) {
  ThreadPool one_worker(1, 1);
  MakePool(Config(), &one_worker);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ASSERT_TRUE(one_worker.Submit([released] { released.wait(); }));
  // Once the worker runs the blocker, a no-op takes the queue's one slot.
  while (!one_worker.TrySubmit([] {})) std::this_thread::yield();
  Admission busy;
  pool_->Submit(Issue(issuers_[1], 1), [&](const Admission& a) { busy = a; });
  EXPECT_EQ(busy.status.code(), "MEMPOOL_BUSY");
  EXPECT_EQ(pool_->pending_checks(), 0u) << "the slot of a check that never ran is given back";
  release.set_value();
  pool_.reset();  // before one_worker
}

TEST_F(MempoolTest, ManyThreadsSubmittingAtOnceLeaveAConsistentPool) {
  MakePool();
  constexpr uint64_t kNonces = 30;
  std::vector<std::string> valid;
  for (const KeyPair& issuer : issuers_) {
    for (uint64_t nonce = 1; nonce <= kNonces; ++nonce) valid.push_back(Issue(issuer, nonce));
  }
  // Each thread sends every valid transaction (so all but one copy are duplicates) in its own
  // order, mixed with invalid ones.
  constexpr int kThreads = 4;
  Answers answers;
  std::atomic<bool> stop{false};
  std::thread reaper([&] {
    while (!stop) {
      std::vector<PooledTx> taken = pool_->Reap(1000, 1 << 20, [](const PublicKey&) { return uint64_t{1}; }, {});
      for (const PooledTx& tx : taken) EXPECT_TRUE(pool_->Contains(tx.id));
    }
  });
  std::vector<std::thread> threads;
  size_t submitted = 0;
  for (int t = 0; t < kThreads; ++t) {
    std::vector<std::string> mine = valid;
    std::shuffle(mine.begin(), mine.end(), std::mt19937_64(t));
    for (uint64_t n = 1; n <= 10; ++n) {
      mine.push_back(Issue(issuers_[t], n, 99, "another-chain"));
      mine.push_back("not a transaction " + std::to_string(t * 100 + n));
      mine.push_back(Issue(issuers_[t], n, 7 + t));  // same nonce as a valid one, other bytes
    }
    submitted += mine.size();
    threads.emplace_back([&, mine = std::move(mine)] {
      for (const std::string& tx : mine) pool_->Submit(tx, answers.Callback());
    });
  }
  for (std::thread& t : threads) t.join();
  std::vector<Admission> all = answers.WaitFor(submitted);
  stop = true;
  reaper.join();

  std::map<Hash, int> admitted;
  for (const Admission& a : all) {
    if (a.status.ok()) ++admitted[a.tx_id];
  }
  EXPECT_EQ(admitted.size(), pool_->size());
  for (const auto& [id, times] : admitted) EXPECT_EQ(times, 1) << "one admission per transaction";
  // The same-nonce rivals race with the valid ones: per (signer, nonce) exactly one is pooled.
  EXPECT_EQ(pool_->size(), valid.size());
  MempoolCounters counters = pool_->counters();
  EXPECT_EQ(counters.admitted + counters.already_known + counters.rejected + counters.busy, submitted);
  EXPECT_EQ(counters.busy, 0u);
  size_t bytes = 0;
  std::vector<std::string> reaped = Reap();
  EXPECT_EQ(reaped.size(), valid.size()) << "every signer's run is complete";
  for (const std::string& tx : reaped) {
    bytes += tx.size();
    EXPECT_TRUE(admitted.contains(IdOf(tx)));
  }
  EXPECT_EQ(pool_->bytes(), bytes);
}

TEST_F(MempoolTest, FloodOfInvalidTransactionsLeavesThePoolAlone) {
  MakePool();
  // Well-formed, for this chain, from a real signer with a fresh nonce: the expensive kind.
  std::vector<std::string> flood;
  const std::string valid = Issue(issuers_[1], 1);
  for (int i = 0; i < 3000; ++i) {
    v1::SignedTx envelope;
    ASSERT_TRUE(envelope.ParseFromString(Issue(issuers_[0], 1 + i % 200, 1 + i)));
    (*envelope.mutable_signature())[0] ^= 0x40;
    flood.push_back(envelope.SerializeAsString());
    if (i == 1500) flood.push_back(valid);
  }
  std::vector<Admission> answers = SubmitBatch(flood);
  size_t bad = 0;
  for (const Admission& a : answers) bad += a.status.code() == "BAD_SIGNATURE";
  EXPECT_EQ(bad, 3000u);
  EXPECT_EQ(pool_->size(), 1u);
  EXPECT_EQ(pool_->bytes(), valid.size());
  EXPECT_EQ(Reap(), std::vector<std::string>{valid});
  EXPECT_EQ(pool_->pending_checks(), 0u);
}

// An Update that lands between an admission's snapshot and its insertion makes it check again:
// here the transaction was committed (and failed, so its nonce is still free) in between.
TEST_F(MempoolTest, AdmissionRacingACommitChecksAgain) {
  const std::string failed = chain_.Redeem(member_, store_, v1::VOUCHER_CLASS_SPECIAL, 5, "piano");
  int calls = 0;
  MakePool(Config(), nullptr, [&]() -> std::shared_ptr<const ledger::LedgerSnapshot> {
    std::shared_ptr<const ledger::LedgerSnapshot> snapshot = ledger_->Snapshot();
    if (calls++ == 0) {
      // The commit happens after this (stale) snapshot was taken.
      EXPECT_EQ(Commit({failed}), std::vector<std::string>{"INSUFFICIENT_BALANCE"});
      Update({failed});
    }
    return snapshot;
  });
  Admission answer = Submit(failed);
  EXPECT_EQ(answer.status.code(), "ALREADY_KNOWN") << answer.status.ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_FALSE(pool_->Contains(IdOf(failed)));
}

TEST_F(MempoolTest, DestructionWaitsForEveryAnswer) {
  MakePool();
  std::atomic<int> answered{0};
  for (uint64_t nonce = 1; nonce <= 100; ++nonce) {
    pool_->Submit(Issue(issuers_[nonce % 4], nonce), [&](const Admission&) { ++answered; });
  }
  pool_->SubmitBatch({Issue(issuers_[0], 200), "junk"}, [&](std::vector<Admission> a) { answered += a.size(); });
  pool_.reset();
  EXPECT_EQ(answered.load(), 102);
}

}  // namespace
}  // namespace gongshe::node
