#pragma once
// Building signed transactions, one function per action: each takes the signer's key and the
// nonce to carry and returns the SignedTx bytes, ready to submit or to put in a block. For
// clients (the CLI), tests and benchmarks.
//
// The builder keeps no nonces (only its caller knows which of its transactions are still pending)
// and checks nothing the state machine checks: what it builds may be rejected, which is what tests
// of rejections want.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "gongshe/v1/tx.pb.h"
#include "ledger/crypto.h"
#include "ledger/hash.h"

namespace gongshe::ledger {

class TxBuilder {
 public:
  // `chain_id` must pass CheckChainId: one from outside (a node's status) is checked first.
  explicit TxBuilder(std::string chain_id);

  // What signing needs of a chain id: 1 .. kMaxChainIdSize bytes (BAD_CHAIN_ID otherwise).
  static Status CheckChainId(std::string_view chain_id);

  const std::string& chain_id() const { return chain_id_; }

  // A version-1 body for this chain carrying `nonce` and no action yet.
  v1::TxBody Body(uint64_t nonce) const;

  std::string Register(const KeyPair& registrar, uint64_t nonce, const PublicKey& key, v1::Role role) const;
  // A member in the constituency of `delegate` (ledger/amendments.h).
  std::string RegisterMember(const KeyPair& registrar, uint64_t nonce, const PublicKey& key,
                             const PublicKey& delegate) const;
  std::string Retire(const KeyPair& registrar, uint64_t nonce, const PublicKey& key) const;
  std::string Attend(const KeyPair& workplace, uint64_t nonce, const PublicKey& member, int64_t shift_start_s,
                     uint32_t minutes) const;
  std::string Issue(const KeyPair& issuer, uint64_t nonce, v1::VoucherClass voucher_class, const PublicKey& member,
                    int64_t amount_milli, std::string_view reason) const;
  // Signed by `member` and co-signed by `store`, the store the body names.
  std::string Redeem(const KeyPair& member, uint64_t nonce, const KeyPair& store, v1::VoucherClass voucher_class,
                     int64_t amount_milli, std::string_view category) const;
  // `file` (1 .. kMaxPlanDataBytes, ledger/plans.h) as plan data: one transaction per chunk, in
  // order, carrying nonces first_nonce, first_nonce + 1, ...
  std::vector<std::string> PlanData(const KeyPair& planner, uint64_t first_nonce, std::string_view file) const;
  std::string CommitPlan(const KeyPair& planner, uint64_t nonce, const v1::CommitPlan& action) const;
  // A law amendment (signed by a delegate) voted on until week `closes_week` closes; its id is
  // the SHA-256 of the returned bytes.
  std::string ProposeAmendment(const KeyPair& delegate, uint64_t nonce, std::string_view file, std::string_view source,
                               uint64_t closes_week) const;
  std::string Vote(const KeyPair& voter, uint64_t nonce, const Hash& proposal, v1::VoteChoice choice) const;

 private:
  std::string chain_id_;
};

// Credits as people write them -- "12.5", "3", "0.001" -- in milli-credits. Digits with at most
// three decimals, no sign, no exponent, at most kMaxCreditDigits digits before the point: anything
// else is BAD_AMOUNT. Zero parses; the state machine decides which amounts it accepts.
inline constexpr size_t kMaxCreditDigits = 15;
Result<int64_t> ParseCredits(std::string_view text);

// Milli-credits as credits with three decimals: 12500 -> "12.500", -1 -> "-0.001".
std::string FormatCredits(int64_t milli);

}  // namespace gongshe::ledger
