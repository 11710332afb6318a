#pragma once
// A real network of `gongshe node` processes on 127.0.0.1 for multi-process tests: written by
// InitNetwork into a fresh temporary folder, run by a Supervisor (every process is reaped when the
// network is destroyed), with one API client per node and a transaction load that survives nodes
// going down (it resubmits what does not commit).

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ledger/key_file.h"
#include "ledger/tx_builder.h"
#include "node/client.h"
#include "node/devnet.h"

namespace gongshe::node::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A base port with 2n free ports above it, away from the default devnet and the bench's ports.
inline uint32_t FreeBasePort(uint32_t nodes) {
  const std::optional<uint32_t> base = FindFreeBasePort(nodes, 30000, 3000);
  GS_ASSERT(base.has_value() && "no free ports on 127.0.0.1");
  return *base;
}

template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

class TestNetwork {
 public:
  // Writes and starts `nodes` validators (devnet calendar); check ok() before use.
  explicit TestNetwork(uint32_t nodes) {
    std::string pattern = (std::filesystem::temp_directory_path() / "gongshe-net-XXXXXX").string();
    GS_ASSERT(::mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
    InitOptions options;
    options.dir = dir_;
    options.validators = nodes;
    options.devnet = true;
    options.base_port = FreeBasePort(nodes);
    // For a failure's logs (LogTail) in detail: GONGSHE_TEST_LOG_LEVEL=debug.
    if (const char* level = std::getenv("GONGSHE_TEST_LOG_LEVEL")) options.log_level = level;
    Result<Network> network = InitNetwork(options);
    if (!network.ok()) {
      status_ = network.status();
      return;
    }
    network_ = *std::move(network);
    supervisor_ = std::make_unique<Supervisor>(NodeChildren(GONGSHE_BINARY, network_));
    status_ = supervisor_->StartAll();
    if (status_.ok()) status_ = WaitUntilServing(*supervisor_, network_, 30s, [] { return false; });
    for (const NetworkNode& node : network_.nodes) {
      keys_.push_back(CommuneKeys{*ledger::ReadKeyFile(node.home + "/" + kRegistrarKeyFile),
                                  *ledger::ReadKeyFile(node.home + "/" + kIssuerKeyFile)});
    }
  }

  ~TestNetwork() {
    if (supervisor_) supervisor_->Stop(5s);
    std::error_code ignored;
    if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir_, ignored);
  }

  const Status& status() const { return status_; }
  const Network& network() const { return network_; }
  Supervisor& supervisor() { return *supervisor_; }
  size_t size() const { return network_.nodes.size(); }
  std::string LogTail(size_t i) const { return node::LogTail(network_.nodes[i].home + "/" + kNodeLogFile, 30); }

  // A fresh client of node i (clients are not thread-safe: one per thread).
  std::unique_ptr<Client> ClientOf(size_t i, std::chrono::milliseconds timeout = 2s) const {
    const HostPort& api = network_.nodes[i].api;
    return *Client::Create("http://" + api.host + ":" + std::to_string(api.port), timeout);
  }

  struct CommuneKeys {
    ledger::KeyPair registrar;
    ledger::KeyPair issuer;
  };
  const CommuneKeys& keys(size_t i) const { return keys_[i]; }

 private:
  std::string dir_;
  Status status_;
  Network network_;
  std::unique_ptr<Supervisor> supervisor_;
  std::vector<CommuneKeys> keys_;
};

// Signed transactions whose commit is followed: each is submitted to a live node and resubmitted
// (same bytes, to the next node) until some node reports it committed.
class TxTracker {
 public:
  explicit TxTracker(TestNetwork& network) : network_(network) {
    for (size_t i = 0; i < network.size(); ++i) clients_.push_back(network.ClientOf(i));
  }

  void Add(std::string tx) { pending_.push_back(Pending{std::move(tx), {}, Clock::time_point{}}); }

  // Submits or resubmits what is due, then records what committed. `down` marks nodes to skip.
  void Step(const std::vector<bool>& down) {
    const auto now = Clock::now();
    for (Pending& p : pending_) {
      if (p.last_submit != Clock::time_point{} && now - p.last_submit < 1500ms) continue;
      for (size_t attempt = 0; attempt < clients_.size(); ++attempt) {
        const size_t node = next_node_++ % clients_.size();
        if (down[node]) continue;
        Result<v1::SubmitTxResponse> answer = clients_[node]->SubmitTx(p.bytes);
        if (!answer.ok() && answer.status().code() == "NODE_UNREACHABLE") continue;
        p.last_submit = now;
        p.id = ledger::Sha256(AsBytes(p.bytes));
        break;
      }
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->last_submit == Clock::time_point{}) {
        ++it;
        continue;
      }
      Result<v1::TxResponse> committed = Find(it->id, down);
      if (committed.ok()) {
        committed_[it->id] = *committed;
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Steps until nothing is pending, at most `limit`; whether everything committed.
  bool CommitAll(std::chrono::milliseconds limit, const std::vector<bool>& down) {
    return Eventually(
        [&] {
          Step(down);
          return pending_.empty();
        },
        limit);
  }

  size_t pending() const { return pending_.size(); }
  const std::map<ledger::Hash, v1::TxResponse>& committed() const { return committed_; }

 private:
  struct Pending {
    std::string bytes;
    ledger::Hash id{};
    Clock::time_point last_submit;
  };

  Result<v1::TxResponse> Find(const ledger::Hash& id, const std::vector<bool>& down) {
    for (size_t node = 0; node < clients_.size(); ++node) {
      if (down[node]) continue;
      Result<v1::TxResponse> answer = clients_[node]->GetTx(id);
      if (answer.ok() || answer.status().code() != "NODE_UNREACHABLE") return answer;
    }
    return Status{"NODE_UNREACHABLE", "no node answers"};
  }

  TestNetwork& network_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Pending> pending_;
  std::map<ledger::Hash, v1::TxResponse> committed_;
  size_t next_node_ = 0;
};

}  // namespace gongshe::node::testing
