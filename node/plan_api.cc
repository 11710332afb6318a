#include "node/plan_api.h"

#include "ledger/plans.h"
#include "ledger/state.h"

namespace gongshe::node {
namespace {

std::string Hex(const std::string& bytes) { return ToHex(AsBytes(bytes)); }

}  // namespace

Result<v1::PlanResponse> PlanAnswer(const ledger::LedgerSnapshot& snapshot, uint64_t epoch) {
  const ledger::StateView state(snapshot.state());
  std::optional<v1::PlanRecord> plan = state.Plan(epoch);
  if (!plan) return Status("NOT_FOUND", "no plan was committed for epoch " + std::to_string(epoch));
  v1::PlanResponse response;
  response.set_height(snapshot.height());
  response.set_epoch(plan->epoch());
  response.set_plan_sha256(Hex(plan->plan_sha256()));
  response.set_matrix_sha256(Hex(plan->matrix_sha256()));
  response.set_products_sha256(Hex(plan->products_sha256()));
  response.set_demand_sha256(Hex(plan->demand_sha256()));
  response.set_demand_from_epoch(plan->demand_from_epoch());
  response.set_demand_epochs(plan->demand_epochs());
  response.set_products(plan->products());
  response.set_consumer_labour_micro_hours(plan->consumer_labour_micro_hours());
  response.set_public_labour_micro_hours(plan->public_labour_micro_hours());
  response.set_accumulation_labour_micro_hours(plan->accumulation_labour_micro_hours());
  response.set_total_labour_micro_hours(plan->total_labour_micro_hours());
  response.set_cap_milli(plan->cap_milli());
  response.set_issued_milli(state.EpochIssuance(v1::VOUCHER_CLASS_CONSUMPTION, epoch).issued_milli());
  response.set_planner(Hex(plan->planner()));
  response.set_committed_height(plan->committed_height());
  return response;
}

Result<v1::PlanDataResponse> PlanDataAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& sha256) {
  const ledger::StateView state(snapshot.state());
  std::optional<v1::PlanBlob> blob = state.PlanBlob(sha256);
  if (!blob) return Status("NOT_FOUND", "no plan data " + ToHex(sha256) + " was sent");
  v1::PlanDataResponse response;
  response.set_height(snapshot.height());
  response.set_sha256(ToHex(sha256));
  response.set_size(blob->size());
  response.set_chunks(ledger::PlanDataChunks(blob->size()));
  response.set_received(blob->received());
  response.set_complete(blob->complete());
  response.set_completed_height(blob->completed_height());
  return response;
}

Result<v1::DemandResponse> DemandAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& matrix,
                                        const ledger::Hash& products, std::optional<uint64_t> from_epoch,
                                        std::optional<uint32_t> epochs) {
  const ledger::StateView state(snapshot.state());
  const uint64_t current = state.ChainState().epoch();
  ledger::DemandWindow window;
  window.epochs = epochs.value_or(1);
  if (from_epoch) {
    window.from_epoch = *from_epoch;
  } else if (current >= window.epochs) {
    window.from_epoch = current - window.epochs;
  }
  Result<std::string> matrix_text = ledger::ReadPlanData(state, matrix);
  if (!matrix_text.ok()) return matrix_text.status();
  Result<std::string> products_text = ledger::ReadPlanData(state, products);
  if (!products_text.ok()) return products_text.status();
  GS_RETURN_IF_ERROR(ledger::CheckDemandWindow(window, current));
  Result<ledger::LedgerEconomy> economy = ledger::BuildLedgerEconomy(
      *matrix_text, *products_text, window,
      [&state](uint64_t epoch, std::string_view category) { return state.RedeemedInEpoch(epoch, category); });
  if (!economy.ok()) return economy.status();
  v1::DemandResponse response;
  response.set_height(snapshot.height());
  response.set_epoch(current);
  response.set_from_epoch(window.from_epoch);
  response.set_epochs(window.epochs);
  response.set_matrix_sha256(ToHex(matrix));
  response.set_products_sha256(ToHex(products));
  response.set_demand_sha256(ToHex(economy->economy.demand_sha256));
  response.set_demand(economy->demand_csv);
  return response;
}

}  // namespace gongshe::node
