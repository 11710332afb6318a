// Plans on the ledger (ledger/plans.h): plan data in chunks, the demand the ledger derives from
// its redemptions, the exact check of a committed plan, and the issuance cap it puts in force.
// Every rejection must leave the state root exactly as an empty block would.

#include "ledger/plans.h"

#include <gtest/gtest.h>

#include "ledger/state_machine.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"
#include "tests/ledger/test_chain.h"

namespace gongshe::ledger {
namespace {

using testing::kEpochMs;
using testing::kGenesisTimeMs;
using testing::TestChain;
using v1::VOUCHER_CLASS_CONSUMPTION;

// Bread and milk use steel; steel uses nothing. Labour values by hand: v_steel = 1,
// v_bread = 0.5 + 0.5 * 1 = 1, v_milk = 0.25 + 0.2 * 1 = 0.45 hours per unit.
constexpr std::string_view kMatrix =
    "%%MatrixMarket matrix coordinate real general\n"
    "3 3 2\n"
    "2 1 0.5\n"
    "2 3 0.2\n";
constexpr std::string_view kProducts =
    "product,name,labour_hours,capacity\n"
    "1,bread,0.5,\n"
    "2,steel,1,\n"
    "3,milk,0.25,\n";

std::string Raw(const Hash& h) { return std::string(AsChars(h)); }
Hash HashOf(std::string_view bytes) { return Sha256(AsBytes(bytes)); }

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    member_ = chain_.NewAccount(v1::ROLE_MEMBER);
    store_ = chain_.NewAccount(v1::ROLE_STORE);
    planner_ = chain_.NewAccount(v1::ROLE_PLANNER);
    // Epoch 0: 10 credits of bread and 4 of milk are redeemed.
    chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 20'000));
    chain_.ApplyOk(chain_.Redeem(member_, store_, VOUCHER_CLASS_CONSUMPTION, 6'000, "bread"));
    chain_.ApplyOk(chain_.Redeem(member_, store_, VOUCHER_CLASS_CONSUMPTION, 4'000, "bread"));
    chain_.ApplyOk(chain_.Redeem(member_, store_, VOUCHER_CLASS_CONSUMPTION, 4'000, "milk"));
    chain_.Apply({}, kGenesisTimeMs + kEpochMs);  // epoch 1 begins: epoch 0 is closed
  }

  RedeemedIn Tallies() {
    return [this](uint64_t epoch, std::string_view category) {
      return chain_.state().RedeemedInEpoch(epoch, category);
    };
  }

  // Sends `file` as plan data; every chunk must be accepted.
  void Upload(std::string_view file, const KeyPair* signer = nullptr) {
    std::vector<std::string> codes = chain_.Apply(chain_.PlanData(signer ? *signer : planner_, file));
    for (const std::string& code : codes) ASSERT_EQ(code, "OK") << chain_.last_results().DebugString().substr(0, 500);
  }

  // The plan the planner makes from the ledger's economy for `window`, serialised.
  std::string MakePlanBytes(std::string_view matrix, std::string_view products, DemandWindow window) {
    Result<LedgerEconomy> economy = BuildLedgerEconomy(matrix, products, window, Tallies());
    EXPECT_TRUE(economy.ok()) << economy.status().ToString();
    if (!economy.ok()) return {};
    Result<planner::MadePlan> made = planner::MakePlan(economy->economy, planner::SolverOptions{});
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (!made.ok()) return {};
    return made->plan.SerializeAsString();
  }

  v1::CommitPlan Commit(uint64_t epoch, std::string_view plan, std::string_view matrix, std::string_view products,
                        DemandWindow window) {
    Result<LedgerEconomy> economy = BuildLedgerEconomy(matrix, products, window, Tallies());
    v1::CommitPlan action;
    action.set_epoch(epoch);
    action.set_plan_sha256(Raw(HashOf(plan)));
    action.set_matrix_sha256(Raw(HashOf(matrix)));
    action.set_products_sha256(Raw(HashOf(products)));
    if (economy.ok()) action.set_demand_sha256(Raw(economy->economy.demand_sha256));
    action.set_demand_from_epoch(window.from_epoch);
    action.set_demand_epochs(window.epochs);
    return action;
  }

  // Uploads the standard inputs and a plan for epoch 1 from epoch 0's demand; returns the commit.
  v1::CommitPlan PrepareStandardPlan() {
    plan_ = MakePlanBytes(kMatrix, kProducts, {0, 1});
    Upload(kMatrix);
    Upload(kProducts);
    Upload(plan_);
    return Commit(1, plan_, kMatrix, kProducts, {0, 1});
  }

  TestChain chain_;
  KeyPair member_ = testing::TestKey(0), store_ = testing::TestKey(0), planner_ = testing::TestKey(0);
  std::string plan_;
};

TEST_F(PlanTest, RedemptionsAreTalliedPerCategoryAndEpoch) {
  EXPECT_EQ(chain_.state().RedeemedInEpoch(0, "bread"), 10'000);
  EXPECT_EQ(chain_.state().RedeemedInEpoch(0, "milk"), 4'000);
  EXPECT_EQ(chain_.state().RedeemedInEpoch(0, "steel"), 0);
  EXPECT_EQ(chain_.state().RedeemedInEpoch(1, "bread"), 0);
  // A refused redemption is not counted.
  chain_.ExpectRejected(chain_.Redeem(member_, store_, VOUCHER_CLASS_CONSUMPTION, 100'000, "bread"),
                        "INSUFFICIENT_BALANCE");
  chain_.ApplyOk(chain_.Redeem(member_, store_, VOUCHER_CLASS_CONSUMPTION, 1'500, "bread"));
  EXPECT_EQ(chain_.state().RedeemedInEpoch(1, "bread"), 1'500);
  EXPECT_EQ(chain_.state().RedeemedInEpoch(0, "bread"), 10'000);
}

TEST_F(PlanTest, DemandFileFromTheLedger) {
  const std::vector<std::string> names = {"bread", "steel", "milk", "Not A Category", ""};
  Result<std::string> one = LedgerDemandCsv(names, {0, 1}, Tallies());
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one,
            "# final demand from the ledger: credits redeemed per category in epochs 0 to 0, per epoch (1 unit = 1 "
            "credit)\n"
            "product,consumer,public,accumulation\n"
            "1,10.000000,0,0\n"
            "3,4.000000,0,0\n");
  // Epoch 1 redeems 5 credits of milk; over epochs 0 and 1 the demand is the average per epoch.
  chain_.ApplyOk(chain_.Redeem(member_, store_, VOUCHER_CLASS_CONSUMPTION, 1'001, "milk"));
  chain_.Apply({}, kGenesisTimeMs + 2 * kEpochMs);
  Result<std::string> two = LedgerDemandCsv(names, {0, 2}, Tallies());
  ASSERT_TRUE(two.ok());
  EXPECT_NE(two->find("epochs 0 to 1"), std::string::npos);
  EXPECT_NE(two->find("\n1,5.000000,0,0\n3,2.500500,0,0\n"), std::string::npos) << *two;
  // A figure beyond the planner's bound on quantities is refused, not rounded.
  Result<std::string> huge = LedgerDemandCsv(names, {0, 1}, [](uint64_t, std::string_view) { return INT64_MAX; });
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), "DEMAND_TOO_LARGE");
}

TEST_F(PlanTest, DemandWindowHoldsClosedEpochsOnly) {
  EXPECT_TRUE(CheckDemandWindow({0, 1}, 1).ok());
  EXPECT_TRUE(CheckDemandWindow({2, 8}, 10).ok());
  EXPECT_EQ(CheckDemandWindow({0, 1}, 0).code(), "DEMAND_WINDOW");
  EXPECT_EQ(CheckDemandWindow({1, 1}, 1).code(), "DEMAND_WINDOW");
  EXPECT_EQ(CheckDemandWindow({5, 1}, 1).code(), "DEMAND_WINDOW");
  EXPECT_EQ(CheckDemandWindow({0, 0}, 5).code(), "DEMAND_WINDOW");
  EXPECT_EQ(CheckDemandWindow({0, kMaxDemandEpochs + 1}, 100).code(), "DEMAND_WINDOW");
  EXPECT_EQ(CheckDemandWindow({UINT64_MAX, 1}, UINT64_MAX).code(), "DEMAND_WINDOW");
}

TEST_F(PlanTest, PlanIsAcceptedAndItsCapIsEnforcedByTheLaw) {
  const v1::CommitPlan commit = PrepareStandardPlan();
  ASSERT_FALSE(chain_.state().Plan(1).has_value());
  chain_.ApplyOk(chain_.CommitPlan(planner_, commit));
  std::optional<v1::PlanRecord> plan = chain_.state().Plan(1);
  ASSERT_TRUE(plan.has_value());
  // v . d_consumer = 10 * 1 + 4 * 0.45 = 11.8 hours; at 1 credit per hour, 11.8 credits.
  EXPECT_EQ(plan->consumer_labour_micro_hours(), 11'800'000);
  EXPECT_EQ(plan->cap_milli(), 11'800);
  // l . x with x = (10, 5.8, 4): 5 + 5.8 + 1 = 11.8 hours.
  EXPECT_EQ(plan->total_labour_micro_hours(), 11'800'000);
  EXPECT_EQ(plan->products(), 3u);
  EXPECT_EQ(plan->planner(), testing::Bytes32(planner_.public_key()));
  EXPECT_EQ(plan->demand_from_epoch(), 0u);
  EXPECT_EQ(plan->demand_epochs(), 1u);
  EXPECT_EQ(plan->plan_sha256(), Raw(HashOf(plan_)));

  // issuance_cap v1: up to the cap passes, beyond it is refused; other classes are not capped.
  chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 11'000));
  v1::TxResult over = chain_.ExpectRejected(
      chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 801), "LAW_REJECTED");
  EXPECT_NE(over.message().find("issuance_cap v1"), std::string::npos) << over.message();
  EXPECT_NE(over.message().find("above the plan's cap of 11.8 credits"), std::string::npos) << over.message();
  chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 800));
  chain_.ExpectRejected(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 1),
                        "LAW_REJECTED");
  chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), v1::VOUCHER_CLASS_SPECIAL, 20'000));
  // The next epoch has no plan, so no cap.
  chain_.Apply({}, kGenesisTimeMs + 2 * kEpochMs);
  chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 50'000));
}

TEST_F(PlanTest, PlanForALaterEpochCapsThatEpochOnly) {
  v1::CommitPlan commit = PrepareStandardPlan();
  commit.set_epoch(3);
  chain_.ApplyOk(chain_.CommitPlan(planner_, commit));
  EXPECT_FALSE(chain_.state().Plan(1).has_value());
  chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 50'000));
  chain_.Apply({}, kGenesisTimeMs + 3 * kEpochMs);
  chain_.ExpectRejected(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 11'801),
                        "LAW_REJECTED");
  chain_.ApplyOk(chain_.Issue(chain_.issuer(), member_.public_key(), VOUCHER_CLASS_CONSUMPTION, 11'800));
}

TEST_F(PlanTest, TamperedPlanIsRejected) {
  const v1::CommitPlan commit = PrepareStandardPlan();
  v1::Plan plan;
  ASSERT_TRUE(plan.ParseFromString(plan_));
  struct Tamper {
    const char* name;
    std::function<void(v1::Plan&)> change;
    const char* code;
  };
  const std::vector<Tamper> tampers = {
      {"one gross output", [](v1::Plan& p) { p.set_gross_output_micro(1, p.gross_output_micro(1) + 1'000); },
       "PLAN_PRIMAL_RESIDUAL"},
      {"one labour value", [](v1::Plan& p) { p.set_labour_value_nano(2, p.labour_value_nano(2) - 1'000'000); },
       "PLAN_DUAL_RESIDUAL"},
      {"the consumer total", [](v1::Plan& p) { p.set_consumer_labour_micro_hours(p.consumer_labour_micro_hours() * 2); },
       "PLAN_TOTALS_MISMATCH"},
      {"a negative output", [](v1::Plan& p) { p.set_gross_output_micro(0, -1); }, "PLAN_NEGATIVE"},
      {"a missing product", [](v1::Plan& p) { p.mutable_gross_output_micro()->RemoveLast(); }, "PLAN_MALFORMED"},
      {"its demand hash", [](v1::Plan& p) { p.set_demand_sha256(std::string(32, 'x')); }, "PLAN_INPUT_MISMATCH"},
  };
  for (const Tamper& t : tampers) {
    SCOPED_TRACE(t.name);
    v1::Plan changed = plan;
    t.change(changed);
    const std::string bytes = changed.SerializeAsString();
    Upload(bytes);
    v1::CommitPlan action = commit;
    action.set_plan_sha256(Raw(HashOf(bytes)));
    chain_.ExpectRejected(chain_.CommitPlan(planner_, action), t.code);
  }
  // Plan bytes that are not a plan at all.
  Upload("not a plan");
  v1::CommitPlan garbage = commit;
  garbage.set_plan_sha256(Raw(HashOf("not a plan")));
  chain_.ExpectRejected(chain_.CommitPlan(planner_, garbage), "PLAN_MALFORMED");
  EXPECT_FALSE(chain_.state().Plan(1).has_value());
  chain_.ApplyOk(chain_.CommitPlan(planner_, commit));
}

TEST_F(PlanTest, SwappedOrForeignInputsAreRejected) {
  const v1::CommitPlan commit = PrepareStandardPlan();
  // Matrix and products swapped: the "matrix" does not parse.
  v1::CommitPlan swapped = commit;
  swapped.set_matrix_sha256(commit.products_sha256());
  swapped.set_products_sha256(commit.matrix_sha256());
  v1::TxResult result = chain_.ExpectRejected(chain_.CommitPlan(planner_, swapped), "PLAN_BAD_INPUT");
  EXPECT_NE(result.message().find("matrix"), std::string::npos) << result.message();
  // Plan and products swapped.
  v1::CommitPlan plan_as_products = commit;
  plan_as_products.set_plan_sha256(commit.products_sha256());
  plan_as_products.set_products_sha256(commit.plan_sha256());
  chain_.ExpectRejected(chain_.CommitPlan(planner_, plan_as_products), "PLAN_BAD_INPUT");
  // Other coefficients on the ledger than those the plan was made from: the plan names its inputs.
  const std::string other_products =
      "product,name,labour_hours,capacity\n1,bread,0.6,\n2,steel,1,\n3,milk,0.25,\n";
  Upload(other_products);
  v1::CommitPlan foreign = commit;
  foreign.set_products_sha256(Raw(HashOf(other_products)));
  chain_.ExpectRejected(chain_.CommitPlan(planner_, foreign), "PLAN_INPUT_MISMATCH");
  // A plan honestly made from those coefficients passes (labour of bread 0.6: cap 12.8 credits).
  const std::string other_plan = MakePlanBytes(kMatrix, other_products, {0, 1});
  Upload(other_plan);
  foreign.set_plan_sha256(Raw(HashOf(other_plan)));
  chain_.ApplyOk(chain_.CommitPlan(planner_, foreign));
  EXPECT_EQ(chain_.state().Plan(1)->cap_milli(), 12'800);
}

TEST_F(PlanTest, DemandMustBeTheLedgersOwn) {
  const v1::CommitPlan commit = PrepareStandardPlan();
  v1::CommitPlan wrong = commit;
  wrong.set_demand_sha256(std::string(32, '\7'));
  v1::TxResult result = chain_.ExpectRejected(chain_.CommitPlan(planner_, wrong), "DEMAND_MISMATCH");
  EXPECT_NE(result.message().find("epochs 0 to 0"), std::string::npos);
  // A plan made from a demand file the planner wrote by hand (more bread than was redeemed): its
  // hash is not the ledger's.
  Result<planner::Economy> invented = planner::ParseEconomy(
      kMatrix, kProducts, "product,consumer,public,accumulation\n1,50,0,0\n3,4,0,0\n");
  ASSERT_TRUE(invented.ok());
  Result<planner::MadePlan> made = planner::MakePlan(*invented, planner::SolverOptions{});
  ASSERT_TRUE(made.ok());
  const std::string invented_plan = made->plan.SerializeAsString();
  Upload(invented_plan);
  v1::CommitPlan claimed = commit;
  claimed.set_plan_sha256(Raw(HashOf(invented_plan)));
  claimed.set_demand_sha256(made->plan.demand_sha256());
  chain_.ExpectRejected(chain_.CommitPlan(planner_, claimed), "DEMAND_MISMATCH");
  // With the ledger's demand hash, the plan itself names another demand file.
  claimed.set_demand_sha256(commit.demand_sha256());
  chain_.ExpectRejected(chain_.CommitPlan(planner_, claimed), "PLAN_INPUT_MISMATCH");
  // A window reaching the current epoch (1), whose tallies are not final.
  v1::CommitPlan open_window = commit;
  open_window.set_demand_from_epoch(1);
  chain_.ExpectRejected(chain_.CommitPlan(planner_, open_window), "DEMAND_WINDOW");
}

TEST_F(PlanTest, OnlyAPlannerSendsPlanDataOrCommitsPlans) {
  const v1::CommitPlan commit = PrepareStandardPlan();
  for (const KeyPair& signer : {chain_.issuer(), chain_.registrar(), member_, store_}) {
    chain_.ExpectRejected(chain_.CommitPlan(signer, commit), "UNAUTHORIZED");
    chain_.ExpectRejected(chain_.PlanData(signer, "some input").front(), "UNAUTHORIZED");
  }
  // A retired planner signs nothing.
  KeyPair retired = chain_.NewAccount(v1::ROLE_PLANNER);
  chain_.ApplyOk(chain_.Retire(chain_.registrar(), retired.public_key()));
  chain_.ExpectRejected(chain_.CommitPlan(retired, commit), "RETIRED_SIGNER");
  EXPECT_FALSE(chain_.state().Plan(1).has_value());
  // A planner of another commune may commit: plans are for the whole economy.
  KeyPair other = chain_.NewAccount(v1::ROLE_PLANNER, 1);
  chain_.ApplyOk(chain_.CommitPlan(other, commit));
}

TEST_F(PlanTest, EpochRules) {
  v1::CommitPlan commit = PrepareStandardPlan();
  v1::CommitPlan past = commit;
  past.set_epoch(0);
  chain_.ExpectRejected(chain_.CommitPlan(planner_, past), "PLAN_EPOCH");
  v1::CommitPlan far = commit;
  far.set_epoch(1 + kMaxPlanLeadEpochs + 1);
  chain_.ExpectRejected(chain_.CommitPlan(planner_, far), "PLAN_EPOCH");
  far.set_epoch(1 + kMaxPlanLeadEpochs);
  chain_.ApplyOk(chain_.CommitPlan(planner_, far));
  v1::CommitPlan zero = commit;
  zero.set_demand_epochs(0);
  chain_.ExpectRejected(chain_.CommitPlan(planner_, zero), "DEMAND_WINDOW");
  chain_.ApplyOk(chain_.CommitPlan(planner_, commit));
  // One plan per epoch: a second is refused, even the same one.
  chain_.ExpectRejected(chain_.CommitPlan(planner_, commit), "PLAN_EXISTS");
  EXPECT_EQ(chain_.state().Plan(1)->committed_height(), chain_.height());
}

TEST_F(PlanTest, CommitNeedsEveryInputOnTheLedger) {
  plan_ = MakePlanBytes(kMatrix, kProducts, {0, 1});
  const v1::CommitPlan commit = Commit(1, plan_, kMatrix, kProducts, {0, 1});
  chain_.ExpectRejected(chain_.CommitPlan(planner_, commit), "PLAN_DATA_MISSING");
  Upload(kMatrix);
  Upload(plan_);
  v1::TxResult result = chain_.ExpectRejected(chain_.CommitPlan(planner_, commit), "PLAN_DATA_MISSING");
  EXPECT_NE(result.message().find("products file"), std::string::npos) << result.message();
  // Sent in the same block as the commit, the products file counts.
  std::vector<std::string> txs = chain_.PlanData(planner_, kProducts);
  txs.push_back(chain_.CommitPlan(planner_, commit));
  EXPECT_EQ(chain_.Apply(txs), (std::vector<std::string>{"OK", "OK"}));
  EXPECT_TRUE(chain_.state().Plan(1).has_value());
  v1::CommitPlan bad = commit;
  bad.set_matrix_sha256("short");
  chain_.ExpectRejected(chain_.CommitPlan(planner_, bad), "BAD_FIELD");
}

// A file of several chunks: padded with comment lines, which the planner's parsers skip.
std::string PaddedProducts(size_t bytes) {
  std::string file(kProducts);
  while (file.size() < bytes) file += "# padding line to make the file span several chunks of plan data\n";
  return file;
}

TEST_F(PlanTest, PlanDataInChunks) {
  const std::string file = PaddedProducts(3 * kPlanChunkBytes + 100);
  ASSERT_EQ(PlanDataChunks(file.size()), 4u);
  std::vector<std::string> txs = chain_.PlanData(planner_, file);
  ASSERT_EQ(txs.size(), 4u);
  // Chunks carry consecutive nonces (a gap waits); one alone leaves the file incomplete and unusable.
  EXPECT_EQ(chain_.Apply({txs[2], txs[0]}), (std::vector<std::string>{"NONCE_GAP", "OK"}));
  const Hash name = HashOf(file);
  std::optional<v1::PlanBlob> blob = chain_.state().PlanBlob(name);
  ASSERT_TRUE(blob.has_value());
  EXPECT_EQ(blob->received(), 1u);
  EXPECT_FALSE(blob->complete());
  EXPECT_EQ(ReadPlanData(chain_.state(), name).status().code(), "PLAN_DATA_MISSING");

  // Build the remaining chunks by hand, one with a wrong byte: the completing chunk is refused.
  auto chunk_tx = [&](uint32_t index, std::string data) {
    v1::TxBody body = chain_.Body(planner_);
    v1::PlanData* d = body.mutable_plan_data();
    d->set_sha256(Raw(name));
    d->set_size(file.size());
    d->set_index(index);
    d->set_data(std::move(data));
    return SignTx(body, planner_);
  };
  auto part = [&](uint32_t index) {
    return file.substr(index * kPlanChunkBytes, PlanChunkLength(file.size(), index));
  };
  std::string wrong = part(1);
  wrong[7] ^= 1;
  chain_.ApplyOk(chunk_tx(1, wrong));
  chain_.ApplyOk(chunk_tx(3, part(3)));
  chain_.ExpectRejected(chunk_tx(2, part(2)), "PLAN_DATA_MISMATCH");
  // Sending the wrong chunk again replaces it; then the last one completes the file.
  chain_.ApplyOk(chunk_tx(1, part(1)));
  chain_.ApplyOk(chunk_tx(2, part(2)));
  blob = chain_.state().PlanBlob(name);
  EXPECT_TRUE(blob->complete());
  EXPECT_EQ(blob->received(), 4u);
  Result<std::string> read = ReadPlanData(chain_.state(), name);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, file);
  // Complete files are immutable.
  chain_.ExpectRejected(chunk_tx(0, part(0)), "PLAN_DATA_COMPLETE");

  // Field rules.
  const std::string small = "abc";
  auto raw_tx = [&](std::string sha, uint64_t size, uint32_t index, std::string data) {
    v1::TxBody body = chain_.Body(planner_);
    v1::PlanData* d = body.mutable_plan_data();
    d->set_sha256(std::move(sha));
    d->set_size(size);
    d->set_index(index);
    d->set_data(std::move(data));
    return SignTx(body, planner_);
  };
  const std::string small_name = Raw(HashOf(small));
  chain_.ExpectRejected(raw_tx("short", 3, 0, small), "BAD_FIELD");
  chain_.ExpectRejected(raw_tx(small_name, 0, 0, ""), "PLAN_DATA_TOO_LARGE");
  chain_.ExpectRejected(raw_tx(small_name, kMaxPlanDataBytes + 1, 0, std::string(kPlanChunkBytes, 'a')),
                        "PLAN_DATA_TOO_LARGE");
  chain_.ExpectRejected(raw_tx(small_name, 3, 1, small), "BAD_FIELD");     // no chunk 1
  chain_.ExpectRejected(raw_tx(small_name, 3, 0, "ab"), "BAD_FIELD");      // wrong length
  chain_.ExpectRejected(raw_tx(small_name, 3, 0, "abd"), "PLAN_DATA_MISMATCH");
  chain_.ApplyOk(raw_tx(small_name, 3, 0, small));
  // A file of the largest size takes kMaxPlanDataChunks chunks, each under the transaction limit.
  const std::string largest(kMaxPlanDataBytes, 'z');
  std::vector<std::string> all = TxBuilder(testing::kChainId).PlanData(planner_, 1, largest);
  EXPECT_EQ(all.size(), kMaxPlanDataChunks);
  for (const std::string& tx : all) EXPECT_LE(tx.size(), kMaxTxBytes);
  // A second file of the same size as a known one but claiming another size is refused.
  const std::string other = PaddedProducts(kPlanChunkBytes + 10);
  std::vector<std::string> other_txs = chain_.PlanData(planner_, other);
  chain_.ApplyOk(other_txs[0]);
  v1::TxBody body = chain_.Body(planner_);
  v1::PlanData* d = body.mutable_plan_data();
  d->set_sha256(Raw(HashOf(other)));
  d->set_size(other.size() + 1);
  d->set_index(1);
  d->set_data(other.substr(kPlanChunkBytes) + "x");
  chain_.ExpectRejected(SignTx(body, planner_), "BAD_FIELD");
}

// The bound on products of a plan on the ledger: exactly kMaxLedgerPlanProducts passes, one more
// is refused before any certificate is checked.
std::string DiagonalFreeEconomy(uint32_t n, std::string& products) {
  products = "product,name,labour_hours,capacity\n";
  for (uint32_t j = 1; j <= n; ++j) {
    products += std::to_string(j) + "," + (j == 1 ? std::string("bread") : "p" + std::to_string(j)) + ",1,\n";
  }
  std::string matrix = "%%MatrixMarket matrix coordinate real general\n" + std::to_string(n) + " " +
                       std::to_string(n) + " 1\n2 1 0.5\n";
  return matrix;
}

TEST_F(PlanTest, ProductCountIsBounded) {
  std::string products;
  const std::string matrix = DiagonalFreeEconomy(kMaxLedgerPlanProducts, products);
  ASSERT_LE(products.size(), kMaxPlanDataBytes);
  const std::string plan = MakePlanBytes(matrix, products, {0, 1});
  ASSERT_LE(plan.size(), kMaxPlanDataBytes);
  Upload(matrix);
  Upload(products);
  Upload(plan);
  chain_.ApplyOk(chain_.CommitPlan(planner_, Commit(1, plan, matrix, products, {0, 1})));
  // v_bread = 1 + 0.5 * 1 = 1.5 hours; 10 units of bread: 15 credits.
  EXPECT_EQ(chain_.state().Plan(1)->cap_milli(), 15'000);

  std::string more_products;
  const std::string more_matrix = DiagonalFreeEconomy(kMaxLedgerPlanProducts + 1, more_products);
  Upload(more_matrix);
  Upload(more_products);
  v1::CommitPlan too_large = Commit(2, plan, more_matrix, more_products, {0, 1});
  too_large.set_demand_sha256(std::string(32, '\0'));
  chain_.ExpectRejected(chain_.CommitPlan(planner_, too_large), "PLAN_TOO_LARGE");
}

TEST_F(PlanTest, CapConversion) {
  EXPECT_EQ(*PlanCapMilli(11'800'000, 1'000), 11'800);
  EXPECT_EQ(*PlanCapMilli(11'800'000, 2'500), 29'500);
  EXPECT_EQ(*PlanCapMilli(1'999, 500), 0);  // floored
  EXPECT_EQ(*PlanCapMilli(0, 1'000), 0);
  EXPECT_EQ(PlanCapMilli(INT64_MAX, INT64_MAX).status().code(), "PLAN_OVERFLOW");
  EXPECT_EQ(PlanCapMilli(-1, 1'000).status().code(), "BAD_FIELD");
}

// Two chains given the same transactions end with the same state root, plans included.
TEST(PlanDeterminism, SameInputsSameStateRoot) {
  auto run = [] {
    TestChain chain;
    const KeyPair member = chain.NewAccount(v1::ROLE_MEMBER);
    const KeyPair store = chain.NewAccount(v1::ROLE_STORE);
    const KeyPair planner = chain.NewAccount(v1::ROLE_PLANNER);
    chain.ApplyOk(chain.Issue(chain.issuer(), member.public_key(), VOUCHER_CLASS_CONSUMPTION, 20'000));
    chain.ApplyOk(chain.Redeem(member, store, VOUCHER_CLASS_CONSUMPTION, 7'000, "milk"));
    chain.Apply({}, kGenesisTimeMs + kEpochMs);
    const RedeemedIn tallies = [&chain](uint64_t epoch, std::string_view category) {
      return chain.state().RedeemedInEpoch(epoch, category);
    };
    Result<LedgerEconomy> economy = BuildLedgerEconomy(kMatrix, kProducts, {0, 1}, tallies);
    EXPECT_TRUE(economy.ok());
    const std::string plan = planner::MakePlan(economy->economy, planner::SolverOptions{})->plan.SerializeAsString();
    std::vector<std::string> txs;
    for (std::string_view file : {kMatrix, kProducts, std::string_view(plan)}) {
      for (std::string& tx : chain.PlanData(planner, file)) txs.push_back(std::move(tx));
    }
    v1::CommitPlan commit;
    commit.set_epoch(1);
    commit.set_plan_sha256(Raw(HashOf(plan)));
    commit.set_matrix_sha256(Raw(HashOf(kMatrix)));
    commit.set_products_sha256(Raw(HashOf(kProducts)));
    commit.set_demand_sha256(Raw(economy->economy.demand_sha256));
    commit.set_demand_from_epoch(0);
    commit.set_demand_epochs(1);
    txs.push_back(chain.CommitPlan(planner, commit));
    std::vector<std::string> codes = chain.Apply(txs);
    EXPECT_EQ(codes, std::vector<std::string>(txs.size(), "OK"));
    EXPECT_EQ(chain.state().Plan(1)->cap_milli(), 3'150);  // 7 units of milk at 0.45 hours
    return std::make_pair(chain.root(), plan);
  };
  const auto [root_a, plan_a] = run();
  const auto [root_b, plan_b] = run();
  EXPECT_EQ(plan_a, plan_b);
  EXPECT_EQ(root_a, root_b);
}

}  // namespace
}  // namespace gongshe::ledger
