#include "node/proposal_api.h"

#include "ledger/state.h"
#include "ledger/state_tree.h"

namespace gongshe::node {
namespace {

std::string Hex(const std::string& bytes) { return ToHex(AsBytes(bytes)); }

Status NoProposal(const ledger::Hash& id) { return Status("NOT_FOUND", "there is no proposal " + ToHex(id)); }

}  // namespace

Result<v1::ProposalResponse> ProposalAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& id) {
  const ledger::StateView state(snapshot.state());
  std::optional<v1::ProposalRecord> proposal = state.Proposal(id);
  if (!proposal) return NoProposal(id);
  v1::ProposalResponse response;
  response.set_height(snapshot.height());
  response.set_week(state.ChainState().week());
  response.set_id(ToHex(id));
  response.set_proposer(Hex(proposal->proposer()));
  response.set_law(proposal->law());
  response.set_law_version(proposal->law_version());
  response.set_replaces_version(proposal->replaces_version());
  response.set_file(proposal->file());
  response.set_source_hash(Hex(proposal->source_hash()));
  response.set_source(proposal->source());
  response.set_proposed_height(proposal->proposed_height());
  response.set_closes_week(proposal->closes_week());
  response.set_status(proposal->status());
  response.set_yes(proposal->yes());
  response.set_no(proposal->no());
  response.set_abstain(proposal->abstain());
  response.set_votes(proposal->votes());
  response.set_electorate(proposal->electorate());
  response.set_reason(proposal->reason());
  *response.mutable_law_runs() = proposal->law_runs();
  response.set_tallied_height(proposal->tallied_height());
  return response;
}

Result<v1::VoteResponse> VoteAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& id,
                                    const ledger::PublicKey& voter) {
  const ledger::StateView state(snapshot.state());
  if (!state.Proposal(id)) return NoProposal(id);
  const std::string record_key = ledger::VoteKey(id, voter);
  v1::VoteResponse response;
  response.set_proposal(ToHex(id));
  response.set_voter(ToHex(voter));
  response.set_height(snapshot.height());
  response.set_state_root(ToHex(ledger::StateRoot(snapshot.state())));
  response.set_record_key(record_key);
  std::optional<std::string> record = snapshot.state().Get(record_key);
  response.set_present(record.has_value());
  if (record) {
    GS_ASSERT(response.mutable_vote()->ParseFromString(*record));  // a stored record parses
    response.set_record(std::move(*record));
  }
  response.set_proof(
      ledger::EncodeStateProof(ledger::ProveState(snapshot.state(), ledger::Sha256(AsBytes(record_key)))));
  return response;
}

}  // namespace gongshe::node
