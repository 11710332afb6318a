#include "node/plan_upload.h"

#include <algorithm>
#include <span>
#include <vector>

#include "ledger/hash.h"
#include "ledger/plans.h"

namespace gongshe::node {
namespace {

// Chunks per batch request: ~1 MiB of base64, well under the API's body limit.
constexpr size_t kChunksPerBatch = 64;

}  // namespace

Result<v1::TxResponse> SubmitAndWait(Client& client, const std::string& tx, std::chrono::milliseconds wait) {
  Result<v1::SubmitTxResponse> submitted = client.SubmitTx(tx);
  if (!submitted.ok()) return submitted.status();
  Result<v1::TxResponse> committed = client.GetTx(ledger::Sha256(AsBytes(tx)), wait);
  if (!committed.ok() && committed.status().code() == "NOT_FOUND") {
    return Status("NOT_COMMITTED", "tx " + submitted->tx_id() + " was admitted but not committed within " +
                                       std::to_string(wait.count()) + " ms");
  }
  return committed;
}

Result<bool> SendPlanData(Client& client, const ledger::TxBuilder& builder, const ledger::KeyPair& planner,
                          uint64_t& next_nonce, std::string_view file, std::chrono::milliseconds wait) {
  if (file.empty() || file.size() > ledger::kMaxPlanDataBytes) {
    return Status("PLAN_DATA_TOO_LARGE", "a plan input or plan on the ledger is 1 to " +
                                             std::to_string(ledger::kMaxPlanDataBytes) + " bytes; this one is " +
                                             std::to_string(file.size()));
  }
  const ledger::Hash name = ledger::Sha256(AsBytes(file));
  Result<v1::PlanDataResponse> known = client.GetPlanData(name);
  if (known.ok() && known->complete()) return false;
  if (!known.ok() && known.status().code() != "NOT_FOUND") return known.status();
  const std::vector<std::string> txs = builder.PlanData(planner, next_nonce, file);
  for (size_t first = 0; first < txs.size(); first += kChunksPerBatch) {
    const std::span<const std::string> batch(txs.data() + first, std::min(kChunksPerBatch, txs.size() - first));
    Result<v1::SubmitTxBatchResponse> answers = client.SubmitTxBatch(batch);
    if (!answers.ok()) return answers.status();
    for (const v1::SubmitTxResponse& answer : answers->results()) {
      if (answer.code() != "OK" && answer.code() != "ALREADY_KNOWN") {
        return Status(answer.code(), "a chunk of plan data " + ToHex(name) + " was refused: " + answer.message());
      }
    }
  }
  next_nonce += txs.size();
  for (const std::string& tx : txs) {
    Result<v1::TxResponse> committed = client.GetTx(ledger::Sha256(AsBytes(tx)), wait);
    if (!committed.ok()) {
      if (committed.status().code() != "NOT_FOUND") return committed.status();
      return Status("NOT_COMMITTED", "a chunk of plan data " + ToHex(name) + " was not committed in time");
    }
    if (committed->code() != "OK") {
      return Status(committed->code(), "a chunk of plan data " + ToHex(name) + ": " + committed->message());
    }
  }
  return true;
}

}  // namespace gongshe::node
