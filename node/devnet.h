#pragma once
// A local network of validators: `gongshe init` (genesis, keys and one home folder per validator)
// and a supervisor for their processes (`gongshe devnet`, multi-process tests, benchmarks).
//
// Layout written by InitNetwork into DIR:
//   DIR/genesis.json          the genesis document (protobuf JSON); written last, so its presence
//                             marks a complete network
//   DIR/node{i}/              validator i's home folder (node/config.h): config.toml, keys/, data/
// Validator i listens for peers on 127.0.0.1:(base_port + 2i) and serves its API on
// 127.0.0.1:(base_port + 2i + 1); its peers are all the other validators.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "node/config.h"

namespace gongshe::node {

inline constexpr uint32_t kMaxInitValidators = 64;
inline constexpr uint32_t kDefaultBasePort = 26600;

// True when every port in [base, base + count) can be bound on 127.0.0.1 now.
bool LoopbackPortsFree(uint32_t base, uint32_t count);

// A base port for `nodes` validators (2 * nodes free ports from it), picked at random among
// lowest, lowest + 8, ..., lowest + 8 * (slots - 1) so that concurrent test and bench runs rarely
// collide; nullopt when 200 picks found none free.
std::optional<uint32_t> FindFreeBasePort(uint32_t nodes, uint32_t lowest, uint32_t slots);

// The calendar of a network. A devnet's weeks and epochs are short so that a demo crosses both
// kinds of boundary (weekly law hooks, voucher expiry) in under a minute.
inline constexpr int64_t kWeekMs = 7 * 24 * 3600 * 1000LL;
inline constexpr int64_t kEpochMs = 30 * 24 * 3600 * 1000LL;
inline constexpr int64_t kDevnetWeekMs = 10'000;
inline constexpr int64_t kDevnetEpochMs = 20'000;

// Key files of a home folder besides the validator key (named in config.toml).
inline constexpr const char* kRegistrarKeyFile = "keys/registrar.key";
inline constexpr const char* kIssuerKeyFile = "keys/issuer.key";
inline constexpr const char* kNodeLogFile = "node.log";

struct InitOptions {
  std::string dir;
  uint32_t validators = 4;          // 1 .. kMaxInitValidators
  std::string chain_id;             // empty: "gongshe-devnet" with `devnet`, else "gongshe-1"
  uint32_t base_port = kDefaultBasePort;  // base_port + 2 * validators - 1 must be a port
  bool devnet = false;              // short weeks and epochs (above)
  bool force = false;               // replace an existing genesis.json and the homes it rewrites
  std::optional<int64_t> genesis_time_ms;  // default: now
  // The laws in force from genesis: every *.law file of this folder, in file-name order; empty:
  // the standard laws compiled into the binary (contracts/laws/*.law). Either way with the
  // standard law parameters (ledger/laws.h).
  std::string laws_dir;
  std::string log_level;  // each node's config.toml node.log_level; empty: the default (info)
};

struct NetworkNode {
  std::string home;  // absolute
  std::string moniker;
  ledger::PublicKey validator{}, registrar{}, issuer{};
  HostPort p2p, api;
};

struct Network {
  std::string dir;  // absolute
  std::string genesis_path;
  ledger::Hash genesis_hash{};
  std::string chain_id;
  int64_t genesis_time_ms = 0, week_ms = 0, epoch_ms = 0;
  std::vector<NetworkNode> nodes;  // node i is commune i of the genesis
};

// Writes a new network into `options.dir` (created if missing): N communes, each with fresh
// validator, registrar and issuer keys, and N home folders. Refuses (EXISTS) a folder that already
// holds a genesis.json or one of the home folders to write, unless `force`, which deletes the
// genesis, those homes and any further DIR/node{i} with a config.toml (the rest of a larger network
// being replaced). Errors: INIT (bad options, a law that does not load or fails its own tests),
// EXISTS, IO_ERROR, KEY_FILE_*.
Result<Network> InitNetwork(const InitOptions& options);

// Reads back a network written by InitNetwork: the genesis, each validator's config, and checks
// that node i's validator key file holds commune i's validator key.
Result<Network> LoadNetwork(const std::string& dir);

// The network as one JSON object (for --json).
std::string NetworkToJson(const Network& network);

// --- Processes -------------------------------------------------------------------------------

// How long Stop waits after SIGTERM before it sends SIGKILL.
inline constexpr std::chrono::milliseconds kStopGrace{10'000};
inline constexpr size_t kMaxChildren = 256;

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is the program's path (PATH is not searched)
  std::string log_path;           // stdout and stderr are appended here (created 0644)
};

// Starts, kills and restarts child processes and reaps every one of them. Each child runs in its
// own process group with default signal dispositions and an empty signal mask, stdin from
// /dev/null; signals go to the whole group, so anything a child starts goes down with it.
// Not thread-safe: one thread owns a Supervisor. The destructor runs Stop(). A process killed
// with SIGKILL cannot clean up: its children keep running (Linux offers no parent-death signal
// through posix_spawn), which is why `gongshe devnet` turns SIGINT and SIGTERM into Stop().
class Supervisor {
 public:
  explicit Supervisor(std::vector<ChildSpec> children);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  size_t size() const { return children_.size(); }

  // Spawns child i (PROCESS error if it is already running or cannot be spawned).
  Status Start(size_t i);
  // Spawns every child not running; on a failure, stops those it started and returns the error.
  Status StartAll();
  // SIGKILL to child i's group and waits for it. No-op if it is not running.
  void Kill(size_t i);
  // Kill(i), then Start(i).
  Status Restart(size_t i);
  // SIGTERM to every running child, up to `grace` for them to exit, then SIGKILL to the rest; all
  // are reaped on return. Returns how many needed SIGKILL.
  size_t Stop(std::chrono::milliseconds grace = kStopGrace);

  // Reaps child i if it has exited (without blocking) and says whether it is still running.
  bool IsRunning(size_t i);
  pid_t pid(size_t i) const;  // 0 when not running
  // The wait status (as from waitpid) of child i's last exit, if it ever exited.
  std::optional<int> last_exit(size_t i) const;
  const ChildSpec& spec(size_t i) const;

 private:
  struct Child {
    ChildSpec spec;
    pid_t pid = 0;
    std::optional<int> last_exit;
  };
  void Reaped(Child& child, int wait_status);
  std::vector<Child> children_;
};

// "exited with code 3", "killed by signal 9 (Killed)".
std::string DescribeWaitStatus(int wait_status);

// The path of the running executable (from /proc/self/exe).
Result<std::string> SelfExecutable();

// One child per validator: `<binary> node --home <home>`, logging to <home>/node.log.
std::vector<ChildSpec> NodeChildren(const std::string& binary, const Network& network);

// The last `max_lines` lines of a log file (at most 8 KiB), or a note that it cannot be read.
std::string LogTail(const std::string& path, size_t max_lines);

// Polls GET http://<api>/v1/status of every node until each answers 200, at most `timeout`.
// Fails early (NODE_EXITED) when a node's process exits, NODE_TIMEOUT when one does not answer in
// time, INTERRUPTED when `interrupted()` turns true; each error names the node and carries the tail
// of its log. `supervisor` must hold NodeChildren(..., network).
Status WaitUntilServing(Supervisor& supervisor, const Network& network, std::chrono::milliseconds timeout,
                        const std::function<bool()>& interrupted);

// `gongshe devnet --demo` (node/demo.cc): the README's main job, told against a live devnet once
// every node serves its API, through the APIs only. Prints as it goes; an error when a step fails
// or the nodes disagree.
Status RunDemo(const Network& network);

}  // namespace gongshe::node
