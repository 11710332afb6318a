#pragma once
// Plans on the ledger (planner/README.md, "Plans on the ledger"): the bounds of plan data, the
// final demand the ledger derives from its own redemptions, and the economy a committed plan is
// checked against. Integer code only, and shared: the state machine checks plans with it and the
// node's API answers demand queries with it, so the demand file a planner fetches is byte for
// byte the one every validator rebuilds.
//
// The rule. A plan names three files by SHA-256 -- matrix, products and demand -- and
// validators must hold the same bytes. The matrix and products files are stored on the ledger
// as plan data (tx PlanData, in chunks, named by their SHA-256), and so is the serialised plan.
// The demand file is never sent: each validator writes it from its own redemption tallies over
// a window of closed epochs (LedgerDemandCsv), so a plan follows what people actually took, and
// a plan computed from other figures fails on its hash.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "ledger/hash.h"
#include "ledger/state.h"
#include "planner/model.h"

namespace gongshe::ledger {

// Plan data travels in chunks of kPlanChunkBytes (each in one transaction under kMaxTxBytes); one
// file is at most kMaxPlanDataBytes, so at most kMaxPlanDataChunks transactions, which fit in a
// signer's mempool queue at once.
inline constexpr uint64_t kPlanChunkBytes = 12 * 1024;
inline constexpr uint64_t kMaxPlanDataBytes = uint64_t{2} << 20;
inline constexpr uint64_t kMaxPlanDataChunks = (kMaxPlanDataBytes + kPlanChunkBytes - 1) / kPlanChunkBytes;
// Products of a plan on the ledger (a block checks the plan's certificate in O(non-zeros)).
inline constexpr uint32_t kMaxLedgerPlanProducts = 10'000;
// The demand window: at most this many closed epochs.
inline constexpr uint32_t kMaxDemandEpochs = 8;
// A plan may be committed for the current epoch or at most this many ahead.
inline constexpr uint64_t kMaxPlanLeadEpochs = 4;

// The number of chunks of a file of `size` bytes (1 .. kMaxPlanDataBytes), and the exact length
// of chunk `index` (< PlanDataChunks(size)): kPlanChunkBytes, except the last.
uint64_t PlanDataChunks(uint64_t size);
uint64_t PlanChunkLength(uint64_t size, uint64_t index);

// The epochs [from_epoch, from_epoch + epochs) whose redemptions make the demand.
struct DemandWindow {
  uint64_t from_epoch = 0;
  uint32_t epochs = 0;
};

// DEMAND_WINDOW unless 1 <= epochs <= kMaxDemandEpochs and every epoch of the window has closed
// before `current_epoch` (so its tallies are final).
Status CheckDemandWindow(const DemandWindow& window, uint64_t current_epoch);

// Milli-credits redeemed for `category` in `epoch`, every class (0 when none).
using RedeemedIn = std::function<int64_t(uint64_t epoch, std::string_view category)>;

// The demand file, in the planner's format: a comment naming the window, the header, then one row
// per product whose name is a ledger category (1-64 of a-z 0-9 _ -) with redemptions in the
// window, in product order: consumer = the credits redeemed per epoch of the window (one unit of a
// consumer product is one credit's worth of it), floored to 10^-6; public and accumulation 0.
// DEMAND_TOO_LARGE when a figure passes the planner's bound on quantities.
Result<std::string> LedgerDemandCsv(std::span<const std::string> product_names, const DemandWindow& window,
                                    const RedeemedIn& redeemed);

struct LedgerEconomy {
  planner::Economy economy;  // with the three files' hashes
  std::string demand_csv;
};

// The economy of a plan on the ledger: the stored matrix and products files, and the demand
// rebuilt from the ledger. Errors: PLAN_BAD_INPUT (a file does not parse; the planner's message),
// PLAN_TOO_LARGE (more than kMaxLedgerPlanProducts products), DEMAND_TOO_LARGE.
Result<LedgerEconomy> BuildLedgerEconomy(std::string_view matrix, std::string_view products,
                                         const DemandWindow& window, const RedeemedIn& redeemed);

// The cap on consumption credits of a plan: its consumer labour value (10^-6 hours) at the chain's
// labour rate (milli-credits per hour), floor(hours * rate / 10^6). PLAN_OVERFLOW when it leaves
// int64, BAD_FIELD for a negative figure.
Result<int64_t> PlanCapMilli(int64_t consumer_labour_micro_hours, int64_t labour_rate_milli_per_hour);

// The whole of a complete plan data file from the committed state; PLAN_DATA_MISSING when it is
// absent or not complete.
Result<std::string> ReadPlanData(const StateView& state, const Hash& sha256);

}  // namespace gongshe::ledger
