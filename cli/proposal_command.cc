// Law amendments by proposal and vote, through a node's API (ledger/amendments.h):
//   gongshe propose law FILE --closes-week N --key K   a delegate proposes a law module (checked
//                                                       here first, as the ledger will check it)
//   gongshe vote PROPOSAL_ID yes|no|abstain --key K    a delegate's vote for its constituents, or a
//                                                       member's own
//   gongshe query proposal ID [--voter KEY]            the proposal, its tally, outcome and the laws'
//                                                       explanation; with --voter that voter's vote,
//                                                       its state proof checked here
// The signed commands wait for their transaction's commit. Exit status 0 on success; 1 with the
// reason on stderr (and with --json, an error object).

#include <cctype>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "cli/api_args.h"
#include "cli/commands.h"
#include "common/file.h"
#include "ledger/amendments.h"
#include "ledger/key_file.h"
#include "ledger/state_tree.h"
#include "ledger/transaction.h"
#include "ledger/tx_builder.h"
#include "node/law_text.h"
#include "node/plan_upload.h"

namespace gongshe::cli {
namespace {

using std::chrono::milliseconds;

struct ProposalOptions {
  NodeOptions node;
  std::string key_file, file, file_name, proposal, choice, voter;
  uint64_t closes_week = 0;
  uint64_t wait_ms = 30'000;
};

Result<ledger::Hash> ParseProposalId(const std::string& text) {
  std::optional<Bytes> bytes = text.size() == 64 ? FromHex(text) : std::nullopt;
  std::optional<ledger::Hash> id = bytes ? ledger::HashFromBytes(*bytes) : std::nullopt;
  if (!id) return Status("BAD_PROPOSAL_ID", "'" + text + "' is not a proposal id (64 hex digits)");
  return *id;
}

// "yes", "no", "abstain" (or VOTE_CHOICE_YES ...).
Result<v1::VoteChoice> ParseChoice(const std::string& text) {
  std::string name;
  for (char c : text) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (!name.starts_with("VOTE_CHOICE_")) name = "VOTE_CHOICE_" + name;
  v1::VoteChoice choice;
  if (!v1::VoteChoice_Parse(name, &choice) || choice == v1::VOTE_CHOICE_UNSPECIFIED) {
    return Status("BAD_CHOICE", "'" + text + "' is not a vote: yes, no or abstain");
  }
  return choice;
}

std::string ChoiceName(v1::VoteChoice choice) {
  std::string name = v1::VoteChoice_Name(choice);
  name = name.substr(std::string_view("VOTE_CHOICE_").size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// Signs the transaction `build` makes with the key file's signer (SignerOrFail), submits it and
// waits for its commit; fails unless its result is OK.
v1::TxResponse SignSubmitWait(std::string_view command, node::Client& client, const ProposalOptions& o,
                              const std::function<std::string(const ledger::TxBuilder&, const ledger::KeyPair&,
                                                              uint64_t)>& build) {
  const bool json = o.node.json;
  const Signer signer = SignerOrFail(command, client, o.key_file, json);
  const std::string tx = build(signer.builder, signer.key, signer.next_nonce);
  v1::TxResponse committed = ValueOrFail(command, node::SubmitAndWait(client, tx, milliseconds(o.wait_ms)), json);
  if (committed.code() != "OK") {
    Fail(command, Status(committed.code(), "committed in block " + std::to_string(committed.height()) +
                                               " but rejected: " + committed.message()),
         json);
  }
  return committed;
}

void PrintProposal(const v1::ProposalResponse& p) {
  std::printf("proposal         %s\n", p.id().c_str());
  std::printf("law              %s%s, from %s\n", ledger::AmendmentTitle(p.law(), p.law_version()).c_str(),
              p.replaces_version() ? (" (replaces v" + std::to_string(p.replaces_version()) + ")").c_str()
                                   : " (a new law)",
              p.file().c_str());
  std::printf("text sha256      %s\n", p.source_hash().c_str());
  std::printf("proposed by      %s at height %llu\n", p.proposer().c_str(), U(p.proposed_height()));
  std::printf("voting           closes with week %llu (the chain is in week %llu)\n", U(p.closes_week()), U(p.week()));
  switch (p.status()) {
    case v1::PROPOSAL_STATUS_OPEN: std::printf("status           open\n"); break;
    case v1::PROPOSAL_STATUS_ADOPTED:
      std::printf("status           adopted at height %llu, in force from height %llu\n", U(p.tallied_height()),
                  U(p.tallied_height() + 1));
      break;
    default: std::printf("status           rejected at height %llu\n", U(p.tallied_height())); break;
  }
  std::printf("tally            yes %llu, no %llu, abstain %llu (members; %llu voters)", U(p.yes()), U(p.no()),
              U(p.abstain()), U(p.votes()));
  if (p.status() != v1::PROPOSAL_STATUS_OPEN) std::printf(", electorate %llu", U(p.electorate()));
  std::printf("\n");
  if (!p.reason().empty()) std::printf("reason           %s\n", p.reason().c_str());
  if (p.law_runs_size() > 0) std::printf("laws\n");
  for (const std::string& line : node::LawRunLines(p.law_runs(), /*with_trace=*/true)) {
    std::printf("%s\n", line.c_str());
  }
}

// The vote's proof checked here against the state root the node gave: true when it shows the
// record the node returned (or, for no vote, its absence).
bool ProofHolds(const v1::VoteResponse& v) {
  Result<ledger::StateProof> proof = ledger::DecodeStateProof(AsBytes(v.proof()));
  std::optional<Bytes> root = FromHex(v.state_root());
  std::optional<ledger::Hash> root_hash = root ? ledger::HashFromBytes(*root) : std::nullopt;
  if (!proof.ok() || !root_hash) return false;
  Result<std::optional<ledger::Hash>> value =
      ledger::VerifyStateProof(*root_hash, ledger::Sha256(AsBytes(v.record_key())), *proof);
  if (!value.ok()) return false;
  if (!v.present()) return !value->has_value();
  return value->has_value() && **value == ledger::Sha256(AsBytes(v.record()));
}

void RunPropose(const ProposalOptions& o) {
  const char* command = "propose law";
  const bool json = o.node.json;
  const std::string source = ValueOrFail(command, ReadFileBytes(o.file, ledger::kMaxTxBytes), json);
  const std::string file_name = o.file_name.empty() ? o.file : o.file_name;
  // The ledger's own checks of the module, before anything is signed.
  const std::shared_ptr<const contracts::Law> law =
      ValueOrFail(command, ledger::LoadAmendment(file_name, source), json);
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  const v1::TxResponse committed = SignSubmitWait(
      command, *client, o, [&](const ledger::TxBuilder& b, const ledger::KeyPair& key, uint64_t nonce) {
        return b.ProposeAmendment(key, nonce, file_name, source, o.closes_week);
      });
  const ledger::Hash id = *ParseProposalId(committed.tx_id());
  const v1::ProposalResponse proposal = ValueOrFail(command, client->GetProposal(id), json);
  if (json) {
    std::printf("%s\n", ToJsonLine(proposal).c_str());
    return;
  }
  std::printf("proposed %s in block %llu: proposal %s\n", law->title().c_str(), U(committed.height()),
              committed.tx_id().c_str());
  PrintProposal(proposal);
}

void RunVote(const ProposalOptions& o) {
  const char* command = "vote";
  const bool json = o.node.json;
  const ledger::Hash id = ValueOrFail(command, ParseProposalId(o.proposal), json);
  const v1::VoteChoice choice = ValueOrFail(command, ParseChoice(o.choice), json);
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  const v1::TxResponse committed = SignSubmitWait(
      command, *client, o,
      [&](const ledger::TxBuilder& b, const ledger::KeyPair& key, uint64_t nonce) { return b.Vote(key, nonce, id, choice); });
  const v1::ProposalResponse proposal = ValueOrFail(command, client->GetProposal(id), json);
  if (json) {
    std::printf("%s\n", ToJsonLine(committed).c_str());
    return;
  }
  std::printf("voted %s on proposal %s in block %llu (tx %s)\n", ChoiceName(choice).c_str(), o.proposal.c_str(),
              U(committed.height()), committed.tx_id().c_str());
  std::printf("tally now        yes %llu, no %llu, abstain %llu (members; %llu voters)\n", U(proposal.yes()),
              U(proposal.no()), U(proposal.abstain()), U(proposal.votes()));
}

void RunQuery(const ProposalOptions& o) {
  const char* command = "query proposal";
  const bool json = o.node.json;
  const ledger::Hash id = ValueOrFail(command, ParseProposalId(o.proposal), json);
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  if (o.voter.empty()) {
    const v1::ProposalResponse proposal = ValueOrFail(command, client->GetProposal(id), json);
    if (json) {
      std::printf("%s\n", ToJsonLine(proposal).c_str());
    } else {
      PrintProposal(proposal);
    }
    return;
  }
  const ledger::PublicKey voter = ValueOrFail(command, ResolvePublicKey(o.voter), json);
  const v1::VoteResponse vote = ValueOrFail(command, client->GetVote(id, voter), json);
  const bool holds = ProofHolds(vote);
  if (json) {
    std::printf("%s\n", ToJsonLine(vote).c_str());
  } else {
    if (vote.present()) {
      std::printf("vote of %s on %s: %s, counting %llu member%s, at height %llu%s\n", vote.voter().c_str(),
                  vote.proposal().c_str(), ChoiceName(vote.vote().choice()).c_str(), U(vote.vote().weight()),
                  vote.vote().weight() == 1 ? "" : "s", U(vote.vote().height()),
                  vote.vote().replaced_delegate_vote() ? " (replacing the delegate's vote for this member)" : "");
    } else {
      std::printf("no vote of %s on %s is recorded\n", vote.voter().c_str(), vote.proposal().c_str());
    }
    std::printf("proof at height %llu: %s\n", U(vote.height()),
                holds ? ("verifies against state root " + vote.state_root()).c_str() : "DOES NOT VERIFY");
  }
  if (!holds) Fail(command, Status("BAD_PROOF", "the node's proof does not verify against its state root"), json);
}

void AddSignerOptions(CLI::App& cmd, ProposalOptions& o, const char* who) {
  cmd.add_option("--key", o.key_file, who)->required();
  cmd.add_option("--wait-ms", o.wait_ms, "How long to wait for the transaction's commit")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{30'000}));
}

}  // namespace

void AddProposalCommands(CLI::App& app) {
  static ProposalOptions o;
  CLI::App* propose = app.add_subcommand("propose", "Propose an amendment for the delegates and members to vote on");
  propose->require_subcommand(1);
  CLI::App* law = propose->add_subcommand(
      "law", "Propose a law module (a new law, or a higher version of one in force), voted on until a week\n"
             "closes; checked here first as the ledger checks it (it loads and passes its own tests)");
  law->add_option("FILE", o.file, "The module's file")->required();
  law->add_option("--file-name", o.file_name,
                  "The file name the law's explanations cite, 1 to 256 bytes (default: FILE as given)");
  law->add_option("--closes-week", o.closes_week,
                  "Voting ends when this week closes: after the current week, at most 8 weeks later")
      ->required();
  AddSignerOptions(*law, o, "The delegate's key file");
  AddNodeOptions(*law, o.node);
  law->callback([] { RunPropose(o); });

  CLI::App* vote = app.add_subcommand(
      "vote", "Vote on an open proposal: a delegate votes for its constituents who have not voted\n"
              "themselves; a member's own vote replaces its delegate's for that member");
  vote->add_option("PROPOSAL_ID", o.proposal, "The proposal's id (64 hex digits)")->required();
  vote->add_option("CHOICE", o.choice, "yes, no or abstain")->required();
  AddSignerOptions(*vote, o, "The voter's key file (a delegate or a member)");
  AddNodeOptions(*vote, o.node);
  vote->callback([] { RunVote(o); });

  CLI::App* query = app.get_subcommand("query");
  CLI::App* show = query->add_subcommand(
      "proposal", "A proposal: what it would enact, its tally, and once the week closed, the outcome and why");
  show->add_option("ID", o.proposal, "The proposal's id (64 hex digits)")->required();
  show->add_option("--voter", o.voter,
                   "Show this voter's vote (or that there is none) with its state proof, checked here: hex or a key "
                   "file");
  AddNodeOptions(*show, o.node);
  show->callback([] { RunQuery(o); });
}

}  // namespace gongshe::cli
