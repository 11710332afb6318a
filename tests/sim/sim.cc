#include "tests/sim/sim.h"

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <queue>
#include <sstream>
#include <vector>

#include "consensus/certificate.h"
#include "consensus/epoch.h"
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
constexpr uint64_t kGenesisEpoch = 1;
constexpr uint64_t kBaseTimeoutMs = 100;
constexpr uint64_t kHealedMaxDelayMs = 10;
constexpr size_t kMaxPayloadBytes = 1024;
constexpr size_t kMaxMessageBytes = 64 * 1024;
constexpr uint64_t kMaxEvents = 20'000'000;
constexpr size_t kByzantineMemory = 64;
constexpr size_t kRetainedBlocks = 256;
constexpr uint32_t kMinSetSize = 3;

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

std::string Str(const Hash& h) { return std::string(h.begin(), h.end()); }
std::string Short(const std::string& bytes) { return ToHex(AsBytes(bytes.substr(0, 3))); }
std::string Short(const Hash& h) { return ToHex(ByteView(h.data(), 3)); }

bool PayloadValid(ByteView payload, const Hash& hash) {
  return !payload.empty() && payload[0] != 0xFF && ledger::Sha256(payload) == hash;
}

Bytes Serialize(const v1::ConsensusMessage& m) {
  const std::string s = m.SerializeAsString();
  return Bytes(s.begin(), s.end());
}

std::optional<v1::ConsensusMessage> Parse(ByteView bytes) {
  v1::ConsensusMessage m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return m;
}

std::string Describe(ByteView bytes) {
  std::optional<v1::ConsensusMessage> m = Parse(bytes);
  if (!m) return "garbage(" + std::to_string(bytes.size()) + "B)";
  std::ostringstream out;
  switch (m->body_case()) {
    case v1::ConsensusMessage::kProposal: {
      const auto& b = m->proposal().block();
      out << "PROPOSAL e" << b.epoch() << " r" << b.round() << " h" << b.height() << " by v" << b.proposer()
          << " parent " << Short(b.parent_id()) << " qc e" << b.justify().epoch() << " r" << b.justify().round()
          << (m->proposal().has_tc() ? " +tc" : "") << (b.has_next_validator_set() ? " +next-set" : "")
          << (b.payload().empty() ? " (no payload)" : "");
      break;
    }
    case v1::ConsensusMessage::kVote:
      out << "VOTE e" << m->vote().epoch() << " r" << m->vote().round() << " h" << m->vote().height() << " block "
          << Short(m->vote().block_id()) << " by v" << m->vote().voter();
      break;
    case v1::ConsensusMessage::kTimeout:
      out << "TIMEOUT e" << m->timeout().epoch() << " r" << m->timeout().round() << " hqc r"
          << m->timeout().high_qc().round() << " by v" << m->timeout().sender();
      break;
    case v1::ConsensusMessage::kBlockRequest:
      out << "BLOCK_REQUEST " << Short(m->block_request().block_id()) << " above h"
          << m->block_request().above_height();
      break;
    case v1::ConsensusMessage::kBlockResponse:
      out << "BLOCK_RESPONSE " << m->block_response().blocks_size() << " blocks";
      break;
    case v1::ConsensusMessage::kEpochSwitch:
      out << "EPOCH_SWITCH qc e" << m->epoch_switch().root_qc().epoch() << " r" << m->epoch_switch().root_qc().round();
      break;
    case v1::ConsensusMessage::kEpochQuery:
      out << "EPOCH_QUERY e" << m->epoch_query().epoch();
      break;
    case v1::ConsensusMessage::BODY_NOT_SET:
      out << "EMPTY";
      break;
  }
  return out.str();
}

enum class EventKind {
  kDeliver,
  kTimer,
  kPayloadReady,
  kExecuted,
  kCrash,
  kRestart,
  kPartition,
  kPartitionEnd,
  kHeal,
  kForge,
};

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
  bool forged = false;  // forged by a removed validator for an epoch without it
  consensus::RequestPayload request;
  std::optional<v1::ValidatorSet> next_validators;
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
  int twin_side = 0;
  std::unique_ptr<consensus::Signer> signer;
  std::unique_ptr<Core> core;
  bool up = true;
  uint64_t incarnation = 0;
  uint64_t timer_generation = 0;
  bool crash_mid_next = false;
  bool crash_now = false;  // dies right after the action being performed
  // The node's durable store.
  std::optional<v1::SafetyState> persisted;
  std::map<BlockId, v1::ConsensusBlock> voted_blocks;
  std::vector<v1::ConsensusBlock> committed_blocks;  // the most recent, ascending
  CommittedHead head;
  std::optional<consensus::EpochChange> epoch_change;  // stored with the commit of its root
  int group = 0;
  // Byzantine memory (bounded).
  std::vector<Bytes> seen_messages;
  std::map<std::pair<uint64_t, uint64_t>, v1::QuorumCert> seen_qcs;  // by (epoch, round)
};

struct Profile {
  uint64_t max_delay = 10;
  uint64_t loss_permille = 0;
  uint64_t dup_permille = 0;
  bool partitions = false;
  bool crashes = false;
};

// One epoch of the application's plan: its set, and the height above its root at which the
// change to the next epoch's set is proposed (none for the last).
struct PlannedEpoch {
  std::vector<uint32_t> members;  // key indices, in set order
  v1::ValidatorSet proto;
  Hash hash{};
  uint64_t change_offset = 0;
  std::string how;  // how this set came from the previous one
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
        Fail(false, "liveness: honest members did not all commit above height " + std::to_string(heal_height_) +
                        " within " + std::to_string(options_.liveness_cap_ms) + " ms after the heal");
        break;
      }
      Dispatch(event);
    }
    if (result_.ok && !done_) Fail(false, "liveness: simulation ran out of events");
    result_.sim_time_ms = now_;
    result_.epoch_switches = newest_epoch_ - kGenesisEpoch;
    for (const auto& [epoch, round] : max_round_) result_.max_round = std::max(result_.max_round, round);
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
    for (uint32_t i = 0; i < n; ++i) AddKey();
    inner_verifier_ = options_.signer == SignerKind::kFast ? static_cast<const consensus::Verifier*>(&fast_)
                                                           : static_cast<const consensus::Verifier*>(&ed25519_);
    verifier_ = std::make_unique<consensus::CachingVerifier>(*inner_verifier_);

    std::vector<uint32_t> genesis(n);
    for (uint32_t i = 0; i < n; ++i) genesis[i] = i;
    PlanEpoch(std::move(genesis), "genesis");
    result_.reconfig = options_.reconfig == Reconfig::kOn ||
                       (options_.reconfig == Reconfig::kSeeded && rng_.Chance(500));
    if (result_.reconfig) PlanChanges();

    genesis_.epoch = kGenesisEpoch;
    genesis_.validators = plan_[0].proto;
    Bytes root(AsBytes("gongshe-sim-genesis").begin(), AsBytes("gongshe-sim-genesis").end());
    AppendBigEndian64(root, options_.seed);
    genesis_.root_id = ledger::Sha256(root);
    genesis_.root_height = 0;
    history_ = std::make_unique<consensus::ValidatorSetHistory>(
        consensus::ValidatorSetHistory::Create(kGenesisEpoch, genesis_.validators).value());

    for (uint32_t i = 0; i < n; ++i) AddNode(i, twins && byzantine_[i], 0);
    for (uint32_t i = 0; i < n; ++i) {
      if (twins && byzantine_[i]) AddNode(i, true, 1);
    }
    for (uint32_t k = n; k < keys_.size(); ++k) AddNode(k, false, 0);

    std::ostringstream profile;
    profile << "seed=" << options_.seed << " n=" << n << " byzantine=" << options_.byzantine
            << " max_delay=" << profile_.max_delay << "ms loss=" << profile_.loss_permille
            << "/1000 dup=" << profile_.dup_permille << "/1000 partitions=" << profile_.partitions
            << " crashes=" << profile_.crashes << " twins=" << (twins ? "yes" : "no");
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].behaviours != 0) profile << " n" << i << "=byz:" << nodes_[i].behaviours;
    }
    if (result_.reconfig) {
      profile << " reconfig=[";
      for (size_t e = 1; e < plan_.size(); ++e) {
        profile << (e > 1 ? "; " : "") << "e" << kGenesisEpoch + e << " at +" << plan_[e - 1].change_offset << " "
                << plan_[e].how << " n=" << plan_[e].members.size();
      }
      profile << "]";
    }
    result_.profile = profile.str();
    Trace("profile " + result_.profile);

    for (uint32_t i = 0; i < nodes_.size(); ++i) StartCore(i);
    ScheduleChaos();
  }

  uint32_t AddKey() {
    const uint32_t index = static_cast<uint32_t>(keys_.size());
    Bytes tag(AsBytes("gongshe-sim-key").begin(), AsBytes("gongshe-sim-key").end());
    AppendBigEndian64(tag, index);
    seeds_.push_back(ledger::Sha256(tag));
    keys_.push_back(ledger::KeyPair::FromSeed(seeds_.back()).public_key());
    fast_.Add(keys_.back(), seeds_.back());
    key_index_[keys_.back()] = index;
    if (byzantine_.size() < keys_.size()) byzantine_.push_back(false);
    return index;
  }

  void PlanEpoch(std::vector<uint32_t> members, std::string how) {
    PlannedEpoch epoch;
    epoch.proto.set_version(consensus::kVersion);
    for (uint32_t k : members) {
      v1::Validator* v = epoch.proto.add_validators();
      v->set_public_key(std::string(keys_[k].begin(), keys_[k].end()));
      v->set_power(1);
      v->set_commune("commune-" + std::to_string(k));
    }
    epoch.hash = consensus::ValidatorSet::FromProto(epoch.proto).value().hash();
    epoch.members = std::move(members);
    epoch.how = std::move(how);
    plan_.push_back(std::move(epoch));
  }

  uint32_t ByzantineCount(const std::vector<uint32_t>& members) const {
    uint32_t count = 0;
    for (uint32_t k : members) count += byzantine_[k] ? 1 : 0;
    return count;
  }

  // One to three changes, each of a random kind, keeping n >= 3b + 1 for the b Byzantine members.
  void PlanChanges() {
    const uint64_t changes = rng_.Range(1, 3);
    for (uint64_t c = 0; c < changes; ++c) {
      plan_.back().change_offset = rng_.Range(1, 12);
      std::vector<uint32_t> members = plan_.back().members;
      std::vector<uint32_t> former;  // honest keys of earlier sets, not in this one
      for (const PlannedEpoch& earlier : plan_) {
        for (uint32_t k : earlier.members) {
          if (!byzantine_[k] && std::find(members.begin(), members.end(), k) == members.end() &&
              std::find(former.begin(), former.end(), k) == former.end()) {
            former.push_back(k);
          }
        }
      }
      std::string how;
      switch (rng_.Below(4)) {
        case 0: {  // add one, sometimes a validator removed earlier
          const bool returning = !former.empty() && rng_.Chance(400);
          const uint32_t k = returning ? former[rng_.Below(former.size())] : AddKey();
          members.insert(members.begin() + static_cast<long>(rng_.Below(members.size() + 1)), k);
          how = std::string(returning ? "re-add" : "add") + " k" + std::to_string(k);
          break;
        }
        case 1: {  // remove one, a Byzantine one when there is any in half the cases
          if (members.size() <= kMinSetSize) {
            const uint32_t k = AddKey();
            members.push_back(k);
            how = "add k" + std::to_string(k);
            break;
          }
          std::vector<size_t> candidates;
          const bool prefer_byzantine = ByzantineCount(members) > 0 && rng_.Chance(500);
          for (size_t i = 0; i < members.size(); ++i) {
            if (!prefer_byzantine || byzantine_[members[i]]) candidates.push_back(i);
          }
          const size_t at = candidates[rng_.Below(candidates.size())];
          how = "remove k" + std::to_string(members[at]);
          members.erase(members.begin() + static_cast<long>(at));
          break;
        }
        case 2: {  // replace one key by a new one, in the same place
          const size_t at = rng_.Below(members.size());
          const uint32_t k = AddKey();
          how = "replace k" + std::to_string(members[at]) + " by k" + std::to_string(k);
          members[at] = k;
          break;
        }
        default: {  // resize among 4, 7, 10
          const uint32_t sizes[3] = {4, 7, 10};
          uint32_t target = sizes[rng_.Below(3)];
          if (target == members.size()) target = sizes[(rng_.Below(2) + 1 + (target / 3 - 1)) % 3];
          while (members.size() > target) members.erase(members.begin() + static_cast<long>(rng_.Below(members.size())));
          while (members.size() < target) members.push_back(AddKey());
          for (size_t i = members.size(); i > 1; --i) std::swap(members[i - 1], members[rng_.Below(i)]);
          how = "resize";
          break;
        }
      }
      // The fault model of the new set: drop Byzantine members until n >= 3b + 1.
      while (3 * ByzantineCount(members) + 1 > members.size()) {
        auto it = std::find_if(members.begin(), members.end(), [&](uint32_t k) { return byzantine_[k]; });
        how += " drop k" + std::to_string(*it);
        members.erase(it);
      }
      PlanEpoch(std::move(members), std::move(how));
    }
  }

  void AddNode(uint32_t key_index, bool twin, int twin_side) {
    Node node;
    node.key_index = key_index;
    node.honest = !byzantine_[key_index];
    node.twin = twin;
    node.twin_side = twin_side;
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
      node.signer = std::make_unique<FastSigner>(seeds_[key_index], keys_[key_index]);
    } else {
      node.signer = std::make_unique<consensus::Ed25519Signer>(ledger::KeyPair::FromSeed(seeds_[key_index]));
    }
    node.head = CommittedHead{genesis_.root_id, 0, 0};
    nodes_.push_back(std::move(node));
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
    // Byzantine validators that a planned change removes forge messages for the epochs without them.
    for (uint32_t i = 0; i < nodes_.size() && result_.reconfig; ++i) {
      if (nodes_[i].behaviours == 0) continue;
      Event forge;
      forge.kind = EventKind::kForge;
      forge.node = i;
      Schedule(rng_.Range(50, 300), std::move(forge));
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
    config.validator_set_changes = result_.reconfig;
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
    recovered.epoch_change = node.epoch_change;
    Result<std::unique_ptr<Core>> core =
        Core::Create(ConfigFor(node), node.signer.get(), *verifier_, genesis_, recovered);
    if (!core.ok()) {
      node.up = false;
      return Fail(true, "n" + std::to_string(index) + " cannot restart: " + core.status().ToString());
    }
    node.core = std::move(core).value();
    node.up = true;
    Execute(index, node.core->Start());
  }

  // ------------------------------------------------------------------ the application's plan
  // The planned epoch `epoch`, or null past the plan.
  const PlannedEpoch* Planned(uint64_t epoch) const {
    if (epoch < kGenesisEpoch || epoch - kGenesisEpoch >= plan_.size()) return nullptr;
    return &plan_[epoch - kGenesisEpoch];
  }

  bool InPlannedSet(uint64_t epoch, uint32_t key_index) const {
    const PlannedEpoch* planned = Planned(epoch);
    return planned != nullptr &&
           std::find(planned->members.begin(), planned->members.end(), key_index) != planned->members.end();
  }

  // The change a block of `epoch` at `height` must carry, for a node whose epoch root is at
  // `root_height`: the next planned set at the planned height, nothing elsewhere.
  std::optional<v1::ValidatorSet> PlannedChange(uint64_t epoch, uint64_t root_height, uint64_t height) const {
    const PlannedEpoch* planned = Planned(epoch);
    const PlannedEpoch* next = Planned(epoch + 1);
    if (planned == nullptr || next == nullptr || height != root_height + planned->change_offset) return std::nullopt;
    return next->proto;
  }

  uint64_t RootHeight(const Node& node) const {
    return node.epoch_change ? node.epoch_change->epoch.root_height : genesis_.root_height;
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
                (e.forged ? " FORGED" : "") + (status.ok() ? "" : " [" + status.ToString() + "]"));
        }
        if (e.forged && node.honest) {
          if (status.ok()) {
            return Fail(true, "n" + std::to_string(e.node) + " accepted a message forged by removed validator n" +
                                  std::to_string(e.from_node) + ": " + Describe(e.bytes));
          }
          ++result_.forged_rejected;
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
        Execute(e.node, node.core->OnPayloadReady(e.request, std::move(e.bytes), e.hash, std::move(e.next_validators)));
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
        // Twins sit on opposite sides of every partition.
        for (Node& node : nodes_) {
          if (node.twin) node.group = node.twin_side;
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
      case EventKind::kForge:
        Forge(e.node);
        Schedule(now_ + rng_.Range(50, 300), std::move(e));
        return;
    }
  }

  void Crash(uint32_t index) {
    Node& node = nodes_[index];
    node.core.reset();
    node.up = false;
    node.crash_mid_next = false;
    node.crash_now = false;
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
    for (uint32_t i = 0; i < nodes_.size() && result_.ok; ++i) {
      nodes_[i].crash_mid_next = false;
      if (!nodes_[i].up) Restart(i);
    }
    heal_height_ = 0;
    for (const Node& node : nodes_) {
      if (node.honest && node.core) heal_height_ = std::max(heal_height_, node.head.height);
    }
    heal_epoch_ = newest_epoch_;
    heal_round_ = max_round_[heal_epoch_];
    Trace("HEAL at height " + std::to_string(heal_height_) + " epoch " + std::to_string(heal_epoch_) + " round " +
          std::to_string(heal_round_));
  }

  // ------------------------------------------------------------------ network
  void Deliver(uint32_t from, uint32_t to, const Bytes& bytes, bool forged = false) {
    ++result_.messages;
    Event e;
    e.kind = EventKind::kDeliver;
    e.node = to;
    e.from_node = from;
    e.bytes = bytes;
    e.forged = forged;
    if (healed_) {
      Schedule(now_ + rng_.Range(1, kHealedMaxDelayMs), std::move(e));
      return;
    }
    if (partitioned_ && nodes_[from].group != nodes_[to].group) return;
    if (rng_.Chance(profile_.loss_permille)) return;
    if (rng_.Chance(profile_.dup_permille)) Schedule(now_ + rng_.Range(1, profile_.max_delay), e);
    Schedule(now_ + rng_.Range(1, profile_.max_delay), std::move(e));
  }

  void SendToKey(uint32_t from, const PublicKey& key, const Bytes& bytes, bool forged = false) {
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (i != from && keys_[nodes_[i].key_index] == key) Deliver(from, i, bytes, forged);
    }
  }

  // A broadcast reaches the validators of the epoch the message names (the shell's peers of that
  // epoch); anything unreadable or of an unplanned epoch goes to every node.
  static std::optional<uint64_t> EpochOf(const Bytes& bytes) {
    std::optional<v1::ConsensusMessage> m = Parse(bytes);
    if (m && m->has_proposal()) return m->proposal().block().epoch();
    if (m && m->has_vote()) return m->vote().epoch();
    if (m && m->has_timeout()) return m->timeout().epoch();
    if (m && m->has_epoch_query()) return m->epoch_query().epoch();
    return std::nullopt;
  }

  bool Recipient(uint32_t from, uint32_t to, std::optional<uint64_t> epoch) const {
    if (to == from) return false;
    if (!epoch || Planned(*epoch) == nullptr) return true;
    return InPlannedSet(*epoch, nodes_[to].key_index);
  }

  void SendToAll(uint32_t from, const Bytes& bytes, bool forged = false) {
    const std::optional<uint64_t> epoch = EpochOf(bytes);
    for (uint32_t i = 0; i < nodes_.size(); ++i) {
      if (Recipient(from, i, epoch)) Deliver(from, i, bytes, forged);
    }
  }

  // ------------------------------------------------------------------ actions
  void Execute(uint32_t index, Actions actions) {
    size_t limit = actions.size();
    const bool crash_after = nodes_[index].crash_mid_next;
    if (crash_after) limit = rng_.Below(actions.size() + 1);
    bool crashed = false;
    for (size_t i = 0; i < limit && result_.ok && !crashed; ++i) {
      Perform(index, actions[i]);
      crashed = nodes_[index].crash_now;
    }
    if (crash_after || crashed) Crash(index);
    const Node& node = nodes_[index];
    if (node.honest && node.core) {
      const uint64_t epoch = node.core->epoch();
      newest_epoch_ = std::max(newest_epoch_, epoch);
      max_round_[epoch] = std::max(max_round_[epoch], node.core->current_round());
    }
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
      node.voted_blocks[consensus::BlockIdOf(kChainId, persist->block).value()] = persist->block;
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
      e.next_validators = PlannedChange(request->epoch, RootHeight(node), request->height);
      Schedule(now_ + 1, std::move(e));
      return;
    }
    if (auto* execute = std::get_if<consensus::ExecuteBlock>(&action)) {
      Event e;
      e.kind = EventKind::kExecuted;
      e.node = index;
      e.incarnation = node.incarnation;
      e.hash = execute->block_id;
      e.valid = PayloadValid(execute->payload, execute->payload_hash) && ChangeAsPlanned(node, *execute);
      Schedule(now_ + 1, std::move(e));
      return;
    }
    if (auto* commit = std::get_if<consensus::Commit>(&action)) return CheckCommit(index, *commit);
    if (auto* evidence = std::get_if<consensus::ReportEvidence>(&action)) return CheckEvidence(index, *evidence);
  }

  // The application's check of a block's validator-set change: exactly the planned one.
  bool ChangeAsPlanned(const Node& node, const consensus::ExecuteBlock& execute) const {
    if (options_.accept_any_change) return true;
    std::optional<v1::ValidatorSet> planned = PlannedChange(execute.epoch, RootHeight(node), execute.height);
    if (planned.has_value() != execute.next_validators.has_value()) return false;
    if (!planned) return true;
    Result<consensus::ValidatorSet> carried = consensus::ValidatorSet::FromProto(*execute.next_validators);
    return carried.ok() && carried->hash() == Planned(execute.epoch + 1)->hash;
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
            std::to_string(commit.blocks.back().height) + " " + Short(commit.blocks.back().id) +
            (commit.epoch_change ? " ENDS EPOCH -> e" + std::to_string(commit.epoch_change->epoch.epoch) : ""));
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
        if (block.epoch != history_->EpochAt(block.height)) {
          return Fail(true, who + " committed h" + std::to_string(block.height) + " in epoch " +
                                std::to_string(block.epoch) + ", which does not govern that height");
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
      Status cert = consensus::VerifyCommitCertificateAt(commit.certificate, *history_, kChainId, *verifier_);
      if (!cert.ok()) return Fail(true, who + " commit certificate rejected: " + cert.ToString());
      if (commit.certificate.block_hash() != Str(last.id) || commit.certificate.height() != last.height ||
          commit.certificate.round() != last.round) {
        return Fail(true, who + " commit certificate names another block");
      }
      if (last.block.has_next_validator_set() != commit.epoch_change.has_value()) {
        return Fail(true, who + " commit of a block carrying a change must end the epoch, and only then");
      }
      if (commit.epoch_change) CheckEpochChange(index, last, *commit.epoch_change);
      result_.committed_height = std::max(result_.committed_height, last.height);
    }
    node.head = CommittedHead{commit.blocks.back().id, commit.blocks.back().height, commit.blocks.back().round};
    for (const consensus::CommittedBlock& block : commit.blocks) node.committed_blocks.push_back(block.block);
    if (node.committed_blocks.size() > kRetainedBlocks) {
      node.committed_blocks.erase(node.committed_blocks.begin(),
                                  node.committed_blocks.end() - static_cast<long>(kRetainedBlocks));
    }
    if (commit.epoch_change) {
      node.epoch_change = commit.epoch_change;
      // Restart during the switch: the commit ending the epoch is stored, nothing after it.
      if (profile_.crashes && !healed_ && rng_.Chance(250)) {
        node.crash_now = true;
        Event restart;
        restart.kind = EventKind::kRestart;
        restart.node = index;
        Schedule(now_ + rng_.Range(20, 1000), std::move(restart));
        Trace("n" + std::to_string(index) + " crashes right after ending epoch " +
              std::to_string(commit.epoch_change->epoch.epoch - 1));
      }
      std::erase_if(node.voted_blocks,
                    [&](const auto& entry) { return entry.second.epoch() < commit.epoch_change->epoch.epoch; });
    }
    std::erase_if(node.voted_blocks, [&](const auto& entry) { return entry.second.height() <= node.head.height; });
    if (healed_ && result_.ok) CheckProgress();
  }

  // The same change at every honest node: the planned set, rooted at the block just committed,
  // with a root QC of the old set certifying that block.
  void CheckEpochChange(uint32_t index, const consensus::CommittedBlock& root, const consensus::EpochChange& change) {
    const std::string who = "n" + std::to_string(index);
    const uint64_t epoch = change.epoch.epoch;
    const PlannedEpoch* planned = Planned(epoch);
    if (planned == nullptr) return Fail(true, who + " entered epoch " + std::to_string(epoch) + ", which differs from the plan (none)");
    Status valid = consensus::VerifyEpochChange(change, kChainId, *verifier_);
    if (!valid.ok()) return Fail(true, who + " epoch change rejected: " + valid.ToString());
    Result<consensus::ValidatorSet> set = consensus::ValidatorSet::FromProto(change.epoch.validators);
    if (!set.ok() || set->hash() != planned->hash || change.epoch.root_id != root.id ||
        change.epoch.root_height != root.height || epoch != root.epoch + 1) {
      return Fail(true, who + " epoch change to e" + std::to_string(epoch) + " differs from the plan or its root");
    }
    const size_t known = history_->change_heights().size();
    if (epoch - kGenesisEpoch == known + 1) {
      Status added = history_->AddChange(root.height, change.epoch.validators);
      if (!added.ok()) return Fail(true, who + " epoch change out of order: " + added.ToString());
      Trace("EPOCH " + std::to_string(epoch) + " from h" + std::to_string(root.height + 1) + ": " + planned->how);
    } else if (epoch - kGenesisEpoch > known || history_->change_heights()[epoch - kGenesisEpoch - 1] != root.height) {
      return Fail(true, "SAFETY: " + who + " ended epoch " + std::to_string(epoch - 1) + " at h" +
                            std::to_string(root.height) + ", not where other honest nodes ended it");
    }
  }

  void CheckEvidence(uint32_t index, const consensus::ReportEvidence& report) {
    ++result_.evidence;
    Trace("n" + std::to_string(index) + " EVIDENCE kind " + std::to_string(report.evidence.kind()));
    if (!nodes_[index].honest) return;
    Status status = consensus::VerifyEvidence(report.evidence, kChainId, *verifier_);
    if (!status.ok()) return Fail(true, "evidence from n" + std::to_string(index) + " rejected: " + status.ToString());
    std::optional<PublicKey> key = ledger::PublicKeyFromBytes(AsBytes(report.evidence.validator()));
    auto accused = key ? key_index_.find(*key) : key_index_.end();
    if (accused == key_index_.end() || !InPlannedSet(report.evidence.epoch(), accused->second) ||
        (options_.check_accusations && !byzantine_[accused->second])) {
      return Fail(true, "evidence from n" + std::to_string(index) + " accuses an honest validator or a non-member");
    }
  }

  // After the heal: every honest member of the newest epoch's set commits above the heal height.
  void CheckProgress() {
    for (const Node& node : nodes_) {
      if (node.honest && InPlannedSet(newest_epoch_, node.key_index) && node.head.height <= heal_height_) return;
    }
    uint64_t rounds = max_round_[heal_epoch_] - std::min(max_round_[heal_epoch_], heal_round_);
    for (uint64_t e = heal_epoch_ + 1; e <= newest_epoch_; ++e) rounds += max_round_[e];
    result_.rounds_after_heal = rounds;
    size_t largest = 0;
    for (const PlannedEpoch& planned : plan_) largest = std::max(largest, planned.members.size());
    const uint64_t bound = options_.liveness_round_bound != 0
                               ? options_.liveness_round_bound
                               : 4 * largest + 20 + 10 * (newest_epoch_ - heal_epoch_);
    if (rounds > bound) {
      return Fail(false, "liveness: progress after the heal took " + std::to_string(rounds) + " rounds, bound " +
                             std::to_string(bound));
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
    node.seen_qcs[{qc.epoch(), qc.round()}] = qc;
    if (node.seen_qcs.size() > kByzantineMemory) node.seen_qcs.erase(node.seen_qcs.begin());
  }

  void ByzantineIncoming(uint32_t index, const Bytes& bytes) {
    Node& node = nodes_[index];
    if (node.seen_messages.size() < kByzantineMemory) {
      node.seen_messages.push_back(bytes);
    } else {
      node.seen_messages[rng_.Below(kByzantineMemory)] = bytes;
    }
    std::optional<v1::ConsensusMessage> m = Parse(bytes);
    if (!m) return;
    if (m->has_timeout()) Remember(node, m->timeout().high_qc());
    if (!m->has_proposal()) return;
    Remember(node, m->proposal().block().justify());
    if (node.behaviours & kDoubleVote) VoteFor(index, m->proposal().block());
  }

  // A vote for any block, signed with this node's key as a member of the block's epoch, sent to
  // the next leader. Its commit signature always names the parent.
  void VoteFor(uint32_t index, const v1::ConsensusBlock& block) {
    Node& node = nodes_[index];
    const PlannedEpoch* planned = Planned(block.epoch());
    if (planned == nullptr) return;
    const consensus::ValidatorSet set = consensus::ValidatorSet::FromProto(planned->proto).value();
    std::optional<uint32_t> voter = set.IndexOf(keys_[node.key_index]);
    Result<BlockId> id = consensus::BlockIdOf(kChainId, block);
    if (!voter || !id.ok() || block.round() == 0 || block.height() == 0) return;
    const BlockId parent = ledger::HashFromBytes(AsBytes(block.parent_id())).value();
    const uint64_t epoch = block.epoch();
    // A block on the root of a later epoch extends the root's implicit QC of round 0.
    const uint64_t parent_round = block.justify().epoch() == epoch ? block.justify().round() : 0;
    v1::ConsensusMessage m;
    m.set_version(consensus::kVersion);
    v1::Vote* vote = m.mutable_vote();
    vote->set_epoch(epoch);
    vote->set_round(block.round());
    vote->set_height(block.height());
    vote->set_block_id(Str(*id));
    vote->set_parent_id(block.parent_id());
    vote->set_parent_round(parent_round);
    vote->set_voter(*voter);
    const Signature s =
        node.signer->Sign(consensus::kVoteDomain, kChainId,
                          consensus::VoteSignBytes(epoch, block.round(), block.height(), *id, parent, parent_round));
    vote->set_vote_signature(std::string(s.begin(), s.end()));
    if (parent_round > 0 && parent_round + 1 == block.round()) {
      const Signature c =
          node.signer->Sign(consensus::kCommitDomain, kChainId,
                            consensus::CommitSignBytes(block.height() - 1, parent_round, parent, set.hash()));
      vote->set_commit_signature(std::string(c.begin(), c.end()));
    }
    SendToKey(index, set.key(set.LeaderOf(block.round() + 1)), Serialize(m));
  }

  // Re-signs a proposal after its block changed.
  void Resign(const Node& node, v1::Proposal& p) {
    Result<BlockId> id = consensus::BlockIdOf(kChainId, p.block());
    if (!id.ok()) return;
    const Signature s = node.signer->Sign(consensus::kProposalDomain, kChainId,
                                          consensus::ProposalSignBytes(p.block().epoch(), p.block().round(), *id));
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
    std::optional<v1::ConsensusMessage> parsed = Parse(bytes);
    if (!parsed || !parsed->has_proposal()) return send(bytes);
    v1::ConsensusMessage m = *std::move(parsed);
    v1::Proposal proposal = m.proposal();
    Remember(node, proposal.block().justify());

    if ((node.behaviours & kInvalidProposal) && rng_.Chance(600)) {
      return SendToAll(index, InvalidVariant(node, proposal));
    }
    if ((node.behaviours & kForkLeader) && proposal.has_tc()) {
      // Extend a remembered QC of the same epoch older than the one the rules require.
      const uint64_t epoch = proposal.block().epoch();
      auto begin = node.seen_qcs.lower_bound({epoch, 0});
      auto end = node.seen_qcs.lower_bound({epoch, proposal.block().justify().round()});
      const uint64_t older = proposal.block().justify().epoch() == epoch
                                 ? static_cast<uint64_t>(std::distance(begin, end))
                                 : 0;
      if (older > 0) {
        const v1::QuorumCert& old = std::next(begin, static_cast<long>(rng_.Below(older)))->second;
        v1::ConsensusBlock* block = proposal.mutable_block();
        block->set_height(old.height() + 1);
        block->set_parent_id(old.block_id());
        *block->mutable_justify() = old;
        block->clear_next_validator_set();
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
      const std::optional<uint64_t> epoch = EpochOf(a);
      for (uint32_t i = 0; i < nodes_.size(); ++i) {
        if (Recipient(index, i, epoch)) Deliver(index, i, rng_.Chance(500) ? a : b);
      }
      return;
    }
    send(bytes);
  }

  Bytes InvalidVariant(const Node& node, v1::Proposal proposal) {
    v1::ConsensusBlock* block = proposal.mutable_block();
    v1::ConsensusMessage m;
    m.set_version(consensus::kVersion);
    switch (rng_.Below(8)) {
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
      case 6: {  // a validator-set change nobody decided: this key alone
        v1::ValidatorSet* set = block->mutable_next_validator_set();
        set->Clear();
        set->set_version(consensus::kVersion);
        v1::Validator* v = set->add_validators();
        v->set_public_key(std::string(keys_[node.key_index].begin(), keys_[node.key_index].end()));
        v->set_power(1);
        Resign(node, proposal);
        break;
      }
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
    const PlannedEpoch* planned = Planned(qc.epoch());
    if (planned == nullptr) return;
    std::optional<uint32_t> sender = consensus::ValidatorSet::FromProto(planned->proto).value().IndexOf(
        keys_[node.key_index]);
    if (!sender) return;
    v1::ConsensusMessage m;
    m.set_version(consensus::kVersion);
    v1::Timeout* t = m.mutable_timeout();
    t->set_epoch(qc.epoch());
    t->set_round(qc.round() + rng_.Range(2, 200));
    *t->mutable_high_qc() = qc;
    t->set_sender(*sender);
    const Signature s = node.signer->Sign(consensus::kTimeoutDomain, kChainId,
                                          consensus::TimeoutSignBytes(qc.epoch(), t->round(), qc.round()));
    t->set_signature(std::string(s.begin(), s.end()));
    SendToAll(index, Serialize(m));
  }

  // A Byzantine validator absent from the newest epoch's set (removed, or planned to join later)
  // signs messages of that epoch with its own key in the name of members: a timeout, a vote and
  // a re-signed proposal. Honest nodes must refuse every one.
  void Forge(uint32_t index) {
    Node& node = nodes_[index];
    const uint64_t epoch = newest_epoch_;
    const PlannedEpoch* planned = Planned(epoch);
    if (!node.up || planned == nullptr || InPlannedSet(epoch, node.key_index)) return;
    const consensus::ValidatorSet set = consensus::ValidatorSet::FromProto(planned->proto).value();
    const uint32_t victim = static_cast<uint32_t>(rng_.Below(set.size()));
    const uint64_t round = max_round_[epoch] + rng_.Range(0, 2);
    auto sign = [&](std::string_view domain, const Bytes& bytes) {
      const Signature s = node.signer->Sign(domain, kChainId, bytes);
      return std::string(s.begin(), s.end());
    };
    v1::QuorumCert high_qc;
    auto remembered = node.seen_qcs.lower_bound({epoch + 1, 0});
    if (remembered != node.seen_qcs.begin() && std::prev(remembered)->first.first == epoch) {
      high_qc = std::prev(remembered)->second;
    } else {
      high_qc.set_epoch(epoch);
      high_qc.set_height(epoch == kGenesisEpoch ? 0 : history_->change_heights()[epoch - kGenesisEpoch - 1]);
      high_qc.set_block_id(Str(epoch == kGenesisEpoch ? genesis_.root_id : committed_.at(high_qc.height())));
    }
    v1::ConsensusMessage timeout;
    timeout.set_version(consensus::kVersion);
    v1::Timeout* t = timeout.mutable_timeout();
    t->set_epoch(epoch);
    t->set_round(std::max(round, high_qc.round() + 1));
    *t->mutable_high_qc() = high_qc;
    t->set_sender(victim);
    t->set_signature(sign(consensus::kTimeoutDomain, consensus::TimeoutSignBytes(epoch, t->round(), high_qc.round())));
    SendToAll(index, Serialize(timeout), true);
    if (high_qc.round() == 0) return;
    // A vote for the remembered QC's block, and a proposal on it, both signed with our key.
    const BlockId block_id = ledger::HashFromBytes(AsBytes(high_qc.block_id())).value();
    const BlockId parent_id = ledger::HashFromBytes(AsBytes(high_qc.parent_id())).value();
    v1::ConsensusMessage vote;
    vote.set_version(consensus::kVersion);
    v1::Vote* v = vote.mutable_vote();
    v->set_epoch(epoch);
    v->set_round(high_qc.round());
    v->set_height(high_qc.height());
    v->set_block_id(high_qc.block_id());
    v->set_parent_id(high_qc.parent_id());
    v->set_parent_round(high_qc.parent_round());
    v->set_voter(victim);
    v->set_vote_signature(sign(consensus::kVoteDomain, consensus::VoteSignBytes(epoch, high_qc.round(), high_qc.height(),
                                                                                block_id, parent_id,
                                                                                high_qc.parent_round())));
    SendToKey(index, set.key(set.LeaderOf(high_qc.round() + 1)), Serialize(vote), true);
    v1::ConsensusMessage proposal;
    proposal.set_version(consensus::kVersion);
    v1::ConsensusBlock* block = proposal.mutable_proposal()->mutable_block();
    block->set_version(consensus::kVersion);
    block->set_epoch(epoch);
    block->set_round(high_qc.round() + 1);
    block->set_height(high_qc.height() + 1);
    block->set_parent_id(high_qc.block_id());
    block->set_proposer(set.LeaderOf(block->round()));
    SetPayload(block, RandomPayload(index, block->round()));
    *block->mutable_justify() = high_qc;
    const BlockId id = consensus::BlockIdOf(kChainId, *block).value();
    proposal.mutable_proposal()->set_signature(
        sign(consensus::kProposalDomain, consensus::ProposalSignBytes(epoch, block->round(), id)));
    SendToAll(index, Serialize(proposal), true);
  }

  const SimOptions options_;
  Rng rng_;
  Profile profile_;
  std::vector<bool> byzantine_;  // by key index
  std::vector<PublicKey> keys_;
  std::vector<std::array<uint8_t, 32>> seeds_;
  std::map<PublicKey, uint32_t> key_index_;
  FastVerifier fast_;
  consensus::Ed25519Verifier ed25519_;
  const consensus::Verifier* inner_verifier_ = nullptr;
  std::unique_ptr<consensus::CachingVerifier> verifier_;
  std::vector<PlannedEpoch> plan_;  // plan_[i] is epoch kGenesisEpoch + i
  consensus::EpochInfo genesis_;
  // The committed validator-set changes, as honest nodes agree on them.
  std::unique_ptr<consensus::ValidatorSetHistory> history_;
  std::vector<Node> nodes_;
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
  uint64_t next_seq_ = 0;
  uint64_t now_ = 0;
  bool partitioned_ = false;
  bool healed_ = false;
  bool done_ = false;
  uint64_t heal_time_ = 0;
  uint64_t heal_height_ = 0;
  uint64_t heal_epoch_ = kGenesisEpoch;
  uint64_t heal_round_ = 0;
  uint64_t newest_epoch_ = kGenesisEpoch;     // the newest epoch any honest node entered
  std::map<uint64_t, uint64_t> max_round_;    // epoch -> highest round an honest node entered
  std::map<uint64_t, BlockId> committed_;     // height -> block, over honest nodes
  SimResult result_;
};

}  // namespace

SimResult RunSimulation(const SimOptions& options) {
  GS_ASSERT(options.n >= 1 && options.n <= 256);
  Simulation sim(options);
  return sim.Run();
}

}  // namespace gongshe::sim
