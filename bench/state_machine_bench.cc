// State-machine throughput: blocks of 1,000 mixed transactions (40% issue, 30% redeem, 30%
// attendance), all valid, signatures already checked (as the mempool does on admission), applied
// to a RocksDB ledger with the state commitment and history tree updated per block.
//
// Two figures per block: execution alone (ExecuteBlock into an overlay: decode, rules and laws,
// state records, state tree, history tree) and execution plus the durable commit (one synced
// RocksDB write). Issuances run the laws on issuance_requested (4 standard laws), attendance
// labour_pay's check, redemptions the 2 laws on redemption_requested. Then the week closes: the
// workers who recorded attendance are paid by the laws (labour_pay, overtime_pay, and the
// issuance laws on each lot), at most 1,000 per block; the closing's execution is timed too. Prints one JSON object with medians over the measured blocks, both per wall-clock second
// and per second of this thread's CPU time: on a shared machine the second is far less noisy (it
// leaves out time spent waiting for a core, not cache interference; the synced write's wait for
// the disk is wall time only).
//
// Usage: gongshe_state_machine_bench [members=10000] [measured_blocks=30]

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ledger/laws.h"
#include "ledger/ledger.h"
#include "ledger/state.h"
#include "ledger/tx_builder.h"

namespace gongshe::ledger {
namespace {

constexpr const char* kChain = "gongshe-bench";
constexpr int64_t kGenesisMs = 1'700'000'000'000;
constexpr int kBlockTxs = 1000;

KeyPair Key(uint32_t n) {
  std::array<uint8_t, 32> seed{};
  for (int i = 0; i < 4; ++i) seed[i] = static_cast<uint8_t>(n >> (8 * i));
  seed[31] = 0xbe;
  return KeyPair::FromSeed(seed);
}

std::string Raw(const PublicKey& key) { return std::string(AsChars(key)); }

class Workload {
 public:
  explicit Workload(int members) : registrar_(Key(1)), issuer_(Key(2)), validator_(Key(3)) {
    for (int i = 0; i < members; ++i) members_.push_back(Key(100 + i));
    for (int i = 0; i < 50; ++i) stores_.push_back(Key(2'000'000 + i));
    for (int i = 0; i < 50; ++i) workplaces_.push_back(Key(3'000'000 + i));
    nonces_.resize(members + 110);
  }

  GenesisDoc Genesis() const {
    v1::Genesis g;
    g.set_version(1);
    g.set_chain_id(kChain);
    g.set_genesis_time_ms(kGenesisMs);
    g.set_week_ms(7LL * 24 * 3600 * 1000);
    g.set_epoch_ms(30LL * 24 * 3600 * 1000);
    v1::Commune* c = g.add_communes();
    c->set_name("bench");
    c->set_registrar(Raw(registrar_.public_key()));
    c->set_issuer(Raw(issuer_.public_key()));
    c->set_validator(Raw(validator_.public_key()));
    AddStandardLaws(g);
    return {g, Sha256(AsBytes(GenesisToJson(g)))};
  }

  // Registration of every account, then one issue to every member, in blocks of 1,000.
  std::vector<std::vector<std::string>> Setup() {
    std::vector<std::string> txs;
    for (const auto* group : {&members_, &stores_, &workplaces_}) {
      v1::Role role = group == &members_ ? v1::ROLE_MEMBER : group == &stores_ ? v1::ROLE_STORE : v1::ROLE_WORKPLACE;
      for (const KeyPair& k : *group) txs.push_back(builder_.Register(registrar_, Nonce(0), k.public_key(), role));
    }
    for (const KeyPair& m : members_) txs.push_back(Issue(m, 1'000'000));
    std::vector<std::vector<std::string>> blocks;
    for (size_t i = 0; i < txs.size(); i += kBlockTxs) {
      blocks.emplace_back(txs.begin() + i, txs.begin() + std::min(txs.size(), i + kBlockTxs));
    }
    return blocks;
  }

  std::vector<std::string> MixedBlock(int64_t now_s) {
    std::vector<std::string> txs;
    for (int i = 0; i < kBlockTxs; ++i) {
      int kind = static_cast<int>(rng_() % 10);
      size_t m = rng_() % members_.size();
      if (kind < 4) {
        txs.push_back(Issue(members_[m], 1 + rng_() % 5000));
      } else if (kind < 7) {
        int64_t amount = 1 + rng_() % 100;
        const KeyPair& store = stores_[rng_() % stores_.size()];
        txs.push_back(builder_.Redeem(members_[m], Nonce(100 + m), store, v1::VOUCHER_CLASS_CONSUMPTION, amount, "bread"));
      } else {
        size_t w = rng_() % workplaces_.size();
        uint32_t minutes = 1 + rng_() % 60;
        txs.push_back(builder_.Attend(workplaces_[w], Nonce(3 + w), members_[m].public_key(), now_s, minutes));
      }
    }
    return txs;
  }

  const KeyPair& validator() const { return validator_; }

 private:
  // Nonce slots: 0 registrar, 1 issuer, 3.. workplaces, 100.. members.
  uint64_t Nonce(size_t slot) { return ++nonces_[slot]; }

  std::string Issue(const KeyPair& member, int64_t amount) {
    return builder_.Issue(issuer_, Nonce(1), v1::VOUCHER_CLASS_CONSUMPTION, member.public_key(), amount, "labour");
  }

  KeyPair registrar_, issuer_, validator_;
  std::vector<KeyPair> members_, stores_, workplaces_;
  std::vector<uint64_t> nonces_;
  std::mt19937_64 rng_{1};
  TxBuilder builder_{kChain};
};

// This thread's CPU time in seconds.
double ThreadCpuSeconds() {
  timespec t{};
  GS_ASSERT(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Run(int members, int measured) {
  Workload work(members);
  GenesisDoc genesis = work.Genesis();
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "gongshe-state-machine-bench";
  std::filesystem::remove_all(dir);
  std::unique_ptr<Ledger> ledger = std::move(Ledger::Open(dir.string(), genesis)).value();
  int64_t time_ms = kGenesisMs;
  auto apply = [&](std::vector<std::string> txs, bool check) {
    time_ms += 1000;
    v1::Block block = MakeBlock(ledger->tip(), std::move(txs), time_ms, work.validator().public_key(), 0);
    SignatureResults checked(block.txs_size(), true);  // verified on admission, as in a node
    Result<v1::BlockResults> results = ledger->Apply(block, checked);
    GS_ASSERT(results.ok());
    if (check) {
      for (const v1::TxResult& r : results->results()) GS_ASSERT(r.code() == "OK");
    }
    return block;
  };
  for (std::vector<std::string>& txs : work.Setup()) apply(std::move(txs), true);

  std::vector<double> execute_tps, commit_tps, execute_cpu_tps, commit_cpu_tps;
  for (int b = 0; b < measured; ++b) {
    v1::Block block = MakeBlock(ledger->tip(), work.MixedBlock(time_ms / 1000 + 1), time_ms + 1000,
                                work.validator().public_key(), 0);
    SignatureResults checked(block.txs_size(), true);
    // Execution alone, on an overlay that is then dropped.
    auto t0 = std::chrono::steady_clock::now();
    double c0 = ThreadCpuSeconds();
    {
      Overlay writes(ledger->state());
      GS_ASSERT(ExecuteBlock(block, checked, writes).ok());
    }
    auto t1 = std::chrono::steady_clock::now();
    double c1 = ThreadCpuSeconds();
    Result<v1::BlockResults> results = ledger->Apply(block, checked);
    auto t2 = std::chrono::steady_clock::now();
    double c2 = ThreadCpuSeconds();
    GS_ASSERT(results.ok());
    for (const v1::TxResult& r : results->results()) GS_ASSERT(r.code() == "OK");
    time_ms += 1000;
    execute_tps.push_back(kBlockTxs / std::chrono::duration<double>(t1 - t0).count());
    commit_tps.push_back(kBlockTxs / std::chrono::duration<double>(t2 - t1).count());
    execute_cpu_tps.push_back(kBlockTxs / (c1 - c0));
    commit_cpu_tps.push_back(kBlockTxs / (c2 - c1));
  }
  // The week closes in the first block past its end and goes on in the next ones.
  constexpr int64_t kWeekMs = 7LL * 24 * 3600 * 1000;
  time_ms = std::max(time_ms + 1000, kGenesisMs + kWeekMs);
  size_t closed = 0;
  double closing_cpu_s = 0;
  do {
    v1::Block block = MakeBlock(ledger->tip(), {}, time_ms, work.validator().public_key(), 0);
    double c0 = ThreadCpuSeconds();
    {
      Overlay writes(ledger->state());
      GS_ASSERT(ExecuteBlock(block, {}, writes).ok());
    }
    closing_cpu_s += ThreadCpuSeconds() - c0;
    Result<v1::BlockResults> results = ledger->Apply(block, {});
    GS_ASSERT(results.ok());
    closed += static_cast<size_t>(results->closings_size());
    time_ms += 1000;
  } while (StateView(ledger->state()).HookState().closings_size() > 0);
  ledger.reset();
  std::filesystem::remove_all(dir);
  double execute = Median(execute_tps), commit = Median(commit_tps);
  std::printf(
      "{\"bench\":\"state_machine\",\"members\":%d,\"block_txs\":%d,\"measured_blocks\":%d,"
      "\"execute_tx_per_s_median\":%.0f,\"execute_and_commit_tx_per_s_median\":%.0f,"
      "\"execute_tx_per_cpu_s_median\":%.0f,\"execute_and_commit_tx_per_cpu_s_median\":%.0f,"
      "\"target_tx_per_s\":100000,\"execute_ratio_to_target\":%.2f,\"ratio_to_target\":%.2f,"
      "\"week_closings\":%zu,\"week_closings_per_cpu_s\":%.0f}\n",
      members, kBlockTxs, measured, execute, commit, Median(execute_cpu_tps), Median(commit_cpu_tps),
      execute / 100000.0, commit / 100000.0, closed, static_cast<double>(closed) / closing_cpu_s);
  return 0;
}

}  // namespace
}  // namespace gongshe::ledger

int main(int argc, char** argv) {
  int members = argc > 1 ? std::atoi(argv[1]) : 10'000;
  int measured = argc > 2 ? std::atoi(argv[2]) : 30;
  if (members < 1 || measured < 1) {
    std::fprintf(stderr, "usage: gongshe_state_machine_bench [members>=1] [measured_blocks>=1]\n");
    return 2;
  }
  return gongshe::ledger::Run(members, measured);
}
