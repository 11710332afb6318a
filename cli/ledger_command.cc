// `gongshe ledger demo`: one ledger, in-process, driven through a short story that exercises
// every rule of the state machine and the standard laws, and prints what happened (with the laws'
// explanations), the conservation table, the final state root, and a presence and an absence
// proof checked against that root alone.

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <sstream>

#include "cli/commands.h"
#include "ledger/laws.h"
#include "ledger/ledger.h"
#include "ledger/state.h"
#include "ledger/state_tree.h"
#include "ledger/tx_builder.h"
#include "node/law_text.h"

namespace gongshe::cli {
namespace {

using ledger::KeyPair;

constexpr const char* kChainId = "gongshe-demo";
constexpr int64_t kGenesisMs = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kWeekMs = 7 * 24 * kHourMs;
constexpr int64_t kEpochMs = 4 * kWeekMs;

// Keys derived from names, so every run of the demo produces the same chain and the same roots.
KeyPair NamedKey(const std::string& name) {
  ledger::Hash seed = ledger::Sha256(AsBytes("gongshe-demo/" + name));
  return KeyPair::FromSeed(seed);
}

std::string Raw(const KeyPair& k) { return std::string(AsChars(k.public_key())); }

class Demo {
 public:
  Demo(const std::string& dir, bool json) : json_(json) {
    v1::Genesis g;
    g.set_version(1);
    g.set_chain_id(kChainId);
    g.set_genesis_time_ms(kGenesisMs);
    g.set_week_ms(kWeekMs);
    g.set_epoch_ms(kEpochMs);
    for (const char* name : {"red-star", "east-wind"}) {
      v1::Commune* c = g.add_communes();
      c->set_name(name);
      c->set_registrar(Raw(NamedKey(std::string(name) + "/registrar")));
      c->set_issuer(Raw(NamedKey(std::string(name) + "/issuer")));
      c->set_validator(Raw(NamedKey(std::string(name) + "/validator")));
    }
    ledger::AddStandardLaws(g);
    ledger::GenesisDoc doc{g, ledger::Sha256(AsBytes(ledger::GenesisToJson(g)))};
    Result<std::unique_ptr<ledger::Ledger>> opened = ledger::Ledger::Open(dir, doc);
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    ledger_ = std::move(opened).value();
    if (ledger_->height() != 0) throw std::runtime_error("the demo needs an empty directory: " + dir);
    time_ms_ = kGenesisMs;
  }

  void Run() {
    KeyPair registrar = NamedKey("red-star/registrar"), issuer = NamedKey("red-star/issuer");
    KeyPair alice = NamedKey("alice"), bob = NamedKey("bob"), bakery = NamedKey("bakery-device"),
            store = NamedKey("commune-store");
    Say("1. The red-star registrar registers two members, a workplace device and a store.");
    Block({Register(registrar, alice, v1::ROLE_MEMBER), Register(registrar, bob, v1::ROLE_MEMBER),
           Register(registrar, bakery, v1::ROLE_WORKPLACE), Register(registrar, store, v1::ROLE_STORE)},
          {"register alice", "register bob", "register bakery device", "register store"});

    Say("2. The bakery's device signs 45 hours of attendance for alice this week (9 shifts of 5 h).");
    std::vector<std::string> shifts, labels;
    for (int day = 0; day < 9; ++day) {
      shifts.push_back(Attend(bakery, alice, (kGenesisMs + day * 8 * kHourMs) / 1000, 300));
      labels.push_back("shift " + std::to_string(day + 1) + ", 5 h");
    }
    Block(shifts, labels, kGenesisMs + 3 * 24 * kHourMs);

    Say("3. The week closes: in its first block the laws pay alice's 45 h, 5 of them overtime at 1.5x.");
    Block({}, {}, kGenesisMs + kWeekMs);

    Say("4. The issuer credits lots: guarantee tickets to both, a special voucher to alice.");
    std::string issue_alice = Issue(issuer, alice, v1::VOUCHER_CLASS_SPECIAL, 5'000, "outstanding contribution");
    Block({issue_alice, Issue(issuer, alice, v1::VOUCHER_CLASS_GUARANTEE, 20'000, "monthly allotment"),
           Issue(issuer, bob, v1::VOUCHER_CLASS_GUARANTEE, 20'000, "monthly allotment")},
          {"issue 5 special to alice", "issue 20 guarantee to alice", "issue 20 guarantee to bob"});

    Say("5. Alice redeems at the store (the store co-signs); vouchers are cancelled, never moved.");
    Block({Redeem(alice, store, v1::VOUCHER_CLASS_CONSUMPTION, 12'500, "bread"),
           Redeem(alice, store, v1::VOUCHER_CLASS_GUARANTEE, 8'000, "medicine")},
          {"alice: 12.5 consumption for bread", "alice: 8 guarantee for medicine"});

    Say("6. What the constitution and the laws refuse (each leaves the state untouched):");
    auto forge = [&] {
      std::string tx = Redeem(bob, store, v1::VOUCHER_CLASS_GUARANTEE, 1'000, "bread");
      tx[tx.size() - 70] ^= 1;  // a bit of the store's co-signature
      return tx;
    };
    std::vector<std::pair<std::string, std::function<std::string()>>> refused = {
        {"bob: guarantee tickets for a piano", [&] { return Redeem(bob, store, v1::VOUCHER_CLASS_GUARANTEE, 1'000, "piano"); }},
        {"bob: 11 more guarantee tickets this epoch", [&] { return Issue(issuer, bob, v1::VOUCHER_CLASS_GUARANTEE, 11'000, "more"); }},
        {"a 17 h shift for bob", [&] { return Attend(bakery, bob, (kGenesisMs + kWeekMs) / 1000, 17 * 60); }},
        {"the store redeeming on its own", [&] { return Redeem(store, store, v1::VOUCHER_CLASS_CONSUMPTION, 1'000, "bread"); }},
        {"alice: more than she holds", [&] { return Redeem(alice, store, v1::VOUCHER_CLASS_CONSUMPTION, 999'000, "bread"); }},
        {"alice issuing to bob", [&] { return Issue(alice, bob, v1::VOUCHER_CLASS_CONSUMPTION, 1'000, "not an issuer"); }},
        {"replaying the issuer's transaction", [&] { return issue_alice; }},
        {"a forged co-signature", forge}};
    for (auto& [label, make] : refused) Block({make()}, {label});

    Say("7. Time passes into the next epoch: guarantee tickets (lifetime 1 epoch) expire by cohort, and the\n"
        "   epoch's closing allots each member 30 fresh ones (guarantee_tickets).");
    Block({}, {}, kGenesisMs + kEpochMs + kHourMs);
    Block({Redeem(bob, store, v1::VOUCHER_CLASS_GUARANTEE, 31'000, "bread")}, {"bob: 31 guarantee tickets (he holds 30)"});
    Block({Redeem(bob, store, v1::VOUCHER_CLASS_GUARANTEE, 1'000, "bread")}, {"bob: 1 guarantee ticket for bread"});
    Report(alice, NamedKey("nobody"));
  }

 private:
  // The signer's next nonce, counting transactions built for the next block.
  uint64_t Nonce(const KeyPair& signer) {
    std::optional<v1::Account> account = State().Account(signer.public_key());
    return (account ? account->nonce() : 0) + 1 + pending_[signer.public_key()]++;
  }
  ledger::StateView State() const { return ledger::StateView(ledger_->state()); }

  std::string Register(const KeyPair& registrar, const KeyPair& key, v1::Role role) {
    return builder_.Register(registrar, Nonce(registrar), key.public_key(), role);
  }
  std::string Attend(const KeyPair& device, const KeyPair& member, int64_t start_s, uint32_t minutes) {
    return builder_.Attend(device, Nonce(device), member.public_key(), start_s, minutes);
  }
  std::string Issue(const KeyPair& issuer, const KeyPair& member, v1::VoucherClass c, int64_t milli, const char* why) {
    return builder_.Issue(issuer, Nonce(issuer), c, member.public_key(), milli, why);
  }
  std::string Redeem(const KeyPair& member, const KeyPair& store, v1::VoucherClass c, int64_t milli, const char* category) {
    return builder_.Redeem(member, Nonce(member), store, c, milli, category);
  }

  void Block(std::vector<std::string> txs, const std::vector<std::string>& labels, int64_t time_ms = 0) {
    time_ms_ = std::max(time_ms_ + 1000, time_ms);
    v1::Block block = ledger::MakeBlock(ledger_->tip(), std::move(txs), time_ms_,
                                        NamedKey("red-star/validator").public_key(), 0);
    Result<v1::BlockResults> results = ledger_->Apply(block);
    if (!results.ok()) throw std::runtime_error(results.status().ToString());
    pending_.clear();
    for (const v1::ClosingRun& closing : results->closings()) {
      const std::string who = closing.member() == Raw(NamedKey("alice")) ? "alice" : closing.member() == Raw(NamedKey("bob")) ? "bob" : "a member";
      Say("   " + closing.hook() + " " + std::to_string(closing.period()) + " for " + who + ":");
      for (const std::string& line : node::LawRunLines(closing.law_runs(), /*with_trace=*/closing.hook() == "week_closed",
                                                       ToHex(AsBytes(closing.member())), 5)) {
        Say(line);
      }
    }
    for (int i = 0; i < results->results_size(); ++i) {
      const v1::TxResult& r = results->results(i);
      Say("   [" + r.code() + "] " + labels[i] + (r.message().empty() ? "" : " -- " + r.message()));
    }
  }

  void Say(const std::string& line) {
    if (!json_) std::printf("%s\n", line.c_str());
  }

  void Report(const KeyPair& alice, const KeyPair& nobody) {
    const ledger::StateView state = State();
    uint64_t epoch = state.ChainState().epoch();
    std::ostringstream cohorts;
    Say("\nConservation per class and expiry epoch (credits): issued = redeemed + expired + outstanding");
    bool first = true, all_hold = true;
    for (v1::VoucherClass c : {v1::VOUCHER_CLASS_GUARANTEE, v1::VOUCHER_CLASS_CONSUMPTION, v1::VOUCHER_CLASS_SPECIAL}) {
      for (uint64_t e = 1; e <= 13; ++e) {
        v1::Cohort k = state.Cohort(c, e);
        if (k.issued_milli() == 0) continue;
        bool holds = k.issued_milli() == k.redeemed_milli() + k.expired_milli() + k.outstanding_milli();
        char line[200];
        std::snprintf(line, sizeof line, "   %-26s expiry %2llu: %s = %s + %s + %s  %s", v1::VoucherClass_Name(c).c_str(),
                      static_cast<unsigned long long>(e), ledger::FormatCredits(k.issued_milli()).c_str(),
                      ledger::FormatCredits(k.redeemed_milli()).c_str(), ledger::FormatCredits(k.expired_milli()).c_str(),
                      ledger::FormatCredits(k.outstanding_milli()).c_str(), holds ? "holds" : "BROKEN");
        Say(line);
        cohorts << (first ? "" : ",") << "{\"class\":\"" << v1::VoucherClass_Name(c) << "\",\"expiry_epoch\":" << e
                << ",\"issued_milli\":" << k.issued_milli() << ",\"redeemed_milli\":" << k.redeemed_milli()
                << ",\"expired_milli\":" << k.expired_milli() << ",\"outstanding_milli\":" << k.outstanding_milli()
                << ",\"holds\":" << (holds ? "true" : "false") << "}";
        first = false;
        all_hold = all_hold && holds;
      }
    }
    ledger::Hash root = ledger_->tip().state_root;
    std::string key = ledger::BalanceKey(alice.public_key(), v1::VOUCHER_CLASS_CONSUMPTION);
    ledger::Hash value_hash = ledger::Sha256(AsBytes(*state.RawRecord(key)));
    auto present = ledger::VerifyStateProof(root, ledger::Sha256(AsBytes(key)),
                                            ledger::ProveState(ledger_->state(), ledger::Sha256(AsBytes(key))));
    bool presence_ok = present.ok() && present->has_value() && **present == value_hash;
    std::string absent_key = ledger::AccountKey(nobody.public_key());
    auto absent = ledger::VerifyStateProof(root, ledger::Sha256(AsBytes(absent_key)),
                                           ledger::ProveState(ledger_->state(), ledger::Sha256(AsBytes(absent_key))));
    bool absence_ok = absent.ok() && !absent->has_value();
    std::string root_hex = ToHex(root), history_hex = ToHex(ledger_->tip().history_root);
    Say("\nheight " + std::to_string(ledger_->height()) + ", epoch " + std::to_string(epoch));
    Say("state root   " + root_hex);
    Say("history root " + history_hex);
    Say(std::string("proof that alice holds her consumption balance, checked against the root alone: ") +
        (presence_ok ? "valid" : "INVALID"));
    Say(std::string("proof that an unknown key has no account, checked against the root alone:      ") +
        (absence_ok ? "valid" : "INVALID"));
    if (json_) {
      std::printf("{\"height\":%llu,\"epoch\":%llu,\"state_root\":\"%s\",\"history_root\":\"%s\",\"presence_proof_valid\":%s,"
                  "\"absence_proof_valid\":%s,\"cohorts\":[%s]}\n",
                  static_cast<unsigned long long>(ledger_->height()), static_cast<unsigned long long>(epoch), root_hex.c_str(),
                  history_hex.c_str(), presence_ok ? "true" : "false", absence_ok ? "true" : "false", cohorts.str().c_str());
    }
    if (!presence_ok || !absence_ok) throw std::runtime_error("a state proof failed to verify");
    if (!all_hold) throw std::runtime_error("the conservation identity is broken");
  }

  bool json_;
  std::unique_ptr<ledger::Ledger> ledger_;
  int64_t time_ms_;
  std::map<ledger::PublicKey, uint64_t> pending_;
  ledger::TxBuilder builder_{kChainId};
};

}  // namespace

void AddLedgerCommands(CLI::App& app) {
  CLI::App* ledger_cmd = app.add_subcommand("ledger", "Single-process ledger tools");
  ledger_cmd->require_subcommand(1);
  CLI::App* demo = ledger_cmd->add_subcommand(
      "demo", "Run a short story through one ledger: registration, attendance, issuance, redemption, "
              "rejections, expiry, conservation and state proofs");
  static std::string dir;
  static bool json = false;
  demo->add_option("--dir", dir, "Empty directory for the ledger's RocksDB (default: a fresh temporary one)");
  demo->add_flag("--json", json, "Print a JSON summary instead of the story");
  demo->callback([] {
    std::filesystem::path path = dir.empty() ? std::filesystem::temp_directory_path() / "gongshe-ledger-demo" : std::filesystem::path(dir);
    if (dir.empty()) std::filesystem::remove_all(path);
    try {
      Demo(path.string(), json).Run();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gongshe ledger demo: %s\n", e.what());
      throw CLI::RuntimeError(1);
    }
    if (dir.empty()) std::filesystem::remove_all(path);
  });
}

}  // namespace gongshe::cli
