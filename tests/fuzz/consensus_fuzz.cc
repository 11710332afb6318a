// libFuzzer target for the consensus core's peer messages: any bytes, from any peer.
//
// Input: a sequence of messages, each [sender: 1 byte][length: 2 bytes, big-endian][bytes]; the
// sender byte picks one of the four validators or a key outside the set. They go to a fresh core
// of validator 0 (consensus/core.h) in a network of four, one after another. Nobody in the input
// holds a validator's secret key, so whatever arrives the core must stay where it started: it
// answers each message with a refusal or harmless actions, never commits, never persists a block
// (it persists the blocks it votes for) and never leaves round 1 (rounds advance only on
// certificates or the core's own timer). A broken promise, or a failed invariant inside the core,
// aborts, which libFuzzer (and the corpus test, fuzz_corpus_main.cc) reports.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "consensus/core.h"
#include "consensus/signer.h"
#include "tests/unit/consensus_test_util.h"

namespace gongshe::consensus {
namespace {

constexpr uint32_t kValidators = 4;

[[noreturn]] void Broken(const std::string& what) {
  std::fprintf(stderr, "consensus_fuzz: %s\n", what.c_str());
  std::abort();
}

// The network every input starts from: the keys, the genesis epoch and validator 0's signer.
struct Network {
  Network() : signer(testing::KeyFor(0)) {
    epoch.epoch = 1;
    epoch.root_id = testing::H(0xAA);
    epoch.validators = testing::MakeSetProto(kValidators);
    for (uint32_t i = 0; i <= kValidators; ++i) keys.push_back(testing::KeyFor(i).public_key());  // the last is outside
  }

  std::unique_ptr<Core> NewCore() const {
    CoreConfig config;
    config.chain_id = std::string(testing::kChain);
    config.max_payload_bytes = 4096;
    config.max_message_bytes = 64 * 1024;
    RecoveredState recovered;
    recovered.head = CommittedHead{epoch.root_id, 0, 0};
    Result<std::unique_ptr<Core>> core = Core::Create(config, &signer, verifier, epoch, recovered);
    if (!core.ok()) Broken("the fuzz network's core does not start: " + core.status().ToString());
    return std::move(core).value();
  }

  std::vector<ledger::PublicKey> keys;
  EpochInfo epoch;
  Ed25519Signer signer;
  Ed25519Verifier verifier;
};

void CheckHarmless(const Actions& actions) {
  for (const Action& action : actions) {
    if (std::holds_alternative<Commit>(action)) Broken("a commit without any valid signature");
    if (std::holds_alternative<PersistBlock>(action)) Broken("a vote for a block nobody could sign");
  }
}

}  // namespace
}  // namespace gongshe::consensus

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gongshe::consensus;
  static const Network network;
  std::unique_ptr<Core> core = network.NewCore();
  CheckHarmless(core->Start());
  const uint64_t first_round = core->current_round();
  // Each message costs at least its 3-byte header, so the loop is bounded by size / 3.
  for (size_t at = 0; size - at >= 3;) {
    const uint32_t sender = data[at] % (kValidators + 1);
    const size_t length = std::min<size_t>((size_t{data[at + 1]} << 8) | data[at + 2], size - at - 3);
    at += 3;
    CheckHarmless(core->OnMessage(network.keys[sender], gongshe::ByteView(data + at, length)));
    at += length;
    if (!core->last_status().ok() && core->last_status().message().empty()) Broken("a refusal without a reason");
    if (core->current_round() != first_round) Broken("the round moved without a certificate");
    if (core->committed_head().height != 0) Broken("the committed head moved");
  }
  return 0;
}
