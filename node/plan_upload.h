#pragma once
// Sending plans to a node (ledger/plans.h): a file as plan data, in chunks, and any transaction
// followed into its block. For `gongshe plan upload|commit` and the devnet demo.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "gongshe/v1/api.pb.h"
#include "ledger/crypto.h"
#include "ledger/tx_builder.h"
#include "node/client.h"

namespace gongshe::node {

// Submits `tx` and waits up to `wait` for its commit; the committed transaction, whatever its
// result code. Errors: the admission's refusal, NOT_COMMITTED, or the client's.
Result<v1::TxResponse> SubmitAndWait(Client& client, const std::string& tx, std::chrono::milliseconds wait);

// Sends `file` (1 .. kMaxPlanDataBytes) as plan data signed by `planner`, unless the node holds it
// complete already; `next_nonce` is the planner's next nonce and is advanced past the chunks sent.
// Waits for every chunk's commit. True when sent, false when it was on the ledger. Errors:
// PLAN_DATA_TOO_LARGE, a chunk's refusal or result code, NOT_COMMITTED.
Result<bool> SendPlanData(Client& client, const ledger::TxBuilder& builder, const ledger::KeyPair& planner,
                          uint64_t& next_nonce, std::string_view file, std::chrono::milliseconds wait);

}  // namespace gongshe::node
