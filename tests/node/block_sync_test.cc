// node/block_sync.h: a source ledger commits blocks the way a node does (consensus records, a
// certificate on some blocks); a fresh ledger proves and applies them from sync responses, and
// every tampered response is refused.

#include "node/block_sync.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "consensus/certificate.h"
#include "ledger/block_executor.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::node {
namespace {

using ledger::testing::TestChain;
using ledger::testing::TestGenesis;
using ledger::testing::TestKey;

constexpr int kCommunes = 4;

class BlockSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_);
    genesis_.genesis = TestGenesis(kCommunes);
    genesis_.hash = ledger::Sha256(AsBytes(ledger::GenesisToJson(genesis_.genesis)));
    source_ = OpenLedger("source");
    target_ = OpenLedger("target");
    set_.emplace(*consensus::ValidatorSet::FromProto(ledger::StateView(source_->state()).ValidatorSet()));
    head_id_ = genesis_.hash;  // the epoch root
    target_head_ = genesis_.hash;
  }

  void TearDown() override {
    source_.reset();
    target_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<ledger::Ledger> OpenLedger(const std::string& name) {
    Result<std::unique_ptr<ledger::Ledger>> ledger = ledger::Ledger::Open(dir_ + "/" + name, genesis_);
    GS_ASSERT(ledger.ok());
    return *std::move(ledger);
  }

  // Commits one block with `txs` on the source; `certified` stores a certificate signed by
  // `signers` validators (commune c's validator is TestKey(1002 + 3c)).
  void CommitBlock(std::vector<std::string> txs, bool certified, int signers = 3) {
    const ledger::ChainTip& tip = source_->tip();
    v1::Block block = ledger::MakeBlock(tip, std::move(txs), tip.state.time_ms() + 1000,
                                        TestKey(1002).public_key(), round_);
    ledger::Overlay writes(source_->state());
    Result<v1::BlockResults> results = ledger::ExecuteBlock(block, ledger::VerifyBlockSignatures(block, chain_id()), writes);
    ASSERT_TRUE(results.ok()) << results.status().ToString();

    v1::ConsensusBlock consensus;
    consensus.set_version(1);
    consensus.set_round(round_);
    consensus.set_height(tip.state.height() + 1);
    consensus.set_parent_id(std::string(AsChars(head_id_)));
    const ledger::Hash payload_hash = ledger::Sha256(AsBytes(block.header()));
    consensus.set_payload_hash(std::string(AsChars(payload_hash)));
    const ledger::Hash id = consensus::ComputeBlockId(chain_id(), 0, round_, consensus.height(), head_id_, 0, payload_hash);
    std::string record;
    ASSERT_TRUE(consensus.SerializeToString(&record));

    std::optional<v1::CommitCertificate> certificate;
    if (certified) certificate = Certify(consensus.height(), round_, id, signers);
    ASSERT_TRUE(source_
                    ->CommitExecuted(block, ledger::TxIds(block), *results, writes,
                                     certificate ? &*certificate : nullptr,
                                     {{CommittedBlockRecordKey(consensus.height()), record}},
                                     ledger::Ledger::Durability::kSynced)
                    .ok());
    head_id_ = id;
    ++round_;
  }

  v1::CommitCertificate Certify(uint64_t height, uint64_t round, const ledger::Hash& id, int signers) const {
    v1::CommitCertificate certificate;
    certificate.set_version(1);
    certificate.set_chain_id(chain_id());
    certificate.set_height(height);
    certificate.set_round(round);
    certificate.set_block_hash(std::string(AsChars(id)));
    certificate.set_validator_set_hash(std::string(AsChars(set_->hash())));
    const Bytes sign_bytes = consensus::CommitSignBytes(height, round, id, set_->hash());
    for (int c = 0; c < signers; ++c) {
      const ledger::KeyPair key = TestKey(1002 + 3 * c);
      v1::CommitSignature* signature = certificate.add_signatures();
      signature->set_validator(std::string(AsChars(key.public_key())));
      const ledger::Signature s = key.Sign(consensus::kCommitDomain, chain_id(), sign_bytes);
      signature->set_signature(std::string(AsChars(s)));
    }
    return certificate;
  }

  // Verifies a response for the target and applies it; the status of the verification.
  Status SyncOnce(const v1::SyncResponse& response) {
    Result<std::vector<VerifiedBlock>> blocks =
        VerifySyncResponse(response, target_head_, target_->height(), *set_, chain_id(), verifier_);
    if (!blocks.ok()) return blocks.status();
    for (const VerifiedBlock& verified : *blocks) {
      Result<v1::BlockResults> results = target_->Apply(verified.block);
      if (!results.ok()) return results.status();
      const v1::ConsensusBlock& c = verified.consensus;
      target_head_ = consensus::ComputeBlockId(chain_id(), c.epoch(), c.round(), c.height(), target_head_, c.proposer(),
                                               *ledger::HashFromBytes(AsBytes(c.payload_hash())));
    }
    return Status::Ok();
  }

  std::string chain_id() const { return genesis_.genesis.chain_id(); }

  std::string dir_ = ::testing::TempDir() + "/block-sync-" + std::to_string(::getpid());
  ledger::GenesisDoc genesis_;
  std::unique_ptr<ledger::Ledger> source_, target_;
  std::optional<consensus::ValidatorSet> set_;
  consensus::Ed25519Verifier verifier_;
  ledger::Hash head_id_{};      // consensus id of the source's last block
  ledger::Hash target_head_{};  // and of the target's
  uint64_t round_ = 1;
};

TEST_F(BlockSyncTest, ResponsesEndAtACertifiedBlockAndApplyToTheSameState) {
  TestChain builder(genesis_.genesis);
  const ledger::KeyPair member = builder.NewKey();
  CommitBlock({builder.Register(builder.registrar(), member.public_key(), v1::ROLE_MEMBER)}, false);
  CommitBlock({builder.Issue(builder.issuer(), member.public_key(), v1::VOUCHER_CLASS_CONSUMPTION, 5000)}, true);
  CommitBlock({}, false);
  CommitBlock({}, false);
  CommitBlock({}, true);

  v1::SyncResponse first = BuildSyncResponse(*source_, 1);
  ASSERT_EQ(first.blocks_size(), 2);  // up to the first certified block
  EXPECT_EQ(first.committed_height(), 5u);
  ASSERT_TRUE(SyncOnce(first).ok());
  v1::SyncResponse second = BuildSyncResponse(*source_, 3);
  ASSERT_EQ(second.blocks_size(), 3);
  ASSERT_TRUE(SyncOnce(second).ok());
  EXPECT_EQ(target_->height(), 5u);
  EXPECT_EQ(target_->tip().state_root, source_->tip().state_root);
  EXPECT_EQ(target_->tip().block_hash, source_->tip().block_hash);
  EXPECT_EQ(BuildSyncResponse(*source_, 6).blocks_size(), 0);
}

TEST_F(BlockSyncTest, UncertifiedTailIsNotSent) {
  CommitBlock({}, false);
  CommitBlock({}, false);
  EXPECT_EQ(BuildSyncResponse(*source_, 1).blocks_size(), 0);
}

TEST_F(BlockSyncTest, TamperedResponsesAreRefusedAndChangeNothing) {
  TestChain builder(genesis_.genesis);
  const ledger::KeyPair member = builder.NewKey();
  CommitBlock({builder.Register(builder.registrar(), member.public_key(), v1::ROLE_MEMBER)}, false);
  CommitBlock({}, true);
  const v1::SyncResponse good = BuildSyncResponse(*source_, 1);
  ASSERT_EQ(good.blocks_size(), 2);

  std::vector<std::pair<std::string, std::function<void(v1::SyncResponse&)>>> tampers = {
      {"no blocks", [](v1::SyncResponse& r) { r.clear_blocks(); }},
      {"certificate without quorum",
       [&](v1::SyncResponse& r) { r.mutable_certificate()->mutable_signatures()->RemoveLast(); }},
      {"certificate signature changed",
       [](v1::SyncResponse& r) { (*r.mutable_certificate()->mutable_signatures(0)->mutable_signature())[0] ^= 1; }},
      {"certificate for another block",
       [](v1::SyncResponse& r) { (*r.mutable_certificate()->mutable_block_hash())[0] ^= 1; }},
      {"transaction dropped", [](v1::SyncResponse& r) { r.mutable_blocks(0)->mutable_block()->clear_txs(); }},
      {"transaction replaced",
       [](v1::SyncResponse& r) { (*r.mutable_blocks(0)->mutable_block()->mutable_txs(0))[10] ^= 1; }},
      {"header changed", [](v1::SyncResponse& r) { (*r.mutable_blocks(0)->mutable_block()->mutable_header())[5] ^= 1; }},
      {"parent link broken",
       [](v1::SyncResponse& r) { (*r.mutable_blocks(1)->mutable_consensus()->mutable_parent_id())[0] ^= 1; }},
      {"height skipped", [](v1::SyncResponse& r) { r.mutable_blocks(0)->mutable_consensus()->set_height(7); }},
      {"first block dropped", [](v1::SyncResponse& r) { r.mutable_blocks()->DeleteSubrange(0, 1); }},
      {"payload carried twice", [](v1::SyncResponse& r) { r.mutable_blocks(1)->mutable_consensus()->set_payload("x"); }},
      {"malformed parent id", [](v1::SyncResponse& r) { r.mutable_blocks(0)->mutable_consensus()->set_parent_id("ab"); }},
  };
  for (auto& [name, tamper] : tampers) {
    v1::SyncResponse bad = good;
    tamper(bad);
    const Status status = SyncOnce(bad);
    EXPECT_FALSE(status.ok()) << name;
    EXPECT_EQ(target_->height(), 0u) << name;
  }
  ASSERT_TRUE(SyncOnce(good).ok());
  EXPECT_EQ(target_->tip().state_root, source_->tip().state_root);
}

}  // namespace
}  // namespace gongshe::node
