// `gongshe devnet --demo` (node/devnet.h RunDemo): the README's main job, told against a live
// network through the nodes' HTTP APIs only, as any client would: register members, a workplace
// and a store; record 45 hours of attendance in one week and watch the laws pay labour and
// overtime when the week closes, with their explanation read back from a node; issue and redeem
// vouchers (and see the laws' and the constitution's refusals); cross an epoch, where vouchers
// expire and the laws allot guarantee tickets; then check that every node agrees on the chain and
// verify a state proof offline.

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

namespace gongshe::node {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kCommitWait = 20s;

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
  // All three shifts must land in the week they start in: begin a second into a fresh week, so
  // the blocks have the rest of it (a devnet week is 10 s) to commit them.
  const int64_t since = NowMs() - network_.genesis_time_ms;
  const int64_t week_start_ms = network_.genesis_time_ms + (since / network_.week_ms + 1) * network_.week_ms;
  std::this_thread::sleep_for(std::chrono::milliseconds(week_start_ms + 1000 - NowMs()));
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

  Say("\n7. Audit: every node's block and state root at one height, and a proof checked offline.");
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
