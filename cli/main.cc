// gongshe: one binary for the node, the local network, keys, transactions, queries and audits.

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::fprintf(stderr, "gongshe: libsodium failed to initialise\n");
    return 1;
  }
  CLI::App app{"Gongshe: a permissioned ledger for a planned, voucher-based economy"};
  app.set_version_flag("--version", std::string("gongshe ") + GONGSHE_VERSION);
  app.require_subcommand(0);
  CLI11_PARSE(app, argc, argv);
  if (argc == 1) std::printf("%s", app.help().c_str());
  return 0;
}
