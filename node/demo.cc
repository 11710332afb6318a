// `gongshe devnet --demo` (node/devnet.h RunDemo): the README's main job, told against a live
// network through the nodes' HTTP APIs only, as any client would: register members, a workplace
// and a store; record attendance; issue and redeem vouchers (and see refusals); cross an expiry
// epoch; then check that every node agrees on the chain and verify a state proof offline.

#include <chrono>
#include <cstdio>
#include <thread>

#include "ledger/key_file.h"
#include "ledger/state.h"
#include "ledger/state_tree.h"
#include "ledger/tx_builder.h"
#include "node/client.h"
#include "node/devnet.h"

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
  Status ShowBalances(const std::string& who, const ledger::PublicKey& key);
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

Status Demo::ShowBalances(const std::string& who, const ledger::PublicKey& key) {
  Result<v1::AccountResponse> account = NextClient().GetAccount(key);
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

  Say("\n2. The bakery's device records shifts (a devnet week lasts 10 s, so the shift starts just now).");
  const int64_t now_s = NowMs() / 1000 - 1;
  for (const auto& [name, key, minutes] : {std::tuple{"Ana", &ana, 480u}, std::tuple{"Bo", &bo, 540u}}) {
    Result<std::string> code = Commit(std::string("attendance: ") + name + " " + std::to_string(minutes / 60) + " h",
                                      builder_.Attend(bakery, Nonce(bakery), key->public_key(), now_s, minutes));
    if (!code.ok()) return code.status();
  }

  Say("\n3. commune-0's issuer issues vouchers: labour credits, guarantee tickets, a special voucher.");
  const std::vector<std::tuple<std::string, const ledger::KeyPair*, v1::VoucherClass, int64_t>> issues = {
      {"Ana: 8 h of labour", &ana, v1::VOUCHER_CLASS_CONSUMPTION, 8'000},
      {"Bo: 9 h of labour", &bo, v1::VOUCHER_CLASS_CONSUMPTION, 9'000},
      {"Ana: guarantee tickets", &ana, v1::VOUCHER_CLASS_GUARANTEE, 20'000},
      {"Bo: guarantee tickets", &bo, v1::VOUCHER_CLASS_GUARANTEE, 20'000},
      {"Bo: special voucher", &bo, v1::VOUCHER_CLASS_SPECIAL, 5'000}};
  for (const auto& [what, key, voucher_class, milli] : issues) {
    Result<std::string> code = Commit("issue " + what + " (" + ledger::FormatCredits(milli) + ")",
                                      builder_.Issue(issuer_, Nonce(issuer_), voucher_class, key->public_key(), milli, what));
    if (!code.ok()) return code.status();
  }
  GS_RETURN_IF_ERROR(ShowBalances("Ana", ana.public_key()));
  GS_RETURN_IF_ERROR(ShowBalances("Bo", bo.public_key()));

  Say("\n4. Redemptions at the store (signed by the member, co-signed by the store), and refusals.");
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
  Say("\n5. Waiting for epoch " + std::to_string(expiry) +
      " (an epoch lasts 20 s here): guarantee tickets expire by cohort, in the first block past the boundary.");
  GS_RETURN_IF_ERROR(WaitForEpoch(expiry));
  GS_RETURN_IF_ERROR(ShowBalances("Ana", ana.public_key()));
  GS_RETURN_IF_ERROR(ShowBalances("Bo", bo.public_key()));
  const uint64_t nonce = Nonce(bo);
  Result<std::string> code = Commit("Bo buys bread with expired guarantee tickets",
                                    builder_.Redeem(bo, nonce, store, v1::VOUCHER_CLASS_GUARANTEE, 1'000, "bread"));
  if (!code.ok()) return code.status();

  Say("\n6. Audit: every node's block and state root at one height, and a proof checked offline.");
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
