#pragma once
// Seeded random streams of valid and invalid transactions, cut into blocks whose times sometimes
// cross week and epoch boundaries (some land exactly on a week's first millisecond), so the laws'
// hooks run: attendance (some of it longer than the law allows) gathered over a week is paid when
// it closes, epochs allot guarantee tickets. The blocks are built and applied on a TestChain, so
// each is valid for the state it was built on; replaying them elsewhere must give the same results.

#include <random>
#include <vector>

#include "tests/ledger/test_chain.h"

namespace gongshe::ledger::testing {

class RandomStream {
 public:
  RandomStream(uint64_t seed, TestChain& chain) : rng_(seed), chain_(chain) {}

  // Builds, applies to the chain and returns the next block.
  v1::Block NextBlock(int max_txs) {
    std::vector<std::string> txs;
    int count = Pick(0, max_txs);
    for (int i = 0; i < count; ++i) txs.push_back(NextTx());
    int64_t step = Pick(0, 9) == 0 ? kEpochMs / 2 : Pick(0, 3) == 0 ? kWeekMs / 3 : 1000;
    int64_t time_ms = chain_.time_ms() + step;
    if (Pick(0, 9) == 0) {  // exactly the first millisecond of the next week
      const int64_t since = chain_.time_ms() - kGenesisTimeMs;
      time_ms = kGenesisTimeMs + (since / kWeekMs + 1) * kWeekMs;
    }
    v1::Block block = chain_.Block(txs, time_ms);
    chain_.Apply(std::move(txs), time_ms);
    AdmitRegistered();
    return block;
  }

 private:
  int Pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  template <typename T>
  const T& PickFrom(const std::vector<T>& v) { return v[Pick(0, static_cast<int>(v.size()) - 1)]; }

  // Mostly a real class, sometimes not.
  v1::VoucherClass AnyClass() { return static_cast<v1::VoucherClass>(Pick(0, 12) == 0 ? Pick(0, 9) : Pick(1, 3)); }

  // Keys whose registration was applied join the pools that later transactions draw from.
  void AdmitRegistered() {
    std::vector<std::pair<KeyPair, v1::Role>> still_pending;
    for (auto& [key, role] : registering_) {
      std::optional<v1::Account> account = chain_.state().Account(key.public_key());
      if (!account) continue;
      if (role == v1::ROLE_MEMBER) members_.push_back(key);
      if (role == v1::ROLE_STORE) stores_.push_back(key);
      if (role == v1::ROLE_WORKPLACE) workplaces_.push_back(key);
    }
    registering_.clear();
  }

  std::string NextTx() {
    int commune = Pick(0, 1);
    switch (members_.empty() || stores_.empty() || workplaces_.empty() ? 0 : Pick(0, 11)) {
      case 0: {
        v1::Role role = static_cast<v1::Role>(Pick(0, 6) == 0 ? Pick(0, 9) : Pick(2, 5));
        KeyPair key = chain_.NewKey();
        registering_.push_back({key, role});
        return chain_.Register(chain_.registrar(commune), key.public_key(), role);
      }
      case 1: case 2: case 3:
        return chain_.Issue(chain_.issuer(commune), PickFrom(members_).public_key(), AnyClass(), Pick(0, 20) == 0 ? Pick(-5, 0) : Pick(1, 5000));
      case 4: case 5: case 6: {
        static const std::vector<std::string> kCategories = {"bread", "piano", "tools", "housing", "BAD"};
        return chain_.Redeem(PickFrom(members_), PickFrom(stores_), AnyClass(), Pick(0, 3000), PickFrom(kCategories));
      }
      case 7: case 10: case 11:  // sometimes longer than labour_pay's longest day, or in a closed week
        return chain_.Attend(PickFrom(workplaces_), PickFrom(members_).public_key(),
                             chain_.time_ms() / 1000 - Pick(0, 4000), Pick(0, 4) == 0 ? Pick(600, 1100) : Pick(0, 600));
      case 8:
        if (Pick(0, 3) != 0) return chain_.Issue(chain_.issuer(commune), PickFrom(members_).public_key(), AnyClass(), 100);
        return chain_.Retire(chain_.registrar(commune), PickFrom(Pick(0, 5) == 0 ? stores_ : members_).public_key());
      default: {  // 9: damaged bytes: flipped bits, truncation, or plain garbage
        std::string tx = chain_.Issue(chain_.issuer(commune), PickFrom(members_).public_key(), AnyClass(), 10);
        chain_.ForgetLastBody(chain_.issuer(commune));
        int how = Pick(0, 2);
        if (how == 0) tx[Pick(0, static_cast<int>(tx.size()) - 1)] ^= static_cast<char>(1 << Pick(0, 7));
        if (how == 1) tx.resize(Pick(0, static_cast<int>(tx.size()) - 1));
        if (how == 2) tx = std::string(Pick(0, 64), static_cast<char>(Pick(0, 255)));
        return tx;
      }
    }
  }

  std::mt19937_64 rng_;
  TestChain& chain_;
  std::vector<KeyPair> members_, stores_, workplaces_;
  std::vector<std::pair<KeyPair, v1::Role>> registering_;
};

}  // namespace gongshe::ledger::testing
