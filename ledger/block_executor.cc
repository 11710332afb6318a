#include "ledger/block_executor.h"

#include "contracts/types.h"
#include "ledger/evidence.h"
#include "ledger/history_tree.h"
#include "ledger/laws.h"
#include "ledger/merkle.h"
#include "ledger/state.h"
#include "ledger/state_machine.h"
#include "ledger/state_tree.h"
#include "ledger/transaction.h"

namespace gongshe::ledger {
namespace {

Status BadBlock(std::string message) { return {"BAD_BLOCK", std::move(message)}; }

Hash RecordHash(const StateView& state, const std::string& key) {
  std::optional<std::string> bytes = state.RawRecord(key);
  GS_ASSERT(bytes.has_value());
  return Sha256(AsBytes(*bytes));
}

std::string HashBytes(const Hash& h) { return std::string(AsChars(h)); }

uint64_t PeriodAt(int64_t time_ms, int64_t genesis_time_ms, int64_t period_ms) {
  GS_ASSERT(time_ms >= genesis_time_ms && period_ms > 0);
  return static_cast<uint64_t>((time_ms - genesis_time_ms) / period_ms);
}

Status CheckHeader(const v1::BlockHeader& header, const v1::Block& block, const ChainTip& tip) {
  auto expect = [](bool ok, const char* what) { return ok ? Status::Ok() : BadBlock(what); };
  GS_RETURN_IF_ERROR(expect(header.version() == 1, "header version must be 1"));
  GS_RETURN_IF_ERROR(expect(header.chain_id() == tip.config.chain_id(), "header is for another chain"));
  GS_RETURN_IF_ERROR(expect(header.height() == tip.state.height() + 1, "height does not follow the last block"));
  GS_RETURN_IF_ERROR(expect(header.parent_hash() == HashBytes(tip.block_hash), "parent hash is not the last block"));
  GS_RETURN_IF_ERROR(expect(header.time_ms() >= tip.state.time_ms(), "time is before the parent's"));
  GS_RETURN_IF_ERROR(expect(header.state_root() == HashBytes(tip.state_root), "state root is not the parent's"));
  GS_RETURN_IF_ERROR(expect(header.history_root() == HashBytes(tip.history_root), "history root does not match"));
  GS_RETURN_IF_ERROR(
      expect(header.validator_set_hash() == HashBytes(tip.validator_set_hash), "validator set hash does not match"));
  GS_RETURN_IF_ERROR(expect(header.law_set_hash() == HashBytes(tip.law_set_hash), "law set hash does not match"));
  GS_RETURN_IF_ERROR(expect(header.tx_root() == HashBytes(TxRoot(block.txs())), "tx root does not match"));
  GS_RETURN_IF_ERROR(
      expect(header.evidence_root() == EvidenceRootField(block.evidence()), "evidence root does not match"));
  return Status::Ok();
}

Status CheckBlockShape(const v1::Block& block) {
  if (block.version() != 1) return BadBlock("block version must be 1");
  if (block.header().size() > kMaxHeaderBytes) return BadBlock("header is larger than 4 KiB");
  if (static_cast<size_t>(block.txs_size()) > kMaxBlockTxs) return BadBlock("more than 10000 transactions");
  size_t total = block.header().size();
  for (const std::string& tx : block.txs()) total += tx.size();
  for (const std::string& evidence : block.evidence()) total += evidence.size();
  if (total > kMaxBlockBytes) return BadBlock("block is larger than 16 MiB");
  return Status::Ok();
}

bool IsProposer(const v1::ValidatorSet& set, const std::string& proposer) {
  for (const v1::Validator& v : set.validators()) {
    if (v.public_key() == proposer) return true;
  }
  return false;
}

// A result message as stored: printable UTF-8 only (control characters and bytes that are not
// well-formed UTF-8 become '?'). Messages quote outside input (chain ids, categories), cut to a
// bound that may split a UTF-8 character, and a stored string field that is not valid UTF-8 would
// make the results unreadable. Laws' reasons and citations ("§ 2") are UTF-8 and stay as written.
std::string PrintableMessage(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size();) {
    const size_t length = contracts::Utf8SequenceLength(message.substr(i));
    const unsigned char c = static_cast<unsigned char>(message[i]);
    if (length == 0 || c < 0x20 || c == 0x7f) {
      out.push_back('?');
      ++i;
      continue;
    }
    out.append(message.substr(i, length));
    i += length;
  }
  return out;
}

// `tx` is scratch space, reused across the block's transactions for its buffers.
void ApplyOne(const std::string& bytes, bool signature_ok, std::string_view chain_id, TxApplier& applier,
              DecodedTx& tx, v1::TxResult& result) {
  Status decoded = DecodeTxInto(AsBytes(bytes), chain_id, tx);
  // A proposal is named by its transaction's id; no other action reads the id, so only a proposal
  // pays for hashing it here.
  if (decoded.ok() && tx.body.action_case() == v1::TxBody::kProposeAmendment) tx.id = Sha256(AsBytes(bytes));
  Status status = !decoded.ok()   ? std::move(decoded)
                  : !signature_ok ? Status{"BAD_SIGNATURE", "a signature does not verify"}
                                  : applier.Apply(tx, *result.mutable_law_runs());
  result.set_code(status.ok() ? "OK" : status.code());
  result.set_message(PrintableMessage(status.message()));
}

}  // namespace

Hash TxRoot(const google::protobuf::RepeatedPtrField<std::string>& txs) {
  std::vector<Hash> leaves;
  leaves.reserve(txs.size());
  for (const std::string& tx : txs) leaves.push_back(LeafHash(AsBytes(tx)));
  return MerkleRoot(leaves);
}

std::vector<Hash> TxIds(const v1::Block& block) {
  std::vector<Hash> ids;
  ids.reserve(static_cast<size_t>(block.txs_size()));
  for (const std::string& tx : block.txs()) ids.push_back(Sha256(AsBytes(tx)));
  return ids;
}

std::string LastBlockHashKey() { return SpaceKey(KeySpace::kMeta, AsBytes("last-block-hash")); }

std::string ClosingIndexKey(std::string_view hook, const PublicKey& member, uint64_t period) {
  GS_ASSERT(hook == "week_closed" || hook == "epoch_closed");
  Bytes rest{static_cast<uint8_t>(hook == "week_closed" ? 'w' : 'e')};
  rest.insert(rest.end(), member.begin(), member.end());
  AppendBigEndian64(rest, period);
  return SpaceKey(KeySpace::kExplanation, rest);
}

ChainTip ReadChainTip(const KvReader& reader) {
  StateView state(reader);
  ChainTip tip;
  tip.config = state.ChainConfig();
  tip.state = state.ChainState();
  std::optional<std::string> block_hash = reader.Get(LastBlockHashKey());
  GS_ASSERT(block_hash.has_value());
  std::optional<Hash> parsed = HashFromBytes(AsBytes(*block_hash));
  GS_ASSERT(parsed.has_value());
  tip.block_hash = *parsed;
  tip.state_root = StateRoot(reader);
  Result<Hash> history = HistoryTree(reader).Root(tip.state.height() + 1);
  GS_ASSERT(history.ok());
  tip.history_root = *history;
  tip.validator_set_hash = RecordHash(state, ValidatorSetKey());
  tip.law_set_hash = LawSetHash(state.LawSet());
  return tip;
}

v1::Block MakeBlock(const ChainTip& tip, std::vector<std::string> txs, int64_t time_ms, const PublicKey& proposer,
                    uint64_t round, std::vector<std::string> evidence) {
  v1::Block block;
  block.set_version(1);
  for (std::string& tx : txs) block.add_txs(std::move(tx));
  for (std::string& item : evidence) block.add_evidence(std::move(item));
  v1::BlockHeader header;
  header.set_version(1);
  header.set_chain_id(tip.config.chain_id());
  header.set_height(tip.state.height() + 1);
  header.set_round(round);
  header.set_parent_hash(HashBytes(tip.block_hash));
  header.set_proposer(std::string(AsChars(proposer)));
  header.set_time_ms(std::max(time_ms, tip.state.time_ms()));
  header.set_tx_root(HashBytes(TxRoot(block.txs())));
  header.set_state_root(HashBytes(tip.state_root));
  header.set_history_root(HashBytes(tip.history_root));
  header.set_validator_set_hash(HashBytes(tip.validator_set_hash));
  header.set_law_set_hash(HashBytes(tip.law_set_hash));
  header.set_evidence_root(EvidenceRootField(block.evidence()));
  GS_ASSERT(header.SerializeToString(block.mutable_header()));
  return block;
}

SignatureResults VerifyBlockSignatures(const v1::Block& block, std::string_view chain_id) {
  SignatureResults results;
  results.reserve(block.txs_size());
  for (const std::string& bytes : block.txs()) {
    Result<DecodedTx> tx = DecodeTx(AsBytes(bytes), chain_id);
    results.push_back(tx.ok() && VerifyTxSignatures(*tx, chain_id));
  }
  return results;
}

Result<v1::BlockResults> ExecuteBlock(const v1::Block& block, const SignatureResults& signatures, Overlay& out) {
  GS_ASSERT(out.writes().empty());
  GS_ASSERT(signatures.size() == static_cast<size_t>(block.txs_size()));
  GS_RETURN_IF_ERROR(CheckBlockShape(block));
  v1::BlockHeader header;
  if (!header.ParseFromString(block.header())) return BadBlock("header is not a BlockHeader");
  ChainTip tip = ReadChainTip(out);
  GS_RETURN_IF_ERROR(CheckHeader(header, block, tip));
  State state(out, out);
  if (!IsProposer(state.ValidatorSet(), header.proposer())) return BadBlock("proposer is not a validator");
  // Checked in full before anything is written: a refused block writes nothing.
  Result<std::vector<Offence>> offences = CheckBlockEvidence(block, out);
  if (!offences.ok()) return offences.status();

  const v1::ChainConfig& config = tip.config;
  std::shared_ptr<const LawBook> laws = LawBookOf(out, tip.law_set_hash);
  BlockContext context;
  context.height = header.height();
  context.time_ms = header.time_ms();
  context.genesis_time_ms = config.genesis_time_ms();
  context.week_ms = config.week_ms();
  context.week = PeriodAt(header.time_ms(), config.genesis_time_ms(), config.week_ms());
  context.epoch = PeriodAt(header.time_ms(), config.genesis_time_ms(), config.epoch_ms());
  context.today = header.time_ms() / kDayMs;
  context.laws = laws.get();
  ExpireCohorts(tip.state.epoch(), context.epoch, out, out);

  v1::BlockResults results;
  results.set_version(1);
  results.mutable_results()->Reserve(block.txs_size());
  TxApplier applier(context, out);
  applier.RunClosings(*results.mutable_closings());
  DecodedTx tx;
  for (int i = 0; i < block.txs_size(); ++i) {
    ApplyOne(block.txs(i), signatures[i], config.chain_id(), applier, tx, *results.add_results());
  }
  applier.Flush(out);
  for (const v1::ClosingRun& closing : results.closings()) {
    std::optional<PublicKey> member = PublicKeyFromBytes(AsBytes(closing.member()));
    if (!member) continue;  // a skipped closing names no member
    Bytes height;
    AppendBigEndian64(height, header.height());
    out.Put(ClosingIndexKey(closing.hook(), *member, closing.period()), std::string(AsChars(height)));
  }

  Hash block_hash = Sha256(AsBytes(block.header()));
  v1::ChainState chain = tip.state;
  chain.set_evidence_count(
      RecordBlockEvidence(block, *offences, header.height(), tip.state.evidence_count(), out));
  chain.set_height(header.height());
  chain.set_time_ms(header.time_ms());
  chain.set_epoch(context.epoch);
  chain.set_week(context.week);
  state.PutChainState(chain);
  out.Put(LastBlockHashKey(), HashBytes(block_hash));
  results.set_state_root(HashBytes(CommitStateWrites(out)));
  Result<uint64_t> size = HistoryTree(out).Append(block_hash, out);
  GS_ASSERT(size.ok() && *size == header.height() + 1);
  return results;
}

}  // namespace gongshe::ledger
