#pragma once
// One validator process (node/README.md): the consensus core driven by peer frames and timers,
// blocks executed ahead of commit on top of their parents, committed blocks applied to the ledger
// in one atomic write each, the mempool, block sync, and the HTTP API.
//
// Threads: one runs the node loop (consensus core, execution, storage: everything that changes
// the ledger), one runs the peer links, a worker pool checks signatures (mempool admission and
// blocks from other proposers), and the HTTP server has its own. Only the node loop touches the
// core and the ledger; the others reach it by posting work to it.

#include <memory>

#include "common/status.h"
#include "node/config.h"
#include "node/service.h"

namespace gongshe::node {

class Node : public NodeService {
 public:
  // Opens the store and genesis named by `config`, recovers the consensus state, binds the peer
  // and API sockets and starts the node's threads.
  static Result<std::unique_ptr<Node>> Start(const NodeConfig& config);
  // Stops every thread and closes the store (idempotent).
  virtual void Stop() = 0;
  // The bound ports (useful when the configuration asked for port 0).
  virtual uint16_t api_port() const = 0;
  virtual uint16_t p2p_port() const = 0;
};

}  // namespace gongshe::node
