#pragma once
// Block sync: how a node that was down, or is new, gets the committed blocks it lacks from a peer
// and proves them before applying them (node/README.md, "Block sync").
//
// A response is a run of consecutive committed blocks ending at one that carries a commit
// certificate. The certificate (2f+1 commit signatures of the validator set) proves the last
// block's consensus id; each consensus block names its parent's id, so the run is proved back to
// the requester's own head. Every ledger block must be the payload its consensus block commits to
// (payload hash = hash of the ledger header). Nothing in a response is trusted before that.

#include <string_view>
#include <vector>

#include "common/status.h"
#include "consensus/signer.h"
#include "consensus/types.h"
#include "gongshe/v1/peer.pb.h"
#include "ledger/ledger.h"

namespace gongshe::node {

inline constexpr size_t kMaxSyncBlocks = 256;              // per response
inline constexpr size_t kMaxSyncBytes = size_t{24} << 20;  // per response, below the frame bound

// Node records (ledger NodeRecords) holding each committed consensus block without its payload.
std::string CommittedBlockRecordKey(uint64_t height);

// The consensus id of `block` (consensus/types.h ComputeBlockId); nullopt when its hash fields are
// malformed.
std::optional<ledger::Hash> ConsensusBlockId(const v1::ConsensusBlock& block, std::string_view chain_id);

// The consensus block committed at `height`, payload restored from the ledger block; nullopt if
// the ledger does not hold that height.
std::optional<v1::ConsensusBlock> CommittedConsensusBlock(const ledger::Ledger& ledger, uint64_t height);

// The response to a request for blocks from `from_height`: the blocks up to and including the first
// certified height, within the bounds above. Empty when the ledger holds no such run.
v1::SyncResponse BuildSyncResponse(const ledger::Ledger& ledger, uint64_t from_height);

struct VerifiedBlock {
  v1::ConsensusBlock consensus;  // payload omitted, as stored
  v1::Block block;
};

// Checks `response` against our head (its consensus id and height) and the validator set of those
// heights: certificate, id chain, heights, payload hashes. Returns the blocks to apply in order.
Result<std::vector<VerifiedBlock>> VerifySyncResponse(const v1::SyncResponse& response, const ledger::Hash& head_id,
                                                      uint64_t head_height, const consensus::ValidatorSet& validators,
                                                      std::string_view chain_id, const consensus::Verifier& verifier);

}  // namespace gongshe::node
