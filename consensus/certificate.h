#pragma once
// Checks of signed consensus objects that need nothing but the validator set and the chain id:
// quorum and timeout certificates (used by the core), commit certificates (what a light client
// checks) and equivocation evidence (what the ledger records). Every check is deterministic and
// returns a Status with a stable code; none trusts its input.

#include <optional>
#include <string_view>

#include "common/status.h"
#include "consensus/signer.h"
#include "consensus/types.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/consensus.pb.h"

namespace gongshe::consensus {

// A QC of `epoch` with at least quorum power of valid vote signatures from distinct members
// (indices strictly increasing), and a valid commit signature from each signer exactly when
// QcCarriesCommit(qc), over the block QcCommitTarget(qc) names. Round 0 (the epoch root's implicit
// QC) is rejected here; the core accepts it only for its own root.
Status VerifyQuorumCert(const v1::QuorumCert& qc, uint64_t epoch, const ValidatorSet& set, std::string_view chain_id,
                        const Verifier& verifier);

// True when the votes of this QC also commit a block: its parent is one round older and not the
// epoch root.
inline bool QcCarriesCommit(const v1::QuorumCert& qc) {
  return qc.parent_round() > 0 && qc.parent_round() + 1 == qc.round();
}

// The block a QC's commit signatures certify.
struct CommitTarget {
  BlockId id{};
  uint64_t height = 0;
  uint64_t round = 0;
};

// The parent, or the block the QC names in commit_block_id (a block carrying a validator-set
// change, below a parent that is one of its payload-free descendants); nullopt when the QC
// carries no commit or its commit_block_id is malformed.
std::optional<CommitTarget> QcCommitTarget(const v1::QuorumCert& qc);

// A TC of `epoch` with at least quorum power of valid timeout signatures from distinct members
// (indices strictly increasing), each naming a high-QC round below the TC's round.
Status VerifyTimeoutCert(const v1::TimeoutCert& tc, uint64_t epoch, const ValidatorSet& set, std::string_view chain_id,
                         const Verifier& verifier);

// Highest high-QC round named in a TC (the extension rule's bound). The TC must be non-empty.
uint64_t MaxHighQcRound(const v1::TimeoutCert& tc);

// The commit certificate for QcCommitTarget(qc), built from the QC's commit signatures.
// Requires QcCarriesCommit(qc) and a QC that passed VerifyQuorumCert against `set`.
v1::CommitCertificate CommitCertificateFromQc(const v1::QuorumCert& qc, const ValidatorSet& set,
                                              std::string_view chain_id);

// The light-client check: version, chain id, validator_set_hash == hash of `validator_set`, every
// signer a distinct member, every commit signature valid, signer power >= quorum.
Status VerifyCommitCertificate(const v1::CommitCertificate& cert, const v1::ValidatorSet& validator_set,
                               std::string_view chain_id);
Status VerifyCommitCertificate(const v1::CommitCertificate& cert, const ValidatorSet& set, std::string_view chain_id,
                               const Verifier& verifier);

// Two conflicting statements signed by the evidence's validator key in one epoch and round: the
// shape of ledger::CheckEvidenceShape (BAD_EVIDENCE), then both signatures (BAD_SIGNATURE).
// Whether the key was a member of that epoch's set is for the caller to check.
Status VerifyEvidence(const v1::Evidence& evidence, std::string_view chain_id);
Status VerifyEvidence(const v1::Evidence& evidence, std::string_view chain_id, const Verifier& verifier);

}  // namespace gongshe::consensus
