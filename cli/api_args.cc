#include "cli/api_args.h"

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <filesystem>

#include "gongshe/v1/api.pb.h"
#include "ledger/key_file.h"

namespace gongshe::cli {

void AddNodeOptions(CLI::App& command, NodeOptions& options) {
  command.add_option("--node", options.url, "The node's API, http://HOST:PORT")->capture_default_str();
  command.add_option("--timeout-ms", options.timeout_ms, "Give up on an unanswered request after this long")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{600'000}));
  command.add_flag("--json", options.json, "Print the node's answer as one line of JSON");
}

void Fail(std::string_view command, const Status& status, bool json) {
  GS_ASSERT(!status.ok());
  if (json) {
    v1::ErrorResponse error;
    error.mutable_error()->set_code(status.code());
    error.mutable_error()->set_message(status.message());
    std::printf("%s\n", ToJsonLine(error).c_str());
  }
  std::fprintf(stderr, "gongshe %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               status.ToString().c_str());
  throw CLI::RuntimeError(1);
}

std::unique_ptr<node::Client> ConnectOrFail(std::string_view command, const NodeOptions& options) {
  Result<std::unique_ptr<node::Client>> client =
      node::Client::Create(options.url, std::chrono::milliseconds(options.timeout_ms));
  if (!client.ok()) Fail(command, client.status(), options.json);
  return std::move(client).value();
}

Result<ledger::PublicKey> ResolvePublicKey(const std::string& arg) {
  if (arg.size() == 64) {
    Result<ledger::PublicKey> key = ledger::PublicKeyFromHex(arg);
    if (key.ok()) return key;
  }
  std::error_code error;
  if (!std::filesystem::is_regular_file(arg, error)) {
    return Status("BAD_PUBLIC_KEY", "'" + arg + "' is neither a public key (64 hex digits) nor a key file");
  }
  Result<ledger::PublicKey> public_file = ledger::ReadPublicKeyFile(arg);
  if (public_file.ok()) return public_file;
  Result<ledger::KeyPair> key_file = ledger::ReadKeyFile(arg);
  if (key_file.ok()) return key_file->public_key();
  return Status("BAD_PUBLIC_KEY",
                "'" + arg + "' is neither a public key file nor a key file: " + key_file.status().message());
}

std::string ToJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  GS_ASSERT(google::protobuf::util::MessageToJsonString(message, &json, options).ok());
  return json;
}

Signer SignerOrFail(std::string_view command, node::Client& client, const std::string& key_file, bool json) {
  ledger::KeyPair key = ValueOrFail(command, ledger::ReadKeyFile(key_file), json);
  const std::string chain_id = ValueOrFail(command, client.GetStatus(), json).chain_id();
  const Status chain_ok = ledger::TxBuilder::CheckChainId(chain_id);
  if (!chain_ok.ok()) Fail(command, chain_ok, json);
  Result<v1::AccountResponse> account = client.GetAccount(key.public_key());
  if (!account.ok() && account.status().code() == "NOT_FOUND") {
    Fail(command, Status("UNKNOWN_SIGNER", "the key in " + key_file + " has no account on this chain"), json);
  }
  const uint64_t next = ValueOrFail(command, std::move(account), json).next_nonce();
  return Signer{std::move(key), ledger::TxBuilder(chain_id), next};
}

}  // namespace gongshe::cli
