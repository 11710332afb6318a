#pragma once
// What a running node offers to its clients (the HTTP API, tests): submitting transactions,
// waiting for their commit, reading the committed ledger, and the node's own status. Every method
// is thread-safe and may block the calling thread (never the node's consensus thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "gongshe/v1/block.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "ledger/ledger.h"

namespace gongshe::node {

// The answer to one submitted transaction.
struct Admission {
  ledger::Hash tx_id{};  // SHA-256 of the bytes; zero when they were too large to be hashed
  // OK when admitted to the mempool, or already known to it or committed (ALREADY_KNOWN is not an
  // error); otherwise the reason: a decoding or signature code, NONCE_TOO_LOW, UNAUTHORIZED, ...,
  // or MEMPOOL_FULL.
  Status status;
};

struct PeerLink {
  ledger::PublicKey key{};
  bool connected = false;
};

// Figures of the running process, beyond what the committed ledger says.
struct NodeStatus {
  ledger::PublicKey self{};
  std::string chain_id;
  uint64_t committed_height = 0;
  uint64_t round = 0;  // current consensus round
  std::vector<PeerLink> peers;
  uint64_t mempool_txs = 0;
  uint64_t mempool_bytes = 0;
  uint64_t verification_queue = 0;  // transactions waiting for admission checks
  uint64_t blocks_committed = 0;    // by this process since it started
  uint64_t txs_committed = 0;
  uint64_t syncing = 0;  // 1 while catching up by block sync
};

class NodeService {
 public:
  virtual ~NodeService() = default;

  // Runs the admission checks (on the node's worker pool) and returns their answer.
  virtual Admission Submit(std::string tx_bytes) = 0;
  // The same for many transactions at once, spread over the workers; answers in input order.
  virtual std::vector<Admission> SubmitBatch(std::vector<std::string> txs) = 0;

  // Waits until the committed height is above `height` (or the node stops), at most `timeout`;
  // returns the committed height then.
  virtual uint64_t WaitForHeightAbove(uint64_t height, std::chrono::milliseconds timeout) = 0;

  // A consistent view of the committed ledger.
  virtual std::shared_ptr<const ledger::LedgerSnapshot> Snapshot() = 0;

  virtual NodeStatus Status() = 0;
};

}  // namespace gongshe::node
