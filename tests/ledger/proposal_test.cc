// Law amendments by proposal and vote (ledger/amendments.h): constituencies at registration, every
// refusal of a proposal and of a vote (each leaving the state root exactly as an empty block
// would), the running tally in both orders of delegate and member votes, the tally when the week
// closes under amendment_tally (quorum, majority, the edge), superseded proposals, an adopted law
// running from the next block with the header's law-set hash changing exactly then, vote proofs,
// and two ledgers agreeing block by block.

#include <gtest/gtest.h>

#include <algorithm>

#include "contracts/standard_laws.h"
#include "ledger/amendments.h"
#include "ledger/laws.h"
#include "ledger/state_machine.h"
#include "ledger/state_tree.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::ledger {
namespace {

using testing::GenesisWith;
using testing::kChainId;
using testing::kGenesisTimeMs;
using testing::kWeekMs;
using testing::TestChain;
using v1::VOTE_CHOICE_ABSTAIN;
using v1::VOTE_CHOICE_NO;
using v1::VOTE_CHOICE_YES;

int64_t WeekStart(uint64_t week) { return kGenesisTimeMs + static_cast<int64_t>(week) * kWeekMs; }

std::string Raw(const PublicKey& key) { return std::string(AsChars(key)); }
Hash IdOf(const std::string& tx) { return Sha256(AsBytes(tx)); }

// overtime_pay at `version`, paying hours beyond 40 at `premium` times the rate; its test expects
// 45 hours at rate 1 to pay `expected` on top of labour pay.
std::string Overtime(int64_t version, const std::string& premium = "2", const std::string& expected = "5 credits") {
  return "law overtime_pay version " + std::to_string(version) +
         "\n"
         "  \"Hours worked beyond the standard week are paid at a premium.\"\n"
         "\n"
         "§ 1 \"The standard week is 40 hours.\"\n"
         "param standard_week : hours = 40h\n"
         "\n"
         "§ 2 \"Each hour beyond it is paid at the premium; labour pay covers the first 1 times.\"\n"
         "param premium : ratio = " +
         premium +
         "\n"
         "\n"
         "on week_closed(worker: member, week: week, worked: hours, rate: credits per hour)\n"
         "  let overtime = max(worked - standard_week, 0h)\n"
         "  when overtime > 0h:\n"
         "    issue consumption to worker amount overtime * rate * (premium - 1)\n"
         "      because \"overtime {overtime} at {premium}x in {week}\"\n"
         "\n"
         "test \"45 hours at rate 1\"\n"
         "  week_closed(@alice, week 3, 45h, 1 credits per hour)\n"
         "  expects issue consumption to @alice amount " +
         expected + "\n";
}

// A law of its own name with nothing to do.
std::string Idle(const std::string& name) {
  return "law " + name + " version 1\n  \"A law for a test.\"\n\non epoch_closed(citizen: member, epoch: epoch)\n"
         "  let unused = 0\n";
}

const v1::ActiveLaw* InForce(const v1::LawSet& set, const std::string& name) {
  for (const v1::ActiveLaw& law : set.laws()) {
    if (law.name() == name) return &law;
  }
  return nullptr;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ProposalTest : public ::testing::Test {
 protected:
  explicit ProposalTest(const v1::Genesis& genesis = testing::TestGenesis()) : chain_(genesis) {}

  // A RegisterAccount of `key` with `role` and `delegate` bytes as given, signed by `registrar`.
  std::string RegisterWith(const KeyPair& registrar, const PublicKey& key, v1::Role role,
                           const std::string& delegate) {
    v1::TxBody body = chain_.Body(registrar);
    body.mutable_register_account()->set_public_key(Raw(key));
    body.mutable_register_account()->set_role(role);
    body.mutable_register_account()->set_delegate(delegate);
    return SignTx(body, registrar);
  }

  // A member registered in commune 0, in the constituency of `delegate` when one is given.
  KeyPair NewMember(const KeyPair* delegate = nullptr) {
    KeyPair key = chain_.NewKey();
    chain_.ApplyOk(delegate ? RegisterWith(chain_.registrar(), key.public_key(), v1::ROLE_MEMBER,
                                           Raw(delegate->public_key()))
                            : chain_.Register(chain_.registrar(), key.public_key(), v1::ROLE_MEMBER));
    return key;
  }

  std::string Propose(const KeyPair& signer, const std::string& source, uint64_t closes_week,
                      const std::string& file = "proposals/overtime_pay.law") {
    v1::TxBody body = chain_.Body(signer);
    body.mutable_propose_amendment()->set_file(file);
    body.mutable_propose_amendment()->set_source(source);
    body.mutable_propose_amendment()->set_closes_week(closes_week);
    return SignTx(body, signer);
  }

  Hash ProposeOk(const KeyPair& signer, const std::string& source, uint64_t closes_week) {
    const std::string tx = Propose(signer, source, closes_week);
    chain_.ApplyOk(tx);
    return IdOf(tx);
  }

  std::string Vote(const KeyPair& voter, const std::string& proposal, int choice) {
    v1::TxBody body = chain_.Body(voter);
    body.mutable_cast_vote()->set_proposal(proposal);
    body.mutable_cast_vote()->set_choice(static_cast<v1::VoteChoice>(choice));
    return SignTx(body, voter);
  }
  std::string Vote(const KeyPair& voter, const Hash& proposal, v1::VoteChoice choice) {
    return Vote(voter, std::string(AsChars(proposal)), choice);
  }
  void VoteOk(const KeyPair& voter, const Hash& proposal, v1::VoteChoice choice) {
    chain_.ApplyOk(Vote(voter, proposal, choice));
  }

  v1::ProposalRecord Proposal(const Hash& id) {
    std::optional<v1::ProposalRecord> proposal = chain_.state().Proposal(id);
    EXPECT_TRUE(proposal.has_value());
    return proposal.value_or(v1::ProposalRecord{});
  }

  // yes, no, abstain.
  std::array<uint64_t, 3> Tally(const Hash& id) {
    const v1::ProposalRecord p = Proposal(id);
    return {p.yes(), p.no(), p.abstain()};
  }

  uint64_t Week() { return chain_.state().ChainState().week(); }
  // The first block of week `week`: it closes the week before (and tallies its proposals).
  void EnterWeek(uint64_t week) { chain_.Apply({}, WeekStart(week)); }

  // A delegate `d` with constituents a, b, c and a member e without a delegate.
  void MakeConstituency() {
    d = chain_.NewAccount(v1::ROLE_DELEGATE);
    a = NewMember(&d);
    b = NewMember(&d);
    c = NewMember(&d);
    e = NewMember();
  }

  TestChain chain_;
  KeyPair d = testing::TestKey(0), a = d, b = d, c = d, e = d;
};

// --- constituencies at registration ---

TEST_F(ProposalTest, MembersJoinADelegatesConstituencyAndLeaveItWhenRetired) {
  MakeConstituency();
  std::optional<v1::Account> delegate = chain_.state().Account(d.public_key());
  ASSERT_TRUE(delegate.has_value());
  EXPECT_EQ(delegate->constituents(), 3u);
  EXPECT_EQ(delegate->constituents_registered(), 3u);
  std::optional<v1::Account> member = chain_.state().Account(b.public_key());
  ASSERT_TRUE(member.has_value());
  EXPECT_EQ(member->delegate(), Raw(d.public_key()));
  EXPECT_EQ(member->constituent_number(), 2u);
  EXPECT_TRUE(chain_.state().Account(e.public_key())->delegate().empty());
  EXPECT_EQ(chain_.state().HookState().active_members(), 4u);

  chain_.ApplyOk(chain_.Retire(chain_.registrar(), b.public_key()));
  EXPECT_EQ(chain_.state().Account(d.public_key())->constituents(), 2u);
  EXPECT_EQ(chain_.state().Account(d.public_key())->constituents_registered(), 3u) << "numbers are never reused";
  EXPECT_EQ(chain_.state().HookState().active_members(), 3u);
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), d.public_key()));
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), a.public_key()));
  EXPECT_EQ(chain_.state().Account(d.public_key())->constituents(), 1u) << "a retired delegate's count still follows";
  EXPECT_EQ(chain_.state().HookState().active_members(), 2u);
  // Retiring a delegate or any other role leaves the electorate as it is.
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), chain_.NewAccount(v1::ROLE_STORE).public_key()));
  EXPECT_EQ(chain_.state().HookState().active_members(), 2u);
}

TEST_F(ProposalTest, RegistrationUnderADelegateIsChecked) {
  const KeyPair delegate = chain_.NewAccount(v1::ROLE_DELEGATE);
  const KeyPair other_commune = chain_.NewAccount(v1::ROLE_DELEGATE, 1);
  const KeyPair retired = chain_.NewAccount(v1::ROLE_DELEGATE);
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), retired.public_key()));
  const KeyPair member = NewMember();
  const KeyPair& registrar = chain_.registrar();
  auto refused = [&](v1::Role role, const std::string& delegate_bytes, const std::string& code,
                     const std::string& part) {
    SCOPED_TRACE(part);
    const v1::TxResult result =
        chain_.ExpectRejected(RegisterWith(registrar, chain_.NewKey().public_key(), role, delegate_bytes), code);
    EXPECT_TRUE(Contains(result.message(), part)) << result.message();
  };
  for (v1::Role role : {v1::ROLE_DELEGATE, v1::ROLE_WORKPLACE, v1::ROLE_STORE, v1::ROLE_ISSUER, v1::ROLE_PLANNER}) {
    refused(role, Raw(delegate.public_key()), "BAD_FIELD", "only a member is registered under a delegate");
  }
  refused(v1::ROLE_MEMBER, std::string(31, 'x'), "BAD_FIELD", "delegate must be a 32-byte public key");
  refused(v1::ROLE_MEMBER, Raw(chain_.NewKey().public_key()), "BAD_DELEGATE", "is not an active delegate");
  refused(v1::ROLE_MEMBER, Raw(retired.public_key()), "BAD_DELEGATE", "is not an active delegate");
  refused(v1::ROLE_MEMBER, Raw(member.public_key()), "BAD_DELEGATE", "is not an active delegate");
  refused(v1::ROLE_MEMBER, Raw(registrar.public_key()), "BAD_DELEGATE", "is not an active delegate");
  refused(v1::ROLE_MEMBER, Raw(other_commune.public_key()), "BAD_DELEGATE", "belongs to commune 'commune-1'");
  // A key registered already is refused as such, whatever delegate it names.
  chain_.ExpectRejected(RegisterWith(registrar, member.public_key(), v1::ROLE_MEMBER, Raw(delegate.public_key())),
                        "ACCOUNT_EXISTS");
  EXPECT_EQ(chain_.state().Account(delegate.public_key())->constituents(), 0u);
  // The other commune's registrar may register members under its own delegate.
  chain_.ApplyOk(RegisterWith(chain_.registrar(1), chain_.NewKey().public_key(), v1::ROLE_MEMBER,
                              Raw(other_commune.public_key())));
  EXPECT_EQ(chain_.state().Account(other_commune.public_key())->constituents(), 1u);
}

// --- proposals ---

TEST_F(ProposalTest, AProposalIsStoredUnderItsTransactionId) {
  MakeConstituency();
  const std::string tx = Propose(d, Overtime(3), 1);
  chain_.ApplyOk(tx);
  const Hash id = IdOf(tx);
  const v1::ProposalRecord p = Proposal(id);
  EXPECT_EQ(p.id(), std::string(AsChars(id)));
  EXPECT_EQ(p.proposer(), Raw(d.public_key()));
  EXPECT_EQ(p.law(), "overtime_pay");
  EXPECT_EQ(p.law_version(), 3);
  EXPECT_EQ(p.replaces_version(), 2);
  EXPECT_EQ(p.file(), "proposals/overtime_pay.law");
  EXPECT_EQ(p.source(), Overtime(3));
  EXPECT_EQ(p.source_hash(), std::string(AsChars(Sha256(AsBytes(Overtime(3))))));
  EXPECT_EQ(p.proposed_height(), chain_.height());
  EXPECT_EQ(p.closes_week(), 1u);
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_OPEN);
  EXPECT_EQ(p.votes(), 0u);
  ASSERT_EQ(chain_.state().ProposalWeek(1).proposals_size(), 1);
  EXPECT_EQ(chain_.state().ProposalWeek(1).proposals(0), std::string(AsChars(id)));
  EXPECT_EQ(chain_.state().ProposalWeek(2).proposals_size(), 0);
  // Nothing is in force until the tally.
  EXPECT_EQ(InForce(chain_.state().LawSet(), "overtime_pay")->law_version(), 2);
}

TEST_F(ProposalTest, EveryRefusalOfAProposal) {
  MakeConstituency();
  const KeyPair workplace = chain_.NewAccount(v1::ROLE_WORKPLACE);
  const KeyPair retired = chain_.NewAccount(v1::ROLE_DELEGATE);
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), retired.public_key()));
  auto refused = [&](const std::string& tx, const std::string& code, const std::string& part) {
    SCOPED_TRACE(code + ": " + part);
    const v1::TxResult result = chain_.ExpectRejected(tx, code);
    EXPECT_TRUE(Contains(result.message(), part)) << result.message();
  };
  // Who may propose: an active delegate only.
  refused(Propose(a, Overtime(3), 1), "UNAUTHORIZED", "only a ROLE_DELEGATE may propose amendments");
  refused(Propose(workplace, Overtime(3), 1), "UNAUTHORIZED", "the signer is a ROLE_WORKPLACE");
  refused(Propose(chain_.registrar(), Overtime(3), 1), "UNAUTHORIZED", "ROLE_COMMUNE");
  refused(Propose(retired, Overtime(3), 1), "RETIRED_SIGNER", "is retired");
  // The module.
  refused(Propose(d, "law broken version\n", 1), "AMENDMENT_INVALID",
          "does not load: LAW_SYNTAX: proposals/overtime_pay.law:2:1: expected a whole version number");
  refused(Propose(d, Overtime(3, "2", "4 credits"), 1), "AMENDMENT_TESTS_FAIL",
          "overtime_pay v3 fails its own test \"45 hours at rate 1\"");
  refused(Propose(d, Overtime(2, "1.5", "2.5 credits"), 1), "AMENDMENT_VERSION",
          "overtime_pay is in force at version 2; an amendment must have a higher version, not 2");
  refused(Propose(d, Overtime(1, "1.5", "2.5 credits"), 1), "AMENDMENT_VERSION", "not 1");
  refused(Propose(d, Overtime(0), 1), "AMENDMENT_INVALID", "the version must be at least 1");
  refused(Propose(d, Overtime(3), 1, ""), "BAD_FIELD", "file must be 1 to 256 bytes");
  refused(Propose(d, Overtime(3), 1, std::string(kMaxLawFileBytes + 1, 'f')), "BAD_FIELD", "file must be");
  // The voting period: after the current week, at most kMaxVotingWeeks later.
  ASSERT_EQ(Week(), 0u);
  refused(Propose(d, Overtime(3), 0), "VOTING_PERIOD", "after the current week 0 and at most 8 weeks later");
  refused(Propose(d, Overtime(3), kMaxVotingWeeks + 1), "VOTING_PERIOD", "not in week 9");
  refused(Propose(d, Overtime(3), UINT64_MAX), "VOTING_PERIOD", "week");
  // The longest file name and the last week allowed are accepted.
  const Hash open = ProposeOk(d, Overtime(3), kMaxVotingWeeks);
  // One open proposal per law.
  refused(Propose(d, Overtime(4, "3", "10 credits"), 2), "AMENDMENT_PENDING",
          "proposal " + ToHex(open) + " to amend overtime_pay is still open");
  chain_.ApplyOk(Propose(d, Idle("long_file_name"), 2, std::string(kMaxLawFileBytes, 'f')));
}

TEST_F(ProposalTest, AtMostSixteenProposalsCloseInOneWeek) {
  const KeyPair delegate = chain_.NewAccount(v1::ROLE_DELEGATE);
  for (size_t i = 0; i < kMaxProposalsPerWeek; ++i) chain_.ApplyOk(Propose(delegate, Idle("law_" + std::to_string(i)), 3));
  const v1::TxResult full = chain_.ExpectRejected(Propose(delegate, Idle("law_16"), 3), "TOO_MANY_PROPOSALS");
  EXPECT_TRUE(Contains(full.message(), "16 proposals already close in week 3")) << full.message();
  chain_.ApplyOk(Propose(delegate, Idle("law_16"), 4));
  EXPECT_EQ(chain_.state().ProposalWeek(3).proposals_size(), 16);
}

TEST(ProposalLawSet, ANewLawWhenSixtyFourAreInForceIsRefused) {
  std::vector<std::string> fillers;
  for (size_t i = contracts::StandardLaws().size(); i < kMaxLaws; ++i) fillers.push_back(Idle("filler_" + std::to_string(i)));
  TestChain chain(GenesisWith(fillers));
  ASSERT_EQ(static_cast<size_t>(chain.state().LawSet().laws_size()), kMaxLaws);
  const KeyPair delegate = chain.NewAccount(v1::ROLE_DELEGATE);
  auto propose = [&](const std::string& source) {
    v1::TxBody body = chain.Body(delegate);
    body.mutable_propose_amendment()->set_file("p.law");
    body.mutable_propose_amendment()->set_source(source);
    body.mutable_propose_amendment()->set_closes_week(1);
    return SignTx(body, delegate);
  };
  const v1::TxResult full = chain.ExpectRejected(propose(Idle("one_more")), "LAW_SET_FULL");
  EXPECT_TRUE(Contains(full.message(), "64 laws are in force")) << full.message();
  chain.ApplyOk(propose(Overtime(3)));  // amending a law in force adds none
}

// --- votes ---

TEST_F(ProposalTest, EveryRefusalOfAVote) {
  MakeConstituency();
  const KeyPair workplace = chain_.NewAccount(v1::ROLE_WORKPLACE);
  const Hash id = ProposeOk(d, Overtime(3), 1);
  auto refused = [&](const std::string& tx, const std::string& code, const std::string& part) {
    SCOPED_TRACE(code + ": " + part);
    const v1::TxResult result = chain_.ExpectRejected(tx, code);
    EXPECT_TRUE(Contains(result.message(), part)) << result.message();
  };
  const std::string raw_id(AsChars(id));
  refused(Vote(workplace, id, VOTE_CHOICE_YES), "UNAUTHORIZED", "only a ROLE_DELEGATE or a ROLE_MEMBER may vote");
  refused(Vote(chain_.issuer(), id, VOTE_CHOICE_YES), "UNAUTHORIZED", "ROLE_ISSUER");
  refused(Vote(a, raw_id.substr(1), VOTE_CHOICE_YES), "BAD_FIELD", "proposal must be a 32-byte SHA-256");
  refused(Vote(a, raw_id, VOTE_CHOICE_NO + 10), "BAD_FIELD", "choice must be yes, no or abstain");
  refused(Vote(a, raw_id, v1::VOTE_CHOICE_UNSPECIFIED), "BAD_FIELD", "choice must be yes, no or abstain");
  refused(Vote(a, Sha256(AsBytes("no such proposal")), VOTE_CHOICE_YES), "UNKNOWN_PROPOSAL", "there is no proposal");
  VoteOk(a, id, VOTE_CHOICE_YES);
  VoteOk(d, id, VOTE_CHOICE_YES);
  refused(Vote(a, id, VOTE_CHOICE_NO), "ALREADY_VOTED", "the signer has voted on proposal " + ToHex(id));
  refused(Vote(d, id, VOTE_CHOICE_YES), "ALREADY_VOTED", "has voted");
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), b.public_key()));
  refused(Vote(b, id, VOTE_CHOICE_NO), "RETIRED_SIGNER", "is retired");
  // Votes are taken through the closing week, not after it.
  chain_.Apply({}, WeekStart(1));
  VoteOk(c, id, VOTE_CHOICE_NO);
  EnterWeek(2);
  refused(Vote(e, id, VOTE_CHOICE_NO), "PROPOSAL_CLOSED", "was tallied at height " + std::to_string(chain_.height()));
}

// The tally in members: delegates for their constituents, members for themselves.
TEST_F(ProposalTest, DelegateThenOverridingMember) {
  MakeConstituency();
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(d, id, VOTE_CHOICE_YES);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{3, 0, 0})) << "the delegate counts for a, b and c";
  EXPECT_EQ(chain_.state().Vote(id, d.public_key())->weight(), 3u);
  VoteOk(a, id, VOTE_CHOICE_NO);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{2, 1, 0})) << "a's own vote replaces the delegate's for a";
  EXPECT_TRUE(chain_.state().Vote(id, a.public_key())->replaced_delegate_vote());
  VoteOk(b, id, VOTE_CHOICE_YES);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{2, 1, 0})) << "agreeing with the delegate changes nothing";
  VoteOk(e, id, VOTE_CHOICE_ABSTAIN);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{2, 1, 1})) << "a member without a delegate counts for itself";
  // A member who joined after the delegate voted was not counted by it: its vote takes nothing off.
  const KeyPair late = NewMember(&d);
  VoteOk(late, id, VOTE_CHOICE_NO);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{2, 2, 1}));
  EXPECT_FALSE(chain_.state().Vote(id, late.public_key())->replaced_delegate_vote());
  EXPECT_EQ(Proposal(id).votes(), 5u);
}

TEST_F(ProposalTest, OverridingMemberThenDelegate) {
  MakeConstituency();
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(a, id, VOTE_CHOICE_NO);
  VoteOk(b, id, VOTE_CHOICE_ABSTAIN);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{0, 1, 1}));
  VoteOk(d, id, VOTE_CHOICE_YES);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{1, 1, 1})) << "the delegate counts only c, who did not vote";
  EXPECT_EQ(chain_.state().Vote(id, d.public_key())->weight(), 1u);
  VoteOk(c, id, VOTE_CHOICE_NO);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{0, 2, 1})) << "c takes its vote back from the delegate";
}

TEST_F(ProposalTest, ARetiredVoterStaysCountedAndLeavesTheDelegatesWeight) {
  MakeConstituency();
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(a, id, VOTE_CHOICE_NO);
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), a.public_key()));  // a's vote stands
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), b.public_key()));  // b never voted
  VoteOk(d, id, VOTE_CHOICE_YES);
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{1, 1, 0})) << "the delegate counts c alone";
  // After the delegate voted, a retirement changes nothing: its weight was taken when it voted.
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), c.public_key()));
  EXPECT_EQ(Tally(id), (std::array<uint64_t, 3>{1, 1, 0}));
}

TEST_F(ProposalTest, VotesAreProvablePresentAndAbsent) {
  MakeConstituency();
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(b, id, VOTE_CHOICE_NO);
  const Hash root = chain_.root();
  for (const KeyPair* voter : {&b, &c}) {
    const Hash key_hash = Sha256(AsBytes(VoteKey(id, voter->public_key())));
    Result<std::optional<Hash>> proven = VerifyStateProof(root, key_hash, ProveState(chain_.kv(), key_hash));
    ASSERT_TRUE(proven.ok());
    std::optional<v1::VoteRecord> vote = chain_.state().Vote(id, voter->public_key());
    if (voter == &b) {
      ASSERT_TRUE(vote.has_value() && proven->has_value());
      EXPECT_EQ(**proven, Sha256(AsBytes(*chain_.state().RawRecord(VoteKey(id, b.public_key())))));
      EXPECT_EQ(vote->choice(), VOTE_CHOICE_NO);
      EXPECT_EQ(vote->role(), v1::ROLE_MEMBER);
      EXPECT_EQ(vote->height(), chain_.height());
    } else {
      EXPECT_FALSE(vote.has_value());
      EXPECT_FALSE(proven->has_value()) << "no vote of c's is recorded, provably";
    }
  }
}

// --- the tally ---

TEST_F(ProposalTest, AnAdoptedAmendmentRunsFromTheNextBlockAndTheHeaderSaysSoThen) {
  MakeConstituency();
  const KeyPair workplace = chain_.NewAccount(v1::ROLE_WORKPLACE);
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(d, id, VOTE_CHOICE_YES);
  VoteOk(e, id, VOTE_CHOICE_NO);
  // Week 1: a works 45 hours; the vote is still open.
  chain_.Apply({}, WeekStart(1));
  const int64_t now_s = chain_.time_ms() / 1000;
  std::vector<std::string> shifts;
  for (int i = 0; i < 3; ++i) shifts.push_back(chain_.Attend(workplace, a.public_key(), now_s, 15 * 60));
  ASSERT_EQ(chain_.Apply(shifts), std::vector<std::string>(3, "OK"));

  const Hash before = ReadChainTip(chain_.kv()).law_set_hash;
  // The first block of week 2 closes week 1: a's week is paid by the laws in force (v2) and the
  // proposal is tallied and adopted.
  v1::BlockHeader tally_header;
  ASSERT_TRUE(tally_header.ParseFromString(chain_.Block({}, WeekStart(2)).header()));
  EXPECT_EQ(tally_header.law_set_hash(), std::string(AsChars(before)));
  EnterWeek(2);
  const uint64_t tally_height = chain_.height();
  const v1::ProposalRecord p = Proposal(id);
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_ADOPTED);
  EXPECT_EQ(p.yes(), 3u);
  EXPECT_EQ(p.no(), 1u);
  EXPECT_EQ(p.electorate(), 4u);
  EXPECT_EQ(p.tallied_height(), tally_height);
  EXPECT_EQ(p.reason(), "adopted under amendment_tally v1 §3");
  ASSERT_EQ(p.law_runs_size(), 1);
  EXPECT_EQ(p.law_runs(0).law(), "amendment_tally v1");
  EXPECT_EQ(p.law_runs(0).hook(), "proposal_tallied");
  EXPECT_EQ(p.law_runs(0).code(), "OK");
  ASSERT_GE(p.law_runs(0).trace_size(), 2) << "a tally's run keeps its explanation";
  EXPECT_TRUE(Contains(p.law_runs(0).trace(0), "proposal = overtime_pay v3, yes = 3, no = 1, abstain = 0, electorate = 4"))
      << p.law_runs(0).trace(0);
  bool paid_by_v2 = false;
  for (const v1::ClosingRun& closing : chain_.last_results().closings()) {
    for (const v1::LawRun& run : closing.law_runs()) paid_by_v2 = paid_by_v2 || run.law() == "overtime_pay v2";
  }
  EXPECT_TRUE(paid_by_v2) << "the block that adopts v3 still runs v2";

  // The law set now holds v3 from the next block, and the next header commits to it.
  const v1::LawSet set = chain_.state().LawSet();
  const v1::ActiveLaw* overtime = InForce(set, "overtime_pay");
  ASSERT_NE(overtime, nullptr);
  EXPECT_EQ(overtime->law_version(), 3);
  EXPECT_EQ(overtime->effective_height(), tally_height + 1);
  EXPECT_EQ(overtime->source_hash(), p.source_hash());
  std::optional<v1::LawRecord> record = chain_.state().Law("overtime_pay", 3);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->enacted_height(), tally_height);
  EXPECT_EQ(record->previous_version(), 2);
  EXPECT_EQ(record->source(), Overtime(3));
  EXPECT_EQ(record->file(), "proposals/overtime_pay.law");
  EXPECT_TRUE(chain_.state().Law("overtime_pay", 2).has_value()) << "the old version stays on the ledger";
  const Hash after = ReadChainTip(chain_.kv()).law_set_hash;
  EXPECT_NE(after, before);
  EXPECT_EQ(after, LawSetHash(set));
  v1::BlockHeader next;
  ASSERT_TRUE(next.ParseFromString(chain_.Block({}, chain_.time_ms() + 1000).header()));
  EXPECT_EQ(next.law_set_hash(), std::string(AsChars(after)));
  EXPECT_EQ(LawBookOf(chain_.kv(), after)->laws().size(), 7u);

  // Week 2: 45 hours are paid with the new premium when week 2 closes.
  std::vector<std::string> more;
  for (int i = 0; i < 3; ++i) more.push_back(chain_.Attend(workplace, a.public_key(), WeekStart(2) / 1000, 15 * 60));
  ASSERT_EQ(chain_.Apply(more), std::vector<std::string>(3, "OK"));
  EnterWeek(3);
  const v1::LawRun* v3 = nullptr;
  for (const v1::ClosingRun& closing : chain_.last_results().closings()) {
    for (const v1::LawRun& run : closing.law_runs()) {
      if (run.law() == "overtime_pay v3") v3 = &run;
    }
  }
  ASSERT_NE(v3, nullptr);
  ASSERT_EQ(v3->issues_size(), 1);
  EXPECT_EQ(v3->issues(0).amount_milli(), 5'000) << "5 hours at 2x: 5 credits on top of labour pay";
  EXPECT_EQ(v3->issues(0).reason(), "overtime 5h at 2x in week 2");
  // The law is open to amendment again.
  chain_.ApplyOk(Propose(d, Overtime(4, "3", "10 credits"), 4));
}

TEST_F(ProposalTest, RejectedWithoutAQuorumAndTheLawsStayAsTheyWere) {
  MakeConstituency();
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(a, id, VOTE_CHOICE_YES);  // 1 of 4 voted
  const Hash before = ReadChainTip(chain_.kv()).law_set_hash;
  EnterWeek(2);
  const v1::ProposalRecord p = Proposal(id);
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_REJECTED);
  EXPECT_EQ(p.reason(), "amendment_tally v1 §3: overtime_pay v3: 1 of 4 members voted, fewer than the quorum of 0.5");
  ASSERT_EQ(p.law_runs_size(), 1);
  EXPECT_EQ(p.law_runs(0).code(), "LAW_REJECTED");
  EXPECT_GE(p.law_runs(0).trace_size(), 2);
  EXPECT_EQ(ReadChainTip(chain_.kv()).law_set_hash, before);
  EXPECT_FALSE(chain_.state().Law("overtime_pay", 3).has_value());
  // Closed: a new proposal for the same law may be made, with the same text.
  chain_.ApplyOk(Propose(d, Overtime(3), 3));
}

TEST_F(ProposalTest, ExactlyTheQuorumIsEnoughButATieIsNoMajority) {
  MakeConstituency();  // electorate 4: the quorum is 2
  const Hash quorum = ProposeOk(d, Overtime(3), 1);
  VoteOk(a, quorum, VOTE_CHOICE_YES);
  VoteOk(e, quorum, VOTE_CHOICE_ABSTAIN);
  const Hash tie = ProposeOk(d, Idle("tie_law"), 1);
  VoteOk(a, tie, VOTE_CHOICE_YES);
  VoteOk(b, tie, VOTE_CHOICE_NO);
  VoteOk(e, tie, VOTE_CHOICE_YES);
  VoteOk(c, tie, VOTE_CHOICE_NO);
  EnterWeek(2);
  EXPECT_EQ(Proposal(quorum).status(), v1::PROPOSAL_STATUS_ADOPTED) << Proposal(quorum).reason();
  const v1::ProposalRecord p = Proposal(tie);
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_REJECTED);
  EXPECT_EQ(p.reason(),
            "amendment_tally v1 §3: tie_law v1: 2 yes against 2 no is not more than 0.5 of the yes and no votes");
  EXPECT_EQ(InForce(chain_.state().LawSet(), "tie_law"), nullptr);
}

TEST_F(ProposalTest, ANewLawIsAdoptedInNameOrderAndProposalsOfAWeekAreTalliedInOrder) {
  MakeConstituency();
  const Hash first = ProposeOk(d, Idle("aardvark"), 1);
  const Hash second = ProposeOk(d, Idle("zebra"), 1);
  const Hash later = ProposeOk(d, Idle("middle"), 2);
  for (const Hash& id : {first, second, later}) VoteOk(d, id, VOTE_CHOICE_YES);
  EnterWeek(2);
  EXPECT_EQ(Proposal(first).status(), v1::PROPOSAL_STATUS_ADOPTED);
  EXPECT_EQ(Proposal(second).status(), v1::PROPOSAL_STATUS_ADOPTED);
  EXPECT_EQ(Proposal(later).status(), v1::PROPOSAL_STATUS_OPEN) << "it closes with week 2";
  const v1::LawSet set = chain_.state().LawSet();
  std::vector<std::string> names;
  for (const v1::ActiveLaw& law : set.laws()) names.push_back(law.name());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.front(), "aardvark");
  EXPECT_EQ(names.back(), "zebra");
  EXPECT_EQ(chain_.state().Law("zebra", 1)->previous_version(), 0);
  // A halt: the next block comes weeks later and tallies what closed meanwhile.
  EnterWeek(6);
  EXPECT_EQ(Proposal(later).status(), v1::PROPOSAL_STATUS_ADOPTED);
  EXPECT_EQ(chain_.state().LawSet().laws_size(), 10);
}

TEST_F(ProposalTest, ASupersededProposalFails) {
  MakeConstituency();
  const Hash id = ProposeOk(d, Overtime(3), 1);
  VoteOk(d, id, VOTE_CHOICE_YES);
  // Version 3 comes into force some other way before the tally (only amendments exist now; the
  // state is edited directly, as a later kind of proposal might).
  {
    Overlay writes(chain_.kv());
    State state(writes, writes);
    const std::string text = Overtime(3, "3", "10 credits");
    v1::LawRecord law;
    law.set_version(1);
    law.set_name("overtime_pay");
    law.set_law_version(3);
    law.set_file("elsewhere.law");
    law.set_source(text);
    law.set_source_hash(std::string(AsChars(Sha256(AsBytes(text)))));
    law.set_previous_version(2);
    state.PutLaw(law);
    v1::ActiveLaw active;
    active.set_name("overtime_pay");
    active.set_law_version(3);
    active.set_source_hash(law.source_hash());
    active.set_effective_height(chain_.height() + 1);
    state.PutLawSet(WithLaw(state.LawSet(), active));
    CommitStateWrites(writes);
    writes.WriteTo(chain_.kv());
  }
  EnterWeek(2);
  const v1::ProposalRecord p = Proposal(id);
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_REJECTED);
  EXPECT_EQ(p.reason(),
            "it no longer amends the laws in force: overtime_pay is in force at version 3; an amendment must have a "
            "higher version, not 3");
  EXPECT_EQ(p.law_runs_size(), 0) << "the laws do not vote on what can no longer be enacted";
  EXPECT_EQ(chain_.state().Law("overtime_pay", 3)->file(), "elsewhere.law");
}

// With no law that decides, nothing is adopted; a law that rejects outweighs one that adopts; a
// tally pays no one.
class TallyLawsTest : public ProposalTest {
 protected:
  static std::string TallyLaw(const std::string& name, const std::string& body) {
    return "law " + name + " version 1\n  \"A tally law for a test.\"\n\n§ 1 \"The rule.\"\n\n" +
           "on proposal_tallied(proposal: text, yes: count, no: count, abstain: count, electorate: count)\n" + body +
           "\n";
  }
  explicit TallyLawsTest(const v1::Genesis& genesis) : ProposalTest(genesis) {}

  v1::ProposalRecord Tallied() {
    MakeConstituency();
    const Hash id = ProposeOk(d, Overtime(3), 1);
    VoteOk(d, id, VOTE_CHOICE_YES);
    VoteOk(e, id, VOTE_CHOICE_YES);
    EnterWeek(2);
    return Proposal(id);
  }
};

class NoTallyLaw : public TallyLawsTest {
 protected:
  NoTallyLaw() : TallyLawsTest(GenesisWith({}, {"amendment_tally"})) {}
};
TEST_F(NoTallyLaw, NothingIsAdopted) {
  const v1::ProposalRecord p = Tallied();
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_REJECTED);
  EXPECT_EQ(p.reason(), "no law in force decided to adopt it (none recorded adopted = true)");
  EXPECT_EQ(InForce(chain_.state().LawSet(), "overtime_pay")->law_version(), 2);
}

class VetoLaw : public TallyLawsTest {
 protected:
  VetoLaw()
      : TallyLawsTest(GenesisWith({TallyLaw("veto", "  when yes > 0:\n    reject because \"{proposal} is vetoed\""),
                                   TallyLaw("pay_voters", "  issue special to @x amount 1 credits because \"voted\""),
                                   TallyLaw("undecided", "  record adopted = false"),
                                   TallyLaw("odd", "  record adopted = 1")})) {}
};
TEST_F(VetoLaw, ARejectOrAnyRefusedEffectOutweighsAdoption) {
  const v1::ProposalRecord p = Tallied();
  EXPECT_EQ(p.status(), v1::PROPOSAL_STATUS_REJECTED);
  // The first refusal in law order (amendment_tally adopts, odd, pay_voters, undecided, veto).
  EXPECT_EQ(p.reason(), "odd v1 §1: adopted must be true or false");
  std::map<std::string, std::string> codes;
  for (const v1::LawRun& run : p.law_runs()) codes[run.law()] = run.code();
  EXPECT_EQ(codes, (std::map<std::string, std::string>{{"amendment_tally v1", "OK"},
                                                        {"odd v1", "LAW_BAD_EFFECT"},
                                                        {"pay_voters v1", "LAW_BAD_EFFECT"},
                                                        {"undecided v1", "OK"},
                                                        {"veto v1", "LAW_REJECTED"}}));
  for (const v1::LawRun& run : p.law_runs()) {
    if (run.law() == "veto v1") {
      EXPECT_EQ(run.message(), "veto v1 §1: overtime_pay v3 is vetoed");
    }
  }
  EXPECT_EQ(InForce(chain_.state().LawSet(), "overtime_pay")->law_version(), 2);
}

// --- determinism ---

// Applies `txs` at `time_ms` to `a`, and the very block `a` made to `b`: results, block hash and
// state root must be the same.
void ApplyToBoth(TestChain& a, TestChain& b, std::vector<std::string> txs, int64_t time_ms) {
  const v1::Block block = a.Block(txs, time_ms);
  Overlay writes(b.kv());
  Result<v1::BlockResults> results = ExecuteBlock(block, VerifyBlockSignatures(block, kChainId), writes);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  writes.WriteTo(b.kv());
  a.Apply(std::move(txs), time_ms);
  EXPECT_EQ(results->SerializeAsString(), a.last_results().SerializeAsString());
  EXPECT_EQ(ReadChainTip(a.kv()).block_hash, ReadChainTip(b.kv()).block_hash);
  EXPECT_EQ(a.root(), b.root());
}

TEST(ProposalDeterminism, TwoLedgersApplyingTheSameBlocksAgree) {
  TestChain a, b;
  TxBuilder builder(kChainId);
  const KeyPair delegate = a.NewKey(), m1 = a.NewKey(), m2 = a.NewKey(), m3 = a.NewKey();
  const KeyPair& registrar = a.registrar();
  ApplyToBoth(a, b,
              {a.Register(registrar, delegate.public_key(), v1::ROLE_DELEGATE),
               builder.RegisterMember(registrar, 2, m1.public_key(), delegate.public_key()),
               builder.RegisterMember(registrar, 3, m2.public_key(), delegate.public_key()),
               builder.Register(registrar, 4, m3.public_key(), v1::ROLE_MEMBER)},
              kGenesisTimeMs + 1000);
  const std::string proposal = builder.ProposeAmendment(delegate, 1, "o.law", Overtime(3), 1);
  const std::string other = builder.ProposeAmendment(delegate, 2, "n.law", Idle("newcomer"), 1);
  const Hash id = IdOf(proposal);
  ApplyToBoth(a, b, {proposal, other, builder.Vote(m1, 1, id, VOTE_CHOICE_NO)}, kGenesisTimeMs + 2000);
  ApplyToBoth(a, b,
              {builder.Vote(delegate, 3, id, VOTE_CHOICE_YES), builder.Vote(m2, 1, id, VOTE_CHOICE_YES),
               builder.Vote(m3, 1, id, VOTE_CHOICE_YES), builder.Vote(m3, 2, IdOf(other), VOTE_CHOICE_YES),
               builder.Vote(delegate, 4, IdOf(other), VOTE_CHOICE_YES)},
              kGenesisTimeMs + 3000);
  EXPECT_EQ(a.last_results().results_size(), 5);
  for (const v1::TxResult& result : a.last_results().results()) EXPECT_EQ(result.code(), "OK") << result.message();
  ApplyToBoth(a, b, {}, WeekStart(2));
  const Hash laws = ReadChainTip(a.kv()).law_set_hash;
  EXPECT_EQ(laws, ReadChainTip(b.kv()).law_set_hash);
  EXPECT_EQ(a.state().Proposal(id)->SerializeAsString(), b.state().Proposal(id)->SerializeAsString());
  EXPECT_EQ(a.state().Proposal(id)->status(), v1::PROPOSAL_STATUS_ADOPTED);
  EXPECT_EQ(a.state().Proposal(IdOf(other))->status(), v1::PROPOSAL_STATUS_ADOPTED);
  ApplyToBoth(a, b, {}, WeekStart(2) + 1000);
}

}  // namespace
}  // namespace gongshe::ledger
