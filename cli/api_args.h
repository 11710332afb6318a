#pragma once
// What the commands that talk to a node's API (`gongshe tx`, `gongshe query`) share: the --node,
// --timeout and --json options, the client, key arguments, output and failure.

#include <google/protobuf/message.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ledger/crypto.h"
#include "ledger/tx_builder.h"
#include "node/client.h"

namespace gongshe::cli {

// A figure for printf's %llu.
inline unsigned long long U(uint64_t v) { return static_cast<unsigned long long>(v); }

struct NodeOptions {
  std::string url = std::string(node::kDefaultNodeUrl);
  uint64_t timeout_ms = 10'000;
  bool json = false;
};

// Adds --node, --timeout-ms and --json to `command`.
void AddNodeOptions(CLI::App& command, NodeOptions& options);

// Prints "gongshe <command>: CODE: message" to stderr -- and with --json, {"error": {...}} to
// stdout -- and exits with status 1 (through CLI::RuntimeError).
[[noreturn]] void Fail(std::string_view command, const Status& status, bool json);

// The value of `result`, or Fail.
template <typename T>
T ValueOrFail(std::string_view command, Result<T> result, bool json) {
  if (!result.ok()) Fail(command, result.status(), json);
  return std::move(result).value();
}

// The client for --node, or Fail.
std::unique_ptr<node::Client> ConnectOrFail(std::string_view command, const NodeOptions& options);

// What signing a transaction for the chain of a node needs: the key of a key file, a builder for
// the node's chain id, and the key's next nonce there.
struct Signer {
  ledger::KeyPair key;
  ledger::TxBuilder builder;
  uint64_t next_nonce;
};

// The signer of `key_file` on `client`'s chain, or Fail (UNKNOWN_SIGNER when the key has no
// account there).
Signer SignerOrFail(std::string_view command, node::Client& client, const std::string& key_file, bool json);

// A public key given as 64 hex digits, or as the path of a key file or public key file
// (ledger/key_file.h). BAD_PUBLIC_KEY when it is none of these.
Result<ledger::PublicKey> ResolvePublicKey(const std::string& arg);

// `message` as one line of protobuf JSON.
std::string ToJsonLine(const google::protobuf::Message& message);

}  // namespace gongshe::cli
