#pragma once
// An in-memory chain for ledger tests: a genesis with two communes, deterministic keys,
// transactions built by ledger/tx_builder.h with their nonces tracked, and block application
// through ExecuteBlock.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "contracts/standard_laws.h"
#include "gongshe/v1/genesis.pb.h"
#include "ledger/block_executor.h"
#include "ledger/crypto.h"
#include "ledger/genesis.h"
#include "ledger/kv.h"
#include "ledger/laws.h"
#include "ledger/state.h"
#include "ledger/state_tree.h"
#include "ledger/transaction.h"
#include "ledger/tx_builder.h"

namespace gongshe::ledger::testing {

inline constexpr int64_t kGenesisTimeMs = 1'700'000'000'000;
inline constexpr int64_t kWeekMs = 7 * 24 * 3600 * 1000LL;
inline constexpr int64_t kEpochMs = 30 * 24 * 3600 * 1000LL;
inline constexpr const char* kChainId = "gongshe-test";

// Key number `n`, the same in every run.
inline KeyPair TestKey(uint32_t n) {
  std::array<uint8_t, 32> seed{};
  for (int i = 0; i < 4; ++i) seed[i] = static_cast<uint8_t>(n >> (8 * i));
  seed[31] = 0x5a;
  return KeyPair::FromSeed(seed);
}

inline v1::Genesis TestGenesis(int communes = 2) {
  v1::Genesis genesis;
  genesis.set_version(1);
  genesis.set_chain_id(kChainId);
  genesis.set_genesis_time_ms(kGenesisTimeMs);
  genesis.set_week_ms(kWeekMs);
  genesis.set_epoch_ms(kEpochMs);
  for (int c = 0; c < communes; ++c) {
    v1::Commune* commune = genesis.add_communes();
    commune->set_name("commune-" + std::to_string(c));
    commune->set_registrar(std::string(AsChars(TestKey(1000 + 3 * c).public_key())));
    commune->set_issuer(std::string(AsChars(TestKey(1001 + 3 * c).public_key())));
    commune->set_validator(std::string(AsChars(TestKey(1002 + 3 * c).public_key())));
  }
  AddStandardLaws(genesis);
  return genesis;
}

// The standard genesis with `extra` laws added (files extra0.law, ...), the standard laws named in
// `drop` left out, and `fuel` for every run.
inline v1::Genesis GenesisWith(const std::vector<std::string>& extra, const std::vector<std::string>& drop = {},
                               uint64_t fuel = kStandardFuelPerRun) {
  v1::Genesis genesis = TestGenesis();
  genesis.clear_laws();
  for (const contracts::StandardLaw& law : contracts::StandardLaws()) {
    bool dropped = false;
    for (const std::string& name : drop) dropped = dropped || law.file == "contracts/laws/" + name + ".law";
    if (dropped) continue;
    v1::GenesisLaw* entry = genesis.add_laws();
    entry->set_file(std::string(law.file));
    entry->set_source(std::string(law.source));
  }
  for (size_t i = 0; i < extra.size(); ++i) {
    v1::GenesisLaw* entry = genesis.add_laws();
    entry->set_file("extra" + std::to_string(i) + ".law");
    entry->set_source(extra[i]);
  }
  genesis.mutable_law_params()->set_fuel_per_run(fuel);
  EXPECT_TRUE(CheckGenesis(genesis).ok()) << CheckGenesis(genesis).ToString();
  return genesis;
}

inline std::string Bytes32(const PublicKey& key) { return std::string(AsChars(key)); }

class TestChain {
 public:
  explicit TestChain(const v1::Genesis& genesis = TestGenesis()) {
    doc_.genesis = genesis;
    doc_.hash = Sha256(AsBytes(GenesisToJson(genesis)));
    Overlay writes(kv_);
    WriteGenesisState(doc_, writes);
    writes.WriteTo(kv_);
    time_ms_ = genesis.genesis_time_ms();
  }

  KeyPair registrar(int commune = 0) const { return TestKey(1000 + 3 * commune); }
  KeyPair issuer(int commune = 0) const { return TestKey(1001 + 3 * commune); }
  KeyPair validator(int commune = 0) const { return TestKey(1002 + 3 * commune); }
  // Numbered apart from the genesis keys (1000 and up), however many a test makes.
  KeyPair NewKey() { return TestKey(1'000'000 + next_key_++); }

  MemKv& kv() { return kv_; }
  State state() { return State(kv_, scratch_); }
  Hash root() const { return StateRoot(kv_); }
  int64_t time_ms() const { return time_ms_; }
  uint64_t height() { return state().ChainState().height(); }

  // A body from `signer` carrying its next nonce (counting transactions built but not yet applied).
  v1::TxBody Body(const KeyPair& signer) { return builder_.Body(NextNonce(signer)); }

  // Gives back the nonce of the last body built for `signer` (its transaction will not be valid).
  void ForgetLastBody(const KeyPair& signer) { --pending_[signer.public_key()]; }

  std::string Register(const KeyPair& registrar, const PublicKey& key, v1::Role role) {
    return builder_.Register(registrar, NextNonce(registrar), key, role);
  }
  std::string Retire(const KeyPair& registrar, const PublicKey& key) {
    return builder_.Retire(registrar, NextNonce(registrar), key);
  }
  std::string Issue(const KeyPair& issuer, const PublicKey& member, v1::VoucherClass voucher_class, int64_t amount) {
    return builder_.Issue(issuer, NextNonce(issuer), voucher_class, member, amount, "test");
  }
  std::string Redeem(const KeyPair& member, const KeyPair& store, v1::VoucherClass voucher_class, int64_t amount,
                     const std::string& category) {
    return builder_.Redeem(member, NextNonce(member), store, voucher_class, amount, category);
  }
  std::string Attend(const KeyPair& workplace, const PublicKey& member, int64_t shift_start_s, uint32_t minutes) {
    return builder_.Attend(workplace, NextNonce(workplace), member, shift_start_s, minutes);
  }
  // `file` as plan data, one transaction per chunk.
  std::vector<std::string> PlanData(const KeyPair& planner, std::string_view file) {
    std::vector<std::string> txs = builder_.PlanData(planner, NextNonce(planner), file);
    pending_[planner.public_key()] += txs.size() - 1;
    return txs;
  }
  std::string CommitPlan(const KeyPair& planner, const v1::CommitPlan& action) {
    return builder_.CommitPlan(planner, NextNonce(planner), action);
  }

  v1::Block Block(std::vector<std::string> txs, int64_t time_ms) {
    return MakeBlock(ReadChainTip(kv_), std::move(txs), time_ms, validator().public_key(), 0);
  }

  // Applies a block of `txs` at `time_ms` (default: the last block's time + 1 s); the block
  // itself must be accepted. Returns the per-transaction codes; last_results() has the rest.
  std::vector<std::string> Apply(std::vector<std::string> txs, int64_t time_ms = -1) {
    if (time_ms < 0) time_ms = time_ms_ + 1000;
    v1::Block block = Block(std::move(txs), time_ms);
    Overlay writes(kv_);
    Result<v1::BlockResults> results =
        ExecuteBlock(block, VerifyBlockSignatures(block, kChainId), writes);
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    if (!results.ok()) return {};
    writes.WriteTo(kv_);
    time_ms_ = time_ms;
    pending_.clear();
    last_results_ = *results;
    std::vector<std::string> codes;
    for (const v1::TxResult& r : results->results()) codes.push_back(r.code());
    return codes;
  }

  // The results of the last block Apply applied.
  const v1::BlockResults& last_results() const { return last_results_; }

  // Applies `tx` alone and expects it to succeed.
  void ApplyOk(const std::string& tx, int64_t time_ms = -1) {
    std::vector<std::string> codes = Apply({tx}, time_ms);
    ASSERT_EQ(codes, std::vector<std::string>{"OK"});
  }

  // Runs `tx` alone in a block and expects it to fail with `code`, leaving the state root equal to
  // that of an empty block at the same time. The chain does not advance. Returns the result.
  v1::TxResult ExpectRejected(const std::string& tx, const std::string& code) {
    int64_t time_ms = time_ms_ + 1000;
    v1::Block with = Block({tx}, time_ms), without = Block({}, time_ms);
    Overlay with_writes(kv_), without_writes(kv_);
    Result<v1::BlockResults> a = ExecuteBlock(with, VerifyBlockSignatures(with, kChainId), with_writes);
    Result<v1::BlockResults> b = ExecuteBlock(without, {}, without_writes);
    EXPECT_TRUE(a.ok() && b.ok());
    if (!a.ok() || !b.ok() || a->results_size() != 1) {
      ADD_FAILURE() << "the block was refused or has no result";
      return {};
    }
    EXPECT_EQ(a->results(0).code(), code) << a->results(0).message();
    EXPECT_FALSE(a->results(0).message().empty());
    v1::BlockResults stored;  // what the ledger writes must read back (e.g. valid UTF-8)
    EXPECT_TRUE(stored.ParseFromString(a->SerializeAsString())) << a->results(0).message();
    EXPECT_EQ(a->state_root(), b->state_root()) << "a rejected transaction changed the state";
    pending_.clear();
    return a->results(0);
  }

  // Registers a fresh key with `role` in `commune` and returns it.
  KeyPair NewAccount(v1::Role role, int commune = 0) {
    KeyPair key = NewKey();
    ApplyOk(Register(registrar(commune), key.public_key(), role));
    return key;
  }

 private:
  // The signer's next nonce, counting transactions built but not yet applied.
  uint64_t NextNonce(const KeyPair& signer) {
    std::optional<v1::Account> account = state().Account(signer.public_key());
    uint64_t applied = account ? account->nonce() : 0;
    return applied + 1 + pending_[signer.public_key()]++;
  }

  GenesisDoc doc_;
  v1::BlockResults last_results_;
  MemKv kv_;
  MemKv scratch_;
  int64_t time_ms_ = 0;
  uint32_t next_key_ = 1;
  std::map<PublicKey, uint64_t> pending_;
  TxBuilder builder_{kChainId};
};

}  // namespace gongshe::ledger::testing
