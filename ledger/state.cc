#include "ledger/state.h"

#include <algorithm>

#include "ledger/state_tree.h"

namespace gongshe::ledger {
namespace {

std::string StateKey(char tag) {
  return std::string{static_cast<char>(KeySpace::kStateValue), tag};
}

}  // namespace

InlineStateKey::InlineStateKey(char tag, ByteView rest) {
  bytes_[0] = static_cast<char>(KeySpace::kStateValue);
  bytes_[1] = tag;
  size_ = 2;
  Append(rest);
}

void InlineStateKey::Append(ByteView rest) {
  GS_ASSERT(size_ + rest.size() <= kMaxBytes);
  std::copy(rest.begin(), rest.end(), bytes_.begin() + size_);
  size_ = static_cast<uint8_t>(size_ + rest.size());
}

void InlineStateKey::AppendByte(uint8_t b) { Append(ByteView(&b, 1)); }

void InlineStateKey::AppendBigEndian(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) AppendByte(static_cast<uint8_t>(v >> shift));
}

InlineStateKey InlineStateKey::Account(const PublicKey& key) { return InlineStateKey('a', key); }

InlineStateKey InlineStateKey::Balance(const PublicKey& member, v1::VoucherClass voucher_class) {
  InlineStateKey key('b', member);
  key.AppendByte(static_cast<uint8_t>(voucher_class));
  return key;
}

InlineStateKey InlineStateKey::Cohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch) {
  InlineStateKey key('c', {});
  key.AppendByte(static_cast<uint8_t>(voucher_class));
  key.AppendBigEndian(expiry_epoch);
  return key;
}

InlineStateKey InlineStateKey::Attendance(const PublicKey& member, uint64_t week) {
  InlineStateKey key('w', member);
  key.AppendBigEndian(week);
  return key;
}

InlineStateKey InlineStateKey::EpochIssuance(v1::VoucherClass voucher_class, uint64_t epoch) {
  InlineStateKey key('e', {});
  key.AppendByte(static_cast<uint8_t>(voucher_class));
  key.AppendBigEndian(epoch);
  return key;
}

InlineStateKey InlineStateKey::MemberChunk(uint64_t chunk) {
  InlineStateKey key('m', {});
  key.AppendBigEndian(chunk);
  return key;
}

InlineStateKey InlineStateKey::WorkerChunk(uint64_t week, uint64_t chunk) {
  InlineStateKey key('r', {});
  key.AppendBigEndian(week);
  key.AppendBigEndian(chunk);
  return key;
}

InlineStateKey InlineStateKey::HookState() { return InlineStateKey('y', {}); }

InlineStateKey InlineStateKey::RedemptionTally(uint64_t epoch, std::string_view category) {
  GS_ASSERT(!category.empty() && category.size() <= 64);
  InlineStateKey key('d', {});
  key.AppendBigEndian(epoch);
  key.Append(AsBytes(category));
  return key;
}

InlineStateKey InlineStateKey::PlanBlob(const Hash& sha256) { return InlineStateKey('i', sha256); }

InlineStateKey InlineStateKey::PlanChunk(const Hash& sha256, uint64_t index) {
  InlineStateKey key('j', sha256);
  key.AppendBigEndian(index);
  return key;
}

InlineStateKey InlineStateKey::Plan(uint64_t epoch) {
  InlineStateKey key('p', {});
  key.AppendBigEndian(epoch);
  return key;
}

InlineStateKey InlineStateKey::Law(std::string_view name, int64_t law_version) {
  GS_ASSERT(!name.empty() && name.size() <= 64);
  InlineStateKey key('l', {});
  key.AppendByte(static_cast<uint8_t>(name.size()));
  key.Append(AsBytes(name));
  key.AppendBigEndian(static_cast<uint64_t>(law_version));
  return key;
}

InlineStateKey InlineStateKey::LawSet() { return InlineStateKey('s', {}); }

InlineStateKey InlineStateKey::Proposal(const Hash& id) { return InlineStateKey('o', id); }

InlineStateKey InlineStateKey::Vote(const Hash& proposal, const PublicKey& voter) {
  InlineStateKey key('u', proposal);
  key.Append(voter);
  return key;
}

InlineStateKey InlineStateKey::ConstituencyVotes(const Hash& proposal, const PublicKey& delegate) {
  InlineStateKey key('t', proposal);
  key.Append(delegate);
  return key;
}

InlineStateKey InlineStateKey::ProposalWeek(uint64_t week) {
  InlineStateKey key('q', {});
  key.AppendBigEndian(week);
  return key;
}

InlineStateKey InlineStateKey::OpenAmendment(std::string_view law) {
  GS_ASSERT(!law.empty() && law.size() <= 64);
  InlineStateKey key('n', {});
  key.AppendByte(static_cast<uint8_t>(law.size()));
  key.Append(AsBytes(law));
  return key;
}

std::string AccountKey(const PublicKey& key) { return InlineStateKey::Account(key).str(); }

std::string BalanceKey(const PublicKey& member, v1::VoucherClass voucher_class) {
  return InlineStateKey::Balance(member, voucher_class).str();
}

std::string CohortKey(v1::VoucherClass voucher_class, uint64_t expiry_epoch) {
  return InlineStateKey::Cohort(voucher_class, expiry_epoch).str();
}

std::string AttendanceKey(const PublicKey& member, uint64_t week) {
  return InlineStateKey::Attendance(member, week).str();
}

std::string ChainConfigKey() { return StateKey('k'); }
std::string ChainStateKey() { return StateKey('h'); }
std::string ValidatorSetKey() { return StateKey('v'); }
std::string LawSetKey() { return InlineStateKey::LawSet().str(); }
std::string HookStateKey() { return InlineStateKey::HookState().str(); }
std::string ProposalKey(const Hash& id) { return InlineStateKey::Proposal(id).str(); }
std::string VoteKey(const Hash& proposal, const PublicKey& voter) { return InlineStateKey::Vote(proposal, voter).str(); }

std::string LawKey(std::string_view name, int64_t law_version) {
  GS_ASSERT(!name.empty() && name.size() <= 255);
  std::string key = StateKey('l');
  key.push_back(static_cast<char>(name.size()));
  key.append(name);
  Bytes version;
  AppendBigEndian64(version, static_cast<uint64_t>(law_version));
  key.append(AsChars(version));
  return key;
}

template <typename M>
std::optional<M> StateView::Read(const std::string& key) const {
  std::optional<std::string> bytes = reader_.Get(key);
  if (!bytes) return std::nullopt;
  M record;
  GS_ASSERT(record.ParseFromString(*bytes));
  return record;
}

template <typename M>
M StateView::ReadRequired(const std::string& key) const {
  std::optional<M> record = Read<M>(key);
  GS_ASSERT(record.has_value());
  return *std::move(record);
}

void State::Write(const std::string& key, const google::protobuf::MessageLite& record) {
  std::string bytes;
  GS_ASSERT(record.SerializeToString(&bytes));
  writer_.Put(key, std::move(bytes));
}

std::optional<v1::Account> StateView::Account(const PublicKey& key) const {
  return Read<v1::Account>(AccountKey(key));
}

void State::PutAccount(const v1::Account& account) {
  std::optional<PublicKey> key = PublicKeyFromBytes(AsBytes(account.public_key()));
  GS_ASSERT(key.has_value());
  Write(AccountKey(*key), account);
}

v1::Balance StateView::Balance(const PublicKey& member, v1::VoucherClass voucher_class) const {
  return Read<v1::Balance>(BalanceKey(member, voucher_class)).value_or(v1::Balance{});
}

void State::PutBalance(const PublicKey& member, v1::VoucherClass voucher_class,
                       const v1::Balance& balance) {
  std::string key = BalanceKey(member, voucher_class);
  if (balance.lots().empty() && balance.issued().empty()) {
    writer_.Delete(key);
    return;
  }
  Write(key, balance);
}

v1::Cohort StateView::Cohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch) const {
  return Read<v1::Cohort>(CohortKey(voucher_class, expiry_epoch)).value_or(v1::Cohort{});
}

void State::PutCohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch, const v1::Cohort& cohort) {
  GS_ASSERT(cohort.issued_milli() ==
            cohort.redeemed_milli() + cohort.expired_milli() + cohort.outstanding_milli());
  GS_ASSERT(cohort.outstanding_milli() >= 0 && cohort.redeemed_milli() >= 0 && cohort.expired_milli() >= 0);
  Write(CohortKey(voucher_class, expiry_epoch), cohort);
}

uint64_t StateView::AttendanceMinutes(const PublicKey& member, uint64_t week) const {
  std::optional<v1::AttendanceWeek> record = Read<v1::AttendanceWeek>(AttendanceKey(member, week));
  return record ? record->minutes() : 0;
}

void State::PutAttendanceMinutes(const PublicKey& member, uint64_t week, uint64_t minutes) {
  v1::AttendanceWeek record;
  record.set_version(1);
  record.set_minutes(minutes);
  Write(AttendanceKey(member, week), record);
}

v1::ChainConfig StateView::ChainConfig() const { return ReadRequired<v1::ChainConfig>(ChainConfigKey()); }
v1::ChainState StateView::ChainState() const { return ReadRequired<v1::ChainState>(ChainStateKey()); }
v1::ValidatorSet StateView::ValidatorSet() const { return ReadRequired<v1::ValidatorSet>(ValidatorSetKey()); }
v1::LawSet StateView::LawSet() const { return ReadRequired<v1::LawSet>(LawSetKey()); }
v1::HookState StateView::HookState() const { return ReadRequired<v1::HookState>(HookStateKey()); }
void State::PutChainConfig(const v1::ChainConfig& config) { Write(ChainConfigKey(), config); }
void State::PutChainState(const v1::ChainState& state) { Write(ChainStateKey(), state); }
void State::PutValidatorSet(const v1::ValidatorSet& set) { Write(ValidatorSetKey(), set); }
void State::PutLawSet(const v1::LawSet& set) { Write(LawSetKey(), set); }
void State::PutHookState(const v1::HookState& hooks) { Write(HookStateKey(), hooks); }

std::optional<v1::LawRecord> StateView::Law(std::string_view name, int64_t law_version) const {
  if (name.empty() || name.size() > 255) return std::nullopt;
  return Read<v1::LawRecord>(LawKey(name, law_version));
}

void State::PutLaw(const v1::LawRecord& law) { Write(LawKey(law.name(), law.law_version()), law); }

v1::EpochIssuance StateView::EpochIssuance(v1::VoucherClass voucher_class, uint64_t epoch) const {
  return Read<v1::EpochIssuance>(InlineStateKey::EpochIssuance(voucher_class, epoch).str()).value_or(v1::EpochIssuance{});
}

int64_t StateView::RedeemedInEpoch(uint64_t epoch, std::string_view category) const {
  if (category.empty() || category.size() > 64) return 0;
  std::optional<v1::RedemptionTally> tally =
      Read<v1::RedemptionTally>(InlineStateKey::RedemptionTally(epoch, category).str());
  return tally ? tally->redeemed_milli() : 0;
}

std::optional<v1::PlanBlob> StateView::PlanBlob(const Hash& sha256) const {
  return Read<v1::PlanBlob>(InlineStateKey::PlanBlob(sha256).str());
}

std::optional<v1::PlanChunk> StateView::PlanChunk(const Hash& sha256, uint64_t index) const {
  return Read<v1::PlanChunk>(InlineStateKey::PlanChunk(sha256, index).str());
}

std::optional<v1::PlanRecord> StateView::Plan(uint64_t epoch) const {
  return Read<v1::PlanRecord>(InlineStateKey::Plan(epoch).str());
}

std::optional<v1::ProposalRecord> StateView::Proposal(const Hash& id) const {
  return Read<v1::ProposalRecord>(ProposalKey(id));
}

std::optional<v1::VoteRecord> StateView::Vote(const Hash& proposal, const PublicKey& voter) const {
  return Read<v1::VoteRecord>(VoteKey(proposal, voter));
}

v1::ProposalWeek StateView::ProposalWeek(uint64_t week) const {
  return Read<v1::ProposalWeek>(InlineStateKey::ProposalWeek(week).str()).value_or(v1::ProposalWeek{});
}

Hash CommitStateWrites(Overlay& out) {
  std::vector<StateUpdate> updates;
  for (const auto& [key, value] : out.writes()) {
    if (key.empty() || key[0] != static_cast<char>(KeySpace::kStateValue)) continue;
    StateUpdate update{Sha256(AsBytes(key)), std::nullopt};
    if (value) update.value_hash = Sha256(AsBytes(*value));
    updates.push_back(update);
  }
  return UpdateState(out, updates, out);
}

}  // namespace gongshe::ledger
