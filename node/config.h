#pragma once
// A validator's home folder and its configuration file.
//
// Layout of a home folder (written by `gongshe init`):
//   config.toml               this file's settings (below)
//   keys/validator.key        the validator's Ed25519 key (0600)
//   keys/registrar.key        the commune's registrar key (0600)
//   keys/issuer.key           the commune's issuer key (0600)
//   data/                     the node's RocksDB store
// The genesis file is named by `genesis` in config.toml, relative to the home folder unless
// absolute.

#include <cstdint>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "ledger/crypto.h"

namespace gongshe::node {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

struct PeerConfig {
  ledger::PublicKey key{};  // the peer's validator key
  HostPort address;
};

struct NodeConfig {
  std::string home;  // absolute; the folder the file was read from
  std::string moniker;
  std::string genesis_file = "../genesis.json";
  std::string validator_key_file = "keys/validator.key";
  std::string data_dir = "data";
  std::string log_level = "info";  // trace, debug, info, warn, error

  HostPort p2p_listen{"127.0.0.1", 26656};
  std::vector<PeerConfig> peers;  // the other validators
  HostPort api_listen{"127.0.0.1", 26657};

  uint64_t base_timeout_ms = 1000;          // first round timer
  uint64_t empty_block_interval_ms = 250;   // how long a leader waits for transactions
  uint32_t max_block_txs = 4000;
  uint64_t max_block_bytes = 4u << 20;
  uint64_t max_clock_drift_ms = 5000;       // a proposal's time may lead ours by at most this

  uint64_t mempool_max_txs = 50'000;
  uint64_t mempool_max_bytes = 64u << 20;

  // Paths resolved against `home`.
  std::string GenesisPath() const;
  std::string ValidatorKeyPath() const;
  std::string DataPath() const;
};

inline constexpr size_t kMaxConfigBytes = 1 << 20;

// Reads `home`/config.toml. Keys left out keep the defaults above. A missing or unreadable file,
// bad TOML, unknown keys, values of the wrong type, malformed host:port or hex keys, duplicate
// peers and out-of-range values are errors (code CONFIG) that name the key and its line.
Result<NodeConfig> LoadNodeConfig(const std::string& home);

// Writes `config` as `config.home`/config.toml (atomically; the folder must exist). Refuses
// (CONFIG) a config that LoadNodeConfig would refuse; IO_ERROR when the file cannot be written.
Status WriteNodeConfig(const NodeConfig& config);

// "host:port", the host a DNS name, an IPv4 literal or an IPv6 literal in brackets; port 1-65535.
// One of trace, debug, info, warn, error (node.log_level).
bool IsLogLevel(std::string_view level);

Result<HostPort> ParseHostPort(std::string_view text);
std::string FormatHostPort(const HostPort& address);

// Shared with `gongshe init`: writes a temp file in the same folder, syncs it, renames it over
// `path` and syncs the folder (code IO_ERROR on failure).
Status WriteFileAtomic(const std::string& path, std::string_view contents, uint32_t mode);

}  // namespace gongshe::node
