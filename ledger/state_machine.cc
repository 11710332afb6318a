#include "ledger/state_machine.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/admission.h"
#include "ledger/state.h"

namespace gongshe::ledger {
namespace {

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

// Typed reads and writes with the semantics of State (state.h): an absent balance or cohort
// reads as empty, writing an empty balance deletes it.
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
    auto& slot = balances_.Find(InlineStateKey::Balance(member, voucher_class), reader_);
    return slot.record ? *slot.record : v1::Balance{};
  }
  void PutBalance(const PublicKey& member, v1::VoucherClass voucher_class, v1::Balance balance) {
    auto& slot = balances_.Find(InlineStateKey::Balance(member, voucher_class), reader_);
    if (balance.lots().empty()) {
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

  // Makes the transaction's writes final and advances `signer`'s nonce: the last write of every
  // applied transaction, which cannot fail, so it needs no undo.
  void CommitWithNonceOf(const PublicKey& signer) {
    auto& slot = accounts_.Find(InlineStateKey::Account(signer), reader_);
    GS_ASSERT(slot.record.has_value());
    slot.record->set_nonce(slot.record->nonce() + 1);
    slot.written = true;
    accounts_.Commit();
    balances_.Commit();
    cohorts_.Commit();
    attendance_.Commit();
  }

  void Rollback() {
    accounts_.Rollback();
    balances_.Rollback();
    cohorts_.Rollback();
    attendance_.Rollback();
  }

  void Flush(KvWriter& writer) const {
    accounts_.Flush(writer);
    balances_.Flush(writer);
    cohorts_.Flush(writer);
    attendance_.Flush(writer);
  }

 private:
  const KvReader& reader_;
  RecordTable<v1::Account> accounts_;
  RecordTable<v1::Balance> balances_;
  RecordTable<v1::Cohort> cohorts_;
  RecordTable<v1::AttendanceWeek> attendance_;
};

namespace {

using Records = TxApplier::Records;

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

Status Register(const v1::RegisterAccount& action, const v1::Account& signer, const BlockContext& context,
                Records& state) {
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
  if (state.Account(*key)) return {"ACCOUNT_EXISTS", "key " + ToHex(*key).substr(0, 16) + " is already registered"};
  v1::Account account;
  account.set_version(1);
  account.set_public_key(action.public_key());
  account.set_role(action.role());
  account.set_commune(signer.commune());
  account.set_registered_height(context.height);
  state.PutAccount(std::move(account));
  return Status::Ok();
}

Status Retire(const v1::RetireAccount& action, const v1::Account& signer, Records& state) {
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
  state.PutAccount(std::move(retired));
  return Status::Ok();
}

Status RecordAttendance(const v1::Attendance& action, const BlockContext& context, Records& state) {
  Result<PublicKey> member = KeyField(action.member(), "member");
  if (!member.ok()) return member.status();
  Result<const v1::Account*> account = ActiveMember(state, *member);
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
  uint64_t total = state.AttendanceMinutes(*member, week) + action.minutes();
  if (total > kMaxWeekMinutes) {
    return {"ATTENDANCE_LIMIT", "the member would have " + std::to_string(total) +
                                    " minutes this week; a week has " + std::to_string(kMaxWeekMinutes)};
  }
  state.PutAttendanceMinutes(*member, week, total);
  return Status::Ok();
}

Status Issue(const v1::IssueVouchers& action, const v1::Account& signer, const BlockContext& context,
             Records& state) {
  GS_RETURN_IF_ERROR(CheckVoucherClass(action.voucher_class()));
  GS_RETURN_IF_ERROR(CheckAmount(action.amount_milli()));
  if (action.reason().size() > kMaxReasonBytes) return BadField("reason is longer than 256 bytes");
  Result<PublicKey> member = KeyField(action.member(), "member");
  if (!member.ok()) return member.status();
  Result<const v1::Account*> account = ActiveMember(state, *member);
  if (!account.ok()) return account.status();
  if ((*account)->commune() != signer.commune()) {
    return {"UNAUTHORIZED", "an issuer of commune '" + signer.commune() + "' cannot issue to a member of '" +
                                (*account)->commune() + "'"};
  }

  uint64_t expiry = context.epoch + context.rules->LifetimeEpochs(action.voucher_class());
  v1::Balance balance = state.Balance(*member, action.voucher_class());
  DropExpiredLots(balance, context.epoch);
  v1::Lot& lot = LotExpiringAt(balance, expiry);
  int64_t lot_total;
  GS_RETURN_IF_ERROR(CheckedAdd(lot.amount_milli(), action.amount_milli(), lot_total));
  lot.set_amount_milli(lot_total);

  v1::Cohort cohort = state.Cohort(action.voucher_class(), expiry);
  int64_t issued, outstanding;
  GS_RETURN_IF_ERROR(CheckedAdd(cohort.issued_milli(), action.amount_milli(), issued));
  GS_RETURN_IF_ERROR(CheckedAdd(cohort.outstanding_milli(), action.amount_milli(), outstanding));
  cohort.set_version(1);
  cohort.set_issued_milli(issued);
  cohort.set_outstanding_milli(outstanding);
  state.PutBalance(*member, action.voucher_class(), std::move(balance));
  state.PutCohort(action.voucher_class(), expiry, cohort);
  return Status::Ok();
}

Status Redeem(const DecodedTx& tx, const BlockContext& context, Records& state) {
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
  if (!context.rules->MayRedeem(action.voucher_class(), action.category())) {
    return {"CATEGORY_NOT_ALLOWED", v1::VoucherClass_Name(action.voucher_class()) +
                                        " vouchers may not be redeemed for '" + action.category() + "'"};
  }

  v1::Balance balance = state.Balance(tx.signer, action.voucher_class());
  DropExpiredLots(balance, context.epoch);
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
Status Dispatch(const DecodedTx& tx, const v1::Account& signer, const BlockContext& context, Records& state) {
  GS_RETURN_IF_ERROR(CheckSenderMayAct(tx, signer));
  switch (tx.body.action_case()) {
    case v1::TxBody::kRegisterAccount: return Register(tx.body.register_account(), signer, context, state);
    case v1::TxBody::kRetireAccount: return Retire(tx.body.retire_account(), signer, state);
    case v1::TxBody::kAttendance: return RecordAttendance(tx.body.attendance(), context, state);
    case v1::TxBody::kIssueVouchers: return Issue(tx.body.issue_vouchers(), signer, context, state);
    case v1::TxBody::kRedeemVouchers: return Redeem(tx, context, state);
    case v1::TxBody::ACTION_NOT_SET: break;
  }
  return {"UNKNOWN_ACTION", "transaction carries no action"};
}

}  // namespace

TxApplier::TxApplier(const BlockContext& context, const KvReader& reader)
    : context_(context), records_(std::make_unique<Records>(reader)) {
  GS_ASSERT(context.rules != nullptr && context.week_ms > 0);
}

TxApplier::~TxApplier() = default;

Status TxApplier::Apply(const DecodedTx& tx) {
  GS_ASSERT(!flushed_);
  Result<const v1::Account*> signer = CheckSigner(tx, *records_);
  if (!signer.ok()) return signer.status();
  // The signer's record is never written by an action (no action may write its own signer's
  // account), so the pointer stays valid through Dispatch.
  Status status = Dispatch(tx, **signer, context_, *records_);
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

}  // namespace gongshe::ledger
