#pragma once
// Law amendments by proposal and vote (ledger/README.md, "Amendments"): the bounds, and the rules
// shared by the state machine (which checks proposals and enacts adopted ones) and by clients
// (which check a module before they propose it), so both say the same thing about a module.
//
// The process. An active delegate proposes a law module (tx ProposeAmendment) to be voted on
// until a week closes. Delegates vote in the open for their constituents; a member may vote
// itself, which replaces its delegate's vote for that member only (tx CastVote). When the week
// closes, the laws in force run on proposal_tallied with the tally; the module is adopted only if
// some law records `adopted = true` and none rejects, and it then runs from the next block on.
// Only law amendments exist: parameter changes, validator-set changes, recalls, plan adoption and
// pilot communes (DESIGN.md) are not transactions yet.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "contracts/law.h"
#include "gongshe/v1/state.pb.h"

namespace gongshe::ledger {

// A proposal closes at most this many weeks after the week it is made in.
inline constexpr uint64_t kMaxVotingWeeks = 8;
// Proposals closing in one week: every one of them is tallied in the block that closes it.
inline constexpr size_t kMaxProposalsPerWeek = 16;

// How a proposal names the module it would enact, to the laws on proposal_tallied and to people:
// "overtime_pay v3", as law runs cite laws.
std::string AmendmentTitle(std::string_view law, int64_t law_version);

// Loads a proposed module as the ledger does: `file` is 1..kMaxLawFileBytes bytes (BAD_FIELD),
// the source parses and type-checks (AMENDMENT_INVALID, with the loader's code and
// file:line:col; a version below 1 does not parse) and it passes its own tests
// (AMENDMENT_TESTS_FAIL, naming the first that fails).
Result<std::shared_ptr<const contracts::Law>> LoadAmendment(std::string_view file, std::string_view source);

// Whether `law` at `law_version` would amend `set`: the law is in force at a lower version, or it
// is a new law and fewer than kMaxLaws are in force. The version it replaces (0 for a new law),
// or AMENDMENT_VERSION / LAW_SET_FULL saying why not.
Result<int64_t> CheckAmends(const v1::LawSet& set, std::string_view law, int64_t law_version);

// `set` with `law` in force: replacing the law of that name, or inserted in name order.
v1::LawSet WithLaw(const v1::LawSet& set, const v1::ActiveLaw& law);

}  // namespace gongshe::ledger
