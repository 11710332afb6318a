// The HTTP/JSON API end to end: a real HttpApi on 127.0.0.1 (any free port) over a real Ledger,
// driven by raw HTTP (httplib::Client) to pin status codes and bodies, by node::Client, and by the
// `gongshe` binary's tx/query/key commands. Every bad request must get a 4xx with a JSON error and
// leave the ledger exactly as it was.

#include "node/http_api.h"

#include <arpa/inet.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "contracts/standard_laws.h"
#include "gongshe/v1/api.pb.h"
#include "gongshe/v1/proof.pb.h"
#include "ledger/key_file.h"
#include "ledger/laws.h"
#include "ledger/ledger.h"
#include "ledger/state.h"
#include "ledger/state_tree.h"
#include "ledger/transaction.h"
#include "ledger/tx_builder.h"
#include "node/client.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::node {
namespace {

namespace fs = std::filesystem;
using ledger::KeyPair;
using ledger::testing::kChainId;
using ledger::testing::kEpochMs;
using ledger::testing::kGenesisTimeMs;
using ledger::testing::TestKey;
using std::chrono::milliseconds;

// A NodeService for these tests only -- a fixture, not a node: no consensus, no mempool, no
// peers. Submit does what admission does (decoding, signatures, a signer and nonce check) and then
// commits the transaction alone in the next block through Ledger::Apply, at once, or when the
// test calls CommitPending. Status reports fixed, recognisable figures.
class LedgerService final : public NodeService {
 public:
  explicit LedgerService(const fs::path& dir) {
    const v1::Genesis genesis = ledger::testing::TestGenesis();
    ledger::GenesisDoc doc{genesis, ledger::Sha256(AsBytes(ledger::GenesisToJson(genesis)))};
    ledger_ = std::move(ledger::Ledger::Open(dir.string(), doc)).value();
  }

  Admission Submit(std::string tx_bytes) override {
    std::lock_guard lock(mu_);
    if (tx_bytes.size() > ledger::kMaxTxBytes) return {{}, {"TX_TOO_LARGE", "too large"}};
    const ledger::Hash id = ledger::Sha256(AsBytes(tx_bytes));
    if (full_) return {id, {"MEMPOOL_FULL", "the mempool is full; try again later"}};
    Result<ledger::DecodedTx> tx = ledger::DecodeTx(AsBytes(tx_bytes), kChainId);
    if (!tx.ok()) return {id, tx.status()};
    if (!ledger::VerifyTxSignatures(*tx, kChainId)) return {id, {"BAD_SIGNATURE", "a signature does not verify"}};
    if (ledger_->Snapshot()->FindTx(id)) return {id, {"ALREADY_KNOWN", "already committed"}};
    std::optional<v1::Account> signer = ledger::StateView(ledger_->state()).Account(tx->signer);
    if (!signer) return {id, {"UNKNOWN_SIGNER", "the signer has no account"}};
    if (tx->body.nonce() <= signer->nonce()) return {id, {"NONCE_TOO_LOW", "that nonce was used"}};
    pending_.push_back(std::move(tx_bytes));
    if (!defer_) ApplyLocked();
    return {id, Status::Ok()};
  }

  std::vector<Admission> SubmitBatch(std::vector<std::string> txs) override {
    std::vector<Admission> answers;
    for (std::string& tx : txs) answers.push_back(Submit(std::move(tx)));
    return answers;
  }

  uint64_t WaitForHeightAbove(uint64_t height, milliseconds timeout) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    waiting_changed_.notify_all();
    committed_.wait_for(lock, timeout, [&] { return ledger_->height() > height; });
    --waiting_;
    return ledger_->height();
  }

  std::shared_ptr<const ledger::LedgerSnapshot> Snapshot() override {
    std::lock_guard lock(mu_);
    return ledger_->Snapshot();
  }

  NodeStatus Status() override {
    std::lock_guard lock(mu_);
    NodeStatus status;
    status.self = TestKey(1002).public_key();
    status.chain_id = kChainId;
    status.committed_height = ledger_->height();
    status.round = 7;
    status.peers = {{TestKey(1005).public_key(), true}, {TestKey(77).public_key(), false}};
    status.mempool_txs = pending_.size();
    for (const std::string& tx : pending_) status.mempool_bytes += tx.size();
    status.verification_queue = 3;
    status.blocks_committed = ledger_->height();
    status.txs_committed = txs_committed_;
    status.syncing = 0;
    return status;
  }

  void set_full(bool full) {
    std::lock_guard lock(mu_);
    full_ = full;
  }
  void set_defer(bool defer) {
    std::lock_guard lock(mu_);
    defer_ = defer;
  }
  void CommitPending() {
    std::lock_guard lock(mu_);
    ApplyLocked();
  }
  // An empty block at `time_ms` (to move the chain into a later epoch).
  void EmptyBlockAt(int64_t time_ms) {
    std::lock_guard lock(mu_);
    ApplyBlock({}, time_ms);
  }
  // A block carrying `evidence` (serialised gongshe.v1.Evidence), one second after the last.
  void EvidenceBlock(std::vector<std::string> evidence) {
    std::lock_guard lock(mu_);
    time_ms_ = std::max(time_ms_ + 1000, ledger_->tip().state.time_ms() + 1000);
    v1::Block block = ledger::MakeBlock(ledger_->tip(), {}, time_ms_, TestKey(1002).public_key(), 0, std::move(evidence));
    ASSERT_TRUE(ledger_->Apply(block).ok());
  }
  // Blocks until `n` requests wait in WaitForHeightAbove.
  void AwaitWaiting(int n) {
    std::unique_lock lock(mu_);
    ASSERT_TRUE(waiting_changed_.wait_for(lock, std::chrono::seconds(10), [&] { return waiting_ == n; }));
  }

  // What must not change when a request is refused.
  std::pair<uint64_t, ledger::Hash> HeightAndRoot() {
    std::lock_guard lock(mu_);
    return {ledger_->height(), ledger_->tip().state_root};
  }

 private:
  void ApplyLocked() {
    if (pending_.empty()) return;
    txs_committed_ += pending_.size();
    ApplyBlock(std::move(pending_), std::max(time_ms_ + 1000, ledger_->tip().state.time_ms() + 1000));
    pending_.clear();
  }

  void ApplyBlock(std::vector<std::string> txs, int64_t time_ms) {
    time_ms_ = time_ms;
    v1::Block block = ledger::MakeBlock(ledger_->tip(), std::move(txs), time_ms, TestKey(1002).public_key(), 0);
    ASSERT_TRUE(ledger_->Apply(block).ok());
    committed_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable committed_, waiting_changed_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::vector<std::string> pending_;
  int64_t time_ms_ = kGenesisTimeMs;
  uint64_t txs_committed_ = 0;
  int waiting_ = 0;
  bool full_ = false;
  bool defer_ = false;
};

template <typename M>
M FromJson(const std::string& json) {
  M message;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &message);
  EXPECT_TRUE(parsed.ok()) << parsed.message() << " in " << json;
  return message;
}

std::string Base64(const std::string& bytes) {
  v1::SubmitTxRequest request;
  request.set_tx(bytes);
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(request, &json).ok());
  return json;
}

std::string Hex(const KeyPair& key) { return ledger::PublicKeyToHex(key.public_key()); }

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string dir = (fs::path(::testing::TempDir()) / "gongshe-http-api-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    dir_ = dir;
    service_ = std::make_unique<LedgerService>(dir_ / "ledger");
    StartApi(HttpApiOptions{});
  }

  void TearDown() override {
    // Clients first: an idle kept-alive connection holds a worker until it closes or times out.
    client_.reset();
    http_.reset();
    api_.reset();
    service_.reset();
    fs::remove_all(dir_);
  }

  void StartApi(HttpApiOptions options) {
    api_.reset();
    options.port = 0;
    api_ = std::make_unique<HttpApi>(*service_, options);
    ASSERT_TRUE(api_->Start().ok());
    ASSERT_NE(api_->port(), 0);
    url_ = "http://127.0.0.1:" + std::to_string(api_->port());
    http_ = std::make_unique<httplib::Client>("127.0.0.1", api_->port());
    http_->set_read_timeout(10, 0);
    client_ = std::move(Client::Create(url_)).value();
  }

  // The transaction is submitted over HTTP and must be admitted.
  std::string SubmitOk(const std::string& tx) {
    Result<v1::SubmitTxResponse> submitted = client_->SubmitTx(tx);
    EXPECT_TRUE(submitted.ok()) << submitted.status().ToString();
    if (!submitted.ok()) return "";
    EXPECT_EQ(submitted->code(), "OK");
    EXPECT_EQ(submitted->tx_id(), ledger::ToHex(ledger::Sha256(AsBytes(tx))));
    return submitted->tx_id();
  }

  KeyPair Register(v1::Role role) {
    KeyPair key = TestKey(next_key_++);
    SubmitOk(builder_.Register(registrar_, NextNonce(registrar_), key.public_key(), role));
    return key;
  }

  uint64_t NextNonce(const KeyPair& signer) {
    Result<v1::AccountResponse> account = client_->GetAccount(signer.public_key());
    EXPECT_TRUE(account.ok()) << account.status().ToString();
    return account.ok() ? account->next_nonce() : 0;
  }

  // Sends the request, expects `status` with a JSON error of `code`, and the ledger unchanged.
  v1::ApiError ExpectRefused(const std::function<httplib::Result()>& send, int status, const std::string& code) {
    const auto before = service_->HeightAndRoot();
    httplib::Result result = send();
    EXPECT_TRUE(result) << httplib::to_string(result.error());
    if (!result) return {};
    EXPECT_EQ(result->status, status) << result->body;
    EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
    const v1::ApiError error = FromJson<v1::ErrorResponse>(result->body).error();
    EXPECT_EQ(error.code(), code) << result->body;
    EXPECT_FALSE(error.message().empty());
    EXPECT_EQ(service_->HeightAndRoot(), before) << "a refused request changed the ledger";
    return error;
  }

  v1::ApiError ExpectPostRefused(const std::string& body, int status, const std::string& code) {
    return ExpectRefused([&] { return http_->Post("/v1/txs", body, "application/json"); }, status, code);
  }
  v1::ApiError ExpectGetRefused(const std::string& path, int status, const std::string& code) {
    return ExpectRefused([&] { return http_->Get(path.c_str()); }, status, code);
  }

  // Sends `request` as is on a new connection and returns everything the server answers.
  std::string RawExchange(const std::string& request) {
    const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
    EXPECT_GE(sock, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(api_->port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::write(sock, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string answer;
    char buffer[4096];
    for (ssize_t n; (n = ::read(sock, buffer, sizeof buffer)) > 0;) answer.append(buffer, static_cast<size_t>(n));
    ::close(sock);
    return answer;
  }

  fs::path dir_;
  std::unique_ptr<LedgerService> service_;
  std::unique_ptr<HttpApi> api_;
  std::string url_;
  std::unique_ptr<httplib::Client> http_;
  std::unique_ptr<Client> client_;
  ledger::TxBuilder builder_{kChainId};
  KeyPair registrar_ = TestKey(1000), issuer_ = TestKey(1001);
  uint32_t next_key_ = 1;
};

TEST_F(HttpApiTest, SubmittedTransactionIsCommittedWithItsResult) {
  const KeyPair member = TestKey(1);
  const std::string tx = builder_.Register(registrar_, 1, member.public_key(), v1::ROLE_MEMBER);
  httplib::Result raw = http_->Post("/v1/txs", Base64(tx), "application/json");
  ASSERT_TRUE(raw);
  ASSERT_EQ(raw->status, 200) << raw->body;
  const auto submitted = FromJson<v1::SubmitTxResponse>(raw->body);
  const std::string id = ledger::ToHex(ledger::Sha256(AsBytes(tx)));
  EXPECT_EQ(submitted.tx_id(), id);
  EXPECT_EQ(submitted.code(), "OK");

  Result<v1::TxResponse> found = client_->GetTx(ledger::Sha256(AsBytes(tx)));
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->tx_id(), id);
  EXPECT_EQ(found->height(), 1u);
  EXPECT_EQ(found->index(), 0u);
  EXPECT_EQ(found->code(), "OK");
  EXPECT_EQ(found->tx().signer(), Hex(registrar_));
  EXPECT_EQ(found->tx().nonce(), 1u);
  EXPECT_EQ(found->tx().chain_id(), kChainId);
  EXPECT_EQ(found->tx().register_account().public_key(), Hex(member));
  EXPECT_EQ(found->tx().register_account().role(), v1::ROLE_MEMBER);

  // The same bytes again are known, not an error; they are not committed twice.
  Result<v1::SubmitTxResponse> again = client_->SubmitTx(tx);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->code(), "ALREADY_KNOWN");
  EXPECT_EQ(again->tx_id(), id);
  EXPECT_EQ(client_->GetStatus()->height(), 1u);
}

TEST_F(HttpApiTest, RejectedInItsBlockShowsTheReasonCode) {
  const KeyPair member = Register(v1::ROLE_MEMBER);
  const KeyPair store = Register(v1::ROLE_STORE);
  // Admission checks neither balances nor categories: the block does.
  const std::string tx = builder_.Redeem(member, 1, store, v1::VOUCHER_CLASS_CONSUMPTION, 5'000, "bread");
  SubmitOk(tx);
  Result<v1::TxResponse> found = client_->GetTx(ledger::Sha256(AsBytes(tx)));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->code(), "INSUFFICIENT_BALANCE");
  EXPECT_FALSE(found->message().empty());
  EXPECT_EQ(found->tx().cosigner(), Hex(store));
  EXPECT_EQ(found->tx().redeem_vouchers().store(), Hex(store));
  EXPECT_EQ(found->tx().redeem_vouchers().category(), "bread");
  EXPECT_EQ(found->tx().redeem_vouchers().amount_milli(), 5'000);
  Result<v1::BlockResponse> block = client_->GetBlock(found->height());
  ASSERT_TRUE(block.ok());
  ASSERT_EQ(block->txs_size(), 1);
  EXPECT_EQ(block->txs(0).code(), "INSUFFICIENT_BALANCE");
  EXPECT_EQ(block->block_hash(), found->block_hash());
}

TEST_F(HttpApiTest, AccountShowsRoleNonceAndUnexpiredLotsPerClass) {
  const KeyPair member = Register(v1::ROLE_MEMBER);
  SubmitOk(
      builder_.Issue(issuer_, NextNonce(issuer_), v1::VOUCHER_CLASS_CONSUMPTION, member.public_key(), 52'500, "work"));
  SubmitOk(
      builder_.Issue(issuer_, NextNonce(issuer_), v1::VOUCHER_CLASS_GUARANTEE, member.public_key(), 20'000, "month"));
  Result<v1::AccountResponse> account = client_->GetAccount(member.public_key());
  ASSERT_TRUE(account.ok()) << account.status().ToString();
  EXPECT_EQ(account->public_key(), Hex(member));
  EXPECT_EQ(account->role(), v1::ROLE_MEMBER);
  EXPECT_EQ(account->commune(), "commune-0");
  EXPECT_TRUE(account->active());
  EXPECT_EQ(account->next_nonce(), 1u);
  EXPECT_EQ(account->registered_height(), 1u);
  EXPECT_EQ(account->height(), 3u);
  EXPECT_EQ(account->epoch(), 0u);
  ASSERT_EQ(account->balances_size(), 2);
  EXPECT_EQ(account->balances(0).voucher_class(), v1::VOUCHER_CLASS_GUARANTEE);
  EXPECT_EQ(account->balances(0).total_milli(), 20'000);
  ASSERT_EQ(account->balances(0).lots_size(), 1);
  EXPECT_EQ(account->balances(0).lots(0).expiry_epoch(), 1u);  // lifetime 1 epoch
  EXPECT_EQ(account->balances(1).voucher_class(), v1::VOUCHER_CLASS_CONSUMPTION);
  ASSERT_EQ(account->balances(1).lots_size(), 1);
  EXPECT_EQ(account->balances(1).lots(0).expiry_epoch(), 3u);  // voucher_expiry: lifetime 3 epochs

  // One epoch later the guarantee lot has expired, the epoch's closing allotted 30 fresh guarantee
  // credits (guarantee_tickets), and a new consumption lot sits after the first.
  service_->EmptyBlockAt(kGenesisTimeMs + kEpochMs + 1000);
  SubmitOk(
      builder_.Issue(issuer_, NextNonce(issuer_), v1::VOUCHER_CLASS_CONSUMPTION, member.public_key(), 1'250, "more"));
  account = client_->GetAccount(member.public_key());
  ASSERT_TRUE(account.ok());
  EXPECT_EQ(account->epoch(), 1u);
  ASSERT_EQ(account->balances_size(), 2);
  EXPECT_EQ(account->balances(0).voucher_class(), v1::VOUCHER_CLASS_GUARANTEE);
  EXPECT_EQ(account->balances(0).total_milli(), 30'000);
  ASSERT_EQ(account->balances(0).lots_size(), 1);
  EXPECT_EQ(account->balances(0).lots(0).expiry_epoch(), 2u);
  const v1::ClassBalance& consumption = account->balances(1);
  EXPECT_EQ(consumption.voucher_class(), v1::VOUCHER_CLASS_CONSUMPTION);
  EXPECT_EQ(consumption.total_milli(), 53'750);
  ASSERT_EQ(consumption.lots_size(), 2);
  EXPECT_EQ(consumption.lots(0).expiry_epoch(), 3u);
  EXPECT_EQ(consumption.lots(0).amount_milli(), 52'500);
  EXPECT_EQ(consumption.lots(1).expiry_epoch(), 4u);
  EXPECT_EQ(consumption.lots(1).amount_milli(), 1'250);

  // Retired: still readable, no longer active; the registrar's nonce moved on.
  const uint64_t registrar_nonce = NextNonce(registrar_);
  SubmitOk(builder_.Retire(registrar_, registrar_nonce, member.public_key()));
  account = client_->GetAccount(member.public_key());
  ASSERT_TRUE(account.ok());
  EXPECT_FALSE(account->active());
  EXPECT_EQ(NextNonce(registrar_), registrar_nonce + 1);
}

TEST_F(HttpApiTest, AccountLookupsRefuseBadKeysAndUnknownAccounts) {
  ExpectGetRefused("/v1/accounts/" + Hex(TestKey(500)), 404, "NOT_FOUND");
  ExpectGetRefused("/v1/accounts/" + std::string(63, 'a'), 400, "BAD_PUBLIC_KEY");
  ExpectGetRefused("/v1/accounts/" + std::string(65, 'a'), 400, "BAD_PUBLIC_KEY");
  ExpectGetRefused("/v1/accounts/" + std::string(64, 'g'), 400, "BAD_PUBLIC_KEY");
  ExpectGetRefused("/v1/accounts/%20" + std::string(62, 'a') + "%20", 400, "BAD_PUBLIC_KEY");
  ExpectGetRefused("/v1/accounts/" + Hex(registrar_) + "?x=1", 400, "BAD_REQUEST");
  EXPECT_EQ(client_->GetAccount(TestKey(500).public_key()).status().code(), "NOT_FOUND");
  // Upper-case hex is a key too.
  std::string upper = Hex(registrar_);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  httplib::Result result = http_->Get(("/v1/accounts/" + upper).c_str());
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 200);
  EXPECT_EQ(FromJson<v1::AccountResponse>(result->body).role(), v1::ROLE_COMMUNE);
}

TEST_F(HttpApiTest, BlocksByHeightAndLatestChainTogether) {
  ExpectGetRefused("/v1/blocks/latest", 404, "NOT_FOUND");  // nothing committed yet
  Register(v1::ROLE_MEMBER);
  Register(v1::ROLE_STORE);
  Result<v1::BlockResponse> first = client_->GetBlock(1);
  Result<v1::BlockResponse> latest = client_->GetLatestBlock();
  ASSERT_TRUE(first.ok() && latest.ok());
  EXPECT_EQ(latest->height(), 2u);
  EXPECT_EQ(latest->header().height(), 2u);
  EXPECT_EQ(latest->header().chain_id(), kChainId);
  EXPECT_EQ(latest->header().parent_hash(), first->block_hash());
  EXPECT_EQ(latest->header().proposer(), Hex(TestKey(1002)));
  EXPECT_EQ(latest->header().state_root(), first->state_root_after());
  EXPECT_EQ(latest->block_hash(), ledger::ToHex(ledger::Sha256(AsBytes(latest->header_bytes()))));
  EXPECT_FALSE(latest->has_certificate());  // Ledger::Apply stores none
  ASSERT_EQ(latest->txs_size(), 1);
  EXPECT_EQ(latest->txs(0).code(), "OK");
  const Result<v1::StatusResponse> status = client_->GetStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->last_block_hash(), latest->block_hash());
  EXPECT_EQ(status->state_root(), latest->state_root_after());

  ExpectGetRefused("/v1/blocks/0", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/blocks/3", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/blocks/18446744073709551615", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/blocks/18446744073709551616", 400, "BAD_HEIGHT");  // 2^64
  ExpectGetRefused("/v1/blocks/-1", 400, "BAD_HEIGHT");
  ExpectGetRefused("/v1/blocks/+1", 400, "BAD_HEIGHT");
  ExpectGetRefused("/v1/blocks/1.0", 400, "BAD_HEIGHT");
  ExpectGetRefused("/v1/blocks/Latest", 400, "BAD_HEIGHT");
}

TEST_F(HttpApiTest, RecordedEvidenceIsListedInOrderAndPaged) {
  Result<v1::EvidenceListResponse> none = client_->GetEvidence(0, 100);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(none->total(), 0u);
  EXPECT_EQ(none->evidence_size(), 0);
  std::vector<std::string> items;
  for (uint64_t round = 3; round <= 5; ++round) {
    v1::Evidence e;
    e.set_version(1);
    e.set_kind(round == 4 ? v1::Evidence::KIND_DOUBLE_PROPOSAL : v1::Evidence::KIND_DOUBLE_VOTE);
    e.set_validator(std::string(AsChars(TestKey(1005).public_key())));
    for (v1::SignedStatement* s : {e.mutable_first(), e.mutable_second()}) {
      s->set_round(round);
      s->set_parent_id(std::string(32, '\x09'));
      s->set_signature(std::string(64, '\x07'));
    }
    e.mutable_first()->set_block_id(std::string(32, '\x01'));
    e.mutable_second()->set_block_id(std::string(32, '\x02'));
    items.push_back(e.SerializeAsString());
  }
  service_->EvidenceBlock({items[0], items[1]});
  service_->EvidenceBlock({items[2]});
  Result<v1::EvidenceListResponse> all = client_->GetEvidence(0, 100);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->height(), 2u);
  EXPECT_EQ(all->total(), 3u);
  ASSERT_EQ(all->evidence_size(), 3);
  const v1::EvidenceView& second = all->evidence(1);
  EXPECT_EQ(second.sequence(), 1u);
  EXPECT_EQ(second.validator(), Hex(TestKey(1005)));
  EXPECT_EQ(second.kind(), v1::Evidence::KIND_DOUBLE_PROPOSAL);
  EXPECT_EQ(second.round(), 4u);
  EXPECT_EQ(second.epoch(), 0u);
  EXPECT_EQ(second.height(), 1u);
  EXPECT_EQ(second.evidence_bytes(), items[1]);
  EXPECT_EQ(second.evidence().SerializeAsString(), items[1]);
  EXPECT_EQ(all->evidence(2).height(), 2u);
  Result<v1::EvidenceListResponse> page = client_->GetEvidence(2, 1);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->evidence_size(), 1);
  EXPECT_EQ(page->evidence(0).evidence_bytes(), items[2]);
  EXPECT_EQ(client_->GetEvidence(3, 100)->evidence_size(), 0);
  // The blocks show the evidence root; a block without evidence shows none.
  Result<v1::BlockResponse> block = client_->GetBlock(1);
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->header().evidence_root().size(), 64u);
  // JSON: the kind by name, the key in hex.
  httplib::Result raw = http_->Get("/v1/evidence?limit=1");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 200);
  EXPECT_NE(raw->body.find("\"kind\":\"KIND_DOUBLE_VOTE\""), std::string::npos) << raw->body;
  EXPECT_NE(raw->body.find(Hex(TestKey(1005))), std::string::npos) << raw->body;
  const auto [height, root] = service_->HeightAndRoot();
  ExpectGetRefused("/v1/evidence?limit=0", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/evidence?limit=101", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/evidence?from=-1", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/evidence?from=1&from=2", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/evidence?validator=ab", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/evidence/1", 404, "NOT_FOUND");
  EXPECT_EQ(service_->HeightAndRoot(), std::make_pair(height, root));
}

TEST_F(HttpApiTest, StatusReportsChainAndNode) {
  Register(v1::ROLE_MEMBER);
  Result<v1::StatusResponse> status = client_->GetStatus();
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(status->chain_id(), kChainId);
  EXPECT_EQ(status->height(), 1u);
  EXPECT_EQ(status->node_key(), Hex(TestKey(1002)));
  EXPECT_EQ(status->round(), 7u);
  EXPECT_EQ(status->last_block_time_ms(), kGenesisTimeMs + 1000);
  ASSERT_EQ(status->validators_size(), 2);
  EXPECT_EQ(status->validators(0).public_key(), Hex(TestKey(1002)));
  EXPECT_EQ(status->validators(0).commune(), "commune-0");
  ASSERT_EQ(status->peers_size(), 2);
  EXPECT_TRUE(status->peers(0).connected());
  EXPECT_FALSE(status->peers(1).connected());
  EXPECT_FALSE(status->syncing());
  service_->set_defer(true);
  SubmitOk(builder_.Register(registrar_, 2, TestKey(300).public_key(), v1::ROLE_MEMBER));
  status = client_->GetStatus();
  EXPECT_EQ(status->mempool_txs(), 1u);
  EXPECT_GT(status->mempool_bytes(), 100u);
  ExpectGetRefused("/v1/status?verbose=1", 400, "BAD_REQUEST");
}

TEST_F(HttpApiTest, MetricsArePrometheusText) {
  Register(v1::ROLE_MEMBER);
  Register(v1::ROLE_MEMBER);
  httplib::Result result = http_->Get("/metrics");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200);
  EXPECT_EQ(result->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::map<std::string, std::pair<std::string, uint64_t>> expected = {
      {"gongshe_height", {"gauge", 2}},
      {"gongshe_round", {"gauge", 7}},
      {"gongshe_mempool_txs", {"gauge", 0}},
      {"gongshe_mempool_bytes", {"gauge", 0}},
      {"gongshe_blocks_committed_total", {"counter", 2}},
      {"gongshe_txs_committed_total", {"counter", 2}},
      {"gongshe_peer_links", {"gauge", 1}},
      {"gongshe_peers", {"gauge", 2}},
      {"gongshe_verification_queue", {"gauge", 3}},
      {"gongshe_syncing", {"gauge", 0}},
  };
  // Every line is HELP, TYPE or a sample; every metric has all three, in that order.
  std::map<std::string, std::vector<std::string>> seen;
  std::istringstream lines(result->body);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string first, name, rest;
    words >> first;
    if (first == "#") {
      words >> rest >> name;
      ASSERT_TRUE(rest == "HELP" || rest == "TYPE") << line;
      seen[name].push_back(rest == "HELP" ? "help" : "type:" + line.substr(line.rfind(' ') + 1));
      continue;
    }
    uint64_t value = 0;
    ASSERT_TRUE(words >> value) << line;
    ASSERT_TRUE(expected.count(first)) << "unexpected metric " << first;
    EXPECT_EQ(value, expected.at(first).second) << first;
    seen[first].push_back("sample");
  }
  for (const auto& [name, type_and_value] : expected) {
    EXPECT_EQ(seen[name], (std::vector<std::string>{"help", "type:" + type_and_value.first, "sample"})) << name;
  }
  EXPECT_EQ(seen.size(), expected.size());
  Result<std::string> text = client_->GetMetrics();
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("gongshe_height 2\n"), std::string::npos);
}

TEST_F(HttpApiTest, AccountProofsCheckAgainstTheStateRootAlone) {
  const KeyPair member = Register(v1::ROLE_MEMBER);
  const std::string root_hex = client_->GetStatus()->state_root();
  const std::optional<Bytes> root_bytes = FromHex(root_hex);
  ASSERT_TRUE(root_bytes);
  const ledger::Hash root = *ledger::HashFromBytes(*root_bytes);

  Result<v1::StateProofResponse> present = client_->GetAccountProof(member.public_key());
  ASSERT_TRUE(present.ok()) << present.status().ToString();
  EXPECT_TRUE(present->present());
  EXPECT_EQ(present->state_root(), root_hex);
  EXPECT_EQ(present->height(), 1u);
  EXPECT_EQ(present->record_key(), ledger::AccountKey(member.public_key()));
  v1::Account record;
  ASSERT_TRUE(record.ParseFromString(present->record()));
  EXPECT_EQ(record.role(), v1::ROLE_MEMBER);
  Result<ledger::StateProof> proof = ledger::DecodeStateProof(AsBytes(present->proof()));
  ASSERT_TRUE(proof.ok());
  Result<std::optional<ledger::Hash>> checked =
      ledger::VerifyStateProof(root, ledger::Sha256(AsBytes(present->record_key())), *proof);
  ASSERT_TRUE(checked.ok());
  ASSERT_TRUE(checked->has_value());
  EXPECT_EQ(**checked, ledger::Sha256(AsBytes(present->record())));

  Result<v1::StateProofResponse> absent = client_->GetAccountProof(TestKey(900).public_key());
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->present());
  EXPECT_TRUE(absent->record().empty());
  proof = ledger::DecodeStateProof(AsBytes(absent->proof()));
  ASSERT_TRUE(proof.ok());
  checked = ledger::VerifyStateProof(root, ledger::Sha256(AsBytes(absent->record_key())), *proof);
  ASSERT_TRUE(checked.ok());
  EXPECT_FALSE(checked->has_value());
  ExpectGetRefused("/v1/proofs/accounts/xyz", 400, "BAD_PUBLIC_KEY");
}

TEST_F(HttpApiTest, AProposalAndAVoteAreReadWithTheVotesProof) {
  const KeyPair delegate = Register(v1::ROLE_DELEGATE);
  const KeyPair member = TestKey(next_key_++);
  SubmitOk(builder_.RegisterMember(registrar_, NextNonce(registrar_), member.public_key(), delegate.public_key()));
  const std::string source =
      "law http_law version 1\n  \"A law for a test.\"\n\non epoch_closed(citizen: member, epoch: epoch)\n"
      "  let unused = 0\n";
  const std::string proposed = SubmitOk(builder_.ProposeAmendment(delegate, NextNonce(delegate), "http.law", source, 2));
  const ledger::Hash id = *ledger::HashFromBytes(*FromHex(proposed));
  SubmitOk(builder_.Vote(member, NextNonce(member), id, v1::VOTE_CHOICE_NO));

  Result<v1::ProposalResponse> proposal = client_->GetProposal(id);
  ASSERT_TRUE(proposal.ok()) << proposal.status().ToString();
  EXPECT_EQ(proposal->id(), proposed);
  EXPECT_EQ(proposal->proposer(), Hex(delegate));
  EXPECT_EQ(proposal->law(), "http_law");
  EXPECT_EQ(proposal->law_version(), 1);
  EXPECT_EQ(proposal->replaces_version(), 0);
  EXPECT_EQ(proposal->file(), "http.law");
  EXPECT_EQ(proposal->source(), source);
  EXPECT_EQ(proposal->source_hash(), ledger::ToHex(ledger::Sha256(AsBytes(source))));
  EXPECT_EQ(proposal->closes_week(), 2u);
  EXPECT_EQ(proposal->week(), 0u);
  EXPECT_EQ(proposal->status(), v1::PROPOSAL_STATUS_OPEN);
  EXPECT_EQ(proposal->no(), 1u);
  EXPECT_EQ(proposal->votes(), 1u);
  EXPECT_EQ(client_->GetStatus()->week(), 0u);
  Result<v1::TxResponse> tx = client_->GetTx(id);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->tx().propose_amendment().file(), "http.law");
  EXPECT_EQ(tx->tx().propose_amendment().source_hash(), proposal->source_hash());
  EXPECT_EQ(tx->tx().propose_amendment().source_bytes(), source.size());

  const ledger::Hash root = *ledger::HashFromBytes(*FromHex(client_->GetStatus()->state_root()));
  for (const KeyPair* voter : {&member, &delegate}) {
    Result<v1::VoteResponse> vote = client_->GetVote(id, voter->public_key());
    ASSERT_TRUE(vote.ok()) << vote.status().ToString();
    EXPECT_EQ(vote->present(), voter == &member);
    EXPECT_EQ(vote->record_key(), ledger::VoteKey(id, voter->public_key()));
    EXPECT_EQ(vote->voter(), Hex(*voter));
    Result<ledger::StateProof> proof = ledger::DecodeStateProof(AsBytes(vote->proof()));
    ASSERT_TRUE(proof.ok());
    Result<std::optional<ledger::Hash>> checked =
        ledger::VerifyStateProof(root, ledger::Sha256(AsBytes(vote->record_key())), *proof);
    ASSERT_TRUE(checked.ok());
    if (voter == &member) {
      ASSERT_TRUE(checked->has_value());
      EXPECT_EQ(**checked, ledger::Sha256(AsBytes(vote->record())));
      EXPECT_EQ(vote->vote().choice(), v1::VOTE_CHOICE_NO);
      EXPECT_EQ(vote->vote().weight(), 1u);
    } else {
      EXPECT_FALSE(checked->has_value()) << "the delegate has not voted, provably";
    }
  }

  const std::string path = "/v1/proposals/" + proposed;
  ExpectGetRefused("/v1/proposals/" + std::string(63, 'a'), 400, "BAD_PROPOSAL_ID");
  ExpectGetRefused("/v1/proposals/" + std::string(64, 'g'), 400, "BAD_PROPOSAL_ID");
  ExpectGetRefused("/v1/proposals/" + std::string(64, 'a'), 404, "NOT_FOUND");
  ExpectGetRefused("/v1/proposals/" + std::string(64, 'a') + "/votes/" + Hex(member), 404, "NOT_FOUND");
  ExpectGetRefused(path + "/votes/abc", 400, "BAD_PUBLIC_KEY");
  ExpectGetRefused(path + "/votes/" + Hex(member) + "/x", 400, "BAD_PUBLIC_KEY");
  ExpectGetRefused(path + "/tallies/" + Hex(member), 404, "NOT_FOUND");
  ExpectGetRefused(path + "?x=1", 400, "BAD_REQUEST");
}

TEST_F(HttpApiTest, WaitReturnsOnceTheTransactionIsCommitted) {
  service_->set_defer(true);
  const std::string tx = builder_.Register(registrar_, 1, TestKey(5).public_key(), v1::ROLE_MEMBER);
  const ledger::Hash id = ledger::Sha256(AsBytes(tx));
  SubmitOk(tx);
  EXPECT_EQ(client_->GetTx(id).status().code(), "NOT_FOUND");
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_ptr<Client> client = std::move(Client::Create(url_)).value();
    return client->GetTx(id, milliseconds(20'000));
  });
  service_->AwaitWaiting(1);
  service_->CommitPending();
  Result<v1::TxResponse> found = waiter.get();
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  EXPECT_EQ(found->height(), 1u);
  EXPECT_EQ(found->code(), "OK");

  // Not committed within the wait: 404 after about wait_ms.
  const std::string other = builder_.Register(registrar_, 2, TestKey(6).public_key(), v1::ROLE_MEMBER);
  SubmitOk(other);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->GetTx(ledger::Sha256(AsBytes(other)), milliseconds(300)).status().code(), "NOT_FOUND");
  // About wait_ms: the server's timed wait may end a scheduler tick early, never much earlier.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));

  const std::string path = "/v1/txs/" + ledger::ToHex(id);
  ExpectGetRefused(path + "?wait_ms=30001", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?wait_ms=-5", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?wait_ms=5s", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?wait_ms=", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?wait_ms=1&wait_ms=2", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?wait=100", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/txs/" + std::string(63, '0'), 400, "BAD_TX_ID");
  ExpectGetRefused("/v1/txs/" + std::string(64, 'z'), 400, "BAD_TX_ID");
}

TEST_F(HttpApiTest, BlockWaitReturnsOnceTheHeightIsCommitted) {
  service_->set_defer(true);
  SubmitOk(builder_.Register(registrar_, 1, TestKey(5).public_key(), v1::ROLE_MEMBER));
  EXPECT_EQ(client_->GetBlock(1).status().code(), "NOT_FOUND");
  auto waiter = std::async(std::launch::async, [&] {
    std::unique_ptr<Client> client = std::move(Client::Create(url_)).value();
    return client->GetBlock(1, milliseconds(20'000));
  });
  service_->AwaitWaiting(1);
  service_->CommitPending();
  Result<v1::BlockResponse> block = waiter.get();
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  EXPECT_EQ(block->height(), 1u);
  EXPECT_EQ(block->txs_size(), 1);

  // A height not reached within the wait: 404 after about wait_ms; a reached one answers at once.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->GetBlock(2, milliseconds(300)).status().code(), "NOT_FOUND");
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));
  ASSERT_TRUE(client_->GetBlock(1, milliseconds(30'000)).ok());
  ExpectGetRefused("/v1/blocks/2?wait_ms=30001", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/blocks/2?wait_ms=x", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/blocks/2?height=3", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/blocks/latest?wait_ms=100", 400, "BAD_REQUEST");
}

TEST_F(HttpApiTest, WaitsAreBoundedAndEndWithStop) {
  HttpApiOptions options;
  options.workers = 2;
  options.max_waiting = 1;
  StartApi(options);
  service_->set_defer(true);
  const std::string tx = builder_.Register(registrar_, 1, TestKey(5).public_key(), v1::ROLE_MEMBER);
  SubmitOk(tx);
  const std::string path = "/v1/txs/" + ledger::ToHex(ledger::Sha256(AsBytes(tx))) + "?wait_ms=30000";
  auto waiter = std::async(std::launch::async, [&] {
    httplib::Client http("127.0.0.1", api_->port());
    http.set_read_timeout(40, 0);
    httplib::Result result = http.Get(path.c_str());
    return result ? result->status : -1;
  });
  service_->AwaitWaiting(1);
  ExpectGetRefused(path, 503, "BUSY");  // the one wait slot is taken
  // Stop ends the 30 s wait at once: it is answered as not found.
  const auto start = std::chrono::steady_clock::now();
  api_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(waiter.get(), 404);
}

TEST_F(HttpApiTest, MalformedSubmissionsAreRefusedAndChangeNothing) {
  Register(v1::ROLE_MEMBER);
  const std::string valid = builder_.Register(registrar_, 2, TestKey(40).public_key(), v1::ROLE_MEMBER);
  ExpectPostRefused("{", 400, "BAD_REQUEST");
  ExpectPostRefused("", 400, "BAD_REQUEST");
  ExpectPostRefused("[1]", 400, "BAD_REQUEST");
  ExpectPostRefused("{}", 400, "BAD_REQUEST");
  ExpectPostRefused("{\"tx\": 5}", 400, "BAD_REQUEST");
  ExpectPostRefused("{\"tx\": [\"AAAA\"]}", 400, "BAD_REQUEST");
  ExpectPostRefused("{\"tx\": \"!!!not base64!!!\"}", 400, "BAD_REQUEST");
  ExpectPostRefused("{\"tx\": \"AAAA\", \"extra\": 1}", 400, "BAD_REQUEST");
  ExpectPostRefused(Base64(valid) + "x", 400, "BAD_REQUEST");
  ExpectPostRefused(std::string("{\"tx\": \"\xff\xfe\"}"), 400, "BAD_REQUEST");
  // Base64 of bytes that are no SignedTx.
  ExpectPostRefused(Base64("hello, not a transaction"), 400, "MALFORMED");
  // A bit of the signature flipped: the id is the hash of the bytes sent.
  std::string forged = valid;
  forged[forged.size() - 5] ^= 1;
  const v1::ApiError bad = ExpectPostRefused(Base64(forged), 400, "BAD_SIGNATURE");
  EXPECT_EQ(bad.tx_id(), ledger::ToHex(ledger::Sha256(AsBytes(forged))));
  ExpectPostRefused(
      Base64(ledger::TxBuilder("other-chain").Register(registrar_, 2, TestKey(40).public_key(), v1::ROLE_MEMBER)), 400,
      "WRONG_CHAIN");
  ExpectPostRefused(Base64(std::string(ledger::kMaxTxBytes + 1, 'x')), 413, "TX_TOO_LARGE");
  // A body past the API's bound never reaches the parser.
  ExpectPostRefused("{\"tx\": \"" + std::string(HttpApiOptions{}.max_body_bytes, 'A') + "\"}", 413, "BODY_TOO_LARGE");
  // Refused by admission given the state.
  ExpectPostRefused(Base64(builder_.Register(registrar_, 1, TestKey(41).public_key(), v1::ROLE_MEMBER)), 409,
                    "NONCE_TOO_LOW");
  ExpectPostRefused(Base64(builder_.Register(TestKey(42), 1, TestKey(41).public_key(), v1::ROLE_MEMBER)), 422,
                    "UNKNOWN_SIGNER");
  // Bodies bounded only after reading or inflating them are not read at all.
  const std::string chunked =
      "POST /v1/txs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{}  "
      "\r\n0\r\n\r\n";
  EXPECT_NE(RawExchange(chunked).find("HTTP/1.1 411 "), std::string::npos);
  const std::string body = Base64(valid);
  const std::string gzipped =
      "POST /v1/txs HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Encoding: gzip\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string answer = RawExchange(gzipped);
  EXPECT_NE(answer.find("HTTP/1.1 415 "), std::string::npos) << answer;
  EXPECT_NE(answer.find("UNSUPPORTED_ENCODING"), std::string::npos) << answer;
  service_->set_full(true);
  ExpectPostRefused(Base64(valid), 503, "MEMPOOL_FULL");
  ExpectRefused([&] { return http_->Post("/v1/txs?x=1", Base64(valid), "application/json"); }, 400, "BAD_REQUEST");
  service_->set_full(false);
  // The client reports the API's code.
  EXPECT_EQ(client_->SubmitTx(forged).status().code(), "BAD_SIGNATURE");
  // After all that, the valid transaction still goes through.
  SubmitOk(valid);
  EXPECT_EQ(client_->GetStatus()->height(), 2u);
}

TEST_F(HttpApiTest, BatchAnswersEachTransactionInOrder) {
  const std::string first = builder_.Register(registrar_, 1, TestKey(50).public_key(), v1::ROLE_MEMBER);
  const std::string second = builder_.Register(registrar_, 2, TestKey(51).public_key(), v1::ROLE_MEMBER);
  std::string forged = builder_.Register(registrar_, 3, TestKey(52).public_key(), v1::ROLE_MEMBER);
  forged[forged.size() - 5] ^= 1;
  const std::vector<std::string> txs = {first, "not a transaction", second, forged, first};
  Result<v1::SubmitTxBatchResponse> answered = client_->SubmitTxBatch(txs);
  ASSERT_TRUE(answered.ok()) << answered.status().ToString();
  ASSERT_EQ(answered->results_size(), 5);
  const std::vector<std::string> codes = {"OK", "MALFORMED", "OK", "BAD_SIGNATURE", "ALREADY_KNOWN"};
  for (int i = 0; i < 5; ++i) {
    const v1::SubmitTxResponse& answer = answered->results(i);
    EXPECT_EQ(answer.code(), codes[static_cast<size_t>(i)]) << i << ": " << answer.message();
    EXPECT_FALSE(answer.message().empty());
    EXPECT_EQ(answer.tx_id(), ledger::ToHex(ledger::Sha256(AsBytes(txs[static_cast<size_t>(i)]))));
  }
  EXPECT_EQ(client_->GetStatus()->height(), 2u);
  // An oversized transaction has no id; the others in its batch go on.
  const std::string third = builder_.Register(registrar_, 3, TestKey(53).public_key(), v1::ROLE_MEMBER);
  answered = client_->SubmitTxBatch(std::vector<std::string>{std::string(ledger::kMaxTxBytes + 1, 'x'), third});
  ASSERT_TRUE(answered.ok()) << answered.status().ToString();
  EXPECT_EQ(answered->results(0).code(), "TX_TOO_LARGE");
  EXPECT_TRUE(answered->results(0).tx_id().empty());
  EXPECT_EQ(answered->results(1).code(), "OK");
  EXPECT_EQ(client_->GetStatus()->height(), 3u);
}

TEST_F(HttpApiTest, MalformedBatchesAreRefusedAndChangeNothing) {
  auto post = [&](const std::string& body) {
    return [this, body] { return http_->Post("/v1/txs/batch", body, "application/json"); };
  };
  const std::string valid = builder_.Register(registrar_, 1, TestKey(60).public_key(), v1::ROLE_MEMBER);
  v1::SubmitTxBatchRequest too_many;
  for (size_t i = 0; i <= kMaxBatchTxs; ++i) too_many.add_txs(valid);
  std::string too_many_json;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(too_many, &too_many_json).ok());
  ExpectRefused(post(too_many_json), 400, "BAD_REQUEST");
  ExpectRefused(post("{}"), 400, "BAD_REQUEST");
  ExpectRefused(post("{\"txs\": []}"), 400, "BAD_REQUEST");
  ExpectRefused(post("{\"txs\": [5]}"), 400, "BAD_REQUEST");
  ExpectRefused(post("{\"txs\": [\"!!!not base64!!!\"]}"), 400, "BAD_REQUEST");
  ExpectRefused(post("{\"tx\": \"AAAA\"}"), 400, "BAD_REQUEST");
  ExpectRefused(post("[\"AAAA\"]"), 400, "BAD_REQUEST");
  ExpectRefused([&] { return http_->Post("/v1/txs/batch?x=1", "{\"txs\": [\"AAAA\"]}", "application/json"); },
                400, "BAD_REQUEST");
  ExpectRefused([&] { return http_->Get("/v1/txs/batch"); }, 405, "METHOD_NOT_ALLOWED");
  EXPECT_EQ(client_->GetStatus()->height(), 0u);
}

TEST_F(HttpApiTest, LawsAreReadFromTheLedger) {
  Result<v1::LawsResponse> laws = client_->GetLaws();
  ASSERT_TRUE(laws.ok()) << laws.status().ToString();
  ASSERT_EQ(laws->laws_size(), 7);
  EXPECT_EQ(laws->laws(0).name(), "amendment_tally");
  EXPECT_EQ(laws->laws(4).name(), "overtime_pay");
  EXPECT_EQ(laws->laws(4).version(), 2);
  EXPECT_TRUE(laws->laws(4).in_force());
  EXPECT_TRUE(laws->laws(4).source().empty()) << "the list carries no texts";
  EXPECT_EQ(laws->fuel_per_run(), ledger::kStandardFuelPerRun);
  EXPECT_EQ(laws->labour_rate_milli_per_hour(), ledger::kStandardLabourRateMilli);
  service_->EmptyBlockAt(kGenesisTimeMs + 1000);
  EXPECT_EQ(client_->GetBlock(1)->header().law_set_hash(), laws->law_set_hash());

  Result<v1::LawResponse> law = client_->GetLaw("overtime_pay");
  ASSERT_TRUE(law.ok()) << law.status().ToString();
  EXPECT_EQ(law->law().version(), 2);
  EXPECT_EQ(law->law().file(), "contracts/laws/overtime_pay.law");
  EXPECT_EQ(law->law().source(), contracts::StandardLaws()[4].source);
  EXPECT_EQ(law->law().source_hash(), ledger::ToHex(ledger::Sha256(AsBytes(law->law().source()))));
  EXPECT_EQ(client_->GetLaw("overtime_pay", 2)->law().source(), law->law().source());
  EXPECT_EQ(client_->GetLaw("overtime_pay", 1).status().code(), "NOT_FOUND");
  EXPECT_EQ(client_->GetLaw("no_such_law").status().code(), "NOT_FOUND");
  EXPECT_EQ(client_->GetLaw("../status").status().code(), "BAD_LAW_NAME");
  ExpectGetRefused("/v1/laws/overtime_pay?version=0", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/laws/overtime_pay?version=2&version=3", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/laws/overtime_pay?v=2", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/laws?all=1", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/laws/overtime_pay?version=99999999999999999999", 400, "BAD_REQUEST");
}

TEST_F(HttpApiTest, AWorkersWeekIsExplainedAndATransactionCarriesItsLawRuns) {
  const KeyPair member = Register(v1::ROLE_MEMBER);
  const KeyPair workplace = Register(v1::ROLE_WORKPLACE);
  for (int shift = 0; shift < 3; ++shift) {
    SubmitOk(builder_.Attend(workplace, NextNonce(workplace), member.public_key(), kGenesisTimeMs / 1000, 15 * 60));
  }
  const std::string refused =
      SubmitOk(builder_.Attend(workplace, NextNonce(workplace), member.public_key(), kGenesisTimeMs / 1000, 17 * 60));
  Result<v1::TxResponse> tx = client_->GetTx(*ledger::HashFromBytes(*FromHex(refused)));
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->code(), "LAW_REJECTED");
  ASSERT_EQ(tx->law_runs_size(), 1);
  EXPECT_EQ(tx->law_runs(0).law(), "labour_pay v2");
  EXPECT_FALSE(tx->law_runs(0).trace().empty());
  EXPECT_EQ(client_->GetExplanation(member.public_key(), false, 0).status().code(), "NOT_FOUND") << "not closed yet";

  service_->EmptyBlockAt(kGenesisTimeMs + ledger::testing::kWeekMs);
  Result<v1::ExplanationResponse> week = client_->GetExplanation(member.public_key(), false, 0);
  ASSERT_TRUE(week.ok()) << week.status().ToString();
  EXPECT_EQ(week->member(), Hex(member));
  EXPECT_EQ(week->hook(), "week_closed");
  EXPECT_EQ(week->height(), client_->GetStatus()->height());
  std::vector<int64_t> issued;
  for (const v1::LawRun& run : week->law_runs()) {
    for (const v1::LawIssue& issue : run.issues()) issued.push_back(issue.amount_milli());
  }
  EXPECT_EQ(issued, (std::vector<int64_t>{45'000, 2'500}));
  EXPECT_EQ(client_->GetExplanation(member.public_key(), false, 1).status().code(), "NOT_FOUND");
  EXPECT_EQ(client_->GetExplanation(member.public_key(), true, 0).status().code(), "NOT_FOUND");
  const std::string path = "/v1/explanations/" + Hex(member);
  ExpectGetRefused(path, 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?week=0&epoch=0", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?week=x", 400, "BAD_REQUEST");
  ExpectGetRefused(path + "?month=0", 400, "BAD_REQUEST");
  ExpectGetRefused("/v1/explanations/abc?week=0", 400, "BAD_PUBLIC_KEY");
}

TEST_F(HttpApiTest, UnknownPathsAndWrongMethodsAreRefused) {
  ExpectGetRefused("/", 404, "NOT_FOUND");
  ExpectGetRefused("/v2/status", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/status/", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/txs/", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/accounts/" + Hex(registrar_) + "/x", 404, "NOT_FOUND");
  ExpectGetRefused("/v1/%00%ff", 404, "NOT_FOUND");
  ExpectGetRefused("/" + std::string(20'000, 'a'), 414, "URI_TOO_LONG");
  v1::ApiError error = ExpectGetRefused("/v1/txs", 405, "METHOD_NOT_ALLOWED");
  httplib::Result result = http_->Delete("/v1/txs");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 405);
  EXPECT_EQ(result->get_header_value("Allow"), "POST");
  ExpectRefused([&] { return http_->Post("/v1/status", "{}", "application/json"); }, 405, "METHOD_NOT_ALLOWED");
  ExpectRefused([&] { return http_->Put("/v1/accounts/" + Hex(registrar_), "{}", "application/json"); }, 405,
                "METHOD_NOT_ALLOWED");
  ExpectRefused([&] { return http_->Post("/metrics", std::string(200'000, 'x'), "text/plain"); }, 405,
                "METHOD_NOT_ALLOWED");
  result = http_->Post("/v1/blocks/latest", "", "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->get_header_value("Allow"), "GET");
}

TEST_F(HttpApiTest, ApiBindsOnlyOnce) {
  HttpApiOptions options;
  options.port = api_->port();
  HttpApi second(*service_, options);
  Status started = second.Start();
  EXPECT_EQ(started.code(), "API_BIND");
  HttpApiOptions bad_host;
  bad_host.host = "203.0.113.1";  // TEST-NET-3: not an address of this host
  bad_host.port = 0;
  EXPECT_EQ(HttpApi(*service_, bad_host).Start().code(), "API_BIND");
}

// Binds `sock` to a free loopback port and returns the port.
uint16_t BindLoopback(int sock) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(::getsockname(sock, reinterpret_cast<sockaddr*>(&address), &length), 0);
  return ntohs(address.sin_port);
}

TEST(ClientTest, RefusesBadUrlsAndReportsUnreachableNodes) {
  for (const char* url :
       {"", "127.0.0.1:26657", "https://127.0.0.1:1", "http://", "http://:80", "http://a b", "http://host:0",
        "http://host:65536", "http://host:", "http://host:12x", "http://host/v1", "http://[::1", "http://[zz]:1"}) {
    EXPECT_EQ(Client::Create(url).status().code(), "BAD_NODE_URL") << url;
  }
  for (const char* url : {"http://localhost", "http://127.0.0.1:26657", "http://127.0.0.1:26657/", "http://[::1]:80",
                          "http://node-1.example:8080"}) {
    EXPECT_TRUE(Client::Create(url).ok()) << url;
  }
  // A port nobody listens on (refused), and one that accepts but never answers (timed out).
  const int closed = ::socket(AF_INET, SOCK_STREAM, 0);
  const int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(closed, 0);
  ASSERT_GE(silent, 0);
  const uint16_t closed_port = BindLoopback(closed), silent_port = BindLoopback(silent);
  ASSERT_EQ(::listen(silent, 4), 0);
  for (uint16_t port : {closed_port, silent_port}) {
    std::unique_ptr<Client> client =
        std::move(Client::Create("http://127.0.0.1:" + std::to_string(port), milliseconds(300))).value();
    const Status status = client->GetStatus().status();
    EXPECT_EQ(status.code(), "NODE_UNREACHABLE") << port;
    EXPECT_NE(status.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << status.message();
  }
  ::close(closed);
  ::close(silent);
}

TEST(ClientTest, AnswersThatAreNotTheApisAreBadResponses) {
  httplib::Server server;
  server.Get("/v1/status",
             [](const httplib::Request&, httplib::Response& res) { res.set_content("hello", "text/plain"); });
  server.Get("/v1/blocks/latest", [](const httplib::Request&, httplib::Response& res) {
    res.status = 500;
    res.set_content("oops", "text/plain");
  });
  server.Get("/v1/blocks/1", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(kMaxResponseBytes + 1, ' '), "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(milliseconds(1));
  std::unique_ptr<Client> client = std::move(Client::Create("http://127.0.0.1:" + std::to_string(port))).value();
  EXPECT_EQ(client->GetStatus().status().code(), "BAD_RESPONSE");
  EXPECT_EQ(client->GetLatestBlock().status().code(), "BAD_RESPONSE");
  EXPECT_EQ(client->GetBlock(1).status().code(), "BAD_RESPONSE");
  server.stop();
  thread.join();
}

// The `gongshe` binary against the API: key files, transactions with --wait, queries.
class CliTest : public HttpApiTest {
 protected:
  // Runs gongshe with `args`; returns its exit status and stdout.
  std::pair<int, std::string> Gongshe(const std::string& args) {
    const std::string command = std::string(GONGSHE_BINARY) + " " + args + " --node " + url_ + " 2>/dev/null";
    return Run(command);
  }
  static std::pair<int, std::string> Run(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    if (pipe == nullptr) return {-1, ""};
    std::string out;
    char buffer[4096];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
};

TEST_F(CliTest, KeysTransactionsAndQueries) {
  ASSERT_TRUE(ledger::WriteKeyFile(Path("registrar.key"), registrar_).ok());
  ASSERT_TRUE(ledger::WriteKeyFile(Path("issuer.key"), issuer_).ok());
  auto [gen_status, member_hex] = Run(std::string(GONGSHE_BINARY) + " key gen --out " + Path("member.key"));
  ASSERT_EQ(gen_status, 0);
  member_hex.pop_back();  // newline
  EXPECT_EQ(Run(std::string(GONGSHE_BINARY) + " key show " + Path("member.key")).second, member_hex + "\n");
  EXPECT_EQ(fs::status(Path("member.key")).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_NE(Run(std::string(GONGSHE_BINARY) + " key gen --out " + Path("member.key") + " 2>/dev/null").first, 0);
  ASSERT_EQ(Run(std::string(GONGSHE_BINARY) + " key gen --out " + Path("store.key")).first, 0);

  auto [status, out] =
      Gongshe("tx register --key " + Path("registrar.key") + " --public-key " + member_hex + " --role member --wait");
  EXPECT_EQ(status, 0) << out;
  EXPECT_NE(out.find("committed at height 1, index 0: OK"), std::string::npos) << out;
  EXPECT_EQ(Gongshe("tx register --key " + Path("registrar.key") + " --public-key " + Path("store.key") +
                    " --role store --wait")
                .first,
            0);
  std::tie(status, out) = Gongshe("tx issue --key " + Path("issuer.key") + " --member " + Path("member.key") +
                                  " --class consumption --amount 12.5 --reason work --wait --json");
  EXPECT_EQ(status, 0) << out;
  EXPECT_EQ(FromJson<v1::TxResponse>(out).tx().issue_vouchers().amount_milli(), 12'500);
  std::tie(status, out) = Gongshe("tx redeem --key " + Path("member.key") + " --cosign-key " + Path("store.key") +
                                  " --class consumption --amount 2.25 --category bread --wait");
  EXPECT_EQ(status, 0) << out;

  std::tie(status, out) = Gongshe("query account " + member_hex + " --json");
  ASSERT_EQ(status, 0);
  const auto account = FromJson<v1::AccountResponse>(out);
  EXPECT_EQ(account.next_nonce(), 2u);
  ASSERT_EQ(account.balances_size(), 1);
  EXPECT_EQ(account.balances(0).total_milli(), 10'250);
  std::tie(status, out) = Gongshe("query account " + Path("member.key"));
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("consumption      10.250 credits"), std::string::npos) << out;
  std::tie(status, out) = Gongshe("query status --json");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(FromJson<v1::StatusResponse>(out).height(), 4u);
  std::tie(status, out) = Gongshe("query block latest --json");
  EXPECT_EQ(status, 0);
  const auto block = FromJson<v1::BlockResponse>(out);
  ASSERT_EQ(block.txs_size(), 1);
  std::tie(status, out) = Gongshe("query tx " + block.txs(0).tx_id());
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("result           OK"), std::string::npos) << out;

  // Failures exit non-zero: a rejection in the block, a refusal, bad arguments, no node.
  std::tie(status, out) = Gongshe("tx redeem --key " + Path("member.key") + " --cosign-key " + Path("store.key") +
                                  " --class consumption --amount 1000 --category bread --wait");
  EXPECT_EQ(status, 1);
  EXPECT_NE(out.find("INSUFFICIENT_BALANCE"), std::string::npos) << out;
  std::tie(status, out) = Gongshe("tx issue --key " + Path("store.key") + " --member " + member_hex +
                                  " --class consumption --amount 1 --reason x --wait --json");
  EXPECT_EQ(status, 1);
  EXPECT_EQ(FromJson<v1::TxResponse>(out).code(), "UNAUTHORIZED") << out;
  std::tie(status, out) = Gongshe("tx register --key " + Path("registrar.key") + " --public-key " + Hex(TestKey(60)) +
                                  " --role member --nonce 1 --json");
  EXPECT_EQ(status, 1);
  EXPECT_EQ(FromJson<v1::ErrorResponse>(out).error().code(), "NONCE_TOO_LOW") << out;
  ASSERT_EQ(Run(std::string(GONGSHE_BINARY) + " key gen --out " + Path("stranger.key")).first, 0);
  std::tie(status, out) =
      Gongshe("tx attend --key " + Path("stranger.key") + " --member " + member_hex + " --minutes 60 --json");
  EXPECT_EQ(status, 1);
  EXPECT_EQ(FromJson<v1::ErrorResponse>(out).error().code(), "UNKNOWN_SIGNER") << out;
  const auto before = service_->HeightAndRoot();
  EXPECT_EQ(Gongshe("tx issue --key " + Path("issuer.key") + " --member " + member_hex +
                    " --class consumption --amount 1.2345 --reason x")
                .first,
            1);
  EXPECT_EQ(Gongshe("tx issue --key " + Path("issuer.key") + " --member " + member_hex +
                    " --class luxury --amount 1 --reason x")
                .first,
            1);
  EXPECT_EQ(Gongshe("tx register --key " + Path("registrar.key") + " --public-key nothex --role member").first, 1);
  EXPECT_EQ(Gongshe("tx register --key " + Path("nokey") + " --public-key " + member_hex + " --role member").first, 1);
  EXPECT_EQ(Gongshe("query account " + Hex(TestKey(999))).first, 1);
  EXPECT_EQ(Gongshe("query block 99").first, 1);
  EXPECT_EQ(Gongshe("query block x").first, 1);
  EXPECT_EQ(Gongshe("query tx 1234").first, 1);
  EXPECT_EQ(service_->HeightAndRoot(), before);
  std::tie(status, out) =
      Run(std::string(GONGSHE_BINARY) + " query status --json --node http://127.0.0.1:1 2>/dev/null");
  EXPECT_EQ(status, 1);
  EXPECT_EQ(FromJson<v1::ErrorResponse>(out).error().code(), "NODE_UNREACHABLE");
}

TEST_F(CliTest, LawsAndExplanations) {
  const KeyPair member = Register(v1::ROLE_MEMBER);
  const KeyPair workplace = Register(v1::ROLE_WORKPLACE);
  for (int shift = 0; shift < 3; ++shift) {
    SubmitOk(builder_.Attend(workplace, NextNonce(workplace), member.public_key(), kGenesisTimeMs / 1000, 15 * 60));
  }
  service_->EmptyBlockAt(kGenesisTimeMs + ledger::testing::kWeekMs);
  auto [status, out] = Gongshe("query explain " + Hex(member) + " --week 0");
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("+ 45 consumption credits: 45h worked in week 0 at 1 credits per hour (labour_pay v2 §2)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("+ 2.5 consumption credits: overtime 5h at 1.5x in week 0 (overtime_pay v2 §2)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("let overtime = max(worked - standard_week, 0h) = 5h"), std::string::npos) << out;
  EXPECT_EQ(Gongshe("query explain " + Hex(member) + " --week 1").first, 1);
  EXPECT_EQ(Gongshe("query explain " + Hex(member)).first, 1) << "a week or an epoch is needed";

  std::tie(status, out) = Gongshe("law show overtime_pay");
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("law overtime_pay version 2, in force from height 1"), std::string::npos) << out;
  EXPECT_NE(out.find(std::string(contracts::StandardLaws()[4].source)), std::string::npos) << out;
  EXPECT_EQ(Gongshe("law show overtime_pay --version 1").first, 1);
  std::tie(status, out) = Gongshe("law list");
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("voucher_expiry"), std::string::npos) << out;

  // A proposed amendment, compared with the version in force.
  std::string amended(contracts::StandardLaws()[4].source);
  amended.replace(amended.find("param premium : ratio = 1.5"), 27, "param premium : ratio = 1.75");
  {
    std::ofstream file(Path("overtime_pay.law"));
    file << amended;
  }
  std::tie(status, out) = Gongshe("law diff overtime_pay 2 --file " + Path("overtime_pay.law"));
  EXPECT_EQ(status, 0);
  EXPECT_NE(out.find("--- overtime_pay version 2\n+++ " + Path("overtime_pay.law")), std::string::npos) << out;
  EXPECT_NE(out.find("\n-param premium : ratio = 1.5\n+param premium : ratio = 1.75\n"), std::string::npos) << out;
  std::tie(status, out) = Gongshe("law diff overtime_pay 2 2");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "overtime_pay version 2 and overtime_pay version 2 are the same text\n");
  EXPECT_EQ(Gongshe("law diff overtime_pay 1 2").first, 1) << "version 1 was never enacted";
  EXPECT_EQ(Gongshe("law diff overtime_pay 2").first, 1) << "nothing to compare to";
}

}  // namespace
}  // namespace gongshe::node
