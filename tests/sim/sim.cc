#include "tests/sim/sim.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <queue>
#include <sstream>
#include <vector>

#include "consensus/certificate.h"
#include "consensus/signer.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace gongshe::sim {
namespace {

using consensus::Action;
using consensus::Actions;
using consensus::BlockId;
using consensus::CommittedHead;
using consensus::Core;
using ledger::Hash;
using ledger::PublicKey;
using ledger::Signature;

constexpr std::string_view kChainId = "sim-chain";
constexpr uint64_t kEpoch = 1;
constexpr uint64_t kBaseTimeoutMs = 100;
constexpr uint64_t kHealedMaxDelayMs = 10;
constexpr size_t kMaxPayloadBytes = 1024;
constexpr size_t kMaxMessageBytes = 64 * 1024;
constexpr uint64_t kMaxEvents = 20'000'000;
constexpr size_t kByzantineMemory = 64;
constexpr size_t kRetainedBlocks = 256;

// SplitMix64: small, fast, and the same everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t bound) { return bound == 0 ? 0 : Next() % bound; }
  uint64_t Range(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool Chance(uint64_t permille) { return Below(1000) < permille; }

 private:
  uint64_t state_;
};

// Test-only signature scheme: SHA-256 keyed by the signer's secret seed. Unforgeable inside the
// simulator (Byzantine nodes only hold their own seeds), and ~100x cheaper than Ed25519.
class FastSigner final : public consensus::Signer {
 public:
  FastSigner(const std::array<uint8_t, 32>& seed, const PublicKey& key) : seed_(seed), key_(key) {}
  const PublicKey& public_key() const override { return key_; }
  Signature Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const override {
    return Compute(seed_, domain, chain_id, payload);
  }
  static Signature Compute(const std::array<uint8_t, 32>& seed, std::string_view domain, std::string_view chain_id,
                           ByteView payload) {
    const Bytes message = ledger::SignBytes(domain, chain_id, payload);
    const Hash h = ledger::Sha256({AsBytes("gongshe-sim-fast-signature"), seed, message});
    Signature s{};
    std::copy(h.begin(), h.end(), s.begin());
    return s;
  }

 private:
  std::array<uint8_t, 32> seed_;
  PublicKey key_;
};

class FastVerifier final : public consensus::Verifier {
 public:
  void Add(const PublicKey& key, const std::array<uint8_t, 32>& seed) { seeds_[key] = seed; }
  bool Verify(const PublicKey& key, std::string_view domain, std::string_view chain_id, ByteView payload,
              const Signature& signature) const override {
    auto it = seeds_.find(key);
    return it != seeds_.end() && FastSigner::Compute(it->second, domain, chain_id, payload) == signature;
  }

 private:
  std::map<PublicKey, std::array<uint8_t, 32>> seeds_;
};

std::string Short(const std::string& bytes) { return ToHex(AsBytes(bytes.substr(0, 3))); }
std::string Short(const Hash& h) { return ToHex(ByteView(h.data(), 3)); }

bool PayloadValid(ByteView payload, const Hash& hash) {
  return !payload.empty() && payload[0] != 0xFF && ledger::Sha256(payload) == hash;
}

Bytes Serialize(const v1::ConsensusMessage& m) {
  const std::string s = m.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

std::string Describe(ByteView bytes) {
  v1::ConsensusMessage m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return "garbage(" + std::to_string(bytes.size()) + "B)";
  }
  std::ostringstream out;
  switch (m.body_case()) {
    case v1::ConsensusMessage::kProposal: {
      const auto& b = m.proposal().block();
      out << "PROPOSAL r" << b.round() << " h" << b.height() << " by v" << b.proposer() << " parent "
          << Short(b.parent_id()) << " qc r" << b.justify().round() << (m.proposal().has_tc() ? " +tc" : "");
      break;
    }
    case v1::ConsensusMessage::kVote:
      out << "VOTE r" << m.vote().round() << " h" << m.vote().height() << " block " << Short(m.vote().block_id())
          << " by v" << m.vote().voter();
      break;
    case v1::ConsensusMessage::kTimeout:
      out << "TIMEOUT r" << m.timeout().round() << " hqc r" << m.timeout().high_qc().round() << " by v"
          << m.timeout().sender();
      break;
    case v1::ConsensusMessage::kBlockRequest:
      out << "BLOCK_REQUEST " << Short(m.block_request().block_id()) << " above h" << m.block_request().above_height();
      break;
    case v1::ConsensusMessage::kBlockResponse:
      out << "BLOCK_RESPONSE " << m.block_response().blocks_size() << " blocks";
      break;
    case v1::ConsensusMessage::BODY_NOT_SET:
      out << "EMPTY";
      break;
  }
  return out.str();
}

enum class EventKind { kDeliver, kTimer, kPayloadReady, kExecuted, kCrash, kRestart, kPartition, kPartitionEnd, kHeal };

struct Event {
  uint64_t time = 0;
  uint64_t seq = 0;
  EventKind kind = EventKind::kDeliver;
  uint32_t node = 0;
  uint32_t from_node = 0;
  uint64_t incarnation = 0;
  uint64_t generation = 0;
  uint64_t round = 0;
  Bytes bytes;
  consensus::RequestPayload request;
  Hash hash{};
  bool valid = false;
  std::vector<int> groups;
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};

struct Node {
  uint32_t key_index = 0;
  bool honest = true;
  uint32_t behaviours = 0;  // Byzantine behaviours; 0 runs the unmodified core
  bool twin = false;
  std::unique_ptr<consensus::Signer> signer;
  std::unique_ptr<Core> core;
  bool up = true;
  uint64_t incarnation = 0;
  uint64_t timer_generation = 0;
  bool crash_mid_next = false;
  // The node's durable store.
  std::optional<v1::SafetyState> persisted;
  std::map<BlockId, v1::ConsensusBlock> voted_blocks;
  std::vector<v1::ConsensusBlock> committed_blocks;  // the most recent, ascending
  CommittedHead head;
  int group = 0;
  // Byzantine memory (bounded).
  std::vector<Bytes> seen_messages;
  std::map<uint64_t, v1::QuorumCert> seen_qcs;
};

struct Profile {
  uint64_t max_delay = 10;
  uint64_t loss_permille = 0;
  uint64_t dup_permille = 0;
  bool partitions = false;
  bool crashes = false;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : options_(options), rng_(options.seed * 0x2545F4914F6CDD1DULL + 1) {}

  SimResult Run() {
    Setup();
    while (!queue_.empty() && result_.ok && !done_) {
      if (++result_.events > kMaxEvents) {
        Fail(false, "event budget exhausted");
        break;
      }
      Event event = queue_.top();
      queue_.pop();
      now_ = event.time;
      if (healed_ && now_ > heal_time_ + options_.liveness_cap_ms) {
        Fail(false, "liveness: honest nodes did not all commit above height " + std::to_string(heal_height_) +
                        " within " + std::to_string(options_.liveness_cap_ms) + " ms after the heal");
        break;
      }
      Dispatch(event);
    }
    if (result_.ok && !done_) Fail(false, "liveness: simulation ran out of events");
    result_.sim_time_ms = now_;
    for (const Node& node : nodes_) {
      if (node.honest && node.core) result_.max_round = std::max(result_.max_round, node.core->current_round());
    }
    return std::move(result_);
  }

 private:
  // ------------------------------------------------------------------ setup
  void Setup() {
    const uint32_t n = options_.n;
    profile_.max_delay = rng_.Range(5, 150);
    profile_.loss_permille = rng_.Chance(200) ? 0 : rng_.Range(0, 200);
    profile_.dup_permille = rng_.Range(0, 100);
    profile_.partitions = rng_.Chance(600);
    profile_.crashes = rng_.Chance(600);

    std::vector<uint32_t> order(n);
    for (uint32_t i = 0; i < n; ++i) order[i] = i;
    for (uint32_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng_.Below(i)]);
    byzantine_.assign(n, false);
    for (uint32_t i = 0; i < std::min(options_.byzantine, n); ++i) byzantine_[order[i]] = true;
    // Twins: every Byzantine key is held by two nodes running the honest code, and the twins sit
    // on opposite sides of every partition.
    const bool twins = options_.allow_twins && options_.byzantine > 0 && rng_.Chance(300);
    if (twins) {
      profile_.partitions = true;
      result_.twins = true;
    }

    v1::ValidatorSet set;
    set.set_version(consensus::kVersion);
    std::vector<std::array<uint8_t, 32>> seeds(n);
    for (uint32_t i = 0; i < n; ++i) {
      Bytes tag(AsBytes("gongshe-sim-key").begin(), AsBytes("gongshe-sim-key").end());
      AppendBigEndian64(tag, i);
      seeds[i] = ledger::Sha256(tag);
      keys_.push_back(ledger::KeyPair::FromSeed(seeds[i]).public_key());
      fast_.Add(keys_[i], seeds[i]);
      v1::Validator* v = set.add_validators();
      v->set_public_key(std::string(keys_[i].begin(), keys_[i].end()));
      v->set_power(1);
      v->set_commune("commune-" + std::to_string(i));
    }
    epoch_.epoch = kEpoch;
    epoch_.validators = set;
    Bytes genesis(AsBytes("gongshe-sim-genesis").begin(), AsBytes("gongshe-sim-genesis").end());
    AppendBigEndian64(genesis, options_.seed);
    epoch_.root_id = ledger::Sha256(genesis);
    epoch_.root_height = 0;
    set_ = std::make_unique<consensus::ValidatorSet>(consensus::ValidatorSet::FromProto(set).value());
    inner_verifier_ = options_.signer == SignerKind::kFast
                          ? static_cast<const consensus::Verifier*>(&fast_)
                          : static_cast<const consensus::Verifier*>(&ed25519_);
    verifier_ = std::make_unique<consensus::CachingVerifier>(*inner_verifier_);

    auto add_node = [&](uint32_t key_index, bool twin) {
      Node node;
      node.key_index = key_index;
      node.honest = !byzantine_[key_index];
      node.twin = twin;
      if (!node.honest && !twin) {
        uint32_t mix = static_cast<uint32_t>(rng_.Next()) & options_.behaviours;
        if (mix == 0) {
          std::vector<uint32_t> bits;
          for (uint32_t b = 0; b < 6; ++b) {
            if (options_.behaviours & (1u << b)) bits.push_back(1u << b);
          }
          GS_ASSERT(!bits.empty());
          mix = bits[rng_.Below(bits.size())];
        }
        node.behaviours = mix;
      }
      if (options_.signer == SignerKind::kFast) {
        node.signer = std::make_unique<FastSigner>(seeds[key_index], keys_[key_index]);
      } else {
        node.signer = std::make_unique<consensus::Ed25519Signer>(ledger::KeyPair::FromSeed(seeds[key_index]));
      }
      node.head = CommittedHead{epoch_.root_id, 0, 0};
      nodes_.push_back(std::move(node));
    };
    for (uint32_t i = 0; i < n; ++i) add_node(i, twins && byzantine_[i]);
    for (uint32_t i = 0; i < n; ++i) {
      if (twins && byzantine_[i]) add_node(i, true);
    }

    std::ostringstream profile;
    profile << "seed=" << options_.seed << " n=" << n << " byzantine=" << options_.byzantine
            << " max_delay=" << profile_.max_delay << "ms loss=" << profile_.loss_permille
            << "/1000 dup=" << profile_.dup_permille << "/1000 partitions=" << profile_.partitions
            << " crashes=" << profile_.crashes << " twins=" << (twins ? "yes" : "no");
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].behaviours != 0) profile << " n" << i << "=byz:" << nodes_[i].behaviours;
    }
    result_.profile = profile.str();
    Trace("profile " + result_.profile);

    for (uint32_t i = 0; i < nodes_.size(); ++i) StartCore(i);
    ScheduleChaos();
  }

  void ScheduleChaos() {
    const uint64_t chaos = options_.chaos_ms;
    if (profile_.partitions) {
      uint64_t t = rng_.Range(0, chaos / 3);
      for (int i = 0; i < 64 && t < chaos; ++i) {
        Event e;
        e.kind = EventKind::kPartition;
        for (size_t k = 0; k < nodes_.size(); ++k) e.groups.push_back(static_cast<int>(rng_.Below(2)));
        Schedule(t, std::move(e));
        const uint64_t duration = rng_.Range(200, 2000);
        Event end;
        end.kind = EventKind::kPartitionEnd;
        Schedule(std::min(t + duration, chaos), std::move(end));
        t += duration + rng_.Range(100, 1500);
      }
    }
    if (profile_.crashes) {
      const uint64_t count = rng_.Range(1, 3);
      for (uint64_t i = 0; i < count; ++i) {
        Event crash;
        crash.kind = EventKind::kCrash;
        crash.node = static_cast<uint32_t>(rng_.Below(nodes_.size()));
        const uint64_t t = rng_.Range(0, chaos);
        Event restart;
        restart.kind = EventKind::kRestart;
        restart.node = crash.node;
        Schedule(t, std::move(crash));
        Schedule(t + rng_.Range(50, 2000), std::move(restart));
      }
    }
    Event heal;
    heal.kind = EventKind::kHeal;
    Schedule(chaos, std::move(heal));
  }

  consensus::CoreConfig ConfigFor(const Node& node) const {
    consensus::CoreConfig config;
    config.chain_id = std::string(kChainId);
    config.base_timeout_ms = kBaseTimeoutMs;
    config.max_payload_bytes = kMaxPayloadBytes;
    config.max_message_bytes = kMaxMessageBytes;
    config.retained_committed_blocks = kRetainedBlocks;
    config.safety_override = node.behaviours == 0 ? options_.honest_override : consensus::SafetyOverride::kNone;
    return config;
  }

  void StartCore(uint32_t index) {
    Node& node = nodes_[index];
    ++node.incarnation;
    consensus::RecoveredState recovered;
    recovered.head = node.head;
    recovered.committed = node.committed_blocks;
    for (const auto& [id, block] : node.voted_blocks) recovered.voted.push_back(block);
    recovered.safety = node.persisted;
    Result<std::unique_ptr<Core>> core = Core::Create(ConfigFor(node), node.signer.get(), *verifier_, epoch_, recovered);
    GS_ASSERT(core.ok());
    node.core = std::move(core).value();
    node.up = true;
    Execute(index, node.core->Start());
  }

  // ------------------------------------------------------------------ events
  void Schedule(uint64_t time, Event event) {
    event.time = time;
    event.seq = next_seq_++;
    queue_.push(std::move(event));
  }

  void Dispatch(Event& e) {
    switch (e.kind) {
      case EventKind::kDeliver: {
        Node& node = nodes_[e.node];
        if (!node.up) return;
        if (node.behaviours != 0) ByzantineIncoming(e.node, e.bytes);
        Actions actions = node.core->OnMessage(keys_[nodes_[e.from_node].key_index], e.bytes);
        const Status& status = node.core->last_status();
        if (node.honest && !status.ok()) ++result_.rejections[status.code()];
        if (options_.trace) {
          Trace("n" + std::to_string(e.node) + " <- n" + std::to_string(e.from_node) + " " + Describe(e.bytes) +
                (status.ok() ? "" : " [" + status.ToString() + "]"));
        }
        Execute(e.node, std::move(actions));
        return;
      }
      case EventKind::kTimer: {
        Node& node = nodes_[e.node];
        if (!node.up || e.incarnation != node.incarnation || e.generation != node.timer_generation) return;
        Trace("n" + std::to_string(e.node) + " timer r" + std::to_string(e.round));
        Execute(e.node, node.core->OnTimer(e.round));
        return;
      }
      case EventKind::kPayloadReady: {
        Node& node = nodes_[e.node];
        if (!node.up || e.incarnation != node.incarnation) return;
        Execute(e.node, node.core->OnPayloadReady(e.request, std::move(e.bytes), e.hash));
        return;
      }
      case EventKind::kExecuted: {
        Node& node = nodes_[e.node];
        if (!node.up || e.incarnation != node.incarnation) return;
        Execute(e.node, node.core->OnBlockExecuted(e.hash, e.valid));
        return;
      }
      case EventKind::kCrash: {
        Node& node = nodes_[e.node];
        if (!node.up || healed_) return;
        if (rng_.Chance(500)) {
          node.crash_mid_next = true;  // dies part-way through its next list of actions
        } else {
          Crash(e.node);
        }
        return;
      }
      case EventKind::kRestart:
        if (!nodes_[e.node].up) Restart(e.node);
        return;
      case EventKind::kPartition:
        if (healed_) return;
        for (size_t i = 0; i < nodes_.size(); ++i) nodes_[i].group = e.groups[i];
        // Twins sit on opposite sides of every partition: the first copy of a key on side 0.
        for (size_t i = 0; i < nodes_.size(); ++i) {
          if (nodes_[i].twin) nodes_[i].group = i < options_.n ? 0 : 1;
        }
        partitioned_ = true;
        Trace("partition");
        return;
      case EventKind::kPartitionEnd:
        partitioned_ = false;
        Trace("partition healed");
        return;
      case EventKind::kHeal:
        Heal();
        return;
    }
  }

  void Crash(uint32_t index) {
    Node& node = nodes_[index];
    node.core.reset();
    node.up = false;
    node.crash_mid_next = false;
    ++node.incarnation;
    Trace("n" + std::to_string(index) + " CRASH");
  }

  void Restart(uint32_t index) {
    Trace("n" + std::to_string(index) + " RESTART at h" + std::to_string(nodes_[index].head.height));
    StartCore(index);
  }

  void Heal() {
    healed_ = true;
    partitioned_ = false;
    heal_time_ = now_;
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      nodes_[i].crash_mid_next = false;
      if (!nodes_[i].up) Restart(i);
    }
    heal_height_ = 0;
    heal_round_ = 0;
    for (const Node& node : nodes_) {
      if (!node.honest) continue;
      heal_height_ = std::max(heal_height_, node.head.height);
      heal_round_ = std::max(heal_round_, node.core->current_round());
    }
    Trace("HEAL at height " + std::to_string(heal_height_) + " round " + std::to_string(heal_round_));
  }

  // ------------------------------------------------------------------ network
  void Deliver(uint32_t from, uint32_t to, const Bytes& bytes) {
    ++result_.messages;
    Event e;
    e.kind = EventKind::kDeliver;
    e.node = to;
    e.from_node = from;
    e.bytes = bytes;
    if (healed_) {
      Schedule(now_ + rng_.Range(1, kHealedMaxDelayMs), std::move(e));
      return;
    }
    if (partitioned_ && nodes_[from].group != nodes_[to].group) return;
    if (rng_.Chance(profile_.loss_permille)) return;
    if (rng_.Chance(profile_.dup_permille)) Schedule(now_ + rng_.Range(1, profile_.max_delay), e);
    Schedule(now_ + rng_.Range(1, profile_.max_delay), std::move(e));
  }

  void SendToKey(uint32_t from, const PublicKey& key, const Bytes& bytes) {
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (i != from && keys_[nodes_[i].key_index] == key) Deliver(from, i, bytes);
    }
  }

  void SendToAll(uint32_t from, const Bytes& bytes) {
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (i != from) Deliver(from, i, bytes);
    }
  }

  // ------------------------------------------------------------------ actions
  void Execute(uint32_t index, Actions actions) {
    size_t limit = actions.size();
    const bool crash_after = nodes_[index].crash_mid_next;
    if (crash_after) limit = rng_.Below(actions.size() + 1);
    for (size_t i = 0; i < limit && result_.ok; ++i) Perform(index, actions[i]);
    if (crash_after) Crash(index);
  }

  void Perform(uint32_t index, Action& action) {
    Node& node = nodes_[index];
    if (auto* send = std::get_if<consensus::SendMessage>(&action)) {
      if (node.behaviours != 0) return ByzantineOutgoing(index, &send->to, send->bytes);
      return SendToKey(index, send->to, send->bytes);
    }
    if (auto* broadcast = std::get_if<consensus::BroadcastMessage>(&action)) {
      if (node.behaviours != 0) return ByzantineOutgoing(index, nullptr, broadcast->bytes);
      return SendToAll(index, broadcast->bytes);
    }
    if (auto* timer = std::get_if<consensus::SetTimer>(&action)) {
      Event e;
      e.kind = EventKind::kTimer;
      e.node = index;
      e.incarnation = node.incarnation;
      e.generation = ++node.timer_generation;
      e.round = timer->round;
      Schedule(now_ + timer->delay_ms, std::move(e));
      return;
    }
    if (auto* persist = std::get_if<consensus::PersistSafetyState>(&action)) {
      node.persisted = persist->state;
      return;
    }
    if (auto* persist = std::get_if<consensus::PersistBlock>(&action)) {
      const v1::ConsensusBlock& b = persist->block;
      node.voted_blocks[consensus::ComputeBlockId(kChainId, b.epoch(), b.round(), b.height(),
                                                  ledger::HashFromBytes(AsBytes(b.parent_id())).value(), b.proposer(),
                                                  ledger::HashFromBytes(AsBytes(b.payload_hash())).value())] = b;
      return;
    }
    if (auto* request = std::get_if<consensus::RequestPayload>(&action)) {
      Event e;
      e.kind = EventKind::kPayloadReady;
      e.node = index;
      e.incarnation = node.incarnation;
      e.request = *request;
      e.bytes = RandomPayload(index, request->round);
      e.hash = ledger::Sha256(e.bytes);
      Schedule(now_ + 1, std::move(e));
      return;
    }
    if (auto* execute = std::get_if<consensus::ExecuteBlock>(&action)) {
      Event e;
      e.kind = EventKind::kExecuted;
      e.node = index;
      e.incarnation = node.incarnation;
      e.hash = execute->block_id;
      e.valid = PayloadValid(execute->payload, execute->payload_hash);
      Schedule(now_ + 1, std::move(e));
      return;
    }
    if (auto* commit = std::get_if<consensus::Commit>(&action)) return CheckCommit(index, *commit);
    if (auto* evidence = std::get_if<consensus::ReportEvidence>(&action)) return CheckEvidence(index, *evidence);
  }

  Bytes RandomPayload(uint32_t index, uint64_t round) {
    Bytes payload = {0x01};
    AppendBigEndian64(payload, index);
    AppendBigEndian64(payload, round);
    AppendBigEndian64(payload, rng_.Next());
    return payload;
  }

  // ------------------------------------------------------------------ checks
  void CheckCommit(uint32_t index, const consensus::Commit& commit) {
    Node& node = nodes_[index];
    if (options_.trace) {
      Trace("n" + std::to_string(index) + " COMMIT h" + std::to_string(commit.blocks.front().height) + "..h" +
            std::to_string(commit.blocks.back().height) + " " + Short(commit.blocks.back().id));
    }
    if (node.honest) {
      const std::string who = "n" + std::to_string(index);
      if (commit.blocks.empty()) return Fail(true, who + " committed an empty chain");
      BlockId parent = node.head.id;
      uint64_t height = node.head.height;
      for (const consensus::CommittedBlock& block : commit.blocks) {
        if (block.parent_id != parent || block.height != height + 1) {
          return Fail(true, who + " commit at h" + std::to_string(block.height) + " does not extend its previous commit");
        }
        if (!PayloadValid(block.payload, block.payload_hash)) {
          return Fail(true, who + " committed an invalid payload at h" + std::to_string(block.height));
        }
        auto [it, inserted] = committed_.emplace(block.height, block.id);
        if (!inserted && it->second != block.id) {
          return Fail(true, "SAFETY: " + who + " committed " + Short(block.id) + " at height " +
                                std::to_string(block.height) + " where another honest node committed " +
                                Short(it->second));
        }
        parent = block.id;
        height = block.height;
      }
      const consensus::CommittedBlock& last = commit.blocks.back();
      Status cert = consensus::VerifyCommitCertificate(commit.certificate, *set_, kChainId, *verifier_);
      if (!cert.ok()) return Fail(true, who + " commit certificate rejected: " + cert.ToString());
      if (commit.certificate.block_hash() != std::string(last.id.begin(), last.id.end()) ||
          commit.certificate.height() != last.height || commit.certificate.round() != last.round) {
        return Fail(true, who + " commit certificate names another block");
      }
      result_.committed_height = std::max(result_.committed_height, last.height);
    }
    node.head = CommittedHead{commit.blocks.back().id, commit.blocks.back().height, commit.blocks.back().round};
    for (const consensus::CommittedBlock& block : commit.blocks) node.committed_blocks.push_back(block.block);
    if (node.committed_blocks.size() > kRetainedBlocks) {
      node.committed_blocks.erase(node.committed_blocks.begin(),
                                  node.committed_blocks.end() - static_cast<long>(kRetainedBlocks));
    }
    std::erase_if(node.voted_blocks, [&](const auto& entry) { return entry.second.height() <= node.head.height; });
    if (healed_) CheckProgress();
  }

  void CheckEvidence(uint32_t index, const consensus::ReportEvidence& report) {
    ++result_.evidence;
    Trace("n" + std::to_string(index) + " EVIDENCE kind " + std::to_string(report.evidence.kind()));
    if (!nodes_[index].honest) return;
    Status status = consensus::VerifyEvidence(report.evidence, kChainId, *verifier_);
    if (!status.ok()) return Fail(true, "evidence from n" + std::to_string(index) + " rejected: " + status.ToString());
    std::optional<PublicKey> key = ledger::PublicKeyFromBytes(AsBytes(report.evidence.validator()));
    std::optional<uint32_t> accused = key ? set_->IndexOf(*key) : std::nullopt;
    if (!accused || (options_.check_accusations && !byzantine_[*accused])) {
      return Fail(true, "evidence from n" + std::to_string(index) + " accuses an honest validator");
    }
  }

  void CheckProgress() {
    for (const Node& node : nodes_) {
      if (node.honest && node.head.height <= heal_height_) return;
    }
    uint64_t round = 0;
    for (const Node& node : nodes_) {
      if (node.honest) round = std::max(round, node.core->current_round());
    }
    result_.rounds_after_heal = round - std::min(round, heal_round_);
    const uint64_t bound = options_.liveness_round_bound != 0 ? options_.liveness_round_bound : 4 * options_.n + 20;
    if (result_.rounds_after_heal > bound) {
      return Fail(false, "liveness: progress after the heal took " + std::to_string(result_.rounds_after_heal) +
                             " rounds, bound " + std::to_string(bound));
    }
    done_ = true;
  }

  void Fail(bool safety, const std::string& what) {
    if (!result_.ok) return;
    result_.ok = false;
    (safety ? result_.safety_violation : result_.liveness_violation) = true;
    result_.failure = "seed " + std::to_string(options_.seed) + " t=" + std::to_string(now_) + "ms: " + what;
    Trace("FAIL " + result_.failure);
  }

  void Trace(const std::string& line) {
    if (options_.trace) result_.trace += "t=" + std::to_string(now_) + " " + line + "\n";
  }

  // ------------------------------------------------------------------ Byzantine behaviour
  void Remember(Node& node, const v1::QuorumCert& qc) {
    if (qc.round() == 0) return;
    node.seen_qcs[qc.round()] = qc;
    if (node.seen_qcs.size() > kByzantineMemory) node.seen_qcs.erase(node.seen_qcs.begin());
  }

  void ByzantineIncoming(uint32_t index, const Bytes& bytes) {
    Node& node = nodes_[index];
    if (node.seen_messages.size() < kByzantineMemory) {
      node.seen_messages.push_back(bytes);
    } else {
      node.seen_messages[rng_.Below(kByzantineMemory)] = bytes;
    }
    v1::ConsensusMessage m;
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
    if (m.has_timeout()) Remember(node, m.timeout().high_qc());
    if (!m.has_proposal()) return;
    Remember(node, m.proposal().block().justify());
    if (node.behaviours & kDoubleVote) VoteFor(index, m.proposal().block());
  }

  // A vote for any block, signed with this node's key, sent to the next leader.
  void VoteFor(uint32_t index, const v1::ConsensusBlock& block) {
    Node& node = nodes_[index];
    std::optional<Hash> parent = ledger::HashFromBytes(AsBytes(block.parent_id()));
    std::optional<Hash> payload_hash = ledger::HashFromBytes(AsBytes(block.payload_hash()));
    if (!parent || !payload_hash || block.round() == 0 || block.height() == 0) return;
    const BlockId id = consensus::ComputeBlockId(kChainId, kEpoch, block.round(), block.height(), *parent,
                                                 block.proposer(), *payload_hash);
    v1::ConsensusMessage m;
    m.set_version(consensus::kVersion);
    v1::Vote* vote = m.mutable_vote();
    vote->set_epoch(kEpoch);
    vote->set_round(block.round());
    vote->set_height(block.height());
    vote->set_block_id(std::string(id.begin(), id.end()));
    vote->set_parent_id(block.parent_id());
    const uint64_t parent_round = block.justify().round();
    vote->set_parent_round(parent_round);
    vote->set_voter(node.key_index);
    const Signature s = node.signer->Sign(
        consensus::kVoteDomain, kChainId,
        consensus::VoteSignBytes(kEpoch, block.round(), block.height(), id, *parent, parent_round));
    vote->set_vote_signature(std::string(s.begin(), s.end()));
    if (parent_round > 0 && parent_round + 1 == block.round()) {
      const Signature c = node.signer->Sign(
          consensus::kCommitDomain, kChainId,
          consensus::CommitSignBytes(block.height() - 1, parent_round, *parent, set_->hash()));
      vote->set_commit_signature(std::string(c.begin(), c.end()));
    }
    SendToKey(index, keys_[set_->LeaderOf(block.round() + 1)], Serialize(m));
  }

  // Re-signs a proposal after its block changed.
  void Resign(const Node& node, v1::Proposal& p) {
    const v1::ConsensusBlock& b = p.block();
    std::optional<Hash> parent = ledger::HashFromBytes(AsBytes(b.parent_id()));
    std::optional<Hash> payload_hash = ledger::HashFromBytes(AsBytes(b.payload_hash()));
    if (!parent || !payload_hash) return;
    const BlockId id =
        consensus::ComputeBlockId(kChainId, kEpoch, b.round(), b.height(), *parent, b.proposer(), *payload_hash);
    const Signature s =
        node.signer->Sign(consensus::kProposalDomain, kChainId, consensus::ProposalSignBytes(kEpoch, b.round(), id));
    p.set_signature(std::string(s.begin(), s.end()));
  }

  void SetPayload(v1::ConsensusBlock* block, const Bytes& payload) {
    block->set_payload(std::string(payload.begin(), payload.end()));
    const Hash h = ledger::Sha256(payload);
    block->set_payload_hash(std::string(h.begin(), h.end()));
  }

  void ByzantineOutgoing(uint32_t index, const PublicKey* to, const Bytes& bytes) {
    Node& node = nodes_[index];
    if (node.behaviours & kSilent) return;
    auto send = [&](const Bytes& b) { to ? SendToKey(index, *to, b) : SendToAll(index, b); };
    if (node.behaviours & kStaleAndFuture) StaleAndFuture(index);
    v1::ConsensusMessage m;
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !m.has_proposal()) return send(bytes);
    v1::Proposal proposal = m.proposal();
    Remember(node, proposal.block().justify());

    if ((node.behaviours & kInvalidProposal) && rng_.Chance(600)) {
      return SendToAll(index, InvalidVariant(node, proposal));
    }
    if ((node.behaviours & kForkLeader) && proposal.has_tc()) {
      // Extend a remembered QC older than the one the rules require.
      auto end = node.seen_qcs.lower_bound(proposal.block().justify().round());
      const uint64_t older = static_cast<uint64_t>(std::distance(node.seen_qcs.begin(), end));
      if (older > 0) {
        const v1::QuorumCert& old = std::next(node.seen_qcs.begin(), static_cast<long>(rng_.Below(older)))->second;
        v1::ConsensusBlock* block = proposal.mutable_block();
        block->set_height(old.height() + 1);
        block->set_parent_id(old.block_id());
        *block->mutable_justify() = old;
        SetPayload(block, RandomPayload(index, block->round()));
        Resign(node, proposal);
        *m.mutable_proposal() = proposal;
        Trace("n" + std::to_string(index) + " BYZ fork proposal r" + std::to_string(block->round()) + " on qc r" +
              std::to_string(old.round()));
        if (node.behaviours & kDoubleVote) VoteFor(index, proposal.block());
        return SendToAll(index, Serialize(m));
      }
    }
    if (node.behaviours & kEquivocate) {
      v1::ConsensusMessage other = m;
      SetPayload(other.mutable_proposal()->mutable_block(), RandomPayload(index, proposal.block().round()));
      Resign(node, *other.mutable_proposal());
      if (node.behaviours & kDoubleVote) VoteFor(index, other.proposal().block());
      const Bytes a = bytes;
      const Bytes b = Serialize(other);
      Trace("n" + std::to_string(index) + " BYZ equivocates r" + std::to_string(proposal.block().round()));
      for (uint32_t i = 0; i < nodes_.size(); ++i) {
        if (i != index) Deliver(index, i, rng_.Chance(500) ? a : b);
      }
      return;
    }
    send(bytes);
  }

  Bytes InvalidVariant(const Node& node, v1::Proposal proposal) {
    v1::ConsensusBlock* block = proposal.mutable_block();
    v1::ConsensusMessage m;
    m.set_version(consensus::kVersion);
    switch (rng_.Below(7)) {
      case 0: {  // bad signature
        std::string sig = proposal.signature();
        if (!sig.empty()) sig[0] = static_cast<char>(sig[0] ^ 1);
        proposal.set_signature(sig);
        break;
      }
      case 1:  // oversized payload
        SetPayload(block, Bytes(kMaxPayloadBytes + 1, 0x01));
        Resign(node, proposal);
        break;
      case 2: {  // payload the application rejects
        Bytes payload = RandomPayload(node.key_index, block->round());
        payload[0] = 0xFF;
        SetPayload(block, payload);
        Resign(node, proposal);
        break;
      }
      case 3:  // wrong height
        block->set_height(block->height() + 1);
        Resign(node, proposal);
        break;
      case 4: {  // forged justify
        v1::QuorumCert* qc = block->mutable_justify();
        if (qc->signatures_size() > 0) {
          std::string sig = qc->signatures(0).vote_signature();
          if (!sig.empty()) sig[0] = static_cast<char>(sig[0] ^ 1);
          qc->mutable_signatures(0)->set_vote_signature(sig);
        }
        break;
      }
      case 5:  // larger than any message
        return Bytes(kMaxMessageBytes + 1, 0x01);
      default: {  // garbage
        Bytes junk(rng_.Range(1, 200));
        for (uint8_t& b : junk) b = static_cast<uint8_t>(rng_.Next());
        return junk;
      }
    }
    *m.mutable_proposal() = proposal;
    return Serialize(m);
  }

  void StaleAndFuture(uint32_t index) {
    Node& node = nodes_[index];
    if (!node.seen_messages.empty() && rng_.Chance(300)) {
      const Bytes& old = node.seen_messages[rng_.Below(node.seen_messages.size())];
      Deliver(index, static_cast<uint32_t>(rng_.Below(nodes_.size())), old);
    }
    if (node.seen_qcs.empty() || !rng_.Chance(200)) return;
    const v1::QuorumCert& qc = node.seen_qcs.rbegin()->second;
    v1::ConsensusMessage m;
    m.set_version(consensus::kVersion);
    v1::Timeout* t = m.mutable_timeout();
    t->set_epoch(kEpoch);
    t->set_round(qc.round() + rng_.Range(2, 200));
    *t->mutable_high_qc() = qc;
    t->set_sender(node.key_index);
    const Signature s = node.signer->Sign(consensus::kTimeoutDomain, kChainId,
                                          consensus::TimeoutSignBytes(kEpoch, t->round(), qc.round()));
    t->set_signature(std::string(s.begin(), s.end()));
    SendToAll(index, Serialize(m));
  }

  const SimOptions options_;
  Rng rng_;
  Profile profile_;
  std::vector<bool> byzantine_;
  std::vector<PublicKey> keys_;
  FastVerifier fast_;
  consensus::Ed25519Verifier ed25519_;
  const consensus::Verifier* inner_verifier_ = nullptr;
  std::unique_ptr<consensus::CachingVerifier> verifier_;
  std::unique_ptr<consensus::ValidatorSet> set_;
  consensus::EpochInfo epoch_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  uint64_t next_seq_ = 0;
  uint64_t now_ = 0;
  bool partitioned_ = false;
  bool healed_ = false;
  bool done_ = false;
  uint64_t heal_time_ = 0;
  uint64_t heal_height_ = 0;
  uint64_t heal_round_ = 0;
  std::map<uint64_t, BlockId> committed_;  // height -> block, over honest nodes
  SimResult result_;
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  GS_ASSERT(options.n >= 1 && options.n <= 256);
  Simulation sim(options);
  return sim.Run();
}

}  // namespace gongshe::sim
