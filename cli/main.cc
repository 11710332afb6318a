// gongshe: one binary for the node, the local network, keys, transactions, queries and audits.

#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "ledger/crypto.h"

int main(int argc, char** argv) {
  gongshe::ledger::InitCrypto();
  CLI::App app{"Gongshe: a permissioned ledger for a planned, voucher-based economy"};
  app.set_version_flag("--version", std::string("gongshe ") + GONGSHE_VERSION);
  app.require_subcommand(0, 1);
  gongshe::cli::AddLedgerCommands(app);
  gongshe::cli::AddPlanCommands(app);
  gongshe::cli::AddLawCommands(app);
  gongshe::cli::AddInitCommand(app);
  gongshe::cli::AddNodeCommand(app);
  gongshe::cli::AddDevnetCommand(app);
  gongshe::cli::AddKeyCommands(app);
  gongshe::cli::AddTxCommands(app);
  gongshe::cli::AddQueryCommands(app);
  gongshe::cli::AddPlanLedgerCommands(app);
  gongshe::cli::AddProposalCommands(app);
  CLI11_PARSE(app, argc, argv);
  if (argc == 1) std::printf("%s", app.help().c_str());
  return 0;
}
