#include "ledger/transaction.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

namespace gongshe::ledger {
namespace {

// Messages with fields this version does not know might mean something to a newer writer, so they
// are refused rather than half-understood. A transaction nests at most one level deep: SignedTx
// holds no message, TxBody holds messages only in its `action` oneof, and no action holds a
// message. So unknown fields can only sit in the envelope, the body or the body's one action, and
// checking those three is exact, without walking the messages by reflection. The shape is checked
// once against the descriptors, so that a schema change nesting deeper cannot slip past.
bool HoldsNoMessage(const google::protobuf::Descriptor& descriptor) {
  for (int i = 0; i < descriptor.field_count(); ++i) {
    if (descriptor.field(i)->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) return false;
  }
  return true;
}

bool TxNestsOneLevel() {
  if (!HoldsNoMessage(*v1::SignedTx::descriptor())) return false;
  const google::protobuf::Descriptor& body = *v1::TxBody::descriptor();
  for (int i = 0; i < body.field_count(); ++i) {
    const google::protobuf::FieldDescriptor& field = *body.field(i);
    if (field.cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field.containing_oneof() == nullptr || field.containing_oneof()->name() != "action") return false;
    if (!HoldsNoMessage(*field.message_type())) return false;
  }
  return true;
}

// Unknown fields of `message` itself, not of messages inside it (proto3 classes have no accessor).
bool HasOwnUnknownFields(const google::protobuf::Message& message) {
  return !message.GetReflection()->GetUnknownFields(message).empty();
}

bool EnvelopeHasUnknownFields(const v1::SignedTx& envelope) {
  static const bool kOneLevel = TxNestsOneLevel();
  GS_ASSERT(kOneLevel);
  return HasOwnUnknownFields(envelope);
}

bool BodyHasUnknownFields(const v1::TxBody& body) {
  if (HasOwnUnknownFields(body)) return true;
  switch (body.action_case()) {
    case v1::TxBody::kRegisterAccount: return HasOwnUnknownFields(body.register_account());
    case v1::TxBody::kRetireAccount: return HasOwnUnknownFields(body.retire_account());
    case v1::TxBody::kAttendance: return HasOwnUnknownFields(body.attendance());
    case v1::TxBody::kIssueVouchers: return HasOwnUnknownFields(body.issue_vouchers());
    case v1::TxBody::kRedeemVouchers: return HasOwnUnknownFields(body.redeem_vouchers());
    case v1::TxBody::kPlanData: return HasOwnUnknownFields(body.plan_data());
    case v1::TxBody::kCommitPlan: return HasOwnUnknownFields(body.commit_plan());
    case v1::TxBody::kProposeAmendment: return HasOwnUnknownFields(body.propose_amendment());
    case v1::TxBody::kCastVote: return HasOwnUnknownFields(body.cast_vote());
    case v1::TxBody::ACTION_NOT_SET: return false;
  }
  return false;
}

Status Malformed(std::string message) { return {"MALFORMED", std::move(message)}; }

}  // namespace

Status DecodeTxInto(ByteView bytes, std::string_view chain_id, DecodedTx& tx) {
  if (bytes.size() > kMaxTxBytes) {
    return {"TX_TOO_LARGE", "transaction is " + std::to_string(bytes.size()) +
                             " bytes; the limit is " + std::to_string(kMaxTxBytes)};
  }
  if (!tx.envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Malformed("transaction bytes are not a SignedTx");
  }
  if (EnvelopeHasUnknownFields(tx.envelope)) return Malformed("SignedTx has fields this version does not know");
  if (tx.envelope.version() == 0) return Malformed("SignedTx has no version (empty or not a transaction)");
  if (tx.envelope.version() != 1) {
    return {"UNSUPPORTED_VERSION", "SignedTx version " + std::to_string(tx.envelope.version()) +
                                    " is not supported (expected 1)"};
  }
  std::optional<PublicKey> signer = PublicKeyFromBytes(AsBytes(tx.envelope.signer()));
  std::optional<Signature> signature = SignatureFromBytes(AsBytes(tx.envelope.signature()));
  if (!signer || !signature) return Malformed("signer must be 32 bytes and signature 64 bytes");
  tx.signer = *signer;
  tx.signature = *signature;
  if (!tx.envelope.cosigner().empty() || !tx.envelope.cosignature().empty()) {
    std::optional<PublicKey> cosigner = PublicKeyFromBytes(AsBytes(tx.envelope.cosigner()));
    std::optional<Signature> cosignature = SignatureFromBytes(AsBytes(tx.envelope.cosignature()));
    if (!cosigner || !cosignature) return Malformed("cosigner must be 32 bytes and cosignature 64 bytes");
    tx.cosigner = *cosigner;
    tx.cosignature = *cosignature;
  } else {
    tx.cosigner.reset();
    tx.cosignature = {};
  }
  if (!tx.body.ParseFromString(tx.envelope.body())) return Malformed("body is not a TxBody");
  if (BodyHasUnknownFields(tx.body)) {
    return {"UNKNOWN_ACTION", "body has fields this version does not know (there is no such action)"};
  }
  if (tx.body.version() != 1) {
    return {"UNSUPPORTED_VERSION", "TxBody version " + std::to_string(tx.body.version()) +
                                    " is not supported (expected 1)"};
  }
  if (tx.body.chain_id() != chain_id) {
    return {"WRONG_CHAIN", "transaction is for chain '" + tx.body.chain_id().substr(0, 64) +
                            "', this is '" + std::string(chain_id) + "'"};
  }
  if (tx.body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return {"UNKNOWN_ACTION", "transaction carries no action"};
  }
  return Status::Ok();
}

Result<DecodedTx> DecodeTx(ByteView bytes, std::string_view chain_id) {
  DecodedTx tx;
  GS_RETURN_IF_ERROR(DecodeTxInto(bytes, chain_id, tx));
  tx.id = Sha256(bytes);
  return tx;
}

bool VerifyTxSignatures(const DecodedTx& tx, std::string_view chain_id) {
  ByteView body = AsBytes(tx.envelope.body());
  if (!Verify(tx.signer, kTxDomain, chain_id, body, tx.signature)) return false;
  return !tx.cosigner || Verify(*tx.cosigner, kTxCosignDomain, chain_id, body, tx.cosignature);
}

std::string SignTx(const v1::TxBody& body, const KeyPair& signer, const KeyPair* cosigner) {
  v1::SignedTx tx;
  tx.set_version(1);
  GS_ASSERT(body.SerializeToString(tx.mutable_body()));
  ByteView body_bytes = AsBytes(tx.body());
  Signature signature = signer.Sign(kTxDomain, body.chain_id(), body_bytes);
  tx.set_signer(std::string(AsChars(signer.public_key())));
  tx.set_signature(std::string(AsChars(signature)));
  if (cosigner != nullptr) {
    Signature cosignature = cosigner->Sign(kTxCosignDomain, body.chain_id(), body_bytes);
    tx.set_cosigner(std::string(AsChars(cosigner->public_key())));
    tx.set_cosignature(std::string(AsChars(cosignature)));
  }
  std::string bytes;
  GS_ASSERT(tx.SerializeToString(&bytes));
  return bytes;
}

}  // namespace gongshe::ledger
