#pragma once
// The answers of the node API's law endpoints (node/API.md), read from one committed snapshot:
// the laws in force, one stored version of a law with its text, and the explanation of a member's
// closed week or epoch. Kept apart from the HTTP plumbing (http_api.cc), which only parses the
// request and maps the codes: NOT_FOUND to 404, BAD_* to 400.

#include <cstdint>
#include <optional>
#include <string_view>

#include "common/status.h"
#include "gongshe/v1/api.pb.h"
#include "ledger/crypto.h"
#include "ledger/ledger.h"

namespace gongshe::node {

// The laws in force, by name, without their texts.
v1::LawsResponse LawsAnswer(const ledger::LedgerSnapshot& snapshot);

// Version `version` of law `name` with its text (the version in force when none is given).
// NOT_FOUND when the law or that version was never enacted.
Result<v1::LawResponse> LawAnswer(const ledger::LedgerSnapshot& snapshot, std::string_view name,
                                  std::optional<int64_t> version);

// The law runs of `member`'s closing of week `period` (`hook` week_closed) or epoch `period`
// (epoch_closed). NOT_FOUND when no law acted or failed in it, or it has not closed yet.
Result<v1::ExplanationResponse> ExplanationAnswer(const ledger::LedgerSnapshot& snapshot,
                                                  const ledger::PublicKey& member, std::string_view hook,
                                                  uint64_t period);

}  // namespace gongshe::node
