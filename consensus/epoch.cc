#include "consensus/epoch.h"

#include <algorithm>
#include <string>

#include "consensus/certificate.h"

namespace gongshe::consensus {
namespace {

Status Bad(std::string_view code, std::string message) { return Status(std::string(code), std::move(message)); }

}  // namespace

Status VerifyEpochChange(const EpochChange& change, std::string_view chain_id, const Verifier& verifier) {
  if (change.epoch.epoch == 0) return Bad("BAD_EPOCH", "an epoch change starts epoch 1 or later");
  Result<ValidatorSet> next = ValidatorSet::FromProto(change.epoch.validators);
  if (!next.ok()) return next.status();
  Result<ValidatorSet> previous = ValidatorSet::FromProto(change.previous_validators);
  if (!previous.ok()) return previous.status();
  Status qc = VerifyQuorumCert(change.root_qc, change.epoch.epoch - 1, *previous, chain_id, verifier);
  if (!qc.ok()) return Bad("BAD_EPOCH", "root QC: " + qc.ToString());
  std::optional<CommitTarget> target = QcCommitTarget(change.root_qc);
  if (!target || target->id != change.epoch.root_id || target->height != change.epoch.root_height) {
    return Bad("BAD_EPOCH", "root QC does not certify the epoch root");
  }
  return Status::Ok();
}

v1::EpochChangeRecord EpochChangeToRecord(const EpochChange& change) {
  v1::EpochChangeRecord record;
  record.set_version(kVersion);
  record.set_epoch(change.epoch.epoch);
  *record.mutable_validators() = change.epoch.validators;
  record.set_root_id(std::string(change.epoch.root_id.begin(), change.epoch.root_id.end()));
  record.set_root_height(change.epoch.root_height);
  *record.mutable_previous_validators() = change.previous_validators;
  *record.mutable_root_qc() = change.root_qc;
  return record;
}

Result<EpochChange> EpochChangeFromRecord(const v1::EpochChangeRecord& record, std::string_view chain_id,
                                          const Verifier& verifier) {
  if (record.version() != kVersion) return Bad("BAD_EPOCH", "unsupported epoch record version");
  std::optional<Hash> root_id = ledger::HashFromBytes(AsBytes(record.root_id()));
  if (!root_id) return Bad("BAD_EPOCH", "root id must be 32 bytes");
  EpochChange change;
  change.epoch.epoch = record.epoch();
  change.epoch.validators = record.validators();
  change.epoch.root_id = *root_id;
  change.epoch.root_height = record.root_height();
  change.previous_validators = record.previous_validators();
  change.root_qc = record.root_qc();
  GS_RETURN_IF_ERROR(VerifyEpochChange(change, chain_id, verifier));
  return change;
}

Result<ValidatorSetHistory> ValidatorSetHistory::Create(uint64_t genesis_epoch, const v1::ValidatorSet& genesis_set) {
  Result<ValidatorSet> set = ValidatorSet::FromProto(genesis_set);
  if (!set.ok()) return set.status();
  return ValidatorSetHistory(genesis_epoch, std::move(set).value());
}

Status ValidatorSetHistory::AddChange(uint64_t height, const v1::ValidatorSet& next) {
  if (height == 0) return Bad("BAD_HISTORY", "the genesis block carries no change");
  if (!change_heights_.empty() && height <= change_heights_.back()) {
    return Bad("BAD_HISTORY", "change at height " + std::to_string(height) + " is not above the last one at " +
                                  std::to_string(change_heights_.back()));
  }
  Result<ValidatorSet> set = ValidatorSet::FromProto(next);
  if (!set.ok()) return set.status();
  change_heights_.push_back(height);
  sets_.push_back(std::move(set).value());
  return Status::Ok();
}

size_t ValidatorSetHistory::Index(uint64_t height) const {
  // Changes strictly below `height` are in force at it: the block carrying a change is still
  // certified by the set before it.
  return static_cast<size_t>(std::lower_bound(change_heights_.begin(), change_heights_.end(), height) -
                             change_heights_.begin());
}

Status VerifyCommitCertificateAt(const v1::CommitCertificate& cert, const ValidatorSetHistory& history,
                                 std::string_view chain_id, const Verifier& verifier) {
  return VerifyCommitCertificate(cert, history.SetAt(cert.height()), chain_id, verifier);
}

v1::ValidatorSet ConsensusSetProto(const v1::ValidatorSet& set) {
  v1::ValidatorSet out = set;
  for (v1::Validator& v : *out.mutable_validators()) v.clear_commune();
  return out;
}

}  // namespace gongshe::consensus
