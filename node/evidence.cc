#include "node/evidence.h"

#include "consensus/certificate.h"
#include "ledger/evidence.h"

namespace gongshe::node {

Status VerifyEvidenceInEpoch(const v1::Evidence& evidence, uint64_t epoch, const consensus::ValidatorSet& set,
                             std::string_view chain_id, const consensus::Verifier& verifier) {
  if (evidence.epoch() != epoch) {
    return {"WRONG_EPOCH", "evidence of epoch " + std::to_string(evidence.epoch()) + ", not of epoch " +
                               std::to_string(epoch)};
  }
  std::optional<ledger::PublicKey> key = ledger::PublicKeyFromBytes(AsBytes(evidence.validator()));
  if (!key) return {"BAD_EVIDENCE", "malformed validator key"};
  if (!set.IndexOf(*key)) return {"NOT_A_VALIDATOR", "the accused key is not in the epoch's validator set"};
  return consensus::VerifyEvidence(evidence, chain_id, verifier);
}

Status VerifyBlockEvidence(const v1::Block& block, uint64_t epoch, const consensus::ValidatorSet& set,
                           std::string_view chain_id, const consensus::Verifier& verifier) {
  if (static_cast<size_t>(block.evidence_size()) > ledger::kMaxBlockEvidence) {
    return {"BAD_EVIDENCE", "more than " + std::to_string(ledger::kMaxBlockEvidence) + " evidence items"};
  }
  for (int i = 0; i < block.evidence_size(); ++i) {
    Result<v1::Evidence> evidence = ledger::ParseEvidence(block.evidence(i));
    Status status = evidence.ok() ? VerifyEvidenceInEpoch(*evidence, epoch, set, chain_id, verifier) : evidence.status();
    if (!status.ok()) return {status.code(), "evidence " + std::to_string(i) + ": " + status.message()};
  }
  return Status::Ok();
}

EvidencePool::AddResult EvidencePool::Add(std::string evidence, const ledger::KvReader& committed) {
  Result<v1::Evidence> parsed = ledger::ParseEvidence(evidence);
  if (!parsed.ok()) return AddResult::kMalformed;
  std::string key = ledger::EvidenceRecordKey(ledger::OffenceOf(*parsed));
  if (pending_.contains(key)) return AddResult::kPending;
  if (committed.Get(key).has_value()) return AddResult::kRecorded;
  if (pending_.size() >= max_items_) return AddResult::kFull;
  pending_.emplace(std::move(key), std::move(evidence));
  return AddResult::kAdded;
}

std::vector<std::string> EvidencePool::Select(const ledger::KvReader& state, size_t max_items) const {
  std::vector<std::string> selected;
  for (const auto& [key, evidence] : pending_) {
    if (selected.size() >= max_items) break;
    if (!state.Get(key).has_value()) selected.push_back(evidence);
  }
  return selected;
}

size_t EvidencePool::DropRecorded(const ledger::KvReader& committed) {
  return std::erase_if(pending_, [&](const auto& entry) { return committed.Get(entry.first).has_value(); });
}

std::string_view ToString(EvidencePool::AddResult result) {
  switch (result) {
    case EvidencePool::AddResult::kAdded: return "kept for a block";
    case EvidencePool::AddResult::kPending: return "already pending";
    case EvidencePool::AddResult::kRecorded: return "already recorded on the ledger";
    case EvidencePool::AddResult::kFull: return "dropped: the evidence pool is full";
    case EvidencePool::AddResult::kMalformed: return "dropped: malformed";
  }
  return "unknown";
}

}  // namespace gongshe::node
