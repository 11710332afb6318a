// `gongshe init`: the genesis, keys and home folders of a new network (node/devnet.h).

#include <cstdio>

#include "cli/commands.h"
#include "ledger/key_file.h"
#include "node/devnet.h"

namespace gongshe::cli {
namespace {

struct InitArgs {
  node::InitOptions options;
  bool json = false;
};

std::string Duration(int64_t ms) {
  constexpr int64_t kDayMs = 24 * 3600 * 1000LL;
  if (ms % kDayMs == 0) return std::to_string(ms / kDayMs) + " days";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

void PrintNetwork(const node::Network& network) {
  std::printf("Wrote a network of %zu validator%s to %s\n", network.nodes.size(), network.nodes.size() == 1 ? "" : "s",
              network.dir.c_str());
  std::printf("  chain %s, week %s, epoch %s\n", network.chain_id.c_str(), Duration(network.week_ms).c_str(),
              Duration(network.epoch_ms).c_str());
  std::printf("  genesis %s (sha256 %s)\n", network.genesis_path.c_str(), ToHex(network.genesis_hash).c_str());
  for (const node::NetworkNode& n : network.nodes) {
    std::printf("  %-6s %s  validator %s  p2p %s  api %s\n", n.moniker.c_str(), n.home.c_str(),
                ledger::PublicKeyToHex(n.validator).c_str(), node::FormatHostPort(n.p2p).c_str(),
                node::FormatHostPort(n.api).c_str());
  }
  std::printf("Each home holds config.toml, keys/ (validator, registrar, issuer; mode 0600) and data/.\n");
  std::printf("Run one validator with `gongshe node --home %s`, or all of them with `gongshe devnet --dir %s`.\n",
              network.nodes.front().home.c_str(), network.dir.c_str());
}

void Run(const InitArgs& args) {
  Result<node::Network> network = node::InitNetwork(args.options);
  if (!network.ok()) {
    std::fprintf(stderr, "gongshe init: %s\n", network.status().ToString().c_str());
    throw CLI::RuntimeError(1);
  }
  if (args.json) {
    std::printf("%s\n", node::NetworkToJson(*network).c_str());
  } else {
    PrintNetwork(*network);
  }
}

}  // namespace

void AddInitCommand(CLI::App& app) {
  static InitArgs args;
  CLI::App* cmd = app.add_subcommand(
      "init", "Write the genesis, keys and one home folder per validator for a new network:\n"
              "DIR/genesis.json and DIR/node0 .. DIR/node{N-1} (config.toml, keys/, data/). Validator i\n"
              "listens for peers on 127.0.0.1:(P+2i) and serves its API on 127.0.0.1:(P+2i+1).");
  cmd->add_option("--validators,-n", args.options.validators, "Number of validators (communes), 1-64")
      ->required()
      ->check(CLI::Range(1u, node::kMaxInitValidators));
  cmd->add_option("--dir", args.options.dir, "Folder for the network (created if missing)")->required();
  cmd->add_option("--chain-id", args.options.chain_id,
                  "Chain id: 1-64 of a-z 0-9 - _ . (default gongshe-devnet with --devnet, else gongshe-1)");
  cmd->add_option("--base-port", args.options.base_port, "First port, P (default 26600)")->check(CLI::Range(1, 65535));
  cmd->add_flag("--devnet", args.options.devnet,
                "Short calendar for demos: weeks of 10 s and epochs of 20 s (default: 7-day weeks, 30-day epochs)");
  cmd->add_option("--laws", args.options.laws_dir,
                  "Folder of .law files in force from genesis (default: the standard laws, contracts/laws/*.law, "
                  "compiled into gongshe); each must load and pass its own tests");
  cmd->add_flag("--force", args.options.force,
                "Replace a network already in DIR (deletes its genesis.json and the node homes rewritten)");
  cmd->add_flag("--json", args.json, "Print what was written as JSON");
  cmd->callback([] { Run(args); });
}

}  // namespace gongshe::cli
