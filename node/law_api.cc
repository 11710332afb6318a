#include "node/law_api.h"

#include "ledger/block_executor.h"
#include "ledger/laws.h"
#include "ledger/state.h"

namespace gongshe::node {
namespace {

v1::LawView ViewOf(const v1::LawRecord& record, const v1::ActiveLaw* active) {
  v1::LawView view;
  view.set_name(record.name());
  view.set_version(record.law_version());
  view.set_file(record.file());
  view.set_source_hash(ToHex(AsBytes(record.source_hash())));
  view.set_enacted_height(record.enacted_height());
  view.set_in_force(active != nullptr);
  if (active) view.set_effective_height(active->effective_height());
  view.set_previous_version(record.previous_version());
  return view;
}

const v1::ActiveLaw* InForce(const v1::LawSet& set, std::string_view name) {
  for (const v1::ActiveLaw& law : set.laws()) {
    if (law.name() == name) return &law;
  }
  return nullptr;
}

}  // namespace

v1::LawsResponse LawsAnswer(const ledger::LedgerSnapshot& snapshot) {
  const ledger::StateView state(snapshot.state());
  const v1::LawSet set = state.LawSet();
  v1::LawsResponse response;
  response.set_height(snapshot.height());
  response.set_law_set_hash(ToHex(ledger::LawSetHash(set)));
  response.set_fuel_per_run(set.params().fuel_per_run());
  response.set_labour_rate_milli_per_hour(set.params().labour_rate_milli_per_hour());
  for (const v1::ActiveLaw& active : set.laws()) {
    std::optional<v1::LawRecord> record = state.Law(active.name(), active.law_version());
    GS_ASSERT(record.has_value());  // the law set names stored laws only
    *response.add_laws() = ViewOf(*record, &active);
  }
  return response;
}

Result<v1::LawResponse> LawAnswer(const ledger::LedgerSnapshot& snapshot, std::string_view name,
                                  std::optional<int64_t> version) {
  const ledger::StateView state(snapshot.state());
  const v1::LawSet set = state.LawSet();
  const v1::ActiveLaw* active = InForce(set, name);
  if (!version && !active) return Status("NOT_FOUND", "no law named '" + std::string(name) + "' is in force");
  const int64_t wanted = version ? *version : active->law_version();
  std::optional<v1::LawRecord> record = state.Law(name, wanted);
  if (!record) {
    return Status("NOT_FOUND", "law '" + std::string(name) + "' has no version " + std::to_string(wanted) +
                                   " on the ledger" +
                                   (active ? " (version " + std::to_string(active->law_version()) + " is in force)" : ""));
  }
  v1::LawResponse response;
  response.set_height(snapshot.height());
  const bool in_force = active && active->law_version() == wanted;
  *response.mutable_law() = ViewOf(*record, in_force ? active : nullptr);
  response.mutable_law()->set_source(record->source());
  return response;
}

Result<v1::ExplanationResponse> ExplanationAnswer(const ledger::LedgerSnapshot& snapshot,
                                                  const ledger::PublicKey& member, std::string_view hook,
                                                  uint64_t period) {
  const std::string what = std::string(hook == "week_closed" ? "week " : "epoch ") + std::to_string(period);
  std::optional<std::string> indexed = snapshot.state().Get(ledger::ClosingIndexKey(hook, member, period));
  if (!indexed) {
    return Status("NOT_FOUND", "no law acted on " + ToHex(member) + " when " + what +
                                   " closed (or it has not closed yet)");
  }
  GS_ASSERT(indexed->size() == 8);
  const uint64_t height = ReadBigEndian64(AsBytes(*indexed));
  std::optional<v1::BlockResults> results = snapshot.ResultsAt(height);
  GS_ASSERT(results.has_value());  // the index is written with the block's results
  const std::string member_bytes(AsChars(member));
  for (const v1::ClosingRun& closing : results->closings()) {
    if (closing.hook() != hook || closing.member() != member_bytes || closing.period() != period) continue;
    v1::ExplanationResponse response;
    response.set_member(ToHex(member));
    response.set_hook(closing.hook());
    response.set_period(period);
    response.set_height(height);
    *response.mutable_law_runs() = closing.law_runs();
    return response;
  }
  GS_ASSERT(false && "the closing index names a block without that closing");
  return Status("NOT_FOUND", what);
}

}  // namespace gongshe::node
