#include "contracts/host.h"

#include <array>

namespace gongshe::contracts {
namespace {

struct HookInfo {
  std::string_view name;
  std::vector<HookParam> params;
};

const std::array<HookInfo, kHookCount>& Hooks() {
  static const std::array<HookInfo, kHookCount> kHooks = {{
      {"attendance_recorded", {{"worker", Base::kMember}, {"day", Base::kDate}, {"worked", Base::kHours}, {"rate", Base::kRate}}},
      {"week_closed", {{"worker", Base::kMember}, {"week", Base::kWeek}, {"worked", Base::kHours}, {"rate", Base::kRate}}},
      {"epoch_closed", {{"citizen", Base::kMember}, {"epoch", Base::kEpoch}}},
      {"issuance_requested",
       {{"recipient", Base::kMember}, {"class", Base::kVoucherClass}, {"amount", Base::kCredits}, {"epoch", Base::kEpoch}}},
      {"redemption_requested",
       {{"holder", Base::kMember}, {"class", Base::kVoucherClass}, {"amount", Base::kCredits}, {"category", Base::kCategory}}},
      {"proposal_tallied",
       {{"proposal", Base::kText}, {"yes", Base::kCount}, {"no", Base::kCount}, {"abstain", Base::kCount}, {"electorate", Base::kCount}}},
  }};
  return kHooks;
}

}  // namespace

std::string_view HookName(Hook hook) { return Hooks()[static_cast<size_t>(hook)].name; }

std::optional<Hook> HookFromName(std::string_view name) {
  for (size_t i = 0; i < kHookCount; ++i) {
    if (Hooks()[i].name == name) return static_cast<Hook>(i);
  }
  return std::nullopt;
}

std::span<const HookParam> HookParams(Hook hook) { return Hooks()[static_cast<size_t>(hook)].params; }

}  // namespace gongshe::contracts
