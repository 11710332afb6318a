// The consensus core in a fault-free simulation: rounds per second of wall time (all n cores on
// one thread, so the figure is the whole network's CPU), and the latency from a block's proposal
// to each validator's commit, in message delays. Every message takes exactly one delay; payloads
// and execution are instant; timers are far longer than a round. Prints one JSON object.
//
//   gongshe_consensus_bench [rounds_scale=1]
//
// Two signature modes: "ed25519" verifies every signature at every validator (the real cost);
// "ed25519-cached" verifies each distinct signature once for the whole network (the simulator's
// mode, which shows the cost of the protocol logic itself).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <queue>
#include <string>
#include <vector>

#include "consensus/core.h"
#include "consensus/signer.h"
#include "ledger/crypto.h"

namespace gongshe::consensus {
namespace {

constexpr std::string_view kChain = "bench-chain";
constexpr uint64_t kDelay = 10;  // one message delay, in simulated milliseconds

struct Message {
  uint64_t time;
  uint64_t seq;
  uint32_t from;
  uint32_t to;
  Bytes bytes;
};
struct Later {
  bool operator()(const Message& a, const Message& b) const {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }
};

struct Figures {
  uint64_t rounds = 0;
  double seconds = 0;
  uint64_t commits = 0;  // (validator, block) pairs
  uint64_t latency_sum = 0, latency_min = UINT64_MAX, latency_max = 0;  // in simulated ms
};

Figures Run(uint32_t n, uint64_t target_rounds, bool cached) {
  v1::ValidatorSet proto;
  proto.set_version(kVersion);
  std::vector<std::unique_ptr<Signer>> signers;
  for (uint32_t i = 0; i < n; ++i) {
    std::array<uint8_t, 32> seed{};
    seed[0] = static_cast<uint8_t>(i);
    seed[1] = static_cast<uint8_t>(i >> 8);
    signers.push_back(std::make_unique<Ed25519Signer>(ledger::KeyPair::FromSeed(seed)));
    const PublicKey& key = signers.back()->public_key();
    v1::Validator* v = proto.add_validators();
    v->set_public_key(std::string(key.begin(), key.end()));
    v->set_power(1);
  }
  const ValidatorSet set = ValidatorSet::FromProto(proto).value();
  EpochInfo epoch;
  epoch.epoch = 1;
  epoch.validators = proto;
  epoch.root_id = ledger::Sha256(AsBytes("bench-genesis"));
  CoreConfig config;
  config.chain_id = std::string(kChain);
  config.base_timeout_ms = 1000 * kDelay;

  Ed25519Verifier direct;
  CachingVerifier shared_cache(direct);
  const Verifier& verifier = cached ? static_cast<const Verifier&>(shared_cache) : direct;
  std::vector<std::unique_ptr<Core>> cores;
  for (uint32_t i = 0; i < n; ++i) {
    RecoveredState fresh;
    fresh.head = CommittedHead{epoch.root_id, 0, 0};
    cores.push_back(Core::Create(config, signers[i].get(), verifier, epoch, fresh).value());
  }

  std::priority_queue<Message, std::vector<Message>, Later> queue;
  uint64_t now = 0, seq = 0;
  std::map<BlockId, uint64_t> proposed_at;
  Figures figures;

  auto note_proposal = [&](const Bytes& bytes) {
    v1::ConsensusMessage m;
    if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || !m.has_proposal()) return;
    const v1::ConsensusBlock& b = m.proposal().block();
    const BlockId id = ComputeBlockId(kChain, b.epoch(), b.round(), b.height(),
                                      ledger::HashFromBytes(AsBytes(b.parent_id())).value(), b.proposer(),
                                      ledger::HashFromBytes(AsBytes(b.payload_hash())).value());
    proposed_at.emplace(id, now);
  };
  // Handles a list of actions, answering payload and execution requests at once.
  auto handle = [&](uint32_t i, Actions actions, auto&& self) -> void {
    for (Action& action : actions) {
      if (auto* send = std::get_if<SendMessage>(&action)) {
        queue.push({now + kDelay, seq++, i, set.IndexOf(send->to).value(), std::move(send->bytes)});
      } else if (auto* broadcast = std::get_if<BroadcastMessage>(&action)) {
        note_proposal(broadcast->bytes);
        for (uint32_t to = 0; to < n; ++to) {
          if (to != i) queue.push({now + kDelay, seq++, i, to, broadcast->bytes});
        }
      } else if (auto* request = std::get_if<RequestPayload>(&action)) {
        Bytes payload(64, static_cast<uint8_t>(request->round));
        const Hash hash = ledger::Sha256(payload);
        self(i, cores[i]->OnPayloadReady(*request, std::move(payload), hash), self);
      } else if (auto* execute = std::get_if<ExecuteBlock>(&action)) {
        self(i, cores[i]->OnBlockExecuted(execute->block_id, true), self);
      } else if (auto* commit = std::get_if<Commit>(&action)) {
        for (const CommittedBlock& block : commit->blocks) {
          const uint64_t latency = now - proposed_at.at(block.id);
          ++figures.commits;
          figures.latency_sum += latency;
          figures.latency_min = std::min(figures.latency_min, latency);
          figures.latency_max = std::max(figures.latency_max, latency);
        }
      }
    }
  };

  const auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < n; ++i) handle(i, cores[i]->Start(), handle);
  while (!queue.empty() && cores[0]->current_round() < target_rounds) {
    Message m = queue.top();
    queue.pop();
    now = m.time;
    handle(m.to, cores[m.to]->OnMessage(set.key(m.from), m.bytes), handle);
  }
  figures.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  figures.rounds = cores[0]->current_round();
  return figures;
}

}  // namespace
}  // namespace gongshe::consensus

int main(int argc, char** argv) {
  using gongshe::consensus::Figures;
  using gongshe::consensus::kDelay;
  const uint64_t scale = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1;
  if (scale == 0 || scale > 1000) {
    std::fprintf(stderr, "usage: gongshe_consensus_bench [rounds_scale 1..1000]\n");
    return 2;
  }
  gongshe::ledger::InitCrypto();
  const uint32_t sizes[] = {4, 7, 10, 31, 64};
  std::printf("{\"bench\": \"consensus\", \"message_delay_ms\": %lu, \"results\": [", kDelay);
  bool first = true;
  for (const bool cached : {true, false}) {
    for (const uint32_t n : sizes) {
      // Fewer rounds for large n without the cache: every validator verifies every signature.
      const uint64_t rounds = scale * (cached ? (n <= 10 ? 400 : 100) : (n <= 10 ? 100 : n <= 31 ? 20 : 8));
      const Figures f = gongshe::consensus::Run(n, rounds, cached);
      const double per_delay = static_cast<double>(kDelay);
      std::printf(
          "%s\n  {\"n\": %u, \"signatures\": \"%s\", \"rounds\": %lu, \"seconds\": %.3f, \"rounds_per_second\": %.1f, "
          "\"commit_latency_delays\": {\"mean\": %.2f, \"min\": %.1f, \"max\": %.1f}, \"commits\": %lu}",
          first ? "" : ",", n, cached ? "ed25519-cached" : "ed25519", f.rounds, f.seconds,
          static_cast<double>(f.rounds) / f.seconds,
          static_cast<double>(f.latency_sum) / static_cast<double>(std::max<uint64_t>(f.commits, 1)) / per_delay,
          static_cast<double>(f.latency_min) / per_delay, static_cast<double>(f.latency_max) / per_delay, f.commits);
      std::fflush(stdout);
      first = false;
    }
  }
  std::printf("\n]}\n");
  return 0;
}
