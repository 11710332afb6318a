#pragma once
// The state machine: applies one decoded, signature-checked transaction to the state. The
// constitution lives here: roles, nonces, no transfer, no negative balance, and conservation of
// vouchers (per class and expiry epoch: issued = redeemed + expired + outstanding).
//
// Result codes (stable, in TxResult.code), besides those of DecodeTx (TX_TOO_LARGE, MALFORMED,
// UNSUPPORTED_VERSION, WRONG_CHAIN, UNKNOWN_ACTION) and BAD_SIGNATURE:
//   UNKNOWN_SIGNER, RETIRED_SIGNER   the signer is not an active account
//   NONCE_REPLAYED, NONCE_GAP        nonce is not the signer's next one
//   UNAUTHORIZED                     the signer's role may not do this
//   BAD_FIELD                        a field is out of its range or malformed
//   ACCOUNT_EXISTS, UNKNOWN_ACCOUNT, ALREADY_RETIRED
//   BAD_RECIPIENT                    vouchers and attendance only go to active members
//   BAD_STORE, MISSING_COSIGNATURE, UNEXPECTED_COSIGNATURE
//   CATEGORY_NOT_ALLOWED             the class may not buy this category
//   INSUFFICIENT_BALANCE             not enough unexpired vouchers of the class
//   ATTENDANCE_LIMIT, SHIFT_IN_FUTURE, WEEK_CLOSED
//   OVERFLOW                         a total would leave the representable range

#include <memory>

#include "common/status.h"
#include "ledger/kv.h"
#include "ledger/transaction.h"
#include "ledger/voucher_rules.h"

namespace gongshe::ledger {

inline constexpr int64_t kMaxAmountMilli = 1'000'000'000'000;  // one lot: 10^9 credits
inline constexpr uint32_t kMaxShiftMinutes = 24 * 60;
inline constexpr uint64_t kMaxWeekMinutes = 7 * 24 * 60;

// What a transaction may know of the block it is in. Time inside the ledger is the block's
// certified timestamp; weeks and epochs count from genesis.
struct BlockContext {
  uint64_t height = 0;
  int64_t time_ms = 0;
  uint64_t week = 0;
  uint64_t epoch = 0;
  int64_t genesis_time_ms = 0;
  int64_t week_ms = 0;
  const VoucherRules* rules = nullptr;
};

// Applies the transactions of one block, in order, to the state read from `reader`. Each record is
// read and parsed at most once per block and kept parsed; Flush serialises each changed record
// once. The writes Flush makes are exactly the last write each record would get if every
// transaction wrote its records straight to the store: the same keys, bytes and deletions.
// Nothing but Flush may change `reader` while the applier lives.
class TxApplier {
 public:
  TxApplier(const BlockContext& context, const KvReader& reader);
  ~TxApplier();
  TxApplier(const TxApplier&) = delete;
  TxApplier& operator=(const TxApplier&) = delete;

  // Applies `tx` (decoded for this chain, its signatures already verified). On failure every
  // change it made is rolled back, and the Status says why. Not after Flush.
  Status Apply(const DecodedTx& tx);

  // Writes every record the applied transactions changed to `writer`. Once, after the last Apply.
  void Flush(KvWriter& writer);

  // The block's parsed records (defined in state_machine.cc).
  class Records;

 private:
  const BlockContext& context_;
  std::unique_ptr<Records> records_;
  bool flushed_ = false;
};

// Runs the expiry of every cohort whose expiry epoch is in (from_epoch, to_epoch]: O(classes) per
// epoch, independent of the number of accounts. Member balances keep their expired lots until
// they are next touched; reads ignore them.
void ExpireCohorts(uint64_t from_epoch, uint64_t to_epoch, const KvReader& reader, KvWriter& writer);

}  // namespace gongshe::ledger
