#pragma once
// Admission pre-checks: the rules of the state machine that a node can check against the
// committed state before a transaction is in a block, so that its mempool holds only
// transactions that could apply. Passing them is no promise: in its block a transaction may
// still be rejected (its vouchers spent first, a field out of range, its signer retired in
// between, ...). Failing them means the block would reject it too, with the same code, except
// for the nonce (see CheckAdmission).
//
// The sender rules (which role may send which action, and which action may carry a
// co-signature) and the signer's account check live here, once: the state machine applies the
// same functions, so admission and execution cannot drift apart.

#include <cstdint>

#include "common/status.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/kv.h"
#include "ledger/transaction.h"

namespace gongshe::ledger {

// `account` is the signer's account in the state, or null when there is none.
// UNKNOWN_SIGNER when it does not exist, RETIRED_SIGNER when it is retired.
Status CheckActiveSigner(const PublicKey& signer, const v1::Account* account);

// Whether the account `signer` may send `tx`'s action:
//   UNEXPECTED_COSIGNATURE  a co-signature on anything but a redemption
//   UNAUTHORIZED            the action needs another role: register and retire need a commune
//                           registrar, attendance a workplace, issuing an issuer, redeeming a
//                           member, plan data and plan commits a planner, proposing an amendment
//                           a delegate, voting a delegate or a member
//   UNKNOWN_ACTION          no action (DecodeTx refuses those already)
Status CheckSenderMayAct(const DecodedTx& tx, const v1::Account& signer);

// Checks `tx` (decoded for this chain, signatures verified) against the committed state: the
// signer is an active account (CheckActiveSigner), may send this action (CheckSenderMayAct), and
// its nonce lies in [next, next + max_nonce_ahead), where next is the signer's next nonce in
// `committed_state`. Below that window: NONCE_TOO_LOW (the nonce was used); at or beyond it:
// NONCE_TOO_HIGH. Unlike a block, which takes only the next nonce (NONCE_REPLAYED / NONCE_GAP),
// admission accepts a nonce ahead of it, to wait in the mempool for its predecessors.
// Reads only the signer's account. Requires max_nonce_ahead > 0.
Status CheckAdmission(const DecodedTx& tx, const KvReader& committed_state, uint64_t max_nonce_ahead);

}  // namespace gongshe::ledger
