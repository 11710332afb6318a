#include "consensus/signer.h"

#include <algorithm>

namespace gongshe::consensus {

ledger::Signature RecordingSigner::Sign(std::string_view domain, std::string_view chain_id, ByteView payload) const {
  const ledger::Signature signature = key_.Sign(domain, chain_id, payload);
  std::lock_guard lock(mu_);
  made_[next_] = {ledger::SignBytes(domain, chain_id, payload), signature};
  next_ = (next_ + 1) % kRemembered;
  return signature;
}

bool RecordingSigner::Made(std::string_view domain, std::string_view chain_id, ByteView payload,
                           const ledger::Signature& signature) const {
  if (chain_id.size() > ledger::kMaxChainIdSize) return false;  // never signed; SignBytes would abort
  const Bytes sign_bytes = ledger::SignBytes(domain, chain_id, payload);
  std::lock_guard lock(mu_);
  return std::any_of(made_.begin(), made_.end(), [&](const Signed& made) {
    return made.signature == signature && made.sign_bytes == sign_bytes;
  });
}

}  // namespace gongshe::consensus
