#pragma once
// Block execution as a function of the state before it: checks the header against that state,
// runs epoch expiry, applies every transaction (an invalid one is recorded as failed with its
// reason and changes nothing; the block stays valid), and updates the state commitment and the
// history tree. It reads through a KvReader and writes through an Overlay, so the caller decides
// when and how the whole effect is committed (one atomic RocksDB write in Ledger).

#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "ledger/kv.h"

namespace gongshe::ledger {

inline constexpr size_t kMaxHeaderBytes = 4 * 1024;
inline constexpr size_t kMaxBlockTxs = 10'000;
inline constexpr size_t kMaxBlockBytes = 16 * 1024 * 1024;

// What the header of the next block must carry, read from the state before it.
struct ChainTip {
  v1::ChainConfig config;
  v1::ChainState state;  // height, time and epoch of the last applied block
  Hash block_hash;       // of the last applied block; the genesis hash at height 0
  Hash state_root;
  Hash history_root;  // over blocks 0 .. state.height
  Hash validator_set_hash;
  Hash law_set_hash;
};

ChainTip ReadChainTip(const KvReader& reader);

// The RFC 9162 root over a block's transaction bytes (the header's tx_root).
Hash TxRoot(const google::protobuf::RepeatedPtrField<std::string>& txs);

// The SHA-256 id of each of a block's transactions, in order.
std::vector<Hash> TxIds(const v1::Block& block);

// The hash of the last applied block is kept outside the state (so the state root depends only on
// what transactions did), under this key in KeySpace::kMeta; the history tree commits to it.
std::string LastBlockHashKey();

// Where the law runs of a member's closing of a week ("week_closed") or an epoch ("epoch_closed")
// are found: under this key in KeySpace::kExplanation, the big-endian height of the block whose
// results (BlockResults.closings) hold them. ExecuteBlock writes it for every closing that kept
// law runs. Kept beside the state, not in it: it is derived, and replaying the blocks rebuilds it.
std::string ClosingIndexKey(std::string_view hook, const PublicKey& member, uint64_t period);

// The next block on top of `tip`, with every header field derived from the tip, `txs` and
// `evidence` (serialised gongshe.v1.Evidence, ledger/evidence.h; none by default).
v1::Block MakeBlock(const ChainTip& tip, std::vector<std::string> txs, int64_t time_ms,
                    const PublicKey& proposer, uint64_t round, std::vector<std::string> evidence = {});

// Signature results for a block's transactions in order (true = the signature and co-signature
// verify), computed by the caller: in parallel, or from a cache of admitted transactions. An entry
// for a transaction that does not decode is ignored.
using SignatureResults = std::vector<bool>;

// Checks every signature of `block` on this thread. Undecodable transactions get false.
SignatureResults VerifyBlockSignatures(const v1::Block& block, std::string_view chain_id);

// Applies `block` to the state read from `reader`, writing its whole effect to `out` (an overlay
// over `reader`): the evidence it carries (ledger/evidence.h), epoch expiry, the closings due
// (state_machine.h), the transactions, the state commitment, the history tree and the closing
// index. A block whose header does not fit the tip is refused (BAD_BLOCK), and so is one whose
// evidence is malformed (BAD_EVIDENCE) or names an offence twice or one recorded already
// (DUPLICATE_EVIDENCE); nothing is written then. `signatures` must have one entry per transaction.
Result<v1::BlockResults> ExecuteBlock(const v1::Block& block, const SignatureResults& signatures,
                                      Overlay& out);

}  // namespace gongshe::ledger
