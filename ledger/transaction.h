#pragma once
// Decoding and signing of transactions. Decoding checks everything that needs no state: sizes,
// versions, field lengths, chain id, that exactly one known action is present, and no unknown
// fields. Signatures are checked separately (VerifyTxSignatures), so a node can check them in
// parallel, off the thread that applies blocks.

#include <optional>
#include <string_view>

#include "common/status.h"
#include "gongshe/v1/tx.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace gongshe::ledger {

inline constexpr size_t kMaxTxBytes = 16 * 1024;
inline constexpr size_t kMaxReasonBytes = 256;

struct DecodedTx {
  Hash id;  // SHA-256 of the transaction bytes as received (set by DecodeTx; block execution sets
            // it only for proposals, the one action that reads it)
  v1::SignedTx envelope;
  v1::TxBody body;
  PublicKey signer{};
  Signature signature{};
  std::optional<PublicKey> cosigner;
  Signature cosignature{};
};

// Result codes of decoding (see state_machine.h for the rest).
Result<DecodedTx> DecodeTx(ByteView bytes, std::string_view chain_id);

// The same decoding into `tx`, whose fields are all overwritten except `id`, which is left as it
// is: a caller decoding many transactions reuses one DecodedTx and its buffers, and block
// execution needs no id. On failure `tx` holds nothing meaningful.
Status DecodeTxInto(ByteView bytes, std::string_view chain_id, DecodedTx& tx);

// True when the signature, and the co-signature if any, verify for `chain_id`.
bool VerifyTxSignatures(const DecodedTx& tx, std::string_view chain_id);

// Serialises `body` and signs it; `cosigner` co-signs when given (redemptions). For clients, tests
// and benchmarks.
std::string SignTx(const v1::TxBody& body, const KeyPair& signer, const KeyPair* cosigner = nullptr);

}  // namespace gongshe::ledger
