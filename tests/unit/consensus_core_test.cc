// The core driven directly with real Ed25519 keys over an in-test FIFO network: commits and their
// certificates, the persist-before-send contract, timeouts, catch-up, restarts, evidence and the
// rejection of malformed or misdirected messages.

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "consensus/core.h"
#include "tests/unit/consensus_test_util.h"

namespace gongshe::consensus {
namespace {

using testing::H;
using testing::KeyFor;
using testing::kChain;
using testing::MakeSetProto;
using testing::Str;

CoreConfig TestConfig() {
  CoreConfig config;
  config.chain_id = std::string(kChain);
  config.base_timeout_ms = 100;
  config.max_payload_bytes = 1024;
  config.max_message_bytes = 64 * 1024;
  return config;
}

std::optional<v1::ConsensusMessage> Parse(const Bytes& bytes) {
  v1::ConsensusMessage m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return m;
}

Bytes Wire(const v1::ConsensusMessage& m) {
  const std::string s = m.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

// n validators on a FIFO network where payloads and executions complete at once.
class Cluster {
 public:
  explicit Cluster(uint32_t n) : n_(n), proto_(MakeSetProto(n)), set_(ValidatorSet::FromProto(proto_).value()) {
    epoch_.epoch = 1;
    epoch_.validators = proto_;
    epoch_.root_id = H(0xAA);
    for (uint32_t i = 0; i < n; ++i) {
      signers_.push_back(std::make_unique<Ed25519Signer>(KeyFor(i)));
      nodes_.emplace_back();
    }
    for (uint32_t i = 0; i < n; ++i) Boot(i);
  }

  struct NodeState {
    std::unique_ptr<Core> core;
    std::optional<v1::SafetyState> safety;
    std::vector<v1::ConsensusBlock> voted;
    std::vector<v1::ConsensusBlock> committed;
    CommittedHead head;
    std::vector<Commit> commits;
    std::vector<v1::Evidence> evidence;
    std::vector<v1::Vote> votes_sent;
    uint64_t timer_round = 0;
  };

  void Boot(uint32_t i) {
    NodeState& node = nodes_[i];
    RecoveredState recovered;
    recovered.head = node.head.height == 0 ? CommittedHead{epoch_.root_id, 0, 0} : node.head;
    recovered.committed = node.committed;
    recovered.voted = node.voted;
    recovered.safety = node.safety;
    node.core = Core::Create(TestConfig(), signers_[i].get(), verifier_, epoch_, recovered).value();
    Handle(i, node.core->Start());
  }

  void Handle(uint32_t i, Actions actions) {
    NodeState& node = nodes_[i];
    uint64_t persisted_round = node.safety ? node.safety->highest_voted_round() : 0;
    for (Action& action : actions) {
      if (auto* p = std::get_if<PersistSafetyState>(&action)) {
        node.safety = p->state;
        persisted_round = p->state.highest_voted_round();
      } else if (auto* b = std::get_if<PersistBlock>(&action)) {
        node.voted.push_back(b->block);
      } else if (auto* s = std::get_if<SendMessage>(&action)) {
        CheckPersisted(i, s->bytes, persisted_round);
        for (uint32_t to = 0; to < n_; ++to) {
          if (set_.key(to) == s->to) queue_.push_back({i, to, s->bytes});
        }
      } else if (auto* bc = std::get_if<BroadcastMessage>(&action)) {
        CheckPersisted(i, bc->bytes, persisted_round);
        for (uint32_t to = 0; to < n_; ++to) {
          if (to != i) queue_.push_back({i, to, bc->bytes});
        }
      } else if (auto* t = std::get_if<SetTimer>(&action)) {
        node.timer_round = t->round;
      } else if (auto* r = std::get_if<RequestPayload>(&action)) {
        Bytes payload = {0x01, static_cast<uint8_t>(r->round), static_cast<uint8_t>(i)};
        Handle(i, node.core->OnPayloadReady(*r, payload, ledger::Sha256(payload)));
      } else if (auto* e = std::get_if<ExecuteBlock>(&action)) {
        const bool valid = !e->payload.empty() && e->payload[0] != 0xFF && ledger::Sha256(e->payload) == e->payload_hash;
        Handle(i, node.core->OnBlockExecuted(e->block_id, valid));
      } else if (auto* c = std::get_if<Commit>(&action)) {
        for (const CommittedBlock& block : c->blocks) node.committed.push_back(block.block);
        node.head = CommittedHead{c->blocks.back().id, c->blocks.back().height, c->blocks.back().round};
        node.commits.push_back(*c);
      } else if (auto* ev = std::get_if<ReportEvidence>(&action)) {
        node.evidence.push_back(ev->evidence);
      }
    }
  }

  // Votes and timeouts must leave only after a persisted state that covers their round.
  void CheckPersisted(uint32_t i, const Bytes& bytes, uint64_t persisted_round) {
    std::optional<v1::ConsensusMessage> m = Parse(bytes);
    ASSERT_TRUE(m.has_value());
    if (m->has_vote()) {
      EXPECT_GE(persisted_round, m->vote().round()) << "vote left node " << i << " before its state was persisted";
      nodes_[i].votes_sent.push_back(m->vote());
    }
    if (m->has_timeout()) {
      EXPECT_GE(persisted_round, m->timeout().round()) << "timeout left node " << i << " before persisting";
    }
  }

  // Delivers queued messages in order; `drop` filters out links.
  template <typename Drop>
  void Run(size_t max_deliveries, Drop drop) {
    for (size_t k = 0; k < max_deliveries; ++k) {
      if (queue_.empty()) FireTimers();  // nothing in flight: every validator's timer expires
      if (queue_.empty()) return;
      Envelope e = std::move(queue_.front());
      queue_.pop_front();
      if (drop(e.from, e.to) || !nodes_[e.to].core) continue;
      Handle(e.to, nodes_[e.to].core->OnMessage(set_.key(e.from), e.bytes));
    }
  }
  void Run(size_t max_deliveries) {
    Run(max_deliveries, [](uint32_t, uint32_t) { return false; });
  }

  void FireTimers() {
    for (uint32_t i = 0; i < n_; ++i) {
      if (nodes_[i].core) Handle(i, nodes_[i].core->OnTimer(nodes_[i].timer_round));
    }
  }

  // Every pair of nodes agrees on every height both committed; returns the highest height.
  uint64_t CheckAgreement() const {
    std::map<uint64_t, BlockId> by_height;
    uint64_t top = 0;
    for (const NodeState& node : nodes_) {
      for (const Commit& c : node.commits) {
        EXPECT_TRUE(VerifyCommitCertificate(c.certificate, proto_, kChain).ok());
        EXPECT_EQ(c.certificate.block_hash(), Str(c.blocks.back().id));
        for (const CommittedBlock& b : c.blocks) {
          auto [it, inserted] = by_height.emplace(b.height, b.id);
          EXPECT_EQ(it->second, b.id) << "conflicting commits at height " << b.height;
          top = std::max(top, b.height);
        }
      }
    }
    return top;
  }

  struct Envelope {
    uint32_t from;
    uint32_t to;
    Bytes bytes;
  };

  uint32_t n_;
  v1::ValidatorSet proto_;
  ValidatorSet set_;
  EpochInfo epoch_;
  Ed25519Verifier verifier_;
  std::vector<std::unique_ptr<Signer>> signers_;
  std::vector<NodeState> nodes_;
  std::deque<Envelope> queue_;
};

TEST(CoreTest, HappyPathCommitsTheSameBlocksWithVerifiableCertificates) {
  Cluster cluster(4);
  cluster.Run(600);
  const uint64_t top = cluster.CheckAgreement();
  EXPECT_GE(top, 10u);
  for (const auto& node : cluster.nodes_) {
    ASSERT_FALSE(node.commits.empty());
    // Consecutive rounds: every block is committed directly, one per commit.
    EXPECT_EQ(node.commits.front().blocks.front().height, 1u);
  }
}

TEST(CoreTest, SevenValidatorsAgree) {
  Cluster cluster(7);
  cluster.Run(1500);
  EXPECT_GE(cluster.CheckAgreement(), 5u);
}

TEST(CoreTest, TimeoutsFormACertificateAndTheNextLeaderExtendsIt) {
  Cluster cluster(4);
  // Lose everything from the leader of round 1, so round 1 can only end by timeouts.
  cluster.Run(60, [](uint32_t from, uint32_t) { return from == 1; });
  for (const auto& node : cluster.nodes_) EXPECT_GE(node.core->current_round(), 2u);
  cluster.Run(400);
  EXPECT_GE(cluster.CheckAgreement(), 3u);
  for (const auto& node : cluster.nodes_) {
    ASSERT_FALSE(node.commits.empty());
    EXPECT_EQ(node.commits.front().blocks.front().height, 1u);
    EXPECT_GE(node.commits.front().blocks.front().round, 2u);  // round 1's block never came
  }
}

TEST(CoreTest, LaggingValidatorCatchesUpByFetchingBlocks) {
  Cluster cluster(4);
  // Validator 3 hears nothing while the others commit.
  cluster.Run(800, [](uint32_t from, uint32_t to) { return to == 3 || from == 3; });
  const uint64_t ahead = cluster.CheckAgreement();
  ASSERT_GE(ahead, 5u);
  EXPECT_TRUE(cluster.nodes_[3].commits.empty());
  cluster.Run(800);
  ASSERT_FALSE(cluster.nodes_[3].commits.empty());
  EXPECT_GE(cluster.nodes_[3].head.height, ahead);
  EXPECT_EQ(cluster.nodes_[3].commits.front().blocks.front().height, 1u);
  cluster.CheckAgreement();
}

TEST(CoreTest, RestartedValidatorDoesNotVoteTwiceInARound) {
  Cluster cluster(4);
  // Round 1's proposal (leader 1) reaches validator 3 only; its vote goes to leader 2.
  std::optional<Cluster::Envelope> proposal;
  for (const auto& e : cluster.queue_) {
    if (e.from == 1 && e.to == 3) proposal = e;
  }
  ASSERT_TRUE(proposal.has_value());
  cluster.queue_.clear();
  cluster.Handle(3, cluster.nodes_[3].core->OnMessage(cluster.set_.key(1), proposal->bytes));
  ASSERT_EQ(cluster.nodes_[3].votes_sent.size(), 1u);
  ASSERT_TRUE(cluster.nodes_[3].safety.has_value());
  EXPECT_EQ(cluster.nodes_[3].safety->highest_voted_round(), 1u);
  EXPECT_EQ(cluster.nodes_[3].voted.size(), 1u);
  // Crash and restart from the persisted state; the same proposal arrives again.
  cluster.queue_.clear();
  cluster.nodes_[3].core.reset();
  cluster.Boot(3);
  EXPECT_EQ(cluster.nodes_[3].core->current_round(), 1u);
  cluster.Handle(3, cluster.nodes_[3].core->OnMessage(cluster.set_.key(1), proposal->bytes));
  EXPECT_EQ(cluster.nodes_[3].votes_sent.size(), 1u);
}

// A signed proposal for `round` from its leader, extending the root.
v1::ConsensusMessage RootProposal(const Cluster& cluster, uint64_t round, uint8_t payload_tag, uint32_t signer) {
  v1::ConsensusMessage m;
  m.set_version(kVersion);
  v1::ConsensusBlock* b = m.mutable_proposal()->mutable_block();
  b->set_version(kVersion);
  b->set_epoch(1);
  b->set_round(round);
  b->set_height(1);
  b->set_parent_id(Str(cluster.epoch_.root_id));
  b->set_proposer(cluster.set_.LeaderOf(round));
  const Bytes payload = {0x01, payload_tag};
  b->set_payload(std::string(payload.begin(), payload.end()));
  const Hash payload_hash = ledger::Sha256(payload);
  b->set_payload_hash(Str(payload_hash));
  v1::QuorumCert* qc = b->mutable_justify();
  qc->set_epoch(1);
  qc->set_round(0);
  qc->set_height(0);
  qc->set_block_id(Str(cluster.epoch_.root_id));
  const BlockId id = ComputeBlockId(kChain, 1, round, 1, cluster.epoch_.root_id, b->proposer(), payload_hash);
  m.mutable_proposal()->set_signature(Str(KeyFor(signer).Sign(kProposalDomain, kChain, ProposalSignBytes(1, round, id))));
  return m;
}

TEST(CoreTest, EquivocatingLeaderProducesVerifiableEvidenceAndOneVote) {
  Cluster cluster(4);
  cluster.queue_.clear();
  auto& node = cluster.nodes_[3];
  cluster.Handle(3, node.core->OnMessage(cluster.set_.key(1), Wire(RootProposal(cluster, 1, 0x10, 1))));
  cluster.Handle(3, node.core->OnMessage(cluster.set_.key(1), Wire(RootProposal(cluster, 1, 0x20, 1))));
  EXPECT_TRUE(node.core->last_status().ok());
  ASSERT_EQ(node.evidence.size(), 1u);
  EXPECT_EQ(node.evidence[0].kind(), v1::Evidence::KIND_DOUBLE_PROPOSAL);
  EXPECT_TRUE(VerifyEvidence(node.evidence[0], kChain).ok());
  EXPECT_EQ(node.votes_sent.size(), 1u);
  // A third distinct block for the round is refused outright.
  cluster.Handle(3, node.core->OnMessage(cluster.set_.key(1), Wire(RootProposal(cluster, 1, 0x30, 1))));
  EXPECT_EQ(node.core->last_status().code(), "EQUIVOCATION");
  EXPECT_EQ(node.evidence.size(), 1u);
}

TEST(CoreTest, DoubleVoteReachingTheLeaderProducesEvidence) {
  Cluster cluster(4);
  cluster.queue_.clear();
  // Validator 3 signs votes for two different round-1 blocks and sends both to leader 2.
  auto& leader = cluster.nodes_[2];
  for (uint8_t tag : {0x10, 0x20}) {
    const v1::ConsensusMessage p = RootProposal(cluster, 1, tag, 1);
    const auto& b = p.proposal().block();
    const BlockId id = ComputeBlockId(kChain, 1, 1, 1, cluster.epoch_.root_id, 1,
                                      ledger::HashFromBytes(AsBytes(b.payload_hash())).value());
    v1::ConsensusMessage m;
    m.set_version(kVersion);
    v1::Vote* v = m.mutable_vote();
    v->set_epoch(1);
    v->set_round(1);
    v->set_height(1);
    v->set_block_id(Str(id));
    v->set_parent_id(Str(cluster.epoch_.root_id));
    v->set_parent_round(0);
    v->set_voter(3);
    v->set_vote_signature(
        Str(KeyFor(3).Sign(kVoteDomain, kChain, VoteSignBytes(1, 1, 1, id, cluster.epoch_.root_id, 0))));
    cluster.Handle(2, leader.core->OnMessage(cluster.set_.key(3), Wire(m)));
    EXPECT_TRUE(leader.core->last_status().ok()) << leader.core->last_status().ToString();
  }
  ASSERT_EQ(leader.evidence.size(), 1u);
  EXPECT_EQ(leader.evidence[0].kind(), v1::Evidence::KIND_DOUBLE_VOTE);
  EXPECT_TRUE(VerifyEvidence(leader.evidence[0], kChain).ok());
}

TEST(CoreTest, RejectsMalformedAndMisdirectedMessages) {
  Cluster cluster(4);
  cluster.queue_.clear();
  Core& core = *cluster.nodes_[2].core;
  const PublicKey from = cluster.set_.key(1);
  auto code = [&](const Bytes& bytes) {
    core.OnMessage(from, bytes);
    return core.last_status().code();
  };
  EXPECT_EQ(code(Bytes(64 * 1024 + 1, 0x01)), "TOO_LARGE");
  EXPECT_EQ(code(Bytes{0xFF, 0xFF, 0xFF}), "BAD_MESSAGE");
  v1::ConsensusMessage empty;
  empty.set_version(kVersion);
  EXPECT_EQ(code(Wire(empty)), "BAD_MESSAGE");
  v1::ConsensusMessage versioned = RootProposal(cluster, 1, 0x10, 1);
  versioned.set_version(2);
  EXPECT_EQ(code(Wire(versioned)), "BAD_MESSAGE");

  EXPECT_EQ(code(Wire(RootProposal(cluster, 1, 0x10, 3))), "BAD_SIGNATURE");  // signed by a non-leader key
  v1::ConsensusMessage wrong_leader = RootProposal(cluster, 1, 0x10, 1);
  wrong_leader.mutable_proposal()->mutable_block()->set_proposer(3);
  EXPECT_EQ(code(Wire(wrong_leader)), "WRONG_LEADER");
  v1::ConsensusMessage skip = RootProposal(cluster, 2, 0x10, 2);  // round 2 on the root needs TC(1)
  EXPECT_EQ(code(Wire(skip)), "BAD_PROPOSAL");
  v1::ConsensusMessage big = RootProposal(cluster, 1, 0x10, 1);
  big.mutable_proposal()->mutable_block()->set_payload(std::string(1025, 'x'));
  EXPECT_EQ(code(Wire(big)), "TOO_LARGE");
  v1::ConsensusMessage epoch = RootProposal(cluster, 1, 0x10, 1);
  epoch.mutable_proposal()->mutable_block()->set_epoch(2);
  EXPECT_EQ(code(Wire(epoch)), "WRONG_EPOCH");
  v1::ConsensusMessage height = RootProposal(cluster, 1, 0x10, 1);
  height.mutable_proposal()->mutable_block()->set_height(2);
  EXPECT_EQ(code(Wire(height)), "BAD_BLOCK");
  v1::ConsensusMessage forged_root = RootProposal(cluster, 1, 0x10, 1);
  forged_root.mutable_proposal()->mutable_block()->mutable_justify()->set_block_id(Str(H(0xBB)));
  forged_root.mutable_proposal()->mutable_block()->set_parent_id(Str(H(0xBB)));
  EXPECT_EQ(code(Wire(forged_root)), "BAD_SIGNATURE");  // id changed, so the signature no longer matches

  v1::ConsensusMessage vote;
  vote.set_version(kVersion);
  vote.mutable_vote()->set_epoch(1);
  vote.mutable_vote()->set_height(1);
  vote.mutable_vote()->set_block_id(Str(H(1)));
  vote.mutable_vote()->set_parent_id(Str(H(2)));
  vote.mutable_vote()->set_voter(1);
  vote.mutable_vote()->set_vote_signature(std::string(64, 'x'));
  vote.mutable_vote()->set_round(1);  // votes of round 1 go to the leader of round 2 = validator 2 = us
  EXPECT_EQ(code(Wire(vote)), "BAD_SIGNATURE");
  vote.mutable_vote()->set_round(2);  // leader of round 3 is validator 3
  EXPECT_EQ(code(Wire(vote)), "NOT_LEADER");
  vote.mutable_vote()->set_voter(9);
  EXPECT_EQ(code(Wire(vote)), "BAD_VOTE");

  v1::ConsensusMessage timeout;
  timeout.set_version(kVersion);
  timeout.mutable_timeout()->set_epoch(1);
  timeout.mutable_timeout()->set_round(1);
  timeout.mutable_timeout()->set_sender(1);
  *timeout.mutable_timeout()->mutable_high_qc() = RootProposal(cluster, 1, 0, 1).proposal().block().justify();
  timeout.mutable_timeout()->set_signature(std::string(64, 'x'));
  EXPECT_EQ(code(Wire(timeout)), "BAD_SIGNATURE");
  timeout.mutable_timeout()->clear_high_qc();
  EXPECT_EQ(code(Wire(timeout)), "BAD_TIMEOUT");

  v1::ConsensusMessage response;
  response.set_version(kVersion);
  *response.mutable_block_response()->add_blocks() = RootProposal(cluster, 1, 0x10, 1).proposal().block();
  EXPECT_EQ(code(Wire(response)), "UNSOLICITED");
  v1::ConsensusMessage request;
  request.set_version(kVersion);
  request.mutable_block_request()->set_block_id(Str(H(0x77)));
  EXPECT_EQ(code(Wire(request)), "NOT_FOUND");
  request.mutable_block_request()->set_block_id("short");
  EXPECT_EQ(code(Wire(request)), "BAD_REQUEST");
}

TEST(CoreTest, CreateRejectsBadConfigurationAndRecovery) {
  const v1::ValidatorSet proto = MakeSetProto(4);
  EpochInfo epoch;
  epoch.epoch = 1;
  epoch.validators = proto;
  epoch.root_id = H(0xAA);
  Ed25519Verifier verifier;
  Ed25519Signer signer(KeyFor(0));
  RecoveredState fresh;
  fresh.head = CommittedHead{epoch.root_id, 0, 0};
  EXPECT_TRUE(Core::Create(TestConfig(), &signer, verifier, epoch, fresh).ok());
  EXPECT_TRUE(Core::Create(TestConfig(), nullptr, verifier, epoch, fresh).ok());  // an observer

  CoreConfig config = TestConfig();
  config.chain_id = "";
  EXPECT_EQ(Core::Create(config, &signer, verifier, epoch, fresh).status().code(), "BAD_CONFIG");
  config = TestConfig();
  config.max_payload_bytes = config.max_message_bytes;
  EXPECT_EQ(Core::Create(config, &signer, verifier, epoch, fresh).status().code(), "BAD_CONFIG");
  config = TestConfig();
  config.base_timeout_ms = 0;
  EXPECT_EQ(Core::Create(config, &signer, verifier, epoch, fresh).status().code(), "BAD_CONFIG");

  RecoveredState wrong_head = fresh;
  wrong_head.head.id = H(0xBB);
  EXPECT_EQ(Core::Create(TestConfig(), &signer, verifier, epoch, wrong_head).status().code(), "BAD_RECOVERY");
  RecoveredState other_epoch = fresh;
  other_epoch.safety.emplace();
  other_epoch.safety->set_version(kVersion);
  other_epoch.safety->set_epoch(2);
  EXPECT_EQ(Core::Create(TestConfig(), &signer, verifier, epoch, other_epoch).status().code(), "BAD_RECOVERY");
  RecoveredState forged_qc = fresh;
  forged_qc.safety.emplace();
  forged_qc.safety->set_version(kVersion);
  forged_qc.safety->set_epoch(1);
  const ValidatorSet set = ValidatorSet::FromProto(proto).value();
  *forged_qc.safety->mutable_high_qc() = testing::MakeQc(set, 1, 3, 2, H(1), H(2), 2, 2);  // below quorum
  EXPECT_EQ(Core::Create(TestConfig(), &signer, verifier, epoch, forged_qc).status().code(), "BAD_RECOVERY");
  v1::ValidatorSet empty_set;
  EpochInfo bad_epoch = epoch;
  bad_epoch.validators = empty_set;
  EXPECT_EQ(Core::Create(TestConfig(), &signer, verifier, bad_epoch, fresh).status().code(), "BAD_VALIDATOR_SET");
}

}  // namespace
}  // namespace gongshe::consensus
