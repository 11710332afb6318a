#pragma once
// The answers of the node API's plan endpoints (node/API.md), read from one committed snapshot:
// the plan in force for an epoch, where a plan data file stands, and the final demand the ledger
// derives from its redemptions (ledger/plans.h). Kept apart from the HTTP plumbing (http_api.cc),
// which parses the request and maps the codes: NOT_FOUND and PLAN_DATA_MISSING to 404, the rest
// to 400.

#include <cstdint>
#include <optional>

#include "common/status.h"
#include "gongshe/v1/api.pb.h"
#include "ledger/hash.h"
#include "ledger/ledger.h"

namespace gongshe::node {

// NOT_FOUND when no plan was committed for `epoch`.
Result<v1::PlanResponse> PlanAnswer(const ledger::LedgerSnapshot& snapshot, uint64_t epoch);

// NOT_FOUND when no chunk of the file was sent.
Result<v1::PlanDataResponse> PlanDataAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& sha256);

// The demand file for the products stored as `products` (with `matrix`, both complete plan data)
// over epochs [from_epoch, from_epoch + epochs); by default the one epoch before the current one.
// Errors, in the order checked: PLAN_DATA_MISSING, DEMAND_WINDOW, PLAN_BAD_INPUT, PLAN_TOO_LARGE,
// DEMAND_TOO_LARGE.
Result<v1::DemandResponse> DemandAnswer(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& matrix,
                                        const ledger::Hash& products, std::optional<uint64_t> from_epoch,
                                        std::optional<uint32_t> epochs);

}  // namespace gongshe::node
