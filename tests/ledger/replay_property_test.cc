// Property: random valid and invalid transaction streams applied from genesis to fresh RocksDB
// ledgers, with different insertion timing (closing and reopening the database at random points),
// give byte-identical state roots and results (law runs and their explanations included) at every
// height as the in-memory run that built them; and the conservation identity holds at every
// height, for what transactions and the laws' closings issued alike.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "ledger/ledger.h"
#include "tests/ledger/random_stream.h"

namespace gongshe::ledger {
namespace {

using testing::TestChain;

// Per class and expiry epoch, the unexpired lots held by all members sum to the cohort's
// outstanding amount, and issued = redeemed + expired + outstanding. Per class, what the epochs
// record as issued is what the cohorts record as issued: every credit issued is accounted.
void ExpectConservation(const MemKv& kv, uint64_t epoch) {
  std::map<std::pair<int, uint64_t>, int64_t> held;
  std::map<std::pair<int, uint64_t>, v1::Cohort> cohorts;
  std::map<int, int64_t> issued_by_epochs, issued_by_cohorts;
  const std::string balance_prefix = "Sb", cohort_prefix = "Sc", epoch_prefix = "Se";
  for (const auto& [key, value] : kv.entries()) {
    if (key.compare(0, 2, epoch_prefix) == 0) {
      v1::EpochIssuance issuance;
      ASSERT_TRUE(issuance.ParseFromString(value));
      issued_by_epochs[static_cast<uint8_t>(key[2])] += issuance.issued_milli();
      continue;
    }
    if (key.compare(0, 2, balance_prefix) == 0) {
      v1::Balance balance;
      ASSERT_TRUE(balance.ParseFromString(value));
      int voucher_class = static_cast<uint8_t>(key.back());
      for (const v1::Lot& lot : balance.lots()) {
        ASSERT_GT(lot.amount_milli(), 0);
        if (lot.expiry_epoch() > epoch) held[{voucher_class, lot.expiry_epoch()}] += lot.amount_milli();
      }
    } else if (key.compare(0, 2, cohort_prefix) == 0) {
      v1::Cohort cohort;
      ASSERT_TRUE(cohort.ParseFromString(value));
      int voucher_class = static_cast<uint8_t>(key[2]);
      uint64_t expiry = ReadBigEndian64(AsBytes(key).subspan(3));
      cohorts[{voucher_class, expiry}] = cohort;
      issued_by_cohorts[voucher_class] += cohort.issued_milli();
    }
  }
  for (const auto& [id, cohort] : cohorts) {
    EXPECT_EQ(cohort.issued_milli(), cohort.redeemed_milli() + cohort.expired_milli() + cohort.outstanding_milli());
    if (id.second > epoch) {
      EXPECT_EQ(cohort.outstanding_milli(), held[id]) << "class " << id.first << " expiry " << id.second;
      EXPECT_EQ(cohort.expired_milli(), 0);
    } else {
      EXPECT_EQ(cohort.outstanding_milli(), 0);
    }
  }
  for (const auto& [id, amount] : held) EXPECT_TRUE(cohorts.count(id)) << "lots without a cohort";
  EXPECT_EQ(issued_by_epochs, issued_by_cohorts);
}

class ReplayProperty : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ReplayProperty, SameRootsAtEveryHeightAndConservationHolds) {
  const uint64_t seed = GetParam();
  const v1::Genesis genesis = testing::TestGenesis();
  TestChain chain(genesis);
  testing::RandomStream stream(seed, chain);
  std::vector<v1::Block> blocks;
  std::vector<std::string> roots, results_bytes;
  int ok_txs = 0, closings = 0, law_runs = 0;
  for (int h = 0; h < 60; ++h) {
    blocks.push_back(stream.NextBlock(40));
    roots.push_back(std::string(AsChars(chain.root())));
    results_bytes.push_back(chain.last_results().SerializeAsString());
    closings += chain.last_results().closings_size();
    for (const v1::TxResult& r : chain.last_results().results()) law_runs += r.law_runs_size();
    ExpectConservation(chain.kv(), chain.state().ChainState().epoch());
  }

  GenesisDoc doc{genesis, Sha256(AsBytes(GenesisToJson(genesis)))};
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / ("replay-" + std::to_string(seed));
  std::filesystem::remove_all(dir);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::unique_ptr<Ledger> ledger;
  for (size_t h = 0; h < blocks.size(); ++h) {
    if (!ledger || rng() % 7 == 0) {  // reopen: another insertion timing
      ledger.reset();
      Result<std::unique_ptr<Ledger>> opened = Ledger::Open(dir.string(), doc);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      ledger = std::move(opened).value();
      ASSERT_EQ(ledger->height(), h);
    }
    Result<v1::BlockResults> results = ledger->Apply(blocks[h]);
    ASSERT_TRUE(results.ok()) << results.status().ToString();
    ASSERT_EQ(results->state_root(), roots[h]) << "height " << h + 1;
    ASSERT_EQ(results->SerializeAsString(), results_bytes[h]) << "height " << h + 1;
    ASSERT_EQ(std::string(AsChars(ledger->tip().state_root)), roots[h]);
    for (const v1::TxResult& r : results->results()) ok_txs += r.code() == "OK";
  }
  // Reads by height return exactly what was applied.
  for (size_t h = 0; h < blocks.size(); ++h) {
    std::optional<v1::Block> stored = ledger->BlockAt(h + 1);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->SerializeAsString(), blocks[h].SerializeAsString());
    ASSERT_TRUE(ledger->ResultsAt(h + 1).has_value());
  }
  EXPECT_FALSE(ledger->BlockAt(blocks.size() + 1).has_value());
  EXPECT_GT(ok_txs, 100) << "the stream should exercise the valid paths too";
  EXPECT_GT(closings, 0) << "the stream should close weeks or epochs";
  EXPECT_GT(law_runs, 50) << "the stream should run laws";
  ledger.reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ReplayProperty, ::testing::Range<uint64_t>(1, 9));

TEST(Ledger, RefusesAnotherGenesis) {
  std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "ledger-genesis";
  std::filesystem::remove_all(dir);
  v1::Genesis genesis = testing::TestGenesis();
  GenesisDoc doc{genesis, Sha256(AsBytes(GenesisToJson(genesis)))};
  ASSERT_TRUE(Ledger::Open(dir.string(), doc).ok());
  genesis.set_chain_id("another");
  GenesisDoc other{genesis, Sha256(AsBytes(GenesisToJson(genesis)))};
  Result<std::unique_ptr<Ledger>> reopened = Ledger::Open(dir.string(), other);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), "GENESIS_MISMATCH");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gongshe::ledger
