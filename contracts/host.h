#pragma once
// What a law may see of the ledger, and when it runs.
//
// A law never writes state. It reads through LawHost, a narrow read-only interface that the
// ledger implements over its committed state, and it acts only by returning effects (law.h).
// Every read is deterministic: the same state gives the same answer on every node.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>
#include <string_view>

#include "common/status.h"
#include "contracts/types.h"

namespace gongshe::contracts {

class LawHost {
 public:
  virtual ~LawHost() = default;
  // Milli-credits of `voucher_class` issued to anyone in `epoch` so far.
  virtual Result<int64_t> IssuedInEpoch(VoucherClass voucher_class, int64_t epoch) const = 0;
  // Milli-credits of `voucher_class` issued to `member` in `epoch` so far.
  virtual Result<int64_t> IssuedToMember(std::string_view member, VoucherClass voucher_class, int64_t epoch) const = 0;
  // The consumption-credit cap (milli-credits) of the plan committed for `epoch`; nullopt
  // when no plan exists for it.
  virtual Result<std::optional<int64_t>> PlanCap(int64_t epoch) const = 0;
  // Milli-credits of `voucher_class` that `member` holds now (unexpired lots).
  virtual Result<int64_t> Balance(std::string_view member, VoucherClass voucher_class) const = 0;
};

// A host with no state: nothing issued, no plan, empty balances.
class EmptyLawHost final : public LawHost {
 public:
  Result<int64_t> IssuedInEpoch(VoucherClass, int64_t) const override { return int64_t{0}; }
  Result<int64_t> IssuedToMember(std::string_view, VoucherClass, int64_t) const override { return int64_t{0}; }
  Result<std::optional<int64_t>> PlanCap(int64_t) const override { return std::optional<int64_t>{}; }
  Result<int64_t> Balance(std::string_view, VoucherClass) const override { return int64_t{0}; }
};

// The hooks: the moments at which the ledger runs laws, and the arguments it passes (by name
// and type; a law's `on` clause must declare exactly these). The ledger calls week_closed and
// epoch_closed once per member, in the first block past the boundary.
enum class Hook : uint8_t {
  kAttendanceRecorded,   // (worker: member, day: date, worked: hours, rate: credits per hour)
  kWeekClosed,           // (worker: member, week: week, worked: hours, rate: credits per hour)
  kEpochClosed,          // (citizen: member, epoch: epoch) — epoch is the one that just closed
  kIssuanceRequested,    // (recipient: member, class: voucher class, amount: credits, epoch: epoch)
  kRedemptionRequested,  // (holder: member, class: voucher class, amount: credits, category: category)
  kProposalTallied,      // (proposal: text, yes: count, no: count, abstain: count, electorate: count)
};
inline constexpr size_t kHookCount = 6;

struct HookParam {
  std::string_view name;
  Base type;
};

std::string_view HookName(Hook hook);
std::optional<Hook> HookFromName(std::string_view name);
std::span<const HookParam> HookParams(Hook hook);

}  // namespace gongshe::contracts
