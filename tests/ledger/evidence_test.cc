// Equivocation evidence in blocks (ledger/evidence.h): the header's evidence root, the shape
// checks, one record per offence, and what a refused block leaves behind (nothing).

#include "ledger/evidence.h"

#include <gtest/gtest.h>

#include "ledger/merkle.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::ledger {
namespace {

using testing::TestChain;
using testing::TestKey;

std::string Filled(size_t size, uint8_t byte) { return std::string(size, static_cast<char>(byte)); }

// Well-shaped evidence against `key` (signatures are not the ledger's to check: any 64 bytes).
v1::Evidence MakeEvidence(const PublicKey& key, uint64_t round, v1::Evidence::Kind kind = v1::Evidence::KIND_DOUBLE_VOTE,
                          uint64_t epoch = 0, uint8_t second_block = 2) {
  v1::Evidence evidence;
  evidence.set_version(1);
  evidence.set_kind(kind);
  evidence.set_epoch(epoch);
  evidence.set_validator(std::string(AsChars(key)));
  for (v1::SignedStatement* s : {evidence.mutable_first(), evidence.mutable_second()}) {
    s->set_round(round);
    s->set_height(round);
    s->set_parent_id(Filled(32, 9));
    s->set_parent_round(round - 1);
    s->set_signature(Filled(64, 7));
  }
  evidence.mutable_first()->set_block_id(Filled(32, 1));
  evidence.mutable_second()->set_block_id(Filled(32, second_block));
  return evidence;
}

std::string Bytes(const v1::Evidence& evidence) { return evidence.SerializeAsString(); }

class EvidenceTest : public ::testing::Test {
 protected:
  v1::Block BlockWith(std::vector<std::string> evidence) {
    return MakeBlock(ReadChainTip(chain_.kv()), {}, chain_.time_ms() + 1000, chain_.validator().public_key(), 0,
                     std::move(evidence));
  }

  // Runs `block` on the chain's state; applies it when it is accepted.
  Result<v1::BlockResults> Run(const v1::Block& block, bool apply = true) {
    Overlay out(chain_.kv());
    Result<v1::BlockResults> results = ExecuteBlock(block, {}, out);
    if (!results.ok()) {
      EXPECT_TRUE(out.writes().empty()) << "a refused block wrote " << out.writes().size() << " records";
    } else if (apply) {
      out.WriteTo(chain_.kv());
    }
    return results;
  }

  // Expects `block` to be refused with `code`, leaving the state as it was.
  void ExpectRefused(const v1::Block& block, const std::string& code) {
    const Hash root = chain_.root();
    const uint64_t height = chain_.height();
    Result<v1::BlockResults> results = Run(block);
    ASSERT_FALSE(results.ok());
    EXPECT_EQ(results.status().code(), code) << results.status().ToString();
    EXPECT_FALSE(results.status().message().empty());
    EXPECT_EQ(chain_.root(), root);
    EXPECT_EQ(chain_.height(), height);
  }

  // `block` with its header's evidence root replaced by `root` (the header re-serialised).
  static v1::Block WithEvidenceRoot(v1::Block block, const std::string& root) {
    v1::BlockHeader header;
    EXPECT_TRUE(header.ParseFromString(block.header()));
    header.set_evidence_root(root);
    block.set_header(header.SerializeAsString());
    return block;
  }

  PublicKey accused_ = TestKey(1005).public_key();  // commune 1's validator
  TestChain chain_;
};

TEST_F(EvidenceTest, BlockWithoutEvidenceHashesAsBeforeEvidenceExisted) {
  const ChainTip tip = ReadChainTip(chain_.kv());
  v1::Block block = MakeBlock(tip, {}, chain_.time_ms() + 1000, chain_.validator().public_key(), 3);
  EXPECT_EQ(block.evidence_size(), 0);
  // The header as it was built before field 13 existed: the same twelve fields, the same bytes.
  v1::BlockHeader old;
  old.set_version(1);
  old.set_chain_id(tip.config.chain_id());
  old.set_height(tip.state.height() + 1);
  old.set_round(3);
  old.set_parent_hash(std::string(AsChars(tip.block_hash)));
  old.set_proposer(std::string(AsChars(chain_.validator().public_key())));
  old.set_time_ms(chain_.time_ms() + 1000);
  old.set_tx_root(std::string(AsChars(EmptyRoot())));
  old.set_state_root(std::string(AsChars(tip.state_root)));
  old.set_history_root(std::string(AsChars(tip.history_root)));
  old.set_validator_set_hash(std::string(AsChars(tip.validator_set_hash)));
  old.set_law_set_hash(std::string(AsChars(tip.law_set_hash)));
  EXPECT_EQ(block.header(), old.SerializeAsString());
  std::string block_bytes;
  ASSERT_TRUE(block.SerializeToString(&block_bytes));
  v1::Block reread;
  ASSERT_TRUE(reread.ParseFromString(block_bytes));
  EXPECT_EQ(reread.evidence_size(), 0);
  ASSERT_TRUE(Run(block).ok());
  EXPECT_EQ(chain_.state().ChainState().evidence_count(), 0u);
}

TEST_F(EvidenceTest, BlockRecordsEvidenceAndTheStateRootCommitsToIt) {
  const v1::Evidence evidence = MakeEvidence(accused_, 5);
  v1::Block with = BlockWith({Bytes(evidence)});
  v1::Block without = BlockWith({});
  ASSERT_EQ(with.evidence_size(), 1);
  v1::BlockHeader header;
  ASSERT_TRUE(header.ParseFromString(with.header()));
  std::vector<Hash> leaves{LeafHash(AsBytes(Bytes(evidence)))};
  EXPECT_EQ(header.evidence_root(), std::string(AsChars(MerkleRoot(leaves))));

  Result<v1::BlockResults> empty = Run(without, /*apply=*/false);
  Result<v1::BlockResults> results = Run(with);
  ASSERT_TRUE(empty.ok() && results.ok()) << results.status().ToString();
  EXPECT_NE(results->state_root(), empty->state_root());
  EXPECT_EQ(std::string(AsChars(chain_.root())), results->state_root());

  std::optional<v1::EvidenceRecord> record = RecordedEvidence(chain_.kv(), OffenceOf(evidence));
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->height(), 1u);
  EXPECT_EQ(record->sequence(), 0u);
  EXPECT_EQ(record->evidence(), Bytes(evidence));
  EXPECT_EQ(chain_.state().ChainState().evidence_count(), 1u);
  // Another round, the other kind, another epoch: other offences, recorded in order.
  const v1::Evidence later = MakeEvidence(accused_, 6);
  const v1::Evidence proposal = MakeEvidence(accused_, 5, v1::Evidence::KIND_DOUBLE_PROPOSAL);
  const v1::Evidence epoch = MakeEvidence(accused_, 5, v1::Evidence::KIND_DOUBLE_VOTE, 1);
  ASSERT_TRUE(Run(BlockWith({Bytes(later), Bytes(proposal), Bytes(epoch)})).ok());
  std::vector<v1::EvidenceRecord> listed = ListRecordedEvidence(chain_.kv(), 0, 10);
  ASSERT_EQ(listed.size(), 4u);
  EXPECT_EQ(listed[0].evidence(), Bytes(evidence));
  EXPECT_EQ(listed[3].evidence(), Bytes(epoch));
  EXPECT_EQ(listed[3].height(), 2u);
  EXPECT_EQ(listed[3].sequence(), 3u);
  EXPECT_EQ(ListRecordedEvidence(chain_.kv(), 1, 2).size(), 2u);
  EXPECT_EQ(ListRecordedEvidence(chain_.kv(), 1, 2)[0].evidence(), Bytes(later));
  EXPECT_TRUE(ListRecordedEvidence(chain_.kv(), 4, 10).empty());
  EXPECT_EQ(chain_.state().ChainState().evidence_count(), 4u);
  EXPECT_FALSE(RecordedEvidence(chain_.kv(), OffenceOf(MakeEvidence(accused_, 7))).has_value());
}

TEST_F(EvidenceTest, EvidenceRootMustMatchTheEvidence) {
  const std::string a = Bytes(MakeEvidence(accused_, 5)), b = Bytes(MakeEvidence(accused_, 6));
  ExpectRefused(WithEvidenceRoot(BlockWith({a}), ""), "BAD_BLOCK");                      // missing
  ExpectRefused(WithEvidenceRoot(BlockWith({a}), Filled(32, 3)), "BAD_BLOCK");           // wrong
  ExpectRefused(WithEvidenceRoot(BlockWith({}), std::string(AsChars(EmptyRoot()))), "BAD_BLOCK");  // none carried
  v1::Block swapped = BlockWith({a, b});
  std::swap(*swapped.mutable_evidence(0), *swapped.mutable_evidence(1));  // the root binds the order
  ExpectRefused(swapped, "BAD_BLOCK");
  v1::Block added = BlockWith({a});
  added.add_evidence(b);  // evidence smuggled in after the header was made
  ExpectRefused(added, "BAD_BLOCK");
}

TEST_F(EvidenceTest, MalformedEvidenceMakesTheBlockInvalid) {
  std::vector<std::pair<std::string, std::string>> cases;  // what, bytes
  auto mutated = [&](const char* what, auto change) {
    v1::Evidence e = MakeEvidence(accused_, 5);
    change(e);
    cases.emplace_back(what, Bytes(e));
  };
  cases.emplace_back("not protobuf", "\xff\xff\xff");
  cases.emplace_back("empty", "");
  cases.emplace_back("too large", Bytes(MakeEvidence(accused_, 5)) + std::string(kMaxEvidenceBytes, '\0'));
  mutated("version 2", [](v1::Evidence& e) { e.set_version(2); });
  mutated("no kind", [](v1::Evidence& e) { e.set_kind(v1::Evidence::KIND_UNSPECIFIED); });
  mutated("unknown kind", [](v1::Evidence& e) { e.set_kind(static_cast<v1::Evidence::Kind>(9)); });
  mutated("short key", [](v1::Evidence& e) { e.set_validator(Filled(31, 1)); });
  mutated("no second", [](v1::Evidence& e) { e.clear_second(); });
  mutated("no first", [](v1::Evidence& e) { e.clear_first(); });
  mutated("two rounds", [](v1::Evidence& e) { e.mutable_second()->set_round(6); });
  mutated("round 0", [](v1::Evidence& e) {
    e.mutable_first()->set_round(0);
    e.mutable_second()->set_round(0);
  });
  mutated("one block", [](v1::Evidence& e) { e.mutable_second()->set_block_id(e.first().block_id()); });
  mutated("short block id", [](v1::Evidence& e) { e.mutable_second()->set_block_id(Filled(31, 2)); });
  mutated("short signature", [](v1::Evidence& e) { e.mutable_first()->set_signature(Filled(63, 7)); });
  mutated("vote without parent", [](v1::Evidence& e) { e.mutable_first()->clear_parent_id(); });
  mutated("unknown field", [](v1::Evidence& e) {
    e.GetReflection()->MutableUnknownFields(&e)->AddVarint(99, 1);
  });
  mutated("unknown statement field", [](v1::Evidence& e) {
    e.GetReflection()->MutableUnknownFields(e.mutable_second())->AddVarint(99, 1);
  });
  for (const auto& [what, bytes] : cases) {
    SCOPED_TRACE(what);
    EXPECT_EQ(ParseEvidence(bytes).status().code(), "BAD_EVIDENCE");
    // Well-formed evidence first: a bad item anywhere refuses the whole block.
    ExpectRefused(BlockWith({Bytes(MakeEvidence(accused_, 4)), bytes}), "BAD_EVIDENCE");
  }
  // A proposal statement needs no parent id.
  v1::Evidence proposal = MakeEvidence(accused_, 5, v1::Evidence::KIND_DOUBLE_PROPOSAL);
  proposal.mutable_first()->clear_parent_id();
  EXPECT_TRUE(ParseEvidence(Bytes(proposal)).ok());
}

TEST_F(EvidenceTest, AtMostTheBoundPerBlock) {
  std::vector<std::string> evidence;
  for (uint64_t round = 1; round <= kMaxBlockEvidence + 1; ++round) evidence.push_back(Bytes(MakeEvidence(accused_, round)));
  ExpectRefused(BlockWith(evidence), "BAD_EVIDENCE");
  evidence.pop_back();
  ASSERT_TRUE(Run(BlockWith(evidence)).ok());
  EXPECT_EQ(chain_.state().ChainState().evidence_count(), kMaxBlockEvidence);
}

TEST_F(EvidenceTest, AnOffenceIsRecordedOnce) {
  // The same offence proved by another pair of statements is still the same offence.
  const std::string first = Bytes(MakeEvidence(accused_, 5));
  const std::string other_pair = Bytes(MakeEvidence(accused_, 5, v1::Evidence::KIND_DOUBLE_VOTE, 0, 3));
  ExpectRefused(BlockWith({first, other_pair}), "DUPLICATE_EVIDENCE");
  ExpectRefused(BlockWith({first, first}), "DUPLICATE_EVIDENCE");
  ASSERT_TRUE(Run(BlockWith({first})).ok());
  ExpectRefused(BlockWith({first}), "DUPLICATE_EVIDENCE");
  ExpectRefused(BlockWith({Bytes(MakeEvidence(accused_, 8)), other_pair}), "DUPLICATE_EVIDENCE");
  // Another validator in the same round is another offence.
  ASSERT_TRUE(Run(BlockWith({Bytes(MakeEvidence(TestKey(1002).public_key(), 5))})).ok());
  EXPECT_EQ(chain_.state().ChainState().evidence_count(), 2u);
}

}  // namespace
}  // namespace gongshe::ledger
