#include "node/node.h"

#include <spdlog/spdlog.h>

#include <asio.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "common/thread_pool.h"
#include "consensus/core.h"
#include "gongshe/v1/peer.pb.h"
#include "common/file.h"
#include "ledger/batch_verify.h"
#include "ledger/evidence.h"
#include "ledger/genesis.h"
#include "ledger/key_file.h"
#include "ledger/ledger.h"
#include "ledger/state.h"
#include "ledger/transaction.h"
#include "node/block_sync.h"
#include "node/evidence.h"
#include "node/http_api.h"
#include "node/mempool.h"
#include "node/transport.h"

namespace gongshe::node {
namespace {

using consensus::BlockId;
using ledger::Hash;
using ledger::PublicKey;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kPeerVersion = 1;
constexpr size_t kMaxDeferredExecutions = 256;
constexpr size_t kMaxGossipBatch = 512;
constexpr size_t kMaxGossipTxsIn = 10'000;
constexpr size_t kRecoveredCommittedBlocks = 64;
constexpr size_t kMaxVotedRecords = 4096;
// Equivocation evidence reported by the core and waiting for a block (node/evidence.h). The node
// runs the genesis epoch only, so evidence of any other epoch is invalid here.
constexpr size_t kMaxPendingEvidence = 64;
constexpr uint64_t kNodeEpoch = 0;
// Block sync starts when a peer is this far ahead while we commit nothing for kSyncStall, or
// further ahead than kSyncFarBehindBlocks at all: the core's own catch-up is for short gaps.
constexpr uint64_t kSyncLagBlocks = 3;
constexpr uint64_t kSyncFarBehindBlocks = 16;
constexpr auto kSyncStall = std::chrono::milliseconds(1500);
constexpr auto kSyncTimeout = std::chrono::milliseconds(3000);
// For peers to announce their heights to a starting node: above the transport's longest redial
// back-off (2 s), since a peer that saw us go down redials us only that often. Ends early once
// every configured peer has announced.
constexpr auto kStartupWindow = std::chrono::milliseconds(3000);
constexpr auto kAnnounceInterval = std::chrono::milliseconds(500);
// Admission checks are bulk work: the workers run at this lower priority, so that under load the
// node loop and the checks of a block it is about to vote on (every transaction's latency) get
// the CPU first.
constexpr int kWorkerNice = 10;
const std::string kSafetyRecordKey = "safety";
const std::string kVotedRecordPrefix = "voted/";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MicrosSince(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

std::string HashString(const Hash& h) { return std::string(AsChars(h)); }

std::string VotedRecordKey(const BlockId& id) { return kVotedRecordPrefix + HashString(id); }

// A storage failure under the node loop leaves no safe way on: a vote could go out unrecorded, or
// a committed block unapplied. The process stops; a restart recovers from the last durable write.
[[noreturn]] void Fatal(const std::string& what) {
  spdlog::critical("stopping: {}", what);
  spdlog::default_logger()->flush();
  std::_Exit(70);
}

uint64_t NextNonce(const ledger::KvReader& state, const PublicKey& key) {
  std::optional<v1::Account> account = ledger::StateView(state).Account(key);
  return account ? account->nonce() + 1 : 1;
}

Bytes Frame(const v1::PeerMessage& message) {
  std::string bytes;
  GS_ASSERT(message.SerializeToString(&bytes));
  return Bytes(bytes.begin(), bytes.end());
}

// A block executed on top of its parent, ahead of commit: its writes wait in `overlay`, which
// reads through the parent's overlay (or the committed state once the parent is committed).
struct ExecutedBlock {
  BlockId parent_id{};
  uint64_t height = 0;
  bool valid = false;
  v1::Block block;
  v1::BlockResults results;
  std::vector<Hash> tx_ids;
  std::unique_ptr<ledger::Overlay> overlay;
};

class NodeImpl final : public Node {
 public:
  explicit NodeImpl(NodeConfig config) : config_(std::move(config)) {}
  ~NodeImpl() override { Stop(); }

  gongshe::Status Open();
  void Stop() override;
  uint16_t api_port() const override { return api_port_; }
  uint16_t p2p_port() const override { return transport_->local_port(); }

  Admission Submit(std::string tx_bytes) override;
  std::vector<Admission> SubmitBatch(std::vector<std::string> txs) override;
  uint64_t WaitForHeightAbove(uint64_t height, std::chrono::milliseconds timeout) override;
  std::shared_ptr<const ledger::LedgerSnapshot> Snapshot() override { return ledger_->Snapshot(); }
  NodeStatus Status() override;

 private:
  // The id of a consensus block this node stored or checked (its hash fields are well formed).
  BlockId IdOf(const v1::ConsensusBlock& block) const {
    std::optional<BlockId> id = ConsensusBlockId(block, genesis_.genesis.chain_id());
    GS_ASSERT(id.has_value());
    return *id;
  }

  // ---- Node loop (everything below runs on node_io_) ----
  void StartCore();
  void Run(consensus::Actions actions);
  void RunOne(consensus::Action& action, std::deque<consensus::Action>& queue);
  void OnFrame(const PublicKey& from, Bytes frame);
  // Records the core asked to persist wait in unsynced_records_ and are written in one synced write
  // before the next message leaves (FlushRecords), or with a commit: one disk sync per vote.
  void Persist(ledger::NodeRecords records);
  void FlushRecords();

  // Execution ahead of commit.
  const ledger::KvReader* StateAfter(const BlockId& id) const;
  Result<ExecutedBlock> Execute(const ledger::KvReader& base, ByteView payload, const Hash& payload_hash,
                                bool check_time);
  // Signature results for a block's transactions, checking only those not verified recently.
  ledger::SignatureResults CheckSignatures(const v1::Block& block, const std::vector<Hash>& ids);
  void OnExecuteBlock(const consensus::ExecuteBlock& request, std::deque<consensus::Action>& queue);
  void RetryDeferred(std::deque<consensus::Action>& queue);

  // Proposals.
  void TryAnswerPayload(std::deque<consensus::Action>& queue);
  TxIdSet UncommittedTxIds(const BlockId& parent_id) const;
  // Evidence the core reported: kept for a proposal of this node's (evidence_pool_).
  void OnEvidence(const v1::Evidence& evidence);

  // Commit.
  void OnCommit(const consensus::Commit& commit);
  void CommitOne(const consensus::CommittedBlock& committed, const v1::CommitCertificate* certificate);
  void AfterCommit(const v1::Block& block, const std::vector<Hash>& tx_ids);
  void Prune();

  // Sync.
  void OnStatusAnnounce(const PublicKey& from, uint64_t height);
  void StartUpSync();
  void MaybeStartSync();
  void RequestSync();
  void OnSyncResponse(const PublicKey& from, const v1::SyncResponse& response);
  void FinishSync();

  // Timers.
  Bytes StatusFrame() const;  // our committed height, for peers
  void ArmAnnounce();
  void OnAdmitted();  // gossips the client transactions admitted; a waiting leader proposes

  const NodeConfig config_;
  ledger::GenesisDoc genesis_;
  std::optional<ledger::KeyPair> key_;
  std::unique_ptr<ledger::Ledger> ledger_;
  consensus::Ed25519Verifier ed25519_;
  std::optional<consensus::RecordingSigner> signer_;
  std::optional<consensus::SelfTrustingVerifier> verifier_;  // ed25519_, trusting signer_'s own
  std::optional<consensus::ValidatorSet> validators_;
  std::unique_ptr<ThreadPool> workers_;         // admission checks: bulk work, at kWorkerNice
  std::unique_ptr<ThreadPool> block_checkers_;  // with the node loop, a block's signature checks
  std::unique_ptr<Mempool> mempool_;
  EvidencePool evidence_pool_{kMaxPendingEvidence};  // node loop only

  asio::io_context node_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> node_work_;
  std::thread node_thread_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<HttpApi> api_;
  uint16_t api_port_ = 0;
  std::atomic<bool> stopped_{false};

  // Node loop state.
  std::unique_ptr<consensus::Core> core_;  // null while syncing
  BlockId head_id_{};                      // consensus id of the last committed block
  std::map<BlockId, ExecutedBlock> executed_;
  std::deque<consensus::ExecuteBlock> deferred_;  // waiting for their parent's execution
  std::optional<consensus::RequestPayload> pending_payload_;
  Clock::time_point payload_requested_at_{};
  std::map<BlockId, uint64_t> voted_records_;  // blocks persisted before a vote, by height
  ledger::NodeRecords unsynced_records_;
  std::vector<consensus::Commit> pending_commits_;  // of the running event, applied once its sends left
  std::unique_ptr<asio::steady_timer> round_timer_, payload_timer_, announce_timer_, sync_timer_;
  std::map<PublicKey, uint64_t> peer_heights_;
  Clock::time_point last_commit_at_ = Clock::now();
  std::optional<PublicKey> sync_peer_;
  uint64_t synced_blocks_ = 0;  // in the current sync
  uint64_t last_height_with_txs_ = 0;  // of the highest executed block holding transactions

  // Shared with other threads.
  std::mutex gossip_mu_;
  std::vector<std::shared_ptr<const std::string>> gossip_out_;
  std::atomic<bool> admitted_wake_posted_{false};
  std::atomic<bool> payload_waiting_{false};
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::atomic<uint64_t> committed_height_{0}, round_{0}, blocks_committed_{0}, txs_committed_{0};
  std::atomic<bool> syncing_{false};
};

// ---------------------------------------------------------------------------------------------
// Opening and stopping

gongshe::Status NodeImpl::Open() {
  Result<std::string> genesis_text = ReadFileBytes(config_.GenesisPath(), ledger::kMaxGenesisBytes);
  if (!genesis_text.ok()) return genesis_text.status();
  Result<ledger::GenesisDoc> genesis = ledger::ParseGenesis(*genesis_text);
  if (!genesis.ok()) return genesis.status();
  genesis_ = *std::move(genesis);
  Result<ledger::KeyPair> key = ledger::ReadKeyFile(config_.ValidatorKeyPath());
  if (!key.ok()) return key.status();
  key_ = *key;
  signer_.emplace(*key);
  verifier_.emplace(ed25519_, *signer_);

  Result<std::unique_ptr<ledger::Ledger>> ledger = ledger::Ledger::Open(config_.DataPath(), genesis_);
  if (!ledger.ok()) return ledger.status();
  ledger_ = *std::move(ledger);
  Result<consensus::ValidatorSet> set =
      consensus::ValidatorSet::FromProto(ledger::StateView(ledger_->state()).ValidatorSet());
  if (!set.ok()) return set.status();
  validators_.emplace(*std::move(set));
  if (!validators_->IndexOf(key_->public_key())) {
    return {"NOT_A_VALIDATOR", "the key " + config_.ValidatorKeyPath() + " is not in the validator set"};
  }
  committed_height_ = ledger_->height();
  head_id_ = genesis_.hash;  // the epoch root
  if (ledger_->height() > 0) {
    std::optional<std::string> record = ledger_->NodeRecord(CommittedBlockRecordKey(ledger_->height()));
    if (!record) return {"NO_CONSENSUS_RECORD", "the store holds no consensus record of its last block"};
    v1::ConsensusBlock last;
    GS_ASSERT(last.ParseFromString(*record));
    head_id_ = IdOf(last);
  }

  const size_t cores = std::max(2u, std::thread::hardware_concurrency());
  workers_ = std::make_unique<ThreadPool>(cores, 100'000, kWorkerNice);
  block_checkers_ = std::make_unique<ThreadPool>(cores - 1, cores);
  MempoolConfig mempool_config;
  mempool_config.chain_id = genesis_.genesis.chain_id();
  mempool_config.max_txs = config_.mempool_max_txs;
  mempool_config.max_bytes = config_.mempool_max_bytes;
  mempool_ = std::make_unique<Mempool>(
      mempool_config, *workers_, [this] { return ledger_->Snapshot(); },
      [this](const PooledTx& tx, TxOrigin origin) {
        if (origin == TxOrigin::kClient) {  // gossip travels one hop: every peer is linked
          std::lock_guard lock(gossip_mu_);
          gossip_out_.push_back(tx.bytes);
        }
        // One wake of the loop for all the admissions made until it runs: under load they go out
        // together, and without load at once.
        if (!admitted_wake_posted_.exchange(true)) asio::post(node_io_, [this] { OnAdmitted(); });
      });

  TransportConfig transport_config(*key_, genesis_.genesis.chain_id());
  transport_config.listen_host = config_.p2p_listen.host;
  transport_config.listen_port = config_.p2p_listen.port;
  TransportHandlers handlers;
  handlers.on_frame = [this](const PublicKey& from, Bytes frame) {
    // Handled once the transport's handler has returned, so a frame's work (a block to execute)
    // never runs inside the transport's strand.
    asio::post(node_io_, [this, from, frame = std::move(frame)]() mutable { OnFrame(from, std::move(frame)); });
  };
  handlers.on_peer = [this](const PublicKey& peer, bool up) {
    spdlog::info("peer {} {}", ledger::PublicKeyToHex(peer).substr(0, 12), up ? "connected" : "disconnected");
    // A new link learns our height at once, not at the next announcement: a starting peer
    // decides from it whether to sync.
    if (up) asio::post(node_io_, [this, peer] { transport_->Send(peer, StatusFrame()); });
  };
  handlers.on_link_error = [](const gongshe::Status& why) { spdlog::warn("peer link: {}", why.ToString()); };
  // The links run on the node loop: on a machine shared by several validators a thread of their
  // own only added wake-ups and context switches (a third fewer per block without it).
  Result<std::unique_ptr<Transport>> transport = Transport::Create(node_io_, transport_config, handlers);
  if (!transport.ok()) return transport.status();
  transport_ = *std::move(transport);
  std::vector<Peer> peers;
  for (const PeerConfig& peer : config_.peers) peers.push_back(Peer{peer.key, peer.address.host, peer.address.port});
  transport_->SetPeers(std::move(peers));

  HttpApiOptions api_options;
  api_options.host = config_.api_listen.host;
  api_options.port = config_.api_listen.port;
  api_ = std::make_unique<HttpApi>(*this, api_options);
  GS_RETURN_IF_ERROR(api_->Start());
  api_port_ = api_->port();

  round_timer_ = std::make_unique<asio::steady_timer>(node_io_);
  payload_timer_ = std::make_unique<asio::steady_timer>(node_io_);
  announce_timer_ = std::make_unique<asio::steady_timer>(node_io_);
  sync_timer_ = std::make_unique<asio::steady_timer>(node_io_);
  node_work_.emplace(node_io_.get_executor());
  transport_->Start();
  node_thread_ = std::thread([this] { node_io_.run(); });
  asio::post(node_io_, [this] {
    StartUpSync();
    ArmAnnounce();
  });
  spdlog::info("node {} at height {}: peers on {}:{}, API on {}:{}", config_.moniker, ledger_->height(),
               config_.p2p_listen.host, transport_->local_port(), config_.api_listen.host, api_port_);
  return gongshe::Status::Ok();
}

void NodeImpl::Stop() {
  if (stopped_.exchange(true)) return;
  if (api_) api_->Stop();
  if (transport_) transport_->Stop();
  if (node_thread_.joinable()) {
    std::promise<void> cleaned;
    asio::post(node_io_, [this, &cleaned] {
      for (auto* timer : {&round_timer_, &payload_timer_, &announce_timer_, &sync_timer_}) {
        (*timer)->cancel();
      }
      core_.reset();
      cleaned.set_value();
    });
    cleaned.get_future().wait();
    node_work_.reset();
    node_io_.stop();
    node_thread_.join();
  }
  if (workers_) workers_->Shutdown();
  commit_cv_.notify_all();
  executed_.clear();
  transport_.reset();
  mempool_.reset();
  ledger_.reset();
}

// ---------------------------------------------------------------------------------------------
// The consensus core and its actions

void NodeImpl::StartCore() {
  GS_ASSERT(!core_);
  const uint64_t height = ledger_->height();
  consensus::RecoveredState recovered;
  const Hash root_id = genesis_.hash;
  recovered.head = consensus::CommittedHead{root_id, 0, 0};
  for (uint64_t h = height > kRecoveredCommittedBlocks ? height - kRecoveredCommittedBlocks + 1 : 1; h <= height; ++h) {
    std::optional<v1::ConsensusBlock> block = CommittedConsensusBlock(*ledger_, h);
    if (!block) {
      recovered.committed.clear();  // committed before consensus records were kept: none older
      continue;
    }
    recovered.committed.push_back(*std::move(block));
  }
  if (height > 0) {
    if (recovered.committed.empty()) Fatal("no consensus record of the last committed block");
    recovered.head = consensus::CommittedHead{head_id_, height, recovered.committed.back().round()};
  }
  voted_records_.clear();
  for (const auto& [key, value] : ledger_->NodeRecordsWithPrefix(kVotedRecordPrefix, kMaxVotedRecords)) {
    v1::ConsensusBlock block;
    GS_ASSERT(block.ParseFromString(value));
    voted_records_[*ledger::HashFromBytes(AsBytes(key.substr(kVotedRecordPrefix.size())))] = block.height();
    recovered.voted.push_back(std::move(block));
  }
  if (std::optional<std::string> safety = ledger_->NodeRecord(kSafetyRecordKey)) {
    recovered.safety.emplace();
    GS_ASSERT(recovered.safety->ParseFromString(*safety));
  }

  consensus::CoreConfig core_config;
  core_config.chain_id = genesis_.genesis.chain_id();
  core_config.base_timeout_ms = config_.base_timeout_ms;
  core_config.max_payload_bytes = config_.max_block_bytes + ledger::kMaxHeaderBytes + 4096;
  core_config.max_message_bytes = 2 * core_config.max_payload_bytes + (1u << 20);
  consensus::EpochInfo epoch{0, validators_->proto(), root_id, 0};
  Result<std::unique_ptr<consensus::Core>> core = consensus::Core::Create(core_config, &*signer_, *verifier_, epoch,
                                                                           recovered);
  if (!core.ok()) Fatal("cannot recover the consensus state: " + core.status().ToString());
  core_ = *std::move(core);
  Run(core_->Start());
}

void NodeImpl::Run(consensus::Actions actions) {
  std::deque<consensus::Action> queue(std::make_move_iterator(actions.begin()), std::make_move_iterator(actions.end()));
  // Actions caused by handling an action run after the rest of their list: as if their event came
  // once the list was done, which keeps each list's order (a persist before the sends after it).
  // Commits wait until the event's messages have left: a vote never waits for a commit's write.
  while (!queue.empty() && core_) {
    while (!queue.empty() && core_) {
      consensus::Action action = std::move(queue.front());
      queue.pop_front();
      RunOne(action, queue);
    }
    FlushRecords();
    if (pending_commits_.empty() || !core_) break;
    for (const consensus::Commit& commit : std::exchange(pending_commits_, {})) OnCommit(commit);
    RetryDeferred(queue);
    TryAnswerPayload(queue);
  }
  if (core_) round_ = core_->current_round();
}

void NodeImpl::RunOne(consensus::Action& action, std::deque<consensus::Action>& queue) {
  auto consensus_frame = [](const Bytes& bytes) {
    v1::PeerMessage message;
    message.set_version(kPeerVersion);
    message.set_consensus(std::string(AsChars(bytes)));
    return Frame(message);
  };
  if (auto* send = std::get_if<consensus::SendMessage>(&action)) {
    FlushRecords();
    transport_->Send(send->to, consensus_frame(send->bytes));
  } else if (auto* broadcast = std::get_if<consensus::BroadcastMessage>(&action)) {
    FlushRecords();
    transport_->Broadcast(consensus_frame(broadcast->bytes));
  } else if (auto* timer = std::get_if<consensus::SetTimer>(&action)) {
    round_timer_->expires_after(std::chrono::milliseconds(timer->delay_ms));
    round_timer_->async_wait([this, round = timer->round](const asio::error_code& error) {
      if (!error && core_) Run(core_->OnTimer(round));
    });
  } else if (auto* safety = std::get_if<consensus::PersistSafetyState>(&action)) {
    std::string bytes;
    GS_ASSERT(safety->state.SerializeToString(&bytes));
    Persist({{kSafetyRecordKey, std::move(bytes)}});
  } else if (auto* block = std::get_if<consensus::PersistBlock>(&action)) {
    std::string bytes;
    GS_ASSERT(block->block.SerializeToString(&bytes));
    const BlockId id = IdOf(block->block);
    Persist({{VotedRecordKey(id), std::move(bytes)}});
    voted_records_[id] = block->block.height();
  } else if (auto* request = std::get_if<consensus::RequestPayload>(&action)) {
    pending_payload_ = *request;
    payload_requested_at_ = Clock::now();
    TryAnswerPayload(queue);
  } else if (auto* execute = std::get_if<consensus::ExecuteBlock>(&action)) {
    OnExecuteBlock(*execute, queue);
  } else if (auto* commit = std::get_if<consensus::Commit>(&action)) {
    pending_commits_.push_back(std::move(*commit));
  } else if (auto* evidence = std::get_if<consensus::ReportEvidence>(&action)) {
    OnEvidence(evidence->evidence);
  }
}

void NodeImpl::Persist(ledger::NodeRecords records) {
  for (auto& record : records) unsynced_records_.push_back(std::move(record));
}

void NodeImpl::FlushRecords() {
  if (unsynced_records_.empty()) return;
  const auto started = Clock::now();
  gongshe::Status status = ledger_->PutNodeRecords(unsynced_records_);
  spdlog::trace("synced {} consensus records in {} us", unsynced_records_.size(), MicrosSince(started));
  if (!status.ok()) Fatal("cannot persist consensus state: " + status.ToString());
  unsynced_records_.clear();
}

void NodeImpl::OnFrame(const PublicKey& from, Bytes frame) {
  v1::PeerMessage message;
  if (!message.ParseFromArray(frame.data(), static_cast<int>(frame.size())) || message.version() != kPeerVersion) {
    spdlog::debug("dropped a malformed frame from {}", ledger::PublicKeyToHex(from).substr(0, 12));
    return;
  }
  switch (message.body_case()) {
    case v1::PeerMessage::kConsensus:
      if (core_) Run(core_->OnMessage(from, AsBytes(message.consensus())));
      break;
    case v1::PeerMessage::kTxGossip: {
      auto* txs = message.mutable_tx_gossip()->mutable_txs();
      if (txs->size() > static_cast<int>(kMaxGossipTxsIn)) txs->DeleteSubrange(kMaxGossipTxsIn, txs->size() - kMaxGossipTxsIn);
      mempool_->SubmitBatch(std::vector<std::string>(std::make_move_iterator(txs->begin()), std::make_move_iterator(txs->end())),
                            {}, TxOrigin::kPeer);
      break;
    }
    case v1::PeerMessage::kStatus:
      OnStatusAnnounce(from, message.status().committed_height());
      break;
    case v1::PeerMessage::kSyncRequest: {
      v1::PeerMessage reply;
      reply.set_version(kPeerVersion);
      *reply.mutable_sync_response() = BuildSyncResponse(*ledger_, message.sync_request().from_height());
      transport_->Send(from, Frame(reply));
      break;
    }
    case v1::PeerMessage::kSyncResponse:
      OnSyncResponse(from, message.sync_response());
      break;
    case v1::PeerMessage::BODY_NOT_SET:
      break;
  }
}

// ---------------------------------------------------------------------------------------------
// Execution ahead of commit

// The state after block `id`: the committed state for the head, an executed block's overlay, or
// null when the block has not been executed (or was invalid).
const ledger::KvReader* NodeImpl::StateAfter(const BlockId& id) const {
  if (id == head_id_) return &ledger_->state();
  auto it = executed_.find(id);
  if (it == executed_.end() || !it->second.valid) return nullptr;
  return it->second.overlay.get();
}

ledger::SignatureResults NodeImpl::CheckSignatures(const v1::Block& block, const std::vector<Hash>& ids) {
  const std::string& chain_id = genesis_.genesis.chain_id();
  ledger::SignatureResults results(ids.size(), true);
  std::vector<size_t> unchecked;
  std::vector<ledger::DecodedTx> decoded;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (mempool_->SignaturesVerified(ids[i])) continue;
    Result<ledger::DecodedTx> tx = ledger::DecodeTx(AsBytes(block.txs(static_cast<int>(i))), chain_id);
    if (!tx.ok()) {
      results[i] = false;
      continue;
    }
    unchecked.push_back(i);
    decoded.push_back(*std::move(tx));
  }
  std::vector<const ledger::DecodedTx*> txs;
  for (const ledger::DecodedTx& tx : decoded) txs.push_back(&tx);
  const std::vector<bool> verified = ledger::BatchVerifier(*block_checkers_).VerifyTxs(txs, chain_id);
  std::vector<Hash> verified_ids;
  for (size_t k = 0; k < unchecked.size(); ++k) {
    results[unchecked[k]] = verified[k];
    if (verified[k]) verified_ids.push_back(ids[unchecked[k]]);
  }
  mempool_->NoteVerified(verified_ids);
  return results;
}

Result<ExecutedBlock> NodeImpl::Execute(const ledger::KvReader& base, ByteView payload, const Hash& payload_hash,
                                        bool check_time) {
  ExecutedBlock executed;
  if (!executed.block.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return gongshe::Status{"BAD_BLOCK", "payload is not a block"};
  }
  std::string canonical;
  GS_ASSERT(executed.block.SerializeToString(&canonical));
  if (AsBytes(canonical).size() != payload.size() || !std::equal(payload.begin(), payload.end(), AsBytes(canonical).begin())) {
    return gongshe::Status{"BAD_BLOCK", "payload is not canonically encoded"};
  }
  if (ledger::Sha256(AsBytes(executed.block.header())) != payload_hash) {
    return gongshe::Status{"BAD_BLOCK", "payload hash is not the block hash"};
  }
  // The ledger checks only the evidence's shape; signatures and membership are checked here.
  GS_RETURN_IF_ERROR(
      VerifyBlockEvidence(executed.block, kNodeEpoch, *validators_, genesis_.genesis.chain_id(), *verifier_));
  if (check_time) {
    v1::BlockHeader header;
    if (!header.ParseFromString(executed.block.header())) return gongshe::Status{"BAD_BLOCK", "bad header"};
    if (header.time_ms() > NowMs() + static_cast<int64_t>(config_.max_clock_drift_ms)) {
      return gongshe::Status{"BAD_BLOCK", "block time is ahead of our clock"};
    }
  }
  executed.tx_ids = ledger::TxIds(executed.block);
  ledger::SignatureResults signatures = CheckSignatures(executed.block, executed.tx_ids);
  executed.overlay = std::make_unique<ledger::Overlay>(base);
  Result<v1::BlockResults> results = ledger::ExecuteBlock(executed.block, signatures, *executed.overlay);
  if (!results.ok()) return results.status();
  executed.results = *std::move(results);
  executed.valid = true;
  return executed;
}

void NodeImpl::OnExecuteBlock(const consensus::ExecuteBlock& request, std::deque<consensus::Action>& queue) {
  if (!core_) return;
  const bool parent_invalid = executed_.contains(request.parent_id) && !executed_.at(request.parent_id).valid;
  const ledger::KvReader* base = StateAfter(request.parent_id);
  if (!base && !parent_invalid) {
    if (deferred_.size() >= kMaxDeferredExecutions) deferred_.pop_front();
    deferred_.push_back(request);
    return;
  }
  ExecutedBlock record;
  if (base) {
    const auto started = Clock::now();
    Result<ExecutedBlock> executed = Execute(*base, request.payload, request.payload_hash, true);
    if (executed.ok()) {
      record = *std::move(executed);
      spdlog::debug("executed height {}: {} transactions in {} us", request.height,
                    record.block.txs_size(), MicrosSince(started));
    } else {
      spdlog::warn("block at height {} refused: {}", request.height, executed.status().ToString());
    }
  }
  record.parent_id = request.parent_id;
  record.height = request.height;
  const bool valid = record.valid;
  if (valid && record.block.txs_size() > 0) last_height_with_txs_ = std::max(last_height_with_txs_, record.height);
  executed_[request.block_id] = std::move(record);
  for (consensus::Action& a : core_->OnBlockExecuted(request.block_id, valid)) queue.push_back(std::move(a));
  RetryDeferred(queue);
  TryAnswerPayload(queue);
}

void NodeImpl::RetryDeferred(std::deque<consensus::Action>& queue) {
  const uint64_t head_height = ledger_->height();
  std::erase_if(deferred_, [&](const consensus::ExecuteBlock& d) { return d.height <= head_height; });
  for (size_t i = 0; i < deferred_.size(); ++i) {
    const consensus::ExecuteBlock& d = deferred_[i];
    if (StateAfter(d.parent_id) || executed_.contains(d.parent_id)) {
      consensus::ExecuteBlock ready = d;
      deferred_.erase(deferred_.begin() + static_cast<std::ptrdiff_t>(i));
      OnExecuteBlock(ready, queue);  // retries the rest itself
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Proposals

TxIdSet NodeImpl::UncommittedTxIds(const BlockId& parent_id) const {
  TxIdSet ids;
  BlockId cursor = parent_id;
  for (auto it = executed_.find(cursor); it != executed_.end(); it = executed_.find(cursor)) {
    ids.insert(it->second.tx_ids.begin(), it->second.tx_ids.end());
    cursor = it->second.parent_id;
  }
  return ids;
}

void NodeImpl::TryAnswerPayload(std::deque<consensus::Action>& queue) {
  if (!pending_payload_ || !core_) return;
  const consensus::RequestPayload request = *pending_payload_;
  const ledger::KvReader* base = StateAfter(request.parent_id);
  if (!base) return;  // answered once the parent is executed or committed
  const auto waited = Clock::now() - payload_requested_at_;
  const auto interval = std::chrono::milliseconds(config_.empty_block_interval_ms);
  // Transactions in a block commit only once two more blocks are certified on top (two-chain
  // rule), so a leader proposes at once while one of the two blocks below carries some, even when
  // it already committed that block itself: the others learn of the commit from the next block.
  const bool chain_needs_block = request.height <= last_height_with_txs_ + 2;
  if (mempool_->size() == 0 && !chain_needs_block && waited < interval) {
    payload_waiting_ = true;
    payload_timer_->expires_after(interval - waited);
    payload_timer_->async_wait([this](const asio::error_code& error) {
      if (error) return;
      std::deque<consensus::Action> more;
      TryAnswerPayload(more);
      Run(consensus::Actions(std::make_move_iterator(more.begin()), std::make_move_iterator(more.end())));
    });
    return;
  }
  payload_waiting_ = false;
  pending_payload_.reset();
  payload_timer_->cancel();

  const auto started = Clock::now();
  const ledger::ChainTip tip = ledger::ReadChainTip(*base);
  // Evidence the parent's state (committed, or recorded by an uncommitted ancestor) lacks.
  std::vector<std::string> evidence = evidence_pool_.Select(*base, ledger::kMaxBlockEvidence);
  size_t evidence_bytes = 0;
  for (const std::string& item : evidence) evidence_bytes += item.size();
  std::vector<PooledTx> pooled = mempool_->Reap(
      config_.max_block_txs, config_.max_block_bytes - std::min<size_t>(evidence_bytes, config_.max_block_bytes),
      [base](const PublicKey& key) { return NextNonce(*base, key); }, UncommittedTxIds(request.parent_id));
  std::vector<std::string> txs;
  txs.reserve(pooled.size());
  for (const PooledTx& tx : pooled) txs.push_back(*tx.bytes);
  v1::Block block =
      ledger::MakeBlock(tip, std::move(txs), NowMs(), key_->public_key(), request.round, std::move(evidence));
  std::string payload;
  GS_ASSERT(block.SerializeToString(&payload));
  const Hash payload_hash = ledger::Sha256(AsBytes(block.header()));
  spdlog::debug("proposing height {} round {}: {} transactions, {} us after waiting {} us", request.height,
                request.round, block.txs_size(), MicrosSince(started),
                std::chrono::duration_cast<std::chrono::microseconds>(started - payload_requested_at_).count());
  for (consensus::Action& a : core_->OnPayloadReady(request, Bytes(payload.begin(), payload.end()), payload_hash)) {
    queue.push_back(std::move(a));
  }
}

void NodeImpl::OnEvidence(const v1::Evidence& evidence) {
  const std::string accused = ToHex(AsBytes(evidence.validator())).substr(0, 12);
  // The core reports only statements it verified; checked again as every voter will check it, so
  // this node never proposes a block the others refuse.
  gongshe::Status valid =
      VerifyEvidenceInEpoch(evidence, kNodeEpoch, *validators_, genesis_.genesis.chain_id(), *verifier_);
  if (!valid.ok()) {
    spdlog::error("equivocation evidence against {} does not verify: {}", accused, valid.ToString());
    return;
  }
  const EvidencePool::AddResult added = evidence_pool_.Add(evidence.SerializeAsString(), ledger_->state());
  spdlog::warn("equivocation ({}) by validator {} in round {}: {}",
               evidence.kind() == v1::Evidence::KIND_DOUBLE_VOTE ? "double vote" : "double proposal", accused,
               evidence.first().round(), ToString(added));
}

// ---------------------------------------------------------------------------------------------
// Commit

void NodeImpl::OnCommit(const consensus::Commit& commit) {
  for (size_t i = 0; i < commit.blocks.size(); ++i) {
    const bool last = i + 1 == commit.blocks.size();
    CommitOne(commit.blocks[i], last ? &commit.certificate : nullptr);
  }
  Prune();
}

void NodeImpl::CommitOne(const consensus::CommittedBlock& committed, const v1::CommitCertificate* certificate) {
  GS_ASSERT(committed.parent_id == head_id_ && committed.height == ledger_->height() + 1);
  const auto started = Clock::now();
  auto it = executed_.find(committed.id);
  if (it == executed_.end() || !it->second.valid) {
    // Certified by others before we executed it (we were behind): it must execute here too.
    Result<ExecutedBlock> executed = Execute(ledger_->state(), committed.payload, committed.payload_hash, false);
    if (!executed.ok()) Fatal("a certified block does not execute here: " + executed.status().ToString());
    executed->parent_id = committed.parent_id;
    executed->height = committed.height;
    it = executed_.insert_or_assign(committed.id, *std::move(executed)).first;
  }
  ExecutedBlock& block = it->second;

  v1::ConsensusBlock record_block = committed.block;
  record_block.clear_payload();
  std::string record;
  GS_ASSERT(record_block.SerializeToString(&record));
  // Records the core asked for ride in this write, which is then synced (they must be durable
  // before the next message leaves). Otherwise the commit is not waited for: it is certified by a
  // quorum already, and the next synced write (before this node's next vote) makes it durable.
  const auto durability = unsynced_records_.empty() ? ledger::Ledger::Durability::kBuffered
                                                    : ledger::Ledger::Durability::kSynced;
  ledger::NodeRecords records = std::move(unsynced_records_);
  unsynced_records_.clear();
  records.emplace_back(CommittedBlockRecordKey(committed.height), std::move(record));
  for (auto v = voted_records_.begin(); v != voted_records_.end();) {
    if (v->second > committed.height) {
      ++v;
      continue;
    }
    records.emplace_back(VotedRecordKey(v->first), std::nullopt);
    v = voted_records_.erase(v);
  }
  gongshe::Status status = ledger_->CommitExecuted(block.block, block.tx_ids, block.results, *block.overlay,
                                                   certificate, records, durability);
  if (!status.ok()) Fatal("cannot commit block " + std::to_string(committed.height) + ": " + status.ToString());
  head_id_ = committed.id;
  for (auto& [id, child] : executed_) {
    if (child.parent_id == committed.id && child.overlay) child.overlay->Rebase(ledger_->state());
  }
  AfterCommit(block.block, block.tx_ids);
  spdlog::debug("committed height {}: {} transactions in {} us", committed.height, block.block.txs_size(),
                MicrosSince(started));
  executed_.erase(it);
}

void NodeImpl::AfterCommit(const v1::Block& block, const std::vector<Hash>& tx_ids) {
  mempool_->Update(tx_ids, ledger_->state());
  if (block.evidence_size() > 0) evidence_pool_.DropRecorded(ledger_->state());
  last_commit_at_ = Clock::now();
  {
    std::lock_guard lock(commit_mu_);
    committed_height_ = ledger_->height();
    blocks_committed_++;
    txs_committed_ += static_cast<uint64_t>(block.txs_size());
  }
  commit_cv_.notify_all();
}

// Drops executed blocks that can no longer commit: at or below the head, or off the committed chain.
void NodeImpl::Prune() {
  const uint64_t head_height = ledger_->height();
  bool changed = true;
  for (size_t pass = 0; changed && pass < executed_.size() + 1; ++pass) {
    changed = std::erase_if(executed_, [&](const auto& entry) {
                const ExecutedBlock& b = entry.second;
                return b.height <= head_height || (b.parent_id != head_id_ && !executed_.contains(b.parent_id));
              }) > 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Block sync

void NodeImpl::OnStatusAnnounce(const PublicKey& from, uint64_t height) {
  peer_heights_[from] = height;
  if (syncing_ && !sync_peer_ &&
      (height > ledger_->height() + kSyncLagBlocks || peer_heights_.size() >= config_.peers.size())) {
    RequestSync();  // starting up: behind a peer, or every peer has told us where it is
    return;
  }
  MaybeStartSync();
}

// Like CometBFT, a starting node first syncs from peers ahead of it, and runs consensus only once
// none is (or none announced itself within kStartupWindow).
void NodeImpl::StartUpSync() {
  syncing_ = true;
  sync_timer_->expires_after(kStartupWindow);
  sync_timer_->async_wait([this](const asio::error_code& error) {
    if (!error && syncing_ && !sync_peer_) RequestSync();
  });
}

void NodeImpl::MaybeStartSync() {
  if (syncing_) return;
  uint64_t best = 0;
  for (const auto& [peer, height] : peer_heights_) best = std::max(best, height);
  const uint64_t height = ledger_->height();
  const bool stalled = Clock::now() - last_commit_at_ >= kSyncStall;
  if (best <= height + kSyncLagBlocks || (!stalled && best <= height + kSyncFarBehindBlocks)) return;
  spdlog::info("behind by {} blocks: syncing", best - ledger_->height());
  GS_ASSERT(pending_commits_.empty());  // drained by the end of every Run
  syncing_ = true;
  core_.reset();
  round_timer_->cancel();
  payload_timer_->cancel();
  executed_.clear();
  deferred_.clear();
  pending_payload_.reset();
  RequestSync();
}

void NodeImpl::RequestSync() {
  // Ask the peer furthest ahead; a peer that failed us is skipped by forgetting its height.
  auto best = std::max_element(peer_heights_.begin(), peer_heights_.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  if (best == peer_heights_.end() || best->second <= ledger_->height()) {
    FinishSync();
    return;
  }
  sync_peer_ = best->first;
  v1::PeerMessage request;
  request.set_version(kPeerVersion);
  request.mutable_sync_request()->set_from_height(ledger_->height() + 1);
  transport_->Send(*sync_peer_, Frame(request));
  sync_timer_->expires_after(kSyncTimeout);
  sync_timer_->async_wait([this, peer = *sync_peer_](const asio::error_code& error) {
    if (error || !syncing_ || sync_peer_ != peer) return;
    spdlog::warn("sync peer {} did not answer", ledger::PublicKeyToHex(peer).substr(0, 12));
    peer_heights_.erase(peer);
    RequestSync();
  });
}

void NodeImpl::OnSyncResponse(const PublicKey& from, const v1::SyncResponse& response) {
  if (!syncing_ || sync_peer_ != from) return;
  sync_timer_->cancel();
  peer_heights_[from] = response.committed_height();
  Result<std::vector<VerifiedBlock>> blocks = VerifySyncResponse(response, head_id_, ledger_->height(), *validators_,
                                                                 genesis_.genesis.chain_id(), *verifier_);
  if (!blocks.ok()) {
    spdlog::warn("sync response refused: {}", blocks.status().ToString());
    peer_heights_.erase(from);
    RequestSync();
    return;
  }
  for (size_t i = 0; i < blocks->size(); ++i) {
    VerifiedBlock& verified = (*blocks)[i];
    consensus::CommittedBlock committed;
    committed.id = IdOf(verified.consensus);
    committed.parent_id = head_id_;
    committed.height = verified.consensus.height();
    std::string payload;
    GS_ASSERT(verified.block.SerializeToString(&payload));
    committed.payload = Bytes(payload.begin(), payload.end());
    committed.payload_hash = *ledger::HashFromBytes(AsBytes(verified.consensus.payload_hash()));
    committed.block = verified.consensus;
    CommitOne(committed, i + 1 == blocks->size() ? &response.certificate() : nullptr);
    ++synced_blocks_;
  }
  RequestSync();
}

void NodeImpl::FinishSync() {
  if (!syncing_) return;
  if (synced_blocks_ > 0) {
    spdlog::info("synced {} blocks by block sync, to height {}", synced_blocks_, ledger_->height());
  } else {
    spdlog::info("no peer is ahead: joining consensus at height {}", ledger_->height());
  }
  synced_blocks_ = 0;
  syncing_ = false;
  sync_peer_.reset();
  last_commit_at_ = Clock::now();
  StartCore();
}

// ---------------------------------------------------------------------------------------------
// Timers

Bytes NodeImpl::StatusFrame() const {
  v1::PeerMessage message;
  message.set_version(kPeerVersion);
  message.mutable_status()->set_committed_height(ledger_->height());
  return Frame(message);
}

void NodeImpl::ArmAnnounce() {
  transport_->Broadcast(StatusFrame());
  MaybeStartSync();
  announce_timer_->expires_after(kAnnounceInterval);
  announce_timer_->async_wait([this](const asio::error_code& error) {
    if (!error) ArmAnnounce();
  });
}

void NodeImpl::OnAdmitted() {
  admitted_wake_posted_ = false;  // before the swap: a later admission wakes the loop again
  if (stopped_) return;
  std::vector<std::shared_ptr<const std::string>> out;
  {
    std::lock_guard lock(gossip_mu_);
    out.swap(gossip_out_);
  }
  for (size_t start = 0; start < out.size(); start += kMaxGossipBatch) {
    v1::PeerMessage message;
    message.set_version(kPeerVersion);
    for (size_t i = start; i < std::min(out.size(), start + kMaxGossipBatch); ++i) {
      message.mutable_tx_gossip()->add_txs(*out[i]);
    }
    transport_->Broadcast(Frame(message));
  }
  if (payload_waiting_ && mempool_->size() > 0) {
    std::deque<consensus::Action> more;
    TryAnswerPayload(more);
    Run(consensus::Actions(std::make_move_iterator(more.begin()), std::make_move_iterator(more.end())));
  }
}

// ---------------------------------------------------------------------------------------------
// NodeService (any thread)

Admission NodeImpl::Submit(std::string tx_bytes) {
  auto promise = std::make_shared<std::promise<Admission>>();
  std::future<Admission> future = promise->get_future();
  mempool_->Submit(std::move(tx_bytes), [promise](const Admission& admission) { promise->set_value(admission); });
  return future.get();
}

std::vector<Admission> NodeImpl::SubmitBatch(std::vector<std::string> txs) {
  auto promise = std::make_shared<std::promise<std::vector<Admission>>>();
  std::future<std::vector<Admission>> future = promise->get_future();
  mempool_->SubmitBatch(
      std::move(txs), [promise](std::vector<Admission> answers) { promise->set_value(std::move(answers)); },
      TxOrigin::kClient);
  return future.get();
}

uint64_t NodeImpl::WaitForHeightAbove(uint64_t height, std::chrono::milliseconds timeout) {
  std::unique_lock lock(commit_mu_);
  commit_cv_.wait_for(lock, timeout, [&] { return committed_height_ > height || stopped_; });
  return committed_height_;
}

NodeStatus NodeImpl::Status() {
  NodeStatus status;
  status.self = key_->public_key();
  status.chain_id = genesis_.genesis.chain_id();
  status.committed_height = committed_height_;
  status.round = round_;
  const std::vector<PublicKey> connected = transport_->ConnectedPeers();
  for (const PeerConfig& peer : config_.peers) {
    status.peers.push_back(
        PeerLink{peer.key, std::find(connected.begin(), connected.end(), peer.key) != connected.end()});
  }
  status.mempool_txs = mempool_->size();
  status.mempool_bytes = mempool_->bytes();
  status.verification_queue = mempool_->pending_checks();
  status.blocks_committed = blocks_committed_;
  status.txs_committed = txs_committed_;
  status.syncing = syncing_ ? 1 : 0;
  return status;
}

}  // namespace

Result<std::unique_ptr<Node>> Node::Start(const NodeConfig& config) {
  auto node = std::make_unique<NodeImpl>(config);
  gongshe::Status status = node->Open();
  if (!status.ok()) return status;
  return std::unique_ptr<Node>(std::move(node));
}

}  // namespace gongshe::node
