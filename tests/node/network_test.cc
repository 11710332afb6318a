// Four real `gongshe node` processes on 127.0.0.1 commit a stream of transactions submitted to all
// of them; every node ends with the same blocks, state root and balances.

#include <gtest/gtest.h>

#include <future>

#include "tests/node/test_network.h"

namespace gongshe::node::testing {
namespace {

constexpr size_t kNodes = 4;
constexpr uint64_t kIssuesPerCommune = 40;
constexpr int64_t kIssueMilli = 1500;

// Every node's block at the lowest height all have reached: same hash, same state root after it.
void ExpectAgreement(TestNetwork& net, uint64_t at_least) {
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t i = 0; i < net.size(); ++i) clients.push_back(net.ClientOf(i));
  uint64_t common = 0;
  ASSERT_TRUE(Eventually(
      [&] {
        common = UINT64_MAX;
        for (auto& client : clients) {
          Result<v1::StatusResponse> status = client->GetStatus();
          if (!status.ok()) return false;
          common = std::min(common, status->height());
        }
        return common >= at_least;
      },
      30s))
      << "nodes did not all reach height " << at_least;
  Result<v1::BlockResponse> reference = clients[0]->GetBlock(common);
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  for (size_t i = 1; i < clients.size(); ++i) {
    Result<v1::BlockResponse> block = clients[i]->GetBlock(common);
    ASSERT_TRUE(block.ok()) << block.status().ToString();
    EXPECT_EQ(block->block_hash(), reference->block_hash()) << "node " << i << " at height " << common;
    EXPECT_EQ(block->state_root_after(), reference->state_root_after()) << "node " << i;
  }
}

TEST(NetworkTest, FourValidatorsCommitAStreamAndAgree) {
  TestNetwork net(kNodes);
  ASSERT_TRUE(net.status().ok()) << net.status().ToString() << "\n" << net.LogTail(0);
  const ledger::TxBuilder builder(net.network().chain_id);
  const std::vector<bool> none_down(kNodes, false);

  // Each commune registers one member; then its issuer pays that member, 40 times.
  TxTracker tracker(net);
  std::vector<ledger::KeyPair> members;
  for (size_t i = 0; i < kNodes; ++i) {
    members.push_back(ledger::KeyPair::Generate());
    tracker.Add(builder.Register(net.keys(i).registrar, 1, members[i].public_key(), v1::ROLE_MEMBER));
  }
  ASSERT_TRUE(tracker.CommitAll(30s, none_down)) << net.LogTail(0);
  for (uint64_t nonce = 1; nonce <= kIssuesPerCommune; ++nonce) {
    for (size_t i = 0; i < kNodes; ++i) {
      tracker.Add(builder.Issue(net.keys(i).issuer, nonce, v1::VOUCHER_CLASS_CONSUMPTION, members[i].public_key(),
                                kIssueMilli, "shift"));
    }
  }
  ASSERT_TRUE(tracker.CommitAll(60s, none_down)) << tracker.pending() << " pending\n" << net.LogTail(0);

  uint64_t last_height = 0;
  for (const auto& [id, tx] : tracker.committed()) {
    EXPECT_EQ(tx.code(), "OK") << tx.message();
    last_height = std::max(last_height, tx.height());
  }
  EXPECT_EQ(tracker.committed().size(), kNodes * (kIssuesPerCommune + 1));
  ExpectAgreement(net, last_height);

  // Balances as every node reports them in one epoch: nothing else changes them now (devnet lots
  // expire within a minute, so the same epoch is what makes the answers comparable; the height
  // goes on with empty blocks, and the nodes reach each height at slightly different times).
  std::vector<std::unique_ptr<Client>> clients;
  for (size_t node = 0; node < kNodes; ++node) clients.push_back(net.ClientOf(node));
  for (size_t i = 0; i < kNodes; ++i) {
    std::vector<v1::AccountResponse> answers;
    ASSERT_TRUE(Eventually(
        [&] {
          answers.clear();
          std::vector<std::future<Result<v1::AccountResponse>>> asked;
          for (size_t node = 0; node < kNodes; ++node) {
            asked.push_back(std::async(std::launch::async, [&, node] {
              return clients[node]->GetAccount(members[i].public_key());
            }));
          }
          for (auto& answer : asked) {
            Result<v1::AccountResponse> account = answer.get();
            if (!account.ok()) return false;
            answers.push_back(*account);
          }
          for (v1::AccountResponse& answer : answers) {
            if (answer.epoch() != answers[0].epoch()) return false;
          }
          return true;
        },
        20s));
    for (v1::AccountResponse& answer : answers) answer.clear_height();
    for (const v1::AccountResponse& answer : answers) {
      EXPECT_EQ(answer.SerializeAsString(), answers[0].SerializeAsString());
      for (const v1::ClassBalance& balance : answer.balances()) {
        EXPECT_LE(balance.total_milli(), static_cast<int64_t>(kIssuesPerCommune) * kIssueMilli);
      }
    }
  }
}

}  // namespace
}  // namespace gongshe::node::testing
