#include "consensus/core.h"

#include <algorithm>
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
  Result<ValidatorSet> set = ValidatorSet::FromProto(epoch.validators);
  if (!set.ok()) return set.status();
  const CommittedHead& head = recovered.head;
  if (head.height < epoch.root_height || (head.height == epoch.root_height && head.id != epoch.root_id)) {
    return Reject("BAD_RECOVERY", "committed head must be the epoch root or above it");
  }
  std::unique_ptr<Core> core(new Core(std::move(config), signer, verifier, std::move(set).value(), epoch, head));
  GS_RETURN_IF_ERROR(core->Recover(recovered));
  return core;
}

Status Core::Recover(const RecoveredState& recovered) {
  if (recovered.safety) {
    const v1::SafetyState& safety = *recovered.safety;
    if (safety.version() != kVersion || safety.epoch() != epoch_) {
      return Reject("BAD_RECOVERY", "persisted safety state is of another version or epoch");
    }
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
  // Committed blocks: a chain ending at the head. They are our own store's, so only their shape
  // and links are checked.
  const size_t count = recovered.committed.size();
  const size_t first = count > config_.retained_committed_blocks ? count - config_.retained_committed_blocks : 0;
  for (size_t i = first; i < count; ++i) {
    const v1::ConsensusBlock& block = recovered.committed[i];
    BlockId id;
    GS_RETURN_IF_ERROR(CheckBlockShape(block, &id));
    const bool last = i + 1 == count;
    if (last ? id != head_.id : MustHash(recovered.committed[i + 1].parent_id()) != id) {
      return Reject("BAD_RECOVERY", "committed blocks do not form a chain ending at the head");
    }
    BlockRecord& record = blocks_[id];
    record.block = block;
    record.id = id;
    record.parent_id = MustHash(block.parent_id());
    record.committed = true;
    committed_by_height_[block.height()] = id;
  }
  // Voted blocks above the head, lowest first, where they connect to the tree.
  std::vector<const v1::ConsensusBlock*> voted;
  for (const v1::ConsensusBlock& block : recovered.voted) voted.push_back(&block);
  std::sort(voted.begin(), voted.end(), [](const auto* a, const auto* b) { return a->height() < b->height(); });
  for (const v1::ConsensusBlock* block : voted) {
    BlockId id;
    GS_RETURN_IF_ERROR(CheckBlockShape(*block, &id));
    if (block->height() <= head_.height || blocks_.contains(id)) continue;
    if (!ParentKnown(MustHash(block->parent_id()), block->height())) continue;
    Insert(*block, id)->valid = true;  // we voted for it, so the application accepted it
  }
  return Status::Ok();
}

Core::Core(CoreConfig config, const Signer* signer, const Verifier& verifier, ValidatorSet set,
           const EpochInfo& epoch, const CommittedHead& head)
    : config_(std::move(config)),
      signer_(signer),
      verifier_(verifier),
      set_(std::move(set)),
      epoch_(epoch.epoch),
      root_id_(epoch.root_id),
      root_height_(epoch.root_height),
      head_(head) {
  if (signer_ != nullptr) self_index_ = set_.IndexOf(signer_->public_key());
  high_qc_.set_epoch(epoch_);
  high_qc_.set_round(0);
  high_qc_.set_height(root_height_);
  high_qc_.set_block_id(HashString(root_id_));
}

Actions Core::TakeActions() {
  Actions taken = std::move(out_);
  out_.clear();
  return taken;
}

// ---------------------------------------------------------------------------------------------
// Entry points

Actions Core::Start() {
  GS_ASSERT(current_round_ == 0);
  EnterRound(std::max<uint64_t>({high_qc_.round() + 1, highest_voted_round_, 1}), false);
  return TakeActions();
}

Actions Core::OnMessage(const PublicKey& from, ByteView bytes) {
  last_status_ = Status::Ok();
  if (bytes.size() > config_.max_message_bytes) {
    last_status_ = Reject("TOO_LARGE", "message of " + std::to_string(bytes.size()) + " bytes");
    return TakeActions();
  }
  v1::ConsensusMessage message;
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    last_status_ = Reject("BAD_MESSAGE", "not a consensus message");
    return TakeActions();
  }
  if (message.version() != kVersion) {
    last_status_ = Reject("BAD_MESSAGE", "unsupported message version " + std::to_string(message.version()));
    return TakeActions();
  }
  switch (message.body_case()) {
    case v1::ConsensusMessage::kProposal:
      last_status_ = HandleProposal(message.proposal());
      break;
    case v1::ConsensusMessage::kVote:
      last_status_ = HandleVote(message.vote());
      break;
    case v1::ConsensusMessage::kTimeout:
      last_status_ = HandleTimeout(message.timeout());
      break;
    case v1::ConsensusMessage::kBlockRequest:
      last_status_ = HandleBlockRequest(from, message.block_request());
      break;
    case v1::ConsensusMessage::kBlockResponse:
      last_status_ = HandleBlockResponse(message.block_response());
      break;
    case v1::ConsensusMessage::BODY_NOT_SET:
      last_status_ = Reject("BAD_MESSAGE", "empty consensus message");
      break;
  }
  return TakeActions();
}

Actions Core::OnTimer(uint64_t round) {
  if (round != current_round_) return TakeActions();
  // Re-arm first: a round change below emits a newer SetTimer that supersedes this one.
  Emit(SetTimer{current_round_, TimeoutDelay()});
  if (IsValidator()) LocalTimeout();
  RetryPendingWork();
  if (fetch_) {
    ++fetch_->attempts;
    v1::ConsensusMessage message;
    message.set_version(kVersion);
    message.mutable_block_request()->set_block_id(HashString(fetch_->target));
    message.mutable_block_request()->set_above_height(fetch_->have_height);
    if (!fetch_->peers.empty()) Send(fetch_->peers[fetch_->attempts % fetch_->peers.size()], message);
  }
  return TakeActions();
}

Actions Core::OnPayloadReady(const RequestPayload& request, Bytes payload, const Hash& payload_hash) {
  GS_ASSERT(payload.size() <= config_.max_payload_bytes);
  const bool leader = IsValidator() && set_.LeaderOf(current_round_) == *self_index_;
  if (request.epoch != epoch_ || request.round != current_round_ || !leader ||
      highest_proposed_round_ >= current_round_) {
    return TakeActions();
  }
  if (request.parent_id != MustHash(high_qc_.block_id()) || request.height != high_qc_.height() + 1) {
    payload_requested_round_ = 0;  // the high QC moved on: ask again on top of it
    MaybeRequestPayload();
    return TakeActions();
  }
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
  *block->mutable_justify() = high_qc_;
  if (high_qc_.round() + 1 != current_round_) {
    GS_ASSERT(last_tc_ && last_tc_->round() + 1 == current_round_);
    *proposal.mutable_tc() = *last_tc_;
  }
  const BlockId id = ComputeBlockId(config_.chain_id, epoch_, current_round_, block->height(), request.parent_id,
                                    *self_index_, payload_hash);
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
  return TakeActions();
}

Actions Core::OnBlockExecuted(const BlockId& block_id, bool valid) {
  auto it = blocks_.find(block_id);
  if (it != blocks_.end() && !it->second.valid.has_value()) {
    it->second.valid = valid;
    MaybeVote(it->second);
  }
  return TakeActions();
}

// ---------------------------------------------------------------------------------------------
// Proposals and voting

Status Core::CheckBlockShape(const v1::ConsensusBlock& block, BlockId* id) const {
  if (block.version() != kVersion) return Reject("BAD_BLOCK", "unsupported block version");
  if (block.epoch() != epoch_) return Reject("WRONG_EPOCH", "block of epoch " + std::to_string(block.epoch()));
  if (block.round() == 0 || !block.has_justify()) return Reject("BAD_BLOCK", "block needs a round and a justify QC");
  const v1::QuorumCert& justify = block.justify();
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
  if (block.proposer() >= set_.size()) return Reject("BAD_BLOCK", "proposer is not a validator");
  if (block.proposer() != set_.LeaderOf(block.round())) return Reject("WRONG_LEADER", "proposer is not the leader");
  *id = ComputeBlockId(config_.chain_id, epoch_, block.round(), block.height(), *parent_id, block.proposer(),
                       *payload_hash);
  return Status::Ok();
}

Status Core::HandleProposal(const v1::Proposal& proposal) {
  if (!proposal.has_block()) return Reject("BAD_PROPOSAL", "proposal without a block");
  const v1::ConsensusBlock& block = proposal.block();
  BlockId id;
  GS_RETURN_IF_ERROR(CheckBlockShape(block, &id));
  const uint64_t round = block.round();
  if (round <= head_.round || round + kEvidenceWindowRounds <= current_round_) {
    return Reject("STALE_ROUND", "proposal of round " + std::to_string(round) + " is too old");
  }
  std::optional<Signature> signature = ledger::SignatureFromBytes(AsBytes(proposal.signature()));
  if (!signature || !verifier_.Verify(set_.key(block.proposer()), kProposalDomain, config_.chain_id,
                                      ProposalSignBytes(epoch_, round, id), *signature)) {
    return Reject("BAD_SIGNATURE", "proposal signature is invalid");
  }
  GS_RETURN_IF_ERROR(CheckQc(block.justify()));
  std::optional<uint64_t> tc_max_hqc;
  if (block.justify().round() + 1 != round) {
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
    statement.set_parent_round(block.justify().round());
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

  ProcessQc(block.justify());
  if (proposal.has_tc()) ProcessTc(proposal.tc());
  if (head_.round >= round) return Status::Ok();  // a commit above made it moot

  auto it = blocks_.find(id);
  if (it != blocks_.end()) {
    MaybeVote(it->second);
    return Status::Ok();
  }
  const BlockId parent_id = MustHash(block.parent_id());
  if (!ParentKnown(parent_id, block.height())) {
    if (!waiting_proposal_ || waiting_proposal_->block().round() <= round) waiting_proposal_ = proposal;
    Fetch(parent_id, &block.justify(), block.proposer());
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
  const uint64_t qc_round = record.block.justify().round();
  if (qc_round + 1 == round) return true;
  return record.tc_max_hqc.has_value() && qc_round >= *record.tc_max_hqc;
}

void Core::MaybeVote(BlockRecord& record) {
  if (!IsValidator() || record.committed || record.block.round() != current_round_ || !SafeToVote(record)) return;
  if (!record.valid.has_value()) return;  // asked for when the block entered the tree
  if (!*record.valid) return;

  const v1::ConsensusBlock& block = record.block;
  const uint64_t round = block.round();
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
  vote->set_parent_round(block.justify().round());
  vote->set_voter(*self_index_);
  const Bytes vote_bytes =
      VoteSignBytes(epoch_, round, block.height(), record.id, record.parent_id, block.justify().round());
  vote->set_vote_signature(SigString(signer_->Sign(kVoteDomain, config_.chain_id, vote_bytes)));
  const uint64_t parent_round = block.justify().round();
  if (parent_round > 0 && parent_round + 1 == round) {
    const Bytes commit_bytes = CommitSignBytes(block.height() - 1, parent_round, record.parent_id, set_.hash());
    vote->set_commit_signature(SigString(signer_->Sign(kCommitDomain, config_.chain_id, commit_bytes)));
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
  const bool carries_commit = vote.parent_round() > 0 && vote.parent_round() + 1 == vote.round();
  if (carries_commit) {
    std::optional<Signature> commit_sig = ledger::SignatureFromBytes(AsBytes(vote.commit_signature()));
    const Bytes commit_bytes = CommitSignBytes(vote.height() - 1, vote.parent_round(), *parent_id, set_.hash());
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
  const Hash bucket_key = ledger::Sha256(vote_bytes);
  if (!inserted && first->second.block_id() != vote.block_id()) {
    int& extra = round_votes.conflicting_votes[vote.voter()];
    if (extra == 0) ReportDoubleVote(vote.voter(), first->second, statement);
    if (++extra >= kMaxProposalsPerRound) return Reject("EQUIVOCATION", "too many votes in one round");
  }
  VoteBucket& bucket = round_votes.buckets[bucket_key];
  if (bucket.signers.contains(vote.voter())) return Reject("DUPLICATE", "vote already counted");
  if (bucket.signers.empty()) {
    bucket.data.set_epoch(epoch_);
    bucket.data.set_round(vote.round());
    bucket.data.set_height(vote.height());
    bucket.data.set_block_id(vote.block_id());
    bucket.data.set_parent_id(vote.parent_id());
    bucket.data.set_parent_round(vote.parent_round());
  }
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
         qc.signatures_size() == 0;
}

Status Core::CheckQc(const v1::QuorumCert& qc) {
  if (IsRootQc(qc)) return Status::Ok();
  const Hash key = ledger::Sha256(AsBytes(qc.SerializeAsString()));
  if (verified_qcs_.contains(key)) return Status::Ok();
  GS_RETURN_IF_ERROR(VerifyQuorumCert(qc, epoch_, set_, config_.chain_id, verifier_));
  verified_qcs_.emplace(key, qc.round());
  return Status::Ok();
}

void Core::ProcessQc(const v1::QuorumCert& qc) {
  if (qc.round() > high_qc_.round()) high_qc_ = qc;
  if (QcCarriesCommit(qc)) TryCommit(qc);
  if (qc.round() + 1 > current_round_) EnterRound(qc.round() + 1, false);
}

void Core::ProcessTc(const v1::TimeoutCert& tc) {
  if (tc.round() + 1 > current_round_) {
    last_tc_ = tc;
    EnterRound(tc.round() + 1, true);
  } else if (tc.round() + 1 == current_round_ && !last_tc_) {
    last_tc_ = tc;
    MaybeRequestPayload();
  }
}

void Core::TryCommit(const v1::QuorumCert& qc) {
  const uint64_t target_height = qc.height() - 1;
  if (target_height <= head_.height) return;
  const BlockId target = MustHash(qc.parent_id());
  std::vector<BlockRecord*> chain;
  BlockId cursor = target;
  for (uint64_t height = target_height; height > head_.height; --height) {
    auto it = blocks_.find(cursor);
    if (it == blocks_.end() || it->second.committed) {
      if (!pending_commit_qc_ || pending_commit_qc_->height() < qc.height()) pending_commit_qc_ = qc;
      Fetch(MustHash(qc.block_id()), &qc, std::nullopt);
      return;
    }
    chain.push_back(&it->second);
    cursor = it->second.parent_id;
  }
  // A chain that does not reach our head conflicts with what we committed; that needs more than
  // f faulty validators and is never acted on.
  if (cursor != head_.id) return;
  Commit commit;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    BlockRecord& record = **it;
    record.committed = true;
    committed_by_height_[record.block.height()] = record.id;
    const v1::ConsensusBlock& b = record.block;
    commit.blocks.push_back(CommittedBlock{record.id, record.parent_id, b.epoch(), b.round(), b.height(), b.proposer(),
                                           Bytes(b.payload().begin(), b.payload().end()),
                                           MustHash(b.payload_hash()), b});
  }
  commit.certificate = CommitCertificateFromQc(qc, set_, config_.chain_id);
  head_ = CommittedHead{target, target_height, qc.parent_round()};
  if (pending_commit_qc_ && pending_commit_qc_->height() - 1 <= head_.height) pending_commit_qc_.reset();
  Emit(std::move(commit));
  Prune();
}

// ---------------------------------------------------------------------------------------------
// Pacemaker

uint64_t Core::TimeoutDelay() const {
  const uint32_t exponent = std::min(consecutive_tc_rounds_, config_.max_backoff_exponent);
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
  if (!IsValidator() || set_.LeaderOf(current_round_) != *self_index_) return;
  if (highest_proposed_round_ >= current_round_ || payload_requested_round_ == current_round_) return;
  const bool justified =
      high_qc_.round() + 1 == current_round_ || (last_tc_ && last_tc_->round() + 1 == current_round_);
  if (!justified) return;
  payload_requested_round_ = current_round_;
  Emit(RequestPayload{epoch_, current_round_, high_qc_.height() + 1, MustHash(high_qc_.block_id())});
}

void Core::LocalTimeout() {
  GS_ASSERT(IsValidator());
  const uint64_t round = current_round_;
  highest_voted_round_ = std::max(highest_voted_round_, round);
  timed_out_round_ = round;
  Persist();
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  v1::Timeout* timeout = message.mutable_timeout();
  timeout->set_epoch(epoch_);
  timeout->set_round(round);
  *timeout->mutable_high_qc() = high_qc_;
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
  if (timeout.round() == 0 || !timeout.has_high_qc() || timeout.high_qc().round() >= timeout.round()) {
    return Reject("BAD_TIMEOUT", "timeout round or high QC out of range");
  }
  std::optional<Signature> signature = ledger::SignatureFromBytes(AsBytes(timeout.signature()));
  const Bytes bytes = TimeoutSignBytes(epoch_, timeout.round(), timeout.high_qc().round());
  if (!signature ||
      !verifier_.Verify(set_.key(timeout.sender()), kTimeoutDomain, config_.chain_id, bytes, *signature)) {
    return Reject("BAD_SIGNATURE", "timeout signature is invalid");
  }
  GS_RETURN_IF_ERROR(CheckQc(timeout.high_qc()));
  if (timeout.has_last_tc()) {
    if (timeout.last_tc().round() + 1 != timeout.round()) return Reject("BAD_TIMEOUT", "last TC is not of round - 1");
    GS_RETURN_IF_ERROR(VerifyTimeoutCert(timeout.last_tc(), epoch_, set_, config_.chain_id, verifier_));
  }
  ProcessQc(timeout.high_qc());
  if (timeout.has_last_tc()) ProcessTc(timeout.last_tc());
  const uint64_t round = timeout.round();
  if (round < current_round_) return Status::Ok();
  if (round > current_round_ + kMaxRoundsAhead) return Reject("STALE_ROUND", "timeout too far ahead");
  {
    RoundTimeouts& entry = timeouts_[round];
    if (entry.signers.contains(timeout.sender())) return Status::Ok();
    v1::TcSignature sig;
    sig.set_validator(timeout.sender());
    sig.set_high_qc_round(timeout.high_qc().round());
    sig.set_signature(timeout.signature());
    entry.signers.emplace(timeout.sender(), std::move(sig));
    entry.power += set_.power(timeout.sender());
    // A weak quorum timed out at a round not below ours: at least one honest validator is there.
    if (entry.power >= set_.weak_quorum_power() && IsValidator() && timed_out_round_ < round) {
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
  Emit(ExecuteBlock{record.id, record.parent_id, record.block.height(),
                    Bytes(record.block.payload().begin(), record.block.payload().end()),
                    MustHash(record.block.payload_hash())});
}

void Core::Prune() {
  std::erase_if(blocks_, [&](const auto& entry) {
    const BlockRecord& r = entry.second;
    return !r.committed && (r.block.height() <= head_.height || r.block.round() <= head_.round);
  });
  while (committed_by_height_.size() > config_.retained_committed_blocks) {
    blocks_.erase(committed_by_height_.begin()->second);
    committed_by_height_.erase(committed_by_height_.begin());
  }
  std::erase_if(certified_, [&](const auto& entry) { return entry.second <= head_.height; });
  std::erase_if(verified_qcs_, [&](const auto& entry) { return entry.second < head_.round; });
  if (waiting_proposal_ && waiting_proposal_->block().round() <= head_.round) waiting_proposal_.reset();
  if (fetch_ && (blocks_.contains(fetch_->target) || fetch_->target == head_.id)) fetch_.reset();
}

void Core::Fetch(const BlockId& id, const v1::QuorumCert* qc, std::optional<uint32_t> preferred_peer) {
  if (qc != nullptr) {
    certified_.emplace(MustHash(qc->block_id()), qc->height());
    if (QcCarriesCommit(*qc) || id != MustHash(qc->block_id())) certified_.emplace(id, qc->height() - 1);
  }
  if (fetch_ && fetch_->target == id) return;
  FetchState state;
  state.target = id;
  std::vector<bool> listed(set_.size(), false);
  auto add = [&](uint32_t index) {
    if (index < set_.size() && !listed[index] && index != self_index_) {
      listed[index] = true;
      state.peers.push_back(index);
    }
  };
  if (preferred_peer) add(*preferred_peer);
  if (qc != nullptr) {
    for (const v1::QcSignature& sig : qc->signatures()) add(sig.validator());
  }
  for (uint32_t i = 0; i < set_.size(); ++i) add(i);
  state.have_height = head_.height;
  fetch_ = std::move(state);
  if (fetch_->peers.empty()) return;
  v1::ConsensusMessage message;
  message.set_version(kVersion);
  message.mutable_block_request()->set_block_id(HashString(id));
  message.mutable_block_request()->set_above_height(fetch_->have_height);
  Send(fetch_->peers.front(), message);
}

Status Core::HandleBlockRequest(const PublicKey& from, const v1::FetchBlocksRequest& request) {
  std::optional<Hash> id = HashField(request.block_id());
  if (!id) return Reject("BAD_REQUEST", "block id must be 32 bytes");
  std::vector<const v1::ConsensusBlock*> chain;  // descending heights
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

Status Core::HandleBlockResponse(const v1::FetchBlocksResponse& response) {
  if (!fetch_) return Reject("UNSOLICITED", "no block request outstanding");
  const int count = response.blocks_size();
  if (count == 0 || static_cast<size_t>(count) > kMaxBlocksPerResponse) {
    return Reject("BAD_RESPONSE", "response must hold 1.." + std::to_string(kMaxBlocksPerResponse) + " blocks");
  }
  std::vector<BlockId> ids(count);
  for (int i = 0; i < count; ++i) {
    GS_RETURN_IF_ERROR(CheckBlockShape(response.blocks(i), &ids[i]));
    if (i > 0 && (MustHash(response.blocks(i).parent_id()) != ids[i - 1] ||
                  response.blocks(i).height() != response.blocks(i - 1).height() + 1)) {
      return Reject("BAD_RESPONSE", "blocks do not form a chain");
    }
  }
  // Every block but the last is certified by the next one's justify; the last must be known
  // certified. Every justify is verified: commits are built from them.
  for (int i = 0; i < count; ++i) GS_RETURN_IF_ERROR(CheckQc(response.blocks(i).justify()));
  const bool last_certified = certified_.contains(ids.back());
  const int usable = last_certified ? count : count - 1;
  if (usable == 0) return Reject("BAD_RESPONSE", "no certified block in the response");
  if (!blocks_.contains(ids[0]) && !ParentKnown(MustHash(response.blocks(0).parent_id()), response.blocks(0).height())) {
    fetch_->have_height = head_.height;
    return Reject("BAD_RESPONSE", "response does not connect to the block tree");
  }
  uint64_t inserted_height = fetch_->have_height;
  for (int i = 0; i < usable; ++i) {
    const v1::ConsensusBlock& block = response.blocks(i);
    if (block.height() <= head_.height) continue;
    if (!blocks_.contains(ids[i])) {
      if (!ParentKnown(MustHash(block.parent_id()), block.height())) break;
      Insert(block, ids[i]);
    }
    inserted_height = std::max(inserted_height, block.height());
    ProcessQc(block.justify());
  }
  if (fetch_ && !blocks_.contains(fetch_->target) && fetch_->target != head_.id) {
    fetch_->have_height = inserted_height;
    v1::ConsensusMessage message;
    message.set_version(kVersion);
    message.mutable_block_request()->set_block_id(HashString(fetch_->target));
    message.mutable_block_request()->set_above_height(fetch_->have_height);
    Send(fetch_->peers[fetch_->attempts % fetch_->peers.size()], message);
  } else {
    fetch_.reset();
  }
  RetryPendingWork();
  return Status::Ok();
}

void Core::RetryPendingWork() {
  if (pending_commit_qc_) {
    v1::QuorumCert qc = *pending_commit_qc_;
    TryCommit(qc);
  }
  if (waiting_proposal_) {
    const v1::ConsensusBlock& block = waiting_proposal_->block();
    if (ParentKnown(MustHash(block.parent_id()), block.height())) {
      v1::Proposal proposal = std::move(*waiting_proposal_);
      waiting_proposal_.reset();
      HandleProposal(proposal);
    } else if (!fetch_) {
      Fetch(MustHash(block.parent_id()), &block.justify(), block.proposer());
    }
  }
}

void Core::Send(uint32_t validator, const v1::ConsensusMessage& message) {
  Emit(SendMessage{set_.key(validator), Serialize(message)});
}

void Core::Broadcast(const v1::ConsensusMessage& message) { Emit(BroadcastMessage{Serialize(message)}); }

}  // namespace gongshe::consensus
