// Laws on the ledger: stored at genesis and committed by the law-set hash, run at every hook,
// their effects applied under the constitution and refused where they would break it, failures
// contained (a transaction fails, a closing skips that law), weeks and epochs closed at the exact
// boundary block with bounded work, and the explanations kept.

#include <gtest/gtest.h>

#include "contracts/standard_laws.h"
#include "ledger/laws.h"
#include "ledger/state_machine.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::ledger {
namespace {

using testing::GenesisWith;
using testing::kEpochMs;
using testing::kGenesisTimeMs;
using testing::kWeekMs;
using testing::TestChain;
using v1::VOUCHER_CLASS_CONSUMPTION;
using v1::VOUCHER_CLASS_GUARANTEE;
using v1::VOUCHER_CLASS_SPECIAL;

std::string Hex(const KeyPair& key) { return ToHex(key.public_key()); }

// A law with one rule on `hook` whose body is `body` (indented two spaces).
std::string LawOn(const std::string& name, const std::string& hook, const std::string& body) {
  static const std::map<std::string, std::string> kSignatures = {
      {"attendance_recorded", "(worker: member, day: date, worked: hours, rate: credits per hour)"},
      {"week_closed", "(worker: member, week: week, worked: hours, rate: credits per hour)"},
      {"issuance_requested", "(recipient: member, class: voucher class, amount: credits, epoch: epoch)"},
  };
  return "law " + name + " version 1\n  \"A law for a test.\"\n\n§ 1 \"The rule.\"\n\non " + hook +
         kSignatures.at(hook) + "\n" + body + "\n";
}

// A chain with two members, a store and a workplace.
struct Town {
  explicit Town(const v1::Genesis& genesis = testing::TestGenesis()) : chain(genesis) {}

  int64_t Held(const KeyPair& member, v1::VoucherClass c) {
    int64_t total = 0;
    const uint64_t epoch = chain.state().ChainState().epoch();
    const v1::Balance balance = chain.state().Balance(member.public_key(), c);
    for (const v1::Lot& lot : balance.lots()) {
      if (lot.expiry_epoch() > epoch) total += lot.amount_milli();
    }
    return total;
  }

  // 45 hours for `member` in the current week: three shifts of 15 hours.
  void Work45Hours(const KeyPair& member) {
    const int64_t now_s = chain.time_ms() / 1000;
    std::vector<std::string> shifts;
    for (int i = 0; i < 3; ++i) shifts.push_back(chain.Attend(workplace, member.public_key(), now_s, 15 * 60));
    ASSERT_EQ(chain.Apply(shifts), std::vector<std::string>(3, "OK"));
  }

  TestChain chain;
  KeyPair alice = chain.NewAccount(v1::ROLE_MEMBER);
  KeyPair bob = chain.NewAccount(v1::ROLE_MEMBER);
  KeyPair store = chain.NewAccount(v1::ROLE_STORE);
  KeyPair workplace = chain.NewAccount(v1::ROLE_WORKPLACE);
};

const v1::LawRun* FindRun(const google::protobuf::RepeatedPtrField<v1::LawRun>& runs, const std::string& law,
                          const std::string& hook) {
  for (const v1::LawRun& run : runs) {
    if (run.law() == law && run.hook() == hook) return &run;
  }
  return nullptr;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// --- the law set on the ledger ---

TEST(LawSet, GenesisStoresEveryLawAndTheHeaderCommitsToThem) {
  TestChain chain;
  const v1::LawSet set = chain.state().LawSet();
  std::vector<std::string> names;
  for (const v1::ActiveLaw& law : set.laws()) names.push_back(law.name());
  EXPECT_EQ(names, (std::vector<std::string>{"amendment_tally", "guarantee_tickets", "issuance_cap", "labour_pay",
                                             "overtime_pay", "special_vouchers", "voucher_expiry"}));
  EXPECT_EQ(set.params().fuel_per_run(), kStandardFuelPerRun);
  EXPECT_EQ(set.params().labour_rate_milli_per_hour(), kStandardLabourRateMilli);
  for (size_t i = 0; i < contracts::StandardLaws().size(); ++i) {
    const v1::ActiveLaw& active = set.laws(static_cast<int>(i));
    std::optional<v1::LawRecord> record = chain.state().Law(active.name(), active.law_version());
    ASSERT_TRUE(record.has_value()) << active.name();
    EXPECT_EQ(record->source(), contracts::StandardLaws()[i].source);
    EXPECT_EQ(record->file(), contracts::StandardLaws()[i].file);
    EXPECT_EQ(record->source_hash(), std::string(AsChars(Sha256(AsBytes(record->source())))));
    EXPECT_EQ(record->source_hash(), active.source_hash());
    EXPECT_EQ(record->enacted_height(), 0u);
    EXPECT_EQ(active.effective_height(), 1u);
  }
  EXPECT_FALSE(chain.state().Law("overtime_pay", 1).has_value()) << "only version 2 was enacted";
  EXPECT_FALSE(chain.state().Law("", 1).has_value());

  const Hash hash = LawSetHash(set);
  EXPECT_EQ(ReadChainTip(chain.kv()).law_set_hash, hash);
  v1::BlockHeader header;
  ASSERT_TRUE(header.ParseFromString(chain.Block({}, kGenesisTimeMs + 1).header()));
  EXPECT_EQ(header.law_set_hash(), std::string(AsChars(hash)));
  // Still the same after blocks: only an adopted amendment changes the laws (proposal_test.cc).
  chain.Apply({}, kGenesisTimeMs + kEpochMs);
  EXPECT_EQ(ReadChainTip(chain.kv()).law_set_hash, hash);
}

TEST(LawSet, TheHashCoversEveryLawsTextVersionAndTheRunParameters) {
  const v1::LawSet base = TestChain().state().LawSet();
  const Hash hash = LawSetHash(base);
  auto changed = [&](auto mutate) {
    v1::LawSet set = base;
    mutate(set);
    return LawSetHash(set) != hash;
  };
  EXPECT_TRUE(changed([](v1::LawSet& s) { s.mutable_laws(2)->mutable_source_hash()->at(0) ^= 1; }));
  EXPECT_TRUE(changed([](v1::LawSet& s) { s.mutable_laws(2)->set_law_version(3); }));
  EXPECT_TRUE(changed([](v1::LawSet& s) { s.mutable_laws(2)->set_name("labour_pay2"); }));
  EXPECT_TRUE(changed([](v1::LawSet& s) { s.mutable_laws()->RemoveLast(); }));
  EXPECT_TRUE(changed([](v1::LawSet& s) { s.mutable_params()->set_fuel_per_run(99); }));
  EXPECT_TRUE(changed([](v1::LawSet& s) { s.mutable_params()->set_labour_rate_milli_per_hour(2'000); }));
  // Where a law takes effect is the set's business, not what the laws are.
  EXPECT_FALSE(changed([](v1::LawSet& s) { s.mutable_laws(2)->set_effective_height(7); }));
  // A comment changed in one law's text is another law set.
  v1::Genesis genesis = testing::TestGenesis();
  genesis.mutable_laws(0)->mutable_source()->append("-- a comment\n");
  EXPECT_NE(ReadChainTip(TestChain(genesis).kv()).law_set_hash, hash);
}

TEST(LawSet, LoadedOnceAndSharedWithTheLawsOfEachHook) {
  TestChain chain;
  const Hash hash = ReadChainTip(chain.kv()).law_set_hash;
  std::shared_ptr<const LawBook> book = LawBookOf(chain.kv(), hash);
  EXPECT_EQ(LawBookOf(chain.kv(), hash), book) << "the same law set is not parsed twice";
  EXPECT_EQ(book->hash(), hash);
  auto names = [&](contracts::Hook hook) {
    std::vector<std::string> out;
    for (const contracts::Law* law : book->OnHook(hook)) out.push_back(law->name());
    return out;
  };
  using contracts::Hook;
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(Hook::kAttendanceRecorded), Names{"labour_pay"});
  EXPECT_EQ(names(Hook::kWeekClosed), (Names{"labour_pay", "overtime_pay"}));
  EXPECT_EQ(names(Hook::kEpochClosed), Names{"guarantee_tickets"});
  EXPECT_EQ(names(Hook::kIssuanceRequested),
            (Names{"guarantee_tickets", "issuance_cap", "special_vouchers", "voucher_expiry"}));
  EXPECT_EQ(names(Hook::kRedemptionRequested), (Names{"guarantee_tickets", "special_vouchers"}));
  EXPECT_EQ(names(Hook::kProposalTallied), Names{"amendment_tally"});
}

// --- genesis checks ---

TEST(GenesisLaws, RefusedWithTheLawNamed) {
  auto refused = [](const std::function<void(v1::Genesis&)>& mutate, const std::string& part) {
    v1::Genesis genesis = testing::TestGenesis();
    mutate(genesis);
    Status status = CheckGenesis(genesis);
    EXPECT_EQ(status.code(), "BAD_GENESIS") << part;
    EXPECT_TRUE(Contains(status.message(), part)) << status.message();
  };
  refused([](v1::Genesis& g) { g.mutable_laws(2)->set_source("law broken version\n"); },
          "laws[2]: contracts/laws/issuance_cap.law:");
  refused([](v1::Genesis& g) { g.mutable_laws(4)->set_source(std::string(g.laws(3).source())); },
          "laws[4]: law 'labour_pay' appears twice");
  refused([](v1::Genesis& g) { g.mutable_laws(0)->mutable_source()->append("-- caf\xe9\n"); }, "is not UTF-8");
  refused([](v1::Genesis& g) { g.mutable_laws(0)->set_file(""); }, "laws[0].file must be 1-256 bytes");
  refused([](v1::Genesis& g) { g.mutable_law_params()->set_fuel_per_run(0); }, "fuel_per_run");
  refused([](v1::Genesis& g) { g.mutable_law_params()->set_fuel_per_run(kMaxFuelPerRun + 1); }, "fuel_per_run");
  refused([](v1::Genesis& g) { g.mutable_law_params()->set_labour_rate_milli_per_hour(-1); }, "labour_rate");
  refused(
      [](v1::Genesis& g) {
        std::string source = g.laws(4).source();
        source.replace(source.find("amount 2.5 credits"), 18, "amount 2.4 credits");
        g.mutable_laws(4)->set_source(source);
      },
      "fails its own test \"45 hours at rate 1 pay 2.5 credits on top of labour pay\"");
  refused(
      [](v1::Genesis& g) {
        for (int i = 0; i < 60; ++i) *g.add_laws() = g.laws(0);
      },
      "at most 64");
}

TEST(GenesisLaws, TheGenesisFileCarriesTheLawsAndNoVoucherPolicy) {
  const v1::Genesis genesis = testing::TestGenesis();
  const std::string json = GenesisToJson(genesis);
  Result<GenesisDoc> doc = ParseGenesis(json);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->genesis.laws_size(), 7);
  EXPECT_EQ(doc->genesis.laws(3).source(), contracts::StandardLaws()[3].source);
  // The voucher policy of old is gone: a genesis naming it is refused, not half-understood.
  std::string old = json;
  old.insert(old.rfind('}'), ",\"voucher_policy\": {\"version\": 1}");
  Result<GenesisDoc> refused = ParseGenesis(old);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), "BAD_GENESIS");
}

// --- week closing: labour pay and overtime, through the laws alone ---

TEST(WeekClosed, FortyFiveHoursArePaidWithOvertimeInTheFirstBlockOfTheNextWeek) {
  Town town;
  town.Work45Hours(town.alice);
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 0) << "pay waits for the week to close";
  EXPECT_EQ(town.chain.last_results().results(0).law_runs_size(), 0) << "a shift within the law acts on nothing";

  town.chain.Apply({}, kGenesisTimeMs + kWeekMs - 1);  // the last millisecond of week 0
  EXPECT_EQ(town.chain.last_results().closings_size(), 0);
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 0);

  town.chain.Apply({}, kGenesisTimeMs + kWeekMs);  // the first block of week 1
  const uint64_t height = town.chain.height();
  const v1::BlockResults& results = town.chain.last_results();
  ASSERT_EQ(results.closings_size(), 1) << "bob recorded no attendance: his week has nothing to close";
  const v1::ClosingRun& closing = results.closings(0);
  EXPECT_EQ(closing.hook(), "week_closed");
  EXPECT_EQ(closing.member(), testing::Bytes32(town.alice.public_key()));
  EXPECT_EQ(closing.period(), 0u);
  // 45 credits of labour pay and 2.5 of overtime pay, in one lot that voucher_expiry dates.
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 47'500);
  v1::Balance balance = town.chain.state().Balance(town.alice.public_key(), VOUCHER_CLASS_CONSUMPTION);
  ASSERT_EQ(balance.lots_size(), 1);
  EXPECT_EQ(balance.lots(0).expiry_epoch(), 3u);
  EXPECT_EQ(town.chain.state().Cohort(VOUCHER_CLASS_CONSUMPTION, 3).issued_milli(), 47'500);

  const v1::LawRun* labour = FindRun(closing.law_runs(), "labour_pay v2", "week_closed");
  const v1::LawRun* overtime = FindRun(closing.law_runs(), "overtime_pay v2", "week_closed");
  ASSERT_TRUE(labour && overtime);
  EXPECT_EQ(labour->code(), "OK");
  ASSERT_EQ(labour->effects_size(), 1);
  EXPECT_EQ(labour->effects(0), "issue consumption 45 credits to @" + Hex(town.alice) +
                                    " because 45h worked in week 0 at 1 credits per hour (labour_pay v2 §2)");
  ASSERT_EQ(overtime->effects_size(), 1);
  EXPECT_EQ(overtime->effects(0), "issue consumption 2.5 credits to @" + Hex(town.alice) +
                                      " because overtime 5h at 1.5x in week 0 (overtime_pay v2 §2)");
  ASSERT_GE(overtime->trace_size(), 3);
  EXPECT_TRUE(Contains(overtime->trace(0), "overtime_pay v2 §2, on week_closed (contracts/laws/overtime_pay.law:"));
  EXPECT_EQ(overtime->trace(2), "  let overtime = max(worked - standard_week, 0h) = 5h");
  // Each lot was checked by the issuance laws, which dated it.
  const v1::LawRun* expiry = FindRun(closing.law_runs(), "voucher_expiry v1", "issuance_requested");
  ASSERT_NE(expiry, nullptr);
  EXPECT_EQ(expiry->effects(0), "record expires = epoch 3 (voucher_expiry v1 §1)");

  // The index finds the block that explains alice's week 0.
  std::optional<std::string> indexed =
      town.chain.kv().Get(ClosingIndexKey("week_closed", town.alice.public_key(), 0));
  ASSERT_TRUE(indexed.has_value());
  EXPECT_EQ(ReadBigEndian64(AsBytes(*indexed)), height);
  EXPECT_FALSE(town.chain.kv().Get(ClosingIndexKey("week_closed", town.bob.public_key(), 0)).has_value());

  // A week closes once.
  town.chain.Apply({});
  EXPECT_EQ(town.chain.last_results().closings_size(), 0);
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 47'500);
}

TEST(WeekClosed, AttendanceInTheBoundaryBlockCountsForTheNewWeek) {
  Town town;
  const int64_t week1_s = (kGenesisTimeMs + kWeekMs) / 1000;
  town.chain.ApplyOk(town.chain.Attend(town.workplace, town.alice.public_key(), kGenesisTimeMs / 1000, 600));
  // The boundary block closes week 0 (10 h for alice) before its own shift (for week 1) applies.
  std::vector<std::string> codes =
      town.chain.Apply({town.chain.Attend(town.workplace, town.alice.public_key(), week1_s, 120)}, kGenesisTimeMs + kWeekMs);
  EXPECT_EQ(codes, std::vector<std::string>{"OK"});
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 10'000);
  EXPECT_EQ(town.chain.state().AttendanceMinutes(town.alice.public_key(), 1), 120u);
  town.chain.Apply({}, kGenesisTimeMs + 2 * kWeekMs);
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 12'000);
  ASSERT_EQ(town.chain.last_results().closings_size(), 1);
  EXPECT_EQ(town.chain.last_results().closings(0).period(), 1u);
}

TEST(WeekClosed, ARetiredWorkerIsNotPaid) {
  Town town;
  town.Work45Hours(town.bob);
  town.chain.ApplyOk(town.chain.Retire(town.chain.registrar(), town.bob.public_key()));
  town.chain.Apply({}, kGenesisTimeMs + kWeekMs);
  EXPECT_EQ(town.chain.last_results().closings_size(), 0);
  EXPECT_EQ(town.chain.state().Balance(town.bob.public_key(), VOUCHER_CLASS_CONSUMPTION).lots_size(), 0);
}

// --- epoch closing: guarantee tickets ---

TEST(EpochClosed, EveryActiveMemberIsAllottedGuaranteeTicketsAtTheExactBoundary) {
  Town town;
  town.chain.ApplyOk(town.chain.Retire(town.chain.registrar(), town.bob.public_key()));
  town.chain.Apply({}, kGenesisTimeMs + kEpochMs - 1);
  EXPECT_EQ(town.chain.last_results().closings_size(), 0);
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_GUARANTEE), 0);

  town.chain.Apply({}, kGenesisTimeMs + kEpochMs);
  ASSERT_EQ(town.chain.last_results().closings_size(), 1) << "bob is retired";
  const v1::ClosingRun& closing = town.chain.last_results().closings(0);
  EXPECT_EQ(closing.hook(), "epoch_closed");
  EXPECT_EQ(closing.period(), 0u);
  const v1::LawRun* allotment = FindRun(closing.law_runs(), "guarantee_tickets v1", "epoch_closed");
  ASSERT_NE(allotment, nullptr);
  EXPECT_EQ(allotment->effects(0), "issue guarantee 30 credits to @" + Hex(town.alice) +
                                       " because guarantee allotment for epoch 1 (guarantee_tickets v1 §1)");
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_GUARANTEE), 30'000);
  EXPECT_EQ(town.chain.state().Balance(town.alice.public_key(), VOUCHER_CLASS_GUARANTEE).lots(0).expiry_epoch(), 2u);
  EXPECT_EQ(town.Held(town.bob, VOUCHER_CLASS_GUARANTEE), 0);
  EXPECT_TRUE(town.chain.kv().Get(ClosingIndexKey("epoch_closed", town.alice.public_key(), 0)).has_value());
  // The allotment is all a member gets in the epoch: the issuer cannot add to it.
  v1::TxResult over = town.chain.ExpectRejected(
      town.chain.Issue(town.chain.issuer(), town.alice.public_key(), VOUCHER_CLASS_GUARANTEE, 1), "LAW_REJECTED");
  EXPECT_EQ(over.message(), "guarantee_tickets v1 §2: 30.001 credits of guarantee tickets in epoch 1 would exceed the "
                            "allotment of 30 credits");
}

TEST(EpochClosed, TheAllotmentComesAgainEachEpochAndTheLastOneExpires) {
  Town town;
  town.chain.Apply({}, kGenesisTimeMs + kEpochMs);  // epoch 1: alice and bob get 30 each
  town.chain.ApplyOk(town.chain.Redeem(town.alice, town.store, VOUCHER_CLASS_GUARANTEE, 5'000, "bread"));
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_GUARANTEE), 25'000);
  town.chain.Apply({}, kGenesisTimeMs + 2 * kEpochMs);
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_GUARANTEE), 30'000);
  EXPECT_EQ(town.Held(town.bob, VOUCHER_CLASS_GUARANTEE), 30'000);
  EXPECT_EQ(town.chain.state().Cohort(VOUCHER_CLASS_GUARANTEE, 2).expired_milli(), 55'000);
}

TEST(EpochClosed, ClosingsAreBoundedPerBlockAndContinueInOrder) {
  Town town;
  std::vector<std::string> registrations;
  std::vector<PublicKey> members = {town.alice.public_key(), town.bob.public_key()};
  for (uint64_t i = 0; i < kMaxClosingsPerBlock + 1; ++i) {
    KeyPair key = town.chain.NewKey();
    members.push_back(key.public_key());
    registrations.push_back(town.chain.Register(town.chain.registrar(), key.public_key(), v1::ROLE_MEMBER));
  }
  EXPECT_EQ(town.chain.Apply(registrations), std::vector<std::string>(registrations.size(), "OK"));
  EXPECT_EQ(town.chain.state().HookState().members(), members.size());

  // The boundary block closes the first 1000 members, then its transaction issues 10 guarantee
  // credits for epoch 1 to the last member, whose closing comes in the next block.
  EXPECT_EQ(town.chain.Apply({town.chain.Issue(town.chain.issuer(), members.back(), VOUCHER_CLASS_GUARANTEE, 10'000)},
                             kGenesisTimeMs + kEpochMs),
            std::vector<std::string>{"OK"});
  const v1::BlockResults first = town.chain.last_results();
  ASSERT_EQ(static_cast<uint64_t>(first.closings_size()), kMaxClosingsPerBlock);
  for (uint64_t i = 0; i < kMaxClosingsPerBlock; ++i) {
    EXPECT_EQ(first.closings(static_cast<int>(i)).member(), testing::Bytes32(members[i])) << i;
  }
  v1::HookState hooks = town.chain.state().HookState();
  ASSERT_EQ(hooks.closings_size(), 1);
  EXPECT_EQ(hooks.closings(0).next(), kMaxClosingsPerBlock);
  EXPECT_EQ(hooks.closings(0).end(), members.size());

  town.chain.Apply({});
  const v1::BlockResults& second = town.chain.last_results();
  ASSERT_EQ(static_cast<size_t>(second.closings_size()), members.size() - kMaxClosingsPerBlock);
  EXPECT_EQ(second.closings(2).member(), testing::Bytes32(members.back()));
  EXPECT_EQ(second.closings(2).period(), 0u);
  EXPECT_EQ(second.closings(2).law_runs(0).effects(0),
            "issue guarantee 20 credits to @" + ToHex(members.back()) +
                " because guarantee allotment for epoch 1 (guarantee_tickets v1 §1)")
      << "the tickets issued ahead are deducted";
  EXPECT_EQ(town.chain.state().HookState().closings_size(), 0);
  EXPECT_EQ(town.chain.state().EpochIssuance(VOUCHER_CLASS_GUARANTEE, 1).issued_milli(),
            static_cast<int64_t>(members.size()) * 30'000);
}

// --- issuance_requested binds law-issued vouchers too ---

TEST(IssuanceRequested, ACapRefusesLabourPayButNotTheOtherLawsEffects) {
  Town town(GenesisWith({LawOn("pay_cap", "issuance_requested", R"(  when class = consumption and amount > 40 credits:
    reject because "{amount} is more than 40 credits at once")")}));
  town.Work45Hours(town.alice);
  town.chain.Apply({}, kGenesisTimeMs + kWeekMs);
  const v1::ClosingRun& closing = town.chain.last_results().closings(0);
  const v1::LawRun* labour = FindRun(closing.law_runs(), "labour_pay v2", "week_closed");
  ASSERT_NE(labour, nullptr);
  EXPECT_EQ(labour->code(), "LAW_REJECTED");
  EXPECT_EQ(labour->message(), "pay_cap v1 §1: 45 credits is more than 40 credits at once");
  EXPECT_EQ(FindRun(closing.law_runs(), "overtime_pay v2", "week_closed")->code(), "OK");
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 2'500) << "overtime pay alone";
  // And the issuer's own issuance meets the same law.
  town.chain.ExpectRejected(town.chain.Issue(town.chain.issuer(), town.bob.public_key(), VOUCHER_CLASS_CONSUMPTION, 40'001),
                            "LAW_REJECTED");
  town.chain.ApplyOk(town.chain.Issue(town.chain.issuer(), town.bob.public_key(), VOUCHER_CLASS_CONSUMPTION, 40'000));
}

TEST(IssuanceRequested, TheLawsDateEveryLot) {
  // No law says when a lot expires: nothing can be issued.
  Town undated(GenesisWith({}, {"voucher_expiry"}));
  v1::TxResult none = undated.chain.ExpectRejected(
      undated.chain.Issue(undated.chain.issuer(), undated.alice.public_key(), VOUCHER_CLASS_SPECIAL, 10), "LAW_NO_EXPIRY");
  EXPECT_TRUE(Contains(none.message(), "no law in force records when these vouchers expire"));

  auto expect_refused = [](const std::string& body, const std::string& part) {
    Town town(GenesisWith({LawOn("dating", "issuance_requested", body)}));
    v1::TxResult r = town.chain.ExpectRejected(
        town.chain.Issue(town.chain.issuer(), town.alice.public_key(), VOUCHER_CLASS_CONSUMPTION, 10), "LAW_BAD_EFFECT");
    EXPECT_TRUE(Contains(r.message(), part)) << r.message();
  };
  expect_refused("  record expires = epoch", "the lot would expire at epoch 0; it must be after epoch 0");
  expect_refused("  record expires = epoch + 1001", "at most 1000 epochs later");
  expect_refused("  record expires = 3", "dating v1 §1: expires must be an epoch");
  expect_refused("  record expires = epoch + 5",
                 "the laws disagree on when the lot expires: epoch 5 (dating v1 §1) and epoch 3 (voucher_expiry v1 §1)");
  // Laws that agree are fine.
  Town agreeing(GenesisWith({LawOn("dating", "issuance_requested", "  record expires = epoch + 3")}));
  agreeing.chain.ApplyOk(
      agreeing.chain.Issue(agreeing.chain.issuer(), agreeing.alice.public_key(), VOUCHER_CLASS_CONSUMPTION, 10));
}

TEST(IssuanceRequested, IssuedToReachesBackAWindowOfEpochs) {
  Town town(GenesisWith({LawOn("look_back", "issuance_requested", R"(  let long_ago = issued_to(recipient, special, epoch - 4)
  when long_ago > 0 credits:
    reject because "never")")}));
  town.chain.Apply({}, kGenesisTimeMs + 3 * kEpochMs);  // epoch 3: epoch - 4 is before genesis, read as nothing
  town.chain.ApplyOk(town.chain.Issue(town.chain.issuer(), town.alice.public_key(), VOUCHER_CLASS_SPECIAL, 10));
  town.chain.Apply({}, kGenesisTimeMs + 4 * kEpochMs);  // epoch 4: epoch 0 is no longer kept
  v1::TxResult r = town.chain.ExpectRejected(
      town.chain.Issue(town.chain.issuer(), town.alice.public_key(), VOUCHER_CLASS_SPECIAL, 10), "LAW_HOST");
  EXPECT_TRUE(Contains(r.message(), "for the last 4 epochs only; epoch 0 is older")) << r.message();
}

// --- what the constitution refuses ---

TEST(Constitution, RefusesWhatNoLawMayDoAndTheTransactionChangesNothing) {
  struct Case {
    std::string body;  // of a rule on attendance_recorded
    std::string code;
    std::string part;
  };
  // Keys are numbered in the order a chain makes them, so every town's store has this key.
  const std::string store_id = "@" + Hex(Town().store);
  const std::vector<Case> cases = {
      {"  issue consumption to @alice amount 1 credits because \"a name, not a key\"", "LAW_BAD_EFFECT",
       "@alice is not a member's key"},
      {"  issue consumption to " + store_id + " amount 1 credits because \"to a store\"", "LAW_BAD_EFFECT",
       "is not an active member"},
      {"  issue consumption to worker amount 0 credits - worked * rate because \"negative\"", "LAW_BAD_EFFECT",
       "it must be more than 0 credits"},
      {"  issue consumption to worker amount 1000000001 credits because \"too much\"", "LAW_BAD_EFFECT",
       "amount_milli must be between 1 and 1000000000000"},
      {"  issue consumption to worker amount worked * 9000000000000000 credits per hour because \"x\"", "LAW_OVERFLOW",
       "overflow"},
      {"  reject because \"no work on {day}\"", "LAW_REJECTED", "strict v1 §1: no work on "},
  };
  for (const Case& c : cases) {
    Town town(GenesisWith({LawOn("strict", "attendance_recorded", c.body)}));
    ASSERT_EQ("@" + Hex(town.store), store_id);
    const PublicKey& worker = town.alice.public_key();
    v1::TxResult r = town.chain.ExpectRejected(
        town.chain.Attend(town.workplace, worker, town.chain.time_ms() / 1000, 120), c.code);
    EXPECT_TRUE(Contains(r.message(), c.part)) << c.body << "\n" << r.message();
    EXPECT_EQ(town.chain.state().AttendanceMinutes(worker, 0), 0u);
    EXPECT_NE(FindRun(r.law_runs(), "strict v1", "attendance_recorded"), nullptr) << "the failed run is explained";
  }
}

TEST(Constitution, ALawMayNotIssueWhileAnIssuanceIsChecked) {
  Town town(GenesisWith({LawOn("bonus", "issuance_requested", R"(  when class = special:
    issue consumption to recipient amount 1 credits because "a bonus")")}));
  v1::TxResult r = town.chain.ExpectRejected(
      town.chain.Issue(town.chain.issuer(), town.alice.public_key(), VOUCHER_CLASS_SPECIAL, 10), "LAW_BAD_EFFECT");
  EXPECT_TRUE(Contains(r.message(), "a law may not issue while an issuance is being checked")) << r.message();
}

TEST(Constitution, ALawsIssueThatWouldOverflowATotalIsRefused) {
  Town town(GenesisWith({LawOn("gift", "attendance_recorded",
                               "  issue consumption to worker amount 1 credits because \"a gift\"")}));
  v1::Cohort cohort;
  cohort.set_version(1);
  cohort.set_issued_milli(INT64_MAX - 5);
  cohort.set_outstanding_milli(INT64_MAX - 5);
  State(town.chain.kv(), town.chain.kv()).PutCohort(VOUCHER_CLASS_CONSUMPTION, 3, cohort);
  v1::TxResult r = town.chain.ExpectRejected(
      town.chain.Attend(town.workplace, town.alice.public_key(), town.chain.time_ms() / 1000, 60), "LAW_BAD_EFFECT");
  EXPECT_TRUE(Contains(r.message(), "gift v1 §1: issue consumption 1 credits to @")) << r.message();
  EXPECT_TRUE(Contains(r.message(), "a voucher total would overflow")) << r.message();
}

TEST(Constitution, InAClosingARefusedEffectSkipsOnlyThatLawForThatMember) {
  Town town(GenesisWith({LawOn("thanks", "week_closed",
                               "  issue consumption to @alice amount 1 credits because \"thanks\"")}));
  town.Work45Hours(town.alice);
  town.chain.Apply({}, kGenesisTimeMs + kWeekMs);
  const v1::ClosingRun& closing = town.chain.last_results().closings(0);
  const v1::LawRun* thanks = FindRun(closing.law_runs(), "thanks v1", "week_closed");
  ASSERT_NE(thanks, nullptr);
  EXPECT_EQ(thanks->code(), "LAW_BAD_EFFECT");
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 47'500) << "labour and overtime pay still apply";
}

TEST(Fuel, RunningOutFailsTheTransactionOrSkipsTheLawInAClosingNeverTheBlock) {
  Town town(GenesisWith({}, {}, /*fuel=*/12));
  v1::TxResult r = town.chain.ExpectRejected(
      town.chain.Issue(town.chain.issuer(), town.alice.public_key(), VOUCHER_CLASS_CONSUMPTION, 10), "LAW_OUT_OF_FUEL");
  EXPECT_TRUE(Contains(r.message(), "out of fuel: the run used its whole allowance of 12 steps")) << r.message();
  // A short shift passes labour_pay's check within 12 steps; its week's closing does not.
  town.Work45Hours(town.alice);
  town.chain.Apply({}, kGenesisTimeMs + kWeekMs);
  ASSERT_EQ(town.chain.last_results().closings_size(), 1);
  const v1::LawRun* labour = FindRun(town.chain.last_results().closings(0).law_runs(), "labour_pay v2", "week_closed");
  ASSERT_NE(labour, nullptr);
  EXPECT_EQ(labour->code(), "LAW_OUT_OF_FUEL");
  EXPECT_EQ(town.Held(town.alice, VOUCHER_CLASS_CONSUMPTION), 0);
  EXPECT_EQ(town.chain.height(), 6u) << "every block was accepted";
}

}  // namespace
}  // namespace gongshe::ledger
