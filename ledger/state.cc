#include "ledger/state.h"

#include "ledger/state_tree.h"

namespace gongshe::ledger {
namespace {

std::string StateKey(char tag, ByteView rest = {}) {
  std::string key;
  key.reserve(2 + rest.size());
  key.push_back(static_cast<char>(KeySpace::kStateValue));
  key.push_back(tag);
  key.append(AsChars(rest));
  return key;
}

void AppendBigEndian(std::string& key, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(v >> shift));
}

}  // namespace

std::string AccountKey(const PublicKey& key) { return StateKey('a', key); }

std::string BalanceKey(const PublicKey& member, v1::VoucherClass voucher_class) {
  std::string key = StateKey('b', member);
  key.push_back(static_cast<char>(voucher_class));
  return key;
}

std::string CohortKey(v1::VoucherClass voucher_class, uint64_t expiry_epoch) {
  std::string key = StateKey('c');
  key.push_back(static_cast<char>(voucher_class));
  AppendBigEndian(key, expiry_epoch);
  return key;
}

std::string AttendanceKey(const PublicKey& member, uint64_t week) {
  std::string key = StateKey('w', member);
  AppendBigEndian(key, week);
  return key;
}

std::string ChainConfigKey() { return StateKey('k'); }
std::string ChainStateKey() { return StateKey('h'); }
std::string VoucherPolicyKey() { return StateKey('p'); }
std::string ValidatorSetKey() { return StateKey('v'); }

template <typename M>
std::optional<M> State::Read(const std::string& key) const {
  std::optional<std::string> bytes = reader_.Get(key);
  if (!bytes) return std::nullopt;
  M record;
  GS_ASSERT(record.ParseFromString(*bytes));
  return record;
}

template <typename M>
M State::ReadRequired(const std::string& key) const {
  std::optional<M> record = Read<M>(key);
  GS_ASSERT(record.has_value());
  return *std::move(record);
}

void State::Write(const std::string& key, const google::protobuf::MessageLite& record) {
  std::string bytes;
  GS_ASSERT(record.SerializeToString(&bytes));
  writer_.Put(key, std::move(bytes));
}

std::optional<v1::Account> State::Account(const PublicKey& key) const {
  return Read<v1::Account>(AccountKey(key));
}

void State::PutAccount(const v1::Account& account) {
  std::optional<PublicKey> key = PublicKeyFromBytes(AsBytes(account.public_key()));
  GS_ASSERT(key.has_value());
  Write(AccountKey(*key), account);
}

v1::Balance State::Balance(const PublicKey& member, v1::VoucherClass voucher_class) const {
  return Read<v1::Balance>(BalanceKey(member, voucher_class)).value_or(v1::Balance{});
}

void State::PutBalance(const PublicKey& member, v1::VoucherClass voucher_class,
                       const v1::Balance& balance) {
  std::string key = BalanceKey(member, voucher_class);
  if (balance.lots().empty()) {
    writer_.Delete(key);
    return;
  }
  Write(key, balance);
}

v1::Cohort State::Cohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch) const {
  return Read<v1::Cohort>(CohortKey(voucher_class, expiry_epoch)).value_or(v1::Cohort{});
}

void State::PutCohort(v1::VoucherClass voucher_class, uint64_t expiry_epoch, const v1::Cohort& cohort) {
  GS_ASSERT(cohort.issued_milli() ==
            cohort.redeemed_milli() + cohort.expired_milli() + cohort.outstanding_milli());
  GS_ASSERT(cohort.outstanding_milli() >= 0 && cohort.redeemed_milli() >= 0 && cohort.expired_milli() >= 0);
  Write(CohortKey(voucher_class, expiry_epoch), cohort);
}

uint64_t State::AttendanceMinutes(const PublicKey& member, uint64_t week) const {
  std::optional<v1::AttendanceWeek> record = Read<v1::AttendanceWeek>(AttendanceKey(member, week));
  return record ? record->minutes() : 0;
}

void State::PutAttendanceMinutes(const PublicKey& member, uint64_t week, uint64_t minutes) {
  v1::AttendanceWeek record;
  record.set_version(1);
  record.set_minutes(minutes);
  Write(AttendanceKey(member, week), record);
}

v1::ChainConfig State::ChainConfig() const { return ReadRequired<v1::ChainConfig>(ChainConfigKey()); }
v1::ChainState State::ChainState() const { return ReadRequired<v1::ChainState>(ChainStateKey()); }
v1::VoucherPolicy State::VoucherPolicy() const { return ReadRequired<v1::VoucherPolicy>(VoucherPolicyKey()); }
v1::ValidatorSet State::ValidatorSet() const { return ReadRequired<v1::ValidatorSet>(ValidatorSetKey()); }
void State::PutChainConfig(const v1::ChainConfig& config) { Write(ChainConfigKey(), config); }
void State::PutChainState(const v1::ChainState& state) { Write(ChainStateKey(), state); }
void State::PutVoucherPolicy(const v1::VoucherPolicy& policy) { Write(VoucherPolicyKey(), policy); }
void State::PutValidatorSet(const v1::ValidatorSet& set) { Write(ValidatorSetKey(), set); }

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
