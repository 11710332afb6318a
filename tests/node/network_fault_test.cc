// Faults against real `gongshe node` processes on 127.0.0.1, under a steady transaction load:
// validators killed with SIGKILL and restarted, one left down and brought back (it must catch up
// by block sync), a peer whose key is not in the validator set, garbage and oversize frames on a
// peer port, and a flood of invalid transactions on the API. Nothing committed may be lost, and
// all state roots must agree.

#include <asio.hpp>
#include <gtest/gtest.h>

#include <fstream>

#include "node/transport.h"
#include "tests/node/test_network.h"

namespace gongshe::node::testing {
namespace {

constexpr size_t kNodes = 4;

// Per commune: one member and the issuer's next nonce; each Load step issues one voucher each.
class IssueLoad {
 public:
  IssueLoad(TestNetwork& net, TxTracker& tracker) : net_(net), tracker_(tracker), builder_(net.network().chain_id) {}

  std::vector<ledger::KeyPair>& members() { return members_; }

  void RegisterMembers() {
    for (size_t i = 0; i < net_.size(); ++i) {
      members_.push_back(ledger::KeyPair::Generate());
      tracker_.Add(builder_.Register(net_.keys(i).registrar, 1, members_[i].public_key(), v1::ROLE_MEMBER));
      next_nonce_.push_back(1);
    }
  }

  void IssueOneEach() {
    for (size_t i = 0; i < net_.size(); ++i) {
      tracker_.Add(builder_.Issue(net_.keys(i).issuer, next_nonce_[i]++, v1::VOUCHER_CLASS_CONSUMPTION,
                                  members_[i].public_key(), 1000, "shift"));
    }
  }

 private:
  TestNetwork& net_;
  TxTracker& tracker_;
  ledger::TxBuilder builder_;
  std::vector<ledger::KeyPair> members_;
  std::vector<uint64_t> next_nonce_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

uint64_t HeightOf(TestNetwork& net, size_t node) {
  Result<v1::StatusResponse> status = net.ClientOf(node)->GetStatus();
  return status.ok() ? status->height() : 0;
}

// Every transaction committed anywhere is committed at the same place with the same result on
// every node, and every node agrees on the block and state root at a common height.
void ExpectNothingLostAndAgreement(TestNetwork& net, const TxTracker& tracker) {
  uint64_t last_height = 0;
  for (const auto& [id, tx] : tracker.committed()) last_height = std::max(last_height, tx.height());
  ASSERT_TRUE(Eventually(
      [&] {
        for (size_t i = 0; i < net.size(); ++i) {
          if (HeightOf(net, i) < last_height) return false;
        }
        return true;
      },
      60s))
      << "a node did not catch up to height " << last_height;
  for (size_t node = 0; node < net.size(); ++node) {
    std::unique_ptr<Client> client = net.ClientOf(node);
    for (const auto& [id, committed] : tracker.committed()) {
      Result<v1::TxResponse> here = client->GetTx(id);
      ASSERT_TRUE(here.ok()) << "node " << node << " lost " << ToHex(id) << ": " << here.status().ToString();
      EXPECT_EQ(here->height(), committed.height());
      EXPECT_EQ(here->index(), committed.index());
      EXPECT_EQ(here->code(), committed.code());
    }
    Result<v1::BlockResponse> block = client->GetBlock(last_height);
    Result<v1::BlockResponse> reference = net.ClientOf(0)->GetBlock(last_height);
    ASSERT_TRUE(block.ok() && reference.ok());
    EXPECT_EQ(block->block_hash(), reference->block_hash()) << "node " << node;
    EXPECT_EQ(block->state_root_after(), reference->state_root_after()) << "node " << node;
  }
}

// Runs the load for `duration`, calling `fault(elapsed)` every step; `down` says who is down.
void RunLoad(IssueLoad& load, TxTracker& tracker, std::vector<bool>& down, std::chrono::milliseconds duration,
             const std::function<void(std::chrono::milliseconds)>& fault) {
  const auto start = Clock::now();
  while (Clock::now() - start < duration) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    fault(elapsed);
    if (tracker.pending() < 200) load.IssueOneEach();
    tracker.Step(down);
    std::this_thread::sleep_for(50ms);
  }
}

// Four validators with one member registered per commune, and the load ready to issue.
class NetworkFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(net.status().ok()) << net.status().ToString() << "\n" << net.LogTail(0);
    load.RegisterMembers();
    ASSERT_TRUE(tracker.CommitAll(30s, down)) << net.LogTail(0);
  }

  TestNetwork net{kNodes};
  TxTracker tracker{net};
  IssueLoad load{net, tracker};
  std::vector<bool> down = std::vector<bool>(kNodes, false);
};

TEST_F(NetworkFaultTest, KilledAndRestartedValidatorsLoseNothingAndCatchUp) {

  // Node 3 is killed three times and restarted 1.5 s later each time; then node 2 stays down for
  // 10 s (the other three keep committing) and comes back.
  struct Event {
    std::chrono::milliseconds at;
    size_t node;
    bool kill;
  };
  const std::vector<Event> events = {{1000ms, 3, true},  {2500ms, 3, false}, {5000ms, 3, true},
                                     {6500ms, 3, false}, {9000ms, 3, true},  {10500ms, 3, false},
                                     {14000ms, 2, true}, {24000ms, 2, false}};
  size_t next = 0;
  RunLoad(load, tracker, down, 28s, [&](std::chrono::milliseconds elapsed) {
    while (next < events.size() && elapsed >= events[next].at) {
      const Event& e = events[next++];
      if (e.kill) {
        net.supervisor().Kill(e.node);
      } else {
        ASSERT_TRUE(net.supervisor().Start(e.node).ok());
      }
      down[e.node] = e.kill;
    }
  });
  ASSERT_TRUE(tracker.CommitAll(60s, down))
      << tracker.pending() << " transactions never committed\n"
      << net.LogTail(2);
  EXPECT_GT(tracker.committed().size(), 100u);
  ExpectNothingLostAndAgreement(net, tracker);
  // Node 2 was far behind when it came back: it caught up by block sync, not only by consensus.
  EXPECT_NE(ReadFile(net.network().nodes[2].home + "/" + kNodeLogFile).find("blocks by block sync"), std::string::npos)
      << net.LogTail(2) << net.LogTail(3) << net.LogTail(0);
}

// Raw TCP to a node's peer port: each of these byte strings must get the connection closed while
// the node keeps committing.
void SendRaw(uint16_t port, const std::string& bytes) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  asio::error_code error;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, error);
  if (error) return;
  asio::write(socket, asio::buffer(bytes), error);
}

TEST_F(NetworkFaultTest, BadPeersGarbageAndInvalidTransactionsDoNotStopCommits) {

  // An outsider with a key not in the validator set dials node 0 (it dials when its key is lower).
  const NetworkNode& target = net.network().nodes[0];
  ledger::KeyPair outsider = ledger::KeyPair::Generate();
  while (!(outsider.public_key() < target.validator)) outsider = ledger::KeyPair::Generate();
  asio::io_context outsider_io;
  std::atomic<int> outsider_frames{0};
  TransportHandlers handlers;
  handlers.on_frame = [&](const ledger::PublicKey&, Bytes) { ++outsider_frames; };
  Result<std::unique_ptr<Transport>> intruder =
      Transport::Create(outsider_io, TransportConfig(outsider, net.network().chain_id), handlers);
  ASSERT_TRUE(intruder.ok()) << intruder.status().ToString();
  (*intruder)->SetPeers({Peer{target.validator, target.p2p.host, target.p2p.port}});
  (*intruder)->Start();
  std::thread outsider_thread([&] { outsider_io.run_for(6s); });

  std::unique_ptr<Client> flood_client = net.ClientOf(1);
  const ledger::TxBuilder builder(net.network().chain_id);
  const ledger::KeyPair stranger = ledger::KeyPair::Generate();
  size_t flood_sent = 0, flood_refused = 0;
  const uint64_t height_before = HeightOf(net, 0);
  RunLoad(load, tracker, down, 6s, [&](std::chrono::milliseconds) {
    SendRaw(target.p2p.port, std::string(64, '\x5a'));                     // garbage
    SendRaw(target.p2p.port, std::string("\xff\xff\xff\xff", 4) + "big");  // an oversize length
    for (int i = 0; i < 50; ++i) {  // invalid transactions: unknown signer, then a bad signature
      std::string tx = builder.Issue(stranger, 1 + i, v1::VOUCHER_CLASS_CONSUMPTION, stranger.public_key(), 1, "x");
      if (i % 2 == 1) tx[tx.size() - 1] ^= 1;
      ++flood_sent;
      if (!flood_client->SubmitTx(tx).ok()) ++flood_refused;
    }
  });
  outsider_thread.join();
  (*intruder)->Stop();

  EXPECT_GT(flood_sent, 0u);
  EXPECT_EQ(flood_refused, flood_sent) << "every invalid transaction is refused";
  EXPECT_TRUE((*intruder)->ConnectedPeers().empty());
  EXPECT_EQ(outsider_frames.load(), 0);
  EXPECT_GT(HeightOf(net, 0), height_before + 5) << net.LogTail(0);
  ASSERT_TRUE(tracker.CommitAll(30s, down)) << net.LogTail(0);
  ExpectNothingLostAndAgreement(net, tracker);
}

}  // namespace
}  // namespace gongshe::node::testing
