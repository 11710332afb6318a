#include "node/http_api.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "common/thread_pool.h"
#include "gongshe/v1/api.pb.h"
#include "gongshe/v1/proof.pb.h"
#include "ledger/block_executor.h"
#include "ledger/key_file.h"
#include "ledger/state.h"
#include "ledger/state_tree.h"
#include "node/evidence_api.h"
#include "node/law_api.h"
#include "node/plan_api.h"
#include "node/proposal_api.h"

namespace gongshe::node {
namespace {

using std::chrono::milliseconds;

// How long one call into WaitForHeightAbove may block, so that Stop never waits for a whole wait_ms.
constexpr milliseconds kWaitSlice{200};
// How long Start waits for the listening thread to come up.
constexpr milliseconds kStartTimeout{5'000};
constexpr size_t kMaxDecimalDigits = 20;  // 2^64 - 1 has 20

constexpr const char* kJsonType = "application/json";

// An answer before it is written.
struct Reply {
  int status;
  std::string body;
  std::string content_type;
  std::string allow;  // the Allow header of a 405
};

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  GS_ASSERT(google::protobuf::util::MessageToJsonString(message, &json, options).ok());
  return json;
}

Reply JsonReply(const google::protobuf::Message& message) { return {200, ToJson(message), kJsonType, {}}; }

Reply ErrorReply(int status, const std::string& code, const std::string& message, const std::string& tx_id = "") {
  GS_ASSERT(status >= 400);
  v1::ErrorResponse response;
  response.mutable_error()->set_code(code);
  response.mutable_error()->set_message(message);
  response.mutable_error()->set_tx_id(tx_id);
  return {status, ToJson(response), kJsonType, {}};
}

std::string Hex(std::string_view bytes) { return ToHex(AsBytes(bytes)); }

// Outside text echoed in an error message: printable ASCII only (JSON strings must be UTF-8, and a
// message is for reading), at most `max` bytes.
std::string Printable(std::string_view text, size_t max = 200) {
  std::string out(text.substr(0, max));
  for (char& c : out) {
    const unsigned char byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) c = '?';
  }
  return out;
}

// The HTTP status of an admission answer (node/mempool.h lists the codes). Codes that a request
// could never pass as sent are 400; codes that depend on the committed state or the pool are 409
// (a nonce conflict), 422 (refused by the rules), 429 or 503 (try again later).
int AdmissionHttpStatus(const std::string& code) {
  if (code == "TX_TOO_LARGE") return 413;
  if (code == "MALFORMED" || code == "UNSUPPORTED_VERSION" || code == "WRONG_CHAIN" || code == "UNKNOWN_ACTION" ||
      code == "BAD_SIGNATURE") {
    return 400;
  }
  if (code == "NONCE_TOO_LOW" || code == "DUPLICATE_NONCE") return 409;
  if (code == "ACCOUNT_QUEUE_FULL") return 429;
  if (code == "MEMPOOL_FULL" || code == "MEMPOOL_BUSY") return 503;
  return 422;
}

// The routes, matched on the decoded path alone; the method is checked afterwards (405).
enum class Route { kSubmitTx, kSubmitTxBatch, kTx, kAccount, kBlock, kStatus, kAccountProof, kMetrics, kLaws, kLaw, kExplanation, kPlan, kPlanData, kDemand, kEvidence, kProposal, kNone };

struct Match {
  Route route = Route::kNone;
  std::string_view arg;  // the last path segment of a route with a parameter
};

Match MatchPath(std::string_view path) {
  if (path == "/v1/txs") return {Route::kSubmitTx, {}};
  if (path == "/v1/txs/batch") return {Route::kSubmitTxBatch, {}};
  if (path == "/v1/status") return {Route::kStatus, {}};
  if (path == "/metrics") return {Route::kMetrics, {}};
  if (path == "/v1/laws") return {Route::kLaws, {}};
  if (path == "/v1/demand") return {Route::kDemand, {}};
  if (path == "/v1/evidence") return {Route::kEvidence, {}};
  // A proposal, or one voter's vote on it: /v1/proposals/{id}[/votes/{key}] (GetProposal parses).
  constexpr std::string_view kProposals = "/v1/proposals/";
  if (path.starts_with(kProposals) && path.size() > kProposals.size()) {
    return {Route::kProposal, path.substr(kProposals.size())};
  }
  constexpr std::pair<std::string_view, Route> kPrefixed[] = {{"/v1/txs/", Route::kTx},
                                                              {"/v1/accounts/", Route::kAccount},
                                                              {"/v1/blocks/", Route::kBlock},
                                                              {"/v1/proofs/accounts/", Route::kAccountProof},
                                                              {"/v1/laws/", Route::kLaw},
                                                              {"/v1/explanations/", Route::kExplanation},
                                                              {"/v1/plans/", Route::kPlan},
                                                              {"/v1/plan-data/", Route::kPlanData}};
  for (const auto& [prefix, route] : kPrefixed) {
    if (!path.starts_with(prefix)) continue;
    std::string_view arg = path.substr(prefix.size());
    if (arg.empty() || arg.find('/') != std::string_view::npos) return {};
    return {route, arg};
  }
  return {};
}

bool IsSubmit(Route route) { return route == Route::kSubmitTx || route == Route::kSubmitTxBatch; }

std::string_view AllowedMethod(Route route) { return IsSubmit(route) ? "POST" : "GET"; }

// Strict decimal: digits only, no sign, at most `max_digits`, no overflow.
std::optional<uint64_t> ParseDecimal(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<ledger::Hash> ParseHashHex(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  std::optional<Bytes> bytes = FromHex(hex);
  if (!bytes) return std::nullopt;
  return ledger::HashFromBytes(*bytes);
}

// Holds a slot among the requests that may wait for a commit at once.
class WaitSlot {
 public:
  WaitSlot(std::atomic<size_t>& waiting, size_t max) : waiting_(waiting) {
    taken_ = waiting_.fetch_add(1) < max;
    if (!taken_) waiting_.fetch_sub(1);
  }
  ~WaitSlot() {
    if (taken_) waiting_.fetch_sub(1);
  }
  WaitSlot(const WaitSlot&) = delete;
  WaitSlot& operator=(const WaitSlot&) = delete;
  bool taken() const { return taken_; }

 private:
  std::atomic<size_t>& waiting_;
  bool taken_ = false;
};

v1::TxView ViewOfBody(const v1::SignedTx& envelope, const v1::TxBody& body) {
  v1::TxView view;
  view.set_signer(Hex(envelope.signer()));
  view.set_cosigner(Hex(envelope.cosigner()));
  view.set_version(body.version());
  view.set_chain_id(body.chain_id());
  view.set_nonce(body.nonce());
  switch (body.action_case()) {
    case v1::TxBody::kRegisterAccount: {
      v1::RegisterAccountView* out = view.mutable_register_account();
      out->set_public_key(Hex(body.register_account().public_key()));
      out->set_role(body.register_account().role());
      break;
    }
    case v1::TxBody::kRetireAccount:
      view.mutable_retire_account()->set_public_key(Hex(body.retire_account().public_key()));
      break;
    case v1::TxBody::kAttendance: {
      v1::AttendanceView* out = view.mutable_attendance();
      out->set_member(Hex(body.attendance().member()));
      out->set_shift_start_s(body.attendance().shift_start_s());
      out->set_minutes(body.attendance().minutes());
      break;
    }
    case v1::TxBody::kIssueVouchers: {
      const v1::IssueVouchers& in = body.issue_vouchers();
      v1::IssueVouchersView* out = view.mutable_issue_vouchers();
      out->set_voucher_class(in.voucher_class());
      out->set_member(Hex(in.member()));
      out->set_amount_milli(in.amount_milli());
      out->set_reason(in.reason());
      break;
    }
    case v1::TxBody::kRedeemVouchers: {
      const v1::RedeemVouchers& in = body.redeem_vouchers();
      v1::RedeemVouchersView* out = view.mutable_redeem_vouchers();
      out->set_voucher_class(in.voucher_class());
      out->set_amount_milli(in.amount_milli());
      out->set_category(in.category());
      out->set_store(Hex(in.store()));
      break;
    }
    case v1::TxBody::kPlanData: {
      const v1::PlanData& in = body.plan_data();
      v1::PlanDataView* out = view.mutable_plan_data();
      out->set_sha256(Hex(in.sha256()));
      out->set_size(in.size());
      out->set_index(in.index());
      out->set_data_bytes(in.data().size());
      break;
    }
    case v1::TxBody::kCommitPlan: {
      const v1::CommitPlan& in = body.commit_plan();
      v1::CommitPlanView* out = view.mutable_commit_plan();
      out->set_epoch(in.epoch());
      out->set_plan_sha256(Hex(in.plan_sha256()));
      out->set_matrix_sha256(Hex(in.matrix_sha256()));
      out->set_products_sha256(Hex(in.products_sha256()));
      out->set_demand_sha256(Hex(in.demand_sha256()));
      out->set_demand_from_epoch(in.demand_from_epoch());
      out->set_demand_epochs(in.demand_epochs());
      break;
    }
    case v1::TxBody::kProposeAmendment: {
      const v1::ProposeAmendment& in = body.propose_amendment();
      v1::ProposeAmendmentView* out = view.mutable_propose_amendment();
      out->set_file(in.file());
      out->set_closes_week(in.closes_week());
      out->set_source_hash(ToHex(ledger::Sha256(AsBytes(in.source()))));
      out->set_source_bytes(in.source().size());
      break;
    }
    case v1::TxBody::kCastVote:
      view.mutable_cast_vote()->set_proposal(Hex(body.cast_vote().proposal()));
      view.mutable_cast_vote()->set_choice(body.cast_vote().choice());
      break;
    case v1::TxBody::ACTION_NOT_SET: break;
  }
  return view;
}

// The transaction as signed; nullopt when its bytes do not parse (its result code says why).
std::optional<v1::TxView> ViewOfTx(const std::string& bytes) {
  v1::SignedTx envelope;
  v1::TxBody body;
  if (!envelope.ParseFromString(bytes) || !body.ParseFromString(envelope.body())) return std::nullopt;
  return ViewOfBody(envelope, body);
}

v1::BlockHeaderView ViewOfHeader(const v1::BlockHeader& header) {
  v1::BlockHeaderView view;
  view.set_version(header.version());
  view.set_chain_id(header.chain_id());
  view.set_height(header.height());
  view.set_round(header.round());
  view.set_parent_hash(Hex(header.parent_hash()));
  view.set_proposer(Hex(header.proposer()));
  view.set_time_ms(header.time_ms());
  view.set_tx_root(Hex(header.tx_root()));
  view.set_state_root(Hex(header.state_root()));
  view.set_history_root(Hex(header.history_root()));
  view.set_validator_set_hash(Hex(header.validator_set_hash()));
  view.set_law_set_hash(Hex(header.law_set_hash()));
  view.set_evidence_root(Hex(header.evidence_root()));
  return view;
}

v1::CommitCertificateView ViewOfCertificate(const v1::CommitCertificate& certificate) {
  v1::CommitCertificateView view;
  view.set_height(certificate.height());
  view.set_round(certificate.round());
  view.set_block_hash(Hex(certificate.block_hash()));
  view.set_validator_set_hash(Hex(certificate.validator_set_hash()));
  for (const v1::CommitSignature& signature : certificate.signatures()) {
    v1::CommitSignatureView* out = view.add_signatures();
    out->set_validator(Hex(signature.validator()));
    out->set_signature(Hex(signature.signature()));
  }
  return view;
}

// Unexpired lots of one class, and their total (saturating: lots of one class may together pass
// 2^63 milli-credits, which no single field of the ledger can).
v1::ClassBalance ViewOfBalance(v1::VoucherClass voucher_class, const v1::Balance& balance, uint64_t epoch) {
  v1::ClassBalance view;
  view.set_voucher_class(voucher_class);
  __int128 total = 0;
  for (const v1::Lot& lot : balance.lots()) {
    if (lot.expiry_epoch() <= epoch) continue;
    v1::LotView* out = view.add_lots();
    out->set_expiry_epoch(lot.expiry_epoch());
    out->set_amount_milli(lot.amount_milli());
    total += lot.amount_milli();
  }
  view.set_total_milli(static_cast<int64_t>(std::min<__int128>(total, std::numeric_limits<int64_t>::max())));
  return view;
}

// One Prometheus metric in text format 0.0.4.
void AppendMetric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                  uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

// A task queue for httplib: a fixed pool of workers and a bounded queue. When the queue is full
// the accepting thread waits for room, so a flood of connections waits in the kernel's backlog
// instead of in memory.
class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(size_t workers, size_t max_queued) : pool_(workers, max_queued) {}
  // httplib enqueues only from its accepting thread, which ends before it calls shutdown.
  void enqueue(std::function<void()> task) override { GS_ASSERT(pool_.Submit(std::move(task))); }
  void shutdown() override { pool_.Shutdown(); }

 private:
  ThreadPool pool_;
};

}  // namespace

// The endpoints, independent of HTTP plumbing: each takes what it needs of the request and
// returns the reply. Thread-safe: they share only the service and atomics.
class HttpApi::Handlers {
 public:
  Handlers(NodeService& service, const HttpApiOptions& options) : service_(service), options_(options) {}

  const HttpApiOptions& options() const { return options_; }
  void BeginStop() { stopping_ = true; }

  // Everything but the submissions, which need their body read first.
  Reply Route(const httplib::Request& request) {
    const Match match = MatchPath(request.path);
    if (match.route == Route::kNone)
      return ErrorReply(404, "NOT_FOUND", "no such endpoint: " + Printable(request.path));
    const std::string_view allowed = AllowedMethod(match.route);
    const bool head_of_get = request.method == "HEAD" && allowed == "GET";
    if (request.method != allowed && !head_of_get) {
      Reply reply =
          ErrorReply(405, "METHOD_NOT_ALLOWED", Printable(request.path) + " accepts " + std::string(allowed) + " only");
      reply.allow = allowed;
      return reply;
    }
    switch (match.route) {
      case Route::kTx: return GetTx(match.arg, request);
      case Route::kAccount: return NoQuery(request, [&] { return GetAccount(match.arg); });
      case Route::kBlock: return GetBlock(match.arg, request);
      case Route::kStatus: return NoQuery(request, [&] { return GetStatus(); });
      case Route::kAccountProof: return NoQuery(request, [&] { return GetAccountProof(match.arg); });
      case Route::kMetrics: return NoQuery(request, [&] { return GetMetrics(); });
      case Route::kLaws: return NoQuery(request, [&] { return JsonReply(LawsAnswer(*service_.Snapshot())); });
      case Route::kLaw: return GetLaw(match.arg, request);
      case Route::kExplanation: return GetExplanation(match.arg, request);
      case Route::kPlan: return NoQuery(request, [&] { return GetPlan(match.arg); });
      case Route::kPlanData: return NoQuery(request, [&] { return GetPlanData(match.arg); });
      case Route::kDemand: return GetDemand(request);
      case Route::kEvidence: return GetEvidence(request);
      case Route::kProposal: return NoQuery(request, [&] { return GetProposal(match.arg); });
      case Route::kSubmitTx:
      case Route::kSubmitTxBatch:
      case Route::kNone: break;
    }
    // Submissions are handled once their body is read, and kNone was answered above.
    GS_ASSERT(false);
  }

  Reply SubmitTx(const httplib::Request& request) {
    v1::SubmitTxRequest body;
    if (std::optional<Reply> refused = ParseBody(request, "SubmitTxRequest", body)) return *std::move(refused);
    if (body.tx().empty()) return BadRequest("\"tx\" is required: the base64 of a serialised SignedTx");
    const Admission admission = service_.Submit(std::move(*body.mutable_tx()));
    v1::SubmitTxResponse response = AdmissionAnswer(admission);
    if (!IsAdmitted(admission)) {
      return ErrorReply(AdmissionHttpStatus(response.code()), response.code(), response.message(), response.tx_id());
    }
    return JsonReply(response);
  }

  Reply SubmitTxBatch(const httplib::Request& request) {
    v1::SubmitTxBatchRequest body;
    if (std::optional<Reply> refused = ParseBody(request, "SubmitTxBatchRequest", body)) return *std::move(refused);
    if (body.txs().empty() || body.txs_size() > static_cast<int>(kMaxBatchTxs)) {
      return BadRequest("\"txs\" must hold 1 to " + std::to_string(kMaxBatchTxs) + " transactions, not " +
                        std::to_string(body.txs_size()));
    }
    std::vector<std::string> txs(std::make_move_iterator(body.mutable_txs()->begin()),
                                 std::make_move_iterator(body.mutable_txs()->end()));
    v1::SubmitTxBatchResponse response;
    for (const Admission& admission : service_.SubmitBatch(std::move(txs))) {
      *response.add_results() = AdmissionAnswer(admission);
    }
    return JsonReply(response);
  }

 private:
  static Reply BadRequest(const std::string& message) { return ErrorReply(400, "BAD_REQUEST", message); }

  // Parses a JSON request body into `message` (named `name` in the error); the refusal otherwise.
  template <typename M>
  static std::optional<Reply> ParseBody(const httplib::Request& request, std::string_view name, M& message) {
    if (!request.params.empty()) return BadRequest("POST " + Printable(request.path) + " takes no query parameters");
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    const auto parsed = google::protobuf::util::JsonStringToMessage(request.body, &message, options);
    if (parsed.ok()) return std::nullopt;
    return BadRequest("request body is not a " + std::string(name) + ": " + Printable(std::string(parsed.message())));
  }

  static bool IsAdmitted(const Admission& admission) {
    return admission.status.ok() || admission.status.code() == "ALREADY_KNOWN";
  }

  // The answer for one transaction: OK, ALREADY_KNOWN or the refusal's code, with its message.
  static v1::SubmitTxResponse AdmissionAnswer(const Admission& admission) {
    v1::SubmitTxResponse answer;
    if (admission.tx_id != ledger::Hash{}) answer.set_tx_id(ToHex(admission.tx_id));
    if (admission.status.ok()) {
      answer.set_code("OK");
      answer.set_message("admitted to the mempool");
    } else {
      answer.set_code(admission.status.code());
      answer.set_message(Printable(admission.status.message(), 1000));
    }
    GS_ASSERT(!IsAdmitted(admission) || !answer.tx_id().empty());
    return answer;
  }

  // GET /v1/laws/{name}[?version=V]
  Reply GetLaw(std::string_view name, const httplib::Request& request) {
    std::optional<int64_t> version;
    for (const auto& [key, value] : request.params) {
      std::optional<uint64_t> parsed = ParseDecimal(value, 18);
      if (key != "version" || !parsed || *parsed == 0 || request.params.size() != 1) {
        return BadRequest("the only query parameter is version=V, given once, V >= 1");
      }
      version = static_cast<int64_t>(*parsed);
    }
    return LawReply(LawAnswer(*service_.Snapshot(), name, version));
  }

  // GET /v1/explanations/{key}?week=N or ?epoch=N
  Reply GetExplanation(std::string_view key_hex, const httplib::Request& request) {
    Result<ledger::PublicKey> key = ParseKey(key_hex);
    if (!key.ok()) return ErrorReply(400, key.status().code(), key.status().message());
    const auto only = request.params.size() == 1 ? request.params.begin() : request.params.end();
    std::optional<uint64_t> period =
        only != request.params.end() ? ParseDecimal(only->second, kMaxDecimalDigits) : std::nullopt;
    if (!period || (only->first != "week" && only->first != "epoch")) {
      return BadRequest("ask for one closed period: ?week=N or ?epoch=N");
    }
    return LawReply(ExplanationAnswer(*service_.Snapshot(), *key, only->first == "week" ? "week_closed" : "epoch_closed",
                                      *period));
  }

  // GET /v1/plans/{epoch}
  Reply GetPlan(std::string_view epoch_text) {
    std::optional<uint64_t> epoch = ParseDecimal(epoch_text, kMaxDecimalDigits);
    if (!epoch) return ErrorReply(400, "BAD_EPOCH", "a plan is asked for by its epoch (0, 1, ...)");
    return PlanReply(PlanAnswer(*service_.Snapshot(), *epoch));
  }

  // GET /v1/plan-data/{sha256}
  Reply GetPlanData(std::string_view sha_hex) {
    const std::optional<ledger::Hash> sha256 = ParseHashHex(sha_hex);
    if (!sha256) return ErrorReply(400, "BAD_HASH", "plan data is named by its SHA-256: 64 hex digits");
    return PlanReply(PlanDataAnswer(*service_.Snapshot(), *sha256));
  }

  // GET /v1/proposals/{id} and GET /v1/proposals/{id}/votes/{key}
  Reply GetProposal(std::string_view arg) {
    const size_t slash = arg.find('/');
    const std::optional<ledger::Hash> id = ParseHashHex(arg.substr(0, slash));
    if (!id) return ErrorReply(400, "BAD_PROPOSAL_ID", "a proposal is named by its transaction id: 64 hex digits");
    if (slash == std::string_view::npos) return LawReply(ProposalAnswer(*service_.Snapshot(), *id));
    constexpr std::string_view kVotes = "/votes/";
    if (!arg.substr(slash).starts_with(kVotes)) {
      return ErrorReply(404, "NOT_FOUND", "no such endpoint: /v1/proposals/" + Printable(arg));
    }
    Result<ledger::PublicKey> voter = ParseKey(arg.substr(slash + kVotes.size()));
    if (!voter.ok()) return ErrorReply(400, voter.status().code(), voter.status().message());
    return LawReply(VoteAnswer(*service_.Snapshot(), *id, *voter));
  }

  // GET /v1/evidence[?from=N][&limit=M]
  Reply GetEvidence(const httplib::Request& request) {
    uint64_t from = 0, limit = kMaxEvidencePage;
    for (const auto& [name, value] : request.params) {
      if (request.params.count(name) != 1) return BadRequest("query parameter '" + Printable(name, 64) + "' is repeated");
      std::optional<uint64_t> parsed = ParseDecimal(value, kMaxDecimalDigits);
      if (name == "from" && parsed) {
        from = *parsed;
      } else if (name == "limit" && parsed && *parsed >= 1 && *parsed <= kMaxEvidencePage) {
        limit = *parsed;
      } else {
        return BadRequest("the query parameters are from=N (the first sequence number) and limit=1.." +
                          std::to_string(kMaxEvidencePage));
      }
    }
    return JsonReply(EvidenceAnswer(*service_.Snapshot(), from, static_cast<size_t>(limit)));
  }

  // GET /v1/demand?matrix=SHA&products=SHA[&from_epoch=E][&epochs=K]
  Reply GetDemand(const httplib::Request& request) {
    std::optional<ledger::Hash> matrix, products;
    std::optional<uint64_t> from_epoch, epochs;
    for (const auto& [name, value] : request.params) {
      if (request.params.count(name) != 1) return BadRequest("query parameter '" + Printable(name, 64) + "' is repeated");
      bool ok = false;
      if (name == "matrix") {
        ok = (matrix = ParseHashHex(value)).has_value();
      } else if (name == "products") {
        ok = (products = ParseHashHex(value)).has_value();
      } else if (name == "from_epoch") {
        ok = (from_epoch = ParseDecimal(value, kMaxDecimalDigits)).has_value();
      } else if (name == "epochs") {
        ok = (epochs = ParseDecimal(value, kMaxDecimalDigits)).has_value() && *epochs <= UINT32_MAX;
      } else {
        return BadRequest("unknown query parameter '" + Printable(name, 64) + "'");
      }
      if (!ok) return BadRequest("matrix and products are SHA-256 hashes (64 hex digits), from_epoch and epochs numbers");
    }
    if (!matrix || !products) {
      return BadRequest("ask for the demand of stored inputs: ?matrix=SHA-256&products=SHA-256[&from_epoch=E][&epochs=K]");
    }
    std::optional<uint32_t> window_epochs;
    if (epochs) window_epochs = static_cast<uint32_t>(*epochs);
    return PlanReply(DemandAnswer(*service_.Snapshot(), *matrix, *products, from_epoch, window_epochs));
  }

  template <typename M>
  static Reply PlanReply(const Result<M>& answer) {
    if (answer.ok()) return JsonReply(*answer);
    const std::string& code = answer.status().code();
    const bool missing = code == "NOT_FOUND" || code == "PLAN_DATA_MISSING";
    return ErrorReply(missing ? 404 : 400, code, Printable(answer.status().message(), 1000));
  }

  template <typename M>
  static Reply LawReply(const Result<M>& answer) {
    if (answer.ok()) return JsonReply(*answer);
    return ErrorReply(answer.status().code() == "NOT_FOUND" ? 404 : 400, answer.status().code(),
                      Printable(answer.status().message(), 1000));
  }

  template <typename F>
  static Reply NoQuery(const httplib::Request& request, F&& handle) {
    if (!request.params.empty()) return BadRequest(Printable(request.path) + " takes no query parameters");
    return handle();
  }

  Reply GetTx(std::string_view id_hex, const httplib::Request& request) {
    const std::optional<ledger::Hash> id = ParseHashHex(id_hex);
    if (!id) return ErrorReply(400, "BAD_TX_ID", "a transaction id is 64 hex digits");
    return AfterWait(
        request, [&](const ledger::LedgerSnapshot& snapshot) { return snapshot.FindTx(*id).has_value(); },
        [&](const ledger::LedgerSnapshot& snapshot) {
          std::optional<ledger::TxLocation> location = snapshot.FindTx(*id);
          if (!location) return ErrorReply(404, "NOT_FOUND", "transaction " + ToHex(*id) + " is not committed");
          return TxReply(snapshot, *id, *location);
        });
  }

  // Replies with `answer` from the committed ledger. With ?wait_ms=N, its only query parameter,
  // the request first waits up to N ms for a commit after which `ready` holds of the ledger (at
  // most max_waiting requests wait at once).
  template <typename Ready, typename Answer>
  Reply AfterWait(const httplib::Request& request, Ready ready, Answer answer) {
    uint64_t wait_ms = 0;
    for (const auto& [name, value] : request.params) {
      if (name != "wait_ms") return BadRequest("unknown query parameter '" + Printable(name, 64) + "'");
      std::optional<uint64_t> parsed = ParseDecimal(value, kMaxDecimalDigits);
      if (!parsed || request.params.size() != 1 || *parsed > static_cast<uint64_t>(options_.max_wait.count())) {
        return BadRequest("wait_ms must be given once, as 0 to " + std::to_string(options_.max_wait.count()));
      }
      wait_ms = *parsed;
    }
    std::shared_ptr<const ledger::LedgerSnapshot> snapshot = service_.Snapshot();
    if (wait_ms > 0 && !ready(*snapshot)) {
      WaitSlot slot(waiting_, options_.max_waiting);
      if (!slot.taken()) {
        return ErrorReply(503, "BUSY", "too many requests are waiting for commits; retry, or ask without wait_ms");
      }
      const auto deadline = std::chrono::steady_clock::now() + milliseconds(wait_ms);
      // In slices, so that Stop is never held up for long.
      while (!stopping_ && !ready(*snapshot)) {
        const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left <= milliseconds(0)) break;
        service_.WaitForHeightAbove(snapshot->height(), std::min(left, kWaitSlice));
        snapshot = service_.Snapshot();
      }
    }
    return answer(*snapshot);
  }

  static Reply TxReply(const ledger::LedgerSnapshot& snapshot, const ledger::Hash& id,
                       const ledger::TxLocation& location) {
    // The transaction index, blocks and results are written in one batch: one without the others
    // means a corrupt store.
    std::optional<v1::Block> block = snapshot.BlockAt(location.height);
    std::optional<v1::BlockResults> results = snapshot.ResultsAt(location.height);
    GS_ASSERT(block && results);
    GS_ASSERT(location.index < static_cast<uint32_t>(block->txs_size()) &&
              block->txs_size() == results->results_size());
    v1::TxResponse response;
    response.set_tx_id(ToHex(id));
    response.set_height(location.height);
    response.set_index(location.index);
    response.set_block_hash(ToHex(ledger::Sha256(AsBytes(block->header()))));
    const v1::TxResult& result = results->results(static_cast<int>(location.index));
    response.set_code(result.code());
    response.set_message(result.message());
    *response.mutable_law_runs() = result.law_runs();
    if (std::optional<v1::TxView> view = ViewOfTx(block->txs(static_cast<int>(location.index)))) {
      *response.mutable_tx() = std::move(*view);
    }
    return JsonReply(response);
  }

  Reply GetAccount(std::string_view key_hex) {
    Result<ledger::PublicKey> key = ParseKey(key_hex);
    if (!key.ok()) return ErrorReply(400, key.status().code(), key.status().message());
    std::shared_ptr<const ledger::LedgerSnapshot> snapshot = service_.Snapshot();
    const ledger::StateView state(snapshot->state());
    std::optional<v1::Account> account = state.Account(*key);
    if (!account) return ErrorReply(404, "NOT_FOUND", "no account " + ToHex(*key));
    const v1::ChainState chain = state.ChainState();
    v1::AccountResponse response;
    response.set_public_key(ToHex(*key));
    response.set_role(account->role());
    response.set_commune(account->commune());
    response.set_active(!account->retired());
    response.set_next_nonce(account->nonce() + 1);
    response.set_registered_height(account->registered_height());
    response.set_height(chain.height());
    response.set_epoch(chain.epoch());
    for (v1::VoucherClass voucher_class :
         {v1::VOUCHER_CLASS_GUARANTEE, v1::VOUCHER_CLASS_CONSUMPTION, v1::VOUCHER_CLASS_SPECIAL}) {
      v1::ClassBalance balance = ViewOfBalance(voucher_class, state.Balance(*key, voucher_class), chain.epoch());
      if (balance.lots_size() > 0) *response.add_balances() = std::move(balance);
    }
    return JsonReply(response);
  }

  Reply GetBlock(std::string_view which, const httplib::Request& request) {
    if (which == "latest") {
      return NoQuery(request, [&] {
        std::shared_ptr<const ledger::LedgerSnapshot> snapshot = service_.Snapshot();
        return BlockReply(*snapshot, snapshot->height());
      });
    }
    std::optional<uint64_t> height = ParseDecimal(which, kMaxDecimalDigits);
    if (!height) return ErrorReply(400, "BAD_HEIGHT", "a block is asked for by height (1, 2, ...) or as 'latest'");
    return AfterWait(
        request, [&](const ledger::LedgerSnapshot& snapshot) { return snapshot.height() >= *height; },
        [&](const ledger::LedgerSnapshot& snapshot) { return BlockReply(snapshot, *height); });
  }

  static Reply BlockReply(const ledger::LedgerSnapshot& snapshot, uint64_t height) {
    if (height == 0 || height > snapshot.height()) {
      return ErrorReply(404, "NOT_FOUND",
                        "no block at height " + std::to_string(height) + "; the committed height is " +
                            std::to_string(snapshot.height()));
    }
    std::optional<v1::Block> block = snapshot.BlockAt(height);
    std::optional<v1::BlockResults> results = snapshot.ResultsAt(height);
    v1::BlockHeader header;
    GS_ASSERT(block && results && header.ParseFromString(block->header()));
    GS_ASSERT(block->txs_size() == results->results_size());
    v1::BlockResponse response;
    response.set_height(height);
    response.set_block_hash(ToHex(ledger::Sha256(AsBytes(block->header()))));
    *response.mutable_header() = ViewOfHeader(header);
    response.set_header_bytes(block->header());
    for (int i = 0; i < block->txs_size(); ++i) {
      v1::BlockTxView* tx = response.add_txs();
      tx->set_tx_id(ToHex(ledger::Sha256(AsBytes(block->txs(i)))));
      tx->set_code(results->results(i).code());
      tx->set_message(results->results(i).message());
    }
    response.set_state_root_after(Hex(results->state_root()));
    if (std::optional<v1::CommitCertificate> certificate = snapshot.CertificateAt(height)) {
      *response.mutable_certificate() = ViewOfCertificate(*certificate);
    }
    return JsonReply(response);
  }

  Reply GetStatus() {
    const NodeStatus node = service_.Status();
    std::shared_ptr<const ledger::LedgerSnapshot> snapshot = service_.Snapshot();
    const ledger::ChainTip tip = ledger::ReadChainTip(snapshot->state());
    const v1::ValidatorSet validators = ledger::StateView(snapshot->state()).ValidatorSet();
    v1::StatusResponse response;
    response.set_chain_id(tip.config.chain_id());
    response.set_node_key(ToHex(node.self));
    response.set_height(tip.state.height());
    response.set_last_block_hash(ToHex(tip.block_hash));
    response.set_last_block_time_ms(tip.state.time_ms());
    response.set_state_root(ToHex(tip.state_root));
    response.set_epoch(tip.state.epoch());
    response.set_week(tip.state.week());
    response.set_round(node.round);
    for (const v1::Validator& validator : validators.validators()) {
      v1::ValidatorView* out = response.add_validators();
      out->set_public_key(Hex(validator.public_key()));
      out->set_power(validator.power());
      out->set_commune(validator.commune());
    }
    for (const PeerLink& peer : node.peers) {
      v1::PeerView* out = response.add_peers();
      out->set_public_key(ToHex(peer.key));
      out->set_connected(peer.connected);
    }
    response.set_mempool_txs(node.mempool_txs);
    response.set_mempool_bytes(node.mempool_bytes);
    response.set_syncing(node.syncing != 0);
    return JsonReply(response);
  }

  Reply GetAccountProof(std::string_view key_hex) {
    Result<ledger::PublicKey> key = ParseKey(key_hex);
    if (!key.ok()) return ErrorReply(400, key.status().code(), key.status().message());
    std::shared_ptr<const ledger::LedgerSnapshot> snapshot = service_.Snapshot();
    const std::string record_key = ledger::AccountKey(*key);
    const ledger::Hash key_hash = ledger::Sha256(AsBytes(record_key));
    v1::StateProofResponse response;
    response.set_public_key(ToHex(*key));
    response.set_height(snapshot->height());
    response.set_state_root(ToHex(ledger::StateRoot(snapshot->state())));
    response.set_record_key(record_key);
    std::optional<std::string> record = snapshot->state().Get(record_key);
    response.set_present(record.has_value());
    if (record) response.set_record(std::move(*record));
    response.set_proof(ledger::EncodeStateProof(ledger::ProveState(snapshot->state(), key_hash)));
    return JsonReply(response);
  }

  Reply GetMetrics() {
    const NodeStatus node = service_.Status();
    uint64_t links = 0;
    for (const PeerLink& peer : node.peers) links += peer.connected ? 1 : 0;
    std::string text;
    AppendMetric(text, "gongshe_height", "gauge", "Height of the last committed block.", node.committed_height);
    AppendMetric(text, "gongshe_round", "gauge", "Current consensus round.", node.round);
    AppendMetric(text, "gongshe_mempool_txs", "gauge", "Transactions in the mempool.", node.mempool_txs);
    AppendMetric(text, "gongshe_mempool_bytes", "gauge", "Bytes of the transactions in the mempool.",
                 node.mempool_bytes);
    AppendMetric(text, "gongshe_blocks_committed_total", "counter", "Blocks committed since the process started.",
                 node.blocks_committed);
    AppendMetric(text, "gongshe_txs_committed_total", "counter", "Transactions committed since the process started.",
                 node.txs_committed);
    AppendMetric(text, "gongshe_peer_links", "gauge", "Connected links to other validators.", links);
    AppendMetric(text, "gongshe_peers", "gauge", "Validators this node links to, connected or not.", node.peers.size());
    AppendMetric(text, "gongshe_verification_queue", "gauge", "Transactions waiting for admission checks.",
                 node.verification_queue);
    AppendMetric(text, "gongshe_syncing", "gauge", "1 while catching up by block sync, else 0.", node.syncing);
    return {200, std::move(text), "text/plain; version=0.0.4; charset=utf-8", {}};
  }

  static Result<ledger::PublicKey> ParseKey(std::string_view hex) {
    // PublicKeyFromHex forgives surrounding whitespace; a URL segment gets no such leeway.
    if (hex.size() != 64) return Status("BAD_PUBLIC_KEY", "a public key is 64 hex digits");
    return ledger::PublicKeyFromHex(hex);
  }

  NodeService& service_;
  const HttpApiOptions options_;
  std::atomic<size_t> waiting_{0};
  std::atomic<bool> stopping_{false};
};

class HttpApi::Server {
 public:
  httplib::Server http;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
};

namespace {

// Requests answered before their body is read (all but POST /v1/txs) leave any body they carry
// unread on their own connection: it can only confuse that client, never reach another.
void Write(Reply reply, httplib::Response& response) {
  response.status = reply.status;
  if (!reply.allow.empty()) response.set_header("Allow", reply.allow);
  response.set_content(std::move(reply.body), reply.content_type.c_str());
}

// httplib bounds a body by its Content-Length; a chunked or compressed body would be bounded only
// after it is read or inflated, so neither is accepted.
std::optional<Reply> RefuseUnboundedBody(const httplib::Request& request) {
  if (request.has_header("Transfer-Encoding") || !request.has_header("Content-Length")) {
    return ErrorReply(411, "LENGTH_REQUIRED", "send the body with a Content-Length, not chunked");
  }
  const std::string encoding = request.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    return ErrorReply(415, "UNSUPPORTED_ENCODING", "send the body uncompressed");
  }
  return std::nullopt;
}

// Errors httplib answers by itself, before any handler: a malformed request, a body or URL past
// the bounds.
std::pair<std::string, std::string> DescribeHttpError(int status) {
  switch (status) {
    case 400: return {"BAD_REQUEST", "malformed HTTP request"};
    case 413: return {"BODY_TOO_LARGE", "request body too large"};
    case 414: return {"URI_TOO_LONG", "request URL too long"};
    default: return {"HTTP_" + std::to_string(status), "request refused"};
  }
}

}  // namespace

HttpApi::HttpApi(NodeService& service, HttpApiOptions options)
    : handlers_(std::make_unique<Handlers>(service, options)), server_(std::make_unique<Server>()) {
  GS_ASSERT(options.workers > 0 && options.max_waiting < options.workers && options.max_queued_connections > 0);
  httplib::Server& http = server_->http;
  const size_t workers = options.workers, max_queued = options.max_queued_connections;
  http.new_task_queue = [workers, max_queued] { return new BoundedTaskQueue(workers, max_queued); };
  // httplib's default sets SO_REUSEPORT, which would let a second node bind the same port and
  // take a share of this one's requests. SO_REUSEADDR alone still allows a quick restart.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_payload_max_length(options.max_body_bytes);
  http.set_read_timeout(options.io_timeout);
  // Answers go out as header and body sends; without TCP_NODELAY each waits for a delayed ACK.
  http.set_tcp_nodelay(true);
  // httplib closes a kept-alive connection after 5 requests by default; a client submitting a
  // stream of transactions would reconnect all the time.
  http.set_keep_alive_max_count(options.keep_alive_max_requests);
  http.set_write_timeout(options.io_timeout);
  http.set_keep_alive_timeout(
      std::max<time_t>(1, std::chrono::duration_cast<std::chrono::seconds>(options.keep_alive).count()));
  Handlers& handlers = *handlers_;
  http.set_pre_routing_handler([&handlers](const httplib::Request& request, httplib::Response& response) {
    if (request.method == "POST" && IsSubmit(MatchPath(request.path).route)) {
      std::optional<Reply> refused = RefuseUnboundedBody(request);
      if (!refused) return httplib::Server::HandlerResponse::Unhandled;  // httplib reads the body, bounded
      Write(std::move(*refused), response);
      return httplib::Server::HandlerResponse::Handled;
    }
    Write(handlers.Route(request), response);
    return httplib::Server::HandlerResponse::Handled;
  });
  http.Post("/v1/txs", [&handlers](const httplib::Request& request, httplib::Response& response) {
    Write(handlers.SubmitTx(request), response);
  });
  http.Post("/v1/txs/batch", [&handlers](const httplib::Request& request, httplib::Response& response) {
    Write(handlers.SubmitTxBatch(request), response);
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& response) {
    if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours already
    const auto [code, message] = DescribeHttpError(response.status);
    Reply reply = ErrorReply(response.status, code, message);
    response.set_content(std::move(reply.body), reply.content_type.c_str());
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
    Reply reply = ErrorReply(500, "INTERNAL", "the request failed inside the node");
    response.status = reply.status;
    response.set_content(std::move(reply.body), reply.content_type.c_str());
  });
}

HttpApi::~HttpApi() { Stop(); }

Status HttpApi::Start() {
  GS_ASSERT(!server_->thread.joinable());
  httplib::Server& http = server_->http;
  const std::string address = handlers_->options().host + ":" + std::to_string(handlers_->options().port);
  int port = handlers_->options().port;
  if (port == 0) {
    port = http.bind_to_any_port(handlers_->options().host);
    if (port < 0) return {"API_BIND", "cannot bind the API to " + address};
  } else if (!http.bind_to_port(handlers_->options().host, port)) {
    return {"API_BIND", "cannot bind the API to " + address + " (in use, or not an address of this host)"};
  }
  port_ = static_cast<uint16_t>(port);
  server_->thread = std::thread([server = server_.get()] {
    server->http.listen_after_bind();
    server->listen_returned = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!http.is_running() && !server_->listen_returned && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(1));
  }
  if (!http.is_running()) {
    Stop();
    return {"API_BIND", "the API did not start listening on " + address};
  }
  return Status::Ok();
}

void HttpApi::Stop() {
  handlers_->BeginStop();
  if (!server_->thread.joinable()) return;
  // stop() acts only on a running server, once: wait for the thread to get there (it does at once
  // after a successful bind).
  while (!server_->http.is_running() && !server_->listen_returned) std::this_thread::sleep_for(milliseconds(1));
  if (!server_->listen_returned) server_->http.stop();
  server_->thread.join();
}

}  // namespace gongshe::node
