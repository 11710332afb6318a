#pragma once
// Typed access to the replicated state records. Each record is a protobuf message stored under a
// key in KeySpace::kStateValue; the state root commits to SHA-256(key) -> SHA-256(record bytes).
//
// Key layout (after the 'S' space byte):
//   'a' pubkey                      Account
//   'b' pubkey class                Balance of one voucher class
//   'c' class be64(expiry_epoch)    Cohort
//   'e' class be64(epoch)           EpochIssuance: issued in an epoch
//   'w' pubkey be64(week)           AttendanceWeek
//   'm' be64(chunk)                 KeyChunk of the member list
//   'r' be64(week) be64(chunk)      KeyChunk of a week's worker list
//   'l' u8(len) name be64(version)  LawRecord
//   's'                             LawSet
//   'y'                             HookState
//   'k'                             ChainConfig
//   'h'                             ChainState
//   'v'                             ValidatorSet
//   'd' be64(epoch) category        RedemptionTally (category: 1-64 bytes, the rest of the key)
//   'i' sha256                      PlanBlob: a plan input or plan sent in chunks
//   'j' sha256 be64(index)          PlanChunk
//   'p' be64(epoch)                 PlanRecord: the plan in force for the epoch
//   'x' pubkey be64(epoch) be64(round) u8(kind)  EvidenceRecord (ledger/evidence.h)
//   'g' be64(sequence)              EvidenceIndex: the offence key of evidence number `sequence`
//   'o' id                          ProposalRecord: a law amendment proposed (id: its tx id)
//   'u' id voter                    VoteRecord: one voter's vote on a proposal
//   't' id delegate                 ConstituencyVotes: the delegate's constituents voting themselves
//   'q' be64(week)                  ProposalWeek: the proposals closing in a week
//   'n' u8(len) name                OpenAmendment: the open proposal for a law (name: 1-64 bytes)

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"
#include "ledger/kv.h"

namespace gongshe::ledger {

// A state key held inline, for hot paths that look keys up without a heap allocation. Its bytes
// are exactly those of the std::string form below.
class InlineStateKey {
 public:
  static constexpr size_t kMaxBytes = 2 + 1 + 64 + 8;  // 'S', tag, u8, law name, be64: the longest layout
  std::string_view view() const { return {bytes_.data(), size_}; }
  std::string str() const { return std::string(view()); }
  bool operator==(const InlineStateKey& other) const { return view() == other.view(); }

  static InlineStateKey Account(const PublicKey& key);
  static InlineStateKey Balance(const PublicKey& member, v1::VoucherClass voucher_class);
  static InlineStateKey Cohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch);
  static InlineStateKey Attendance(const PublicKey& member, uint64_t week);
  static InlineStateKey EpochIssuance(v1::VoucherClass voucher_class, uint64_t epoch);
  static InlineStateKey MemberChunk(uint64_t chunk);
  static InlineStateKey WorkerChunk(uint64_t week, uint64_t chunk);
  static InlineStateKey HookState();
  static InlineStateKey RedemptionTally(uint64_t epoch, std::string_view category);  // category: 1-64 bytes
  static InlineStateKey PlanBlob(const Hash& sha256);
  static InlineStateKey PlanChunk(const Hash& sha256, uint64_t index);
  static InlineStateKey Plan(uint64_t epoch);
  static InlineStateKey Law(std::string_view name, int64_t law_version);  // name: 1-64 bytes
  static InlineStateKey LawSet();
  static InlineStateKey Proposal(const Hash& id);
  static InlineStateKey Vote(const Hash& proposal, const PublicKey& voter);
  static InlineStateKey ConstituencyVotes(const Hash& proposal, const PublicKey& delegate);
  static InlineStateKey ProposalWeek(uint64_t week);
  static InlineStateKey OpenAmendment(std::string_view law);  // law: 1-64 bytes

 private:
  InlineStateKey(char tag, ByteView rest);
  void Append(ByteView rest);
  void AppendByte(uint8_t b);
  void AppendBigEndian(uint64_t v);

  std::array<char, kMaxBytes> bytes_{};
  uint8_t size_ = 0;
};

std::string AccountKey(const PublicKey& key);
std::string BalanceKey(const PublicKey& member, v1::VoucherClass voucher_class);
std::string CohortKey(v1::VoucherClass voucher_class, uint64_t expiry_epoch);
std::string AttendanceKey(const PublicKey& member, uint64_t week);
std::string ChainConfigKey();
std::string ChainStateKey();
std::string ValidatorSetKey();
std::string LawKey(std::string_view name, int64_t law_version);  // name: 1-255 bytes
std::string LawSetKey();
std::string HookStateKey();
std::string ProposalKey(const Hash& id);
std::string VoteKey(const Hash& proposal, const PublicKey& voter);

// Keys per KeyChunk of the member and worker lists: entry i is key i % kKeysPerChunk of chunk
// i / kKeysPerChunk, so appending rewrites one chunk of at most 4 KiB.
inline constexpr uint64_t kKeysPerChunk = 128;

// Reads records through a reader (committed state, a snapshot or an overlay). A record that is
// present but does not parse means the store is corrupt: that is an invariant violation, not an
// input error, so it aborts.
class StateView {
 public:
  explicit StateView(const KvReader& reader) : reader_(reader) {}

  std::optional<v1::Account> Account(const PublicKey& key) const;

  // Empty when the member holds nothing of that class and was issued none lately.
  v1::Balance Balance(const PublicKey& member, v1::VoucherClass voucher_class) const;

  // All-zero when nothing was ever issued into the cohort.
  v1::Cohort Cohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch) const;

  uint64_t AttendanceMinutes(const PublicKey& member, uint64_t week) const;

  // Written at genesis; always present afterwards.
  v1::ChainConfig ChainConfig() const;
  v1::ChainState ChainState() const;
  v1::ValidatorSet ValidatorSet() const;
  v1::LawSet LawSet() const;
  v1::HookState HookState() const;

  // A stored version of a law; nullopt when that version was never enacted.
  std::optional<v1::LawRecord> Law(std::string_view name, int64_t law_version) const;

  // All-zero when nothing of the class was issued in the epoch.
  v1::EpochIssuance EpochIssuance(v1::VoucherClass voucher_class, uint64_t epoch) const;

  // Milli-credits redeemed for `category` in `epoch` (every class); 0 when none.
  int64_t RedeemedInEpoch(uint64_t epoch, std::string_view category) const;
  // Plan data (tx PlanData) named by its SHA-256, and one of its chunks; nullopt when absent.
  std::optional<v1::PlanBlob> PlanBlob(const Hash& sha256) const;
  std::optional<v1::PlanChunk> PlanChunk(const Hash& sha256, uint64_t index) const;
  // The plan in force for `epoch`; nullopt when none was committed.
  std::optional<v1::PlanRecord> Plan(uint64_t epoch) const;
  // Law amendments (ledger/README.md, "Amendments"); nullopt when absent.
  std::optional<v1::ProposalRecord> Proposal(const Hash& id) const;
  std::optional<v1::VoteRecord> Vote(const Hash& proposal, const PublicKey& voter) const;
  // The proposals closing in `week`, in the order proposed; empty when none.
  v1::ProposalWeek ProposalWeek(uint64_t week) const;

  // The stored bytes of a record, for hashing exactly what is committed.
  std::optional<std::string> RawRecord(const std::string& key) const { return reader_.Get(key); }

 private:
  template <typename M>
  std::optional<M> Read(const std::string& key) const;
  template <typename M>
  M ReadRequired(const std::string& key) const;

  const KvReader& reader_;
};

// Reads records as StateView does and writes them through a writer that normally views the same
// overlay as the reader.
class State : public StateView {
 public:
  State(const KvReader& reader, KvWriter& writer) : StateView(reader), writer_(writer) {}

  void PutAccount(const v1::Account& account);
  // Writing an empty balance (no lots, no recent issuance) deletes it.
  void PutBalance(const PublicKey& member, v1::VoucherClass voucher_class, const v1::Balance& balance);
  void PutCohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch, const v1::Cohort& cohort);
  void PutAttendanceMinutes(const PublicKey& member, uint64_t week, uint64_t minutes);
  void PutChainConfig(const v1::ChainConfig& config);
  void PutChainState(const v1::ChainState& state);
  void PutValidatorSet(const v1::ValidatorSet& set);
  void PutLawSet(const v1::LawSet& set);
  void PutHookState(const v1::HookState& hooks);
  void PutLaw(const v1::LawRecord& law);

 private:
  void Write(const std::string& key, const google::protobuf::MessageLite& record);

  KvWriter& writer_;
};

// Folds every state record written to `out` so far into the state commitment (its nodes are
// written to `out` too) and returns the new state root.
Hash CommitStateWrites(Overlay& out);

}  // namespace gongshe::ledger
