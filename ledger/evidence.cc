#include "ledger/evidence.h"

#include <set>

#include "ledger/merkle.h"

namespace gongshe::ledger {
namespace {

constexpr char kRecordTag = 'x';
constexpr char kIndexTag = 'g';
constexpr size_t kHashBytes = 32;
constexpr size_t kSignatureBytes = 64;

Status BadEvidence(std::string message) { return {"BAD_EVIDENCE", std::move(message)}; }

bool HasOwnUnknownFields(const google::protobuf::Message& message) {
  return !message.GetReflection()->GetUnknownFields(message).empty();
}

Status CheckStatement(const v1::SignedStatement& statement, v1::Evidence::Kind kind, const char* which) {
  const std::string prefix = std::string(which) + " statement: ";
  if (HasOwnUnknownFields(statement)) return BadEvidence(prefix + "has fields this version does not know");
  if (statement.block_id().size() != kHashBytes) return BadEvidence(prefix + "block id must be 32 bytes");
  if (statement.signature().size() != kSignatureBytes) return BadEvidence(prefix + "signature must be 64 bytes");
  if (kind == v1::Evidence::KIND_DOUBLE_VOTE && statement.parent_id().size() != kHashBytes) {
    return BadEvidence(prefix + "a vote's parent id must be 32 bytes");
  }
  return Status::Ok();
}

}  // namespace

Result<v1::Evidence> ParseEvidence(std::string_view bytes) {
  if (bytes.size() > kMaxEvidenceBytes) {
    return BadEvidence("evidence is larger than " + std::to_string(kMaxEvidenceBytes) + " bytes");
  }
  v1::Evidence evidence;
  if (!evidence.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return BadEvidence("bytes are not a gongshe.v1.Evidence");
  }
  GS_RETURN_IF_ERROR(CheckEvidenceShape(evidence));
  return evidence;
}

Status CheckEvidenceShape(const v1::Evidence& evidence) {
  if (HasOwnUnknownFields(evidence)) return BadEvidence("evidence has fields this version does not know");
  if (evidence.version() != kEvidenceVersion) return BadEvidence("unsupported evidence version");
  const v1::Evidence::Kind kind = evidence.kind();
  if (kind != v1::Evidence::KIND_DOUBLE_PROPOSAL && kind != v1::Evidence::KIND_DOUBLE_VOTE) {
    return BadEvidence("unknown evidence kind");
  }
  if (evidence.validator().size() != sizeof(PublicKey)) return BadEvidence("validator key must be 32 bytes");
  if (!evidence.has_first() || !evidence.has_second()) return BadEvidence("evidence needs two statements");
  GS_RETURN_IF_ERROR(CheckStatement(evidence.first(), kind, "first"));
  GS_RETURN_IF_ERROR(CheckStatement(evidence.second(), kind, "second"));
  if (evidence.first().round() == 0 || evidence.first().round() != evidence.second().round()) {
    return BadEvidence("statements must be for one round, above 0");
  }
  if (evidence.first().block_id() == evidence.second().block_id()) {
    return BadEvidence("statements name the same block");
  }
  return Status::Ok();
}

Offence OffenceOf(const v1::Evidence& evidence) {
  std::optional<PublicKey> key = PublicKeyFromBytes(AsBytes(evidence.validator()));
  GS_ASSERT(key.has_value());
  return Offence{*key, evidence.epoch(), evidence.first().round(), evidence.kind()};
}

std::string EvidenceRecordKey(const Offence& offence) {
  Bytes rest{static_cast<uint8_t>(kRecordTag)};
  rest.insert(rest.end(), offence.validator.begin(), offence.validator.end());
  AppendBigEndian64(rest, offence.epoch);
  AppendBigEndian64(rest, offence.round);
  rest.push_back(static_cast<uint8_t>(offence.kind));
  return SpaceKey(KeySpace::kStateValue, rest);
}

std::string EvidenceIndexKey(uint64_t sequence) {
  Bytes rest{static_cast<uint8_t>(kIndexTag)};
  AppendBigEndian64(rest, sequence);
  return SpaceKey(KeySpace::kStateValue, rest);
}

Hash EvidenceRoot(const google::protobuf::RepeatedPtrField<std::string>& evidence) {
  std::vector<Hash> leaves;
  leaves.reserve(static_cast<size_t>(evidence.size()));
  for (const std::string& item : evidence) leaves.push_back(LeafHash(AsBytes(item)));
  return MerkleRoot(leaves);
}

std::string EvidenceRootField(const google::protobuf::RepeatedPtrField<std::string>& evidence) {
  if (evidence.empty()) return {};
  return std::string(AsChars(EvidenceRoot(evidence)));
}

Result<std::vector<Offence>> CheckBlockEvidence(const v1::Block& block, const KvReader& state) {
  if (static_cast<size_t>(block.evidence_size()) > kMaxBlockEvidence) {
    return BadEvidence("more than " + std::to_string(kMaxBlockEvidence) + " evidence items in one block");
  }
  std::vector<Offence> offences;
  std::set<std::string> keys;
  for (int i = 0; i < block.evidence_size(); ++i) {
    Result<v1::Evidence> evidence = ParseEvidence(block.evidence(i));
    if (!evidence.ok()) {
      return Status(evidence.status().code(), "evidence " + std::to_string(i) + ": " + evidence.status().message());
    }
    const Offence offence = OffenceOf(*evidence);
    std::string key = EvidenceRecordKey(offence);
    if (state.Get(key).has_value()) {
      return Status("DUPLICATE_EVIDENCE", "evidence " + std::to_string(i) + ": the offence is recorded already");
    }
    if (!keys.insert(std::move(key)).second) {
      return Status("DUPLICATE_EVIDENCE", "evidence " + std::to_string(i) + ": the block names the offence twice");
    }
    offences.push_back(offence);
  }
  return offences;
}

uint64_t RecordBlockEvidence(const v1::Block& block, const std::vector<Offence>& offences, uint64_t height,
                             uint64_t first_sequence, KvWriter& out) {
  GS_ASSERT(offences.size() == static_cast<size_t>(block.evidence_size()));
  uint64_t sequence = first_sequence;
  for (size_t i = 0; i < offences.size(); ++i, ++sequence) {
    const std::string key = EvidenceRecordKey(offences[i]);
    v1::EvidenceRecord record;
    record.set_version(kEvidenceVersion);
    record.set_height(height);
    record.set_sequence(sequence);
    record.set_evidence(block.evidence(static_cast<int>(i)));
    v1::EvidenceIndex index;
    index.set_version(kEvidenceVersion);
    index.set_record_key(key);
    out.Put(key, record.SerializeAsString());
    out.Put(EvidenceIndexKey(sequence), index.SerializeAsString());
  }
  return sequence;
}

std::optional<v1::EvidenceRecord> RecordedEvidence(const KvReader& state, const Offence& offence) {
  std::optional<std::string> bytes = state.Get(EvidenceRecordKey(offence));
  if (!bytes) return std::nullopt;
  v1::EvidenceRecord record;
  GS_ASSERT(record.ParseFromString(*bytes));  // written by RecordBlockEvidence: corrupt otherwise
  return record;
}

std::vector<v1::EvidenceRecord> ListRecordedEvidence(const KvReader& state, uint64_t from, size_t limit) {
  std::vector<v1::EvidenceRecord> records;
  for (uint64_t sequence = from; records.size() < limit; ++sequence) {
    std::optional<std::string> index_bytes = state.Get(EvidenceIndexKey(sequence));
    if (!index_bytes) break;  // sequences are dense: this is the end
    v1::EvidenceIndex index;
    GS_ASSERT(index.ParseFromString(*index_bytes));
    std::optional<std::string> record_bytes = state.Get(index.record_key());
    GS_ASSERT(record_bytes.has_value());
    v1::EvidenceRecord record;
    GS_ASSERT(record.ParseFromString(*record_bytes));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace gongshe::ledger
