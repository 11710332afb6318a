#include "ledger/plans.h"

#include <limits>

#include "ledger/state_machine.h"
#include "planner/fixed_point.h"

namespace gongshe::ledger {

uint64_t PlanDataChunks(uint64_t size) {
  GS_ASSERT(size > 0 && size <= kMaxPlanDataBytes);
  return (size + kPlanChunkBytes - 1) / kPlanChunkBytes;
}

uint64_t PlanChunkLength(uint64_t size, uint64_t index) {
  const uint64_t chunks = PlanDataChunks(size);
  GS_ASSERT(index < chunks);
  return index + 1 < chunks ? kPlanChunkBytes : size - index * kPlanChunkBytes;
}

Status CheckDemandWindow(const DemandWindow& window, uint64_t current_epoch) {
  if (window.epochs < 1 || window.epochs > kMaxDemandEpochs) {
    return {"DEMAND_WINDOW", "the demand window must span 1 to " + std::to_string(kMaxDemandEpochs) + " epochs, not " +
                                 std::to_string(window.epochs)};
  }
  if (window.from_epoch > current_epoch || current_epoch - window.from_epoch < window.epochs) {
    return {"DEMAND_WINDOW", "the demand window must hold closed epochs only: epochs " +
                                 std::to_string(window.from_epoch) + " to " +
                                 std::to_string(window.from_epoch + window.epochs - 1) + " reach the current epoch " +
                                 std::to_string(current_epoch)};
  }
  return Status::Ok();
}

Result<std::string> LedgerDemandCsv(std::span<const std::string> product_names, const DemandWindow& window,
                                    const RedeemedIn& redeemed) {
  GS_ASSERT(window.epochs >= 1 && window.epochs <= kMaxDemandEpochs);
  const uint64_t last = window.from_epoch + window.epochs - 1;
  std::string csv = "# final demand from the ledger: credits redeemed per category in epochs " +
                    std::to_string(window.from_epoch) + " to " + std::to_string(last) +
                    ", per epoch (1 unit = 1 credit)\nproduct,consumer,public,accumulation\n";
  for (size_t j = 0; j < product_names.size(); ++j) {
    const std::string& name = product_names[j];
    if (!IsValidCategory(name)) continue;
    __int128 total_milli = 0;  // at most kMaxDemandEpochs int64 figures: no overflow
    for (uint64_t epoch = window.from_epoch; epoch <= last; ++epoch) {
      const int64_t figure = redeemed(epoch, name);
      GS_ASSERT(figure >= 0);
      total_milli += figure;
    }
    if (total_milli == 0) continue;
    // Milli-credits to 10^-6 units, averaged over the window.
    const __int128 micro = total_milli * (planner::kQuantityScale / 1000) / window.epochs;
    if (micro > planner::kMaxQuantity) {
      return Status("DEMAND_TOO_LARGE", "the demand for '" + name + "' passes the planner's bound of " +
                                            planner::FormatFixed(planner::kMaxQuantity, planner::kQuantityDecimals) +
                                            " units");
    }
    csv += std::to_string(j + 1) + "," +
           planner::FormatFixed(static_cast<int64_t>(micro), planner::kQuantityDecimals) + ",0,0\n";
  }
  return csv;
}

Result<LedgerEconomy> BuildLedgerEconomy(std::string_view matrix, std::string_view products,
                                         const DemandWindow& window, const RedeemedIn& redeemed) {
  Result<planner::Economy> economy = planner::ParseEconomyWithoutDemand(matrix, products);
  if (!economy.ok()) return Status("PLAN_BAD_INPUT", economy.status().message());
  if (economy->n() > kMaxLedgerPlanProducts) {
    return Status("PLAN_TOO_LARGE", "the economy has " + std::to_string(economy->n()) +
                                        " products; a plan on the ledger has at most " +
                                        std::to_string(kMaxLedgerPlanProducts));
  }
  Result<std::string> demand = LedgerDemandCsv(economy->names, window, redeemed);
  if (!demand.ok()) return demand.status();
  const Status parsed = planner::ParseDemand(*demand, "demand", *economy);
  // The file was written for exactly these products, in the planner's format.
  GS_ASSERT(parsed.ok());
  economy->demand_sha256 = planner::Sha256Of(AsBytes(*demand));
  return LedgerEconomy{*std::move(economy), *std::move(demand)};
}

Result<int64_t> PlanCapMilli(int64_t consumer_labour_micro_hours, int64_t labour_rate_milli_per_hour) {
  if (consumer_labour_micro_hours < 0 || labour_rate_milli_per_hour < 0) {
    return Status("BAD_FIELD", "labour values and the labour rate cannot be negative");
  }
  const __int128 cap = static_cast<__int128>(consumer_labour_micro_hours) * labour_rate_milli_per_hour /
                       planner::kHoursScale;
  if (cap > std::numeric_limits<int64_t>::max()) {
    return Status("PLAN_OVERFLOW", "the plan's cap on consumption credits does not fit in 64 bits");
  }
  return static_cast<int64_t>(cap);
}

Result<std::string> ReadPlanData(const StateView& state, const Hash& sha256) {
  std::optional<v1::PlanBlob> blob = state.PlanBlob(sha256);
  if (!blob || !blob->complete()) {
    return Status("PLAN_DATA_MISSING", "plan data " + ToHex(sha256) + " is not on the ledger (or not complete)");
  }
  std::string whole;
  whole.reserve(blob->size());
  const uint64_t chunks = PlanDataChunks(blob->size());
  for (uint64_t i = 0; i < chunks; ++i) {
    std::optional<v1::PlanChunk> chunk = state.PlanChunk(sha256, i);
    GS_ASSERT(chunk.has_value());  // a complete file has every chunk
    whole += chunk->data();
  }
  GS_ASSERT(whole.size() == blob->size());
  return whole;
}

}  // namespace gongshe::ledger
