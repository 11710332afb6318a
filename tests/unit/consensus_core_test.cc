// The core driven directly with real Ed25519 keys over an in-test FIFO network: commits and their
// certificates, the persist-before-send contract, timeouts, catch-up, restarts, evidence and the
// rejection of malformed or misdirected messages.

#include <gtest/gtest.h>

#include <deque>
#include <map>

#include "consensus/core.h"
#include "consensus/epoch.h"
#include "tests/unit/consensus_test_util.h"

namespace gongshe::consensus {
namespace {

using testing::H;
using testing::KeyFor;
using testing::kChain;
using testing::MakeSetProto;
using testing::MakeSetProtoOf;
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

// A planned validator-set change: the block of `epoch` at `height` carries `next`.
struct PlannedChange {
  uint64_t epoch = 1;
  uint64_t height = 0;
  v1::ValidatorSet next;
};

// Nodes holding the keys KeyFor(0..nodes-1) on a FIFO network where payloads and executions
// complete at once; the genesis set (epoch 1) is the first n keys, the others start as observers.
// Broadcasts reach every node. The application proposes and accepts exactly the planned changes.
class Cluster {
 public:
  explicit Cluster(uint32_t n, uint32_t nodes = 0, std::vector<PlannedChange> changes = {})
      : n_(n),
        proto_(MakeSetProto(n)),
        set_(ValidatorSet::FromProto(proto_).value()),
        changes_(std::move(changes)),
        history_(ValidatorSetHistory::Create(1, proto_).value()) {
    epoch_.epoch = 1;
    epoch_.validators = proto_;
    epoch_.root_id = H(0xAA);
    const uint32_t count = std::max(n, nodes);
    for (uint32_t i = 0; i < count; ++i) {
      signers_.push_back(std::make_unique<Ed25519Signer>(KeyFor(i)));
      keys_.push_back(KeyFor(i).public_key());
      nodes_.emplace_back();
    }
    for (uint32_t i = 0; i < count; ++i) Boot(i);
  }

  struct Sent {
    v1::ConsensusMessage::BodyCase kind;
    uint64_t epoch = 0;
  };
  struct NodeState {
    std::unique_ptr<Core> core;
    std::optional<v1::SafetyState> safety;
    std::vector<v1::ConsensusBlock> voted;
    std::vector<v1::ConsensusBlock> committed;
    CommittedHead head;
    std::optional<EpochChange> epoch_change;
    std::vector<Commit> commits;
    std::vector<v1::Evidence> evidence;
    std::vector<v1::Vote> votes_sent;
    std::vector<Sent> sent;  // proposals, votes and timeouts, in order
    std::vector<BlockId> executed;
    uint64_t timer_round = 0;
    uint64_t max_timer_delay_ms = 0;
  };

  CoreConfig Config() const {
    CoreConfig config = TestConfig();
    config.validator_set_changes = !changes_.empty();
    return config;
  }

  void Boot(uint32_t i) {
    NodeState& node = nodes_[i];
    RecoveredState recovered;
    recovered.head = node.head.height == 0 ? CommittedHead{epoch_.root_id, 0, 0} : node.head;
    recovered.committed = node.committed;
    recovered.voted = node.voted;
    recovered.safety = node.safety;
    recovered.epoch_change = node.epoch_change;
    node.core = Core::Create(Config(), signers_[i].get(), verifier_, epoch_, recovered).value();
    Handle(i, node.core->Start());
  }

  std::optional<v1::ValidatorSet> ChangeAt(uint64_t epoch, uint64_t height) const {
    for (const PlannedChange& change : changes_) {
      if (change.epoch == epoch && change.height == height) return change.next;
    }
    return std::nullopt;
  }

  void Handle(uint32_t i, Actions actions) {
    NodeState& node = nodes_[i];
    uint64_t persisted_round = node.safety ? node.safety->highest_voted_round() : 0;
    uint64_t persisted_epoch = node.safety ? node.safety->epoch() : 0;
    for (Action& action : actions) {
      if (auto* p = std::get_if<PersistSafetyState>(&action)) {
        node.safety = p->state;
        persisted_round = p->state.highest_voted_round();
        persisted_epoch = p->state.epoch();
      } else if (auto* b = std::get_if<PersistBlock>(&action)) {
        node.voted.push_back(b->block);
      } else if (auto* s = std::get_if<SendMessage>(&action)) {
        CheckPersisted(i, s->bytes, persisted_epoch, persisted_round);
        for (uint32_t to = 0; to < keys_.size(); ++to) {
          if (keys_[to] == s->to) queue_.push_back({i, to, s->bytes});
        }
      } else if (auto* bc = std::get_if<BroadcastMessage>(&action)) {
        CheckPersisted(i, bc->bytes, persisted_epoch, persisted_round);
        for (uint32_t to = 0; to < keys_.size(); ++to) {
          if (to != i) queue_.push_back({i, to, bc->bytes});
        }
      } else if (auto* t = std::get_if<SetTimer>(&action)) {
        node.timer_round = t->round;
        node.max_timer_delay_ms = std::max(node.max_timer_delay_ms, t->delay_ms);
      } else if (std::holds_alternative<RequestPayload>(action) || std::holds_alternative<ExecuteBlock>(action)) {
        Complete(i, std::move(action));
      } else if (auto* c = std::get_if<Commit>(&action)) {
        for (const CommittedBlock& block : c->blocks) node.committed.push_back(block.block);
        node.head = CommittedHead{c->blocks.back().id, c->blocks.back().height, c->blocks.back().round};
        if (c->epoch_change) node.epoch_change = c->epoch_change;
        node.commits.push_back(*c);
      } else if (auto* ev = std::get_if<ReportEvidence>(&action)) {
        node.evidence.push_back(ev->evidence);
      }
    }
  }

  // Payloads and executions complete at once, unless that nests too deep (a validator alone in
  // its set proposes, certifies and commits with no message in between): then on the next step.
  void Complete(uint32_t i, Action action) {
    if (depth_ >= kMaxDepth) {
      deferred_.emplace_back(i, std::move(action));
      return;
    }
    ++depth_;
    NodeState& node = nodes_[i];
    if (auto* r = std::get_if<RequestPayload>(&action)) {
      Bytes payload = {0x01, static_cast<uint8_t>(r->round), static_cast<uint8_t>(i)};
      Handle(i, node.core->OnPayloadReady(*r, payload, ledger::Sha256(payload), ChangeAt(r->epoch, r->height)));
    } else if (auto* e = std::get_if<ExecuteBlock>(&action)) {
      node.executed.push_back(e->block_id);
      std::optional<v1::ValidatorSet> planned = ChangeAt(e->epoch, e->height);
      const bool change_ok =
          planned.has_value() == e->next_validators.has_value() &&
          (!planned || ValidatorSet::FromProto(*planned)->hash() == ValidatorSet::FromProto(*e->next_validators)->hash());
      const bool valid = !e->payload.empty() && e->payload[0] != 0xFF &&
                         ledger::Sha256(e->payload) == e->payload_hash && change_ok;
      Handle(i, node.core->OnBlockExecuted(e->block_id, valid));
    }
    --depth_;
  }

  // Votes and timeouts must leave only after a persisted state of their epoch covers their round.
  void CheckPersisted(uint32_t i, const Bytes& bytes, uint64_t persisted_epoch, uint64_t persisted_round) {
    std::optional<v1::ConsensusMessage> m = Parse(bytes);
    ASSERT_TRUE(m.has_value());
    if (m->has_vote()) {
      EXPECT_EQ(persisted_epoch, m->vote().epoch());
      EXPECT_GE(persisted_round, m->vote().round()) << "vote left node " << i << " before its state was persisted";
      nodes_[i].votes_sent.push_back(m->vote());
      nodes_[i].sent.push_back({m->body_case(), m->vote().epoch()});
    }
    if (m->has_timeout()) {
      EXPECT_EQ(persisted_epoch, m->timeout().epoch());
      EXPECT_GE(persisted_round, m->timeout().round()) << "timeout left node " << i << " before persisting";
      nodes_[i].sent.push_back({m->body_case(), m->timeout().epoch()});
    }
    if (m->has_proposal()) {
      nodes_[i].sent.push_back({m->body_case(), m->proposal().block().epoch()});
      proposals_.push_back(m->proposal().block());
    }
  }

  // Delivers queued messages in order; `drop` filters out links.
  template <typename Drop>
  void Run(size_t max_deliveries, Drop drop) {
    for (size_t k = 0; k < max_deliveries; ++k) {
      if (!deferred_.empty()) {
        auto [i, action] = std::move(deferred_.front());
        deferred_.pop_front();
        if (nodes_[i].core) Complete(i, std::move(action));
        continue;
      }
      if (queue_.empty()) FireTimers();  // nothing in flight: every validator's timer expires
      if (queue_.empty()) return;
      Envelope e = std::move(queue_.front());
      queue_.pop_front();
      if (drop(e.from, e.to) || !nodes_[e.to].core) continue;
      Handle(e.to, nodes_[e.to].core->OnMessage(keys_[e.from], e.bytes));
    }
  }
  void Run(size_t max_deliveries) {
    Run(max_deliveries, [](uint32_t, uint32_t) { return false; });
  }

  void FireTimers() {
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].core) Handle(i, nodes_[i].core->OnTimer(nodes_[i].timer_round));
    }
  }

  // Every pair of nodes agrees on every height both committed, every certificate verifies with
  // the set of its height, every epoch change is the planned one; returns the highest height.
  uint64_t CheckAgreement() {
    std::map<uint64_t, BlockId> by_height;
    std::map<uint64_t, const Commit*> changes;
    for (const NodeState& node : nodes_) {
      for (const Commit& c : node.commits) {
        if (c.epoch_change) changes.emplace(c.epoch_change->epoch.root_height, &c);
      }
    }
    for (const auto& [height, commit] : changes) {
      if (history_.change_heights().empty() || height > history_.change_heights().back()) {
        EXPECT_TRUE(history_.AddChange(height, commit->epoch_change->epoch.validators).ok());
      }
    }
    uint64_t top = 0;
    for (const NodeState& node : nodes_) {
      for (const Commit& c : node.commits) {
        EXPECT_TRUE(VerifyCommitCertificateAt(c.certificate, history_, kChain, verifier_).ok());
        EXPECT_EQ(c.certificate.block_hash(), Str(c.blocks.back().id));
        if (c.epoch_change) {
          EXPECT_TRUE(VerifyEpochChange(*c.epoch_change, kChain, verifier_).ok());
          std::optional<v1::ValidatorSet> planned = ChangeAt(c.epoch_change->epoch.epoch - 1, c.blocks.back().height);
          EXPECT_TRUE(planned.has_value());
          EXPECT_EQ(c.epoch_change->epoch.root_id, c.blocks.back().id);
        }
        for (const CommittedBlock& b : c.blocks) {
          auto [it, inserted] = by_height.emplace(b.height, b.id);
          EXPECT_EQ(it->second, b.id) << "conflicting commits at height " << b.height;
          EXPECT_EQ(b.epoch, history_.EpochAt(b.height)) << "height " << b.height;
          EXPECT_FALSE(b.payload.empty()) << "a block without payload committed at " << b.height;
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
  std::vector<PlannedChange> changes_;
  ValidatorSetHistory history_;
  EpochInfo epoch_;
  Ed25519Verifier ed25519_;
  CachingVerifier verifier_{ed25519_};  // each distinct signature checked once, for speed
  std::vector<std::unique_ptr<Signer>> signers_;
  std::vector<PublicKey> keys_;
  std::vector<NodeState> nodes_;
  std::deque<Envelope> queue_;
  static constexpr int kMaxDepth = 4;
  int depth_ = 0;
  std::deque<std::pair<uint32_t, Action>> deferred_;
  std::vector<v1::ConsensusBlock> proposals_;  // every proposal broadcast, in order
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

TEST(CoreTest, ACrashedLeaderCostsTwoBaseTimersNotThree) {
  Cluster cluster(4);  // base timer 100 ms
  cluster.Run(400, [](uint32_t from, uint32_t to) { return from == 1 || to == 1; });
  EXPECT_GE(cluster.CheckAgreement(), 3u);
  // Validator 1's turn and the round before it (whose votes go to it) end by TC, one after the
  // other, every 4 rounds: the first keeps the base timer, the second doubles it, none more.
  for (uint32_t i : {0u, 2u, 3u}) EXPECT_EQ(cluster.nodes_[i].max_timer_delay_ms, 200u) << "validator " << i;
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

TEST(CoreTest, AVoterCountsInAtMostTwoVoteBucketsOfARound) {
  Cluster cluster(4);
  cluster.queue_.clear();
  Core& leader = *cluster.nodes_[2].core;  // collects the votes of round 5 (leader of round 6)
  // Votes of validator 3 for one block, differing only in what their commit signature certifies.
  auto vote = [&](std::optional<CommitTarget> named) {
    v1::ConsensusMessage m;
    m.set_version(kVersion);
    v1::Vote* v = m.mutable_vote();
    v->set_epoch(1);
    v->set_round(5);
    v->set_height(5);
    v->set_block_id(Str(H(1)));
    v->set_parent_id(Str(H(2)));
    v->set_parent_round(4);
    v->set_voter(3);
    v->set_vote_signature(Str(KeyFor(3).Sign(kVoteDomain, kChain, VoteSignBytes(1, 5, 5, H(1), H(2), 4))));
    const CommitTarget target = named.value_or(CommitTarget{H(2), 4, 4});
    v->set_commit_signature(Str(KeyFor(3).Sign(
        kCommitDomain, kChain, CommitSignBytes(target.height, target.round, target.id, cluster.set_.hash()))));
    if (named) {
      v->set_commit_block_id(Str(named->id));
      v->set_commit_height(named->height);
      v->set_commit_round(named->round);
    }
    leader.OnMessage(cluster.set_.key(3), Wire(m));
    return leader.last_status().code();
  };
  EXPECT_EQ(vote(std::nullopt), "");
  EXPECT_EQ(vote(std::nullopt), "DUPLICATE");
  EXPECT_EQ(vote(CommitTarget{H(7), 3, 3}), "");
  EXPECT_EQ(vote(CommitTarget{H(8), 2, 2}), "EQUIVOCATION");
  EXPECT_EQ(vote(CommitTarget{H(8), 4, 3}), "BAD_VOTE");  // the parent's height is never named
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
  epoch.mutable_proposal()->mutable_block()->set_epoch(0);
  EXPECT_EQ(code(Wire(epoch)), "WRONG_EPOCH");
  epoch.mutable_proposal()->mutable_block()->set_epoch(2);
  EXPECT_EQ(code(Wire(epoch)), "FUTURE_EPOCH");  // kept for when the core gets there
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

// ---------------------------------------------------------------------------------------------
// Validator-set changes

// Four validators; the block at height 3 of epoch 1 replaces validator 0 by a fifth key.
Cluster ReplaceZeroByFour(uint32_t nodes = 5) {
  return Cluster(4, nodes, {PlannedChange{1, 3, MakeSetProtoOf({1, 2, 3, 4})}});
}

// The index in `nodes` of the node that committed the most.
const Cluster::NodeState& Furthest(const Cluster& cluster) {
  const Cluster::NodeState* best = &cluster.nodes_[0];
  for (const auto& node : cluster.nodes_) {
    if (node.head.height > best->head.height) best = &node;
  }
  return *best;
}

TEST(EpochTest, TheBlockCarryingAChangeEndsTheEpochAndTheNewSetTakesOver) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  const uint64_t top = cluster.CheckAgreement();
  ASSERT_GE(top, 8u);
  const ValidatorSet next = ValidatorSet::FromProto(MakeSetProtoOf({1, 2, 3, 4})).value();
  for (uint32_t i = 0; i < 5; ++i) {
    const auto& node = cluster.nodes_[i];
    ASSERT_TRUE(node.epoch_change.has_value()) << "node " << i;
    EXPECT_EQ(node.core->epoch(), 2u);
    const EpochChange& change = *node.epoch_change;
    EXPECT_EQ(change.epoch.epoch, 2u);
    EXPECT_EQ(change.epoch.root_height, 3u);
    EXPECT_EQ(ValidatorSet::FromProto(change.epoch.validators)->hash(), next.hash());
    EXPECT_EQ(node.core->is_validator(), i != 0);
    // The commit of height 3 is the one that ends epoch 1, with a certificate of the old set.
    int ending = 0;
    for (const Commit& c : node.commits) {
      if (!c.epoch_change) continue;
      ++ending;
      EXPECT_EQ(c.blocks.back().height, 3u);
      EXPECT_EQ(c.certificate.validator_set_hash(), Str(cluster.set_.hash()));
    }
    EXPECT_EQ(ending, 1) << "node " << i;
  }
  // Commits above height 3 are certified by the new set.
  const auto& furthest = Furthest(cluster);
  ASSERT_GT(furthest.commits.back().certificate.height(), 3u);
  EXPECT_EQ(furthest.commits.back().certificate.validator_set_hash(), Str(next.hash()));
  // The removed validator stops in epoch 2; the new one proposes and votes there.
  for (const Cluster::Sent& sent : cluster.nodes_[0].sent) EXPECT_EQ(sent.epoch, 1u);
  bool joined_voting = false, joined_proposing = false;
  for (const Cluster::Sent& sent : cluster.nodes_[4].sent) {
    EXPECT_EQ(sent.epoch, 2u);  // an observer in epoch 1
    joined_voting |= sent.kind == v1::ConsensusMessage::kVote;
    joined_proposing |= sent.kind == v1::ConsensusMessage::kProposal;
  }
  EXPECT_TRUE(joined_voting);
  EXPECT_TRUE(joined_proposing);
}

TEST(EpochTest, BlocksAfterTheChangeCarryNoPayloadAndTheNextEpochStartsOnItsRoot) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  cluster.CheckAgreement();
  const auto& furthest = Furthest(cluster);
  const BlockId root = furthest.epoch_change->epoch.root_id;
  int after_change = 0, on_root = 0;
  for (const v1::ConsensusBlock& block : cluster.proposals_) {
    const BlockId id = BlockIdOf(kChain, block).value();
    if (block.epoch() == 1 && block.height() > 3) {
      ++after_change;
      EXPECT_TRUE(block.payload().empty());
      EXPECT_EQ(block.payload_hash(), Str(kNoPayloadHash));
      EXPECT_FALSE(block.has_next_validator_set());
      for (const auto& node : cluster.nodes_) {  // nothing to execute: its state is the change block's
        EXPECT_EQ(std::count(node.executed.begin(), node.executed.end(), id), 0);
      }
    }
    if (block.epoch() == 2 && block.parent_id() == Str(root)) {
      ++on_root;
      // Justified by an epoch-1 QC whose commit signatures certify the root, checkable with the old set.
      EXPECT_EQ(block.justify().epoch(), 1u);
      EXPECT_EQ(block.height(), 4u);
      std::optional<CommitTarget> target = QcCommitTarget(block.justify());
      ASSERT_TRUE(target.has_value());
      EXPECT_EQ(target->id, root);
      EXPECT_TRUE(VerifyQuorumCert(block.justify(), 1, cluster.set_, kChain, cluster.verifier_).ok());
    }
  }
  EXPECT_GE(after_change, 1);
  EXPECT_GE(on_root, 1);
}

TEST(EpochTest, LaggingValidatorCatchesUpAcrossTheSwitch) {
  Cluster cluster = ReplaceZeroByFour();
  // Validator 3 (in both sets) hears nothing while the others switch and go on.
  cluster.Run(3000, [](uint32_t from, uint32_t to) { return to == 3 || from == 3; });
  ASSERT_GE(cluster.nodes_[1].head.height, 6u);
  EXPECT_EQ(cluster.nodes_[3].core->epoch(), 1u);
  EXPECT_TRUE(cluster.nodes_[3].commits.empty());
  cluster.Run(3000);
  const uint64_t top = cluster.CheckAgreement();
  EXPECT_EQ(cluster.nodes_[3].core->epoch(), 2u);
  EXPECT_GE(cluster.nodes_[3].head.height, 6u);
  EXPECT_GE(top, 8u);
  bool voted_in_new_epoch = false;
  for (const Cluster::Sent& sent : cluster.nodes_[3].sent) {
    voted_in_new_epoch |= sent.kind == v1::ConsensusMessage::kVote && sent.epoch == 2;
  }
  EXPECT_TRUE(voted_in_new_epoch);
}

TEST(EpochTest, JoinerThatHeardNothingJoinsThroughTheCertifiedChain) {
  // Two changes; key 5 joins in the second, after hearing nothing at all.
  Cluster cluster(4, 6,
                  {PlannedChange{1, 3, MakeSetProtoOf({1, 2, 3, 4})},
                   PlannedChange{2, 6, MakeSetProtoOf({1, 2, 4, 5, 3})}});
  cluster.Run(4000, [](uint32_t from, uint32_t to) { return to == 5 || from == 5; });
  ASSERT_EQ(cluster.nodes_[1].core->epoch(), 3u);
  EXPECT_EQ(cluster.nodes_[5].core->epoch(), 1u);
  EXPECT_EQ(cluster.nodes_[5].head.height, 0u);
  cluster.Run(4000);
  cluster.CheckAgreement();
  const auto& joiner = cluster.nodes_[5];
  EXPECT_EQ(joiner.core->epoch(), 3u);
  EXPECT_TRUE(joiner.core->is_validator());
  EXPECT_GT(joiner.head.height, 6u);
  ASSERT_FALSE(joiner.commits.empty());
  EXPECT_EQ(joiner.commits.front().blocks.front().height, 1u);  // from genesis, across both switches
  int switches = 0;
  for (const Commit& c : joiner.commits) switches += c.epoch_change ? 1 : 0;
  EXPECT_EQ(switches, 2);
}

TEST(EpochTest, RestartAfterTheSwitchBeforeAnyNewSafetyState) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  auto& node = cluster.nodes_[2];
  ASSERT_EQ(node.core->epoch(), 2u);
  const uint64_t height = node.head.height;
  // The crash came right after the commit that ended epoch 1 was stored: the safety state on
  // disk is still of epoch 1, and no block of epoch 2 was voted.
  v1::SafetyState stale;
  stale.set_version(kVersion);
  stale.set_epoch(1);
  stale.set_highest_voted_round(99);
  node.safety = stale;
  std::erase_if(node.voted, [](const v1::ConsensusBlock& b) { return b.epoch() == 2; });
  node.core.reset();
  cluster.Boot(2);
  EXPECT_EQ(node.core->epoch(), 2u);
  EXPECT_EQ(node.core->highest_voted_round(), 0u);  // the stale state is of another epoch
  cluster.Run(2000);
  cluster.CheckAgreement();
  EXPECT_GT(node.head.height, height);
}

TEST(EpochTest, RestartRecoversTheEpochAndItsSafetyState) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  for (uint32_t i = 0; i < 5; ++i) {
    const uint64_t voted = cluster.nodes_[i].core->highest_voted_round();
    cluster.nodes_[i].core.reset();
    cluster.Boot(i);
    EXPECT_EQ(cluster.nodes_[i].core->epoch(), 2u);
    EXPECT_GE(cluster.nodes_[i].core->highest_voted_round(), voted);
  }
  const uint64_t before = Furthest(cluster).head.height;
  cluster.Run(2000);
  EXPECT_GT(cluster.CheckAgreement(), before);
}

TEST(EpochTest, CreateRejectsInconsistentEpochRecovery) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  const auto& node = cluster.nodes_[1];
  ASSERT_TRUE(node.epoch_change.has_value());
  RecoveredState good;
  good.head = node.head;
  good.committed = node.committed;
  good.safety = node.safety;
  good.epoch_change = node.epoch_change;
  Ed25519Signer signer(KeyFor(1));
  EXPECT_TRUE(Core::Create(cluster.Config(), &signer, cluster.verifier_, cluster.epoch_, good).ok());

  RecoveredState later = good;
  later.safety->set_epoch(3);
  EXPECT_EQ(Core::Create(cluster.Config(), &signer, cluster.verifier_, cluster.epoch_, later).status().code(),
            "BAD_RECOVERY");
  CoreConfig disabled = cluster.Config();
  disabled.validator_set_changes = false;
  EXPECT_EQ(Core::Create(disabled, &signer, cluster.verifier_, cluster.epoch_, good).status().code(), "BAD_CONFIG");
  RecoveredState forged = good;
  forged.epoch_change->root_qc.mutable_signatures()->RemoveLast();
  forged.epoch_change->root_qc.mutable_signatures()->RemoveLast();
  EXPECT_EQ(Core::Create(cluster.Config(), &signer, cluster.verifier_, cluster.epoch_, forged).status().code(),
            "BAD_RECOVERY");
  // The head is the block that ended epoch 1, but the epoch change was not handed back.
  RecoveredState lost;
  lost.head = node.epoch_change->epoch.root_id == node.head.id ? node.head : CommittedHead{};
  std::vector<v1::ConsensusBlock> up_to_root;
  for (const v1::ConsensusBlock& b : node.committed) {
    if (b.height() <= 3) up_to_root.push_back(b);
  }
  lost.head = CommittedHead{node.epoch_change->epoch.root_id, 3, up_to_root.back().round()};
  lost.committed = up_to_root;
  EXPECT_EQ(Core::Create(cluster.Config(), &signer, cluster.verifier_, cluster.epoch_, lost).status().code(),
            "BAD_RECOVERY");
  // A head below the recovered epoch's root.
  RecoveredState below = good;
  below.head = CommittedHead{cluster.epoch_.root_id, 0, 0};
  below.committed.clear();
  EXPECT_EQ(Core::Create(cluster.Config(), &signer, cluster.verifier_, cluster.epoch_, below).status().code(),
            "BAD_RECOVERY");
}

TEST(EpochTest, BlocksCarryingASetAreRefusedWhenChangesAreDisabledOrMalformed) {
  Cluster cluster(4);
  cluster.queue_.clear();
  Core& core = *cluster.nodes_[2].core;
  auto code = [&](const v1::ConsensusMessage& m) {
    core.OnMessage(cluster.set_.key(1), Wire(m));
    return core.last_status().code();
  };
  v1::ConsensusMessage carrying = RootProposal(cluster, 1, 0x10, 1);
  *carrying.mutable_proposal()->mutable_block()->mutable_next_validator_set() = MakeSetProto(5);
  EXPECT_EQ(code(carrying), "BAD_BLOCK");

  Cluster enabled = ReplaceZeroByFour(4);
  enabled.queue_.clear();
  Core& other = *enabled.nodes_[2].core;
  v1::ConsensusMessage malformed = RootProposal(enabled, 1, 0x10, 1);
  v1::ValidatorSet bad = MakeSetProto(4);
  bad.mutable_validators(2)->set_power(0);
  *malformed.mutable_proposal()->mutable_block()->mutable_next_validator_set() = bad;
  other.OnMessage(enabled.set_.key(1), Wire(malformed));
  EXPECT_EQ(other.last_status().code(), "BAD_VALIDATOR_SET");
}

TEST(EpochTest, UnplannedChangeIsNotVotedFor) {
  // The application decides no change at height 1: a leader proposing one gets no vote.
  Cluster cluster = ReplaceZeroByFour(4);
  cluster.queue_.clear();
  v1::ConsensusMessage m = RootProposal(cluster, 1, 0x10, 1);
  v1::ConsensusBlock* block = m.mutable_proposal()->mutable_block();
  *block->mutable_next_validator_set() = MakeSetProtoOf({1});
  const BlockId id = BlockIdOf(kChain, *block).value();
  m.mutable_proposal()->set_signature(Str(KeyFor(1).Sign(kProposalDomain, kChain, ProposalSignBytes(1, 1, id))));
  auto& node = cluster.nodes_[3];
  cluster.Handle(3, node.core->OnMessage(cluster.set_.key(1), Wire(m)));
  EXPECT_TRUE(node.core->last_status().ok()) << node.core->last_status().ToString();
  EXPECT_EQ(std::count(node.executed.begin(), node.executed.end(), id), 1);
  EXPECT_TRUE(node.votes_sent.empty());
}

TEST(EpochTest, MessagesOfOtherEpochsAreRefusedOrKept) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  cluster.queue_.clear();
  Core& core = *cluster.nodes_[2].core;
  ASSERT_EQ(core.epoch(), 2u);
  // A past-epoch timeout from a member of epoch 1 is refused and answered with the QC that ended
  // epoch 1, which is all that member needs to follow.
  v1::ConsensusMessage timeout;
  timeout.set_version(kVersion);
  timeout.mutable_timeout()->set_epoch(1);
  timeout.mutable_timeout()->set_round(50);
  timeout.mutable_timeout()->set_sender(0);
  Actions actions = core.OnMessage(cluster.keys_[0], Wire(timeout));
  EXPECT_EQ(core.last_status().code(), "WRONG_EPOCH");
  int answers = 0;
  for (const Action& action : actions) {
    const auto* send = std::get_if<SendMessage>(&action);
    if (send == nullptr) continue;
    std::optional<v1::ConsensusMessage> m = Parse(send->bytes);
    ASSERT_TRUE(m && m->has_epoch_switch());
    EXPECT_EQ(send->to, cluster.keys_[0]);
    EXPECT_EQ(QcCommitTarget(m->epoch_switch().root_qc())->id, cluster.nodes_[2].epoch_change->epoch.root_id);
    ++answers;
  }
  EXPECT_EQ(answers, 1);
  auto sends = [](const Actions& list) {
    return std::count_if(list.begin(), list.end(), [](const Action& a) { return std::holds_alternative<SendMessage>(a); });
  };
  EXPECT_EQ(sends(core.OnMessage(cluster.keys_[0], Wire(timeout))), 0);  // answered once per timer
  core.OnTimer(core.current_round());
  EXPECT_EQ(sends(core.OnMessage(cluster.keys_[0], Wire(timeout))), 1);
  EXPECT_EQ(sends(core.OnMessage(cluster.keys_[4], Wire(timeout))), 1);  // anyone behind is answered
  // A later epoch's message is kept; an epoch switch of another epoch is refused.
  timeout.mutable_timeout()->set_epoch(3);
  core.OnMessage(cluster.keys_[1], Wire(timeout));
  EXPECT_EQ(core.last_status().code(), "FUTURE_EPOCH");
  v1::ConsensusMessage switch_message;
  switch_message.set_version(kVersion);
  *switch_message.mutable_epoch_switch()->mutable_root_qc() = cluster.nodes_[2].epoch_change->root_qc;
  core.OnMessage(cluster.keys_[1], Wire(switch_message));
  EXPECT_EQ(core.last_status().code(), "WRONG_EPOCH");
}

// The EpochQuery a core sends when its timer fires, if any.
std::optional<v1::EpochQuery> QueryOnTimer(Core& core) {
  std::optional<v1::EpochQuery> query;
  for (const Action& action : core.OnTimer(core.current_round())) {
    const auto* broadcast = std::get_if<BroadcastMessage>(&action);
    std::optional<v1::ConsensusMessage> m = broadcast ? Parse(broadcast->bytes) : std::nullopt;
    if (m && m->has_epoch_query()) query = m->epoch_query();
  }
  return query;
}

TEST(EpochTest, KeyedObserversAskEachTimerAndCoresFurtherOnAnswer) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.queue_.clear();
  // Before the switch: key 4 is an observer of epoch 1 and asks; validators do not.
  std::optional<v1::EpochQuery> query = QueryOnTimer(*cluster.nodes_[4].core);
  ASSERT_TRUE(query.has_value());
  EXPECT_EQ(query->epoch(), 1u);
  EXPECT_FALSE(QueryOnTimer(*cluster.nodes_[1].core).has_value());
  RecoveredState fresh;
  fresh.head = CommittedHead{cluster.epoch_.root_id, 0, 0};
  std::unique_ptr<Core> keyless = Core::Create(cluster.Config(), nullptr, cluster.verifier_, cluster.epoch_, fresh).value();
  keyless->Start();
  EXPECT_FALSE(QueryOnTimer(*keyless).has_value());  // a follower without a key cannot join

  cluster.Run(3000);
  cluster.queue_.clear();
  Core& moved_on = *cluster.nodes_[2].core;
  ASSERT_EQ(moved_on.epoch(), 2u);
  v1::ConsensusMessage ask;
  ask.set_version(kVersion);
  ask.mutable_epoch_query()->set_epoch(1);
  Actions actions = moved_on.OnMessage(cluster.keys_[4], Wire(ask));
  EXPECT_TRUE(moved_on.last_status().ok());
  ASSERT_EQ(actions.size(), 1u);
  const auto* answer = std::get_if<SendMessage>(&actions[0]);
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(answer->to, cluster.keys_[4]);
  std::optional<v1::ConsensusMessage> m = Parse(answer->bytes);
  ASSERT_TRUE(m && m->has_epoch_switch());
  EXPECT_EQ(QcCommitTarget(m->epoch_switch().root_qc())->id, cluster.nodes_[2].epoch_change->epoch.root_id);
  EXPECT_TRUE(moved_on.OnMessage(cluster.keys_[4], Wire(ask)).empty());  // once per timer period
  // A query of the core's own epoch, or of a later one, needs no answer.
  for (uint64_t epoch : {2, 7}) {
    ask.mutable_epoch_query()->set_epoch(epoch);
    EXPECT_TRUE(moved_on.OnMessage(cluster.keys_[0], Wire(ask)).empty());
    EXPECT_TRUE(moved_on.last_status().ok());
  }
}

TEST(EpochTest, JoinerAloneInTheNextSetsLearnsHowTheEpochsBeforeEnded) {
  // Epoch 2 drops key 0; epoch 3 is key 4 alone. Key 4 hears nothing until every old member has
  // switched to epoch 3 and become an observer: from then on nobody talks but the observers'
  // queries, and key 4 must follow two switches from genesis by itself.
  Cluster cluster(4, 5,
                  {PlannedChange{1, 3, MakeSetProtoOf({1, 2, 3})}, PlannedChange{2, 6, MakeSetProtoOf({4})}});
  cluster.Run(1500, [](uint32_t from, uint32_t to) { return to == 4 || from == 4; });
  for (uint32_t i = 0; i < 4; ++i) {
    ASSERT_EQ(cluster.nodes_[i].core->epoch(), 3u) << "node " << i;
    EXPECT_FALSE(cluster.nodes_[i].core->is_validator());
  }
  const uint64_t top = Furthest(cluster).head.height;
  EXPECT_EQ(cluster.nodes_[4].core->epoch(), 1u);
  cluster.queue_.clear();
  cluster.Run(600);
  const auto& joiner = cluster.nodes_[4];
  EXPECT_EQ(joiner.core->epoch(), 3u);
  EXPECT_TRUE(joiner.core->is_validator());
  EXPECT_GT(joiner.head.height, top + 3);  // alone, it commits on its own
  EXPECT_GE(cluster.CheckAgreement(), joiner.head.height);
  int switches = 0;
  for (const Commit& c : joiner.commits) switches += c.epoch_change ? 1 : 0;
  EXPECT_EQ(switches, 2);
}

TEST(EpochTest, EpochSwitchMessageMovesALaggingValidator) {
  Cluster cluster = ReplaceZeroByFour();
  cluster.Run(3000);
  // A fresh validator 3 still at genesis, holding nothing, is told how epoch 1 ended.
  Ed25519Signer signer(KeyFor(3));
  RecoveredState fresh;
  fresh.head = CommittedHead{cluster.epoch_.root_id, 0, 0};
  std::unique_ptr<Core> lagging = Core::Create(cluster.Config(), &signer, cluster.verifier_, cluster.epoch_, fresh).value();
  lagging->Start();
  v1::ConsensusMessage m;
  m.set_version(kVersion);
  *m.mutable_epoch_switch()->mutable_root_qc() = cluster.nodes_[1].epoch_change->root_qc;
  Actions actions = lagging->OnMessage(cluster.keys_[1], Wire(m));
  EXPECT_TRUE(lagging->last_status().ok()) << lagging->last_status().ToString();
  // It fetches the chain up to the block ending epoch 1 from the sender, first.
  const SendMessage* request = nullptr;
  for (const Action& action : actions) {
    if (const auto* send = std::get_if<SendMessage>(&action)) request = send;
  }
  ASSERT_NE(request, nullptr);
  std::optional<v1::ConsensusMessage> fetch = Parse(request->bytes);
  ASSERT_TRUE(fetch && fetch->has_block_request());
  EXPECT_EQ(fetch->block_request().block_id(), Str(cluster.nodes_[1].epoch_change->epoch.root_id));
  const auto peer = std::find(cluster.keys_.begin(), cluster.keys_.end(), request->to);
  ASSERT_NE(peer, cluster.keys_.end());
  Actions answer = cluster.nodes_[peer - cluster.keys_.begin()].core->OnMessage(cluster.keys_[3], request->bytes);
  ASSERT_EQ(answer.size(), 1u);
  Actions done = lagging->OnMessage(request->to, std::get<SendMessage>(answer[0]).bytes);
  EXPECT_TRUE(lagging->last_status().ok()) << lagging->last_status().ToString();
  EXPECT_EQ(lagging->epoch(), 2u);
  EXPECT_EQ(lagging->committed_head().height, 3u);
  bool ended = false;
  for (const Action& action : done) {
    if (const auto* c = std::get_if<Commit>(&action)) ended |= c->epoch_change.has_value();
  }
  EXPECT_TRUE(ended);
}

}  // namespace
}  // namespace gongshe::consensus
