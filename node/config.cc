#include "node/config.h"


#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <sstream>

#include "common/file.h"
#include "ledger/block_executor.h"
#include "ledger/genesis.h"
#include "ledger/key_file.h"
#include "ledger/transaction.h"

namespace gongshe::node {
namespace {

namespace fs = std::filesystem;

constexpr const char* kConfigFile = "config.toml";
constexpr size_t kMaxMonikerBytes = 64;
constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxHostBytes = 253;

// Inclusive bounds of the numeric settings: zero is never meaningful, and the upper bounds stop
// a typo (an extra digit or two) from turning into an hour-long timer or a multi-gigabyte queue.
struct Limit {
  uint64_t min, max;
};
constexpr Limit kBaseTimeoutMsLimit{10, 600'000};
constexpr Limit kEmptyBlockIntervalMsLimit{1, 600'000};
constexpr Limit kMaxBlockTxsLimit{1, ledger::kMaxBlockTxs};
constexpr Limit kMaxBlockBytesLimit{ledger::kMaxTxBytes, ledger::kMaxBlockBytes};
constexpr Limit kMaxClockDriftMsLimit{1, 3'600'000};
constexpr Limit kMempoolMaxTxsLimit{1, 10'000'000};
constexpr Limit kMempoolMaxBytesLimit{ledger::kMaxTxBytes, 16ull << 30};

constexpr std::array<std::string_view, 5> kLogLevels = {"trace", "debug", "info", "warn", "error"};

Status ConfigError(std::string message) { return {"CONFIG", std::move(message)}; }

Status IoError(const std::string& what, const std::string& path, int err) {
  return {"IO_ERROR", what + " " + path + ": " + std::strerror(err)};
}

// Checks of single values. Each returns why `value` is refused, or an empty string.
std::string CheckMoniker(std::string_view value) {
  if (value.size() > kMaxMonikerBytes) return "must be at most 64 bytes";
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "must not contain control characters";
  }
  return "";
}

std::string CheckPath(std::string_view value) {
  if (value.empty()) return "must not be empty";
  if (value.size() > kMaxPathBytes) return "must be at most 4096 bytes";
  if (value.find('\0') != std::string_view::npos) return "must not contain NUL";
  return "";
}

std::string CheckLogLevel(std::string_view value) {
  return IsLogLevel(value) ? "" : "must be one of trace, debug, info, warn, error";
}

std::string CheckRange(uint64_t value, Limit limit) {
  if (value >= limit.min && value <= limit.max) return "";
  return "must be between " + std::to_string(limit.min) + " and " + std::to_string(limit.max);
}

bool IsDnsOrIpv4Char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool IsIpv6Char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

// Why `text` is not host:port, or an empty string (and `out` filled).
std::string SplitHostPort(std::string_view text, HostPort& out) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return "an IPv6 host needs a closing ']'";
    host = text.substr(1, close - 1);
    if (host.empty() || host.find(':') == std::string_view::npos) return "bad IPv6 host";
    for (char c : host) {
      if (!IsIpv6Char(c)) return "bad IPv6 host";
    }
    if (close + 1 >= text.size() || text[close + 1] != ':') return "missing ':port'";
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return "missing ':port'";
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.empty()) return "missing host";
    if (host.size() > kMaxHostBytes) return "host is longer than 253 bytes";
    if (host.find(':') != std::string_view::npos) return "an IPv6 host must be in brackets";
    if (host.front() == '.' || host.front() == '-' || host.back() == '.' ||
        host.find("..") != std::string_view::npos) {
      return "bad host";
    }
    for (char c : host) {
      if (!IsDnsOrIpv4Char(c)) return "bad host";
    }
  }
  if (port.empty() || port.size() > 5) return "port must be 1-65535";
  uint32_t value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
    return "port must be 1-65535";
  }
  out.host = std::string(host);
  out.port = static_cast<uint16_t>(value);
  return "";
}

// Reads one config file. Every error names the file, line and key.
class Reader {
 public:
  Reader(std::string path, NodeConfig& config) : path_(std::move(path)), config_(config) {}

  Status Read(const toml::table& root) {
    for (auto&& [key, value] : root) {
      const std::string name(key.str());
      const toml::table* section = value.as_table();
      if (name != "node" && name != "p2p" && name != "api" && name != "consensus" && name != "mempool") {
        return Error(value, name, "unknown section");
      }
      if (section == nullptr) return Error(value, name, "must be a table ([" + name + "])");
      GS_RETURN_IF_ERROR(ReadSection(name, *section));
    }
    return Status::Ok();
  }

 private:
  using Field = std::function<Status(const toml::node&, const std::string& key)>;

  Status ReadSection(const std::string& section, const toml::table& table) {
    for (auto&& [key, value] : table) {
      const std::string name = section + "." + std::string(key.str());
      Field field = FieldFor(name);
      if (!field) return Error(value, name, "unknown key");
      GS_RETURN_IF_ERROR(field(value, name));
    }
    return Status::Ok();
  }

  Field FieldFor(const std::string& name) {
    NodeConfig& c = config_;
    if (name == "node.moniker") return String(c.moniker, CheckMoniker);
    if (name == "node.genesis") return String(c.genesis_file, CheckPath);
    if (name == "node.validator_key") return String(c.validator_key_file, CheckPath);
    if (name == "node.data_dir") return String(c.data_dir, CheckPath);
    if (name == "node.log_level") return String(c.log_level, CheckLogLevel);
    if (name == "p2p.listen") return Address(c.p2p_listen);
    if (name == "p2p.peers") return [this](const toml::node& v, const std::string& k) { return ReadPeers(v, k); };
    if (name == "api.listen") return Address(c.api_listen);
    if (name == "consensus.base_timeout_ms") return Number(c.base_timeout_ms, kBaseTimeoutMsLimit);
    if (name == "consensus.empty_block_interval_ms") return Number(c.empty_block_interval_ms, kEmptyBlockIntervalMsLimit);
    if (name == "consensus.max_block_txs") return Number(c.max_block_txs, kMaxBlockTxsLimit);
    if (name == "consensus.max_block_bytes") return Number(c.max_block_bytes, kMaxBlockBytesLimit);
    if (name == "consensus.max_clock_drift_ms") return Number(c.max_clock_drift_ms, kMaxClockDriftMsLimit);
    if (name == "mempool.max_txs") return Number(c.mempool_max_txs, kMempoolMaxTxsLimit);
    if (name == "mempool.max_bytes") return Number(c.mempool_max_bytes, kMempoolMaxBytesLimit);
    return nullptr;
  }

  Field String(std::string& out, std::string (*check)(std::string_view)) {
    return [this, &out, check](const toml::node& v, const std::string& key) -> Status {
      const std::string* s = StringValue(v);
      if (s == nullptr) return Error(v, key, "must be a string");
      std::string why = check(*s);
      if (!why.empty()) return Error(v, key, why);
      out = *s;
      return Status::Ok();
    };
  }

  Field Address(HostPort& out) {
    return [this, &out](const toml::node& v, const std::string& key) { return ReadAddress(v, key, out); };
  }

  template <typename T>
  Field Number(T& out, Limit limit) {
    return [this, &out, limit](const toml::node& v, const std::string& key) -> Status {
      const toml::value<int64_t>* n = v.as_integer();
      if (n == nullptr) return Error(v, key, "must be an integer");
      // Every minimum is at least 1, so a negative value reads as 0 and fails the range check.
      const uint64_t number = n->get() < 0 ? 0 : static_cast<uint64_t>(n->get());
      std::string why = CheckRange(number, limit);
      if (!why.empty()) return Error(v, key, why);
      out = static_cast<T>(number);
      return Status::Ok();
    };
  }

  Status ReadAddress(const toml::node& v, const std::string& key, HostPort& out) {
    const std::string* s = StringValue(v);
    if (s == nullptr) return Error(v, key, "must be a \"host:port\" string");
    std::string why = SplitHostPort(*s, out);
    if (!why.empty()) return Error(v, key, "'" + *s + "' is not host:port: " + why);
    return Status::Ok();
  }

  Status ReadPeers(const toml::node& v, const std::string& key) {
    const toml::array* peers = v.as_array();
    if (peers == nullptr) return Error(v, key, "must be an array of { key = \"hex\", address = \"host:port\" }");
    if (peers->size() > ledger::kMaxCommunes) return Error(v, key, "has more than 1000 peers");
    std::set<ledger::PublicKey> seen;
    config_.peers.clear();
    for (size_t i = 0; i < peers->size(); ++i) {
      const toml::node& entry = *peers->get(i);
      const std::string name = key + "[" + std::to_string(i) + "]";
      PeerConfig peer;
      GS_RETURN_IF_ERROR(ReadPeer(entry, name, peer));
      if (!seen.insert(peer.key).second) return Error(entry, name + ".key", "the same peer key appears twice");
      config_.peers.push_back(std::move(peer));
    }
    return Status::Ok();
  }

  Status ReadPeer(const toml::node& entry, const std::string& name, PeerConfig& peer) {
    const toml::table* table = entry.as_table();
    if (table == nullptr) return Error(entry, name, "must be a table { key = \"hex\", address = \"host:port\" }");
    bool has_key = false, has_address = false;
    for (auto&& [k, value] : *table) {
      const std::string field = name + "." + std::string(k.str());
      if (k.str() == "key") {
        const std::string* s = StringValue(value);
        Result<ledger::PublicKey> key = s ? ledger::PublicKeyFromHex(*s) : Status{"CONFIG", "not a string"};
        if (!key.ok()) return Error(value, field, "must be a public key of 64 hex digits");
        peer.key = *key;
        has_key = true;
      } else if (k.str() == "address") {
        GS_RETURN_IF_ERROR(ReadAddress(value, field, peer.address));
        has_address = true;
      } else {
        return Error(value, field, "unknown key");
      }
    }
    if (!has_key) return Error(entry, name, "missing key");
    if (!has_address) return Error(entry, name, "missing address");
    return Status::Ok();
  }

  static const std::string* StringValue(const toml::node& v) {
    const toml::value<std::string>* s = v.as_string();
    return s ? &s->get() : nullptr;
  }

  Status Error(const toml::node& at, const std::string& key, const std::string& why) const {
    return ConfigError(path_ + ":" + std::to_string(at.source().begin.line) + ": " + key + ": " + why);
  }

  std::string path_;
  NodeConfig& config_;
};

std::string HomeFolder(const std::string& home) {
  std::error_code ec;
  fs::path path = fs::absolute(home, ec);
  if (ec) path = home;
  path = path.lexically_normal();
  if (!path.has_filename() && path.has_parent_path() && path != path.root_path()) path = path.parent_path();
  return path.string();
}

std::string Resolve(const std::string& home, const std::string& file) {
  fs::path path(file);
  if (path.is_absolute()) return path.lexically_normal().string();
  return (fs::path(home) / path).lexically_normal().string();
}

// The checks of Reader, on a config built in memory.
Status CheckConfig(const NodeConfig& c) {
  auto bad = [](const char* key, const std::string& why) { return ConfigError(std::string(key) + ": " + why); };
  const std::pair<const char*, std::string> strings[] = {
      {"node.moniker", CheckMoniker(c.moniker)},          {"node.genesis", CheckPath(c.genesis_file)},
      {"node.validator_key", CheckPath(c.validator_key_file)}, {"node.data_dir", CheckPath(c.data_dir)},
      {"node.log_level", CheckLogLevel(c.log_level)},
  };
  for (const auto& [key, why] : strings) {
    if (!why.empty()) return bad(key, why);
  }
  const std::pair<const char*, std::string> numbers[] = {
      {"consensus.base_timeout_ms", CheckRange(c.base_timeout_ms, kBaseTimeoutMsLimit)},
      {"consensus.empty_block_interval_ms", CheckRange(c.empty_block_interval_ms, kEmptyBlockIntervalMsLimit)},
      {"consensus.max_block_txs", CheckRange(c.max_block_txs, kMaxBlockTxsLimit)},
      {"consensus.max_block_bytes", CheckRange(c.max_block_bytes, kMaxBlockBytesLimit)},
      {"consensus.max_clock_drift_ms", CheckRange(c.max_clock_drift_ms, kMaxClockDriftMsLimit)},
      {"mempool.max_txs", CheckRange(c.mempool_max_txs, kMempoolMaxTxsLimit)},
      {"mempool.max_bytes", CheckRange(c.mempool_max_bytes, kMempoolMaxBytesLimit)},
  };
  for (const auto& [key, why] : numbers) {
    if (!why.empty()) return bad(key, why);
  }
  HostPort scratch;
  for (const auto& [key, address] : {std::pair{"p2p.listen", &c.p2p_listen}, std::pair{"api.listen", &c.api_listen}}) {
    std::string why = SplitHostPort(FormatHostPort(*address), scratch);
    if (!why.empty()) return bad(key, why);
  }
  if (c.peers.size() > ledger::kMaxCommunes) return bad("p2p.peers", "has more than 1000 peers");
  std::set<ledger::PublicKey> seen;
  for (const PeerConfig& peer : c.peers) {
    std::string why = SplitHostPort(FormatHostPort(peer.address), scratch);
    if (!why.empty()) return bad("p2p.peers", why);
    if (!seen.insert(peer.key).second) return bad("p2p.peers", "the same peer key appears twice");
  }
  return Status::Ok();
}

toml::table Section(const NodeConfig& c, std::string_view name) {
  auto i64 = [](uint64_t v) { return static_cast<int64_t>(v); };
  if (name == "node") {
    return toml::table{{"moniker", c.moniker},           {"genesis", c.genesis_file},
                       {"validator_key", c.validator_key_file}, {"data_dir", c.data_dir},
                       {"log_level", c.log_level}};
  }
  if (name == "p2p") {
    toml::array peers;
    for (const PeerConfig& peer : c.peers) {
      peers.push_back(toml::table{{"key", ledger::PublicKeyToHex(peer.key)}, {"address", FormatHostPort(peer.address)}});
    }
    return toml::table{{"listen", FormatHostPort(c.p2p_listen)}, {"peers", std::move(peers)}};
  }
  if (name == "api") return toml::table{{"listen", FormatHostPort(c.api_listen)}};
  if (name == "consensus") {
    return toml::table{{"base_timeout_ms", i64(c.base_timeout_ms)},
                       {"empty_block_interval_ms", i64(c.empty_block_interval_ms)},
                       {"max_block_txs", i64(c.max_block_txs)},
                       {"max_block_bytes", i64(c.max_block_bytes)},
                       {"max_clock_drift_ms", i64(c.max_clock_drift_ms)}};
  }
  GS_ASSERT(name == "mempool");
  return toml::table{{"max_txs", i64(c.mempool_max_txs)}, {"max_bytes", i64(c.mempool_max_bytes)}};
}

Status SyncFolder(const std::string& folder) {
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open folder", folder, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return IoError("cannot sync folder", folder, err);
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return IoError("cannot write", path, n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string NodeConfig::GenesisPath() const { return Resolve(home, genesis_file); }
std::string NodeConfig::ValidatorKeyPath() const { return Resolve(home, validator_key_file); }
std::string NodeConfig::DataPath() const { return Resolve(home, data_dir); }

bool IsLogLevel(std::string_view level) {
  return std::find(kLogLevels.begin(), kLogLevels.end(), level) != kLogLevels.end();
}

Result<HostPort> ParseHostPort(std::string_view text) {
  HostPort out;
  std::string why = SplitHostPort(text, out);
  if (!why.empty()) return ConfigError("'" + std::string(text) + "' is not host:port: " + why);
  return out;
}

std::string FormatHostPort(const HostPort& address) {
  const bool ipv6 = address.host.find(':') != std::string::npos;
  return (ipv6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

Status WriteFileAtomic(const std::string& path, std::string_view contents, uint32_t mode) {
  const fs::path target(path);
  const std::string folder = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return IoError("cannot create a temporary file next to", path, errno);
  Status status = ::fchmod(fd, static_cast<mode_t>(mode)) == 0 ? Status::Ok() : IoError("cannot chmod", temp, errno);
  if (status.ok()) status = WriteAll(fd, contents, temp);
  if (status.ok() && ::fsync(fd) != 0) status = IoError("cannot sync", temp, errno);
  if (::close(fd) != 0 && status.ok()) status = IoError("cannot close", temp, errno);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) status = IoError("cannot rename over", path, errno);
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return SyncFolder(folder);
}

Result<NodeConfig> LoadNodeConfig(const std::string& home) {
  NodeConfig config;
  config.home = HomeFolder(home);
  const std::string path = (fs::path(config.home) / kConfigFile).string();
  Result<std::string> text = ReadFileBytes(path, kMaxConfigBytes);
  if (!text.ok()) {
    if (text.status().code() == "NOT_FOUND") return ConfigError("no config file at " + path + " (see gongshe init)");
    return ConfigError(text.status().message());
  }
  toml::table root;
  try {
    root = toml::parse(*text, path);
  } catch (const toml::parse_error& e) {
    return ConfigError(path + ":" + std::to_string(e.source().begin.line) + ": not valid TOML: " +
                       std::string(e.description()));
  }
  GS_RETURN_IF_ERROR(Reader(path, config).Read(root));
  return config;
}

Status WriteNodeConfig(const NodeConfig& config) {
  if (config.home.empty()) return ConfigError("the config has no home folder");
  GS_RETURN_IF_ERROR(CheckConfig(config));
  std::ostringstream out;
  out << "# Gongshe node configuration (see node/config.h). Relative paths are relative to this folder.\n";
  for (std::string_view name : {"node", "p2p", "api", "consensus", "mempool"}) {
    toml::table root{{name, Section(config, name)}};
    out << "\n" << toml::toml_formatter(root) << "\n";
  }
  return WriteFileAtomic((fs::path(config.home) / kConfigFile).string(), out.str(), 0644);
}

}  // namespace gongshe::node
