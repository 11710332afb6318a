// `gongshe query status|account|block|tx|explain|evidence`: read a node's committed ledger through its API
// and print it for a person, or with --json the API's answer as one line of JSON.

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "cli/api_args.h"
#include "cli/commands.h"
#include "ledger/key_file.h"
#include "ledger/tx_builder.h"
#include "node/law_text.h"

namespace gongshe::cli {
namespace {

// Role and class names without their enum prefix: ROLE_MEMBER -> member.
std::string Short(const std::string& enum_name, std::string_view prefix) {
  std::string out = enum_name.starts_with(prefix) ? enum_name.substr(prefix.size()) : enum_name;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void PrintStatus(const v1::StatusResponse& s) {
  size_t connected = 0;
  for (const v1::PeerView& peer : s.peers()) connected += peer.connected() ? 1 : 0;
  std::printf("chain            %s\n", s.chain_id().c_str());
  std::printf("height           %llu%s\n", U(s.height()), s.syncing() ? " (syncing)" : "");
  std::printf("last block       %s\n", s.last_block_hash().c_str());
  std::printf("state root       %s\n", s.state_root().c_str());
  std::printf("epoch            %llu (week %llu)\n", U(s.epoch()), U(s.week()));
  std::printf("round            %llu\n", U(s.round()));
  std::printf("node key         %s\n", s.node_key().c_str());
  std::printf("validators       %d\n", s.validators_size());
  std::printf("peers            %zu of %d connected\n", connected, s.peers_size());
  std::printf("mempool          %llu txs, %llu bytes\n", U(s.mempool_txs()), U(s.mempool_bytes()));
}

void PrintAccount(const v1::AccountResponse& a) {
  std::printf("account          %s\n", a.public_key().c_str());
  std::printf("role             %s\n", Short(v1::Role_Name(a.role()), "ROLE_").c_str());
  std::printf("commune          %s\n", a.commune().c_str());
  std::printf("active           %s\n", a.active() ? "yes" : "no (retired)");
  std::printf("next nonce       %llu\n", U(a.next_nonce()));
  std::printf("registered at    height %llu\n", U(a.registered_height()));
  std::printf("as of            height %llu, epoch %llu\n", U(a.height()), U(a.epoch()));
  if (a.balances_size() == 0) std::printf("balances         none\n");
  for (const v1::ClassBalance& balance : a.balances()) {
    std::printf("%-16s %s credits\n", Short(v1::VoucherClass_Name(balance.voucher_class()), "VOUCHER_CLASS_").c_str(),
                ledger::FormatCredits(balance.total_milli()).c_str());
    for (const v1::LotView& lot : balance.lots()) {
      std::printf("  lot            %s, expires at epoch %llu\n", ledger::FormatCredits(lot.amount_milli()).c_str(),
                  U(lot.expiry_epoch()));
    }
  }
}

void PrintBlock(const v1::BlockResponse& b) {
  const v1::BlockHeaderView& h = b.header();
  std::printf("block            %llu\n", U(b.height()));
  std::printf("hash             %s\n", b.block_hash().c_str());
  std::printf("parent           %s\n", h.parent_hash().c_str());
  std::printf("time             %lld ms\n", static_cast<long long>(h.time_ms()));
  std::printf("round            %llu\n", U(h.round()));
  std::printf("proposer         %s\n", h.proposer().c_str());
  std::printf("state root after %s\n", b.state_root_after().c_str());
  std::printf("certificate      %s\n", b.has_certificate()
                                           ? (std::to_string(b.certificate().signatures_size()) + " signatures").c_str()
                                           : "none stored (certified through a later block)");
  std::printf("transactions     %d\n", b.txs_size());
  for (const v1::BlockTxView& tx : b.txs()) {
    std::printf("  %s %s%s%s\n", tx.tx_id().c_str(), tx.code().c_str(), tx.message().empty() ? "" : " -- ",
                tx.message().c_str());
  }
}

void PrintTx(const v1::TxResponse& t) {
  std::printf("tx               %s\n", t.tx_id().c_str());
  std::printf("block            %llu (%s), index %u\n", U(t.height()), t.block_hash().c_str(), t.index());
  std::printf("result           %s%s%s\n", t.code().c_str(), t.message().empty() ? "" : " -- ", t.message().c_str());
  if (t.has_tx()) {
    std::printf("signer           %s (nonce %llu)\n", t.tx().signer().c_str(), U(t.tx().nonce()));
    if (!t.tx().cosigner().empty()) std::printf("co-signer        %s\n", t.tx().cosigner().c_str());
    std::printf("body             %s\n", ToJsonLine(t.tx()).c_str());
  }
  if (t.law_runs_size() > 0) std::printf("laws\n");
  for (const std::string& line : node::LawRunLines(t.law_runs(), /*with_trace=*/true)) std::printf("%s\n", line.c_str());
}

void PrintExplanation(const v1::ExplanationResponse& e) {
  const bool week = e.hook() == "week_closed";
  std::printf("%s %llu of %s closed in block %llu\n", week ? "week" : "epoch", U(e.period()), e.member().c_str(),
              U(e.height()));
  for (const std::string& line : node::LawRunLines(e.law_runs(), /*with_trace=*/true, e.member())) {
    std::printf("%s\n", line.c_str());
  }
}

void PrintEvidence(const v1::EvidenceListResponse& list) {
  std::printf("evidence         %llu recorded (as of height %llu)\n", U(list.total()), U(list.height()));
  for (const v1::EvidenceView& e : list.evidence()) {
    std::printf("  #%llu %s by %s in epoch %llu round %llu, recorded at height %llu\n", U(e.sequence()),
                Short(v1::Evidence::Kind_Name(e.kind()), "KIND_").c_str(), e.validator().c_str(), U(e.epoch()),
                U(e.round()), U(e.height()));
  }
}

// The answer as one JSON line, or for a person.
template <typename M>
void Print(const M& answer, bool json, void (*print_text)(const M&)) {
  if (json) {
    std::printf("%s\n", ToJsonLine(answer).c_str());
  } else {
    print_text(answer);
  }
}

}  // namespace

void AddQueryCommands(CLI::App& app) {
  CLI::App* query = app.add_subcommand("query", "Read a node's committed ledger through its API");
  query->require_subcommand(1);
  static NodeOptions node;
  static std::string key, which, tx_id;
  static uint64_t wait_ms = 0;

  CLI::App* status = query->add_subcommand("status", "Chain, height, last block, validators, peers, mempool");
  AddNodeOptions(*status, node);
  status->callback([] {
    const v1::StatusResponse s =
        ValueOrFail("query status", ConnectOrFail("query status", node)->GetStatus(), node.json);
    Print(s, node.json, PrintStatus);
  });

  CLI::App* account = query->add_subcommand("account", "An account: role, commune, nonce, balances with their lots");
  account->add_option("KEY", key, "The account's key: 64 hex digits, or a key file")->required();
  AddNodeOptions(*account, node);
  account->callback([] {
    const ledger::PublicKey public_key = ValueOrFail("query account", ResolvePublicKey(key), node.json);
    const v1::AccountResponse a =
        ValueOrFail("query account", ConnectOrFail("query account", node)->GetAccount(public_key), node.json);
    Print(a, node.json, PrintAccount);
  });

  CLI::App* block = query->add_subcommand("block", "A block: header, transactions and their results, certificate");
  block->add_option("HEIGHT", which, "A height, or 'latest'")->required();
  AddNodeOptions(*block, node);
  block->callback([] {
    std::unique_ptr<node::Client> client = ConnectOrFail("query block", node);
    Result<v1::BlockResponse> found = Status("BAD_HEIGHT", "'" + which + "' is not a height (1, 2, ...) or 'latest'");
    if (which == "latest") {
      found = client->GetLatestBlock();
    } else if (!which.empty() && which.size() <= 20 && which.find_first_not_of("0123456789") == std::string::npos) {
      errno = 0;
      const unsigned long long height = std::strtoull(which.c_str(), nullptr, 10);
      if (errno == 0) found = client->GetBlock(height);
    }
    const v1::BlockResponse b = ValueOrFail("query block", std::move(found), node.json);
    Print(b, node.json, PrintBlock);
  });

  static uint64_t week = 0, epoch = 0;
  CLI::App* explain = query->add_subcommand(
      "explain", "What the laws did when a member's week or epoch closed, and why: each law's effects with\n"
                 "the section they cite, and the rules that fired with their values");
  explain->add_option("KEY", key, "The member's key: 64 hex digits, or a key file")->required();
  CLI::Option* week_option = explain->add_option("--week", week, "The week (0 is the first after genesis)");
  CLI::Option* epoch_option = explain->add_option("--epoch", epoch, "The epoch");
  week_option->excludes(epoch_option);
  AddNodeOptions(*explain, node);
  explain->callback([week_option, epoch_option] {
    if (week_option->count() + epoch_option->count() != 1) {
      Fail("query explain", Status("BAD_ARGS", "give --week N or --epoch N"), node.json);
    }
    const ledger::PublicKey member = ValueOrFail("query explain", ResolvePublicKey(key), node.json);
    const bool by_epoch = epoch_option->count() == 1;
    const v1::ExplanationResponse e = ValueOrFail(
        "query explain", ConnectOrFail("query explain", node)->GetExplanation(member, by_epoch, by_epoch ? epoch : week),
        node.json);
    Print(e, node.json, PrintExplanation);
  });

  static uint64_t evidence_from = 0;
  static uint32_t evidence_limit = 100;
  CLI::App* evidence = query->add_subcommand(
      "evidence", "Equivocation evidence the ledger recorded: who signed two conflicting votes or proposals\n"
                  "in one round, and the block that recorded it");
  evidence->add_option("--from", evidence_from, "The first evidence number (0 is the first recorded)");
  evidence->add_option("--limit", evidence_limit, "At most this many (1 to 100)")->check(CLI::Range(1, 100));
  AddNodeOptions(*evidence, node);
  evidence->callback([] {
    const v1::EvidenceListResponse e = ValueOrFail(
        "query evidence", ConnectOrFail("query evidence", node)->GetEvidence(evidence_from, evidence_limit), node.json);
    Print(e, node.json, PrintEvidence);
  });

  CLI::App* tx = query->add_subcommand("tx", "A committed transaction, its result code and its law runs");
  tx->add_option("ID", tx_id, "The transaction id, 64 hex digits")->required();
  tx->add_option("--wait-ms", wait_ms, "Wait this long for it to be committed")
      ->check(CLI::Range(uint64_t{0}, uint64_t{30'000}));
  AddNodeOptions(*tx, node);
  tx->callback([] {
    const std::optional<Bytes> bytes = tx_id.size() == 64 ? FromHex(tx_id) : std::nullopt;
    if (!bytes) Fail("query tx", Status("BAD_TX_ID", "a transaction id is 64 hex digits"), node.json);
    const ledger::Hash id = *ledger::HashFromBytes(*bytes);
    const v1::TxResponse t = ValueOrFail(
        "query tx", ConnectOrFail("query tx", node)->GetTx(id, std::chrono::milliseconds(wait_ms)), node.json);
    Print(t, node.json, PrintTx);
  });
}

}  // namespace gongshe::cli
