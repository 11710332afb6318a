#include "ledger/transaction.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace gongshe::ledger {
namespace {

// True when `message` or any message inside it carries fields this version does not know: such
// bytes might mean something to a newer writer, so they are refused rather than half-understood.
bool HasUnknownFields(const google::protobuf::Message& message) {
  const google::protobuf::Reflection* reflection = message.GetReflection();
  if (!reflection->GetUnknownFields(message).empty()) return true;
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(message, field); ++i) {
        if (HasUnknownFields(reflection->GetRepeatedMessage(message, field, i))) return true;
      }
    } else if (HasUnknownFields(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

Status Malformed(std::string message) { return {"MALFORMED", std::move(message)}; }

}  // namespace

Result<DecodedTx> DecodeTx(ByteView bytes, std::string_view chain_id) {
  if (bytes.size() > kMaxTxBytes) {
    return Status{"TX_TOO_LARGE", "transaction is " + std::to_string(bytes.size()) +
                                      " bytes; the limit is " + std::to_string(kMaxTxBytes)};
  }
  DecodedTx tx;
  tx.id = Sha256(bytes);
  if (!tx.envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Malformed("transaction bytes are not a SignedTx");
  }
  if (HasUnknownFields(tx.envelope)) return Malformed("SignedTx has fields this version does not know");
  if (tx.envelope.version() == 0) return Malformed("SignedTx has no version (empty or not a transaction)");
  if (tx.envelope.version() != 1) {
    return Status{"UNSUPPORTED_VERSION", "SignedTx version " + std::to_string(tx.envelope.version()) +
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
  }
  if (!tx.body.ParseFromString(tx.envelope.body())) return Malformed("body is not a TxBody");
  if (HasUnknownFields(tx.body)) {
    return Status{"UNKNOWN_ACTION", "body has fields this version does not know (there is no such action)"};
  }
  if (tx.body.version() != 1) {
    return Status{"UNSUPPORTED_VERSION", "TxBody version " + std::to_string(tx.body.version()) +
                                             " is not supported (expected 1)"};
  }
  if (tx.body.chain_id() != chain_id) {
    return Status{"WRONG_CHAIN", "transaction is for chain '" + tx.body.chain_id().substr(0, 64) +
                                     "', this is '" + std::string(chain_id) + "'"};
  }
  if (tx.body.action_case() == v1::TxBody::ACTION_NOT_SET) {
    return Status{"UNKNOWN_ACTION", "transaction carries no action"};
  }
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
