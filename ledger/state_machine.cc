#include "ledger/state_machine.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "contracts/law.h"
#include "ledger/admission.h"
#include "ledger/amendments.h"
#include "ledger/plans.h"
#include "ledger/state.h"
#include "planner/certificate.h"

namespace gongshe::ledger {
namespace {

constexpr uint64_t kKeyBytes = std::tuple_size_v<PublicKey>;

constexpr std::array kVoucherClasses = {v1::VOUCHER_CLASS_GUARANTEE, v1::VOUCHER_CLASS_CONSUMPTION,
                                        v1::VOUCHER_CLASS_SPECIAL};

bool IsVoucherClass(v1::VoucherClass c) {
  return std::find(kVoucherClasses.begin(), kVoucherClasses.end(), c) != kVoucherClasses.end();
}

Status BadField(std::string message) { return {"BAD_FIELD", std::move(message)}; }

// a + b into `out`, or OVERFLOW.
Status CheckedAdd(int64_t a, int64_t b, int64_t& out) {
  if (__builtin_add_overflow(a, b, &out)) return {"OVERFLOW", "a voucher total would overflow"};
  return Status::Ok();
}

// The key a law names a member by: its 64 hex digits. Nullopt for anything else (a law may name
// @alice, who holds no key).
std::optional<PublicKey> MemberKey(std::string_view id) {
  if (id.size() != 64) return std::nullopt;
  std::optional<Bytes> bytes = FromHex(id);
  if (!bytes) return std::nullopt;
  return PublicKeyFromBytes(*bytes);
}

contracts::VoucherClass LawClass(v1::VoucherClass c) {
  GS_ASSERT(IsVoucherClass(c));
  return static_cast<contracts::VoucherClass>(static_cast<int>(c) - 1);
}

v1::VoucherClass LedgerClass(contracts::VoucherClass c) {
  return static_cast<v1::VoucherClass>(static_cast<int>(c) + 1);
}

Result<PublicKey> KeyField(const std::string& bytes, const char* field) {
  std::optional<PublicKey> key = PublicKeyFromBytes(AsBytes(bytes));
  if (!key) return BadField(std::string(field) + " must be a 32-byte public key");
  return *key;
}

// The records one block's transactions read and write, parsed once and kept parsed, with an undo
// log that rolls a rejected transaction back. Lookups hash their keys; Flush walks the records in
// the order they were first read, so no hash order reaches the store.
template <typename M>
class RecordTable {
 public:
  struct Slot {
    std::string key;          // the store key
    std::optional<M> record;  // nullopt: absent (or deleted by an applied transaction)
    bool written = false;     // Flush writes it
  };

  // The slot of `key`, read from `reader` the first time it is asked for.
  Slot& Find(const InlineStateKey& key, const KvReader& reader) {
    auto [it, inserted] = slots_.try_emplace(key);
    Slot& slot = it->second;
    if (inserted) {
      slot.key = key.str();
      std::string scratch;
      std::optional<std::string_view> bytes = reader.GetView(slot.key, scratch);
      if (bytes) {
        M& record = slot.record.emplace();
        // A record that does not parse means the store is corrupt.
        GS_ASSERT(record.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
      }
      order_.push_back(&slot);
    }
    return slot;
  }

  // Replaces the record of `slot`; the old one is kept until Commit or Rollback.
  void Put(Slot& slot, std::optional<M> record) {
    undo_.push_back({&slot, std::move(slot.record), slot.written});
    slot.record = std::move(record);
    slot.written = true;
  }

  void Commit() { undo_.clear(); }

  void Rollback() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
      it->slot->record = std::move(it->record);
      it->slot->written = it->written;
    }
    undo_.clear();
  }

  // Writes every written record: its bytes, or a delete when it is absent.
  void Flush(KvWriter& writer) const {
    for (const Slot* slot : order_) {
      if (!slot->written) continue;
      if (!slot->record) {
        writer.Delete(slot->key);
        continue;
      }
      std::string bytes;
      GS_ASSERT(slot->record->SerializeToString(&bytes));
      writer.Put(slot->key, std::move(bytes));
    }
  }

 private:
  struct Hasher {
    size_t operator()(const InlineStateKey& key) const { return std::hash<std::string_view>()(key.view()); }
  };
  struct Undo {
    Slot* slot;
    std::optional<M> record;
    bool written;
  };

  std::unordered_map<InlineStateKey, Slot, Hasher> slots_;  // node-based: slots never move
  std::vector<Slot*> order_;
  std::vector<Undo> undo_;
};

}  // namespace

// Typed reads and writes with the semantics of State (state.h): an absent balance, cohort or
// epoch issuance reads as empty, writing an empty balance deletes it.
class TxApplier::Records {
 public:
  explicit Records(const KvReader& reader) : reader_(reader) {}

  // Null when the account does not exist. Valid until the account is next written.
  const v1::Account* Account(const PublicKey& key) {
    auto& slot = accounts_.Find(InlineStateKey::Account(key), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutAccount(v1::Account account) {
    std::optional<PublicKey> key = PublicKeyFromBytes(AsBytes(account.public_key()));
    GS_ASSERT(key.has_value());
    accounts_.Put(accounts_.Find(InlineStateKey::Account(*key), reader_), std::move(account));
  }

  v1::Balance Balance(const PublicKey& member, v1::VoucherClass voucher_class) {
    const v1::Balance* balance = BalanceView(member, voucher_class);
    return balance ? *balance : v1::Balance{};
  }
  // Null when there is none. Valid until the balance is next written.
  const v1::Balance* BalanceView(const PublicKey& member, v1::VoucherClass voucher_class) {
    auto& slot = balances_.Find(InlineStateKey::Balance(member, voucher_class), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutBalance(const PublicKey& member, v1::VoucherClass voucher_class, v1::Balance balance) {
    auto& slot = balances_.Find(InlineStateKey::Balance(member, voucher_class), reader_);
    if (balance.lots().empty() && balance.issued().empty()) {
      balances_.Put(slot, std::nullopt);
    } else {
      balances_.Put(slot, std::move(balance));
    }
  }

  v1::Cohort Cohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch) {
    auto& slot = cohorts_.Find(InlineStateKey::Cohort(voucher_class, expiry_epoch), reader_);
    return slot.record ? *slot.record : v1::Cohort{};
  }
  void PutCohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch, const v1::Cohort& cohort) {
    GS_ASSERT(cohort.issued_milli() ==
              cohort.redeemed_milli() + cohort.expired_milli() + cohort.outstanding_milli());
    GS_ASSERT(cohort.outstanding_milli() >= 0 && cohort.redeemed_milli() >= 0 && cohort.expired_milli() >= 0);
    cohorts_.Put(cohorts_.Find(InlineStateKey::Cohort(voucher_class, expiry_epoch), reader_), cohort);
  }

  int64_t EpochIssued(v1::VoucherClass voucher_class, uint64_t epoch) {
    auto& slot = epoch_issued_.Find(InlineStateKey::EpochIssuance(voucher_class, epoch), reader_);
    return slot.record ? slot.record->issued_milli() : 0;
  }
  void PutEpochIssued(v1::VoucherClass voucher_class, uint64_t epoch, int64_t issued_milli) {
    v1::EpochIssuance record;
    record.set_version(1);
    record.set_issued_milli(issued_milli);
    epoch_issued_.Put(epoch_issued_.Find(InlineStateKey::EpochIssuance(voucher_class, epoch), reader_),
                      std::move(record));
  }

  uint64_t AttendanceMinutes(const PublicKey& member, uint64_t week) {
    auto& slot = attendance_.Find(InlineStateKey::Attendance(member, week), reader_);
    return slot.record ? slot.record->minutes() : 0;
  }
  void PutAttendanceMinutes(const PublicKey& member, uint64_t week, uint64_t minutes) {
    v1::AttendanceWeek record;
    record.set_version(1);
    record.set_minutes(minutes);
    attendance_.Put(attendance_.Find(InlineStateKey::Attendance(member, week), reader_), std::move(record));
  }

  // Written at genesis; always present.
  const v1::HookState& HookState() {
    auto& slot = hooks_.Find(InlineStateKey::HookState(), reader_);
    GS_ASSERT(slot.record.has_value());
    return *slot.record;
  }
  void PutHookState(v1::HookState hooks) { hooks_.Put(hooks_.Find(InlineStateKey::HookState(), reader_), std::move(hooks)); }

  // Entry `index` of the list whose chunk `index / kKeysPerChunk` is at `chunk_key`.
  PublicKey ListEntry(const InlineStateKey& chunk_key, uint64_t index) {
    auto& slot = chunks_.Find(chunk_key, reader_);
    const uint64_t offset = index % kKeysPerChunk * kKeyBytes;
    // The lists only grow, and their lengths (HookState) count only appended entries.
    GS_ASSERT(slot.record.has_value() && slot.record->keys().size() >= offset + kKeyBytes);
    std::optional<PublicKey> key = PublicKeyFromBytes(AsBytes(slot.record->keys()).subspan(offset, kKeyBytes));
    GS_ASSERT(key.has_value());
    return *key;
  }
  // Appends `key` as entry `index` (the list's length) of the list chunked at `chunk_key`.
  void AppendToList(const InlineStateKey& chunk_key, uint64_t index, const PublicKey& key) {
    auto& slot = chunks_.Find(chunk_key, reader_);
    v1::KeyChunk chunk = slot.record ? *slot.record : v1::KeyChunk{};
    GS_ASSERT(chunk.keys().size() == index % kKeysPerChunk * kKeyBytes);
    chunk.set_version(1);
    chunk.mutable_keys()->append(AsChars(key));
    chunks_.Put(slot, std::move(chunk));
  }

  // Adds a redemption of `amount` to the tally of `category` in `epoch`, or OVERFLOW.
  Status AddRedeemed(uint64_t epoch, std::string_view category, int64_t amount) {
    auto& slot = tallies_.Find(InlineStateKey::RedemptionTally(epoch, category), reader_);
    v1::RedemptionTally tally = slot.record ? *slot.record : v1::RedemptionTally{};
    int64_t total;
    GS_RETURN_IF_ERROR(CheckedAdd(tally.redeemed_milli(), amount, total));
    tally.set_version(1);
    tally.set_redeemed_milli(total);
    tally.set_redemptions(tally.redemptions() + 1);
    tallies_.Put(slot, std::move(tally));
    return Status::Ok();
  }
  // The tally of a closed epoch, read from the state before the block: redemptions only add to
  // the current epoch's tallies, so a closed epoch's are final (and a plan's demand reads many,
  // which need no slots).
  int64_t RedeemedInClosedEpoch(uint64_t epoch, std::string_view category) const {
    if (category.empty() || category.size() > 64) return 0;
    std::string scratch;
    std::optional<std::string_view> bytes =
        reader_.GetView(InlineStateKey::RedemptionTally(epoch, category).str(), scratch);
    if (!bytes) return 0;
    v1::RedemptionTally tally;
    GS_ASSERT(tally.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())));
    return tally.redeemed_milli();
  }

  // Null when absent. Valid until the record is next written.
  const v1::PlanBlob* PlanBlob(const Hash& sha256) {
    auto& slot = blobs_.Find(InlineStateKey::PlanBlob(sha256), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutPlanBlob(const Hash& sha256, v1::PlanBlob blob) {
    blobs_.Put(blobs_.Find(InlineStateKey::PlanBlob(sha256), reader_), std::move(blob));
  }
  const v1::PlanChunk* PlanChunk(const Hash& sha256, uint64_t index) {
    auto& slot = chunks_data_.Find(InlineStateKey::PlanChunk(sha256, index), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutPlanChunk(const Hash& sha256, uint64_t index, v1::PlanChunk chunk) {
    chunks_data_.Put(chunks_data_.Find(InlineStateKey::PlanChunk(sha256, index), reader_), std::move(chunk));
  }
  const v1::PlanRecord* Plan(uint64_t epoch) {
    auto& slot = plans_.Find(InlineStateKey::Plan(epoch), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutPlan(v1::PlanRecord plan) {
    const uint64_t epoch = plan.epoch();
    plans_.Put(plans_.Find(InlineStateKey::Plan(epoch), reader_), std::move(plan));
  }

  // Written at genesis; always present.
  const v1::LawSet& LawSet() {
    auto& slot = law_sets_.Find(InlineStateKey::LawSet(), reader_);
    GS_ASSERT(slot.record.has_value());
    return *slot.record;
  }
  void PutLawSet(v1::LawSet set) { law_sets_.Put(law_sets_.Find(InlineStateKey::LawSet(), reader_), std::move(set)); }
  bool HasLaw(std::string_view name, int64_t law_version) {
    return laws_.Find(InlineStateKey::Law(name, law_version), reader_).record.has_value();
  }
  void PutLaw(v1::LawRecord law) {
    const InlineStateKey key = InlineStateKey::Law(law.name(), law.law_version());
    laws_.Put(laws_.Find(key, reader_), std::move(law));
  }

  // Null when absent. Valid until the record is next written.
  const v1::ProposalRecord* Proposal(const Hash& id) {
    auto& slot = proposals_.Find(InlineStateKey::Proposal(id), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutProposal(const Hash& id, v1::ProposalRecord proposal) {
    proposals_.Put(proposals_.Find(InlineStateKey::Proposal(id), reader_), std::move(proposal));
  }
  const v1::VoteRecord* Vote(const Hash& proposal, const PublicKey& voter) {
    auto& slot = votes_.Find(InlineStateKey::Vote(proposal, voter), reader_);
    return slot.record ? &*slot.record : nullptr;
  }
  void PutVote(const Hash& proposal, const PublicKey& voter, v1::VoteRecord vote) {
    votes_.Put(votes_.Find(InlineStateKey::Vote(proposal, voter), reader_), std::move(vote));
  }
  // Constituents of `delegate` who voted themselves on `proposal` before it did (0 when none);
  // writing 0 deletes the record.
  uint64_t DirectVotes(const Hash& proposal, const PublicKey& delegate) {
    auto& slot = constituency_votes_.Find(InlineStateKey::ConstituencyVotes(proposal, delegate), reader_);
    return slot.record ? slot.record->direct() : 0;
  }
  void PutDirectVotes(const Hash& proposal, const PublicKey& delegate, uint64_t direct) {
    auto& slot = constituency_votes_.Find(InlineStateKey::ConstituencyVotes(proposal, delegate), reader_);
    if (direct == 0) {
      constituency_votes_.Put(slot, std::nullopt);
      return;
    }
    v1::ConstituencyVotes record;
    record.set_version(1);
    record.set_direct(direct);
    constituency_votes_.Put(slot, std::move(record));
  }
  // The proposals closing in `week`; empty when none.
  const v1::ProposalWeek& ProposalWeek(uint64_t week) {
    static const v1::ProposalWeek kNone;
    auto& slot = proposal_weeks_.Find(InlineStateKey::ProposalWeek(week), reader_);
    return slot.record ? *slot.record : kNone;
  }
  void PutProposalWeek(uint64_t week, v1::ProposalWeek proposals) {
    proposal_weeks_.Put(proposal_weeks_.Find(InlineStateKey::ProposalWeek(week), reader_), std::move(proposals));
  }
  // The open proposal for `law`, if any.
  std::optional<Hash> OpenAmendment(std::string_view law) {
    auto& slot = open_amendments_.Find(InlineStateKey::OpenAmendment(law), reader_);
    if (!slot.record) return std::nullopt;
    std::optional<Hash> id = HashFromBytes(AsBytes(slot.record->proposal()));
    GS_ASSERT(id.has_value());
    return id;
  }
  // Marks `id` as the open proposal for `law`, or (nullopt) none.
  void PutOpenAmendment(std::string_view law, const std::optional<Hash>& id) {
    auto& slot = open_amendments_.Find(InlineStateKey::OpenAmendment(law), reader_);
    if (!id) {
      open_amendments_.Put(slot, std::nullopt);
      return;
    }
    v1::OpenAmendment record;
    record.set_version(1);
    record.set_proposal(std::string(AsChars(*id)));
    open_amendments_.Put(slot, std::move(record));
  }

  // Makes the writes so far final: a later Rollback does not undo them.
  void Commit() {
    accounts_.Commit();
    balances_.Commit();
    cohorts_.Commit();
    epoch_issued_.Commit();
    attendance_.Commit();
    hooks_.Commit();
    chunks_.Commit();
    tallies_.Commit();
    blobs_.Commit();
    chunks_data_.Commit();
    plans_.Commit();
    law_sets_.Commit();
    laws_.Commit();
    proposals_.Commit();
    votes_.Commit();
    constituency_votes_.Commit();
    proposal_weeks_.Commit();
    open_amendments_.Commit();
  }

  // Makes the transaction's writes final and advances `signer`'s nonce: the last write of every
  // applied transaction, which cannot fail, so it needs no undo.
  void CommitWithNonceOf(const PublicKey& signer) {
    auto& slot = accounts_.Find(InlineStateKey::Account(signer), reader_);
    GS_ASSERT(slot.record.has_value());
    slot.record->set_nonce(slot.record->nonce() + 1);
    slot.written = true;
    Commit();
  }

  // Undoes every write since the last Commit.
  void Rollback() {
    accounts_.Rollback();
    balances_.Rollback();
    cohorts_.Rollback();
    epoch_issued_.Rollback();
    attendance_.Rollback();
    hooks_.Rollback();
    chunks_.Rollback();
    tallies_.Rollback();
    blobs_.Rollback();
    chunks_data_.Rollback();
    plans_.Rollback();
    law_sets_.Rollback();
    laws_.Rollback();
    proposals_.Rollback();
    votes_.Rollback();
    constituency_votes_.Rollback();
    proposal_weeks_.Rollback();
    open_amendments_.Rollback();
  }

  void Flush(KvWriter& writer) const {
    accounts_.Flush(writer);
    balances_.Flush(writer);
    cohorts_.Flush(writer);
    epoch_issued_.Flush(writer);
    attendance_.Flush(writer);
    hooks_.Flush(writer);
    chunks_.Flush(writer);
    tallies_.Flush(writer);
    blobs_.Flush(writer);
    chunks_data_.Flush(writer);
    plans_.Flush(writer);
    law_sets_.Flush(writer);
    laws_.Flush(writer);
    proposals_.Flush(writer);
    votes_.Flush(writer);
    constituency_votes_.Flush(writer);
    proposal_weeks_.Flush(writer);
    open_amendments_.Flush(writer);
  }

 private:
  const KvReader& reader_;
  RecordTable<v1::Account> accounts_;
  RecordTable<v1::Balance> balances_;
  RecordTable<v1::Cohort> cohorts_;
  RecordTable<v1::EpochIssuance> epoch_issued_;
  RecordTable<v1::AttendanceWeek> attendance_;
  RecordTable<v1::HookState> hooks_;
  RecordTable<v1::KeyChunk> chunks_;
  RecordTable<v1::RedemptionTally> tallies_;
  RecordTable<v1::PlanBlob> blobs_;
  RecordTable<v1::PlanChunk> chunks_data_;
  RecordTable<v1::PlanRecord> plans_;
  RecordTable<v1::LawSet> law_sets_;
  RecordTable<v1::LawRecord> laws_;
  RecordTable<v1::ProposalRecord> proposals_;
  RecordTable<v1::VoteRecord> votes_;
  RecordTable<v1::ConstituencyVotes> constituency_votes_;
  RecordTable<v1::ProposalWeek> proposal_weeks_;
  RecordTable<v1::OpenAmendment> open_amendments_;
};

namespace {

using Records = TxApplier::Records;
using contracts::Hook;
using contracts::Value;

// The account of `key` if it is an active member: vouchers and attendance go only there.
Result<const v1::Account*> ActiveMember(Records& state, const PublicKey& key) {
  const v1::Account* account = state.Account(key);
  if (!account || account->retired() || account->role() != v1::ROLE_MEMBER) {
    return Status{"BAD_RECIPIENT", "account " + ToHex(key).substr(0, 16) + " is not an active member"};
  }
  return account;
}

Status CheckAmount(int64_t amount) {
  if (amount <= 0 || amount > kMaxAmountMilli) {
    return BadField("amount_milli must be between 1 and " + std::to_string(kMaxAmountMilli));
  }
  return Status::Ok();
}

Status CheckVoucherClass(v1::VoucherClass voucher_class) {
  if (IsVoucherClass(voucher_class)) return Status::Ok();
  return BadField("voucher_class must be guarantee, consumption or special");
}

// Lots that expired at or before `epoch` were already counted as expired by their cohort.
void DropExpiredLots(v1::Balance& balance, uint64_t epoch) {
  auto* lots = balance.mutable_lots();
  lots->erase(std::remove_if(lots->begin(), lots->end(),
                             [epoch](const v1::Lot& lot) { return lot.expiry_epoch() <= epoch; }),
              lots->end());
}

// Issuance older than the window that issued_to answers for is no longer kept.
void DropOldIssuance(v1::Balance& balance, uint64_t epoch) {
  auto* issued = balance.mutable_issued();
  issued->erase(std::remove_if(issued->begin(), issued->end(),
                               [epoch](const v1::IssuedInEpoch& e) { return e.epoch() + kIssuedWindowEpochs <= epoch; }),
                issued->end());
}

// The lot of `balance` expiring at `expiry`, inserted empty in expiry order if absent.
v1::Lot& LotExpiringAt(v1::Balance& balance, uint64_t expiry) {
  auto* lots = balance.mutable_lots();
  int position = 0;
  while (position < lots->size() && lots->Get(position).expiry_epoch() < expiry) ++position;
  if (position < lots->size() && lots->Get(position).expiry_epoch() == expiry) return *lots->Mutable(position);
  lots->Add()->set_expiry_epoch(expiry);
  for (int i = lots->size() - 1; i > position; --i) lots->SwapElements(i, i - 1);
  return *lots->Mutable(position);
}

// What the laws may read of the ledger: the block's records as the steps before left them
// (earlier closings and transactions, and the effects this step already applied; the laws of one
// hook all see the state before any of them acts).
class LedgerHost final : public contracts::LawHost {
 public:
  LedgerHost(Records& state, const BlockContext& context) : state_(state), context_(context) {}

  Result<int64_t> IssuedInEpoch(contracts::VoucherClass voucher_class, int64_t epoch) const override {
    if (epoch < 0) return int64_t{0};
    return state_.EpochIssued(LedgerClass(voucher_class), static_cast<uint64_t>(epoch));
  }

  Result<int64_t> IssuedToMember(std::string_view member, contracts::VoucherClass voucher_class,
                                 int64_t epoch) const override {
    std::optional<PublicKey> key = MemberKey(member);
    // Nothing is issued ahead of its epoch, nor to anyone without a key.
    if (!key || epoch < 0 || static_cast<uint64_t>(epoch) > context_.epoch) return int64_t{0};
    if (static_cast<uint64_t>(epoch) + kIssuedWindowEpochs <= context_.epoch) {
      return Status{"ISSUANCE_NOT_KEPT", "the ledger keeps what was issued to each member for the last " +
                                             std::to_string(kIssuedWindowEpochs) + " epochs only; epoch " +
                                             std::to_string(epoch) + " is older"};
    }
    const v1::Balance* balance = state_.BalanceView(*key, LedgerClass(voucher_class));
    if (!balance) return int64_t{0};
    for (const v1::IssuedInEpoch& entry : balance->issued()) {
      if (entry.epoch() == static_cast<uint64_t>(epoch)) return entry.amount_milli();
    }
    return int64_t{0};
  }

  // The cap of the plan committed for `epoch` (CommitPlan), as this step sees the state.
  Result<std::optional<int64_t>> PlanCap(int64_t epoch) const override {
    if (epoch < 0) return std::optional<int64_t>{};
    const v1::PlanRecord* plan = state_.Plan(static_cast<uint64_t>(epoch));
    if (!plan) return std::optional<int64_t>{};
    return std::optional<int64_t>{plan->cap_milli()};
  }

  Result<int64_t> Balance(std::string_view member, contracts::VoucherClass voucher_class) const override {
    std::optional<PublicKey> key = MemberKey(member);
    if (!key) return int64_t{0};
    const v1::Balance* balance = state_.BalanceView(*key, LedgerClass(voucher_class));
    if (!balance) return int64_t{0};
    __int128 total = 0;
    for (const v1::Lot& lot : balance->lots()) {
      if (lot.expiry_epoch() > context_.epoch) total += lot.amount_milli();
    }
    if (total > INT64_MAX) return Status{"OVERFLOW", "the balance is too large for a law to read"};
    return static_cast<int64_t>(total);
  }

 private:
  Records& state_;
  const BlockContext& context_;
};

// A law's run whose effects are to be applied.
struct Acted {
  const contracts::Law* law;
  contracts::Outcome outcome;
};

// The law runs a step keeps, bounded: a trace is cut at kMaxStoredTraceLines.
void KeepTrace(const std::vector<std::string>& trace, v1::LawRun& run) {
  const size_t kept = std::min(trace.size(), kMaxStoredTraceLines);
  for (size_t i = 0; i < kept; ++i) run.add_trace(trace[i]);
  if (trace.size() > kept) {
    run.set_trace(static_cast<int>(kept) - 1, "(trace cut at " + std::to_string(kMaxStoredTraceLines) + " lines)");
  }
}

bool IssuesOrRejects(const contracts::Outcome& outcome) {
  return std::any_of(outcome.effects.begin(), outcome.effects.end(),
                     [](const contracts::Effect& e) { return e.kind != contracts::Effect::Kind::kRecord; });
}

}  // namespace

// Runs the laws at their hooks and applies their effects under the constitution.
class TxApplier::LawEngine {
 public:
  LawEngine(Records& state, const BlockContext& context) : state_(state), context_(context), host_(state, context) {
    GS_ASSERT(context.laws != nullptr);
  }

  // A transaction's hook: every law on it runs against the same state, then their issues are
  // applied in law order. Fails when a law fails to run or rejects, or an effect is refused;
  // the caller rolls the transaction back. The runs with effects are left in `acted` (their
  // records are for the caller: issuance_requested's `expires`).
  Status RunTxHook(Hook hook, std::span<const Value> args, LawRuns& runs, std::vector<Acted>& acted) {
    GS_ASSERT(acted.empty());
    for (const contracts::Law* law : context_.laws->OnHook(hook)) {
      Result<contracts::Outcome> out = Run(*law, hook, args, runs);
      if (!out.ok()) return Status{out.status().code(), law->title() + ": " + out.status().message()};
      if (out->effects.empty()) continue;
      const contracts::Effect& last = out->effects.back();
      if (last.kind == contracts::Effect::Kind::kReject) {
        return Status{"LAW_REJECTED", last.citation + ": " + last.reason};
      }
      acted.push_back({law, *std::move(out)});
    }
    for (const Acted& a : acted) GS_RETURN_IF_ERROR(ApplyIssues(hook, a.outcome, runs));
    return Status::Ok();
  }
  Status RunTxHook(Hook hook, std::span<const Value> args, LawRuns& runs) {
    std::vector<Acted> acted;
    return RunTxHook(hook, args, runs, acted);
  }

  // A closing's hook for one member: every law on it runs against the same state; then each
  // law's effects are applied on their own, or, when one is refused, none of that law's are (the
  // failure is kept in its run). The state is committed after each law.
  void RunClosingHook(Hook hook, std::span<const Value> args, LawRuns& runs) {
    struct Pending {
      contracts::Outcome outcome;
      int run;  // index in `runs`
    };
    std::vector<Pending> pending;
    for (const contracts::Law* law : context_.laws->OnHook(hook)) {
      Result<contracts::Outcome> out = Run(*law, hook, args, runs);
      if (!out.ok() || out->effects.empty()) continue;
      v1::LawRun& run = *runs.Mutable(runs.size() - 1);
      const contracts::Effect& last = out->effects.back();
      if (last.kind == contracts::Effect::Kind::kReject) {
        run.set_code("LAW_REJECTED");
        run.set_message(last.citation + ": " + last.reason);
        continue;
      }
      pending.push_back({*std::move(out), runs.size() - 1});
    }
    for (const Pending& a : pending) {
      Status applied = ApplyIssues(hook, a.outcome, runs);
      if (applied.ok()) {
        state_.Commit();
        continue;
      }
      state_.Rollback();
      runs.Mutable(a.run)->set_code(applied.code());
      runs.Mutable(a.run)->set_message(applied.message());
    }
  }

  // Credits `amount` of `voucher_class` to `member` as a new lot, once the laws on
  // issuance_requested allow it and say when it expires.
  Status Issue(const PublicKey& member, v1::VoucherClass voucher_class, int64_t amount, LawRuns& runs) {
    GS_RETURN_IF_ERROR(CheckVoucherClass(voucher_class));
    GS_RETURN_IF_ERROR(CheckAmount(amount));
    Result<const v1::Account*> account = ActiveMember(state_, member);
    if (!account.ok()) return account.status();
    const std::array<Value, 4> args = {Value::Text(ToHex(member)),
                                       Value::Number(static_cast<int64_t>(LawClass(voucher_class))),
                                       Value::Number(amount), Value::Number(static_cast<int64_t>(context_.epoch))};
    std::vector<Acted> acted;
    GS_RETURN_IF_ERROR(RunTxHook(Hook::kIssuanceRequested, args, runs, acted));
    Result<uint64_t> expiry = ExpiryFrom(acted);
    if (!expiry.ok()) return expiry.status();
    return Credit(member, voucher_class, amount, *expiry);
  }

  // The laws' verdict on a proposal: every law on proposal_tallied runs against the same state.
  // Adopted only when some law records `adopted = true` and no law refuses -- rejects, fails to
  // run, records `adopted = false` or a non-boolean `adopted`, or issues (a tally pays no one;
  // LAW_BAD_EFFECT). The reason is the first refusal in law order, else the adopting citation.
  struct Verdict {
    bool adopted = false;
    std::string reason;
  };
  Verdict RunTallyHook(std::span<const Value> args, LawRuns& runs) {
    std::string refusal, adopting;
    auto refuse = [&refusal](const std::string& why) {
      if (refusal.empty()) refusal = why;
    };
    for (const contracts::Law* law : context_.laws->OnHook(Hook::kProposalTallied)) {
      Result<contracts::Outcome> out = Run(*law, Hook::kProposalTallied, args, runs);
      if (!out.ok()) {
        refuse(law->title() + " failed: " + out.status().code() + ": " + out.status().message());
        continue;
      }
      if (out->effects.empty()) continue;
      v1::LawRun& run = *runs.Mutable(runs.size() - 1);
      auto bad_effect = [&](const contracts::Effect& effect, const std::string& why) {
        run.set_code("LAW_BAD_EFFECT");
        run.set_message(effect.citation + ": " + why);
        refuse(run.message());
      };
      for (const contracts::Effect& effect : out->effects) {
        switch (effect.kind) {
          case contracts::Effect::Kind::kReject:
            run.set_code("LAW_REJECTED");
            run.set_message(effect.citation + ": " + effect.reason);
            refuse(run.message());
            break;
          case contracts::Effect::Kind::kIssue:
            bad_effect(effect, "a law may not issue when a proposal is tallied");
            break;
          case contracts::Effect::Kind::kRecord:
            if (effect.figure != "adopted") break;
            if (effect.figure_type->base != contracts::Base::kBoolean) {
              bad_effect(effect, "adopted must be true or false");
            } else if (effect.figure_value.number == 0) {
              refuse(effect.citation + ": recorded adopted = false");
            } else if (adopting.empty()) {
              adopting = effect.citation;
            }
            break;
        }
      }
    }
    if (!refusal.empty()) return {false, refusal};
    if (adopting.empty()) return {false, "no law in force decided to adopt it (none recorded adopted = true)"};
    return {true, "adopted under " + adopting};
  }

 private:
  // Runs one law. Keeps its run in `runs` when it had effects or failed; a run that issued or
  // rejected keeps its trace, computed by running it again with explanations (same law, arguments
  // and state: the same effects), so that the many runs that do nothing build no trace.
  Result<contracts::Outcome> Run(const contracts::Law& law, Hook hook, std::span<const Value> args, LawRuns& runs) {
    contracts::RunOptions options;
    options.today = context_.today;
    options.fuel = context_.laws->params().fuel_per_run();
    Result<contracts::Outcome> out = law.Run(hook, args, host_, options);
    if (!out.ok()) {
      v1::LawRun* run = NewRun(law, hook, runs);
      run->set_code(out.status().code());
      run->set_message(out.status().message());
      return out;
    }
    if (out->effects.empty()) return out;
    // A tally's runs always keep their trace: they decide on a law, and there are few of them.
    const bool acts = hook == Hook::kProposalTallied || IssuesOrRejects(*out);
    if (acts) {
      options.explain = true;
      Result<contracts::Outcome> explained = law.Run(hook, args, host_, options);
      GS_ASSERT(explained.ok() && explained->effects.size() == out->effects.size());
      out = std::move(explained);
    }
    v1::LawRun* run = NewRun(law, hook, runs);
    run->set_code("OK");
    for (const contracts::Effect& effect : out->effects) {
      run->add_effects(contracts::DescribeEffect(effect));
      if (effect.kind != contracts::Effect::Kind::kIssue) continue;
      v1::LawIssue* issue = run->add_issues();
      issue->set_voucher_class(LedgerClass(effect.voucher_class));
      issue->set_member(effect.member);
      issue->set_amount_milli(effect.amount);
      issue->set_reason(effect.reason);
      issue->set_citation(effect.citation);
    }
    if (acts) KeepTrace(out->trace, *run);
    return out;
  }

  static v1::LawRun* NewRun(const contracts::Law& law, Hook hook, LawRuns& runs) {
    v1::LawRun* run = runs.Add();
    run->set_law(law.title());
    const std::string_view hook_name = contracts::HookName(hook);
    run->set_hook(hook_name.data(), hook_name.size());
    return run;
  }

  // Applies one law's issue effects under the constitution (a rejecting run is never applied;
  // records are read by whoever asked for the hook).
  Status ApplyIssues(Hook hook, const contracts::Outcome& outcome, LawRuns& runs) {
    for (const contracts::Effect& effect : outcome.effects) {
      GS_ASSERT(effect.kind != contracts::Effect::Kind::kReject);
      if (effect.kind == contracts::Effect::Kind::kIssue) GS_RETURN_IF_ERROR(ApplyIssue(hook, effect, runs));
    }
    return Status::Ok();
  }

  Status ApplyIssue(Hook hook, const contracts::Effect& effect, LawRuns& runs) {
    auto refused = [&](const std::string& why) {
      return Status{"LAW_BAD_EFFECT", effect.citation + ": " + contracts::DescribeEffect(effect) + " is refused: " + why};
    };
    if (hook == Hook::kIssuanceRequested) return refused("a law may not issue while an issuance is being checked");
    std::optional<PublicKey> member = MemberKey(effect.member);
    if (!member) return refused("@" + effect.member + " is not a member's key");
    Status issued = Issue(*member, LedgerClass(effect.voucher_class), effect.amount, runs);
    // The laws of the nested issuance speak for themselves; the constitution's refusals are the
    // issuing law's fault.
    if (issued.ok() || issued.code().starts_with("LAW_")) return issued;
    return refused(issued.message());
  }

  // The lot's expiry epoch from what the laws recorded: `expires`, an epoch after the current
  // one and at most kMaxLifetimeEpochs after it, the same from every law that records it.
  Result<uint64_t> ExpiryFrom(const std::vector<Acted>& acted) const {
    const int64_t now = static_cast<int64_t>(context_.epoch);
    const contracts::Effect* chosen = nullptr;
    for (const Acted& a : acted) {
      for (const contracts::Effect& figure : a.outcome.effects) {
        if (figure.kind != contracts::Effect::Kind::kRecord || figure.figure != "expires") continue;
        const int64_t expires = figure.figure_value.number;
        if (figure.figure_type->base != contracts::Base::kEpoch) {
          return Status{"LAW_BAD_EFFECT", figure.citation + ": expires must be an epoch"};
        }
        if (expires <= now || expires - now > static_cast<int64_t>(kMaxLifetimeEpochs)) {
          return Status{"LAW_BAD_EFFECT", figure.citation + ": the lot would expire at epoch " + std::to_string(expires) +
                                              "; it must be after epoch " + std::to_string(now) + " and at most " +
                                              std::to_string(kMaxLifetimeEpochs) + " epochs later"};
        }
        if (chosen && chosen->figure_value.number != expires) {
          return Status{"LAW_BAD_EFFECT", "the laws disagree on when the lot expires: epoch " +
                                              std::to_string(chosen->figure_value.number) + " (" + chosen->citation +
                                              ") and epoch " + std::to_string(expires) + " (" + figure.citation + ")"};
        }
        chosen = &figure;
      }
    }
    if (!chosen) {
      return Status{"LAW_NO_EXPIRY", "no law in force records when these vouchers expire (record expires = ...)"};
    }
    return static_cast<uint64_t>(chosen->figure_value.number);
  }

  // The lot, its cohort, the epoch's total and the member's recent issuance, or OVERFLOW.
  Status Credit(const PublicKey& member, v1::VoucherClass voucher_class, int64_t amount, uint64_t expiry) {
    const uint64_t epoch = context_.epoch;
    v1::Balance balance = state_.Balance(member, voucher_class);
    balance.set_version(1);
    DropExpiredLots(balance, epoch);
    DropOldIssuance(balance, epoch);
    v1::Lot& lot = LotExpiringAt(balance, expiry);
    int64_t lot_total;
    GS_RETURN_IF_ERROR(CheckedAdd(lot.amount_milli(), amount, lot_total));
    lot.set_amount_milli(lot_total);
    v1::IssuedInEpoch* recent = nullptr;
    for (v1::IssuedInEpoch& entry : *balance.mutable_issued()) {
      if (entry.epoch() == epoch) recent = &entry;
    }
    if (!recent) {
      recent = balance.add_issued();
      recent->set_epoch(epoch);
    }
    int64_t member_total;
    GS_RETURN_IF_ERROR(CheckedAdd(recent->amount_milli(), amount, member_total));
    recent->set_amount_milli(member_total);

    v1::Cohort cohort = state_.Cohort(voucher_class, expiry);
    int64_t issued, outstanding, epoch_total;
    GS_RETURN_IF_ERROR(CheckedAdd(cohort.issued_milli(), amount, issued));
    GS_RETURN_IF_ERROR(CheckedAdd(cohort.outstanding_milli(), amount, outstanding));
    GS_RETURN_IF_ERROR(CheckedAdd(state_.EpochIssued(voucher_class, epoch), amount, epoch_total));
    cohort.set_version(1);
    cohort.set_issued_milli(issued);
    cohort.set_outstanding_milli(outstanding);
    state_.PutBalance(member, voucher_class, std::move(balance));
    state_.PutCohort(voucher_class, expiry, cohort);
    state_.PutEpochIssued(voucher_class, epoch, epoch_total);
    return Status::Ok();
  }

  Records& state_;
  const BlockContext& context_;
  LedgerHost host_;
};

namespace {

using LawEngine = TxApplier::LawEngine;

// What one transaction's action works with.
struct Step {
  const BlockContext& context;
  Records& state;
  LawEngine& laws;
  LawRuns& runs;
};

// The delegate a member is registered under: an active delegate of the registrar's commune.
Result<PublicKey> DelegateOf(const v1::RegisterAccount& action, const v1::Account& registrar, Records& state) {
  Result<PublicKey> key = KeyField(action.delegate(), "delegate");
  if (!key.ok()) return key.status();
  const v1::Account* delegate = state.Account(*key);
  if (!delegate || delegate->retired() || delegate->role() != v1::ROLE_DELEGATE) {
    return Status{"BAD_DELEGATE", "account " + ToHex(*key).substr(0, 16) + " is not an active delegate"};
  }
  if (delegate->commune() != registrar.commune()) {
    return Status{"BAD_DELEGATE", "delegate " + ToHex(*key).substr(0, 16) + " belongs to commune '" +
                                      delegate->commune() + "', not '" + registrar.commune() + "'"};
  }
  return *key;
}

Status Register(const v1::RegisterAccount& action, const v1::Account& signer, Step& step) {
  Records& state = step.state;
  Result<PublicKey> key = KeyField(action.public_key(), "public_key");
  if (!key.ok()) return key.status();
  switch (action.role()) {
    case v1::ROLE_MEMBER: case v1::ROLE_DELEGATE: case v1::ROLE_WORKPLACE:
    case v1::ROLE_STORE: case v1::ROLE_ISSUER: case v1::ROLE_PLANNER:
      break;
    default:
      return BadField("role must be member, delegate, workplace, store, issuer or planner "
                      "(communes join through the validator set)");
  }
  const bool has_delegate = !action.delegate().empty();
  if (has_delegate && action.role() != v1::ROLE_MEMBER) return BadField("only a member is registered under a delegate");
  if (state.Account(*key)) return {"ACCOUNT_EXISTS", "key " + ToHex(*key).substr(0, 16) + " is already registered"};
  v1::Account account;
  account.set_version(1);
  account.set_public_key(action.public_key());
  account.set_role(action.role());
  account.set_commune(signer.commune());
  account.set_registered_height(step.context.height);
  if (has_delegate) {  // the member joins the delegate's constituency
    Result<PublicKey> delegate_key = DelegateOf(action, signer, state);
    if (!delegate_key.ok()) return delegate_key.status();
    v1::Account delegate = *state.Account(*delegate_key);
    delegate.set_constituents(delegate.constituents() + 1);
    delegate.set_constituents_registered(delegate.constituents_registered() + 1);
    account.set_delegate(action.delegate());
    account.set_constituent_number(delegate.constituents_registered());
    state.PutAccount(std::move(delegate));
  }
  state.PutAccount(std::move(account));
  if (action.role() == v1::ROLE_MEMBER) {  // every member's epoch closes, and every member votes
    v1::HookState hooks = state.HookState();
    state.AppendToList(InlineStateKey::MemberChunk(hooks.members() / kKeysPerChunk), hooks.members(), *key);
    hooks.set_members(hooks.members() + 1);
    hooks.set_active_members(hooks.active_members() + 1);
    state.PutHookState(std::move(hooks));
  }
  return Status::Ok();
}

// A retiring member leaves its delegate's constituency: the delegate counts one constituent less,
// and on each open proposal the delegate has not voted on yet, a vote the member cast itself no
// longer needs to be kept out of the delegate's weight (the vote stays counted).
void LeaveConstituency(const v1::Account& member, const BlockContext& context, Records& state) {
  std::optional<PublicKey> delegate_key = PublicKeyFromBytes(AsBytes(member.delegate()));
  GS_ASSERT(delegate_key.has_value());
  std::optional<PublicKey> member_key = PublicKeyFromBytes(AsBytes(member.public_key()));
  GS_ASSERT(member_key.has_value());
  v1::Account delegate = *state.Account(*delegate_key);
  GS_ASSERT(delegate.constituents() > 0);
  delegate.set_constituents(delegate.constituents() - 1);
  state.PutAccount(std::move(delegate));
  // Open proposals close in the current week or at most kMaxVotingWeeks later (those of earlier
  // weeks were tallied by the closings before this block's transactions).
  for (uint64_t week = context.week; week <= context.week + kMaxVotingWeeks; ++week) {
    const v1::ProposalWeek proposals = state.ProposalWeek(week);
    for (const std::string& id_bytes : proposals.proposals()) {
      const std::optional<Hash> id = HashFromBytes(AsBytes(id_bytes));
      GS_ASSERT(id.has_value());
      if (!state.Vote(*id, *member_key) || state.Vote(*id, *delegate_key)) continue;
      const uint64_t direct = state.DirectVotes(*id, *delegate_key);
      GS_ASSERT(direct > 0);
      state.PutDirectVotes(*id, *delegate_key, direct - 1);
    }
  }
}

Status Retire(const v1::RetireAccount& action, const v1::Account& signer, Step& step) {
  Records& state = step.state;
  Result<PublicKey> key = KeyField(action.public_key(), "public_key");
  if (!key.ok()) return key.status();
  const v1::Account* account = state.Account(*key);
  if (!account) return {"UNKNOWN_ACCOUNT", "key " + ToHex(*key).substr(0, 16) + " is not registered"};
  if (account->commune() != signer.commune()) {
    return {"UNAUTHORIZED", "the account belongs to commune '" + account->commune() + "', not '" +
                                signer.commune() + "'"};
  }
  if (account->role() == v1::ROLE_COMMUNE) return BadField("a commune registrar cannot be retired by a transaction");
  if (account->retired()) return {"ALREADY_RETIRED", "the account is already retired"};
  v1::Account retired = *account;
  retired.set_retired(true);
  if (retired.role() == v1::ROLE_MEMBER) {
    v1::HookState hooks = state.HookState();
    GS_ASSERT(hooks.active_members() > 0);
    hooks.set_active_members(hooks.active_members() - 1);
    state.PutHookState(std::move(hooks));
    if (!retired.delegate().empty()) LeaveConstituency(retired, step.context, state);
  }
  state.PutAccount(std::move(retired));
  return Status::Ok();
}

Status RecordAttendance(const v1::Attendance& action, Step& step) {
  const BlockContext& context = step.context;
  Result<PublicKey> member = KeyField(action.member(), "member");
  if (!member.ok()) return member.status();
  Result<const v1::Account*> account = ActiveMember(step.state, *member);
  if (!account.ok()) return account.status();
  if (action.minutes() < 1 || action.minutes() > kMaxShiftMinutes) {
    return BadField("minutes must be between 1 and " + std::to_string(kMaxShiftMinutes));
  }
  int64_t start_s = action.shift_start_s();
  if (start_s < context.genesis_time_ms / 1000 || start_s > INT64_MAX / 1000) {
    return BadField("shift_start_s is before genesis or out of range");
  }
  int64_t start_ms = start_s * 1000;
  if (start_ms > context.time_ms) return {"SHIFT_IN_FUTURE", "the shift starts after this block's time"};
  uint64_t week = static_cast<uint64_t>((start_ms - context.genesis_time_ms) / context.week_ms);
  if (week < context.week) {
    return {"WEEK_CLOSED", "week " + std::to_string(week) + " is closed; the current week is " +
                               std::to_string(context.week)};
  }
  // Not before the week began (above) and not after the block's time: the block's own week.
  GS_ASSERT(week == context.week);
  const uint64_t before = step.state.AttendanceMinutes(*member, week);
  const uint64_t total = before + action.minutes();
  if (total > kMaxWeekMinutes) {
    return {"ATTENDANCE_LIMIT", "the member would have " + std::to_string(total) +
                                    " minutes this week; a week has " + std::to_string(kMaxWeekMinutes)};
  }
  if (!context.laws->OnHook(Hook::kAttendanceRecorded).empty()) {
    const std::array<Value, 4> args = {Value::Text(ToHex(*member)), Value::Number(start_s / (kDayMs / 1000)),
                                       Value::Number(action.minutes()),
                                       Value::Number(context.laws->params().labour_rate_milli_per_hour())};
    GS_RETURN_IF_ERROR(step.laws.RunTxHook(Hook::kAttendanceRecorded, args, step.runs));
  }
  if (before == 0) {  // the member's first attendance this week: their week will close
    v1::HookState hooks = step.state.HookState();
    GS_ASSERT(hooks.week() == week);
    step.state.AppendToList(InlineStateKey::WorkerChunk(week, hooks.week_workers() / kKeysPerChunk),
                            hooks.week_workers(), *member);
    hooks.set_week_workers(hooks.week_workers() + 1);
    step.state.PutHookState(std::move(hooks));
  }
  step.state.PutAttendanceMinutes(*member, week, total);
  return Status::Ok();
}

Status Issue(const v1::IssueVouchers& action, const v1::Account& signer, Step& step) {
  GS_RETURN_IF_ERROR(CheckVoucherClass(action.voucher_class()));
  GS_RETURN_IF_ERROR(CheckAmount(action.amount_milli()));
  if (action.reason().size() > kMaxReasonBytes) return BadField("reason is longer than 256 bytes");
  Result<PublicKey> member = KeyField(action.member(), "member");
  if (!member.ok()) return member.status();
  Result<const v1::Account*> account = ActiveMember(step.state, *member);
  if (!account.ok()) return account.status();
  if ((*account)->commune() != signer.commune()) {
    return {"UNAUTHORIZED", "an issuer of commune '" + signer.commune() + "' cannot issue to a member of '" +
                                (*account)->commune() + "'"};
  }
  return step.laws.Issue(*member, action.voucher_class(), action.amount_milli(), step.runs);
}

Status Redeem(const DecodedTx& tx, Step& step) {
  const BlockContext& context = step.context;
  Records& state = step.state;
  const v1::RedeemVouchers& action = tx.body.redeem_vouchers();
  GS_RETURN_IF_ERROR(CheckVoucherClass(action.voucher_class()));
  GS_RETURN_IF_ERROR(CheckAmount(action.amount_milli()));
  if (!IsValidCategory(action.category())) return BadField("category must be 1-64 characters of a-z, 0-9, _ and -");
  Result<PublicKey> store_key = KeyField(action.store(), "store");
  if (!store_key.ok()) return store_key.status();
  if (!tx.cosigner || *tx.cosigner != *store_key) {
    return {"MISSING_COSIGNATURE", "a redemption must be co-signed by the store it names"};
  }
  const v1::Account* store = state.Account(*store_key);
  if (!store || store->retired() || store->role() != v1::ROLE_STORE) {
    return {"BAD_STORE", "account " + ToHex(*store_key).substr(0, 16) + " is not an active store"};
  }
  if (!context.laws->OnHook(Hook::kRedemptionRequested).empty()) {
    const std::array<Value, 4> args = {Value::Text(ToHex(tx.signer)),
                                       Value::Number(static_cast<int64_t>(LawClass(action.voucher_class()))),
                                       Value::Number(action.amount_milli()), Value::Text(action.category())};
    GS_RETURN_IF_ERROR(step.laws.RunTxHook(Hook::kRedemptionRequested, args, step.runs));
  }

  v1::Balance balance = state.Balance(tx.signer, action.voucher_class());
  DropExpiredLots(balance, context.epoch);
  DropOldIssuance(balance, context.epoch);
  __int128 available = 0;
  for (const v1::Lot& lot : balance.lots()) available += lot.amount_milli();
  if (available < action.amount_milli()) {
    return {"INSUFFICIENT_BALANCE", "redeeming " + std::to_string(action.amount_milli()) + " milli-credits, but only " +
                                        std::to_string(static_cast<int64_t>(available)) +
                                        " unexpired are held in this class"};
  }
  int64_t remaining = action.amount_milli();
  auto* lots = balance.mutable_lots();
  for (v1::Lot& lot : *lots) {  // earliest expiry first
    if (remaining == 0) break;
    int64_t take = std::min(lot.amount_milli(), remaining);
    lot.set_amount_milli(lot.amount_milli() - take);
    remaining -= take;
    v1::Cohort cohort = state.Cohort(action.voucher_class(), lot.expiry_epoch());
    GS_ASSERT(cohort.outstanding_milli() >= take);
    cohort.set_redeemed_milli(cohort.redeemed_milli() + take);
    cohort.set_outstanding_milli(cohort.outstanding_milli() - take);
    state.PutCohort(action.voucher_class(), lot.expiry_epoch(), cohort);
  }
  GS_ASSERT(remaining == 0);
  lots->erase(std::remove_if(lots->begin(), lots->end(), [](const v1::Lot& lot) { return lot.amount_milli() == 0; }),
              lots->end());
  state.PutBalance(tx.signer, action.voucher_class(), std::move(balance));
  // The demand the planner reads (ledger/plans.h).
  return state.AddRedeemed(context.epoch, action.category(), action.amount_milli());
}

Result<Hash> HashField(const std::string& bytes, const char* field) {
  std::optional<Hash> hash = HashFromBytes(AsBytes(bytes));
  if (!hash) return BadField(std::string(field) + " must be a 32-byte SHA-256");
  return *hash;
}

// One chunk of a plan input or plan (ledger/plans.h). The chunk that completes the file seals
// it, if the whole hashes to its name; until then a chunk may be replaced.
Status StorePlanData(const v1::PlanData& action, Step& step) {
  Records& state = step.state;
  Result<Hash> name = HashField(action.sha256(), "sha256");
  if (!name.ok()) return name.status();
  if (action.size() < 1 || action.size() > kMaxPlanDataBytes) {
    return {"PLAN_DATA_TOO_LARGE", "plan data must be 1 to " + std::to_string(kMaxPlanDataBytes) + " bytes, not " +
                                       std::to_string(action.size())};
  }
  const uint64_t chunks = PlanDataChunks(action.size());
  if (action.index() >= chunks) {
    return BadField("chunk " + std::to_string(action.index()) + " of a file of " + std::to_string(chunks) + " chunks");
  }
  if (action.data().size() != PlanChunkLength(action.size(), action.index())) {
    return BadField("chunk " + std::to_string(action.index()) + " must hold " +
                    std::to_string(PlanChunkLength(action.size(), action.index())) + " bytes, not " +
                    std::to_string(action.data().size()));
  }
  const v1::PlanBlob* stored = state.PlanBlob(*name);
  v1::PlanBlob blob;
  if (stored) {
    if (stored->complete()) return {"PLAN_DATA_COMPLETE", "plan data " + ToHex(*name) + " is already complete"};
    if (stored->size() != action.size()) {
      return BadField("plan data " + ToHex(*name) + " is " + std::to_string(stored->size()) + " bytes, not " +
                      std::to_string(action.size()));
    }
    blob = *stored;
  } else {
    blob.set_version(1);
    blob.set_size(action.size());
    blob.mutable_present()->assign((chunks + 7) / 8, '\0');
  }
  char& byte = (*blob.mutable_present())[action.index() / 8];
  const char bit = static_cast<char>(1 << (action.index() % 8));
  if ((byte & bit) == 0) {
    byte = static_cast<char>(byte | bit);
    blob.set_received(blob.received() + 1);
  }
  v1::PlanChunk chunk;
  chunk.set_version(1);
  chunk.set_data(action.data());
  state.PutPlanChunk(*name, action.index(), std::move(chunk));
  if (blob.received() == chunks) {
    std::string whole;
    whole.reserve(action.size());
    for (uint64_t i = 0; i < chunks; ++i) {
      const v1::PlanChunk* part = state.PlanChunk(*name, i);
      GS_ASSERT(part != nullptr);  // every bit set has its chunk
      whole += part->data();
    }
    if (Sha256(AsBytes(whole)) != *name) {
      return {"PLAN_DATA_MISMATCH", "the chunks of plan data " + ToHex(*name) +
                                        " do not hash to its name; send the wrong chunk again"};
    }
    blob.set_complete(true);
    blob.set_completed_height(step.context.height);
  }
  state.PutPlanBlob(*name, std::move(blob));
  return Status::Ok();
}

// A complete plan data file, named `what` in messages.
Result<std::string> CompletePlanData(Records& state, const Hash& name, const char* what) {
  const v1::PlanBlob* blob = state.PlanBlob(name);
  if (!blob || !blob->complete()) {
    return Status{"PLAN_DATA_MISSING", std::string("the ") + what + " " + ToHex(name) +
                                           " is not on the ledger (send it as plan data first)"};
  }
  std::string whole;
  whole.reserve(blob->size());
  const uint64_t chunks = PlanDataChunks(blob->size());
  for (uint64_t i = 0; i < chunks; ++i) {
    const v1::PlanChunk* part = state.PlanChunk(name, i);
    GS_ASSERT(part != nullptr);
    whole += part->data();
  }
  return whole;
}

// The plan for an epoch, checked exactly against its inputs on the ledger (ledger/plans.h).
Status CommitPlan(const v1::CommitPlan& action, const DecodedTx& tx, Step& step) {
  const BlockContext& context = step.context;
  Records& state = step.state;
  Result<Hash> plan_hash = HashField(action.plan_sha256(), "plan_sha256");
  if (!plan_hash.ok()) return plan_hash.status();
  Result<Hash> matrix_hash = HashField(action.matrix_sha256(), "matrix_sha256");
  if (!matrix_hash.ok()) return matrix_hash.status();
  Result<Hash> products_hash = HashField(action.products_sha256(), "products_sha256");
  if (!products_hash.ok()) return products_hash.status();
  Result<Hash> demand_hash = HashField(action.demand_sha256(), "demand_sha256");
  if (!demand_hash.ok()) return demand_hash.status();
  if (action.epoch() < context.epoch || action.epoch() - context.epoch > kMaxPlanLeadEpochs) {
    return {"PLAN_EPOCH", "a plan may be committed for the current epoch " + std::to_string(context.epoch) +
                              " or up to " + std::to_string(kMaxPlanLeadEpochs) + " epochs ahead, not for epoch " +
                              std::to_string(action.epoch())};
  }
  const DemandWindow window{action.demand_from_epoch(), action.demand_epochs()};
  GS_RETURN_IF_ERROR(CheckDemandWindow(window, context.epoch));
  if (state.Plan(action.epoch())) {
    return {"PLAN_EXISTS", "epoch " + std::to_string(action.epoch()) + " already has a plan"};
  }
  Result<std::string> plan = CompletePlanData(state, *plan_hash, "plan");
  if (!plan.ok()) return plan.status();
  Result<std::string> matrix = CompletePlanData(state, *matrix_hash, "matrix file");
  if (!matrix.ok()) return matrix.status();
  Result<std::string> products = CompletePlanData(state, *products_hash, "products file");
  if (!products.ok()) return products.status();
  Result<LedgerEconomy> economy =
      BuildLedgerEconomy(*matrix, *products, window, [&state](uint64_t epoch, std::string_view category) {
        return state.RedeemedInClosedEpoch(epoch, category);
      });
  if (!economy.ok()) return economy.status();
  if (economy->economy.demand_sha256 != *demand_hash) {
    return {"DEMAND_MISMATCH", "the demand file of epochs " + std::to_string(window.from_epoch) + " to " +
                                   std::to_string(window.from_epoch + window.epochs - 1) + " on the ledger has SHA-256 " +
                                   ToHex(economy->economy.demand_sha256) + ", not " + ToHex(*demand_hash)};
  }
  Result<planner::VerifiedPlan> verified = planner::VerifyPlan(AsBytes(*plan), economy->economy);
  if (!verified.ok()) return verified.status();
  Result<int64_t> cap =
      PlanCapMilli(verified->totals.consumer, context.laws->params().labour_rate_milli_per_hour());
  if (!cap.ok()) return cap.status();
  v1::PlanRecord record;
  record.set_version(1);
  record.set_epoch(action.epoch());
  record.set_plan_sha256(action.plan_sha256());
  record.set_matrix_sha256(action.matrix_sha256());
  record.set_products_sha256(action.products_sha256());
  record.set_demand_sha256(action.demand_sha256());
  record.set_demand_from_epoch(window.from_epoch);
  record.set_demand_epochs(window.epochs);
  record.set_products(verified->products);
  record.set_consumer_labour_micro_hours(verified->totals.consumer);
  record.set_public_labour_micro_hours(verified->totals.public_projects);
  record.set_accumulation_labour_micro_hours(verified->totals.accumulation);
  record.set_total_labour_micro_hours(verified->totals.total);
  record.set_cap_milli(*cap);
  record.set_planner(std::string(AsChars(tx.signer)));
  record.set_committed_height(context.height);
  state.PutPlan(std::move(record));
  return Status::Ok();
}

// A law amendment for the delegates and members to vote on (ledger/amendments.h). Its id is the
// transaction's id.
Status ProposeAmendment(const v1::ProposeAmendment& action, const DecodedTx& tx, Step& step) {
  const BlockContext& context = step.context;
  Records& state = step.state;
  if (action.closes_week() <= context.week || action.closes_week() - context.week > kMaxVotingWeeks) {
    return {"VOTING_PERIOD", "a proposal must close after the current week " + std::to_string(context.week) +
                                 " and at most " + std::to_string(kMaxVotingWeeks) + " weeks later, not in week " +
                                 std::to_string(action.closes_week())};
  }
  Result<std::shared_ptr<const contracts::Law>> law = LoadAmendment(action.file(), action.source());
  if (!law.ok()) return law.status();
  const std::string& name = (*law)->name();
  Result<int64_t> replaces = CheckAmends(state.LawSet(), name, (*law)->version());
  if (!replaces.ok()) return replaces.status();
  if (std::optional<Hash> open = state.OpenAmendment(name)) {
    return {"AMENDMENT_PENDING", "proposal " + ToHex(*open) + " to amend " + name + " is still open"};
  }
  v1::ProposalWeek closing = state.ProposalWeek(action.closes_week());
  if (static_cast<size_t>(closing.proposals_size()) >= kMaxProposalsPerWeek) {
    return {"TOO_MANY_PROPOSALS", std::to_string(kMaxProposalsPerWeek) + " proposals already close in week " +
                                      std::to_string(action.closes_week()) + "; choose another week"};
  }
  // A transaction id is unique: the same bytes again would replay the signer's nonce.
  GS_ASSERT(state.Proposal(tx.id) == nullptr);
  v1::ProposalRecord proposal;
  proposal.set_version(1);
  proposal.set_id(std::string(AsChars(tx.id)));
  proposal.set_proposer(std::string(AsChars(tx.signer)));
  proposal.set_law(name);
  proposal.set_law_version((*law)->version());
  proposal.set_replaces_version(*replaces);
  proposal.set_file(action.file());
  proposal.set_source(action.source());
  proposal.set_source_hash(std::string(AsChars(Sha256(AsBytes(action.source())))));
  proposal.set_proposed_height(context.height);
  proposal.set_closes_week(action.closes_week());
  proposal.set_status(v1::PROPOSAL_STATUS_OPEN);
  state.PutProposal(tx.id, std::move(proposal));
  closing.set_version(1);
  closing.add_proposals(std::string(AsChars(tx.id)));
  state.PutProposalWeek(action.closes_week(), std::move(closing));
  state.PutOpenAmendment(name, tx.id);
  return Status::Ok();
}

// The members counted for `choice` so far.
uint64_t Counted(const v1::ProposalRecord& proposal, v1::VoteChoice choice) {
  switch (choice) {
    case v1::VOTE_CHOICE_YES: return proposal.yes();
    case v1::VOTE_CHOICE_NO: return proposal.no();
    case v1::VOTE_CHOICE_ABSTAIN: return proposal.abstain();
    default: break;
  }
  GS_ASSERT(false);
}

void SetCounted(v1::ProposalRecord& proposal, v1::VoteChoice choice, uint64_t members) {
  switch (choice) {
    case v1::VOTE_CHOICE_YES: return proposal.set_yes(members);
    case v1::VOTE_CHOICE_NO: return proposal.set_no(members);
    case v1::VOTE_CHOICE_ABSTAIN: return proposal.set_abstain(members);
    default: break;
  }
  GS_ASSERT(false);
}

// A delegate's vote counts for its constituents who have not voted themselves, as they stand now;
// a member's counts for itself and takes its delegate's vote, if that counted it, off the tally.
Status CastVote(const v1::CastVote& action, const DecodedTx& tx, const v1::Account& signer, Step& step) {
  Records& state = step.state;
  Result<Hash> id = HashField(action.proposal(), "proposal");
  if (!id.ok()) return id.status();
  const v1::VoteChoice choice = action.choice();
  if (choice != v1::VOTE_CHOICE_YES && choice != v1::VOTE_CHOICE_NO && choice != v1::VOTE_CHOICE_ABSTAIN) {
    return BadField("choice must be yes, no or abstain");
  }
  const v1::ProposalRecord* stored = state.Proposal(*id);
  if (!stored) return {"UNKNOWN_PROPOSAL", "there is no proposal " + ToHex(*id)};
  if (stored->status() != v1::PROPOSAL_STATUS_OPEN) {
    return {"PROPOSAL_CLOSED", "proposal " + ToHex(*id) + " was tallied at height " +
                                   std::to_string(stored->tallied_height())};
  }
  if (state.Vote(*id, tx.signer)) return {"ALREADY_VOTED", "the signer has voted on proposal " + ToHex(*id)};
  v1::ProposalRecord proposal = *stored;
  v1::VoteRecord vote;
  vote.set_version(1);
  vote.set_choice(choice);
  vote.set_height(step.context.height);
  vote.set_role(signer.role());
  if (signer.role() == v1::ROLE_DELEGATE) {
    const uint64_t direct = state.DirectVotes(*id, tx.signer);
    GS_ASSERT(signer.constituents() >= direct);
    vote.set_weight(signer.constituents() - direct);
    vote.set_constituents_registered(signer.constituents_registered());
    state.PutDirectVotes(*id, tx.signer, 0);  // counted out now; no longer needed
  } else {
    GS_ASSERT(signer.role() == v1::ROLE_MEMBER);
    vote.set_weight(1);
    if (!signer.delegate().empty()) {
      std::optional<PublicKey> delegate = PublicKeyFromBytes(AsBytes(signer.delegate()));
      GS_ASSERT(delegate.has_value());
      const v1::VoteRecord* delegate_vote = state.Vote(*id, *delegate);
      if (!delegate_vote) {
        state.PutDirectVotes(*id, *delegate, state.DirectVotes(*id, *delegate) + 1);
      } else if (signer.constituent_number() <= delegate_vote->constituents_registered()) {
        const uint64_t counted = Counted(proposal, delegate_vote->choice());
        GS_ASSERT(counted > 0);  // the delegate's vote counted this member
        SetCounted(proposal, delegate_vote->choice(), counted - 1);
        vote.set_replaced_delegate_vote(true);
      }
    }
  }
  SetCounted(proposal, choice, Counted(proposal, choice) + vote.weight());
  proposal.set_votes(proposal.votes() + 1);
  state.PutVote(*id, tx.signer, std::move(vote));
  state.PutProposal(*id, std::move(proposal));
  return Status::Ok();
}

// The signer must be an active account and the nonce its next one.
Result<const v1::Account*> CheckSigner(const DecodedTx& tx, Records& state) {
  const v1::Account* account = state.Account(tx.signer);
  GS_RETURN_IF_ERROR(CheckActiveSigner(tx.signer, account));
  uint64_t expected = account->nonce() + 1;
  if (tx.body.nonce() < expected) {
    return Status{"NONCE_REPLAYED", "nonce " + std::to_string(tx.body.nonce()) + " was used; next is " +
                                        std::to_string(expected)};
  }
  if (tx.body.nonce() > expected) {
    return Status{"NONCE_GAP", "nonce " + std::to_string(tx.body.nonce()) + " skips ahead; next is " +
                                   std::to_string(expected)};
  }
  return account;
}

// The sender rules (admission.h) first, then the action's own checks.
Status Dispatch(const DecodedTx& tx, const v1::Account& signer, Step& step) {
  GS_RETURN_IF_ERROR(CheckSenderMayAct(tx, signer));
  switch (tx.body.action_case()) {
    case v1::TxBody::kRegisterAccount: return Register(tx.body.register_account(), signer, step);
    case v1::TxBody::kRetireAccount: return Retire(tx.body.retire_account(), signer, step);
    case v1::TxBody::kAttendance: return RecordAttendance(tx.body.attendance(), step);
    case v1::TxBody::kIssueVouchers: return Issue(tx.body.issue_vouchers(), signer, step);
    case v1::TxBody::kRedeemVouchers: return Redeem(tx, step);
    case v1::TxBody::kPlanData: return StorePlanData(tx.body.plan_data(), step);
    case v1::TxBody::kCommitPlan: return CommitPlan(tx.body.commit_plan(), tx, step);
    case v1::TxBody::kProposeAmendment: return ProposeAmendment(tx.body.propose_amendment(), tx, step);
    case v1::TxBody::kCastVote: return CastVote(tx.body.cast_vote(), tx, signer, step);
    case v1::TxBody::ACTION_NOT_SET: break;
  }
  return {"UNKNOWN_ACTION", "transaction carries no action"};
}

// Queues the closing of `period` over a list of `end` entries; an empty list closes nothing.
void QueueClosing(v1::Closing::Kind kind, uint64_t period, uint64_t end, v1::HookState& hooks, ClosingRuns& closings) {
  if (end == 0) return;
  if (static_cast<size_t>(hooks.closings_size()) >= kMaxPendingClosings) {
    v1::ClosingRun* skipped = closings.Add();
    skipped->set_hook(kind == v1::Closing::WEEK ? "week_closed" : "epoch_closed");
    skipped->set_period(period);
    v1::LawRun* run = skipped->add_law_runs();
    run->set_code("CLOSING_BACKLOG");
    run->set_message(std::to_string(kMaxPendingClosings) + " closings are still running; this one is skipped");
    return;
  }
  v1::Closing* closing = hooks.add_closings();
  closing->set_kind(kind);
  closing->set_period(period);
  closing->set_end(end);
}

}  // namespace

TxApplier::TxApplier(const BlockContext& context, const KvReader& reader)
    : context_(context),
      records_(std::make_unique<Records>(reader)),
      laws_(std::make_unique<LawEngine>(*records_, context)) {
  GS_ASSERT(context.laws != nullptr && context.week_ms > 0);
}

TxApplier::~TxApplier() = default;

void TxApplier::RunClosings(ClosingRuns& closings) {
  GS_ASSERT(!closings_run_ && !flushed_);
  closings_run_ = true;
  v1::HookState hooks = records_->HookState();
  const std::string before = hooks.SerializeAsString();
  const uint64_t last_week = hooks.week();
  if (context_.week > hooks.week()) {
    QueueClosing(v1::Closing::WEEK, hooks.week(), hooks.week_workers(), hooks, closings);
    hooks.set_week(context_.week);
    hooks.set_week_workers(0);
  }
  if (context_.epoch > hooks.epoch()) {
    QueueClosing(v1::Closing::EPOCH, hooks.epoch(), hooks.members(), hooks, closings);
    hooks.set_epoch(context_.epoch);
  }
  uint64_t budget = kMaxClosingsPerBlock;
  while (budget > 0 && hooks.closings_size() > 0) {
    v1::Closing& closing = *hooks.mutable_closings(0);
    for (; budget > 0 && closing.next() < closing.end(); --budget) {
      CloseMember(closing, closings);
      closing.set_next(closing.next() + 1);
    }
    if (closing.next() == closing.end()) hooks.mutable_closings()->DeleteSubrange(0, 1);
  }
  // Untouched, the record is not rewritten: a block that closes nothing changes no hook state.
  if (hooks.SerializeAsString() != before) records_->PutHookState(std::move(hooks));
  if (context_.week > last_week) TallyProposals(last_week, context_.week - 1);
  records_->Commit();
}

void TxApplier::TallyProposals(uint64_t from_week, uint64_t to_week) {
  // A proposal closes at most kMaxVotingWeeks after the week of the block that made it, and no
  // block was made after week `from_week`: later weeks close none.
  const uint64_t last = std::min(to_week, from_week + kMaxVotingWeeks);
  for (uint64_t week = from_week; week <= last; ++week) {
    const v1::ProposalWeek closing = records_->ProposalWeek(week);
    for (const std::string& id : closing.proposals()) {
      std::optional<Hash> parsed = HashFromBytes(AsBytes(id));
      GS_ASSERT(parsed.has_value());
      TallyProposal(*parsed);
    }
  }
}

void TxApplier::TallyProposal(const Hash& id) {
  Records& state = *records_;
  const v1::ProposalRecord* stored = state.Proposal(id);
  GS_ASSERT(stored != nullptr && stored->status() == v1::PROPOSAL_STATUS_OPEN);
  v1::ProposalRecord proposal = *stored;
  proposal.set_electorate(state.HookState().active_members());
  proposal.set_tallied_height(context_.height);
  state.PutOpenAmendment(proposal.law(), std::nullopt);
  Result<int64_t> replaces = CheckAmends(state.LawSet(), proposal.law(), proposal.law_version());
  LawEngine::Verdict verdict;
  if (!replaces.ok()) {
    verdict.reason = "it no longer amends the laws in force: " + replaces.status().message();
  } else {
    const std::array<Value, 5> args = {
        Value::Text(AmendmentTitle(proposal.law(), proposal.law_version())),
        Value::Number(static_cast<int64_t>(proposal.yes())), Value::Number(static_cast<int64_t>(proposal.no())),
        Value::Number(static_cast<int64_t>(proposal.abstain())),
        Value::Number(static_cast<int64_t>(proposal.electorate()))};
    verdict = laws_->RunTallyHook(args, *proposal.mutable_law_runs());
  }
  if (verdict.adopted) Enact(proposal, *replaces);
  proposal.set_status(verdict.adopted ? v1::PROPOSAL_STATUS_ADOPTED : v1::PROPOSAL_STATUS_REJECTED);
  proposal.set_reason(verdict.reason);
  state.PutProposal(id, std::move(proposal));
}

void TxApplier::Enact(const v1::ProposalRecord& proposal, int64_t replaces) {
  Records& state = *records_;
  // Every version ever enacted is at most the one in force, which the proposal's exceeds.
  GS_ASSERT(!state.HasLaw(proposal.law(), proposal.law_version()));
  v1::LawRecord law;
  law.set_version(1);
  law.set_name(proposal.law());
  law.set_law_version(proposal.law_version());
  law.set_file(proposal.file());
  law.set_source(proposal.source());
  law.set_source_hash(proposal.source_hash());
  law.set_enacted_height(context_.height);
  law.set_previous_version(replaces);
  state.PutLaw(std::move(law));
  v1::ActiveLaw active;
  active.set_name(proposal.law());
  active.set_law_version(proposal.law_version());
  active.set_source_hash(proposal.source_hash());
  active.set_effective_height(context_.height + 1);
  v1::LawSet set = WithLaw(state.LawSet(), active);
  GS_ASSERT(static_cast<size_t>(set.laws_size()) <= kMaxLaws);
  state.PutLawSet(std::move(set));
}

void TxApplier::CloseMember(const v1::Closing& closing, ClosingRuns& closings) {
  const bool week = closing.kind() == v1::Closing::WEEK;
  const uint64_t index = closing.next();
  const PublicKey member = records_->ListEntry(
      week ? InlineStateKey::WorkerChunk(closing.period(), index / kKeysPerChunk)
           : InlineStateKey::MemberChunk(index / kKeysPerChunk),
      index);
  const v1::Account* account = records_->Account(member);
  if (!account || account->retired() || account->role() != v1::ROLE_MEMBER) return;  // closings are for active members
  const Hook hook = week ? Hook::kWeekClosed : Hook::kEpochClosed;
  if (context_.laws->OnHook(hook).empty()) return;
  const int64_t period = static_cast<int64_t>(closing.period());
  std::vector<Value> args = {Value::Text(ToHex(member))};
  if (week) {
    args.push_back(Value::Number(period));
    args.push_back(Value::Number(static_cast<int64_t>(records_->AttendanceMinutes(member, closing.period()))));
    args.push_back(Value::Number(context_.laws->params().labour_rate_milli_per_hour()));
  } else {
    args.push_back(Value::Number(period));
  }
  LawRuns runs;
  laws_->RunClosingHook(hook, args, runs);
  if (runs.empty()) return;
  v1::ClosingRun* run = closings.Add();
  run->set_hook(std::string(contracts::HookName(hook)));
  run->set_member(std::string(AsChars(member)));
  run->set_period(closing.period());
  run->mutable_law_runs()->Swap(&runs);
}

Status TxApplier::Apply(const DecodedTx& tx, LawRuns& law_runs) {
  GS_ASSERT(closings_run_ && !flushed_);
  Result<const v1::Account*> signer = CheckSigner(tx, *records_);
  if (!signer.ok()) return signer.status();
  // The signer's record is never written by an action (no action may write its own signer's
  // account), so the pointer stays valid through Dispatch.
  Step step{context_, *records_, *laws_, law_runs};
  Status status = Dispatch(tx, **signer, step);
  if (!status.ok()) {
    records_->Rollback();
    return status;
  }
  records_->CommitWithNonceOf(tx.signer);
  return Status::Ok();
}

void TxApplier::Flush(KvWriter& writer) {
  GS_ASSERT(!flushed_);
  flushed_ = true;
  records_->Flush(writer);
}

void ExpireCohorts(uint64_t from_epoch, uint64_t to_epoch, const KvReader& reader, KvWriter& writer) {
  GS_ASSERT(from_epoch <= to_epoch);
  // Lots issued by epoch `from_epoch` expire by from_epoch + kMaxLifetimeEpochs, so the loop is
  // bounded even after a long halt.
  uint64_t last = std::min(to_epoch, from_epoch + kMaxLifetimeEpochs);
  State state(reader, writer);
  for (uint64_t epoch = from_epoch + 1; epoch <= last; ++epoch) {
    for (v1::VoucherClass voucher_class : kVoucherClasses) {
      v1::Cohort cohort = state.Cohort(voucher_class, epoch);
      if (cohort.outstanding_milli() == 0) continue;
      cohort.set_expired_milli(cohort.expired_milli() + cohort.outstanding_milli());
      cohort.set_outstanding_milli(0);
      state.PutCohort(voucher_class, epoch, cohort);
    }
  }
}

bool IsValidCategory(std::string_view category) { return contracts::IsValidCategoryName(category); }

}  // namespace gongshe::ledger
