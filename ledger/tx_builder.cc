#include "ledger/tx_builder.h"

#include <utility>

#include "ledger/plans.h"
#include "ledger/transaction.h"

namespace gongshe::ledger {
namespace {

std::string Raw(const PublicKey& key) { return std::string(AsChars(key)); }

}  // namespace

TxBuilder::TxBuilder(std::string chain_id) : chain_id_(std::move(chain_id)) { GS_ASSERT(CheckChainId(chain_id_).ok()); }

Status TxBuilder::CheckChainId(std::string_view chain_id) {
  if (chain_id.empty() || chain_id.size() > kMaxChainIdSize) {
    return {"BAD_CHAIN_ID", "a chain id is 1 to " + std::to_string(kMaxChainIdSize) + " bytes"};
  }
  return Status::Ok();
}

v1::TxBody TxBuilder::Body(uint64_t nonce) const {
  v1::TxBody body;
  body.set_version(1);
  body.set_chain_id(chain_id_);
  body.set_nonce(nonce);
  return body;
}

std::string TxBuilder::Register(const KeyPair& registrar, uint64_t nonce, const PublicKey& key, v1::Role role) const {
  v1::TxBody body = Body(nonce);
  body.mutable_register_account()->set_public_key(Raw(key));
  body.mutable_register_account()->set_role(role);
  return SignTx(body, registrar);
}

std::string TxBuilder::RegisterMember(const KeyPair& registrar, uint64_t nonce, const PublicKey& key,
                                      const PublicKey& delegate) const {
  v1::TxBody body = Body(nonce);
  body.mutable_register_account()->set_public_key(Raw(key));
  body.mutable_register_account()->set_role(v1::ROLE_MEMBER);
  body.mutable_register_account()->set_delegate(Raw(delegate));
  return SignTx(body, registrar);
}

std::string TxBuilder::Retire(const KeyPair& registrar, uint64_t nonce, const PublicKey& key) const {
  v1::TxBody body = Body(nonce);
  body.mutable_retire_account()->set_public_key(Raw(key));
  return SignTx(body, registrar);
}

std::string TxBuilder::Attend(const KeyPair& workplace, uint64_t nonce, const PublicKey& member, int64_t shift_start_s,
                              uint32_t minutes) const {
  v1::TxBody body = Body(nonce);
  v1::Attendance* attendance = body.mutable_attendance();
  attendance->set_member(Raw(member));
  attendance->set_shift_start_s(shift_start_s);
  attendance->set_minutes(minutes);
  return SignTx(body, workplace);
}

std::string TxBuilder::Issue(const KeyPair& issuer, uint64_t nonce, v1::VoucherClass voucher_class,
                             const PublicKey& member, int64_t amount_milli, std::string_view reason) const {
  v1::TxBody body = Body(nonce);
  v1::IssueVouchers* issue = body.mutable_issue_vouchers();
  issue->set_voucher_class(voucher_class);
  issue->set_member(Raw(member));
  issue->set_amount_milli(amount_milli);
  issue->set_reason(std::string(reason));
  return SignTx(body, issuer);
}

std::string TxBuilder::Redeem(const KeyPair& member, uint64_t nonce, const KeyPair& store,
                              v1::VoucherClass voucher_class, int64_t amount_milli, std::string_view category) const {
  v1::TxBody body = Body(nonce);
  v1::RedeemVouchers* redeem = body.mutable_redeem_vouchers();
  redeem->set_voucher_class(voucher_class);
  redeem->set_amount_milli(amount_milli);
  redeem->set_category(std::string(category));
  redeem->set_store(Raw(store.public_key()));
  return SignTx(body, member, &store);
}

std::vector<std::string> TxBuilder::PlanData(const KeyPair& planner, uint64_t first_nonce,
                                             std::string_view file) const {
  GS_ASSERT(!file.empty() && file.size() <= kMaxPlanDataBytes);
  const Hash name = Sha256(AsBytes(file));
  const uint64_t chunks = PlanDataChunks(file.size());
  std::vector<std::string> txs;
  txs.reserve(chunks);
  for (uint64_t i = 0; i < chunks; ++i) {
    v1::TxBody body = Body(first_nonce + i);
    v1::PlanData* data = body.mutable_plan_data();
    data->set_sha256(std::string(AsChars(name)));
    data->set_size(file.size());
    data->set_index(static_cast<uint32_t>(i));
    data->set_data(std::string(file.substr(i * kPlanChunkBytes, PlanChunkLength(file.size(), i))));
    txs.push_back(SignTx(body, planner));
  }
  return txs;
}

std::string TxBuilder::CommitPlan(const KeyPair& planner, uint64_t nonce, const v1::CommitPlan& action) const {
  v1::TxBody body = Body(nonce);
  *body.mutable_commit_plan() = action;
  return SignTx(body, planner);
}

std::string TxBuilder::ProposeAmendment(const KeyPair& delegate, uint64_t nonce, std::string_view file,
                                        std::string_view source, uint64_t closes_week) const {
  v1::TxBody body = Body(nonce);
  v1::ProposeAmendment* proposal = body.mutable_propose_amendment();
  proposal->set_file(std::string(file));
  proposal->set_source(std::string(source));
  proposal->set_closes_week(closes_week);
  return SignTx(body, delegate);
}

std::string TxBuilder::Vote(const KeyPair& voter, uint64_t nonce, const Hash& proposal, v1::VoteChoice choice) const {
  v1::TxBody body = Body(nonce);
  body.mutable_cast_vote()->set_proposal(std::string(AsChars(proposal)));
  body.mutable_cast_vote()->set_choice(choice);
  return SignTx(body, voter);
}

Result<int64_t> ParseCredits(std::string_view text) {
  const Status bad("BAD_AMOUNT", "'" + std::string(text.substr(0, 40)) +
                                     "' is not an amount of credits (digits, at most 3 decimals, e.g. 12.5)");
  const size_t point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view fraction = point == std::string_view::npos ? std::string_view() : text.substr(point + 1);
  if (whole.empty() || whole.size() > kMaxCreditDigits || fraction.size() > 3) return bad;
  if (point != std::string_view::npos && fraction.empty()) return bad;
  int64_t milli = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad;
    milli = milli * 10 + (c - '0');
  }
  // 10^15 credits in milli-credits is 10^18, below 2^63: no overflow is possible.
  for (size_t i = 0; i < 3; ++i) {
    const char c = i < fraction.size() ? fraction[i] : '0';
    if (c < '0' || c > '9') return bad;
    milli = milli * 10 + (c - '0');
  }
  return milli;
}

std::string FormatCredits(int64_t milli) {
  // Magnitude in uint64 so that INT64_MIN has one too.
  const uint64_t magnitude = milli < 0 ? 0 - static_cast<uint64_t>(milli) : static_cast<uint64_t>(milli);
  std::string fraction = std::to_string(magnitude % 1000);
  fraction.insert(0, 3 - fraction.size(), '0');
  return (milli < 0 ? "-" : "") + std::to_string(magnitude / 1000) + "." + fraction;
}

}  // namespace gongshe::ledger
