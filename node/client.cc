#include "node/client.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "ledger/key_file.h"

namespace gongshe::node {
namespace {

using std::chrono::milliseconds;

constexpr std::string_view kScheme = "http://";

// The parts of http://HOST[:PORT][/]: HOST is a name or IPv4 address ([A-Za-z0-9.-]), or an IPv6
// address in brackets.
struct NodeAddress {
  std::string host;
  int port = 80;
};

bool IsHostChar(char c, bool bracketed) {
  if (bracketed) return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

std::optional<NodeAddress> ParseNodeUrl(std::string_view url) {
  if (!url.starts_with(kScheme)) return std::nullopt;
  std::string_view rest = url.substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  const bool bracketed = rest.starts_with('[');
  std::string_view host, after;
  if (bracketed) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = rest.substr(1, close - 1);
    after = rest.substr(close + 1);
  } else {
    const size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    after = colon == std::string_view::npos ? std::string_view() : rest.substr(colon);
  }
  if (host.empty()) return std::nullopt;
  for (char c : host) {
    if (!IsHostChar(c, bracketed)) return std::nullopt;
  }
  NodeAddress address{std::string(host), 80};
  if (after.empty()) return address;
  if (after[0] != ':' || after.size() < 2 || after.size() > 6) return std::nullopt;
  int port = 0;
  for (char c : after.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  address.port = port;
  return address;
}

template <typename Duration>
std::pair<time_t, time_t> SecondsAndMicros(Duration duration) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
  return {static_cast<time_t>(micros / 1'000'000), static_cast<time_t>(micros % 1'000'000)};
}

Status ParseJson(const std::string& json, google::protobuf::Message& message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // a newer node may add fields
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &message, options);
  if (!parsed.ok()) {
    return {"BAD_RESPONSE",
            "the node's answer is not a " + message.GetTypeName() + ": " + std::string(parsed.message())};
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Client>> Client::Create(std::string_view url, milliseconds timeout) {
  std::optional<NodeAddress> address = ParseNodeUrl(url);
  if (!address) {
    return Status("BAD_NODE_URL", "'" + std::string(url.substr(0, 200)) +
                                      "' is not a node URL like http://127.0.0.1:26657 (http only, no path)");
  }
  auto http = std::make_unique<httplib::Client>(address->host, address->port);
  http->set_keep_alive(true);
  // httplib writes headers and body in separate sends: without TCP_NODELAY each request waits for
  // the server's delayed ACK (~40 ms).
  http->set_tcp_nodelay(true);
  const auto [seconds, micros] = SecondsAndMicros(timeout);
  http->set_connection_timeout(seconds, micros);
  http->set_write_timeout(seconds, micros);
  std::string canonical(url);
  if (canonical.ends_with('/')) canonical.pop_back();
  return std::unique_ptr<Client>(new Client(std::move(canonical), std::move(http), timeout));
}

Client::Client(std::string url, std::unique_ptr<httplib::Client> http, milliseconds timeout)
    : url_(std::move(url)), http_(std::move(http)), timeout_(timeout) {}

Client::~Client() = default;

Result<Client::Answer> Client::Send(const std::string& method, const std::string& path, const std::string& body,
                                    milliseconds extra_wait) {
  const auto [seconds, micros] = SecondsAndMicros(timeout_ + extra_wait);
  http_->set_read_timeout(seconds, micros);
  httplib::Request request;
  request.method = method;
  request.path = path;
  if (method == "POST") {
    request.body = body;
    request.set_header("Content-Type", "application/json");
  }
  Answer answer;
  bool too_large = false;
  request.content_receiver = [&](const char* data, size_t size, uint64_t, uint64_t) {
    if (answer.body.size() + size > kMaxResponseBytes) {
      too_large = true;
      return false;
    }
    answer.body.append(data, size);
    return true;
  };
  httplib::Result result = http_->send(request);
  if (too_large) {
    return Status("BAD_RESPONSE", "the node's answer is larger than " + std::to_string(kMaxResponseBytes) + " bytes");
  }
  if (!result) {
    return Status("NODE_UNREACHABLE", "no answer from " + url_ + path + ": " + httplib::to_string(result.error()));
  }
  answer.status = result->status;
  return answer;
}

template <typename M>
Result<M> Client::Call(const std::string& method, const std::string& path, const std::string& body,
                       milliseconds extra_wait) {
  Result<Answer> answer = Send(method, path, body, extra_wait);
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    v1::ErrorResponse error;
    if (!ParseJson(answer->body, error).ok() || error.error().code().empty()) {
      return Status("BAD_RESPONSE",
                    "HTTP " + std::to_string(answer->status) + " from " + url_ + path + " without an error body");
    }
    return Status(error.error().code(), error.error().message());
  }
  M message;
  GS_RETURN_IF_ERROR(ParseJson(answer->body, message));
  return message;
}

Result<v1::SubmitTxResponse> Client::SubmitTx(std::string_view tx_bytes) {
  v1::SubmitTxRequest request;
  request.set_tx(std::string(tx_bytes));
  std::string json;
  GS_ASSERT(google::protobuf::util::MessageToJsonString(request, &json).ok());
  return Call<v1::SubmitTxResponse>("POST", "/v1/txs", json);
}

Result<v1::SubmitTxBatchResponse> Client::SubmitTxBatch(std::span<const std::string> txs) {
  v1::SubmitTxBatchRequest request;
  for (const std::string& tx : txs) request.add_txs(tx);
  std::string json;
  GS_ASSERT(google::protobuf::util::MessageToJsonString(request, &json).ok());
  Result<v1::SubmitTxBatchResponse> response = Call<v1::SubmitTxBatchResponse>("POST", "/v1/txs/batch", json);
  if (response.ok() && response->results_size() != static_cast<int>(txs.size())) {
    return Status("BAD_RESPONSE", url_ + " answered " + std::to_string(response->results_size()) + " of " +
                                      std::to_string(txs.size()) + " transactions");
  }
  return response;
}

Result<v1::TxResponse> Client::GetTx(const ledger::Hash& tx_id, milliseconds wait) {
  std::string path = "/v1/txs/" + ledger::ToHex(tx_id);
  if (wait.count() > 0) path += "?wait_ms=" + std::to_string(wait.count());
  return Call<v1::TxResponse>("GET", path, {}, wait);
}

Result<v1::AccountResponse> Client::GetAccount(const ledger::PublicKey& key) {
  return Call<v1::AccountResponse>("GET", "/v1/accounts/" + ledger::PublicKeyToHex(key));
}

Result<v1::BlockResponse> Client::GetBlock(uint64_t height, milliseconds wait) {
  std::string path = "/v1/blocks/" + std::to_string(height);
  if (wait.count() > 0) path += "?wait_ms=" + std::to_string(wait.count());
  return Call<v1::BlockResponse>("GET", path, {}, wait);
}

Result<v1::BlockResponse> Client::GetLatestBlock() { return Call<v1::BlockResponse>("GET", "/v1/blocks/latest"); }

Result<v1::StatusResponse> Client::GetStatus() { return Call<v1::StatusResponse>("GET", "/v1/status"); }

Result<v1::StateProofResponse> Client::GetAccountProof(const ledger::PublicKey& key) {
  return Call<v1::StateProofResponse>("GET", "/v1/proofs/accounts/" + ledger::PublicKeyToHex(key));
}

Result<v1::LawsResponse> Client::GetLaws() { return Call<v1::LawsResponse>("GET", "/v1/laws"); }

Result<v1::LawResponse> Client::GetLaw(std::string_view name, std::optional<int64_t> version) {
  const bool word = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (!word) return Status("BAD_LAW_NAME", "a law's name is 1-64 of A-Z, a-z, 0-9 and _");
  std::string path = "/v1/laws/" + std::string(name);
  if (version) path += "?version=" + std::to_string(*version);
  return Call<v1::LawResponse>("GET", path);
}

Result<v1::ExplanationResponse> Client::GetExplanation(const ledger::PublicKey& member, bool epoch, uint64_t period) {
  return Call<v1::ExplanationResponse>("GET", "/v1/explanations/" + ledger::PublicKeyToHex(member) +
                                                  (epoch ? "?epoch=" : "?week=") + std::to_string(period));
}

Result<v1::PlanResponse> Client::GetPlan(uint64_t epoch) {
  return Call<v1::PlanResponse>("GET", "/v1/plans/" + std::to_string(epoch));
}

Result<v1::ProposalResponse> Client::GetProposal(const ledger::Hash& id) {
  return Call<v1::ProposalResponse>("GET", "/v1/proposals/" + ToHex(id));
}

Result<v1::VoteResponse> Client::GetVote(const ledger::Hash& proposal, const ledger::PublicKey& voter) {
  return Call<v1::VoteResponse>("GET", "/v1/proposals/" + ToHex(proposal) + "/votes/" + ledger::PublicKeyToHex(voter));
}

Result<v1::PlanDataResponse> Client::GetPlanData(const ledger::Hash& sha256) {
  return Call<v1::PlanDataResponse>("GET", "/v1/plan-data/" + ToHex(sha256));
}

Result<v1::DemandResponse> Client::GetDemand(const ledger::Hash& matrix, const ledger::Hash& products,
                                             std::optional<uint64_t> from_epoch, std::optional<uint32_t> epochs) {
  std::string path = "/v1/demand?matrix=" + ToHex(matrix) + "&products=" + ToHex(products);
  if (from_epoch) path += "&from_epoch=" + std::to_string(*from_epoch);
  if (epochs) path += "&epochs=" + std::to_string(*epochs);
  return Call<v1::DemandResponse>("GET", path);
}

Result<v1::EvidenceListResponse> Client::GetEvidence(uint64_t from, uint32_t limit) {
  return Call<v1::EvidenceListResponse>("GET", "/v1/evidence?from=" + std::to_string(from) +
                                                   "&limit=" + std::to_string(limit));
}

Result<std::string> Client::GetMetrics() {
  Result<Answer> answer = Send("GET", "/metrics", {}, {});
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    return Status("BAD_RESPONSE", "HTTP " + std::to_string(answer->status) + " from " + url_ + "/metrics");
  }
  return std::move(answer->body);
}

}  // namespace gongshe::node
