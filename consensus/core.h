#pragma once
// The consensus core: a pure, deterministic state machine for one validator (or observer) in one
// epoch (consensus/README.md). No I/O, no clock, no threads, no randomness: every entry point takes
// one event and returns the actions the shell must execute, in order.
//
// Ordering contract for the shell: execute the returned actions in order. A PersistSafetyState
// must be durable before any later action of the same list is executed: the sends that follow it
// are votes, timeouts or proposals that the persisted state makes safe after a crash.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "consensus/signer.h"
#include "consensus/types.h"
#include "gongshe/v1/block.pb.h"
#include "gongshe/v1/consensus.pb.h"

namespace gongshe::consensus {

// Test-only switches that remove one safety rule, so the simulator can show it catches the
// resulting violation. Never set outside tests.
enum class SafetyOverride {
  kNone,
  kSkipVotedRoundCheck,  // voting rule: may vote twice in a round, or after timing out in it
  kSkipExtensionCheck,   // locking rule: may vote for a block extending any valid QC
};

struct CoreConfig {
  std::string chain_id;
  // First timer of a round; doubled for each consecutive round entered by a timeout certificate,
  // up to 2^max_backoff_exponent times.
  uint64_t base_timeout_ms = 1000;
  uint32_t max_backoff_exponent = 4;
  size_t max_payload_bytes = size_t{4} << 20;
  size_t max_message_bytes = size_t{8} << 20;  // any message larger is rejected unparsed
  // Committed blocks kept to serve catch-up requests from peers.
  size_t retained_committed_blocks = 1024;
  SafetyOverride safety_override = SafetyOverride::kNone;
};

// The epoch the core runs in: its validator set and its root (genesis or the last block of the
// previous epoch), whose implicit QC has round 0.
struct EpochInfo {
  uint64_t epoch = 0;
  v1::ValidatorSet validators;
  BlockId root_id{};
  uint64_t root_height = 0;
};

// The last block this core has committed (the epoch root on a fresh start).
struct CommittedHead {
  BlockId id{};
  uint64_t height = 0;
  uint64_t round = 0;
};

// What the shell hands back on a restart, all from its durable store.
struct RecoveredState {
  CommittedHead head;
  // The most recent committed blocks (from Commit actions), ascending and ending at `head`; may be
  // empty. The core serves them to peers that are catching up.
  std::vector<v1::ConsensusBlock> committed;
  // Blocks from PersistBlock actions above the head, in any order.
  std::vector<v1::ConsensusBlock> voted;
  // The last PersistSafetyState; nullopt on the first start.
  std::optional<v1::SafetyState> safety;
};

struct CommittedBlock {
  BlockId id{};
  BlockId parent_id{};
  uint64_t epoch = 0;
  uint64_t round = 0;
  uint64_t height = 0;
  uint32_t proposer = 0;
  Bytes payload;
  Hash payload_hash{};
  v1::ConsensusBlock block;  // the exact block, to store and to hand back in RecoveredState
};

// ---- Actions (out) ----
struct SendMessage {  // to one peer, by its validator key
  PublicKey to{};
  Bytes bytes;
};
struct BroadcastMessage {  // to every peer of the epoch other than this one
  Bytes bytes;
};
struct SetTimer {  // replaces any earlier timer; fire OnTimer(round) after delay_ms
  uint64_t round = 0;
  uint64_t delay_ms = 0;
};
struct PersistSafetyState {
  v1::SafetyState state;
};
struct PersistBlock {  // a block this validator is about to vote for; durable like the above
  v1::ConsensusBlock block;
};
struct RequestPayload {  // answer with OnPayloadReady(request, ...)
  uint64_t epoch = 0;
  uint64_t round = 0;
  uint64_t height = 0;
  BlockId parent_id{};
};
struct ExecuteBlock {  // for every block entering the tree, parents first: check the payload on top of
                      // its parent, and answer with OnBlockExecuted
  BlockId block_id{};
  BlockId parent_id{};
  uint64_t height = 0;
  Bytes payload;
  Hash payload_hash{};
};
struct Commit {  // blocks in height order, continuing the previous commit; certificate for the last
  std::vector<CommittedBlock> blocks;
  v1::CommitCertificate certificate;
};
struct ReportEvidence {
  v1::Evidence evidence;
};
using Action = std::variant<SendMessage, BroadcastMessage, SetTimer, PersistSafetyState, PersistBlock,
                            RequestPayload, ExecuteBlock, Commit, ReportEvidence>;
using Actions = std::vector<Action>;

class Core {
 public:
  // `signer` is null for an observer (not in the set); it and `verifier` must outlive the core.
  // A validator persists every block it votes for (PersistBlock), so that each certified block
  // survives in the stores of the honest validators that voted for it, even if all of them crash.
  static Result<std::unique_ptr<Core>> Create(CoreConfig config, const Signer* signer, const Verifier& verifier,
                                              const EpochInfo& epoch, const RecoveredState& recovered);

  // Enters the first round and sets its timer. Call once, before any other event.
  Actions Start();
  // A message from a peer (identified by the authenticated link, used only to route replies).
  Actions OnMessage(const PublicKey& from, ByteView bytes);
  Actions OnTimer(uint64_t round);
  // The answer to a RequestPayload; `payload` must be at most config.max_payload_bytes.
  Actions OnPayloadReady(const RequestPayload& request, Bytes payload, const Hash& payload_hash);
  Actions OnBlockExecuted(const BlockId& block_id, bool valid);

  // Why the last OnMessage was rejected or ignored (OK when it was used).
  const Status& last_status() const { return last_status_; }
  uint64_t current_round() const { return current_round_; }
  uint64_t highest_voted_round() const { return highest_voted_round_; }
  const v1::QuorumCert& high_qc() const { return high_qc_; }
  const CommittedHead& committed_head() const { return head_; }
  const ValidatorSet& validators() const { return set_; }

 private:
  struct BlockRecord {
    v1::ConsensusBlock block;
    BlockId id{};
    BlockId parent_id{};
    bool committed = false;
    bool execution_requested = false;
    std::optional<bool> valid;  // the application's verdict, once known
    std::optional<uint64_t> tc_max_hqc;  // from the proposal's TC, for the extension rule
  };
  struct FirstProposal {  // the first signed block of a round, and how many distinct ones came
    BlockId id{};
    std::optional<BlockId> second_id;
    v1::SignedStatement statement;
    int count = 0;
  };
  struct VoteBucket {  // votes on identical vote data
    std::map<uint32_t, v1::QcSignature> signers;
    uint64_t power = 0;
    v1::QuorumCert data;  // fields of the vote, no signatures
    bool qc_formed = false;
  };
  struct RoundVotes {
    std::map<uint32_t, v1::SignedStatement> first_vote;  // per voter, for evidence
    std::map<uint32_t, int> conflicting_votes;            // per voter, votes beyond the first block
    std::map<Hash, VoteBucket> buckets;                    // by hash of the vote sign bytes
  };
  struct RoundTimeouts {
    std::map<uint32_t, v1::TcSignature> signers;
    uint64_t power = 0;
    bool tc_formed = false;
  };

  Core(CoreConfig config, const Signer* signer, const Verifier& verifier, ValidatorSet set, const EpochInfo& epoch,
       const CommittedHead& head);
  Status Recover(const RecoveredState& recovered);

  Actions TakeActions();
  void Emit(Action action) { out_.push_back(std::move(action)); }

  // Message handlers; each returns why it rejected or ignored the message.
  Status HandleProposal(const v1::Proposal& proposal);
  Status HandleVote(const v1::Vote& vote);
  Status HandleTimeout(const v1::Timeout& timeout);
  Status HandleBlockRequest(const PublicKey& from, const v1::FetchBlocksRequest& request);
  Status HandleBlockResponse(const v1::FetchBlocksResponse& response);

  // Certificates.
  Status CheckQc(const v1::QuorumCert& qc);
  bool IsRootQc(const v1::QuorumCert& qc) const;
  void ProcessQc(const v1::QuorumCert& qc);
  void ProcessTc(const v1::TimeoutCert& tc);
  void TryCommit(const v1::QuorumCert& qc);

  // Pacemaker.
  void EnterRound(uint64_t round, bool by_tc);
  void LocalTimeout();
  uint64_t TimeoutDelay() const;
  void MaybeRequestPayload();

  // Voting.
  void MaybeVote(BlockRecord& record);
  bool SafeToVote(const BlockRecord& record) const;
  void Persist();

  // Block tree.
  bool ParentKnown(const BlockId& parent_id, uint64_t height) const;
  Status CheckBlockShape(const v1::ConsensusBlock& block, BlockId* id) const;
  BlockRecord* Insert(const v1::ConsensusBlock& block, const BlockId& id);
  void RequestExecution(BlockRecord& record);
  void Prune();
  void Fetch(const BlockId& id, const v1::QuorumCert* qc, std::optional<uint32_t> preferred_peer);
  void RetryPendingWork();

  void Send(uint32_t validator, const v1::ConsensusMessage& message);
  void Broadcast(const v1::ConsensusMessage& message);
  bool IsValidator() const { return self_index_.has_value(); }
  void ReportDoubleVote(uint32_t voter, const v1::SignedStatement& first, const v1::SignedStatement& second);

  const CoreConfig config_;
  const Signer* const signer_;
  const Verifier& verifier_;
  const ValidatorSet set_;
  const uint64_t epoch_;
  const BlockId root_id_;
  const uint64_t root_height_;
  std::optional<uint32_t> self_index_;

  // Safety state (persisted).
  uint64_t highest_voted_round_ = 0;
  uint64_t highest_proposed_round_ = 0;
  v1::QuorumCert high_qc_;

  // Pacemaker state.
  uint64_t current_round_ = 0;
  uint32_t consecutive_tc_rounds_ = 0;
  uint64_t timed_out_round_ = 0;  // last round this core broadcast a timeout for
  std::optional<v1::TimeoutCert> last_tc_;  // TC of current_round_ - 1, if the round began by one
  uint64_t payload_requested_round_ = 0;

  // Blocks: uncommitted tree plus the retained committed window.
  std::map<BlockId, BlockRecord> blocks_;
  std::map<uint64_t, BlockId> committed_by_height_;
  CommittedHead head_;
  std::map<Hash, uint64_t> verified_qcs_;  // hash of a verified QC's bytes -> its round

  // Per-round bookkeeping, pruned as rounds advance.
  std::map<uint64_t, FirstProposal> proposals_;
  std::map<uint64_t, RoundVotes> votes_;
  std::map<uint64_t, RoundTimeouts> timeouts_;

  // Catch-up: the highest committing QC whose chain is incomplete, a proposal waiting for its
  // parent, and the block being fetched.
  std::optional<v1::QuorumCert> pending_commit_qc_;
  std::optional<v1::Proposal> waiting_proposal_;
  struct FetchState {
    BlockId target{};
    std::vector<uint32_t> peers;  // who is asked, in turn
    uint32_t attempts = 0;
    uint64_t have_height = 0;  // the next response should start above this height
  };
  std::optional<FetchState> fetch_;
  std::map<BlockId, uint64_t> certified_;  // block id -> height, attested by a verified QC

  Actions out_;
  Status last_status_;
};

// Test-visible limits.
inline constexpr uint64_t kMaxRoundsAhead = 64;       // votes/timeouts further ahead are ignored
inline constexpr uint64_t kEvidenceWindowRounds = 64;  // rounds of proposals remembered for evidence
inline constexpr size_t kMaxBlocksPerResponse = 64;
inline constexpr int kMaxProposalsPerRound = 2;  // the first and one conflicting (for evidence)

}  // namespace gongshe::consensus
