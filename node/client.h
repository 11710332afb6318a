#pragma once
// A blocking client of a node's HTTP/JSON API (node/API.md), for the CLI, `gongshe devnet --demo`
// and benchmarks. Each call is one HTTP request over a kept-alive connection and returns the
// answer's message, or a Status:
//   - the API's own error (its code and message: NOT_FOUND, BAD_SIGNATURE, MEMPOOL_FULL, ...);
//   - NODE_UNREACHABLE when no answer came (refused, timed out, connection lost);
//   - BAD_RESPONSE when the answer is not what the API sends (not JSON of the expected message,
//     or larger than kMaxResponseBytes).
// Not thread-safe: one Client per thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "gongshe/v1/api.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace httplib {
class Client;
}

namespace gongshe::node {

inline constexpr size_t kMaxResponseBytes = 64 << 20;
inline constexpr std::string_view kDefaultNodeUrl = "http://127.0.0.1:26657";

class Client {
 public:
  // `url` is http://HOST[:PORT] (port 80 by default), with no path; BAD_NODE_URL otherwise.
  // `timeout` bounds connecting, each read and each write; a wait for a commit adds its own
  // length. Nothing is sent yet.
  static Result<std::unique_ptr<Client>> Create(std::string_view url,
                                                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& url() const { return url_; }

  // POST /v1/txs. OK when admitted or already known (response.code() says which); a refusal is
  // an error with the admission code.
  Result<v1::SubmitTxResponse> SubmitTx(std::string_view tx_bytes);

  // POST /v1/txs/batch (1 to kMaxBatchTxs transactions). OK with one answer per transaction, in
  // order, each OK, ALREADY_KNOWN or its refusal code.
  Result<v1::SubmitTxBatchResponse> SubmitTxBatch(std::span<const std::string> txs);

  // GET /v1/txs/{id}, waiting up to `wait` for its commit (NOT_FOUND if it is not committed by
  // then).
  Result<v1::TxResponse> GetTx(const ledger::Hash& tx_id, std::chrono::milliseconds wait = {});

  // GET /v1/accounts/{key}; NOT_FOUND for a key with no account.
  Result<v1::AccountResponse> GetAccount(const ledger::PublicKey& key);

  // GET /v1/blocks/{height}[?wait_ms=], and the latest block. With `wait` > 0 the node holds the
  // request until the block is committed, at most `wait` (NOT_FOUND then).
  Result<v1::BlockResponse> GetBlock(uint64_t height, std::chrono::milliseconds wait = {});
  Result<v1::BlockResponse> GetLatestBlock();

  // GET /v1/status
  Result<v1::StatusResponse> GetStatus();

  // GET /v1/proofs/accounts/{key}
  Result<v1::StateProofResponse> GetAccountProof(const ledger::PublicKey& key);

  // GET /v1/laws: the laws in force.
  Result<v1::LawsResponse> GetLaws();

  // GET /v1/laws/{name}[?version=V]: a stored version of a law with its text (default: the one in
  // force). BAD_LAW_NAME unless `name` is 1-64 of A-Z a-z 0-9 _.
  Result<v1::LawResponse> GetLaw(std::string_view name, std::optional<int64_t> version = std::nullopt);

  // GET /v1/explanations/{key}?week=N (`epoch` false) or ?epoch=N: what the laws did when the
  // member's week or epoch closed. NOT_FOUND when no law acted in it.
  Result<v1::ExplanationResponse> GetExplanation(const ledger::PublicKey& member, bool epoch, uint64_t period);

  // GET /v1/plans/{epoch}: the plan in force for an epoch; NOT_FOUND when there is none.
  Result<v1::PlanResponse> GetPlan(uint64_t epoch);

  // GET /v1/proposals/{id}: a law amendment, its tally and outcome; NOT_FOUND when there is none.
  Result<v1::ProposalResponse> GetProposal(const ledger::Hash& id);

  // GET /v1/proposals/{id}/votes/{key}: the voter's vote on the proposal, or its absence, with a
  // state proof; NOT_FOUND when there is no such proposal.
  Result<v1::VoteResponse> GetVote(const ledger::Hash& proposal, const ledger::PublicKey& voter);

  // GET /v1/plan-data/{sha256}: where a plan data file stands; NOT_FOUND when none of it was sent.
  Result<v1::PlanDataResponse> GetPlanData(const ledger::Hash& sha256);

  // GET /v1/demand: the demand file the ledger derives for the stored matrix and products files
  // over a window of closed epochs (default: the one before the current one).
  Result<v1::DemandResponse> GetDemand(const ledger::Hash& matrix, const ledger::Hash& products,
                                       std::optional<uint64_t> from_epoch, std::optional<uint32_t> epochs);

  // GET /v1/evidence?from=N&limit=M: recorded equivocation evidence from number `from` on, at most
  // `limit` (1 to 100) items.
  Result<v1::EvidenceListResponse> GetEvidence(uint64_t from, uint32_t limit);

  // GET /metrics, the Prometheus text.
  Result<std::string> GetMetrics();

 private:
  Client(std::string url, std::unique_ptr<httplib::Client> http, std::chrono::milliseconds timeout);

  struct Answer {
    int status = 0;
    std::string body;
  };
  // One request; `extra_wait` extends the read timeout (a server-side wait).
  Result<Answer> Send(const std::string& method, const std::string& path, const std::string& body,
                      std::chrono::milliseconds extra_wait);
  // The request's answer parsed as `M` when it is a 200, else its error.
  template <typename M>
  Result<M> Call(const std::string& method, const std::string& path, const std::string& body = {},
                 std::chrono::milliseconds extra_wait = {});

  std::string url_;
  std::unique_ptr<httplib::Client> http_;
  std::chrono::milliseconds timeout_;
};

}  // namespace gongshe::node
