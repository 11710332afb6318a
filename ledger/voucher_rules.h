#pragma once
// The voucher rules that policy decides: how long each class lives and which categories the
// restricted classes may buy. The state machine asks only this interface; today it is answered by
// the VoucherPolicy record written at genesis, and the law language takes it over later.

#include <string_view>

#include "gongshe/v1/state.pb.h"
#include "common/status.h"

namespace gongshe::ledger {

// Bounds every policy must respect; they keep per-balance lot lists and per-block expiry work
// bounded.
inline constexpr uint64_t kMaxLifetimeEpochs = 1000;
inline constexpr size_t kMaxCategories = 1000;

class VoucherRules {
 public:
  virtual ~VoucherRules() = default;
  // Epochs a lot lives after the epoch it is issued in: a lot issued in epoch e expires at the
  // start of epoch e + LifetimeEpochs(c). Always in [1, kMaxLifetimeEpochs].
  virtual uint64_t LifetimeEpochs(v1::VoucherClass voucher_class) const = 0;
  // Whether vouchers of `voucher_class` may be redeemed for goods of `category`.
  virtual bool MayRedeem(v1::VoucherClass voucher_class, std::string_view category) const = 0;
};

// The rules as recorded in a VoucherPolicy (validated with CheckVoucherPolicy first).
class RecordedVoucherRules final : public VoucherRules {
 public:
  explicit RecordedVoucherRules(v1::VoucherPolicy policy) : policy_(std::move(policy)) {}
  uint64_t LifetimeEpochs(v1::VoucherClass voucher_class) const override;
  bool MayRedeem(v1::VoucherClass voucher_class, std::string_view category) const override;

 private:
  v1::VoucherPolicy policy_;
};

// A category name: 1..64 characters of [a-z0-9_-].
bool IsValidCategory(std::string_view category);

// Checks a policy from outside (genesis): lifetimes within bounds, categories valid, sorted, unique.
Status CheckVoucherPolicy(const v1::VoucherPolicy& policy);

}  // namespace gongshe::ledger
