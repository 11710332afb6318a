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

}  // namespace gongshe::cli
