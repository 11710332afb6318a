#pragma once
// Equivocation evidence in the node (node/README.md, "Evidence"): the checks a validator makes
// before it votes for a block carrying evidence, and the bounded pool of evidence its consensus
// core reported that no block has recorded yet.
//
// The ledger checks the shape of evidence and records each offence once (ledger/evidence.h); it
// cannot check signatures or membership (it does not depend on consensus/). This is where they
// are checked: a block whose evidence fails here is invalid, so a certified block carries only
// evidence that verifies against the validator set of its epoch.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "consensus/signer.h"
#include "consensus/types.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/consensus.pb.h"
#include "ledger/kv.h"

namespace gongshe::node {

// Evidence of `epoch` (WRONG_EPOCH otherwise) against a member of `set` (NOT_A_VALIDATOR), both
// signatures valid (consensus::VerifyEvidence: BAD_EVIDENCE, BAD_SIGNATURE).
Status VerifyEvidenceInEpoch(const v1::Evidence& evidence, uint64_t epoch, const consensus::ValidatorSet& set,
                             std::string_view chain_id, const consensus::Verifier& verifier);

// Every evidence item of `block` parses (ledger::ParseEvidence) and passes VerifyEvidenceInEpoch.
// The error names the item.
Status VerifyBlockEvidence(const v1::Block& block, uint64_t epoch, const consensus::ValidatorSet& set,
                           std::string_view chain_id, const consensus::Verifier& verifier);

// Evidence waiting for a block, keyed by offence (ledger::EvidenceRecordKey): one item per offence,
// at most `max_items` (beyond, new evidence is dropped: its offender keeps offending in view of
// others, and any validator may report it). Iteration is in key order, so a proposal's choice is
// deterministic. Not thread-safe: the node loop owns it.
class EvidencePool {
 public:
  explicit EvidencePool(size_t max_items) : max_items_(max_items) {}

  enum class AddResult { kAdded, kPending, kRecorded, kFull, kMalformed };
  // Adds serialised evidence unless it is malformed, its offence is pending already or is
  // recorded in `committed` (the committed state), or the pool is full.
  AddResult Add(std::string evidence, const ledger::KvReader& committed);

  // Up to `max_items` pending evidence whose offence `state` does not record, in key order. For
  // a proposal, `state` is the state after the block's parent: it holds what the committed state
  // and the uncommitted ancestors recorded.
  std::vector<std::string> Select(const ledger::KvReader& state, size_t max_items) const;

  // Drops the pending evidence whose offence `committed` records. Returns how many.
  size_t DropRecorded(const ledger::KvReader& committed);

  size_t size() const { return pending_.size(); }

 private:
  size_t max_items_;
  std::map<std::string, std::string> pending_;  // offence record key -> evidence bytes
};

std::string_view ToString(EvidencePool::AddResult result);

}  // namespace gongshe::node
