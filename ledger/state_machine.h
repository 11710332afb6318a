#pragma once
// The state machine: applies one decoded, signature-checked transaction to the state, and runs
// the laws at their hooks. The constitution lives here: roles, nonces, no transfer, no negative
// balance, and conservation of vouchers (per class and expiry epoch: issued = redeemed + expired +
// outstanding). Everything else -- pay, overtime, expiry lifetimes, which classes buy which
// categories, allotments, caps -- is decided by the laws in force (ledger/laws.h), which read the
// state through a narrow read-only host and act only by returning effects that the ledger applies
// under the constitution.
//
// Hooks and their order (contracts/host.h lists the arguments):
//   - attendance_recorded: for each Attendance, after the ledger's own checks, before the minutes
//     are added. rate = LawParams.labour_rate_milli_per_hour, day = the shift's start date.
//   - issuance_requested: for each lot about to be issued, by an issuer (IssueVouchers) or by a
//     law's issue effect, so that caps bind law-issued pay too. Its laws must record the lot's
//     `expires` (an epoch in (current, current + kMaxLifetimeEpochs]); the ledger uses it as the
//     lot's expiry. Laws may not issue from this hook (that would recurse).
//   - redemption_requested: for each RedeemVouchers, after the field and store checks, before the
//     balance is touched.
//   - week_closed / epoch_closed: in the first block whose time passes the boundary (RunClosings),
//     before its transactions, once per member: week_closed for each member who recorded
//     attendance in the week (in the order they first did), epoch_closed for every member on the
//     member list (in registration order) who is still active. At most kMaxClosingsPerBlock
//     member closings run per block; the rest continue, in order, in the next blocks.
//   - proposal_tallied: in the same first block past a week, after the member closings it runs
//     and before its transactions, once for each proposal closing in the week (ledger/amendments.h):
//     proposal = "law vN", the tally, electorate = the active members. Adopted only when some
//     law records `adopted = true` and none refuses (rejects, fails, records adopted = false or a
//     non-boolean, or issues); an adopted module is in force from the next block.
// plan_cap(epoch) reads the cap of the plan committed for that epoch (CommitPlan), as the step
// sees the state; every redemption adds to its category's tally of the epoch (the planner's
// demand).
// On one hook, every law with rules on it runs (in name order) against the state before any of
// them acts; then their effects are applied in that order.
//
// Law failures. In a transaction's hook, a law that fails to run (LAW_OUT_OF_FUEL, LAW_OVERFLOW,
// LAW_DIVISION_BY_ZERO, LAW_NO_PLAN, LAW_HOST, LAW_BAD_EFFECT, LAW_TOO_MANY_EFFECTS), rejects
// (LAW_REJECTED, with the law's reason) or returns an effect the constitution refuses
// (LAW_BAD_EFFECT: an issue to a key that is not an active member, an amount outside 1 ..
// kMaxAmountMilli or that overflows a total, an issue from issuance_requested, a bad `expires`)
// fails the transaction: nothing it did is kept. In a closing, the same skips that one law's
// effects for that member, and the failure is recorded in the block results (ClosingRun) with its
// code. LAW_NO_EXPIRY: no law recorded an expiry for a lot.
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
//   INSUFFICIENT_BALANCE             not enough unexpired vouchers of the class
//   ATTENDANCE_LIMIT, SHIFT_IN_FUTURE, WEEK_CLOSED
//   OVERFLOW                         a total would leave the representable range
//   LAW_REJECTED, LAW_NO_EXPIRY and the LAW_* codes above
//   Plans (ledger/plans.h; planner/README.md, "Plans on the ledger"):
//   PLAN_DATA_TOO_LARGE, PLAN_DATA_COMPLETE, PLAN_DATA_MISMATCH   a PlanData chunk refused
//   PLAN_EPOCH, DEMAND_WINDOW, PLAN_EXISTS, PLAN_DATA_MISSING      a CommitPlan's epochs or inputs
//   PLAN_BAD_INPUT, PLAN_TOO_LARGE, DEMAND_TOO_LARGE, DEMAND_MISMATCH
//   PLAN_MALFORMED, PLAN_INPUT_MISMATCH, PLAN_NEGATIVE, ... (planner/certificate.h): the
//                                    certificate's exact check failed
//   Amendments (ledger/amendments.h; ledger/README.md, "Amendments"):
//   BAD_DELEGATE                     a member's delegate is not an active delegate of the commune
//   AMENDMENT_INVALID, AMENDMENT_TESTS_FAIL   the proposed module does not load, or fails a test
//   AMENDMENT_VERSION, LAW_SET_FULL  it would not amend the laws in force
//   AMENDMENT_PENDING                another proposal for that law is open
//   VOTING_PERIOD, TOO_MANY_PROPOSALS   closes_week out of range, or that week is full
//   UNKNOWN_PROPOSAL, PROPOSAL_CLOSED, ALREADY_VOTED   a vote refused
//
// Explanations: every law run that had effects or failed is kept -- in the transaction's result
// (TxResult.law_runs) or in the block's closings (ClosingRun) -- with its effects, each citing
// law, version and section; a run that issued or rejected keeps its trace too (which rules fired
// with which values), at most kMaxStoredTraceLines lines.

#include <memory>

#include "common/status.h"
#include "gongshe/v1/state.pb.h"
#include "ledger/kv.h"
#include "ledger/laws.h"
#include "ledger/transaction.h"

namespace gongshe::ledger {

inline constexpr int64_t kMaxAmountMilli = 1'000'000'000'000;  // one lot: 10^9 credits
inline constexpr uint32_t kMaxShiftMinutes = 24 * 60;
inline constexpr uint64_t kMaxWeekMinutes = 7 * 24 * 60;
// Lots expire at most this many epochs after they are issued; keeps epoch expiry bounded.
inline constexpr uint64_t kMaxLifetimeEpochs = 1000;
// Member closings (one member's week_closed or epoch_closed, every law) per block.
inline constexpr uint64_t kMaxClosingsPerBlock = 1000;
// Closings waiting at once; one due while as many wait is skipped and recorded as
// CLOSING_BACKLOG (only a calendar whose weeks pass faster than blocks can fill it).
inline constexpr size_t kMaxPendingClosings = 64;
// Epochs of per-member issuance the ledger keeps for issued_to: the current one and the three
// before. A law asking further back gets LAW_HOST.
inline constexpr uint64_t kIssuedWindowEpochs = 4;
inline constexpr size_t kMaxStoredTraceLines = 64;
inline constexpr int64_t kDayMs = 24 * 3600 * 1000LL;

// What a transaction may know of the block it is in. Time inside the ledger is the block's
// certified timestamp; weeks and epochs count from genesis.
struct BlockContext {
  uint64_t height = 0;
  int64_t time_ms = 0;
  uint64_t week = 0;
  uint64_t epoch = 0;
  int64_t genesis_time_ms = 0;
  int64_t week_ms = 0;
  int64_t today = 0;  // days since 1970-01-01 at time_ms: picks each law parameter's dated value
  const LawBook* laws = nullptr;
};

using LawRuns = google::protobuf::RepeatedPtrField<v1::LawRun>;
using ClosingRuns = google::protobuf::RepeatedPtrField<v1::ClosingRun>;

// Applies the closings and transactions of one block, in order, to the state read from `reader`.
// Each record is read and parsed at most once per block and kept parsed; Flush serialises each
// changed record once. The writes Flush makes are exactly the last write each record would get if
// every step wrote its records straight to the store: the same keys, bytes and deletions.
// Nothing but Flush may change `reader` while the applier lives.
class TxApplier {
 public:
  TxApplier(const BlockContext& context, const KvReader& reader);
  ~TxApplier();
  TxApplier(const TxApplier&) = delete;
  TxApplier& operator=(const TxApplier&) = delete;

  // Starts the closings of the week and epoch that ended before this block, if any, and runs due
  // closings, at most kMaxClosingsPerBlock members. Appends each member's closing that had law
  // runs to `closings`. Once, before the first Apply.
  void RunClosings(ClosingRuns& closings);

  // Applies `tx` (decoded for this chain, its signatures already verified; `tx.id` set when it
  // proposes an amendment, whose id it is -- no other action reads it). On failure every
  // change it made is rolled back, and the Status says why. The law runs of its hooks are
  // appended to `law_runs`, whether it succeeds or not. Not after Flush.
  Status Apply(const DecodedTx& tx, LawRuns& law_runs);

  // Writes every record the closings and transactions changed to `writer`. Once, after the last
  // Apply.
  void Flush(KvWriter& writer);

  // The block's parsed records, and the laws run over them (defined in state_machine.cc).
  class Records;
  class LawEngine;

 private:
  // One member's closing: entry `closing.next()` of the closing's list.
  void CloseMember(const v1::Closing& closing, ClosingRuns& closings);
  // Tallies the proposals closing in weeks [from_week, to_week], week by week, each week's in the
  // order proposed (ledger/amendments.h).
  void TallyProposals(uint64_t from_week, uint64_t to_week);
  void TallyProposal(const Hash& id);
  // Puts an adopted proposal's module in force from the next block; `replaces` is the version
  // in force (0: a new law).
  void Enact(const v1::ProposalRecord& proposal, int64_t replaces);

  const BlockContext& context_;
  std::unique_ptr<Records> records_;
  std::unique_ptr<LawEngine> laws_;
  bool closings_run_ = false;
  bool flushed_ = false;
};

// Runs the expiry of every cohort whose expiry epoch is in (from_epoch, to_epoch]: O(classes) per
// epoch, independent of the number of accounts. Member balances keep their expired lots until
// they are next touched; reads ignore them.
void ExpireCohorts(uint64_t from_epoch, uint64_t to_epoch, const KvReader& reader, KvWriter& writer);

// A category name: 1..64 characters of [a-z0-9_-] (as the law language's #category).
bool IsValidCategory(std::string_view category);

}  // namespace gongshe::ledger
