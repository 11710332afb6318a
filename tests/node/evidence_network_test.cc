// Equivocation evidence end to end, on real `gongshe node` processes on 127.0.0.1: one validator
// is stopped and a test peer takes its key and its peer port, then signs two votes for different
// blocks in the same round (for a few rounds around the current one, sent to every validator, so
// that the leader that collects that round's votes sees both). The evidence must be recorded by a
// block and listed by GET /v1/evidence on every running node, identically, and verify.

#include <asio.hpp>
#include <gtest/gtest.h>

#include "consensus/certificate.h"
#include "gongshe/v1/peer.pb.h"
#include "node/transport.h"
#include "tests/node/test_network.h"

namespace gongshe::node::testing {
namespace {

constexpr size_t kNodes = 4;
constexpr size_t kByzantine = kNodes - 1;
constexpr uint64_t kRoundsAhead = 4;  // votes for the current round and the next few

ledger::Hash Filled(uint64_t round, uint8_t tag) {
  ledger::Hash h{};
  h.fill(tag);
  for (int i = 0; i < 8; ++i) h[i] = static_cast<uint8_t>(round >> (8 * i));
  return h;
}

// A consensus vote of `voter` for `block_id` in `round`, as a peer frame.
Bytes VoteFrame(const ledger::KeyPair& key, const std::string& chain_id, uint32_t voter, uint64_t round,
                uint64_t height, const ledger::Hash& block_id) {
  const ledger::Hash parent = Filled(round, 0xee);
  v1::Vote vote;
  vote.set_epoch(0);
  vote.set_round(round);
  vote.set_height(height);
  vote.set_block_id(std::string(AsChars(block_id)));
  vote.set_parent_id(std::string(AsChars(parent)));
  vote.set_parent_round(0);  // no commit signature needed
  vote.set_voter(voter);
  const ledger::Signature signature = key.Sign(consensus::kVoteDomain, chain_id,
                                               consensus::VoteSignBytes(0, round, height, block_id, parent, 0));
  vote.set_vote_signature(std::string(AsChars(signature)));
  v1::ConsensusMessage message;
  message.set_version(1);
  *message.mutable_vote() = vote;
  v1::PeerMessage frame;
  frame.set_version(1);
  frame.set_consensus(message.SerializeAsString());
  const std::string bytes = frame.SerializeAsString();
  return Bytes(bytes.begin(), bytes.end());
}

TEST(EvidenceNetworkTest, ConflictingVotesOfAStoppedValidatorAreRecordedOnEveryNode) {
  TestNetwork net(kNodes);
  ASSERT_TRUE(net.status().ok()) << net.status().ToString();
  const Network& network = net.network();
  const NetworkNode& stopped = network.nodes[kByzantine];
  Result<ledger::KeyPair> key = ledger::ReadKeyFile(stopped.home + "/keys/validator.key");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  net.supervisor().Kill(kByzantine);
  ASSERT_TRUE(Eventually([&] { return !net.supervisor().IsRunning(kByzantine); }, 5s));

  std::unique_ptr<Client> client = net.ClientOf(0);
  Result<v1::StatusResponse> status = client->GetStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  std::optional<uint32_t> voter;
  for (int i = 0; i < status->validators_size(); ++i) {
    if (status->validators(i).public_key() == ledger::PublicKeyToHex(key->public_key())) voter = static_cast<uint32_t>(i);
  }
  ASSERT_TRUE(voter.has_value());

  // The test peer: the stopped validator's key on its port, linked to every running node.
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  TransportConfig config(*key, network.chain_id);
  config.listen_port = stopped.p2p.port;
  Result<std::unique_ptr<Transport>> peer = Status("UNSET", "");
  ASSERT_TRUE(Eventually(
      [&] {
        peer = Transport::Create(io, config, TransportHandlers{});
        return peer.ok();
      },
      5s))
      << peer.status().ToString();
  std::vector<Peer> peers;
  for (size_t i = 0; i < kByzantine; ++i) {
    peers.push_back(Peer{network.nodes[i].validator, network.nodes[i].p2p.host, network.nodes[i].p2p.port});
  }
  (*peer)->SetPeers(peers);
  (*peer)->Start();
  std::thread io_thread([&] { io.run(); });
  auto stop_peer = [&] {
    (*peer)->Stop();
    work.reset();
    io.stop();
    if (io_thread.joinable()) io_thread.join();
  };
  if (!Eventually([&] { return (*peer)->ConnectedPeers().size() == kByzantine; }, 15s)) {
    stop_peer();
    FAIL() << "the test peer did not link to every running node\n" << net.LogTail(0);
  }

  // Equivocate until some node records it (each round is a separate offence, recorded once).
  const bool recorded = Eventually(
      [&] {
        Result<v1::StatusResponse> now = client->GetStatus();
        if (!now.ok()) return false;
        for (uint64_t round = std::max<uint64_t>(now->round(), 1); round <= now->round() + kRoundsAhead; ++round) {
          for (const Peer& to : peers) {
            (*peer)->Send(to.key, VoteFrame(*key, network.chain_id, *voter, round, now->height() + 1, Filled(round, 1)));
            (*peer)->Send(to.key, VoteFrame(*key, network.chain_id, *voter, round, now->height() + 1, Filled(round, 2)));
          }
        }
        Result<v1::EvidenceListResponse> listed = client->GetEvidence(0, 100);
        return listed.ok() && listed->total() > 0;
      },
      40s);
  stop_peer();
  ASSERT_TRUE(recorded) << "no evidence recorded\n" << net.LogTail(0) << net.LogTail(1) << net.LogTail(2);

  // Every running node lists the same evidence once it reaches the same height.
  std::vector<v1::EvidenceListResponse> lists(kByzantine);
  const bool agree = Eventually(
      [&] {
        for (size_t i = 0; i < kByzantine; ++i) {
          Result<v1::EvidenceListResponse> listed = net.ClientOf(i)->GetEvidence(0, 100);
          if (!listed.ok()) return false;
          lists[i] = *listed;
        }
        for (size_t i = 1; i < kByzantine; ++i) {
          if (lists[i].total() != lists[0].total() || lists[i].evidence_size() != lists[0].evidence_size()) return false;
        }
        return lists[0].total() > 0;
      },
      20s);
  ASSERT_TRUE(agree) << "nodes disagree on the recorded evidence";
  for (size_t i = 0; i < kByzantine; ++i) {
    SCOPED_TRACE("node " + std::to_string(i));
    EXPECT_EQ(lists[i].total(), static_cast<uint64_t>(lists[i].evidence_size()));
    for (int k = 0; k < lists[i].evidence_size(); ++k) {
      const v1::EvidenceView& view = lists[i].evidence(k);
      EXPECT_EQ(view.sequence(), static_cast<uint64_t>(k));
      EXPECT_EQ(view.validator(), ledger::PublicKeyToHex(key->public_key()));
      EXPECT_EQ(view.kind(), v1::Evidence::KIND_DOUBLE_VOTE);
      EXPECT_EQ(view.epoch(), 0u);
      EXPECT_EQ(view.evidence().first().round(), view.round());
      EXPECT_GT(view.height(), 0u);
      EXPECT_EQ(view.evidence_bytes(), lists[0].evidence(k).evidence_bytes());
      EXPECT_EQ(view.height(), lists[0].evidence(k).height());
      v1::Evidence exact;
      ASSERT_TRUE(exact.ParseFromString(view.evidence_bytes()));
      EXPECT_TRUE(consensus::VerifyEvidence(exact, network.chain_id).ok());
    }
  }
  // The block that recorded the first one carries it under its header's evidence root.
  Result<v1::BlockResponse> block = client->GetBlock(lists[0].evidence(0).height());
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  EXPECT_EQ(block->header().evidence_root().size(), 64u);
}

}  // namespace
}  // namespace gongshe::node::testing
