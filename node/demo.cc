// `gongshe devnet --demo` (node/devnet.h RunDemo): the README's main job, told against a live
// network through the nodes' HTTP APIs only, as any client would: register members, a workplace
// and a store; record 45 hours of attendance in one week and watch the laws pay labour and
// overtime when the week closes, with their explanation read back from a node; issue and redeem
// vouchers (and see the laws' and the constitution's refusals); cross an epoch, where vouchers
// expire and the laws allot guarantee tickets; put a plan on the ledger (inputs sent as plan data,
// demand read from the ledger's redemptions, solved here, committed with its certificate) and
// watch its cap on consumption credits refuse an issuance; amend a law by proposal and vote (a
// delegate proposes overtime at twice the rate, a member overrides the delegate's vote, the tally
// adopts it when the week closes, and the next 45 hours are paid under it); then check that every
// node agrees on the chain and verify a state proof offline.

#include <chrono>
#include <cstdio>
#include <thread>

#include "ledger/key_file.h"
#include "ledger/state.h"
#include "ledger/state_tree.h"
#include "ledger/tx_builder.h"
#include "node/client.h"
#include "node/devnet.h"
#include "node/law_text.h"
#include "node/plan_upload.h"
#include "planner/fixed_point.h"
#include "planner/plan.h"

namespace gongshe::node {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kCommitWait = 20s;

// The demo's economy: grain, bread, medicine, bicycles and steel (inputs per unit of output; one
// unit of a consumer good is one credit's worth, as the ledger's demand counts it).
constexpr std::string_view kDemoMatrix =
    "%%MatrixMarket matrix coordinate real general\n"
    "% grain in grain and bread, steel in bicycles\n"
    "5 5 3\n"
    "1 1 0.05\n"
    "1 2 0.4\n"
    "5 4 0.3\n";
constexpr std::string_view kDemoProducts =
    "product,name,labour_hours,capacity\n"
    "1,grain,0.2,\n"
    "2,bread,0.5,\n"
    "3,medicine,0.9,\n"
    "4,bicycle,0.6,\n"
    "5,steel,1,\n";

// overtime_pay as a delegate proposes to amend it: the premium goes from 1.5 to 2 times the rate.
constexpr std::string_view kOvertimeV3 =
    "-- Overtime pay, as proposed: hours beyond the standard week earn twice the rate.\n"
    "law overtime_pay version 3\n"
    "  \"Hours worked beyond the standard week are paid at a premium. Labour pay already pays every\n"
    "  hour at the worker's rate; this law pays the part of the premium above that rate.\"\n"
    "\n"
    "§ 1 \"The standard week is 40 hours.\"\n"
    "param standard_week : hours = 40h\n"
    "\n"
    "§ 2 \"Each hour beyond the standard week is paid at 2 times the worker's rate; labour pay covers\n"
    "the first 1 times, this law the rest.\"\n"
    "param premium : ratio = 2\n"
    "\n"
    "on week_closed(worker: member, week: week, worked: hours, rate: credits per hour)\n"
    "  let overtime = max(worked - standard_week, 0h)\n"
    "  when overtime > 0h:\n"
    "    issue consumption to worker amount overtime * rate * (premium - 1)\n"
    "      because \"overtime {overtime} at {premium}x in {week}\"\n"
    "\n"
    "test \"45 hours at rate 1 pay 5 credits on top of labour pay\"\n"
    "  week_closed(@alice, week 3, 45h, 1 credits per hour)\n"
    "  expects issue consumption to @alice amount 5 credits\n"
    "\n"
    "test \"exactly the standard week pays no overtime\"\n"
    "  week_closed(@alice, week 3, 40h, 1 credits per hour)\n"
    "  expects nothing\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

class Demo {
 public:
  Demo(const Network& network, std::vector<std::unique_ptr<Client>> clients, ledger::KeyPair registrar,
       ledger::KeyPair issuer)
      : network_(network),
        clients_(std::move(clients)),
        builder_(network.chain_id),
        registrar_(std::move(registrar)),
        issuer_(std::move(issuer)) {}

  Status Run();

 private:
  // Submits `tx` to the next node (round robin) and waits for its commit; the result code.
  Result<std::string> Commit(const std::string& what, const std::string& tx);
  // The signer's next nonce: from its account on first use, then counted here.
  uint64_t Nonce(const ledger::KeyPair& key);
  Status WaitForEpoch(uint64_t epoch);
  // Records 45 hours for `worker` within one week and returns that week.
  Result<uint64_t> Record45Hours(const ledger::KeyPair& device, const ledger::KeyPair& worker);
  // Waits for the closing of `worker`'s week or epoch `period`, prints what the laws did and
  // returns the height of the block that closed it.
  Result<uint64_t> ShowExplanation(const std::string& who, const ledger::PublicKey& worker, bool epoch, uint64_t period);
  // The account's balances as a node sees them once it has committed `min_height`.
  Status ShowBalances(const std::string& who, const ledger::PublicKey& key, uint64_t min_height = 0);
  // Step 8: the plan for the current epoch (and the next) from the demand of `demand_epoch`.
  Status CommitPlan(uint64_t demand_epoch, const ledger::KeyPair& planner, const ledger::KeyPair& member);
  // Step 7: a delegate proposes kOvertimeV3, votes are cast, the week closes and the tally adopts
  // it; then `worker`'s next 45 hours are paid under it. Returns the epoch of the block that paid.
  Result<uint64_t> AmendOvertime(const ledger::KeyPair& worker, const ledger::KeyPair& device);
  // Waits until every node has committed the account of `key`.
  Status KnownEverywhere(const ledger::PublicKey& key);
  Status CheckAgreement();
  Status VerifyProof(const ledger::PublicKey& key);
  Client& NextClient() { return *clients_[next_++ % clients_.size()]; }

  const Network& network_;
  std::vector<std::unique_ptr<Client>> clients_;
  ledger::TxBuilder builder_;
  ledger::KeyPair registrar_, issuer_;
  std::map<ledger::PublicKey, uint64_t> nonces_;
  size_t next_ = 0;
};

uint64_t Demo::Nonce(const ledger::KeyPair& key) {
  auto it = nonces_.find(key.public_key());
  if (it == nonces_.end()) {
    Result<v1::AccountResponse> account = NextClient().GetAccount(key.public_key());
    it = nonces_.emplace(key.public_key(), account.ok() ? account->next_nonce() - 1 : 0).first;
  }
  return ++it->second;
}

Result<std::string> Demo::Commit(const std::string& what, const std::string& tx) {
  Client& client = NextClient();
  Result<v1::SubmitTxResponse> submitted = client.SubmitTx(tx);
  if (!submitted.ok()) {
    Say("   " + what + ": refused at admission by " + client.url() + ": " + submitted.status().ToString());
    return submitted.status().code();
  }
  const ledger::Hash id = ledger::Sha256(AsBytes(tx));
  Result<v1::TxResponse> committed = client.GetTx(id, kCommitWait);
  if (!committed.ok()) return Status{"DEMO", what + ": not committed: " + committed.status().ToString()};
  std::string line = "   " + what + " -> block " + std::to_string(committed->height()) + ": " + committed->code();
  if (committed->code() != "OK") line += " (" + committed->message() + ")";
  Say(line);
  return committed->code();
}

Status Demo::ShowBalances(const std::string& who, const ledger::PublicKey& key, uint64_t min_height) {
  Client& client = NextClient();
  Result<v1::AccountResponse> account = client.GetAccount(key);
  for (const auto deadline = Clock::now() + kCommitWait; account.ok() && account->height() < min_height;) {
    if (Clock::now() >= deadline) return Status{"DEMO", client.url() + " did not reach height " + std::to_string(min_height)};
    std::this_thread::sleep_for(100ms);
    account = client.GetAccount(key);
  }
  if (!account.ok()) return account.status();
  std::string line = "   " + who + " (epoch " + std::to_string(account->epoch()) + "):";
  if (account->balances().empty()) line += " no vouchers";
  for (const v1::ClassBalance& balance : account->balances()) {
    line += " " + v1::VoucherClass_Name(balance.voucher_class()).substr(14) + " " +
            ledger::FormatCredits(balance.total_milli()) + " [";
    for (int i = 0; i < balance.lots_size(); ++i) {
      line += (i ? ", " : "") + ledger::FormatCredits(balance.lots(i).amount_milli()) + " until epoch " +
              std::to_string(balance.lots(i).expiry_epoch());
    }
    line += "]";
  }
  Say(line);
  return Status::Ok();
}

Status Demo::WaitForEpoch(uint64_t epoch) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(3 * network_.epoch_ms) + 10s;
  while (Clock::now() < deadline) {
    Result<v1::StatusResponse> status = NextClient().GetStatus();
    if (status.ok() && status->epoch() >= epoch) return Status::Ok();
    std::this_thread::sleep_for(250ms);
  }
  return Status{"DEMO", "the chain did not reach epoch " + std::to_string(epoch)};
}

Result<uint64_t> Demo::Record45Hours(const ledger::KeyPair& device, const ledger::KeyPair& worker) {
  // All three shifts must land in the week they start in: begin a second into a week that has
  // most of it still to run (this one, if it began moments ago, else the next), so the blocks
  // have the rest of it (a devnet week is 10 s) to commit them.
  const int64_t since = NowMs() - network_.genesis_time_ms;
  const bool fresh = since % network_.week_ms < network_.week_ms * 3 / 10;
  const int64_t week_start_ms =
      network_.genesis_time_ms + (since / network_.week_ms + (fresh ? 0 : 1)) * network_.week_ms;
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max<int64_t>(0, week_start_ms + 1000 - NowMs())));
  const int64_t shift_start_s = (week_start_ms + 999) / 1000;
  const uint64_t week = static_cast<uint64_t>((week_start_ms - network_.genesis_time_ms) / network_.week_ms);
  std::vector<std::string> shifts;
  for (int i = 0; i < 3; ++i) {
    shifts.push_back(builder_.Attend(device, Nonce(device), worker.public_key(), shift_start_s, 15 * 60));
  }
  Client& client = NextClient();
  for (const std::string& tx : shifts) {  // submitted at once, so they share a block or two
    Result<v1::SubmitTxResponse> submitted = client.SubmitTx(tx);
    if (!submitted.ok()) return Status{"DEMO", "a shift was refused at admission: " + submitted.status().ToString()};
  }
  for (size_t i = 0; i < shifts.size(); ++i) {
    Result<v1::TxResponse> committed = client.GetTx(ledger::Sha256(AsBytes(shifts[i])), kCommitWait);
    if (!committed.ok()) return Status{"DEMO", "a shift was not committed: " + committed.status().ToString()};
    Say("   shift " + std::to_string(i + 1) + " of 15 h in week " + std::to_string(week) + " -> block " +
        std::to_string(committed->height()) + ": " + committed->code());
    if (committed->code() != "OK") return Status{"DEMO", "a shift failed: " + committed->message()};
  }
  return week;
}

Result<uint64_t> Demo::ShowExplanation(const std::string& who, const ledger::PublicKey& worker, bool epoch,
                                       uint64_t period) {
  const int64_t period_ms = epoch ? network_.epoch_ms : network_.week_ms;
  const auto deadline = Clock::now() + std::chrono::milliseconds(2 * period_ms) + 10s;
  for (;;) {
    Result<v1::ExplanationResponse> answer = NextClient().GetExplanation(worker, epoch, period);
    if (answer.ok()) {
      Say("   " + std::string(epoch ? "epoch " : "week ") + std::to_string(period) + " closed in block " +
          std::to_string(answer->height()) + "; what the laws did for " + who + ", and why (from " +
          NextClient().url() + "):");
      for (const std::string& line : LawRunLines(answer->law_runs(), /*with_trace=*/true, ToHex(worker), 5)) Say(line);
      return answer->height();
    }
    if (answer.status().code() != "NOT_FOUND") return answer.status();
    if (Clock::now() >= deadline) return Status{"DEMO", "the laws did not act for " + who + " in time"};
    std::this_thread::sleep_for(250ms);
  }
}

Status Demo::CommitPlan(uint64_t demand_epoch, const ledger::KeyPair& planner, const ledger::KeyPair& member) {
  Result<std::string> registered =
      Commit("register a planner", builder_.Register(registrar_, Nonce(registrar_), planner.public_key(), v1::ROLE_PLANNER));
  if (!registered.ok()) return registered.status();
  // Another node than the one that answered may not have committed the registration yet: its
  // admission would refuse the planner as unknown.
  Client& client = NextClient();
  Result<v1::AccountResponse> account = client.GetAccount(planner.public_key());
  for (const auto deadline = Clock::now() + kCommitWait; !account.ok(); account = client.GetAccount(planner.public_key())) {
    if (Clock::now() >= deadline) return Status{"DEMO", client.url() + " does not know the planner: " + account.status().ToString()};
    std::this_thread::sleep_for(100ms);
  }
  uint64_t next = Nonce(planner);
  for (const auto& [what, file] : {std::pair{"matrix", kDemoMatrix}, std::pair{"products", kDemoProducts}}) {
    Result<bool> sent = SendPlanData(client, builder_, planner, next, file, kCommitWait);
    if (!sent.ok()) return sent.status();
    Say(std::string("   the planner sends the ") + what + " file as plan data: " +
        ToHex(ledger::Sha256(AsBytes(file))).substr(0, 16) + ", " + std::to_string(file.size()) + " bytes");
  }
  Result<v1::DemandResponse> demand = client.GetDemand(ledger::Sha256(AsBytes(kDemoMatrix)),
                                                       ledger::Sha256(AsBytes(kDemoProducts)), demand_epoch, 1);
  if (!demand.ok()) return demand.status();
  Say("   the final demand the ledger derives from epoch " + std::to_string(demand_epoch) + "'s redemptions (from " +
      client.url() + "), sha256 " + demand->demand_sha256().substr(0, 16) + ":");
  const std::string& text = demand->demand();
  for (size_t start = 0, end; start < text.size(); start = end + 1) {  // each line but the comment
    end = std::min(text.find('\n', start), text.size());
    if (text[start] != '#') Say("     " + text.substr(start, end - start));
  }
  Result<planner::Economy> economy = planner::ParseEconomy(kDemoMatrix, kDemoProducts, demand->demand());
  if (!economy.ok()) return economy.status();
  Result<planner::MadePlan> made = planner::MakePlan(*economy, planner::SolverOptions{});
  if (!made.ok()) return made.status();
  const std::string plan = made->plan.SerializeAsString();
  Say("   solved here: consumer goods need " +
      planner::FormatFixed(made->plan.consumer_labour_micro_hours(), planner::kHoursDecimals) +
      " h of labour (total " + planner::FormatFixed(made->plan.total_labour_micro_hours(), planner::kHoursDecimals) +
      " h); the plan and its certificate go to the ledger as plan data too");
  Result<bool> sent = SendPlanData(client, builder_, planner, next, plan, kCommitWait);
  if (!sent.ok()) return sent.status();
  nonces_[planner.public_key()] = next - 1;
  Result<v1::StatusResponse> status = client.GetStatus();
  if (!status.ok()) return status.status();
  // The plan holds for this epoch and the next, so that the cap is in force whenever the
  // issuances below land.
  for (uint64_t epoch : {status->epoch(), status->epoch() + 1}) {
    v1::CommitPlan action;
    action.set_epoch(epoch);
    action.set_plan_sha256(std::string(AsChars(ledger::Sha256(AsBytes(plan)))));
    action.set_matrix_sha256(made->plan.matrix_sha256());
    action.set_products_sha256(made->plan.products_sha256());
    action.set_demand_sha256(made->plan.demand_sha256());
    action.set_demand_from_epoch(demand_epoch);
    action.set_demand_epochs(1);
    Result<std::string> code = Commit("commit the plan for epoch " + std::to_string(epoch) +
                                          " (every validator checks its certificate exactly)",
                                      builder_.CommitPlan(planner, Nonce(planner), action));
    if (!code.ok()) return code.status();
    if (*code != "OK") --nonces_[planner.public_key()];
  }
  Result<v1::StatusResponse> now = NextClient().GetStatus();
  if (!now.ok()) return now.status();
  Result<v1::PlanResponse> in_force = NextClient().GetPlan(now->epoch());
  if (!in_force.ok()) return in_force.status();
  const int64_t headroom = in_force->cap_milli() - in_force->issued_milli();
  Say("   in force for epoch " + std::to_string(in_force->epoch()) + ": a cap of " +
      ledger::FormatCredits(in_force->cap_milli()) + " consumption credits, " +
      ledger::FormatCredits(in_force->issued_milli()) + " issued so far");
  // Within the cap first, then beyond what is left of it (the refused one last: it uses no nonce).
  const int64_t within = std::min<int64_t>(headroom, 2'000);
  for (const auto& [what, milli] : {std::pair{"within the cap", within}, std::pair{"beyond it", headroom - within + 1'000}}) {
    if (milli <= 0) continue;
    Result<std::string> code =
        Commit(std::string("issue consumption credits to Ana ") + what + " (" + ledger::FormatCredits(milli) + ")",
               builder_.Issue(issuer_, Nonce(issuer_), v1::VOUCHER_CLASS_CONSUMPTION, member.public_key(), milli,
                              "demo issuance under the plan"));
    if (!code.ok()) return code.status();
    if (*code != "OK") --nonces_[issuer_.public_key()];
  }
  return Status::Ok();
}

Status Demo::KnownEverywhere(const ledger::PublicKey& key) {
  const auto deadline = Clock::now() + kCommitWait;
  for (auto& client : clients_) {
    while (!client->GetAccount(key).ok()) {
      if (Clock::now() >= deadline) return Status{"DEMO", client->url() + " does not know account " + ToHex(key)};
      std::this_thread::sleep_for(100ms);
    }
  }
  return Status::Ok();
}

Result<uint64_t> Demo::AmendOvertime(const ledger::KeyPair& worker, const ledger::KeyPair& device) {
  const ledger::KeyPair dana = ledger::KeyPair::Generate();
  const ledger::KeyPair cai = ledger::KeyPair::Generate(), eli = ledger::KeyPair::Generate();
  const ledger::KeyPair fen = ledger::KeyPair::Generate();
  Result<std::string> code = Commit("register Dana, a delegate",
                                    builder_.Register(registrar_, Nonce(registrar_), dana.public_key(),
                                                      v1::ROLE_DELEGATE));
  if (!code.ok()) return code.status();
  for (const auto& [name, key] : {std::pair{"Cai", &cai}, std::pair{"Eli", &eli}, std::pair{"Fen", &fen}}) {
    code = Commit(std::string("register ") + name + " in Dana's constituency",
                  builder_.RegisterMember(registrar_, Nonce(registrar_), key->public_key(), dana.public_key()));
    if (!code.ok()) return code.status();
  }
  // Every node must know Dana and Eli before they sign: the next request may go to any node.
  for (const ledger::KeyPair* key : {&dana, &eli}) GS_RETURN_IF_ERROR(KnownEverywhere(key->public_key()));
  // Voting ends with the next week (the block holding the proposal may come a moment later).
  const uint64_t closes_week = static_cast<uint64_t>((NowMs() + 2000 - network_.genesis_time_ms) / network_.week_ms) + 1;
  const std::string proposal =
      builder_.ProposeAmendment(dana, Nonce(dana), "proposals/overtime_pay_v3.law", kOvertimeV3, closes_week);
  const ledger::Hash id = ledger::Sha256(AsBytes(proposal));
  code = Commit("Dana proposes overtime_pay v3 (premium 2x instead of 1.5x), voting until week " +
                    std::to_string(closes_week) + " closes",
                proposal);
  if (!code.ok()) return code.status();
  if (*code != "OK") return Status{"DEMO", "the proposal was refused"};
  Say("   proposal " + ToHex(id));
  for (const auto& [what, voter, choice] :
       {std::tuple{"Dana votes yes for her constituents Cai, Eli and Fen", &dana, v1::VOTE_CHOICE_YES},
        std::tuple{"Eli votes no herself: her vote replaces Dana's for her", &eli, v1::VOTE_CHOICE_NO}}) {
    code = Commit(what, builder_.Vote(*voter, Nonce(*voter), id, choice));
    if (!code.ok()) return code.status();
  }
  // The tally runs in the first block past the closing week.
  Result<v1::ProposalResponse> tallied = NextClient().GetProposal(id);
  const auto deadline = Clock::now() + std::chrono::milliseconds(3 * network_.week_ms) + 10s;
  for (; tallied.ok() && tallied->status() == v1::PROPOSAL_STATUS_OPEN; tallied = NextClient().GetProposal(id)) {
    if (Clock::now() >= deadline) return Status{"DEMO", "the proposal was not tallied in time"};
    std::this_thread::sleep_for(250ms);
  }
  if (!tallied.ok()) return tallied.status();
  Say("   week " + std::to_string(closes_week) + " closed; the tally in block " +
      std::to_string(tallied->tallied_height()) + ": yes " + std::to_string(tallied->yes()) + ", no " +
      std::to_string(tallied->no()) + ", abstain " + std::to_string(tallied->abstain()) + " of " +
      std::to_string(tallied->electorate()) + " members -> " +
      (tallied->status() == v1::PROPOSAL_STATUS_ADOPTED ? "ADOPTED" : "REJECTED") + " (" + tallied->reason() + ")");
  for (const std::string& line : LawRunLines(tallied->law_runs(), /*with_trace=*/true, {}, 5)) Say(line);
  if (tallied->status() != v1::PROPOSAL_STATUS_ADOPTED) return Status{"DEMO", "the amendment was not adopted"};
  Say("   overtime_pay v3 runs from block " + std::to_string(tallied->tallied_height() + 1) +
      " on; the next block's header commits to the new law set.");

  Say("   The bakery's device records 45 hours for Ana again:");
  Result<uint64_t> week = Record45Hours(device, worker);
  if (!week.ok()) return week.status();
  Result<uint64_t> paid = ShowExplanation("Ana", worker.public_key(), /*epoch=*/false, *week);
  if (!paid.ok()) return paid.status();
  GS_RETURN_IF_ERROR(ShowBalances("Ana", worker.public_key(), *paid));
  // The node asked may not have committed that block yet.
  Client& client = NextClient();
  Result<v1::BlockResponse> block = client.GetBlock(*paid);
  for (const auto deadline = Clock::now() + kCommitWait; !block.ok() && Clock::now() < deadline;
       block = client.GetBlock(*paid)) {
    std::this_thread::sleep_for(100ms);
  }
  if (!block.ok()) return block.status();
  return static_cast<uint64_t>((block->header().time_ms() - network_.genesis_time_ms) / network_.epoch_ms);
}

// Every node's block at the lowest height all reached: same block hash, same state root.
Status Demo::CheckAgreement() {
  uint64_t common = UINT64_MAX;
  for (auto& client : clients_) {
    Result<v1::StatusResponse> status = client->GetStatus();
    if (!status.ok()) return status.status();
    common = std::min(common, status->height());
  }
  std::string hash, root;
  for (size_t i = 0; i < clients_.size(); ++i) {
    Result<v1::BlockResponse> block = clients_[i]->GetBlock(common);
    if (!block.ok()) return block.status();
    Say("   node" + std::to_string(i) + "  height " + std::to_string(common) + "  block " +
        block->block_hash().substr(0, 16) + "  state root " + block->state_root_after().substr(0, 16));
    if (i == 0) {
      hash = block->block_hash();
      root = block->state_root_after();
    } else if (block->block_hash() != hash || block->state_root_after() != root) {
      return Status{"DEMO", "node" + std::to_string(i) + " disagrees at height " + std::to_string(common)};
    }
  }
  Say("   all " + std::to_string(clients_.size()) + " nodes agree at height " + std::to_string(common) +
      ", state root " + root);
  return Status::Ok();
}

// Fetches the account's proof from one node and checks it here against the state root alone.
Status Demo::VerifyProof(const ledger::PublicKey& key) {
  Result<v1::StateProofResponse> answer = NextClient().GetAccountProof(key);
  if (!answer.ok()) return answer.status();
  Result<ledger::StateProof> proof = ledger::DecodeStateProof(AsBytes(answer->proof()));
  std::optional<Bytes> root = FromHex(answer->state_root());
  if (!proof.ok() || !root || root->size() != 32) return Status{"DEMO", "malformed proof answer"};
  ledger::Hash root_hash;
  std::copy(root->begin(), root->end(), root_hash.begin());
  Result<std::optional<ledger::Hash>> value =
      ledger::VerifyStateProof(root_hash, ledger::Sha256(AsBytes(answer->record_key())), *proof);
  const bool valid = value.ok() && value->has_value() && **value == ledger::Sha256(AsBytes(answer->record()));
  Say(std::string("   proof of the account at height ") + std::to_string(answer->height()) + ": " +
      (valid ? "verifies against the state root alone" : "DOES NOT VERIFY"));
  return valid ? Status::Ok() : Status{"DEMO", "state proof does not verify"};
}

Status Demo::Run() {
  const ledger::KeyPair ana = ledger::KeyPair::Generate(), bo = ledger::KeyPair::Generate();
  const ledger::KeyPair bakery = ledger::KeyPair::Generate(), store = ledger::KeyPair::Generate();
  const auto member = v1::ROLE_MEMBER;

  Say("\n1. commune-0's registrar registers two members (Ana, Bo), a bakery's attendance device and a store.");
  for (const auto& [name, key, role] : {std::tuple{"Ana", &ana, member}, std::tuple{"Bo", &bo, member},
                                        std::tuple{"bakery device", &bakery, v1::ROLE_WORKPLACE},
                                        std::tuple{"store", &store, v1::ROLE_STORE}}) {
    Result<std::string> code =
        Commit(std::string("register ") + name, builder_.Register(registrar_, Nonce(registrar_), key->public_key(), role));
    if (!code.ok()) return code.status();
  }

  Result<v1::StatusResponse> registered = NextClient().GetStatus();
  if (!registered.ok()) return registered.status();
  const uint64_t registered_epoch = registered->epoch();

  Say("\n2. The bakery's device records 45 hours for Ana in one week: three shifts of 15 h (a devnet\n"
      "   week lasts 10 s). Nobody issues her pay: the laws in force pay it when the week closes.");
  Result<uint64_t> week = Record45Hours(bakery, ana);
  if (!week.ok()) return week.status();
  const int64_t now_s = NowMs() / 1000 - 1;
  Result<std::string> long_shift = Commit("attendance: Bo 17 h in one shift",
                                          builder_.Attend(bakery, Nonce(bakery), bo.public_key(), now_s, 17 * 60));
  if (!long_shift.ok()) return long_shift.status();
  if (*long_shift != "OK") --nonces_[bakery.public_key()];  // a refused transaction uses no nonce

  Say("\n3. Week " + std::to_string(*week) + " closes: in the first block past its end every node runs the laws\n"
      "   for each worker. Ana asks a node why she was paid what she was:");
  Result<uint64_t> paid = ShowExplanation("Ana", ana.public_key(), /*epoch=*/false, *week);
  if (!paid.ok()) return paid.status();
  GS_RETURN_IF_ERROR(ShowBalances("Ana", ana.public_key(), *paid));

  Say("\n4. Every epoch's closing allots each member 30 guarantee tickets (guarantee_tickets). commune-0's\n"
      "   issuer awards special vouchers; the laws check every issuance.");
  GS_RETURN_IF_ERROR(WaitForEpoch(registered_epoch + 1));
  const std::vector<std::tuple<std::string, const ledger::KeyPair*, v1::VoucherClass, int64_t>> issues = {
      {"Bo: special voucher", &bo, v1::VOUCHER_CLASS_SPECIAL, 5'000},
      {"Bo: a special award above the largest", &bo, v1::VOUCHER_CLASS_SPECIAL, 150'000},
      {"Ana: 40 guarantee tickets on top", &ana, v1::VOUCHER_CLASS_GUARANTEE, 40'000}};
  for (const auto& [what, key, voucher_class, milli] : issues) {
    Result<std::string> code = Commit("issue " + what + " (" + ledger::FormatCredits(milli) + ")",
                                      builder_.Issue(issuer_, Nonce(issuer_), voucher_class, key->public_key(), milli, what));
    if (!code.ok()) return code.status();
    if (*code != "OK") --nonces_[issuer_.public_key()];
  }
  GS_RETURN_IF_ERROR(ShowBalances("Ana", ana.public_key()));
  GS_RETURN_IF_ERROR(ShowBalances("Bo", bo.public_key()));

  Say("\n5. Redemptions at the store (signed by the member, co-signed by the store), and refusals.");
  struct Redemption {
    std::string what;
    const ledger::KeyPair* member;
    v1::VoucherClass voucher_class;
    int64_t milli;
    std::string category;
  };
  const std::vector<Redemption> redemptions = {
      {"Ana buys bread with labour credits", &ana, v1::VOUCHER_CLASS_CONSUMPTION, 2'500, "bread"},
      {"Bo buys medicine with guarantee tickets", &bo, v1::VOUCHER_CLASS_GUARANTEE, 8'000, "medicine"},
      {"Ana tries a piano with guarantee tickets", &ana, v1::VOUCHER_CLASS_GUARANTEE, 1'000, "piano"},
      {"Bo tries to spend more than he holds", &bo, v1::VOUCHER_CLASS_CONSUMPTION, 50'000, "bread"},
      {"Bo buys a bicycle with his special voucher", &bo, v1::VOUCHER_CLASS_SPECIAL, 5'000, "bicycle"}};
  for (const Redemption& r : redemptions) {
    const uint64_t nonce = Nonce(*r.member);
    Result<std::string> code =
        Commit(r.what, builder_.Redeem(*r.member, nonce, store, r.voucher_class, r.milli, r.category));
    if (!code.ok()) return code.status();
    if (*code != "OK") --nonces_[r.member->public_key()];  // a refused transaction uses no nonce
  }
  GS_RETURN_IF_ERROR(ShowBalances("Ana", ana.public_key()));
  GS_RETURN_IF_ERROR(ShowBalances("Bo", bo.public_key()));

  Result<v1::StatusResponse> status = NextClient().GetStatus();
  if (!status.ok()) return status.status();
  const uint64_t expiry = status->epoch() + 1;  // guarantee tickets live one epoch
  Say("\n6. Waiting for epoch " + std::to_string(expiry) +
      " (an epoch lasts 20 s here): in the first block past the boundary the guarantee tickets\n"
      "   expire by cohort, and the epoch's closing allots every member fresh ones (guarantee_tickets).");
  GS_RETURN_IF_ERROR(WaitForEpoch(expiry));
  Result<uint64_t> allotted = ShowExplanation("Bo", bo.public_key(), /*epoch=*/true, expiry - 1);
  if (!allotted.ok()) return allotted.status();
  GS_RETURN_IF_ERROR(ShowBalances("Ana", ana.public_key(), *allotted));
  GS_RETURN_IF_ERROR(ShowBalances("Bo", bo.public_key(), *allotted));
  const uint64_t nonce = Nonce(bo);
  Result<std::string> code = Commit("Bo buys bread with his new guarantee tickets",
                                    builder_.Redeem(bo, nonce, store, v1::VOUCHER_CLASS_GUARANTEE, 1'000, "bread"));
  if (!code.ok()) return code.status();

  Say("\n7. An amendment. commune-0's registrar registers Dana, a delegate, and three members in her\n"
      "   constituency. Dana proposes overtime at twice the rate; delegates vote for their constituents,\n"
      "   members may vote themselves. When the week closes, the laws in force tally it (amendment_tally:\n"
      "   a quorum of half the members, and more yes than no), and an adopted law runs from the next block.");
  Result<uint64_t> amended = AmendOvertime(ana, bakery);
  if (!amended.ok()) return amended.status();

  // The plan's cap binds the consumption credits of its epochs: it starts after the epoch that
  // paid Ana's overtime.
  GS_RETURN_IF_ERROR(WaitForEpoch(*amended + 1));
  Say("\n8. The plan. A planner sends the economy's input files to the ledger, reads the final demand the\n"
      "   ledger derives from epoch " + std::to_string(expiry - 1) + "'s redemptions, solves the plan here and commits it with its\n"
      "   certificate; its cap on consumption credits is then in force (issuance_cap).");
  GS_RETURN_IF_ERROR(CommitPlan(expiry - 1, ledger::KeyPair::Generate(), ana));

  Say("\n9. Audit: every node's block and state root at one height, and a proof checked offline.");
  GS_RETURN_IF_ERROR(CheckAgreement());
  return VerifyProof(ana.public_key());
}

}  // namespace

Status RunDemo(const Network& network) {
  std::vector<std::unique_ptr<Client>> clients;
  for (const NetworkNode& node : network.nodes) {
    Result<std::unique_ptr<Client>> client =
        Client::Create("http://" + node.api.host + ":" + std::to_string(node.api.port));
    if (!client.ok()) return client.status();
    clients.push_back(*std::move(client));
  }
  Result<ledger::KeyPair> registrar = ledger::ReadKeyFile(network.nodes[0].home + "/" + kRegistrarKeyFile);
  Result<ledger::KeyPair> issuer = ledger::ReadKeyFile(network.nodes[0].home + "/" + kIssuerKeyFile);
  if (!registrar.ok()) return registrar.status();
  if (!issuer.ok()) return issuer.status();
  Say("The demo talks to the " + std::to_string(network.nodes.size()) +
      " validators through their HTTP APIs only, spreading its requests across them.");
  return Demo(network, std::move(clients), *registrar, *issuer).Run();
}

}  // namespace gongshe::node
