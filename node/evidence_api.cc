#include "node/evidence_api.h"

#include "ledger/evidence.h"
#include "ledger/state.h"

namespace gongshe::node {

v1::EvidenceListResponse EvidenceAnswer(const ledger::LedgerSnapshot& snapshot, uint64_t from, size_t limit) {
  GS_ASSERT(limit >= 1 && limit <= kMaxEvidencePage);
  const v1::ChainState chain = ledger::StateView(snapshot.state()).ChainState();
  v1::EvidenceListResponse response;
  response.set_height(chain.height());
  response.set_total(chain.evidence_count());
  for (v1::EvidenceRecord& record : ledger::ListRecordedEvidence(snapshot.state(), from, limit)) {
    // Recorded only after ParseEvidence accepted it: anything else means a corrupt store.
    Result<v1::Evidence> evidence = ledger::ParseEvidence(record.evidence());
    GS_ASSERT(evidence.ok());
    v1::EvidenceView* view = response.add_evidence();
    view->set_sequence(record.sequence());
    view->set_validator(ToHex(AsBytes(evidence->validator())));
    view->set_epoch(evidence->epoch());
    view->set_round(evidence->first().round());
    view->set_kind(evidence->kind());
    view->set_height(record.height());
    *view->mutable_evidence() = *std::move(evidence);
    view->set_evidence_bytes(std::move(*record.mutable_evidence()));
  }
  return response;
}

}  // namespace gongshe::node
