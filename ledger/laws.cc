#include "ledger/laws.h"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include "contracts/standard_laws.h"
#include "ledger/state.h"

namespace gongshe::ledger {
namespace {

constexpr std::string_view kLawSetDomain = "gongshe/law-set/v1";

Status BadGenesis(std::string message) { return {"BAD_GENESIS", std::move(message)}; }

void AppendBigEndian32(Bytes& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

Status CheckLawParams(const v1::LawParams& params) {
  if (params.fuel_per_run() < 1 || params.fuel_per_run() > kMaxFuelPerRun) {
    return BadGenesis("law_params.fuel_per_run must be between 1 and " + std::to_string(kMaxFuelPerRun));
  }
  if (params.labour_rate_milli_per_hour() < 0 || params.labour_rate_milli_per_hour() > kMaxLabourRateMilli) {
    return BadGenesis("law_params.labour_rate_milli_per_hour must be between 0 and " +
                      std::to_string(kMaxLabourRateMilli));
  }
  return Status::Ok();
}

// Loads the law set stored in `state`: every law in force, checked against its stored hash.
std::shared_ptr<const LawBook> LoadLawBook(const KvReader& state, const Hash& law_set_hash) {
  const StateView records(state);
  const v1::LawSet set = records.LawSet();
  GS_ASSERT(LawSetHash(set) == law_set_hash);
  std::vector<std::shared_ptr<const contracts::Law>> laws;
  for (const v1::ActiveLaw& active : set.laws()) {
    std::optional<v1::LawRecord> record = records.Law(active.name(), active.law_version());
    // The law set names only stored laws, each of which loaded when it was enacted.
    GS_ASSERT(record.has_value());
    GS_ASSERT(std::string(AsChars(Sha256(AsBytes(record->source())))) == active.source_hash());
    Result<std::shared_ptr<const contracts::Law>> law = contracts::Law::Load(record->file(), record->source());
    GS_ASSERT(law.ok());
    laws.push_back(*std::move(law));
  }
  return std::make_shared<const LawBook>(law_set_hash, set.params(), std::move(laws));
}

}  // namespace

Hash LawSetHash(const v1::LawSet& set) {
  Bytes bytes(kLawSetDomain.begin(), kLawSetDomain.end());
  AppendBigEndian64(bytes, set.params().fuel_per_run());
  AppendBigEndian64(bytes, static_cast<uint64_t>(set.params().labour_rate_milli_per_hour()));
  GS_ASSERT(static_cast<size_t>(set.laws_size()) <= kMaxLaws);
  AppendBigEndian32(bytes, static_cast<uint32_t>(set.laws_size()));
  for (const v1::ActiveLaw& law : set.laws()) {
    GS_ASSERT(!law.name().empty() && law.name().size() <= 255 && law.source_hash().size() == 32);
    bytes.push_back(static_cast<uint8_t>(law.name().size()));
    bytes.insert(bytes.end(), law.name().begin(), law.name().end());
    AppendBigEndian64(bytes, static_cast<uint64_t>(law.law_version()));
    bytes.insert(bytes.end(), law.source_hash().begin(), law.source_hash().end());
  }
  return Sha256(bytes);
}

LawBook::LawBook(Hash hash, v1::LawParams params, std::vector<std::shared_ptr<const contracts::Law>> laws)
    : hash_(hash), params_(std::move(params)), laws_(std::move(laws)) {
  for (const std::shared_ptr<const contracts::Law>& law : laws_) {
    for (size_t hook = 0; hook < contracts::kHookCount; ++hook) {
      const bool has_rule = std::any_of(law->module().rules.begin(), law->module().rules.end(),
                                        [&](const contracts::Rule& r) { return static_cast<size_t>(r.hook) == hook; });
      if (has_rule) on_hook_[hook].push_back(law.get());
    }
  }
}

std::shared_ptr<const LawBook> LawBookOf(const KvReader& state, const Hash& law_set_hash) {
  static std::mutex mutex;
  static std::map<Hash, std::shared_ptr<const LawBook>> books;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = books.find(law_set_hash);
    if (it != books.end()) return it->second;
  }
  // Loading parses and checks every law: done outside the lock. Two threads may load the same
  // set at once; both get equal books.
  std::shared_ptr<const LawBook> book = LoadLawBook(state, law_set_hash);
  std::lock_guard<std::mutex> lock(mutex);
  if (books.size() >= kMaxCachedLawBooks) books.clear();
  return books.emplace(law_set_hash, std::move(book)).first->second;
}

Result<std::vector<GenesisLawLoaded>> LoadGenesisLaws(const v1::Genesis& genesis) {
  if (static_cast<size_t>(genesis.laws_size()) > kMaxLaws) {
    return BadGenesis("genesis has " + std::to_string(genesis.laws_size()) + " laws; at most " +
                      std::to_string(kMaxLaws));
  }
  GS_RETURN_IF_ERROR(CheckLawParams(genesis.law_params()));
  std::vector<GenesisLawLoaded> loaded;
  std::set<std::string> names;
  for (int i = 0; i < genesis.laws_size(); ++i) {
    const v1::GenesisLaw& entry = genesis.laws(i);
    const std::string where = "laws[" + std::to_string(i) + "]";
    if (entry.file().empty() || entry.file().size() > kMaxLawFileBytes) {
      return BadGenesis(where + ".file must be 1-" + std::to_string(kMaxLawFileBytes) + " bytes");
    }
    Result<std::shared_ptr<const contracts::Law>> law = contracts::Law::Load(entry.file(), entry.source());
    if (!law.ok()) return BadGenesis(where + ": " + law.status().message());
    if (!names.insert((*law)->name()).second) {
      return BadGenesis(where + ": law '" + (*law)->name() + "' appears twice");
    }
    if ((*law)->version() < 1) return BadGenesis(where + ": law '" + (*law)->name() + "' must have a version of 1 or more");
    for (const contracts::TestResult& test : (*law)->RunTests()) {
      if (!test.passed) {
        return BadGenesis(where + ": law '" + (*law)->name() + "' fails its own test \"" + test.name + "\" (" +
                          entry.file() + ":" + std::to_string(test.pos.line) + "): " + test.detail);
      }
    }
    loaded.push_back({i, *std::move(law)});
  }
  std::sort(loaded.begin(), loaded.end(),
            [](const GenesisLawLoaded& a, const GenesisLawLoaded& b) { return a.law->name() < b.law->name(); });
  return loaded;
}

void AddStandardLaws(v1::Genesis& genesis) {
  genesis.clear_laws();
  for (const contracts::StandardLaw& standard : contracts::StandardLaws()) {
    v1::GenesisLaw* law = genesis.add_laws();
    law->set_file(std::string(standard.file));
    law->set_source(std::string(standard.source));
  }
  genesis.mutable_law_params()->set_fuel_per_run(kStandardFuelPerRun);
  genesis.mutable_law_params()->set_labour_rate_milli_per_hour(kStandardLabourRateMilli);
}

}  // namespace gongshe::ledger
