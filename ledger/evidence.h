#pragma once
// Equivocation evidence on the ledger. A validator that signs two different proposals, or two
// votes for different blocks, in one consensus round is caught by whoever sees both; the consensus
// core builds a gongshe.v1.Evidence (both signed statements) and a leader puts it in a block
// (Block.evidence, committed by the header's evidence_root). The ledger records each offence once.
//
// The split of checks (ledger/README.md, "Evidence"): the ledger checks the evidence's shape and
// that its offence is not recorded yet, deterministically and from the block alone; it does NOT
// check the signatures or that the key was a member of the epoch's validator set — the ledger
// library does not depend on consensus/. Every validator checks both before it votes for a block
// (node/evidence.h), as it checks the commit certificate, so a certified block carries only
// evidence that verifies; an auditor re-checks them with consensus::VerifyEvidence.
//
// State records (ledger/state.h):
//   'x' pubkey be64(epoch) be64(round) u8(kind)   EvidenceRecord: the offence, the height that
//                                                 recorded it, its sequence number, the bytes
//   'g' be64(sequence)                            EvidenceIndex: the offence key of evidence
//                                                 number `sequence` (0, 1, ...), for listing
// ChainState.evidence_count is the number recorded.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/consensus.pb.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "ledger/kv.h"

namespace gongshe::ledger {

// At most this many evidence items per block, each at most kMaxEvidenceBytes (two signed
// statements and a key need about 400 bytes). Equivocation is rare; a leader holding more waits
// for the next blocks.
inline constexpr size_t kMaxBlockEvidence = 16;
inline constexpr size_t kMaxEvidenceBytes = 1024;
inline constexpr uint32_t kEvidenceVersion = 1;

// What one evidence accuses: a validator key, in an epoch and round, of one kind of equivocation.
// The ledger records each offence once, whichever pair of statements proves it.
struct Offence {
  PublicKey validator{};
  uint64_t epoch = 0;
  uint64_t round = 0;
  v1::Evidence::Kind kind = v1::Evidence::KIND_UNSPECIFIED;
};

// Checks evidence's shape: no unknown fields, version 1, a known kind, a 32-byte validator key,
// both statements, one round (> 0), 32-byte block ids that differ, 64-byte signatures, and for
// votes 32-byte parent ids. BAD_EVIDENCE otherwise. Signatures are not checked (see above);
// consensus::VerifyEvidence checks them after this.
Status CheckEvidenceShape(const v1::Evidence& evidence);

// Parses evidence bytes (at most kMaxEvidenceBytes) and checks their shape (above).
Result<v1::Evidence> ParseEvidence(std::string_view bytes);

// The offence of evidence that passed ParseEvidence.
Offence OffenceOf(const v1::Evidence& evidence);

// The state keys of the records above.
std::string EvidenceRecordKey(const Offence& offence);
std::string EvidenceIndexKey(uint64_t sequence);

// The RFC 9162 root over a block's evidence bytes. The header's evidence_root is this root when
// the block carries evidence, and empty when it carries none (so headers without evidence hash as
// they did before evidence existed).
Hash EvidenceRoot(const google::protobuf::RepeatedPtrField<std::string>& evidence);

// The header field for `evidence`: empty for none, else the root's 32 bytes.
std::string EvidenceRootField(const google::protobuf::RepeatedPtrField<std::string>& evidence);

// Checks a block's evidence against the state before it: at most kMaxBlockEvidence items, each
// passing ParseEvidence (BAD_EVIDENCE), no offence twice in the block and none already recorded
// (DUPLICATE_EVIDENCE). Returns the offences in block order. Writes nothing. The header's
// evidence_root is checked with the rest of the header (block_executor.cc).
Result<std::vector<Offence>> CheckBlockEvidence(const v1::Block& block, const KvReader& state);

// Records the offences CheckBlockEvidence returned for `block` at `height`, numbered from
// `first_sequence`; returns the next sequence number (ChainState.evidence_count after the block).
uint64_t RecordBlockEvidence(const v1::Block& block, const std::vector<Offence>& offences, uint64_t height,
                             uint64_t first_sequence, KvWriter& out);

// The recorded evidence of an offence; nullopt when none was recorded.
std::optional<v1::EvidenceRecord> RecordedEvidence(const KvReader& state, const Offence& offence);

// Recorded evidence number `from` onwards in the order recorded, at most `limit` of them.
std::vector<v1::EvidenceRecord> ListRecordedEvidence(const KvReader& state, uint64_t from, size_t limit);

}  // namespace gongshe::ledger
