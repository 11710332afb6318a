#include "node/block_sync.h"

#include "consensus/certificate.h"
#include "ledger/block_executor.h"

namespace gongshe::node {
namespace {

Status BadSync(std::string message) { return {"BAD_SYNC", std::move(message)}; }

std::optional<ledger::Hash> HashOf(const std::string& bytes) { return ledger::HashFromBytes(AsBytes(bytes)); }

}  // namespace

std::optional<ledger::Hash> ConsensusBlockId(const v1::ConsensusBlock& block, std::string_view chain_id) {
  std::optional<ledger::Hash> parent = HashOf(block.parent_id());
  std::optional<ledger::Hash> payload_hash = HashOf(block.payload_hash());
  if (!parent || !payload_hash) return std::nullopt;
  return consensus::ComputeBlockId(chain_id, block.epoch(), block.round(), block.height(), *parent, block.proposer(),
                                   *payload_hash);
}

std::string CommittedBlockRecordKey(uint64_t height) {
  Bytes key = {'c', 'b', '/'};
  AppendBigEndian64(key, height);
  return std::string(AsChars(key));
}

std::optional<v1::ConsensusBlock> CommittedConsensusBlock(const ledger::Ledger& ledger, uint64_t height) {
  std::optional<std::string> record = ledger.NodeRecord(CommittedBlockRecordKey(height));
  std::optional<v1::Block> block = ledger.BlockAt(height);
  if (!record || !block) return std::nullopt;
  v1::ConsensusBlock consensus;
  GS_ASSERT(consensus.ParseFromString(*record));
  GS_ASSERT(block->SerializeToString(consensus.mutable_payload()));
  return consensus;
}

v1::SyncResponse BuildSyncResponse(const ledger::Ledger& ledger, uint64_t from_height) {
  v1::SyncResponse response;
  response.set_committed_height(ledger.height());
  size_t bytes = 0;
  for (uint64_t height = from_height; height >= 1 && height <= ledger.height(); ++height) {
    std::optional<std::string> record = ledger.NodeRecord(CommittedBlockRecordKey(height));
    std::optional<v1::Block> block = ledger.BlockAt(height);
    if (!record || !block) break;  // committed before this node kept consensus records
    v1::SyncedBlock* synced = response.add_blocks();
    GS_ASSERT(synced->mutable_consensus()->ParseFromString(*record));
    *synced->mutable_block() = *std::move(block);
    bytes += synced->ByteSizeLong();
    if (std::optional<v1::CommitCertificate> certificate = ledger.CertificateAt(height)) {
      *response.mutable_certificate() = *std::move(certificate);
      return response;
    }
    if (static_cast<size_t>(response.blocks_size()) >= kMaxSyncBlocks || bytes >= kMaxSyncBytes) break;
  }
  response.clear_blocks();  // no certified block within bounds: nothing provable to send
  return response;
}

Result<std::vector<VerifiedBlock>> VerifySyncResponse(const v1::SyncResponse& response, const ledger::Hash& head_id,
                                                      uint64_t head_height, const consensus::ValidatorSet& validators,
                                                      std::string_view chain_id, const consensus::Verifier& verifier) {
  const int count = response.blocks_size();
  if (count == 0) return BadSync("no blocks");
  if (static_cast<size_t>(count) > kMaxSyncBlocks) return BadSync("more blocks than a response may hold");
  GS_RETURN_IF_ERROR(consensus::VerifyCommitCertificate(response.certificate(), validators, chain_id, verifier));

  std::vector<VerifiedBlock> out;
  out.reserve(count);
  ledger::Hash parent_id = head_id;
  for (int i = 0; i < count; ++i) {
    const v1::SyncedBlock& synced = response.blocks(i);
    const v1::ConsensusBlock& consensus = synced.consensus();
    if (consensus.height() != head_height + 1 + static_cast<uint64_t>(i)) return BadSync("heights are not consecutive");
    if (!consensus.payload().empty()) return BadSync("consensus block carries its payload twice");
    std::optional<ledger::Hash> id = ConsensusBlockId(consensus, chain_id);
    if (!id) return BadSync("malformed consensus block hashes");
    if (HashOf(consensus.parent_id()) != parent_id) return BadSync("block does not extend the one before it");
    if (HashOf(consensus.payload_hash()) != ledger::Sha256(AsBytes(synced.block().header()))) {
      return BadSync("ledger block is not the payload of its consensus block");
    }
    v1::BlockHeader header;
    if (!header.ParseFromString(synced.block().header()) ||
        HashOf(header.tx_root()) != ledger::TxRoot(synced.block().txs())) {
      return BadSync("ledger block's transactions are not the ones its header commits to");
    }
    parent_id = *id;
    out.push_back(VerifiedBlock{consensus, synced.block()});
  }
  const v1::CommitCertificate& certificate = response.certificate();
  if (certificate.height() != head_height + static_cast<uint64_t>(count) ||
      certificate.round() != response.blocks(count - 1).consensus().round() ||
      HashOf(certificate.block_hash()) != parent_id) {
    return BadSync("certificate is not for the last block");
  }
  return out;
}

}  // namespace gongshe::node
