#pragma once
// The genesis document: parsed from protobuf JSON, checked, and turned into the state at height 0.

#include <string_view>

#include "common/status.h"
#include "gongshe/v1/genesis.pb.h"
#include "ledger/hash.h"
#include "ledger/kv.h"

namespace gongshe::ledger {

inline constexpr size_t kMaxGenesisBytes = 1 << 20;
inline constexpr size_t kMaxCommunes = 1000;

struct GenesisDoc {
  v1::Genesis genesis;
  Hash hash;  // SHA-256 of the document's bytes as read
};

// Parses and checks a genesis document, its laws included (LoadGenesisLaws: each parses,
// type-checks and passes its own tests). Every error names the offending field.
Result<GenesisDoc> ParseGenesis(std::string_view json);

// Checks a genesis built in memory (ParseGenesis calls it too).
Status CheckGenesis(const v1::Genesis& genesis);

// The JSON text of `genesis`, as written to genesis files.
std::string GenesisToJson(const v1::Genesis& genesis);

// Writes the state at height 0 into `out` (an overlay over an empty store): chain config and
// state, the laws and the law set (ledger/laws.h), the hook state, validator set, the accounts of every commune's registrar and issuer, their
// state commitment, and the genesis hash as leaf 0 of the history tree.
void WriteGenesisState(const GenesisDoc& doc, Overlay& out);

}  // namespace gongshe::ledger
