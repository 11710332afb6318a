#pragma once
// The answer of GET /v1/evidence (node/API.md): the equivocation evidence the ledger recorded
// (ledger/evidence.h), read from one committed snapshot, in the order recorded. Kept apart from
// the HTTP plumbing (http_api.cc), which parses the query.

#include <cstddef>
#include <cstdint>

#include "gongshe/v1/api.pb.h"
#include "ledger/ledger.h"

namespace gongshe::node {

// At most this many items per answer; a client pages with `from`.
inline constexpr size_t kMaxEvidencePage = 100;

// Recorded evidence number `from` onwards, at most `limit` (1 .. kMaxEvidencePage) items.
v1::EvidenceListResponse EvidenceAnswer(const ledger::LedgerSnapshot& snapshot, uint64_t from, size_t limit);

}  // namespace gongshe::node
