// `gongshe tx register|retire|attend|issue|redeem`: build a transaction (ledger/tx_builder.h),
// sign it with a key file, submit it to a node's API, and with --wait follow it into a block.
//
// The chain id comes from the node's status and the nonce from the signer's account unless given
// (--chain-id, --nonce). A nonce fetched that way ignores the signer's transactions still in the
// mempool: to send several in a row, use --wait or number them with --nonce.
//
// Exit status 0 when the transaction was admitted (and, with --wait, committed with result OK);
// 1 otherwise, with the reason on stderr.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>

#include "cli/api_args.h"
#include "cli/commands.h"
#include "ledger/key_file.h"
#include "ledger/tx_builder.h"

namespace gongshe::cli {
namespace {

using ledger::KeyPair;
using ledger::TxBuilder;

// Signs the transaction for the signer's nonce.
using Build = std::function<std::string(const TxBuilder& builder, const KeyPair& signer, uint64_t nonce)>;

struct TxOptions {
  NodeOptions node;
  std::string key_file;
  std::string chain_id;
  uint64_t nonce = 0;  // 0: ask the node (nonces start at 1)
  bool wait = false;
  uint64_t wait_ms = 30'000;
  // Action arguments; each subcommand uses some.
  std::string public_key, role, delegate, member, voucher_class, amount, reason, category, cosign_key_file;
  std::optional<int64_t> shift_start_s;
  uint32_t minutes = 0;
};

std::string Upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
  return text;
}

// "member" or "ROLE_MEMBER"; any role but ROLE_UNSPECIFIED.
Result<v1::Role> ParseRole(const std::string& text) {
  std::string name = Upper(text);
  if (!name.starts_with("ROLE_")) name = "ROLE_" + name;
  v1::Role role;
  if (!v1::Role_Parse(name, &role) || role == v1::ROLE_UNSPECIFIED) {
    return Status("BAD_ROLE", "'" + text + "' is not a role (member, delegate, workplace, store, issuer, planner)");
  }
  return role;
}

// "consumption" or "VOUCHER_CLASS_CONSUMPTION".
Result<v1::VoucherClass> ParseVoucherClass(const std::string& text) {
  std::string name = Upper(text);
  if (!name.starts_with("VOUCHER_CLASS_")) name = "VOUCHER_CLASS_" + name;
  v1::VoucherClass voucher_class;
  if (!v1::VoucherClass_Parse(name, &voucher_class) || voucher_class == v1::VOUCHER_CLASS_UNSPECIFIED) {
    return Status("BAD_CLASS", "'" + text + "' is not a voucher class (guarantee, consumption, special)");
  }
  return voucher_class;
}

// Prints what happened to the transaction and fails unless it went through.
void Report(std::string_view command, const v1::SubmitTxResponse& submitted,
            const std::optional<v1::TxResponse>& committed, bool json) {
  if (json) {
    std::printf("%s\n", committed ? ToJsonLine(*committed).c_str() : ToJsonLine(submitted).c_str());
  } else {
    std::printf("tx %s: %s\n", submitted.tx_id().c_str(), submitted.code().c_str());
    if (committed) {
      std::printf("committed at height %llu, index %u: %s%s%s\n", static_cast<unsigned long long>(committed->height()),
                  committed->index(), committed->code().c_str(), committed->message().empty() ? "" : " -- ",
                  committed->message().c_str());
    }
  }
  if (committed && committed->code() != "OK") {
    std::fprintf(stderr, "gongshe %.*s: the transaction was committed but rejected: %s: %s\n",
                 static_cast<int>(command.size()), command.data(), committed->code().c_str(),
                 committed->message().c_str());
    throw CLI::RuntimeError(1);
  }
}

// Everything after the action's own arguments are parsed: key, chain id, nonce, submit, wait.
void SignAndSubmit(std::string_view command, const TxOptions& options, const Build& build) {
  const bool json = options.node.json;
  const KeyPair signer = ValueOrFail(command, ledger::ReadKeyFile(options.key_file), json);
  std::unique_ptr<node::Client> client = ConnectOrFail(command, options.node);
  std::string chain_id = options.chain_id;
  if (chain_id.empty()) chain_id = ValueOrFail(command, client->GetStatus(), json).chain_id();
  Status chain_ok = TxBuilder::CheckChainId(chain_id);
  if (!chain_ok.ok()) Fail(command, chain_ok, json);
  uint64_t nonce = options.nonce;
  if (nonce == 0) {
    Result<v1::AccountResponse> account = client->GetAccount(signer.public_key());
    if (!account.ok() && account.status().code() == "NOT_FOUND") {
      Fail(command,
           Status("UNKNOWN_SIGNER", "the key in " + options.key_file + " (" +
                                        ledger::PublicKeyToHex(signer.public_key()) + ") has no account on this chain"),
           json);
    }
    nonce = ValueOrFail(command, std::move(account), json).next_nonce();
  }
  const std::string tx = build(TxBuilder(chain_id), signer, nonce);
  const v1::SubmitTxResponse submitted = ValueOrFail(command, client->SubmitTx(tx), json);
  std::optional<v1::TxResponse> committed;
  if (options.wait) {
    Result<v1::TxResponse> found =
        client->GetTx(ledger::Sha256(AsBytes(tx)), std::chrono::milliseconds(options.wait_ms));
    if (!found.ok() && found.status().code() == "NOT_FOUND") {
      Fail(command,
           Status("NOT_COMMITTED", "tx " + submitted.tx_id() + " was admitted but not committed within " +
                                       std::to_string(options.wait_ms) + " ms"),
           json);
    }
    committed = ValueOrFail(command, std::move(found), json);
  }
  Report(command, submitted, committed, json);
}

// A subcommand of `gongshe tx` with the options every transaction takes; `prepare` parses the
// action's own arguments (failing early, before any request) and returns how to build it.
void AddTx(CLI::App& tx, const char* name, const char* help, TxOptions& options,
           std::function<void(CLI::App&)> add_action_options, std::function<Build()> prepare) {
  CLI::App* cmd = tx.add_subcommand(name, help);
  cmd->add_option("--key", options.key_file, "The signer's key file")->required();
  add_action_options(*cmd);
  cmd->add_option("--chain-id", options.chain_id, "Sign for this chain (default: the node's)");
  cmd->add_option("--nonce", options.nonce, "The signer's nonce (default: its next one, from the node)")
      ->check(CLI::Range(uint64_t{1}, std::numeric_limits<uint64_t>::max()));
  cmd->add_flag("--wait", options.wait, "Wait until the transaction is committed and show its result");
  cmd->add_option("--wait-ms", options.wait_ms, "How long --wait waits")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{30'000}));
  AddNodeOptions(*cmd, options.node);
  const std::string command = std::string("tx ") + name;
  cmd->callback([command, &options, prepare] { SignAndSubmit(command, options, prepare()); });
}

}  // namespace

void AddTxCommands(CLI::App& app) {
  CLI::App* tx = app.add_subcommand("tx", "Sign transactions with a key file and submit them to a node");
  tx->require_subcommand(1);
  static TxOptions options;
  const auto key_arg = [](const std::string& command, const std::string& arg) {
    return ValueOrFail(command, ResolvePublicKey(arg), options.node.json);
  };

  AddTx(
      *tx, "register", "Register an account in the registrar's commune (signed by the commune registrar)", options,
      [](CLI::App& cmd) {
        cmd.add_option("--public-key", options.public_key, "The new account's key: hex, or a key file")->required();
        cmd.add_option("--role", options.role, "member, delegate, workplace, store, issuer or planner")->required();
        cmd.add_option("--delegate", options.delegate,
                       "A member's delegate, whose constituency it joins: hex, or a key file (members only)");
      },
      [key_arg]() -> Build {
        const ledger::PublicKey key = key_arg("tx register", options.public_key);
        const v1::Role role = ValueOrFail("tx register", ParseRole(options.role), options.node.json);
        if (options.delegate.empty()) {
          return [key, role](const TxBuilder& b, const KeyPair& signer, uint64_t nonce) {
            return b.Register(signer, nonce, key, role);
          };
        }
        if (role != v1::ROLE_MEMBER) {
          Fail("tx register", Status("BAD_ARGS", "only a member is registered under a delegate"), options.node.json);
        }
        const ledger::PublicKey delegate = key_arg("tx register", options.delegate);
        return [key, delegate](const TxBuilder& b, const KeyPair& signer, uint64_t nonce) {
          return b.RegisterMember(signer, nonce, key, delegate);
        };
      });

  AddTx(
      *tx, "retire", "Retire an account of the registrar's commune (signed by the commune registrar)", options,
      [](CLI::App& cmd) {
        cmd.add_option("--public-key", options.public_key, "The account's key: hex, or a key file")->required();
      },
      [key_arg]() -> Build {
        const ledger::PublicKey key = key_arg("tx retire", options.public_key);
        return
            [key](const TxBuilder& b, const KeyPair& signer, uint64_t nonce) { return b.Retire(signer, nonce, key); };
      });

  AddTx(
      *tx, "attend", "Record minutes a member worked in a shift (signed by a workplace device)", options,
      [](CLI::App& cmd) {
        cmd.add_option("--member", options.member, "The member's key: hex, or a key file")->required();
        cmd.add_option("--minutes", options.minutes, "Minutes worked, 1 to 1440")
            ->required()
            ->check(CLI::Range(1, 1440));
        cmd.add_option("--shift-start", options.shift_start_s,
                       "Start of the shift, Unix seconds (default: now minus the minutes)");
      },
      [key_arg]() -> Build {
        const ledger::PublicKey member = key_arg("tx attend", options.member);
        const uint32_t minutes = options.minutes;
        const int64_t now_s =
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        const int64_t start_s = options.shift_start_s.value_or(now_s - int64_t{60} * minutes);
        return [member, minutes, start_s](const TxBuilder& b, const KeyPair& signer, uint64_t nonce) {
          return b.Attend(signer, nonce, member, start_s, minutes);
        };
      });

  AddTx(
      *tx, "issue", "Issue vouchers to a member of the issuer's commune (signed by an issuer)", options,
      [](CLI::App& cmd) {
        cmd.add_option("--member", options.member, "The member's key: hex, or a key file")->required();
        cmd.add_option("--class", options.voucher_class, "guarantee, consumption or special")->required();
        cmd.add_option("--amount", options.amount, "Credits, e.g. 12.5 (at most 3 decimals)")->required();
        cmd.add_option("--reason", options.reason, "Why, for the record (at most 256 bytes)")->required();
      },
      [key_arg]() -> Build {
        const bool json = options.node.json;
        const ledger::PublicKey member = key_arg("tx issue", options.member);
        const v1::VoucherClass voucher_class = ValueOrFail("tx issue", ParseVoucherClass(options.voucher_class), json);
        const int64_t amount = ValueOrFail("tx issue", ledger::ParseCredits(options.amount), json);
        const std::string reason = options.reason;
        return [member, voucher_class, amount, reason](const TxBuilder& b, const KeyPair& signer, uint64_t nonce) {
          return b.Issue(signer, nonce, voucher_class, member, amount, reason);
        };
      });

  AddTx(
      *tx, "redeem", "Redeem (cancel) vouchers for goods at a store (signed by the member, co-signed by the store)",
      options,
      [](CLI::App& cmd) {
        cmd.add_option("--cosign-key", options.cosign_key_file, "The store's key file; it co-signs")->required();
        cmd.add_option("--class", options.voucher_class, "guarantee, consumption or special")->required();
        cmd.add_option("--amount", options.amount, "Credits, e.g. 12.5 (at most 3 decimals)")->required();
        cmd.add_option("--category", options.category, "The category of the goods, e.g. bread")->required();
      },
      []() -> Build {
        const bool json = options.node.json;
        const KeyPair store = ValueOrFail("tx redeem", ledger::ReadKeyFile(options.cosign_key_file), json);
        const v1::VoucherClass voucher_class = ValueOrFail("tx redeem", ParseVoucherClass(options.voucher_class), json);
        const int64_t amount = ValueOrFail("tx redeem", ledger::ParseCredits(options.amount), json);
        const std::string category = options.category;
        return [store, voucher_class, amount, category](const TxBuilder& b, const KeyPair& signer, uint64_t nonce) {
          return b.Redeem(signer, nonce, store, voucher_class, amount, category);
        };
      });
}

}  // namespace gongshe::cli
