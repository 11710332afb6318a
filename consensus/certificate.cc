#include "consensus/certificate.h"

#include <string>

#include "ledger/evidence.h"

namespace gongshe::consensus {
namespace {

std::optional<Hash> HashField(const std::string& field) { return ledger::HashFromBytes(AsBytes(field)); }

Status Bad(std::string_view code, std::string message) { return Status(std::string(code), std::move(message)); }

// Checks that signer indices are members, strictly increasing, at most set.size() of them, and
// returns their total power through `power`.
Status CheckSigners(const google::protobuf::RepeatedPtrField<v1::QcSignature>& sigs, const ValidatorSet& set,
                    uint64_t* power) {
  if (static_cast<size_t>(sigs.size()) > set.size()) return Bad("BAD_QC", "more signatures than validators");
  *power = 0;
  for (int i = 0; i < sigs.size(); ++i) {
    const uint32_t index = sigs[i].validator();
    if (index >= set.size()) return Bad("BAD_QC", "signer index " + std::to_string(index) + " is not a validator");
    if (i > 0 && index <= sigs[i - 1].validator()) return Bad("BAD_QC", "signer indices must strictly increase");
    *power += set.power(index);
  }
  return Status::Ok();
}

}  // namespace

std::optional<CommitTarget> QcCommitTarget(const v1::QuorumCert& qc) {
  if (!QcCarriesCommit(qc) || qc.height() < 2) return std::nullopt;
  if (qc.commit_block_id().empty()) {
    if (qc.commit_height() != 0 || qc.commit_round() != 0) return std::nullopt;
    std::optional<Hash> parent_id = HashField(qc.parent_id());
    if (!parent_id) return std::nullopt;
    return CommitTarget{*parent_id, qc.height() - 1, qc.parent_round()};
  }
  std::optional<Hash> id = HashField(qc.commit_block_id());
  // Strictly below the parent (the parent itself is never named explicitly), and not the root.
  if (!id || qc.commit_height() == 0 || qc.commit_height() >= qc.height() - 1 || qc.commit_round() == 0 ||
      qc.commit_round() >= qc.parent_round()) {
    return std::nullopt;
  }
  return CommitTarget{*id, qc.commit_height(), qc.commit_round()};
}

Status VerifyQuorumCert(const v1::QuorumCert& qc, uint64_t epoch, const ValidatorSet& set, std::string_view chain_id,
                        const Verifier& verifier) {
  if (qc.epoch() != epoch) return Bad("WRONG_EPOCH", "QC of epoch " + std::to_string(qc.epoch()));
  if (qc.round() == 0 || qc.height() == 0) return Bad("BAD_QC", "QC round and height must be positive");
  if (qc.parent_round() >= qc.round()) return Bad("BAD_QC", "QC parent round must be below its round");
  std::optional<Hash> block_id = HashField(qc.block_id());
  std::optional<Hash> parent_id = HashField(qc.parent_id());
  if (!block_id || !parent_id) return Bad("BAD_QC", "QC block ids must be 32 bytes");
  const bool carries_commit = QcCarriesCommit(qc);
  const bool names_target = !qc.commit_block_id().empty() || qc.commit_height() != 0 || qc.commit_round() != 0;
  std::optional<CommitTarget> target = QcCommitTarget(qc);
  if (names_target && !carries_commit) return Bad("BAD_QC", "QC names a commit target but carries no commit");
  if (carries_commit && !target) return Bad("BAD_QC", "QC commit target out of range");
  uint64_t power = 0;
  GS_RETURN_IF_ERROR(CheckSigners(qc.signatures(), set, &power));
  if (power < set.quorum_power()) return Bad("NO_QUORUM", "QC signers lack quorum power");
  const Bytes vote_bytes = VoteSignBytes(epoch, qc.round(), qc.height(), *block_id, *parent_id, qc.parent_round());
  const Bytes commit_bytes =
      carries_commit ? CommitSignBytes(target->height, target->round, target->id, set.hash()) : Bytes();
  for (const v1::QcSignature& sig : qc.signatures()) {
    std::optional<Signature> vote_sig = ledger::SignatureFromBytes(AsBytes(sig.vote_signature()));
    if (!vote_sig || !verifier.Verify(set.key(sig.validator()), kVoteDomain, chain_id, vote_bytes, *vote_sig)) {
      return Bad("BAD_SIGNATURE", "QC vote signature of validator " + std::to_string(sig.validator()) + " is invalid");
    }
    if (!carries_commit) {
      if (!sig.commit_signature().empty()) return Bad("BAD_QC", "QC carries a commit signature it must not have");
      continue;
    }
    std::optional<Signature> commit_sig = ledger::SignatureFromBytes(AsBytes(sig.commit_signature()));
    if (!commit_sig || !verifier.Verify(set.key(sig.validator()), kCommitDomain, chain_id, commit_bytes, *commit_sig)) {
      return Bad("BAD_SIGNATURE",
                 "QC commit signature of validator " + std::to_string(sig.validator()) + " is invalid");
    }
  }
  return Status::Ok();
}

Status VerifyTimeoutCert(const v1::TimeoutCert& tc, uint64_t epoch, const ValidatorSet& set, std::string_view chain_id,
                         const Verifier& verifier) {
  if (tc.epoch() != epoch) return Bad("WRONG_EPOCH", "TC of epoch " + std::to_string(tc.epoch()));
  if (tc.round() == 0) return Bad("BAD_TC", "TC round must be positive");
  if (static_cast<size_t>(tc.signatures_size()) > set.size()) return Bad("BAD_TC", "more signatures than validators");
  uint64_t power = 0;
  for (int i = 0; i < tc.signatures_size(); ++i) {
    const v1::TcSignature& sig = tc.signatures(i);
    if (sig.validator() >= set.size()) return Bad("BAD_TC", "signer index is not a validator");
    if (i > 0 && sig.validator() <= tc.signatures(i - 1).validator()) {
      return Bad("BAD_TC", "signer indices must strictly increase");
    }
    if (sig.high_qc_round() >= tc.round()) return Bad("BAD_TC", "high QC round must be below the TC round");
    power += set.power(sig.validator());
  }
  if (power < set.quorum_power()) return Bad("NO_QUORUM", "TC signers lack quorum power");
  for (const v1::TcSignature& sig : tc.signatures()) {
    std::optional<Signature> s = ledger::SignatureFromBytes(AsBytes(sig.signature()));
    const Bytes bytes = TimeoutSignBytes(epoch, tc.round(), sig.high_qc_round());
    if (!s || !verifier.Verify(set.key(sig.validator()), kTimeoutDomain, chain_id, bytes, *s)) {
      return Bad("BAD_SIGNATURE", "TC signature of validator " + std::to_string(sig.validator()) + " is invalid");
    }
  }
  return Status::Ok();
}

uint64_t MaxHighQcRound(const v1::TimeoutCert& tc) {
  GS_ASSERT(tc.signatures_size() > 0);
  uint64_t max_round = 0;
  for (const v1::TcSignature& sig : tc.signatures()) max_round = std::max(max_round, sig.high_qc_round());
  return max_round;
}

v1::CommitCertificate CommitCertificateFromQc(const v1::QuorumCert& qc, const ValidatorSet& set,
                                              std::string_view chain_id) {
  std::optional<CommitTarget> target = QcCommitTarget(qc);
  GS_ASSERT(target.has_value());
  v1::CommitCertificate cert;
  cert.set_version(kVersion);
  cert.set_chain_id(std::string(chain_id));
  cert.set_height(target->height);
  cert.set_round(target->round);
  cert.set_block_hash(std::string(target->id.begin(), target->id.end()));
  cert.set_validator_set_hash(std::string(set.hash().begin(), set.hash().end()));
  for (const v1::QcSignature& sig : qc.signatures()) {
    v1::CommitSignature* out = cert.add_signatures();
    const PublicKey& key = set.key(sig.validator());
    out->set_validator(std::string(key.begin(), key.end()));
    out->set_signature(sig.commit_signature());
  }
  return cert;
}

Status VerifyCommitCertificate(const v1::CommitCertificate& cert, const v1::ValidatorSet& validator_set,
                               std::string_view chain_id) {
  Result<ValidatorSet> set = ValidatorSet::FromProto(validator_set);
  if (!set.ok()) return set.status();
  return VerifyCommitCertificate(cert, *set, chain_id, Ed25519Verifier());
}

Status VerifyCommitCertificate(const v1::CommitCertificate& cert, const ValidatorSet& set, std::string_view chain_id,
                               const Verifier& verifier) {
  if (cert.version() != kVersion) return Bad("BAD_CERTIFICATE", "unsupported certificate version");
  if (cert.chain_id() != chain_id) return Bad("WRONG_CHAIN", "certificate is for chain '" + cert.chain_id() + "'");
  if (chain_id.size() > ledger::kMaxChainIdSize) return Bad("WRONG_CHAIN", "chain id too long");
  if (cert.height() == 0 || cert.round() == 0) return Bad("BAD_CERTIFICATE", "height and round must be positive");
  std::optional<Hash> block_hash = HashField(cert.block_hash());
  if (!block_hash) return Bad("BAD_CERTIFICATE", "block hash must be 32 bytes");
  if (cert.validator_set_hash() != std::string(set.hash().begin(), set.hash().end())) {
    return Bad("WRONG_VALIDATOR_SET", "certificate names another validator set");
  }
  if (static_cast<size_t>(cert.signatures_size()) > set.size()) {
    return Bad("BAD_CERTIFICATE", "more signatures than validators");
  }
  std::vector<bool> seen(set.size(), false);
  uint64_t power = 0;
  const Bytes bytes = CommitSignBytes(cert.height(), cert.round(), *block_hash, set.hash());
  for (const v1::CommitSignature& sig : cert.signatures()) {
    std::optional<PublicKey> key = ledger::PublicKeyFromBytes(AsBytes(sig.validator()));
    std::optional<uint32_t> index = key ? set.IndexOf(*key) : std::nullopt;
    if (!index) return Bad("UNKNOWN_SIGNER", "certificate signer is not in the validator set");
    if (seen[*index]) return Bad("DUPLICATE_SIGNER", "certificate names validator " + std::to_string(*index) + " twice");
    seen[*index] = true;
    std::optional<Signature> s = ledger::SignatureFromBytes(AsBytes(sig.signature()));
    if (!s || !verifier.Verify(*key, kCommitDomain, chain_id, bytes, *s)) {
      return Bad("BAD_SIGNATURE", "commit signature of validator " + std::to_string(*index) + " is invalid");
    }
    power += set.power(*index);
  }
  if (power < set.quorum_power()) return Bad("NO_QUORUM", "certificate signers lack quorum power");
  return Status::Ok();
}

namespace {

// The signature of one statement of evidence that passed ledger::CheckEvidenceShape.
Status CheckStatement(const v1::SignedStatement& s, const v1::Evidence& evidence, const PublicKey& key,
                      std::string_view chain_id, const Verifier& verifier) {
  const Hash block_id = HashField(s.block_id()).value();
  const Signature signature = ledger::SignatureFromBytes(AsBytes(s.signature())).value();
  if (evidence.kind() == v1::Evidence::KIND_DOUBLE_PROPOSAL) {
    const Bytes bytes = ProposalSignBytes(evidence.epoch(), s.round(), block_id);
    if (!verifier.Verify(key, kProposalDomain, chain_id, bytes, signature)) {
      return Bad("BAD_SIGNATURE", "proposal signature of the evidence is invalid");
    }
    return Status::Ok();
  }
  const Hash parent_id = HashField(s.parent_id()).value();
  const Bytes bytes = VoteSignBytes(evidence.epoch(), s.round(), s.height(), block_id, parent_id, s.parent_round());
  if (!verifier.Verify(key, kVoteDomain, chain_id, bytes, signature)) {
    return Bad("BAD_SIGNATURE", "vote signature of the evidence is invalid");
  }
  return Status::Ok();
}

}  // namespace

Status VerifyEvidence(const v1::Evidence& evidence, std::string_view chain_id) {
  return VerifyEvidence(evidence, chain_id, Ed25519Verifier());
}

Status VerifyEvidence(const v1::Evidence& evidence, std::string_view chain_id, const Verifier& verifier) {
  GS_RETURN_IF_ERROR(ledger::CheckEvidenceShape(evidence));
  if (chain_id.size() > ledger::kMaxChainIdSize) return Bad("WRONG_CHAIN", "chain id too long");
  const PublicKey key = ledger::PublicKeyFromBytes(AsBytes(evidence.validator())).value();
  GS_RETURN_IF_ERROR(CheckStatement(evidence.first(), evidence, key, chain_id, verifier));
  return CheckStatement(evidence.second(), evidence, key, chain_id, verifier);
}

}  // namespace gongshe::consensus
