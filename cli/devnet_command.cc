// `gongshe devnet`: N validators as child processes on loopback, the quick start (node/devnet.h).
//
// SIGINT, SIGTERM and SIGHUP are blocked from the start and taken with sigtimedwait, so a Ctrl-C
// at any moment (during init, while the nodes start, or while they run) ends in Supervisor::Stop:
// SIGTERM to every node, SIGKILL after 10 s, every child reaped.

#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "cli/commands.h"
#include "node/devnet.h"

namespace gongshe::cli {
namespace {

namespace fs = std::filesystem;

struct DevnetArgs {
  uint32_t nodes = 4;
  std::string dir;
  uint32_t base_port = node::kDefaultBasePort;
  uint32_t startup_timeout_s = 60;
  bool demo = false;
  bool json = false;
  const CLI::Option* nodes_option = nullptr;
  const CLI::Option* base_port_option = nullptr;
};

[[noreturn]] void Fail(const std::string& message) {
  std::fprintf(stderr, "gongshe devnet: %s\n", message.c_str());
  throw CLI::RuntimeError(1);
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// True if a stop signal arrived (waiting for one up to `wait`).
bool TakeStopSignal(std::chrono::milliseconds wait) {
  const sigset_t set = StopSignals();
  timespec timeout{static_cast<time_t>(wait.count() / 1000), static_cast<long>(wait.count() % 1000) * 1'000'000};
  return ::sigtimedwait(&set, nullptr, &timeout) > 0;
}

std::string FreshFolder() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = (fs::path(tmp && *tmp ? tmp : "/tmp") / "gongshe-devnet-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) Fail("cannot create a folder " + pattern + ": " + std::strerror(errno));
  return pattern;
}

node::Network OpenOrInit(const DevnetArgs& args, const std::string& dir) {
  if (!fs::exists(fs::path(dir) / "genesis.json")) {
    node::InitOptions options;
    options.dir = dir;
    options.validators = args.nodes;
    options.base_port = args.base_port;
    options.devnet = true;
    Result<node::Network> network = node::InitNetwork(options);
    if (!network.ok()) Fail(network.status().ToString());
    if (!args.json) std::printf("Initialised a devnet of %u validators in %s\n", args.nodes, network->dir.c_str());
    return std::move(network).value();
  }
  Result<node::Network> network = node::LoadNetwork(dir);
  if (!network.ok()) Fail(network.status().ToString());
  if (args.nodes_option->count() > 0 && network->nodes.size() != args.nodes) {
    Fail(dir + " holds a network of " + std::to_string(network->nodes.size()) + " validators, not " +
         std::to_string(args.nodes) + "; drop --nodes or choose another --dir");
  }
  if (args.base_port_option->count() > 0 && network->nodes.front().p2p.port != args.base_port) {
    Fail(dir + " holds a network whose first port is " + std::to_string(network->nodes.front().p2p.port) +
         "; its ports are set in each node's config.toml, not by --base-port");
  }
  return std::move(network).value();
}

void PrintRunning(const node::Network& network, bool demo) {
  std::printf("Devnet of %zu validators (chain %s) running from %s\n", network.nodes.size(), network.chain_id.c_str(),
              network.dir.c_str());
  for (const node::NetworkNode& n : network.nodes) {
    std::printf("  %-6s api http://%s  log %s/node.log\n", n.moniker.c_str(), node::FormatHostPort(n.api).c_str(),
                n.home.c_str());
  }
  if (demo) return;
  std::printf("Try: curl http://%s/v1/status\nPress Ctrl-C to stop.\n",
              node::FormatHostPort(network.nodes.front().api).c_str());
}

// Until a stop signal: reports each node that exits (once), and gives up when none is left.
void Supervise(node::Supervisor& supervisor) {
  std::vector<bool> reported(supervisor.size(), false);
  while (!TakeStopSignal(std::chrono::seconds(1))) {
    size_t running = 0;
    for (size_t i = 0; i < supervisor.size(); ++i) {
      if (supervisor.IsRunning(i)) {
        ++running;
        reported[i] = false;
        continue;
      }
      if (reported[i]) continue;
      reported[i] = true;
      const std::optional<int> exit = supervisor.last_exit(i);
      std::fprintf(stderr, "gongshe devnet: node%zu %s; last lines of %s:\n%s\n", i,
                   exit ? node::DescribeWaitStatus(*exit).c_str() : "stopped", supervisor.spec(i).log_path.c_str(),
                   node::LogTail(supervisor.spec(i).log_path, 20).c_str());
    }
    if (running == 0) Fail("every node has stopped");
  }
}

void Run(const DevnetArgs& args) {
  const sigset_t stop = StopSignals();
  if (::pthread_sigmask(SIG_BLOCK, &stop, nullptr) != 0) Fail("cannot block SIGINT/SIGTERM");

  const std::string dir = args.dir.empty() ? FreshFolder() : args.dir;
  const node::Network network = OpenOrInit(args, dir);
  Result<std::string> self = node::SelfExecutable();
  if (!self.ok()) Fail(self.status().ToString());
  node::Supervisor supervisor(node::NodeChildren(*self, network));
  Status started = supervisor.StartAll();
  if (!started.ok()) Fail(started.ToString());
  if (!args.json) {
    std::printf("Starting %zu validators; waiting up to %u s for their APIs...\n", network.nodes.size(),
                args.startup_timeout_s);
    std::fflush(stdout);
  }
  Status serving = node::WaitUntilServing(supervisor, network, std::chrono::seconds(args.startup_timeout_s),
                                          [] { return TakeStopSignal(std::chrono::milliseconds(0)); });
  if (!serving.ok()) {
    supervisor.Stop();
    Fail(serving.ToString());
  }
  if (args.json) {
    std::printf("%s\n", node::NetworkToJson(network).c_str());
  } else {
    PrintRunning(network, args.demo);
  }
  std::fflush(stdout);

  if (args.demo) {
    const Status demo = node::RunDemo(network);
    supervisor.Stop();
    if (!demo.ok()) Fail("demo: " + demo.ToString());
    std::printf("\nThe demo ran to the end. The network stays in %s; resume it with: gongshe devnet --dir %s\n",
                network.dir.c_str(), network.dir.c_str());
    return;
  }
  Supervise(supervisor);
  if (!args.json) std::printf("\nStopping the validators...\n");
  const size_t killed = supervisor.Stop();
  if (!args.json) {
    const std::string note = killed ? " (" + std::to_string(killed) + " needed SIGKILL)" : "";
    std::printf("Stopped%s. The network stays in %s; resume it with: gongshe devnet --dir %s\n", note.c_str(),
                network.dir.c_str(), network.dir.c_str());
  }
}

}  // namespace

void AddDevnetCommand(CLI::App& app) {
  static DevnetArgs args;
  CLI::App* cmd = app.add_subcommand(
      "devnet", "Run a local network: N validators as `gongshe node` processes on 127.0.0.1, until Ctrl-C.\n"
                "A DIR without genesis.json gets a new network first (as `gongshe init --devnet`: weeks of 10 s,\n"
                "epochs of 20 s); a DIR with one is started as it is, with its chain so far. Each node logs to\n"
                "DIR/node{i}/node.log.");
  args.nodes_option = cmd->add_option("--nodes,-n", args.nodes, "Number of validators of a new network, 1-64 (default 4)")
                          ->check(CLI::Range(1u, node::kMaxInitValidators));
  cmd->add_option("--dir", args.dir,
                  "Folder of the network (default: a new folder $TMPDIR/gongshe-devnet-XXXXXX, /tmp without "
                  "TMPDIR, kept after the run so its logs and chain can be read)");
  args.base_port_option =
      cmd->add_option("--base-port", args.base_port, "First port of a new network (default 26600)")
          ->check(CLI::Range(1, 65535));
  cmd->add_option("--startup-timeout", args.startup_timeout_s, "Seconds to wait for every API to answer (default 60)")
      ->check(CLI::Range(1, 3600));
  cmd->add_flag("--demo", args.demo, "Run the guided demo against the network (the README's main job), then stop it");
  cmd->add_flag("--json", args.json, "Print the running network as one JSON line once every node answers");
  cmd->callback([] { Run(args); });
}

}  // namespace gongshe::cli
