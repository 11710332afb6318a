#pragma once
// The consensus core: a pure, deterministic state machine for one validator (or observer), from
// one epoch to the next (consensus/README.md). No I/O, no clock, no threads, no randomness: every
// entry point takes one event and returns the actions the shell must execute, in order.
//
// Ordering contract for the shell: execute the returned actions in order. A PersistSafetyState
// must be durable before any later action of the same list is executed: the sends that follow it
// are votes, timeouts or proposals that the persisted state makes safe after a crash. A Commit
// (with its epoch_change, if any) is durable before any later action too.

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"
#include "consensus/epoch.h"
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
  // First timer of a round; doubled for each consecutive round entered by a timeout certificate
  // after the first, up to 2^max_backoff_exponent times.
  uint64_t base_timeout_ms = 1000;
  uint32_t max_backoff_exponent = 4;
  size_t max_payload_bytes = size_t{4} << 20;
  size_t max_message_bytes = size_t{8} << 20;  // any message larger is rejected unparsed
  // Committed blocks kept to serve catch-up requests from peers.
  size_t retained_committed_blocks = 1024;
  // Whether blocks may carry a next_validator_set. Off, such blocks are rejected (BAD_BLOCK) and
  // OnPayloadReady must not be given one. A shell that turns it on must check every
  // ExecuteBlock::next_validators against its state, like the payload.
  bool validator_set_changes = false;
  SafetyOverride safety_override = SafetyOverride::kNone;
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
  // The last PersistSafetyState; nullopt on the first start. A state of an earlier epoch than the
  // one the core starts in is ignored (the shell stored the epoch change before the new epoch's
  // first safety state).
  std::optional<v1::SafetyState> safety;
  // The last Commit::epoch_change the shell stored, if any: the core then runs in that epoch
  // rather than in the `epoch` given to Create (the genesis epoch).
  std::optional<EpochChange> epoch_change;
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
struct RequestPayload {  // answer with OnPayloadReady(request, ...), optionally with a next validator set
  uint64_t epoch = 0;
  uint64_t round = 0;
  uint64_t height = 0;
  BlockId parent_id{};
};
struct ExecuteBlock {  // for every block entering the tree, parents first: check the payload on top of
                      // its parent, and answer with OnBlockExecuted. The payload-free descendants of
                      // a block carrying a change are not executed (their state is that block's).
  BlockId block_id{};
  BlockId parent_id{};
  uint64_t height = 0;
  Bytes payload;
  Hash payload_hash{};
  uint64_t epoch = 0;
  // The validator-set change the block carries: valid only if the application agrees with it.
  std::optional<v1::ValidatorSet> next_validators;
};
struct Commit {  // blocks in height order, continuing the previous commit; certificate for the last
  std::vector<CommittedBlock> blocks;
  v1::CommitCertificate certificate;
  // Set when the last block carried a validator-set change: the epoch that starts after it. The
  // shell stores it in the same durable write as the blocks and hands it back on a restart
  // (RecoveredState::epoch_change); the core already runs in it when the next event comes.
  std::optional<EpochChange> epoch_change;
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
  // `epoch` is the genesis epoch; recovered.epoch_change, when set, replaces it. A signer whose key
  // is not in the epoch's set makes an observer until an epoch whose set holds it.
  static Result<std::unique_ptr<Core>> Create(CoreConfig config, const Signer* signer, const Verifier& verifier,
                                              const EpochInfo& epoch, const RecoveredState& recovered);

  // Enters the first round and sets its timer. Call once, before any other event.
  Actions Start();
  // A message from a peer (identified by the authenticated link, used only to route replies).
  Actions OnMessage(const PublicKey& from, ByteView bytes);
  Actions OnTimer(uint64_t round);
  // The answer to a RequestPayload; `payload` must be at most config.max_payload_bytes. A
  // `next_validators` (only with config.validator_set_changes, and a valid set) makes the block
  // end the epoch once it commits.
  Actions OnPayloadReady(const RequestPayload& request, Bytes payload, const Hash& payload_hash,
                         std::optional<v1::ValidatorSet> next_validators = std::nullopt);
  Actions OnBlockExecuted(const BlockId& block_id, bool valid);

  // Why the last OnMessage was rejected or ignored (OK when it was used).
  const Status& last_status() const { return last_status_; }
  uint64_t current_round() const { return current_round_; }
  uint64_t highest_voted_round() const { return highest_voted_round_; }
  const v1::QuorumCert& high_qc() const { return high_qc_; }
  const CommittedHead& committed_head() const { return head_; }
  uint64_t epoch() const { return epoch_; }
  const ValidatorSet& validators() const { return set_; }
  bool is_validator() const { return self_index_.has_value(); }

 private:
  struct BlockRecord {
    v1::ConsensusBlock block;
    BlockId id{};
    BlockId parent_id{};
    bool committed = false;
    bool execution_requested = false;
    std::optional<bool> valid;  // the application's verdict, once known
    std::optional<uint64_t> tc_max_hqc;  // from the proposal's TC, for the extension rule
    // The uncommitted block of this epoch carrying a validator-set change that this block is or
    // descends from; its descendants carry no payload and their votes commit it.
    std::optional<BlockId> change_block;
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
    std::map<uint32_t, int> counted;                      // per voter, buckets it counts in
    std::map<Hash, VoteBucket> buckets;                    // by hash of the vote and commit sign bytes
  };
  struct RoundTimeouts {
    std::map<uint32_t, v1::TcSignature> signers;
    uint64_t power = 0;
    bool tc_formed = false;
  };
  struct FutureMessage {  // a message of a later epoch, kept until the core gets there
    PublicKey from{};
    Bytes bytes;
    uint64_t epoch = 0;
  };

  Core(CoreConfig config, const Signer* signer, const Verifier& verifier, ValidatorSet set, const CommittedHead& head);
  Status Recover(const RecoveredState& recovered);
  // Installs the epoch the core runs in (`change` is null for the genesis epoch) and resets every
  // per-epoch state: rounds, safety state, uncommitted blocks, certificates.
  void InstallEpoch(const EpochInfo& epoch, ValidatorSet set, const EpochChange* change);

  // Every entry point ends here: applies a pending epoch switch, replays the messages kept for
  // the new epoch, and hands out the actions.
  Actions Finish();
  void Emit(Action action) { out_.push_back(std::move(action)); }

  // Message handlers; each returns why it rejected or ignored the message.
  Status Dispatch(const PublicKey& from, ByteView bytes);
  Status HandleProposal(const v1::Proposal& proposal);
  Status HandleVote(const v1::Vote& vote);
  Status HandleTimeout(const v1::Timeout& timeout);
  Status HandleBlockRequest(const PublicKey& from, const v1::FetchBlocksRequest& request);
  Status HandleBlockResponse(const v1::FetchBlocksResponse& response);

  // Epochs.
  Status HandleFutureMessage(const PublicKey& from, const v1::ConsensusMessage& message, ByteView bytes,
                             uint64_t epoch);
  void HelpPastEpoch(const PublicKey& from);
  void AskWhetherEpochEnded();
  Status HandleEpochSwitch(const PublicKey& from, const v1::ConsensusMessage& message, ByteView bytes);
  void ApplyPendingEpoch();
  // Whether `block` (of this epoch) extends the root with the previous epoch's QC as justify.
  bool JustifiedAcrossEpochs(const v1::ConsensusBlock& block) const;
  // The QC a block extends, as the rules read it: its justify, or the root's implicit QC for a
  // block justified across epochs.
  const v1::QuorumCert& Justify(const v1::ConsensusBlock& block) const;
  Status CheckJustify(const v1::ConsensusBlock& block);
  // A QC of the previous epoch, which stands for the root's implicit QC of round 0 on the wire
  // (justify of the blocks on the root, high QC of timeouts) so that a validator still in the
  // previous epoch can check the switch; valid when it certifies the root.
  bool IsRootCertificate(const v1::QuorumCert& qc) const;
  Status CheckRootCertificate(const v1::QuorumCert& qc);
  // The form of a QC that goes out: the root certificate for the root's implicit QC.
  const v1::QuorumCert& WireQc(const v1::QuorumCert& qc) const;

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
  void Propose(Bytes payload, const Hash& payload_hash, std::optional<v1::ValidatorSet> next_validators);

  // Voting.
  void MaybeVote(BlockRecord& record);
  bool SafeToVote(const BlockRecord& record) const;
  bool Active() const { return IsValidator() && !pending_epoch_; }
  void Persist();

  // Block tree.
  bool ParentKnown(const BlockId& parent_id, uint64_t height) const;
  Status CheckBlockShape(const v1::ConsensusBlock& block, BlockId* id) const;
  BlockRecord* Insert(const v1::ConsensusBlock& block, const BlockId& id);
  void RequestExecution(BlockRecord& record);
  void Prune();
  // Fetches the chain up to `id` (certified by `qc`, if given). Replaces a fetch in progress, or
  // with `replace` false only one without progress for kFetchPatience timer periods (a block
  // nobody keeps any more must not block catch-up).
  void Fetch(const BlockId& id, const v1::QuorumCert* qc, std::optional<PublicKey> preferred_peer,
             bool replace = true);
  void FetchUnverified(const BlockId& id, const PublicKey& from);
  void SendFetchRequest();
  void RetryPendingWork();

  void Send(uint32_t validator, const v1::ConsensusMessage& message);
  void Broadcast(const v1::ConsensusMessage& message);
  bool IsValidator() const { return self_index_.has_value(); }
  void ReportDoubleVote(uint32_t voter, const v1::SignedStatement& first, const v1::SignedStatement& second);

  const CoreConfig config_;
  const Signer* const signer_;
  const Verifier& verifier_;

  // The epoch.
  ValidatorSet set_;
  uint64_t epoch_ = 0;
  BlockId root_id_{};
  uint64_t root_height_ = 0;
  v1::QuorumCert root_qc_;  // the root's implicit QC of round 0
  // For an epoch after the first: the previous set and a QC of it certifying the root, carried
  // as justify by the blocks this core proposes on the root.
  std::optional<ValidatorSet> previous_set_;
  std::optional<v1::QuorumCert> root_certificate_;
  std::optional<uint32_t> self_index_;
  // Set when this core committed a block carrying a change: the epoch it switches to once the
  // current event is handled.
  std::optional<EpochChange> pending_epoch_;
  std::deque<FutureMessage> future_messages_;  // bounded by kMaxFutureMessages and bytes
  size_t future_bytes_ = 0;
  std::deque<FutureMessage> replay_;  // kept messages of the epoch just entered, to handle
  std::set<PublicKey> helped_;        // peers sent the root certificate this timer period

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

  // Blocks: uncommitted tree plus the retained committed window (across epochs).
  std::map<BlockId, BlockRecord> blocks_;
  std::map<uint64_t, BlockId> committed_by_height_;
  std::set<BlockId> uncommitted_;  // the ids of blocks_ not committed: Prune visits only those
  CommittedHead head_;
  uint64_t committed_round_ = 0;  // the head's round in this epoch (0 while the head is the root)
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
    std::vector<PublicKey> peers;  // who is asked, in turn
    uint32_t peer = 0;             // index into peers of the one asked last
    uint32_t attempts = 0;         // timer retries since the last progress
    uint64_t have_height = 0;  // the next response should start above this height
    // Named by a message of a later epoch that could not be checked yet: given up after
    // kFetchPatience timer periods without progress.
    bool unverified = false;
  };
  std::optional<FetchState> fetch_;
  uint32_t fetch_rotation_ = 0;
  std::map<BlockId, uint64_t> certified_;  // block id -> height, attested by a verified QC

  Actions out_;
  Status last_status_;
};

// Test-visible limits.
inline constexpr uint64_t kMaxRoundsAhead = 64;       // votes/timeouts further ahead are ignored
inline constexpr uint64_t kEvidenceWindowRounds = 64;  // rounds of proposals remembered for evidence
inline constexpr size_t kMaxBlocksPerResponse = 64;
inline constexpr int kMaxProposalsPerRound = 2;  // the first and one conflicting (for evidence)
// Messages of later epochs kept until the core reaches their epoch; beyond either bound the
// oldest are dropped (their senders repeat them: timeouts every timer, proposals every round).
inline constexpr size_t kMaxFutureMessages = 128;
inline constexpr size_t kMaxFutureBytesInMessages = 2;  // times config.max_message_bytes
// Peers in earlier epochs answered with the root certificate per timer period.
inline constexpr size_t kMaxHelpedPerTimer = kMaxValidators;
// Timer periods without progress after which a fetch may be displaced (and an unverified one,
// named by a message that could not be checked, is given up).
inline constexpr uint32_t kFetchPatience = 4;

}  // namespace gongshe::consensus
