#pragma once
// The answers of the node API's proposal endpoints (node/API.md), read from one committed
// snapshot: a law amendment with its tally and outcome, and one voter's vote with a state proof of
// its presence or absence (ledger/amendments.h). Kept apart from the HTTP plumbing (http_api.cc),
// which parses the request and maps NOT_FOUND to 404.

#include "common/status.h"
#include "gongshe/v1/api.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "ledger/ledger.h"

namespace gongshe::node {

// NOT_FOUND when there is no proposal `id`.
Result<v1::ProposalResponse> ProposalAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& id);

// The vote of `voter` on proposal `id`, present or not, with its proof against the state root.
// NOT_FOUND when there is no proposal `id`.
Result<v1::VoteResponse> VoteAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& id,
                                    const ledger::PublicKey& voter);

}  // namespace gongshe::node
