#include "ledger/admission.h"

#include <optional>
#include <string>

#include "ledger/state.h"

namespace gongshe::ledger {
namespace {

// The role an action needs (or either of two), and what the action does (for the message).
struct ActionRule {
  v1::Role role;
  const char* what;
  v1::Role other_role = v1::ROLE_UNSPECIFIED;
};

std::optional<ActionRule> RuleOf(v1::TxBody::ActionCase action) {
  switch (action) {
    case v1::TxBody::kRegisterAccount: return ActionRule{v1::ROLE_COMMUNE, "register accounts"};
    case v1::TxBody::kRetireAccount: return ActionRule{v1::ROLE_COMMUNE, "retire accounts"};
    case v1::TxBody::kAttendance: return ActionRule{v1::ROLE_WORKPLACE, "record attendance"};
    case v1::TxBody::kIssueVouchers: return ActionRule{v1::ROLE_ISSUER, "issue vouchers"};
    case v1::TxBody::kRedeemVouchers: return ActionRule{v1::ROLE_MEMBER, "redeem vouchers"};
    case v1::TxBody::kPlanData: return ActionRule{v1::ROLE_PLANNER, "send plan data"};
    case v1::TxBody::kCommitPlan: return ActionRule{v1::ROLE_PLANNER, "commit plans"};
    case v1::TxBody::kProposeAmendment: return ActionRule{v1::ROLE_DELEGATE, "propose amendments"};
    case v1::TxBody::kCastVote: return ActionRule{v1::ROLE_DELEGATE, "vote", v1::ROLE_MEMBER};
    case v1::TxBody::ACTION_NOT_SET: break;
  }
  return std::nullopt;
}

std::string ShortKey(const PublicKey& key) { return ToHex(key).substr(0, 16); }

}  // namespace

Status CheckActiveSigner(const PublicKey& signer, const v1::Account* account) {
  if (account == nullptr) return {"UNKNOWN_SIGNER", "signer " + ShortKey(signer) + " is not registered"};
  if (account->retired()) return {"RETIRED_SIGNER", "signer " + ShortKey(signer) + " is retired"};
  return Status::Ok();
}

Status CheckSenderMayAct(const DecodedTx& tx, const v1::Account& signer) {
  if (tx.cosigner && tx.body.action_case() != v1::TxBody::kRedeemVouchers) {
    return {"UNEXPECTED_COSIGNATURE", "only redemptions carry a co-signature"};
  }
  std::optional<ActionRule> rule = RuleOf(tx.body.action_case());
  if (!rule) return {"UNKNOWN_ACTION", "transaction carries no action"};
  if (signer.role() == rule->role) return Status::Ok();
  if (rule->other_role != v1::ROLE_UNSPECIFIED && signer.role() == rule->other_role) return Status::Ok();
  const std::string who = v1::Role_Name(rule->role) +
                          (rule->other_role != v1::ROLE_UNSPECIFIED ? " or a " + v1::Role_Name(rule->other_role) : "");
  return {"UNAUTHORIZED", "only a " + who + " may " + rule->what + "; the signer is a " + v1::Role_Name(signer.role())};
}

Status CheckAdmission(const DecodedTx& tx, const KvReader& committed_state, uint64_t max_nonce_ahead) {
  GS_ASSERT(max_nonce_ahead > 0);
  std::optional<v1::Account> account = StateView(committed_state).Account(tx.signer);
  GS_RETURN_IF_ERROR(CheckActiveSigner(tx.signer, account ? &*account : nullptr));
  GS_RETURN_IF_ERROR(CheckSenderMayAct(tx, *account));
  const uint64_t next = account->nonce() + 1;
  const uint64_t nonce = tx.body.nonce();
  if (nonce < next) {
    return {"NONCE_TOO_LOW", "nonce " + std::to_string(nonce) + " was used; next is " + std::to_string(next)};
  }
  if (nonce - next >= max_nonce_ahead) {
    return {"NONCE_TOO_HIGH", "nonce " + std::to_string(nonce) + " is too far ahead: next is " +
                                  std::to_string(next) + " and at most " + std::to_string(max_nonce_ahead) +
                                  " may wait"};
  }
  return Status::Ok();
}

}  // namespace gongshe::ledger
