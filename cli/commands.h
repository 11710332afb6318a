#pragma once
// Each subcommand of `gongshe` lives in its own file and registers itself on the app here.
// A command's callback throws CLI::RuntimeError(code) after printing a clear message to stderr.

#include <CLI/CLI.hpp>

namespace gongshe::cli {

// Adds `gongshe ledger ...`: local, single-process ledger tools (demo).
void AddLedgerCommands(CLI::App& app);

// Adds `gongshe plan ...`: solve, verify and explain input-output plans (cli/plan_command.cc).
void AddPlanCommands(CLI::App& app);

// Adds `gongshe law ...`: check, test and run law modules (cli/law_command.cc).
void AddLawCommands(CLI::App& app);

// Adds `gongshe init`: genesis, keys and validator homes of a new network (cli/init_command.cc).
void AddInitCommand(CLI::App& app);

// Adds `gongshe node --home DIR`: one validator until SIGINT/SIGTERM (cli/node_command.cc).
void AddNodeCommand(CLI::App& app);

// Adds `gongshe devnet`: N validator processes on loopback until Ctrl-C (cli/devnet_command.cc).
void AddDevnetCommand(CLI::App& app);

// Adds `gongshe key gen|show`: key files (cli/key_command.cc).
void AddKeyCommands(CLI::App& app);

// Adds `gongshe tx ...`: sign and submit transactions to a node's API (cli/tx_command.cc).
void AddTxCommands(CLI::App& app);

// Adds `gongshe query ...`: read a node's ledger through its API (cli/query_command.cc).
void AddQueryCommands(CLI::App& app);

// Adds `gongshe plan upload|commit` and `gongshe query demand|plan`: plans on a ledger through a
// node's API (cli/plan_ledger_command.cc). After AddPlanCommands and AddQueryCommands.
void AddPlanLedgerCommands(CLI::App& app);

// Adds `gongshe propose law`, `gongshe vote` and `gongshe query proposal`: law amendments through a
// node's API (cli/proposal_command.cc). After AddQueryCommands.
void AddProposalCommands(CLI::App& app);

}  // namespace gongshe::cli
