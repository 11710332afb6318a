#include "ledger/genesis.h"

#include <google/protobuf/util/json_util.h>

#include <set>

#include "ledger/block_executor.h"
#include "ledger/crypto.h"
#include "ledger/history_tree.h"
#include "ledger/state.h"
#include "ledger/laws.h"

namespace gongshe::ledger {
namespace {

Status BadGenesis(std::string message) { return {"BAD_GENESIS", std::move(message)}; }

bool IsValidChainId(std::string_view id) {
  if (id.empty() || id.size() > kMaxChainIdSize) return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

Status CheckCommunes(const v1::Genesis& genesis) {
  if (genesis.communes().empty()) return BadGenesis("genesis needs at least one commune");
  if (static_cast<size_t>(genesis.communes_size()) > kMaxCommunes) return BadGenesis("too many communes");
  std::set<std::string> names, keys;
  for (const v1::Commune& commune : genesis.communes()) {
    if (commune.name().empty() || commune.name().size() > 64) {
      return BadGenesis("commune names must be 1-64 bytes");
    }
    if (!names.insert(commune.name()).second) return BadGenesis("commune '" + commune.name() + "' appears twice");
    for (const std::string* key : {&commune.registrar(), &commune.issuer(), &commune.validator()}) {
      if (key->size() != 32) return BadGenesis("commune '" + commune.name() + "': keys must be 32 bytes");
      if (!keys.insert(*key).second) return BadGenesis("commune '" + commune.name() + "' reuses a key");
    }
  }
  return Status::Ok();
}

v1::Account GenesisAccount(const std::string& key, v1::Role role, const std::string& commune) {
  v1::Account account;
  account.set_version(1);
  account.set_public_key(key);
  account.set_role(role);
  account.set_commune(commune);
  return account;
}

// Every genesis law as a LawRecord enacted at height 0, and the law set that puts them in force
// from block 1.
void WriteGenesisLaws(const v1::Genesis& genesis, State& state) {
  Result<std::vector<GenesisLawLoaded>> loaded = LoadGenesisLaws(genesis);
  GS_ASSERT(loaded.ok());
  v1::LawSet set;
  set.set_version(1);
  *set.mutable_params() = genesis.law_params();
  for (const GenesisLawLoaded& entry : *loaded) {
    const v1::GenesisLaw& source = genesis.laws(entry.index);
    v1::LawRecord record;
    record.set_version(1);
    record.set_name(entry.law->name());
    record.set_law_version(entry.law->version());
    record.set_file(source.file());
    record.set_source(source.source());
    record.set_source_hash(std::string(AsChars(Sha256(AsBytes(source.source())))));
    state.PutLaw(record);
    v1::ActiveLaw* active = set.add_laws();
    active->set_name(record.name());
    active->set_law_version(record.law_version());
    active->set_source_hash(record.source_hash());
    active->set_effective_height(1);
  }
  state.PutLawSet(set);
}

}  // namespace

Status CheckGenesis(const v1::Genesis& genesis) {
  if (genesis.version() != 1) return BadGenesis("version must be 1");
  if (!IsValidChainId(genesis.chain_id())) {
    return BadGenesis("chain_id must be 1-64 characters of a-z, 0-9, '-', '_' and '.'");
  }
  if (genesis.genesis_time_ms() < 0) return BadGenesis("genesis_time_ms must not be negative");
  if (genesis.week_ms() <= 0 || genesis.epoch_ms() <= 0) return BadGenesis("week_ms and epoch_ms must be positive");
  GS_RETURN_IF_ERROR(CheckCommunes(genesis));
  return LoadGenesisLaws(genesis).status();
}

Result<GenesisDoc> ParseGenesis(std::string_view json) {
  if (json.size() > kMaxGenesisBytes) return BadGenesis("genesis file is larger than 1 MiB");
  GenesisDoc doc;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(std::string(json), &doc.genesis, options);
  if (!status.ok()) return BadGenesis("not a genesis document: " + std::string(status.message()));
  GS_RETURN_IF_ERROR(CheckGenesis(doc.genesis));
  doc.hash = Sha256(AsBytes(json));
  return doc;
}

std::string GenesisToJson(const v1::Genesis& genesis) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  GS_ASSERT(google::protobuf::util::MessageToJsonString(genesis, &json, options).ok());
  return json;
}

void WriteGenesisState(const GenesisDoc& doc, Overlay& out) {
  const v1::Genesis& genesis = doc.genesis;
  GS_ASSERT(CheckGenesis(genesis).ok());
  GS_ASSERT(out.writes().empty());
  State state(out, out);
  v1::ChainConfig config;
  config.set_version(1);
  config.set_chain_id(genesis.chain_id());
  config.set_genesis_hash(std::string(AsChars(doc.hash)));
  config.set_genesis_time_ms(genesis.genesis_time_ms());
  config.set_week_ms(genesis.week_ms());
  config.set_epoch_ms(genesis.epoch_ms());
  state.PutChainConfig(config);

  v1::ChainState chain;
  chain.set_version(1);
  chain.set_time_ms(genesis.genesis_time_ms());
  state.PutChainState(chain);
  WriteGenesisLaws(genesis, state);
  v1::HookState hooks;
  hooks.set_version(1);
  state.PutHookState(hooks);

  v1::ValidatorSet validators;
  validators.set_version(1);
  for (const v1::Commune& commune : genesis.communes()) {
    v1::Validator* validator = validators.add_validators();
    validator->set_public_key(commune.validator());
    validator->set_power(1);
    validator->set_commune(commune.name());
    state.PutAccount(GenesisAccount(commune.registrar(), v1::ROLE_COMMUNE, commune.name()));
    state.PutAccount(GenesisAccount(commune.issuer(), v1::ROLE_ISSUER, commune.name()));
  }
  state.PutValidatorSet(validators);
  CommitStateWrites(out);
  out.Put(LastBlockHashKey(), std::string(AsChars(doc.hash)));
  Result<uint64_t> history_size = HistoryTree(out).Append(doc.hash, out);
  GS_ASSERT(history_size.ok() && *history_size == 1);
}

}  // namespace gongshe::ledger
