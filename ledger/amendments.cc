#include "ledger/amendments.h"

#include <algorithm>

#include "ledger/laws.h"

namespace gongshe::ledger {

std::string AmendmentTitle(std::string_view law, int64_t law_version) {
  return std::string(law) + " v" + std::to_string(law_version);
}

Result<std::shared_ptr<const contracts::Law>> LoadAmendment(std::string_view file, std::string_view source) {
  if (file.empty() || file.size() > kMaxLawFileBytes) {
    return Status{"BAD_FIELD", "file must be 1 to " + std::to_string(kMaxLawFileBytes) + " bytes"};
  }
  Result<std::shared_ptr<const contracts::Law>> law = contracts::Law::Load(std::string(file), source);
  if (!law.ok()) {
    return Status{"AMENDMENT_INVALID", "the proposed module does not load: " + law.status().code() + ": " +
                                           law.status().message()};
  }
  for (const contracts::TestResult& test : (*law)->RunTests()) {
    if (test.passed) continue;
    return Status{"AMENDMENT_TESTS_FAIL", (*law)->title() + " fails its own test \"" + test.name + "\" (" +
                                              std::string(file) + ":" + std::to_string(test.pos.line) +
                                              "): " + test.detail};
  }
  return law;
}

Result<int64_t> CheckAmends(const v1::LawSet& set, std::string_view law, int64_t law_version) {
  for (const v1::ActiveLaw& active : set.laws()) {
    if (active.name() != law) continue;
    if (law_version <= active.law_version()) {
      return Status{"AMENDMENT_VERSION", std::string(law) + " is in force at version " +
                                             std::to_string(active.law_version()) + "; an amendment must have a "
                                             "higher version, not " + std::to_string(law_version)};
    }
    return active.law_version();
  }
  if (static_cast<size_t>(set.laws_size()) >= kMaxLaws) {
    return Status{"LAW_SET_FULL", std::to_string(kMaxLaws) + " laws are in force, the most there may be; " +
                                      std::string(law) + " would be another"};
  }
  return int64_t{0};
}

v1::LawSet WithLaw(const v1::LawSet& set, const v1::ActiveLaw& law) {
  v1::LawSet out = set;
  auto* laws = out.mutable_laws();
  auto it = std::lower_bound(laws->begin(), laws->end(), law.name(),
                             [](const v1::ActiveLaw& a, const std::string& name) { return a.name() < name; });
  if (it != laws->end() && it->name() == law.name()) {
    *it = law;
    return out;
  }
  const int position = static_cast<int>(it - laws->begin());
  *laws->Add() = law;
  for (int i = laws->size() - 1; i > position; --i) laws->SwapElements(i, i - 1);
  return out;
}

}  // namespace gongshe::ledger
