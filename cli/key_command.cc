// `gongshe key gen|show`: Ed25519 key files (ledger/key_file.h), written with mode 0600.

#include <cstdio>

#include "cli/api_args.h"
#include "cli/commands.h"
#include "contracts/json.h"
#include "ledger/key_file.h"

namespace gongshe::cli {
namespace {

void PrintKey(const ledger::PublicKey& key, const std::string& file, bool json) {
  const std::string hex = ledger::PublicKeyToHex(key);
  if (json) {
    std::printf("{\"publicKey\":\"%s\",\"file\":%s}\n", hex.c_str(), contracts::JsonQuote(file).c_str());
  } else {
    std::printf("%s\n", hex.c_str());
  }
}

}  // namespace

void AddKeyCommands(CLI::App& app) {
  CLI::App* key = app.add_subcommand("key", "Create and inspect Ed25519 key files");
  key->require_subcommand(1);

  struct GenOptions {
    std::string out;
    bool force = false;
    bool json = false;
  };
  static GenOptions gen;
  CLI::App* gen_cmd =
      key->add_subcommand("gen", "Generate a key pair into a new key file (mode 0600); print its public key");
  gen_cmd->add_option("--out", gen.out, "The key file to create")->required();
  gen_cmd->add_flag("--force", gen.force, "Replace the file if it exists");
  gen_cmd->add_flag("--json", gen.json, "Print {\"publicKey\", \"file\"}");
  gen_cmd->callback([] {
    const ledger::KeyPair pair = ledger::KeyPair::Generate();
    Status written =
        ledger::WriteKeyFile(gen.out, pair, gen.force ? ledger::IfExists::kReplace : ledger::IfExists::kFail);
    if (!written.ok()) Fail("key gen", written, gen.json);
    PrintKey(pair.public_key(), gen.out, gen.json);
  });

  struct ShowOptions {
    std::string file;
    bool json = false;
  };
  static ShowOptions show;
  CLI::App* show_cmd = key->add_subcommand("show", "Print the public key of a key file");
  show_cmd->add_option("FILE", show.file, "A key file")->required();
  show_cmd->add_flag("--json", show.json, "Print {\"publicKey\", \"file\"}");
  show_cmd->callback([] {
    Result<ledger::KeyPair> pair = ledger::ReadKeyFile(show.file);
    if (!pair.ok()) Fail("key show", pair.status(), show.json);
    PrintKey(pair->public_key(), show.file, show.json);
  });
}

}  // namespace gongshe::cli
