#include "consensus/core.h"

#include <algorithm>
#include <set>
#include <utility>

#include "consensus/certificate.h"

namespace gongshe::consensus {
namespace {

std::string HashString(const Hash& h) { return std::string(h.begin(), h.end()); }
std::string SigString(const Signature& s) { return std::string(s.begin(), s.end()); }
std::optional<Hash> HashField(const std::string& field) { return ledger::HashFromBytes(AsBytes(field)); }
Hash MustHash(const std::string& field) {
  std::optional<Hash> h = HashField(field);
  GS_ASSERT(h.has_value());
  return *h;
}

Status Reject(std::string_view code, std::string message) { return Status(std::string(code), std::move(message)); }

Bytes Serialize(const v1::ConsensusMessage& message) {
  Bytes out(message.ByteSizeLong());
  GS_ASSERT(message.SerializeToArray(out.data(), static_cast<int>(out.size())));
  return out;
}

// A block without payload: what the descendants of a block carrying a change must be.
bool IsPayloadFree(const v1::ConsensusBlock& block) {
  return block.payload().empty() && block.payload_hash() == HashString(kNoPayloadHash) &&
         !block.has_next_validator_set();
}

// The epoch a signed message names; nullopt for catch-up messages, which name none.
std::optional<uint64_t> MessageEpoch(const v1::ConsensusMessage& message) {
  switch (message.body_case()) {
    case v1::ConsensusMessage::kProposal:
      return message.proposal().block().epoch();
    case v1::ConsensusMessage::kVote:
      return message.vote().epoch();
    case v1::ConsensusMessage::kTimeout:
      return message.timeout().epoch();
    default:
      return std::nullopt;
  }
}

// Handling kept messages after an epoch switch may switch again; each step handles one message or
// one switch, and whatever is left waits for the next event.
constexpr size_t kMaxFinishSteps = 4 * (kMaxFutureMessages + 1);

// The key of a QC in verified_qcs_: the hash of its bytes, so a QC differing in anything is
// checked on its own.
Hash VerifiedQcKey(const v1::QuorumCert& qc) { return ledger::Sha256(AsBytes(qc.SerializeAsString())); }

}  // namespace

Result<std::unique_ptr<Core>> Core::Create(CoreConfig config, const Signer* signer, const Verifier& verifier,
                                           const EpochInfo& epoch, const RecoveredState& recovered) {
  if (config.chain_id.empty() || config.chain_id.size() > ledger::kMaxChainIdSize) {
    return Reject("BAD_CONFIG", "chain id must be 1..64 bytes");
  }
  if (config.base_timeout_ms == 0 || config.max_backoff_exponent > 16) {
    return Reject("BAD_CONFIG", "base timeout must be positive and the backoff exponent at most 16");
  }
  if (config.max_payload_bytes >= config.max_message_bytes || config.retained_committed_blocks == 0) {
    return Reject("BAD_CONFIG", "payloads must fit in a message and some committed blocks must be retained");
  }
  const EpochChange* change = recovered.epoch_change ? &*recovered.epoch_change : nullptr;
  if (change != nullptr) {
    if (!config.validator_set_changes) {
      return Reject("BAD_CONFIG", "an epoch change was recovered but validator-set changes are disabled");
    }
    Status valid = VerifyEpochChange(*change, config.chain_id, verifier);
    if (!valid.ok()) return Reject("BAD_RECOVERY", "recovered epoch change: " + valid.ToString());
  }
  const EpochInfo& running = change != nullptr ? change->epoch : epoch;
  Result<ValidatorSet> set = ValidatorSet::FromProto(running.validators);
  if (!set.ok()) return set.status();
  const CommittedHead& head = recovered.head;
  if (head.height < running.root_height || (head.height == running.root_height && head.id != running.root_id)) {
    return Reject("BAD_RECOVERY", "committed head must be the epoch root or above it");
  }
  std::unique_ptr<Core> core(new Core(std::move(config), signer, verifier, set.value(), head));
  core->InstallEpoch(running, std::move(set).value(), change);
  GS_RETURN_IF_ERROR(core->Recover(recovered));
  return core;
}

Core::Core(CoreConfig config, const Signer* signer, const Verifier& verifier, ValidatorSet set,
           const CommittedHead& head)
    : config_(std::move(config)), signer_(signer), verifier_(verifier), set_(std::move(set)), head_(head) {}

void Core::InstallEpoch(const EpochInfo& epoch, ValidatorSet set, const EpochChange* change) {
  set_ = std::move(set);
  epoch_ = epoch.epoch;
  root_id_ = epoch.root_id;
  root_height_ = epoch.root_height;
  root_qc_.Clear();
  root_qc_.set_epoch(epoch_);
  root_qc_.set_round(0);
  root_qc_.set_height(root_height_);
  root_qc_.set_block_id(HashString(root_id_));
  previous_set_.reset();
  root_certificate_.reset();
  if (change != nullptr) {
    previous_set_ = ValidatorSet::FromProto(change->previous_validators).value();  // checked by the caller
    root_certificate_ = change->root_qc;
  }
  self_index_ = signer_ != nullptr ? set_.IndexOf(signer_->public_key()) : std::nullopt;

  highest_voted_round_ = 0;
  highest_proposed_round_ = 0;
  high_qc_ = root_qc_;
  current_round_ = 0;
  consecutive_tc_rounds_ = 0;
  timed_out_round_ = 0;
  last_tc_.reset();
  payload_requested_round_ = 0;
  committed_round_ = head_.id == root_id_ ? 0 : head_.round;

  helped_.clear();
  proposals_.clear();
  votes_.clear();
  timeouts_.clear();
  verified_qcs_.clear();
  certified_.clear();
  pending_commit_qc_.reset();
  waiting_proposal_.reset();
  for (const BlockId& id : uncommitted_) blocks_.erase(id);
  uncommitted_.clear();
  // A fetch for a block of the previous epoch is moot; one named by a later epoch's message goes on.
  if (fetch_ && !fetch_->unverified) fetch_.reset();
  if (fetch_) {
    fetch_->have_height = head_.height;
    for (uint32_t i = 0; i < set_.size(); ++i) {
      const PublicKey& key = set_.key(i);
      if (std::find(fetch_->peers.begin(), fetch_->peers.end(), key) == fetch_->peers.end() &&
          i != self_index_) {
        fetch_->peers.push_back(key);
      }
    }
  }
}

Status Core::Recover(const RecoveredState& recovered) {
  if (recovered.safety) {
    const v1::SafetyState& safety = *recovered.safety;
    if (safety.version() != kVersion || safety.epoch() > epoch_) {
      return Reject("BAD_RECOVERY", "persisted safety state is of another version or a later epoch");
    }
    // A state of an earlier epoch is stale: nothing was signed in this epoch before its first state.
    if (safety.epoch() == epoch_) {
      if (!IsRootQc(safety.high_qc())) {
        Status qc_status = CheckQc(safety.high_qc());
        if (!qc_status.ok()) return Reject("BAD_RECOVERY", "persisted high QC: " + qc_status.ToString());
        high_qc_ = safety.high_qc();
      }
      if (safety.has_last_tc()) {
        Status tc_status = VerifyTimeoutCert(safety.last_tc(), epoch_, set_, config_.chain_id, verifier_);
        if (!tc_status.ok()) return Reject("BAD_RECOVERY", "persisted timeout certificate: " + tc_status.ToString());
        last_tc_ = safety.last_tc();
      }
      highest_voted_round_ = safety.highest_voted_round();
      highest_proposed_round_ = safety.highest_proposed_round();
    }
  }
  // Committed blocks, of any epoch: a chain ending at the head. They are our own store's, so only
  // their ids and links are checked.
  const size_t count = recovered.committed.size();
  const size_t first = count > config_.retained_committed_blocks ? count - config_.retained_committed_blocks : 0;
  for (size_t i = first; i < count; ++i) {
    const v1::ConsensusBlock& block = recovered.committed[i];
    Result<BlockId> id = BlockIdOf(config_.chain_id, block);
    if (!id.ok()) return Reject("BAD_RECOVERY", "committed block: " + id.status().ToString());
    const bool last = i + 1 == count;
    if (last ? *id != head_.id : MustHash(recovered.committed[i + 1].parent_id()) != *id) {
      return Reject("BAD_RECOVERY", "committed blocks do not form a chain ending at the head");
    }
    if (last && block.epoch() == epoch_ && block.has_next_validator_set()) {
      return Reject("BAD_RECOVERY", "the committed head ends epoch " + std::to_string(epoch_) +
                                        ": recover with its epoch change");
    }
    BlockRecord& record = blocks_[*id];
    record.block = block;
    record.id = *id;
    record.parent_id = MustHash(block.parent_id());
    record.committed = true;
    committed_by_height_[block.height()] = *id;
  }
  // Voted blocks of this epoch above the head, lowest first, where they connect to the tree.
  std::vector<const v1::ConsensusBlock*> voted;
  for (const v1::ConsensusBlock& block : recovered.voted) {
    if (block.epoch() == epoch_) voted.push_back(&block);
  }
  std::sort(voted.begin(), voted.end(), [](const auto* a, const auto* b) { return a->height() < b->height(); });
  for (const v1::ConsensusBlock* block : voted) {
    BlockId id;
    GS_RETURN_IF_ERROR(CheckBlockShape(*block, &id));
    if (block->height() <= head_.height || blocks_.contains(id)) continue;
    if (!ParentKnown(MustHash(block->parent_id()), block->height())) continue;
    Insert(*block, id)->valid = true;  // we voted for it, so it was valid
  }
  return Status::Ok();
}

Actions Core::Finish() {
  for (size_t step = 0; step < kMaxFinishSteps && (pending_epoch_ || !replay_.empty()); ++step) {
    if (pending_epoch_) {
      ApplyPendingEpoch();
      continue;
    }
    FutureMessage message = std::move(replay_.front());
    replay_.pop_front();
    Dispatch(message.from, message.bytes);  // handled like a new message; its verdict goes nowhere
  }
  Actions taken = std::move(out_);
  out_.clear();
  return taken;
}

// ---------------------------------------------------------------------------------------------
// Entry points

Actions Core::Start() {
  GS_ASSERT(current_round_ == 0);
  EnterRound(std::max<uint64_t>({high_qc_.round() + 1, highest_voted_round_, 1}), false);
  return Finish();
}

Actions Core::OnMessage(const PublicKey& from, ByteView bytes) {
  last_status_ = Dispatch(from, bytes);
  return Finish();
}

Status Core::Dispatch(const PublicKey& from, ByteView bytes) {
  if (bytes.size() > config_.max_message_bytes) {
    return Reject("TOO_LARGE", "message of " + std::to_string(bytes.size()) + " bytes");
  }
  v1::ConsensusMessage message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Reject("BAD_MESSAGE", "not a consensus message");
  }
  if (message.version() != kVersion) {
    return Reject("BAD_MESSAGE", "unsupported message version " + std::to_string(message.version()));
  }
  if (std::optional<uint64_t> epoch = MessageEpoch(message); epoch && *epoch != epoch_) {
    if (*epoch > epoch_) return HandleFutureMessage(from, message, bytes, *epoch);
    HelpPastEpoch(from);
    return Reject("WRONG_EPOCH", "message of past epoch " + std::to_string(*epoch));
  }
  switch (message.body_case()) {
    case v1::ConsensusMessage::kProposal:
      return HandleProposal(message.proposal());
    case v1::ConsensusMessage::kVote:
      return HandleVote(message.vote());
    case v1::ConsensusMessage::kTimeout:
      return HandleTimeout(message.timeout());
    case v1::ConsensusMessage::kBlockRequest:
      return HandleBlockRequest(from, message.block_request());
    case v1::ConsensusMessage::kBlockResponse:
      return HandleBlockResponse(message.block_response());
    case v1::ConsensusMessage::kEpochSwitch:
      return HandleEpochSwitch(from, message, bytes);
    case v1::ConsensusMessage::kEpochQuery:
      if (message.epoch_query().epoch() < epoch_) HelpPastEpoch(from);
      return Status::Ok();  // a query of our epoch or a later one needs nothing
    case v1::ConsensusMessage::BODY_NOT_SET:
      break;
  }
  return Reject("BAD_MESSAGE", "empty consensus message");
}

Actions Core::OnTimer(uint64_t round) {
  if (round != current_round_) return Finish();
  // Re-arm first: a round change below emits a newer SetTimer that supersedes this one.
  Emit(SetTimer{current_round_, TimeoutDelay()});
  helped_.clear();
  if (Active()) LocalTimeout();
  if (!IsValidator() && signer_ != nullptr) AskWhetherEpochEnded();
  RetryPendingWork();
  if (fetch_) {
    ++fetch_->attempts;
    ++fetch_->peer;
    if (fetch_->unverified && fetch_->attempts > kFetchPatience) {
      fetch_.reset();
    } else {
      SendFetchRequest();
    }
  }
  return Finish();
}

Actions Core::OnPayloadReady(const RequestPayload& request, Bytes payload, const Hash& payload_hash,
                             std::optional<v1::ValidatorSet> next_validators) {
  GS_ASSERT(payload.size() <= config_.max_payload_bytes);
  GS_ASSERT(!next_validators ||
            (config_.validator_set_changes && ValidatorSet::FromProto(*next_validators).ok()));
  const bool leader = Active() && set_.LeaderOf(current_round_) == *self_index_;
  if (request.epoch != epoch_ || request.round != current_round_ || !leader ||
      highest_proposed_round_ >= current_round_) {
    return Finish();
  }
  if (request.parent_id != MustHash(high_qc_.block_id()) || request.height != high_qc_.height() + 1) {
    payload_requested_round_ = 0;  // the high QC moved on: ask again on top of it
    MaybeRequestPayload();
    return Finish();
  }
  Propose(std::move(payload), payload_hash, std::move(next_validators));
  return Finish();
}

Actions Core::OnBlockExecuted(const BlockId& block_id, bool valid) {
  auto it = blocks_.find(block_id);
  if (it != blocks_.end() && !it->second.valid.has_value()) {
    it->second.valid = valid;
    MaybeVote(it->second);
  }
  return Finish();
}

// ---------------------------------------------------------------------------------------------
// Epochs

bool Core::JustifiedAcrossEpochs(const v1::ConsensusBlock& block) const {
  return IsRootCertificate(block.justify());
}

const v1::QuorumCert& Core::Justify(const v1::ConsensusBlock& block) const {
  return JustifiedAcrossEpochs(block) ? root_qc_ : block.justify();
}

Status Core::CheckJustify(const v1::ConsensusBlock& block) {
  return JustifiedAcrossEpochs(block) ? CheckRootCertificate(block.justify()) : CheckQc(block.justify());
}

bool Core::IsRootCertificate(const v1::QuorumCert& qc) const {
  return previous_set_.has_value() && qc.epoch() + 1 == epoch_;
}

Status Core::CheckRootCertificate(const v1::QuorumCert& qc) {
  GS_ASSERT(IsRootCertificate(qc));
  std::optional<CommitTarget> target = QcCommitTarget(qc);
  if (!target || target->id != root_id_ || target->height != root_height_) {
    return Reject("BAD_QC", "a QC of the previous epoch must certify this epoch's root");
  }
  const Hash key = VerifiedQcKey(qc);
  if (verified_qcs_.contains(key)) return Status::Ok();
  GS_RETURN_IF_ERROR(VerifyQuorumCert(qc, epoch_ - 1, *previous_set_, config_.chain_id, verifier_));
  verified_qcs_.emplace(key, 0);
  return Status::Ok();
}

const v1::QuorumCert& Core::WireQc(const v1::QuorumCert& qc) const {
  return IsRootQc(qc) && root_certificate_ ? *root_certificate_ : qc;
}

// A message of a later epoch. While the next epoch is on its root, its proposals (as justify)
// and timeouts (as high QC) carry a QC of this epoch that commits the block ending it: checked
// with the set we know, it takes us there. Any other message is kept for when we get there, and
// names a block to fetch, which brings the certified chain across the boundary (or boundaries).
Status Core::HandleFutureMessage(const PublicKey& from, const v1::ConsensusMessage& message, ByteView bytes,
                                 uint64_t epoch) {
  const v1::QuorumCert* qc = message.has_proposal()       ? &message.proposal().block().justify()
                             : message.has_timeout()      ? &message.timeout().high_qc()
                             : message.has_epoch_switch() ? &message.epoch_switch().root_qc()
                                                          : nullptr;
  if (qc != nullptr && epoch == epoch_ + 1 && qc->epoch() == epoch_ && QcCarriesCommit(*qc)) {
    GS_RETURN_IF_ERROR(CheckQc(*qc));
    ProcessQc(*qc);
    if (pending_epoch_) {
      ApplyPendingEpoch();
      if (epoch_ == epoch) return message.has_proposal() ? HandleProposal(message.proposal()) : HandleTimeout(message.timeout());
    }
  } else if (qc != nullptr && qc->round() > 0) {
    // The block its commit signatures certify when it carries any (committed blocks are kept
    // everywhere, while the payload-free blocks ending an epoch are dropped by the switch), else
    // the block the QC certifies.
    std::optional<CommitTarget> target = QcCommitTarget(*qc);
    std::optional<Hash> named = target ? std::optional<Hash>(target->id) : HashField(qc->block_id());
    if (named && !blocks_.contains(*named)) FetchUnverified(*named, from);
  }
  FutureMessage kept{from, Bytes(bytes.begin(), bytes.end()), epoch};
  future_bytes_ += kept.bytes.size();
  future_messages_.push_back(std::move(kept));
  const size_t max_bytes = kMaxFutureBytesInMessages * config_.max_message_bytes;
  while (future_messages_.size() > kMaxFutureMessages || future_bytes_ > max_bytes) {
    future_bytes_ -= future_messages_.front().bytes.size();
    future_messages_.pop_front();
  }
  return Reject("FUTURE_EPOCH", "kept until epoch " + std::to_string(epoch));
}

// A peer in an earlier epoch: a member of the previous one still talking in it may lack the QC
// that ended it (the leader that formed it may be all that holds it), and without it the laggers
// may lack a quorum there; an observer asks, and it may hold a key that joined, which nobody else
// tells. Answered once per peer per timer period. A peer further behind gets the same QC: it
// fetches the chain up to the block that QC commits, across the epochs between (HandleEpochSwitch).
void Core::HelpPastEpoch(const PublicKey& from) {
  if (!root_certificate_ || helped_.size() >= kMaxHelpedPerTimer || !helped_.insert(from).second) return;
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  *message.mutable_epoch_switch()->mutable_root_qc() = *root_certificate_;
  Emit(SendMessage{from, Serialize(message)});
}

// A keyed observer may be in the next epoch's set: the epoch's validators answer if it is.
void Core::AskWhetherEpochEnded() {
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  message.mutable_epoch_query()->set_epoch(epoch_);
  Broadcast(message);
}

// One of a later epoch is kept like any later-epoch message, and its block fetched.
Status Core::HandleEpochSwitch(const PublicKey& from, const v1::ConsensusMessage& message, ByteView bytes) {
  const v1::QuorumCert& qc = message.epoch_switch().root_qc();
  if (qc.epoch() > epoch_) return HandleFutureMessage(from, message, bytes, qc.epoch());
  if (qc.epoch() != epoch_) return Reject("WRONG_EPOCH", "epoch switch of epoch " + std::to_string(qc.epoch()));
  if (!QcCarriesCommit(qc)) return Reject("BAD_QC", "an epoch switch needs a QC that commits a block");
  GS_RETURN_IF_ERROR(CheckQc(qc));
  ProcessQc(qc);  // commits (fetching first if needed) the block ending the epoch
  return Status::Ok();
}

void Core::ApplyPendingEpoch() {
  GS_ASSERT(pending_epoch_.has_value());
  const EpochChange change = std::move(*pending_epoch_);
  pending_epoch_.reset();
  InstallEpoch(change.epoch, ValidatorSet::FromProto(change.epoch.validators).value(), &change);
  // Kept messages of the epoch just entered are handled next (Finish); later ones stay kept.
  std::deque<FutureMessage> later;
  future_bytes_ = 0;
  for (FutureMessage& message : future_messages_) {
    if (message.epoch == epoch_) {
      replay_.push_back(std::move(message));
    } else if (message.epoch > epoch_) {
      future_bytes_ += message.bytes.size();
      later.push_back(std::move(message));
    }
  }
  future_messages_ = std::move(later);
  EnterRound(1, false);
}

// ---------------------------------------------------------------------------------------------
// Proposals and voting

Status Core::CheckBlockShape(const v1::ConsensusBlock& block, BlockId* id) const {
  if (block.version() != kVersion) return Reject("BAD_BLOCK", "unsupported block version");
  if (block.epoch() != epoch_) return Reject("WRONG_EPOCH", "block of epoch " + std::to_string(block.epoch()));
  if (block.round() == 0 || !block.has_justify()) return Reject("BAD_BLOCK", "block needs a round and a justify QC");
  if (JustifiedAcrossEpochs(block)) {
    std::optional<CommitTarget> target = QcCommitTarget(block.justify());
    if (!target || target->id != root_id_ || target->height != root_height_) {
      return Reject("BAD_BLOCK", "a justify of the previous epoch must certify this epoch's root");
    }
  } else if (previous_set_ && IsRootQc(block.justify())) {
    return Reject("BAD_BLOCK", "a block on the root of this epoch carries the previous epoch's QC of the root");
  }
  const v1::QuorumCert& justify = Justify(block);
  if (justify.round() >= block.round()) return Reject("BAD_BLOCK", "justify QC must be of an earlier round");
  if (justify.height() == UINT64_MAX || block.height() != justify.height() + 1) {
    return Reject("BAD_BLOCK", "block height must be its justify height + 1");
  }
  if (block.parent_id() != justify.block_id()) return Reject("BAD_BLOCK", "parent id differs from the justified block");
  std::optional<Hash> parent_id = HashField(block.parent_id());
  std::optional<Hash> payload_hash = HashField(block.payload_hash());
  if (!parent_id || !payload_hash) return Reject("BAD_BLOCK", "parent id and payload hash must be 32 bytes");
  if (block.payload().size() > config_.max_payload_bytes) {
    return Reject("TOO_LARGE", "payload of " + std::to_string(block.payload().size()) + " bytes");
  }
  std::optional<Hash> next_set_hash;
  if (block.has_next_validator_set()) {
    if (!config_.validator_set_changes) return Reject("BAD_BLOCK", "validator-set changes are disabled");
    Result<ValidatorSet> next = ValidatorSet::FromProto(block.next_validator_set());
    if (!next.ok()) return next.status();
    next_set_hash = next->hash();
  }
  if (block.proposer() >= set_.size()) return Reject("BAD_BLOCK", "proposer is not a validator");
  if (block.proposer() != set_.LeaderOf(block.round())) return Reject("WRONG_LEADER", "proposer is not the leader");
  *id = ComputeBlockId(config_.chain_id, epoch_, block.round(), block.height(), *parent_id, block.proposer(),
                       *payload_hash, next_set_hash);
  return Status::Ok();
}

Status Core::HandleProposal(const v1::Proposal& proposal) {
  if (!proposal.has_block()) return Reject("BAD_PROPOSAL", "proposal without a block");
  const v1::ConsensusBlock& block = proposal.block();
  BlockId id;
  GS_RETURN_IF_ERROR(CheckBlockShape(block, &id));
  const uint64_t round = block.round();
  if (round <= committed_round_ || round + kEvidenceWindowRounds <= current_round_) {
    return Reject("STALE_ROUND", "proposal of round " + std::to_string(round) + " is too old");
  }
  std::optional<Signature> signature = ledger::SignatureFromBytes(AsBytes(proposal.signature()));
  if (!signature || !verifier_.Verify(set_.key(block.proposer()), kProposalDomain, config_.chain_id,
                                      ProposalSignBytes(epoch_, round, id), *signature)) {
    return Reject("BAD_SIGNATURE", "proposal signature is invalid");
  }
  GS_RETURN_IF_ERROR(CheckJustify(block));
  const v1::QuorumCert& justify = Justify(block);
  std::optional<uint64_t> tc_max_hqc;
  if (justify.round() + 1 != round) {
    if (!proposal.has_tc() || proposal.tc().round() + 1 != round) {
      return Reject("BAD_PROPOSAL", "a proposal not extending the previous round needs its timeout certificate");
    }
    GS_RETURN_IF_ERROR(VerifyTimeoutCert(proposal.tc(), epoch_, set_, config_.chain_id, verifier_));
    tc_max_hqc = MaxHighQcRound(proposal.tc());
  } else if (proposal.has_tc()) {
    return Reject("BAD_PROPOSAL", "a proposal extending the previous round carries no timeout certificate");
  }

  // Equivocation: a second, different signed block for this round.
  if (!blocks_.contains(id)) {
    FirstProposal& first = proposals_[round];
    v1::SignedStatement statement;
    statement.set_round(round);
    statement.set_height(block.height());
    statement.set_block_id(HashString(id));
    statement.set_parent_id(block.parent_id());
    statement.set_parent_round(justify.round());
    statement.set_signature(proposal.signature());
    if (first.count == 0) {
      first.id = id;
      first.statement = statement;
      first.count = 1;
    } else if (first.id != id && first.second_id != id) {
      if (first.count == 1) {
        first.second_id = id;
        v1::Evidence evidence;
        evidence.set_version(kVersion);
        evidence.set_kind(v1::Evidence::KIND_DOUBLE_PROPOSAL);
        evidence.set_epoch(epoch_);
        const PublicKey& key = set_.key(block.proposer());
        evidence.set_validator(std::string(key.begin(), key.end()));
        *evidence.mutable_first() = first.statement;
        *evidence.mutable_second() = statement;
        Emit(ReportEvidence{std::move(evidence)});
      }
      if (++first.count > kMaxProposalsPerRound) return Reject("EQUIVOCATION", "too many blocks for one round");
    }
  }

  ProcessQc(justify);
  if (pending_epoch_) return Status::Ok();  // a commit above ended the epoch
  if (proposal.has_tc()) ProcessTc(proposal.tc());
  if (committed_round_ >= round) return Status::Ok();  // a commit above made it moot

  auto it = blocks_.find(id);
  if (it != blocks_.end()) {
    MaybeVote(it->second);
    return Status::Ok();
  }
  const BlockId parent_id = MustHash(block.parent_id());
  if (!ParentKnown(parent_id, block.height())) {
    if (!waiting_proposal_ || waiting_proposal_->block().round() <= round) waiting_proposal_ = proposal;
    // Does not displace a fetch making progress (often for the commit below this parent): two
    // fetches replacing each other would never finish.
    Fetch(parent_id, &justify, set_.key(block.proposer()), /*replace=*/false);
    return Status::Ok();
  }
  BlockRecord* record = Insert(block, id);
  record->tc_max_hqc = tc_max_hqc;
  MaybeVote(*record);
  return Status::Ok();
}

bool Core::SafeToVote(const BlockRecord& record) const {
  const uint64_t round = record.block.round();
  if (config_.safety_override != SafetyOverride::kSkipVotedRoundCheck && round <= highest_voted_round_) return false;
  if (config_.safety_override == SafetyOverride::kSkipExtensionCheck) return true;
  const uint64_t qc_round = Justify(record.block).round();
  if (qc_round + 1 == round) return true;
  return record.tc_max_hqc.has_value() && qc_round >= *record.tc_max_hqc;
}

void Core::MaybeVote(BlockRecord& record) {
  if (!Active() || record.committed || record.block.round() != current_round_ || !SafeToVote(record)) return;
  if (!record.valid.has_value()) return;  // asked for when the block entered the tree
  if (!*record.valid) return;

  const v1::ConsensusBlock& block = record.block;
  const uint64_t round = block.round();
  const uint64_t parent_round = Justify(block).round();
  // The commit signature certifies the parent, or, when the parent is a payload-free descendant
  // of a block carrying a change, that block: committing the parent would commit it, and the
  // epoch ends there.
  std::optional<CommitTarget> target;
  if (parent_round > 0 && parent_round + 1 == round) {
    target = CommitTarget{record.parent_id, block.height() - 1, parent_round};
    auto parent = blocks_.find(record.parent_id);
    if (parent != blocks_.end() && parent->second.change_block && *parent->second.change_block != record.parent_id) {
      auto change = blocks_.find(*parent->second.change_block);
      if (change == blocks_.end()) return;  // pruned only by a commit, which makes this block moot
      target = CommitTarget{change->first, change->second.block.height(), change->second.block.round()};
    }
  }
  highest_voted_round_ = std::max(highest_voted_round_, round);
  Emit(PersistBlock{block});
  Persist();
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  v1::Vote* vote = message.mutable_vote();
  vote->set_epoch(epoch_);
  vote->set_round(round);
  vote->set_height(block.height());
  vote->set_block_id(HashString(record.id));
  vote->set_parent_id(block.parent_id());
  vote->set_parent_round(parent_round);
  vote->set_voter(*self_index_);
  const Bytes vote_bytes = VoteSignBytes(epoch_, round, block.height(), record.id, record.parent_id, parent_round);
  vote->set_vote_signature(SigString(signer_->Sign(kVoteDomain, config_.chain_id, vote_bytes)));
  if (target) {
    const Bytes commit_bytes = CommitSignBytes(target->height, target->round, target->id, set_.hash());
    vote->set_commit_signature(SigString(signer_->Sign(kCommitDomain, config_.chain_id, commit_bytes)));
    if (target->id != record.parent_id) {
      vote->set_commit_block_id(HashString(target->id));
      vote->set_commit_height(target->height);
      vote->set_commit_round(target->round);
    }
  }
  const uint32_t next_leader = set_.LeaderOf(round + 1);
  if (next_leader == *self_index_) {
    v1::Vote own = message.vote();
    Status status = HandleVote(own);
    // Only a core built without its voting rule can vote twice and see its own vote refused.
    GS_ASSERT(status.ok() || config_.safety_override == SafetyOverride::kSkipVotedRoundCheck);
  } else {
    Send(next_leader, message);
  }
}

Status Core::HandleVote(const v1::Vote& vote) {
  if (vote.epoch() != epoch_) return Reject("WRONG_EPOCH", "vote of epoch " + std::to_string(vote.epoch()));
  if (vote.voter() >= set_.size()) return Reject("BAD_VOTE", "voter is not a validator");
  if (vote.round() == 0 || vote.height() == 0 || vote.parent_round() >= vote.round()) {
    return Reject("BAD_VOTE", "vote round, height or parent round out of range");
  }
  std::optional<Hash> block_id = HashField(vote.block_id());
  std::optional<Hash> parent_id = HashField(vote.parent_id());
  std::optional<Signature> vote_sig = ledger::SignatureFromBytes(AsBytes(vote.vote_signature()));
  if (!block_id || !parent_id || !vote_sig) return Reject("BAD_VOTE", "malformed vote fields");
  // The vote's data as a QC would carry it, which also fixes what its commit signature certifies.
  v1::QuorumCert data;
  data.set_epoch(epoch_);
  data.set_round(vote.round());
  data.set_height(vote.height());
  data.set_block_id(vote.block_id());
  data.set_parent_id(vote.parent_id());
  data.set_parent_round(vote.parent_round());
  data.set_commit_block_id(vote.commit_block_id());
  data.set_commit_height(vote.commit_height());
  data.set_commit_round(vote.commit_round());
  const bool carries_commit = QcCarriesCommit(data);
  const bool names_target = !vote.commit_block_id().empty() || vote.commit_height() != 0 || vote.commit_round() != 0;
  std::optional<CommitTarget> target = QcCommitTarget(data);
  if ((names_target && !carries_commit) || (carries_commit && !target)) {
    return Reject("BAD_VOTE", "vote commit target out of range");
  }
  if (!IsValidator() || set_.LeaderOf(vote.round() + 1) != *self_index_) {
    return Reject("NOT_LEADER", "votes of this round go to another leader");
  }
  if (vote.round() + 1 < current_round_ || vote.round() > current_round_ + kMaxRoundsAhead) {
    return Reject("STALE_ROUND", "vote of round " + std::to_string(vote.round()) + " is out of the window");
  }
  const Bytes vote_bytes =
      VoteSignBytes(epoch_, vote.round(), vote.height(), *block_id, *parent_id, vote.parent_round());
  const PublicKey& key = set_.key(vote.voter());
  if (!verifier_.Verify(key, kVoteDomain, config_.chain_id, vote_bytes, *vote_sig)) {
    return Reject("BAD_SIGNATURE", "vote signature is invalid");
  }
  Bytes commit_bytes;
  if (carries_commit) {
    std::optional<Signature> commit_sig = ledger::SignatureFromBytes(AsBytes(vote.commit_signature()));
    commit_bytes = CommitSignBytes(target->height, target->round, target->id, set_.hash());
    if (!commit_sig || !verifier_.Verify(key, kCommitDomain, config_.chain_id, commit_bytes, *commit_sig)) {
      return Reject("BAD_SIGNATURE", "commit signature is missing or invalid");
    }
  } else if (!vote.commit_signature().empty()) {
    return Reject("BAD_VOTE", "vote carries a commit signature it must not have");
  }

  RoundVotes& round_votes = votes_[vote.round()];
  v1::SignedStatement statement;
  statement.set_round(vote.round());
  statement.set_height(vote.height());
  statement.set_block_id(vote.block_id());
  statement.set_parent_id(vote.parent_id());
  statement.set_parent_round(vote.parent_round());
  statement.set_signature(vote.vote_signature());
  auto [first, inserted] = round_votes.first_vote.emplace(vote.voter(), statement);
  if (!inserted && first->second.block_id() != vote.block_id()) {
    int& extra = round_votes.conflicting_votes[vote.voter()];
    if (extra == 0) ReportDoubleVote(vote.voter(), first->second, statement);
    if (++extra >= kMaxProposalsPerRound) return Reject("EQUIVOCATION", "too many votes in one round");
  }
  // Votes agreeing on the block but not on the commit target never mix in one QC; a voter counts
  // in at most kMaxProposalsPerRound buckets of a round, whatever it varies.
  const Hash bucket_key = ledger::Sha256({vote_bytes, commit_bytes});
  auto existing = round_votes.buckets.find(bucket_key);
  if (existing != round_votes.buckets.end() && existing->second.signers.contains(vote.voter())) {
    return Reject("DUPLICATE", "vote already counted");
  }
  int& counted = round_votes.counted[vote.voter()];
  if (counted >= kMaxProposalsPerRound) return Reject("EQUIVOCATION", "too many votes in one round");
  ++counted;
  VoteBucket& bucket = round_votes.buckets[bucket_key];
  if (bucket.signers.empty()) bucket.data = data;
  v1::QcSignature sig;
  sig.set_validator(vote.voter());
  sig.set_vote_signature(vote.vote_signature());
  if (carries_commit) sig.set_commit_signature(vote.commit_signature());
  bucket.signers.emplace(vote.voter(), std::move(sig));
  bucket.power += set_.power(vote.voter());
  if (bucket.power < set_.quorum_power() || bucket.qc_formed) return Status::Ok();
  bucket.qc_formed = true;
  v1::QuorumCert qc = bucket.data;
  for (const auto& [index, signer_sig] : bucket.signers) *qc.add_signatures() = signer_sig;
  // Made of votes checked above: its signatures need no second check when it justifies our proposal.
  verified_qcs_.emplace(VerifiedQcKey(qc), qc.round());
  ProcessQc(qc);
  return Status::Ok();
}

void Core::ReportDoubleVote(uint32_t voter, const v1::SignedStatement& first, const v1::SignedStatement& second) {
  v1::Evidence evidence;
  evidence.set_version(kVersion);
  evidence.set_kind(v1::Evidence::KIND_DOUBLE_VOTE);
  evidence.set_epoch(epoch_);
  const PublicKey& key = set_.key(voter);
  evidence.set_validator(std::string(key.begin(), key.end()));
  *evidence.mutable_first() = first;
  *evidence.mutable_second() = second;
  Emit(ReportEvidence{std::move(evidence)});
}

void Core::Persist() {
  v1::SafetyState state;
  state.set_version(kVersion);
  state.set_epoch(epoch_);
  state.set_highest_voted_round(highest_voted_round_);
  state.set_highest_proposed_round(highest_proposed_round_);
  *state.mutable_high_qc() = high_qc_;
  if (last_tc_) *state.mutable_last_tc() = *last_tc_;
  Emit(PersistSafetyState{std::move(state)});
}

// ---------------------------------------------------------------------------------------------
// Certificates and commits

bool Core::IsRootQc(const v1::QuorumCert& qc) const {
  return qc.epoch() == epoch_ && qc.round() == 0 && qc.height() == root_height_ &&
         qc.block_id() == HashString(root_id_) && qc.parent_id().empty() && qc.parent_round() == 0 &&
         qc.signatures_size() == 0 && qc.commit_block_id().empty() && qc.commit_height() == 0 &&
         qc.commit_round() == 0;
}

Status Core::CheckQc(const v1::QuorumCert& qc) {
  if (IsRootQc(qc)) return Status::Ok();
  const Hash key = VerifiedQcKey(qc);
  if (verified_qcs_.contains(key)) return Status::Ok();
  GS_RETURN_IF_ERROR(VerifyQuorumCert(qc, epoch_, set_, config_.chain_id, verifier_));
  verified_qcs_.emplace(key, qc.round());
  return Status::Ok();
}

void Core::ProcessQc(const v1::QuorumCert& qc) {
  if (qc.round() > high_qc_.round()) high_qc_ = qc;
  if (QcCarriesCommit(qc)) TryCommit(qc);
  if (pending_epoch_) return;  // the epoch ended: its rounds are over
  if (qc.round() + 1 > current_round_) EnterRound(qc.round() + 1, false);
}

void Core::ProcessTc(const v1::TimeoutCert& tc) {
  if (pending_epoch_) return;
  if (tc.round() + 1 > current_round_) {
    last_tc_ = tc;
    EnterRound(tc.round() + 1, true);
  } else if (tc.round() + 1 == current_round_ && !last_tc_) {
    last_tc_ = tc;
    MaybeRequestPayload();
  }
}

void Core::TryCommit(const v1::QuorumCert& qc) {
  if (pending_epoch_) return;
  std::optional<CommitTarget> target = QcCommitTarget(qc);
  GS_ASSERT(target.has_value());  // every processed QC passed VerifyQuorumCert
  if (target->height <= head_.height) return;
  std::vector<BlockRecord*> chain;  // from the target down
  BlockId cursor = target->id;
  for (uint64_t height = target->height; height > head_.height; --height) {
    auto it = blocks_.find(cursor);
    if (it == blocks_.end() || it->second.committed) {
      if (!pending_commit_qc_ || pending_commit_qc_->round() < qc.round()) pending_commit_qc_ = qc;
      // The target, not the QC's block: whoever committed it still holds it, even in a later epoch.
      Fetch(target->id, &qc, std::nullopt);
      return;
    }
    // Only the target may carry a change; nothing descending from one is ever committed. Anything
    // else needs more than f faulty validators and is never acted on.
    const BlockRecord& record = it->second;
    if (record.change_block && (!chain.empty() || *record.change_block != record.id)) return;
    chain.push_back(&it->second);
    cursor = it->second.parent_id;
  }
  // A chain that does not reach our head conflicts with what we committed (more than f faulty).
  if (cursor != head_.id) return;
  Commit commit;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    BlockRecord& record = **it;
    record.committed = true;
    committed_by_height_[record.block.height()] = record.id;
    GS_ASSERT(uncommitted_.erase(record.id) == 1);
    const v1::ConsensusBlock& b = record.block;
    commit.blocks.push_back(CommittedBlock{record.id, record.parent_id, b.epoch(), b.round(), b.height(), b.proposer(),
                                           Bytes(b.payload().begin(), b.payload().end()),
                                           MustHash(b.payload_hash()), b});
  }
  commit.certificate = CommitCertificateFromQc(qc, set_, config_.chain_id);
  head_ = CommittedHead{target->id, target->height, target->round};
  committed_round_ = target->round;
  const v1::ConsensusBlock& top = chain.front()->block;
  if (top.has_next_validator_set()) {
    EpochChange change;
    change.epoch = EpochInfo{epoch_ + 1, ConsensusSetProto(top.next_validator_set()), target->id, target->height};
    change.previous_validators = ConsensusSetProto(set_.proto());
    change.root_qc = qc;
    commit.epoch_change = change;
    pending_epoch_ = std::move(change);
  }
  if (pending_commit_qc_) {
    std::optional<CommitTarget> pending = QcCommitTarget(*pending_commit_qc_);
    if (pending->height <= head_.height) pending_commit_qc_.reset();
  }
  Emit(std::move(commit));
  Prune();
}

// ---------------------------------------------------------------------------------------------
// Pacemaker

uint64_t Core::TimeoutDelay() const {
  // One crashed validator makes two rounds in a row end in a TC: its own, and the one before,
  // whose votes went to it. Doubling already in the first round entered by a TC would make every
  // crashed leader's turn cost 3 base timeouts; it starts with the second in a row.
  const uint32_t exponent = std::min(consecutive_tc_rounds_ > 1 ? consecutive_tc_rounds_ - 1 : 0,
                                     config_.max_backoff_exponent);
  return config_.base_timeout_ms << exponent;
}

void Core::EnterRound(uint64_t round, bool by_tc) {
  GS_ASSERT(round > current_round_);
  current_round_ = round;
  consecutive_tc_rounds_ = by_tc ? consecutive_tc_rounds_ + 1 : 0;
  if (last_tc_ && last_tc_->round() + 1 != round) last_tc_.reset();
  Emit(SetTimer{round, TimeoutDelay()});
  std::erase_if(votes_, [&](const auto& entry) { return entry.first + 1 < round; });
  std::erase_if(timeouts_, [&](const auto& entry) { return entry.first + 1 < round; });
  std::erase_if(proposals_, [&](const auto& entry) { return entry.first + kEvidenceWindowRounds <= round; });
  MaybeRequestPayload();
  // The proposal of this round may have arrived before the certificate that opened the round.
  auto first = proposals_.find(round);
  if (first != proposals_.end()) {
    auto it = blocks_.find(first->second.id);
    if (it != blocks_.end()) MaybeVote(it->second);
  }
}

void Core::MaybeRequestPayload() {
  if (!Active() || set_.LeaderOf(current_round_) != *self_index_) return;
  if (highest_proposed_round_ >= current_round_ || payload_requested_round_ == current_round_) return;
  const bool justified =
      high_qc_.round() + 1 == current_round_ || (last_tc_ && last_tc_->round() + 1 == current_round_);
  if (!justified) return;
  // Whether the parent descends from a change decides the payload, so the parent must be known.
  // A high QC not above our head (a restart that lost it) waits for a newer one.
  const BlockId parent_id = MustHash(high_qc_.block_id());
  if (high_qc_.height() < head_.height || (high_qc_.height() == head_.height && parent_id != head_.id)) return;
  if (parent_id != head_.id) {
    auto parent = blocks_.find(parent_id);
    if (parent == blocks_.end()) {
      Fetch(parent_id, &high_qc_, std::nullopt, /*replace=*/false);  // retried once it comes
      return;
    }
    if (parent->second.change_block) {
      payload_requested_round_ = current_round_;
      Propose(Bytes(), kNoPayloadHash, std::nullopt);
      return;
    }
  }
  payload_requested_round_ = current_round_;
  Emit(RequestPayload{epoch_, current_round_, high_qc_.height() + 1, parent_id});
}

void Core::Propose(Bytes payload, const Hash& payload_hash, std::optional<v1::ValidatorSet> next_validators) {
  GS_ASSERT(Active() && set_.LeaderOf(current_round_) == *self_index_ && highest_proposed_round_ < current_round_);
  const BlockId parent_id = MustHash(high_qc_.block_id());
  v1::Proposal proposal;
  v1::ConsensusBlock* block = proposal.mutable_block();
  block->set_version(kVersion);
  block->set_epoch(epoch_);
  block->set_round(current_round_);
  block->set_height(high_qc_.height() + 1);
  block->set_parent_id(high_qc_.block_id());
  block->set_proposer(*self_index_);
  block->set_payload(std::string(payload.begin(), payload.end()));
  block->set_payload_hash(HashString(payload_hash));
  *block->mutable_justify() = WireQc(high_qc_);
  std::optional<Hash> next_set_hash;
  if (next_validators) {
    next_set_hash = ValidatorSet::FromProto(*next_validators).value().hash();
    *block->mutable_next_validator_set() = std::move(*next_validators);
  }
  if (high_qc_.round() + 1 != current_round_) {
    GS_ASSERT(last_tc_ && last_tc_->round() + 1 == current_round_);
    *proposal.mutable_tc() = *last_tc_;
  }
  const BlockId id = ComputeBlockId(config_.chain_id, epoch_, current_round_, block->height(), parent_id, *self_index_,
                                    payload_hash, next_set_hash);
  proposal.set_signature(
      SigString(signer_->Sign(kProposalDomain, config_.chain_id, ProposalSignBytes(epoch_, current_round_, id))));
  highest_proposed_round_ = current_round_;
  Persist();
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  *message.mutable_proposal() = proposal;
  Broadcast(message);
  Status own = HandleProposal(proposal);
  GS_ASSERT(own.ok());
}

void Core::LocalTimeout() {
  GS_ASSERT(Active());
  const uint64_t round = current_round_;
  highest_voted_round_ = std::max(highest_voted_round_, round);
  timed_out_round_ = round;
  Persist();
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  v1::Timeout* timeout = message.mutable_timeout();
  timeout->set_epoch(epoch_);
  timeout->set_round(round);
  *timeout->mutable_high_qc() = WireQc(high_qc_);
  timeout->set_sender(*self_index_);
  timeout->set_signature(SigString(
      signer_->Sign(kTimeoutDomain, config_.chain_id, TimeoutSignBytes(epoch_, round, high_qc_.round()))));
  if (last_tc_ && last_tc_->round() + 1 == round) *timeout->mutable_last_tc() = *last_tc_;
  Broadcast(message);
  v1::Timeout own = message.timeout();
  Status status = HandleTimeout(own);
  GS_ASSERT(status.ok());
}

Status Core::HandleTimeout(const v1::Timeout& timeout) {
  if (timeout.epoch() != epoch_) return Reject("WRONG_EPOCH", "timeout of epoch " + std::to_string(timeout.epoch()));
  if (timeout.sender() >= set_.size()) return Reject("BAD_TIMEOUT", "sender is not a validator");
  // The previous epoch's QC of the root stands for the root's implicit QC (round 0).
  const bool root_certificate = IsRootCertificate(timeout.high_qc());
  const v1::QuorumCert& high_qc = root_certificate ? root_qc_ : timeout.high_qc();
  if (timeout.round() == 0 || !timeout.has_high_qc() || high_qc.round() >= timeout.round()) {
    return Reject("BAD_TIMEOUT", "timeout round or high QC out of range");
  }
  std::optional<Signature> signature = ledger::SignatureFromBytes(AsBytes(timeout.signature()));
  const Bytes bytes = TimeoutSignBytes(epoch_, timeout.round(), high_qc.round());
  if (!signature ||
      !verifier_.Verify(set_.key(timeout.sender()), kTimeoutDomain, config_.chain_id, bytes, *signature)) {
    return Reject("BAD_SIGNATURE", "timeout signature is invalid");
  }
  GS_RETURN_IF_ERROR(root_certificate ? CheckRootCertificate(timeout.high_qc()) : CheckQc(high_qc));
  if (timeout.has_last_tc()) {
    if (timeout.last_tc().round() + 1 != timeout.round()) return Reject("BAD_TIMEOUT", "last TC is not of round - 1");
    GS_RETURN_IF_ERROR(VerifyTimeoutCert(timeout.last_tc(), epoch_, set_, config_.chain_id, verifier_));
  }
  ProcessQc(high_qc);
  if (pending_epoch_) return Status::Ok();  // a commit above ended the epoch
  if (timeout.has_last_tc()) ProcessTc(timeout.last_tc());
  const uint64_t round = timeout.round();
  if (round < current_round_) return Status::Ok();
  if (round > current_round_ + kMaxRoundsAhead) return Reject("STALE_ROUND", "timeout too far ahead");
  {
    RoundTimeouts& entry = timeouts_[round];
    if (entry.signers.contains(timeout.sender())) return Status::Ok();
    v1::TcSignature sig;
    sig.set_validator(timeout.sender());
    sig.set_high_qc_round(high_qc.round());
    sig.set_signature(timeout.signature());
    entry.signers.emplace(timeout.sender(), std::move(sig));
    entry.power += set_.power(timeout.sender());
    // A weak quorum timed out at a round not below ours: at least one honest validator is there.
    if (entry.power >= set_.weak_quorum_power() && Active() && timed_out_round_ < round) {
      if (round > current_round_) EnterRound(round, true);
      if (round == current_round_) LocalTimeout();
    }
  }
  auto it = timeouts_.find(round);
  if (it == timeouts_.end() || it->second.power < set_.quorum_power() || it->second.tc_formed) return Status::Ok();
  it->second.tc_formed = true;
  v1::TimeoutCert tc;
  tc.set_epoch(epoch_);
  tc.set_round(round);
  for (const auto& [index, sig] : it->second.signers) *tc.add_signatures() = sig;
  ProcessTc(tc);
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Block tree and catch-up

bool Core::ParentKnown(const BlockId& parent_id, uint64_t height) const {
  if (parent_id == head_.id) return height == head_.height + 1;
  auto it = blocks_.find(parent_id);
  return it != blocks_.end() && !it->second.committed && it->second.block.height() + 1 == height;
}

Core::BlockRecord* Core::Insert(const v1::ConsensusBlock& block, const BlockId& id) {
  GS_ASSERT(ParentKnown(MustHash(block.parent_id()), block.height()));
  BlockRecord& record = blocks_[id];
  record.block = block;
  record.id = id;
  record.parent_id = MustHash(block.parent_id());
  uncommitted_.insert(id);
  auto parent = blocks_.find(record.parent_id);
  if (parent != blocks_.end() && !parent->second.committed && parent->second.change_block) {
    // Above a change, in its epoch: no payload, nothing to execute (the state is the change
    // block's); any other block is invalid.
    record.change_block = parent->second.change_block;
    record.valid = IsPayloadFree(block);
    return &record;
  }
  if (block.has_next_validator_set()) record.change_block = id;
  RequestExecution(record);
  return &record;
}

// Every block entering the tree is executed, not only those this validator votes for: a later
// block can only be checked (or proposed on) once its ancestors' effects are known, and a
// validator that missed a round (restarting, partitioned) must still be able to vote on the next.
// Parents enter the tree before their children, so requests come in chain order.
void Core::RequestExecution(BlockRecord& record) {
  if (record.committed || record.execution_requested) return;
  record.execution_requested = true;
  const v1::ConsensusBlock& block = record.block;
  ExecuteBlock execute{record.id, record.parent_id, block.height(),
                       Bytes(block.payload().begin(), block.payload().end()), MustHash(block.payload_hash()),
                       epoch_, std::nullopt};
  if (block.has_next_validator_set()) execute.next_validators = ConsensusSetProto(block.next_validator_set());
  Emit(std::move(execute));
}

void Core::Prune() {
  std::erase_if(uncommitted_, [&](const BlockId& id) {
    auto it = blocks_.find(id);
    GS_ASSERT(it != blocks_.end() && !it->second.committed);
    const v1::ConsensusBlock& b = it->second.block;
    if (b.height() > head_.height && b.round() > committed_round_) return false;
    blocks_.erase(it);
    return true;
  });
  while (committed_by_height_.size() > config_.retained_committed_blocks) {
    blocks_.erase(committed_by_height_.begin()->second);
    committed_by_height_.erase(committed_by_height_.begin());
  }
  std::erase_if(certified_, [&](const auto& entry) { return entry.second <= head_.height; });
  std::erase_if(verified_qcs_, [&](const auto& entry) { return entry.second < committed_round_; });
  if (waiting_proposal_ && waiting_proposal_->block().round() <= committed_round_) waiting_proposal_.reset();
  if (fetch_ && (blocks_.contains(fetch_->target) || fetch_->target == head_.id)) fetch_.reset();
}

void Core::Fetch(const BlockId& id, const v1::QuorumCert* qc, std::optional<PublicKey> preferred_peer, bool replace) {
  if (qc != nullptr) {
    certified_.emplace(MustHash(qc->block_id()), qc->height());
    if (std::optional<CommitTarget> target = QcCommitTarget(*qc)) certified_.emplace(target->id, target->height);
  }
  if (fetch_ && fetch_->target == id) {
    if (qc != nullptr) fetch_->unverified = false;  // now named by a checked certificate
    return;
  }
  if (fetch_ && !replace && fetch_->attempts < kFetchPatience) return;
  FetchState state;
  state.target = id;
  std::set<PublicKey> listed;
  if (signer_ != nullptr) listed.insert(signer_->public_key());
  auto add = [&](const PublicKey& key) {
    if (listed.insert(key).second) state.peers.push_back(key);
  };
  if (preferred_peer) add(*preferred_peer);
  if (qc != nullptr) {
    for (const v1::QcSignature& sig : qc->signatures()) {
      if (sig.validator() < set_.size()) add(set_.key(sig.validator()));
    }
  }
  for (uint32_t i = 0; i < set_.size(); ++i) add(set_.key(i));
  // A named peer is asked first; otherwise each new fetch starts one peer further, so that a
  // silent peer first in every list cannot stall catch-up.
  state.peer = preferred_peer || state.peers.empty() ? 0 : ++fetch_rotation_ % state.peers.size();
  state.have_height = head_.height;
  fetch_ = std::move(state);
  SendFetchRequest();
}

// A block named by a message that cannot be checked yet (a later epoch's): fetched only when no
// other fetch makes progress, from its sender first, and given up after a few attempts.
void Core::FetchUnverified(const BlockId& id, const PublicKey& from) {
  if (fetch_ && fetch_->attempts < kFetchPatience) return;
  fetch_.reset();
  Fetch(id, nullptr, from);
  fetch_->unverified = true;
}

void Core::SendFetchRequest() {
  if (!fetch_ || fetch_->peers.empty()) return;
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  message.mutable_block_request()->set_block_id(HashString(fetch_->target));
  message.mutable_block_request()->set_above_height(fetch_->have_height);
  Emit(SendMessage{fetch_->peers[fetch_->peer % fetch_->peers.size()], Serialize(message)});
}

Status Core::HandleBlockRequest(const PublicKey& from, const v1::FetchBlocksRequest& request) {
  std::optional<Hash> id = HashField(request.block_id());
  if (!id) return Reject("BAD_REQUEST", "block id must be 32 bytes");
  std::vector<const v1::ConsensusBlock*> chain;  // descending heights, across epochs
  BlockId cursor = *id;
  for (size_t steps = 0; steps <= blocks_.size(); ++steps) {
    auto it = blocks_.find(cursor);
    if (it == blocks_.end() || it->second.block.height() <= request.above_height()) break;
    chain.push_back(&it->second.block);
    cursor = it->second.parent_id;
  }
  if (chain.empty()) return Reject("NOT_FOUND", "requested block is not held");
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  v1::FetchBlocksResponse* response = message.mutable_block_response();
  size_t bytes = 0;
  for (auto it = chain.rbegin(); it != chain.rend() && response->blocks_size() < static_cast<int>(kMaxBlocksPerResponse);
       ++it) {
    bytes += (*it)->ByteSizeLong();
    if (response->blocks_size() > 0 && bytes > config_.max_message_bytes / 2) break;
    *response->add_blocks() = **it;
  }
  Emit(SendMessage{from, Serialize(message)});
  return Status::Ok();
}

// Fetched blocks are admitted in chain order, each only once certified: by the next block's
// justify (a QC of the block, or, for the first block of the next epoch, a QC of this epoch whose
// commit signatures certify it) or by a QC verified earlier. A response may cross epochs: the
// first block of the next epoch commits the block ending this one, the core switches, and the
// rest is checked with the new set.
Status Core::HandleBlockResponse(const v1::FetchBlocksResponse& response) {
  if (!fetch_) return Reject("UNSOLICITED", "no block request outstanding");
  const int count = response.blocks_size();
  if (count == 0 || static_cast<size_t>(count) > kMaxBlocksPerResponse) {
    return Reject("BAD_RESPONSE", "response must hold 1.." + std::to_string(kMaxBlocksPerResponse) + " blocks");
  }
  const uint64_t had_height = fetch_->have_height;
  uint64_t inserted_height = had_height;
  int admitted = 0;
  BlockId previous{};
  for (int i = 0; i < count; ++i) {
    const v1::ConsensusBlock& block = response.blocks(i);
    Result<BlockId> id = BlockIdOf(config_.chain_id, block);
    if (!id.ok()) return id.status();
    if (i > 0 && (MustHash(block.parent_id()) != previous || block.height() != response.blocks(i - 1).height() + 1)) {
      return Reject("BAD_RESPONSE", "blocks do not form a chain");
    }
    previous = *id;
    if (block.height() <= head_.height) continue;
    if (i == 0 && !blocks_.contains(*id) && !ParentKnown(MustHash(block.parent_id()), block.height())) {
      fetch_->have_height = head_.height;
      return Reject("BAD_RESPONSE", "response does not connect to the block tree");
    }
    if (block.epoch() == epoch_ + 1 && !pending_epoch_ && block.justify().epoch() == epoch_ &&
        QcCarriesCommit(block.justify())) {
      GS_RETURN_IF_ERROR(CheckQc(block.justify()));
      ProcessQc(block.justify());  // commits the block ending this epoch, admitted just before
    }
    if (pending_epoch_ && block.epoch() == pending_epoch_->epoch.epoch) ApplyPendingEpoch();
    if (pending_epoch_ || block.epoch() != epoch_) break;  // cannot be checked (yet)
    BlockId checked;
    GS_RETURN_IF_ERROR(CheckBlockShape(block, &checked));
    GS_RETURN_IF_ERROR(CheckJustify(block));
    bool certified = certified_.contains(*id);
    if (!certified && i + 1 < count) {
      const v1::QuorumCert& next = response.blocks(i + 1).justify();
      std::optional<CommitTarget> target = QcCommitTarget(next);
      const bool names_block = next.block_id() == HashString(*id) || (target && target->id == *id);
      certified = names_block && next.epoch() == epoch_ && CheckQc(next).ok();
    }
    if (!certified) break;
    if (!blocks_.contains(*id)) {
      if (!ParentKnown(MustHash(block.parent_id()), block.height())) break;
      Insert(block, *id);
    }
    ++admitted;
    inserted_height = std::max(inserted_height, block.height());
    ProcessQc(Justify(block));
  }
  if (fetch_ && (blocks_.contains(fetch_->target) || fetch_->target == head_.id)) fetch_.reset();
  if (admitted == 0) {
    RetryPendingWork();
    return Reject("BAD_RESPONSE", "no certified block in the response");  // asked again on the timer
  }
  // Progress (not a duplicate of an earlier response): ask the same peer for the rest at once.
  if (fetch_ && inserted_height > had_height) {
    fetch_->attempts = 0;
    fetch_->have_height = std::max(inserted_height, head_.height);
    SendFetchRequest();
  }
  RetryPendingWork();
  return Status::Ok();
}

void Core::RetryPendingWork() {
  if (pending_commit_qc_) {
    v1::QuorumCert qc = *pending_commit_qc_;
    TryCommit(qc);
  }
  if (pending_epoch_) return;
  if (waiting_proposal_) {
    const v1::ConsensusBlock& block = waiting_proposal_->block();
    if (ParentKnown(MustHash(block.parent_id()), block.height())) {
      v1::Proposal proposal = std::move(*waiting_proposal_);
      waiting_proposal_.reset();
      HandleProposal(proposal);
    } else if (!fetch_) {
      Fetch(MustHash(block.parent_id()), &Justify(block), set_.key(block.proposer()));
    }
  }
  MaybeRequestPayload();
}

void Core::Send(uint32_t validator, const v1::ConsensusMessage& message) {
  Emit(SendMessage{set_.key(validator), Serialize(message)});
}

void Core::Broadcast(const v1::ConsensusMessage& message) { Emit(BroadcastMessage{Serialize(message)}); }

}  // namespace gongshe::consensus
