// Plans on a ledger, through a node's API (ledger/plans.h, planner/README.md "Plans on the ledger"):
//   gongshe plan upload FILE... --key K      plan inputs (or plans) as plan data, in chunks
//   gongshe query demand --matrix F --labour F [--from-epoch E] [--epochs K] [--out demand.csv]
//                                            the demand file the ledger derives from redemptions
//   gongshe plan commit --plan plan.pb --key K [--matrix F --labour F] [--epoch E] ...
//                                            sends what the node lacks and commits the plan
//   gongshe query plan EPOCH                 the plan in force for an epoch and its cap
// Exit status 0 on success; 1 with the reason on stderr (and with --json, an error object).

#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>

#include "cli/api_args.h"
#include "cli/commands.h"
#include "common/file.h"
#include "gongshe/v1/plan.pb.h"
#include "ledger/plans.h"
#include "ledger/tx_builder.h"
#include "node/plan_upload.h"
#include "planner/fixed_point.h"

namespace gongshe::cli {
namespace {

using std::chrono::milliseconds;

struct PlanLedgerOptions {
  NodeOptions node;
  std::string key_file;
  std::vector<std::string> files;
  std::string plan, matrix, labour, out;
  std::optional<uint64_t> epoch, from_epoch;
  std::optional<uint32_t> epochs;
  uint64_t wait_ms = 30'000;
};

std::string ReadOrFail(std::string_view command, const std::string& path, bool json) {
  return ValueOrFail(command, ReadFileBytes(path, ledger::kMaxPlanDataBytes), json);
}

ledger::Hash HashOf(std::string_view bytes) { return ledger::Sha256(AsBytes(bytes)); }

// What signing needs: the key, the chain id and the signer's next nonce, from the node.
// Sends one file as plan data and says what happened.
void Send(std::string_view command, node::Client& client, Signer& signer, const std::string& label,
          std::string_view bytes, const PlanLedgerOptions& o) {
  const bool sent = ValueOrFail(command,
                                node::SendPlanData(client, signer.builder, signer.key, signer.next_nonce, bytes,
                                                   milliseconds(o.wait_ms)),
                                o.node.json);
  if (o.node.json) return;
  std::printf("%s: %s, %zu bytes, %s\n", label.c_str(), ToHex(HashOf(bytes)).c_str(), bytes.size(),
              sent ? ("sent in " + std::to_string(ledger::PlanDataChunks(bytes.size())) + " chunks").c_str()
                   : "already on the ledger");
}

void RunUpload(const PlanLedgerOptions& o) {
  const char* command = "plan upload";
  std::vector<std::string> contents;
  for (const std::string& path : o.files) contents.push_back(ReadOrFail(command, path, o.node.json));
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  Signer signer = SignerOrFail(command, *client, o.key_file, o.node.json);
  for (size_t i = 0; i < o.files.size(); ++i) Send(command, *client, signer, o.files[i], contents[i], o);
  if (o.node.json) {
    std::printf("{\"files\":[");
    for (size_t i = 0; i < o.files.size(); ++i) {
      std::printf("%s\"%s\"", i ? "," : "", ToHex(HashOf(contents[i])).c_str());
    }
    std::printf("]}\n");
  }
}

void RunQueryDemand(const PlanLedgerOptions& o) {
  const char* command = "query demand";
  const std::string matrix = ReadOrFail(command, o.matrix, o.node.json);
  const std::string products = ReadOrFail(command, o.labour, o.node.json);
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  Result<v1::DemandResponse> demand = client->GetDemand(HashOf(matrix), HashOf(products), o.from_epoch, o.epochs);
  if (!demand.ok() && demand.status().code() == "PLAN_DATA_MISSING") {
    Fail(command,
         Status("PLAN_DATA_MISSING", demand.status().message() + "; send the inputs first: gongshe plan upload " +
                                         o.matrix + " " + o.labour + " --key PLANNER_KEY"),
         o.node.json);
  }
  const v1::DemandResponse answer = ValueOrFail(command, std::move(demand), o.node.json);
  if (!o.out.empty()) {
    std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
    out << answer.demand();
    if (!out.flush()) Fail(command, Status("IO_ERROR", "cannot write " + o.out), o.node.json);
  }
  if (o.node.json) {
    std::printf("%s\n", ToJsonLine(answer).c_str());
    return;
  }
  if (o.out.empty()) {
    std::printf("%s", answer.demand().c_str());
    return;
  }
  std::printf("demand of epochs %llu to %llu (redemptions per category, per epoch) at height %llu\n",
              U(answer.from_epoch()), U(answer.from_epoch() + answer.epochs() - 1), U(answer.height()));
  std::printf("written to %s, sha256 %s\n", o.out.c_str(), answer.demand_sha256().c_str());
}

void PrintPlan(const v1::PlanResponse& p) {
  auto hours = [](int64_t micro) { return planner::FormatFixed(micro, planner::kHoursDecimals); };
  std::printf("plan for epoch     %llu (committed at height %llu by %s)\n", U(p.epoch()), U(p.committed_height()),
              p.planner().c_str());
  std::printf("inputs             matrix %s\n                   products %s\n", p.matrix_sha256().c_str(),
              p.products_sha256().c_str());
  std::printf("demand             %s, redemptions of epochs %llu to %llu\n", p.demand_sha256().c_str(),
              U(p.demand_from_epoch()), U(p.demand_from_epoch() + p.demand_epochs() - 1));
  std::printf("products           %u\n", p.products());
  std::printf("consumer goods     %s h of labour\n", hours(p.consumer_labour_micro_hours()).c_str());
  std::printf("total labour       %s h\n", hours(p.total_labour_micro_hours()).c_str());
  std::printf("issuance cap       %s consumption credits; %s issued so far (as of height %llu)\n",
              ledger::FormatCredits(p.cap_milli()).c_str(), ledger::FormatCredits(p.issued_milli()).c_str(),
              U(p.height()));
}

void RunQueryPlan(const PlanLedgerOptions& o) {
  const char* command = "query plan";
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  const v1::PlanResponse plan = ValueOrFail(command, client->GetPlan(*o.epoch), o.node.json);
  if (o.node.json) {
    std::printf("%s\n", ToJsonLine(plan).c_str());
    return;
  }
  PrintPlan(plan);
}

// An input the plan names: sent from its file when given (after checking it is the one the plan
// names), else it must be on the ledger already.
void EnsureInput(std::string_view command, node::Client& client, Signer& signer, const std::string& what,
                 const std::string& path, const std::string& named, const PlanLedgerOptions& o) {
  const std::optional<ledger::Hash> name = ledger::HashFromBytes(AsBytes(named));
  if (!name) Fail(command, Status("PLAN_MALFORMED", "the plan's " + what + " hash is not 32 bytes"), o.node.json);
  if (!path.empty()) {
    const std::string bytes = ReadOrFail(command, path, o.node.json);
    if (HashOf(bytes) != *name) {
      Fail(command,
           Status("PLAN_INPUT_MISMATCH", path + " is not the " + what + " the plan was made from (its SHA-256 is " +
                                             ToHex(HashOf(bytes)) + ", the plan names " + ToHex(*name) + ")"),
           o.node.json);
    }
    Send(command, client, signer, path, bytes, o);
    return;
  }
  Result<v1::PlanDataResponse> known = client.GetPlanData(*name);
  if (!known.ok() || !known->complete()) {
    Fail(command,
         Status("PLAN_DATA_MISSING", "the node does not hold the plan's " + what + " " + ToHex(*name) +
                                         "; give it with --" + (what == "matrix" ? "matrix" : "labour")),
         o.node.json);
  }
}

void RunCommit(const PlanLedgerOptions& o) {
  const char* command = "plan commit";
  const bool json = o.node.json;
  const std::string plan_bytes = ReadOrFail(command, o.plan, json);
  v1::Plan plan;
  if (!plan.ParseFromString(plan_bytes)) Fail(command, Status("PLAN_MALFORMED", o.plan + " is not a plan"), json);
  std::unique_ptr<node::Client> client = ConnectOrFail(command, o.node);
  Signer signer = SignerOrFail(command, *client, o.key_file, o.node.json);
  EnsureInput(command, *client, signer, "matrix", o.matrix, plan.matrix_sha256(), o);
  EnsureInput(command, *client, signer, "products file", o.labour, plan.products_sha256(), o);

  // The ledger's demand for the window must be the one the plan was made from.
  const ledger::Hash matrix = *ledger::HashFromBytes(AsBytes(plan.matrix_sha256()));
  const ledger::Hash products = *ledger::HashFromBytes(AsBytes(plan.products_sha256()));
  const v1::DemandResponse demand =
      ValueOrFail(command, client->GetDemand(matrix, products, o.from_epoch, o.epochs), json);
  if (demand.demand_sha256() != ToHex(AsBytes(plan.demand_sha256()))) {
    Fail(command,
         Status("DEMAND_MISMATCH", "the plan was made from demand " + ToHex(AsBytes(plan.demand_sha256())) +
                                       ", but the ledger's demand for epochs " + std::to_string(demand.from_epoch()) +
                                       " to " + std::to_string(demand.from_epoch() + demand.epochs() - 1) + " is " +
                                       demand.demand_sha256() + " (gongshe query demand --out writes it)"),
         json);
  }
  Send(command, *client, signer, o.plan, plan_bytes, o);

  v1::CommitPlan action;
  action.set_epoch(o.epoch.value_or(demand.epoch()));
  action.set_plan_sha256(std::string(AsChars(HashOf(plan_bytes))));
  action.set_matrix_sha256(plan.matrix_sha256());
  action.set_products_sha256(plan.products_sha256());
  action.set_demand_sha256(plan.demand_sha256());
  action.set_demand_from_epoch(demand.from_epoch());
  action.set_demand_epochs(demand.epochs());
  const std::string tx = signer.builder.CommitPlan(signer.key, signer.next_nonce, action);
  const v1::TxResponse committed =
      ValueOrFail(command, node::SubmitAndWait(*client, tx, milliseconds(o.wait_ms)), json);
  if (committed.code() != "OK") {
    Fail(command, Status(committed.code(), "the plan was committed in block " + std::to_string(committed.height()) +
                                               " but rejected: " + committed.message()),
         json);
  }
  const v1::PlanResponse in_force = ValueOrFail(command, client->GetPlan(action.epoch()), json);
  if (json) {
    std::printf("%s\n", ToJsonLine(in_force).c_str());
    return;
  }
  std::printf("committed in block %llu: tx %s\n", U(committed.height()), committed.tx_id().c_str());
  PrintPlan(in_force);
}

void AddSignerOptions(CLI::App& cmd, PlanLedgerOptions& o) {
  cmd.add_option("--key", o.key_file, "The planner's key file")->required();
  cmd.add_option("--wait-ms", o.wait_ms, "How long to wait for each transaction's commit")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{30'000}));
}

void AddWindowOptions(CLI::App& cmd, PlanLedgerOptions& o) {
  cmd.add_option("--from-epoch,--demand-from-epoch", o.from_epoch,
                 "First epoch of the demand window (default: the epochs just before the current one)");
  cmd.add_option("--epochs,--demand-epochs", o.epochs, "Closed epochs in the demand window (default 1)")
      ->check(CLI::Range(uint32_t{1}, ledger::kMaxDemandEpochs));
}

}  // namespace

void AddPlanLedgerCommands(CLI::App& app) {
  static PlanLedgerOptions o;
  CLI::App* plan = app.get_subcommand("plan");
  CLI::App* query = app.get_subcommand("query");

  CLI::App* upload = plan->add_subcommand(
      "upload", "Send plan inputs (matrix, products) or plans to a node as plan data, signed by a planner");
  upload->add_option("files", o.files, "Files of at most 2 MiB")->required();
  AddSignerOptions(*upload, o);
  AddNodeOptions(*upload, o.node);
  upload->callback([] { RunUpload(o); });

  CLI::App* commit = plan->add_subcommand(
      "commit", "Commit a plan for an epoch: sends the inputs and the plan the node lacks, then the plan transaction");
  commit->add_option("--plan", o.plan, "The plan (gongshe plan solve --out)")->required();
  commit->add_option("--matrix", o.matrix, "The plan's matrix file, sent if the node lacks it");
  commit->add_option("--labour,--products", o.labour, "The plan's products file, sent if the node lacks it");
  commit->add_option("--epoch", o.epoch, "The epoch the plan is for (default: the current one)");
  AddWindowOptions(*commit, o);
  AddSignerOptions(*commit, o);
  AddNodeOptions(*commit, o.node);
  commit->callback([] { RunCommit(o); });

  CLI::App* demand = query->add_subcommand(
      "demand", "The final demand the ledger derives from redemptions, as a demand file for gongshe plan solve");
  demand->add_option("--matrix", o.matrix, "The matrix file (on the ledger)")->required();
  demand->add_option("--labour,--products", o.labour, "The products file (on the ledger)")->required();
  demand->add_option("--out", o.out, "Write the demand file here (default: print it)");
  AddWindowOptions(*demand, o);
  AddNodeOptions(*demand, o.node);
  demand->callback([] { RunQueryDemand(o); });

  CLI::App* show = query->add_subcommand("plan", "The plan in force for an epoch, its issuance cap and its use");
  show->add_option("epoch", o.epoch, "The epoch")->required();
  AddNodeOptions(*show, o.node);
  show->callback([] { RunQueryPlan(o); });
}

}  // namespace gongshe::cli
