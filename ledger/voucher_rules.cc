#include "ledger/voucher_rules.h"

#include <algorithm>

namespace gongshe::ledger {
namespace {

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& sorted, std::string_view item) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), item,
                             [](const std::string& a, std::string_view b) { return a < b; });
  return it != sorted.end() && *it == item;
}

Status CheckCategoryList(const google::protobuf::RepeatedPtrField<std::string>& list, const char* name) {
  if (static_cast<size_t>(list.size()) > kMaxCategories) {
    return {"BAD_POLICY", std::string(name) + " lists more than 1000 categories"};
  }
  for (int i = 0; i < list.size(); ++i) {
    if (!IsValidCategory(list[i])) {
      return {"BAD_POLICY", std::string(name) + ": '" + list[i] +
                                "' is not a category (1-64 characters of a-z, 0-9, _ and -)"};
    }
    if (i > 0 && list[i - 1] >= list[i]) {
      return {"BAD_POLICY", std::string(name) + " must be sorted and without duplicates"};
    }
  }
  return Status::Ok();
}

}  // namespace

uint64_t RecordedVoucherRules::LifetimeEpochs(v1::VoucherClass voucher_class) const {
  switch (voucher_class) {
    case v1::VOUCHER_CLASS_GUARANTEE: return policy_.guarantee_lifetime_epochs();
    case v1::VOUCHER_CLASS_CONSUMPTION: return policy_.consumption_lifetime_epochs();
    case v1::VOUCHER_CLASS_SPECIAL: return policy_.special_lifetime_epochs();
    default: GS_ASSERT(false && "unknown voucher class");
  }
  return 0;
}

bool RecordedVoucherRules::MayRedeem(v1::VoucherClass voucher_class, std::string_view category) const {
  switch (voucher_class) {
    case v1::VOUCHER_CLASS_GUARANTEE: return Contains(policy_.necessity_categories(), category);
    case v1::VOUCHER_CLASS_SPECIAL: return Contains(policy_.scarce_categories(), category);
    case v1::VOUCHER_CLASS_CONSUMPTION: return true;
    default: return false;
  }
}

bool IsValidCategory(std::string_view category) {
  if (category.empty() || category.size() > 64) return false;
  return std::all_of(category.begin(), category.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

Status CheckVoucherPolicy(const v1::VoucherPolicy& policy) {
  if (policy.version() != 1) return {"BAD_POLICY", "voucher policy version must be 1"};
  for (uint64_t lifetime : {policy.guarantee_lifetime_epochs(), policy.consumption_lifetime_epochs(),
                            policy.special_lifetime_epochs()}) {
    if (lifetime < 1 || lifetime > kMaxLifetimeEpochs) {
      return {"BAD_POLICY", "voucher lifetimes must be between 1 and 1000 epochs"};
    }
  }
  GS_RETURN_IF_ERROR(CheckCategoryList(policy.necessity_categories(), "necessity_categories"));
  return CheckCategoryList(policy.scarce_categories(), "scarce_categories");
}

}  // namespace gongshe::ledger
