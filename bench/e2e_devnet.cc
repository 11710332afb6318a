// End to end: a network of `gongshe node` processes on this machine, signed attendance records
// sent over the HTTP API by client threads, committed transactions per second and
// submit-to-commit latency at full load and at half load (issue 4). In the same run it measures
// the bound that signature checking sets: every validator admits (decodes and verifies) every
// transaction, so the network cannot commit more than
//     single-core verifications per second x cores / validators.
//
//   gongshe_e2e_devnet [--validators 4] [--threads 16] [--inflight 4000] [--batch 16] [--warmup-s 3]
//                      [--full-s 20] [--half-s 20] [--workplaces 64] [--members 64] [--keep]
//                      [--log-level debug]   (with --keep: node logs with each block's timings)
//
// Phases: (1) write a network (real 7-day weeks, so no week closes under the run) and pre-sign
// the full-load transactions; measure the verification rate on one thread. (2) Start the nodes;
// each commune's registrar registers its workplaces and members (not measured). (3) Full load:
// every thread keeps submitting while fewer than --inflight transactions are submitted and not
// yet committed. (4) Half load: the threads pace their submissions at half the full-load
// committed rate. Then two diagnostic phases: (5) one transaction in flight (the pipeline's latency
// without load); (6) the HTTP probe: every thread submits a transaction signed for another chain,
// which admission refuses before any signature check, to price a submission's HTTP path.
// (7) Stop the nodes; measure the verification rate again.
//
// Committed tx/s is node 0's gongshe_txs_committed_total (GET /metrics) over the measured window
// (after --warmup-s). Latency: a poller follows node 0's blocks (GET /v1/blocks/{h}?wait_ms=..., which
// node 0 answers as soon as height h is committed) and a transaction counts as committed when the
// poller first sees it; its latency runs from just before its POST to the arrival of that block's
// answer, so it includes the block fetch. Latencies are those of the transactions submitted
// inside the window; poller_lag_max_blocks says how far the poller fell behind node 0.
//
// Prints one JSON object on stdout; progress and one readable line per figure on stderr.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ledger/hash.h"
#include "ledger/key_file.h"
#include "ledger/transaction.h"
#include "ledger/tx_builder.h"
#include "node/client.h"
#include "node/devnet.h"

namespace gongshe::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kPollInterval = milliseconds(2);      // submitters: wait before looking again for room
constexpr auto kBlockWait = milliseconds(1'000);     // poller: how long node 0 may hold a block request
constexpr auto kStatusInterval = milliseconds(250);  // sampler of node 0's mempool size
constexpr uint32_t kMaxInflightPerSigner = 200;      // below the mempool's 256 per signer and nonce window
constexpr uint32_t kRegisterBatch = 200;             // registrar transactions in flight (nonce window 256)
constexpr size_t kVerifySample = 4096;               // transactions per verification repetition
constexpr size_t kVerifyRepetitions = 5;
constexpr size_t kMaxPresigned = 400'000;            // bounds the memory of pre-signed transactions
constexpr auto kDrainLimit = std::chrono::seconds(20);
constexpr auto kClientTimeout = std::chrono::seconds(5);
constexpr auto kHttpProbe = std::chrono::seconds(3);
constexpr uint32_t kOneInFlightSeconds = 5;

std::atomic<bool> g_interrupted{false};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

void Log(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

std::string Fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

double Median(std::vector<double> values) {
  GS_ASSERT(!values.empty());
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The q-quantile (nearest rank) of sorted values; 0 when there are none.
double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// --- Options ---------------------------------------------------------------------------------

struct Options {
  uint32_t validators = 4;
  uint32_t threads = 16;
  uint32_t inflight = 4000;
  uint32_t batch = 16;  // transactions per POST at most (one per signer of the thread)
  uint32_t warmup_s = 3;
  uint32_t full_s = 20;
  uint32_t half_s = 20;
  uint32_t workplaces = 64;  // per commune: the signers of the measured transactions
  uint32_t members = 64;     // per commune
  bool keep = false;         // keep the network's folder (node logs) after a successful run
  std::string log_level;     // the nodes' log level (config.toml); empty: as written by init
};

std::optional<Options> ParseOptions(int argc, char** argv) {
  Options options;
  struct Flag {
    const char* name;
    uint32_t* value;
    uint32_t min, max;
  };
  const Flag flags[] = {{"--validators", &options.validators, 1, 16}, {"--threads", &options.threads, 1, 256},
                        {"--inflight", &options.inflight, 1, 100'000},
                        {"--batch", &options.batch, 1, 1000},  {"--warmup-s", &options.warmup_s, 0, 60},
                        {"--full-s", &options.full_s, 1, 600},          {"--half-s", &options.half_s, 1, 600},
                        {"--workplaces", &options.workplaces, 1, 1024}, {"--members", &options.members, 1, 1024}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep") {
      options.keep = true;
      continue;
    }
    if (arg == "--log-level" && i + 1 < argc) {
      options.log_level = argv[++i];
      continue;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags) {
      if (arg == f.name) flag = &f;
    }
    if (!flag || i + 1 >= argc) return std::nullopt;
    char* end = nullptr;
    const unsigned long value = std::strtoul(argv[++i], &end, 10);
    if (*end != '\0' || value < flag->min || value > flag->max) return std::nullopt;
    *flag->value = static_cast<uint32_t>(value);
  }
  // Every submitter thread owns at least one signer.
  if (options.workplaces * options.validators < options.threads) return std::nullopt;
  return options;
}

// --- The machine -----------------------------------------------------------------------------

std::string LoadAverage() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// User + system CPU seconds of a process so far (/proc/<pid>/stat, fields 14 and 15); 0 if gone.
double CpuSeconds(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(file, line)) return 0;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (index == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// --- Transactions ----------------------------------------------------------------------------

struct HashHasher {
  size_t operator()(const ledger::Hash& h) const {
    size_t v = 0;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

// One pre-signed measured transaction. Submitters write submit_ns, the poller commit_ns.
struct TxSlot {
  std::string bytes;
  uint32_t signer = 0;
  std::atomic<int64_t> submit_ns{0};  // just before its last POST (0 before the first)
  std::atomic<int64_t> commit_ns{0};  // when the poller first saw it in a block
  std::atomic<bool> accepted{false};  // the node admitted it (OK or ALREADY_KNOWN)
  std::atomic<bool> result_ok{false};
};

// The workplaces (signers), the members they record shifts for, and every pre-signed transaction.
// Between phases one thread extends it; during a phase the slots' bytes and the id index are
// read-only.
class Workload {
 public:
  Workload(const node::Network& network, const Options& options)
      : builder_(network.chain_id),
        shift_start_s_(network.genesis_time_ms / 1000),
        signer_committed_(static_cast<size_t>(options.workplaces) * options.validators) {
    const size_t communes = options.validators;
    for (size_t c = 0; c < communes; ++c) {
      for (uint32_t w = 0; w < options.workplaces; ++w) workplaces_.push_back(ledger::KeyPair::Generate());
      for (uint32_t m = 0; m < options.members; ++m) members_.push_back(ledger::KeyPair::Generate());
    }
    workplaces_per_commune_ = options.workplaces;
    members_per_commune_ = options.members;
    streams_.resize(workplaces_.size());
  }

  size_t signers() const { return workplaces_.size(); }
  const ledger::KeyPair& workplace(size_t i) const { return workplaces_[i]; }
  const ledger::KeyPair& member(size_t i) const { return members_[i]; }
  size_t communes() const { return workplaces_.size() / workplaces_per_commune_; }
  uint32_t workplaces_per_commune() const { return workplaces_per_commune_; }
  uint32_t members_per_commune() const { return members_per_commune_; }
  const ledger::TxBuilder& builder() const { return builder_; }

  // Appends transactions so that every signer has at least `unused` not yet taken, signing on
  // `threads` threads. Signer s's nonces run 1, 2, ... in its stream.
  void Presign(size_t unused, unsigned threads) {
    std::vector<std::vector<std::string>> signed_txs(workplaces_.size());
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t s = t; s < workplaces_.size(); s += threads) {
          Stream& stream = streams_[s];
          if (stream.dropped) continue;
          const size_t have = stream.slots.size() - stream.next;
          for (size_t k = have; k < unused; ++k) signed_txs[s].push_back(SignNext(s, stream.slots.size() + k - have));
        }
      });
    }
    for (std::thread& thread : pool) thread.join();
    for (size_t s = 0; s < workplaces_.size(); ++s) {
      for (std::string& bytes : signed_txs[s]) {
        const auto index = static_cast<uint32_t>(slots_.size());
        TxSlot& slot = slots_.emplace_back();
        slot.bytes = std::move(bytes);
        slot.signer = static_cast<uint32_t>(s);
        index_by_id_.emplace(ledger::Sha256(AsBytes(slot.bytes)), index);
        streams_[s].slots.push_back(index);
      }
    }
  }

  size_t presigned() const { return slots_.size(); }
  TxSlot& slot(uint32_t index) { return slots_[index]; }
  std::optional<uint32_t> Find(const ledger::Hash& id) const {
    auto it = index_by_id_.find(id);
    if (it == index_by_id_.end()) return std::nullopt;
    return it->second;
  }

  // Per-signer progress. A stream is used by one submitter thread at a time.
  struct Stream {
    std::vector<uint32_t> slots;  // in nonce order
    size_t next = 0;              // the first not yet accepted
    uint32_t accepted = 0;        // accepted submissions (the signer's in-flight = accepted - committed)
    bool dropped = false;         // a refusal left a nonce gap: its later transactions cannot commit
  };
  Stream& stream(size_t signer) { return streams_[signer]; }
  std::atomic<uint32_t>& committed(size_t signer) { return signer_committed_[signer]; }

 private:
  // The transaction of signer s at stream position k: nonce k + 1, for a member of its commune.
  std::string SignNext(size_t s, size_t k) const {
    const size_t commune = s / workplaces_per_commune_;
    const size_t member = commune * members_per_commune_ + (k + s) % members_per_commune_;
    return builder_.Attend(workplaces_[s], k + 1, members_[member].public_key(), shift_start_s_, 1);
  }

  ledger::TxBuilder builder_;
  int64_t shift_start_s_;
  uint32_t workplaces_per_commune_ = 0, members_per_commune_ = 0;
  std::vector<ledger::KeyPair> workplaces_, members_;
  std::vector<Stream> streams_;
  std::deque<TxSlot> slots_;  // stable addresses: slots hold atomics
  std::unordered_map<ledger::Hash, uint32_t, HashHasher> index_by_id_;
  std::vector<std::atomic<uint32_t>> signer_committed_;
};

// Decode + verify of `count` pre-signed transactions on this thread, repeated; verifications/s of
// each repetition.
std::vector<double> VerifyRates(Workload& work, const std::string& chain_id, size_t count, size_t repetitions) {
  count = std::min(count, work.presigned());
  std::vector<double> rates;
  for (size_t rep = 0; rep < repetitions; ++rep) {
    size_t valid = 0;
    const int64_t start = NowNs();
    for (uint32_t i = 0; i < count; ++i) {
      const std::string& bytes = work.slot(i).bytes;
      Result<ledger::DecodedTx> tx = ledger::DecodeTx(AsBytes(bytes), chain_id);
      valid += tx.ok() && ledger::VerifyTxSignatures(*tx, chain_id);
    }
    const int64_t elapsed = NowNs() - start;
    GS_ASSERT(valid == count);  // every pre-signed transaction is valid: anything else is a bug here
    rates.push_back(static_cast<double>(count) * 1e9 / static_cast<double>(elapsed));
  }
  return rates;
}

// --- Following commits -----------------------------------------------------------------------

// Wakes the submitters that wait for room in flight whenever the poller has seen a block.
class CommitSignal {
 public:
  void Notify() {
    { std::lock_guard lock(mu_); }
    cv_.notify_all();
  }
  // Until `ready()` or `limit`; the limit also covers a wake-up missed between a check and a wait.
  template <typename Ready>
  void WaitFor(milliseconds limit, Ready ready) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, limit, ready);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// Follows node 0's committed blocks on its own thread and marks measured transactions committed.
class CommitPoller {
 public:
  CommitPoller(Workload& work, std::unique_ptr<node::Client> client, uint64_t from_height, CommitSignal& signal)
      : work_(work), client_(std::move(client)), next_height_(from_height + 1), signal_(signal) {}

  void Start() {
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  int64_t committed() const { return committed_; }
  uint64_t seen_height() const { return next_height_ - 1; }
  std::map<std::string, uint64_t> errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }

 private:
  void Run() {
    while (!stop_ && !g_interrupted) {
      Result<v1::BlockResponse> block = client_->GetBlock(next_height_, kBlockWait);
      const int64_t seen = NowNs();
      if (!block.ok()) {
        if (block.status().code() == "NOT_FOUND") continue;  // not committed within kBlockWait
        {
          std::lock_guard lock(mu_);
          errors_[block.status().code()]++;
        }
        std::this_thread::sleep_for(kPollInterval);
        continue;
      }
      Record(*block, seen);
      ++next_height_;
      signal_.Notify();
    }
  }

  void Record(const v1::BlockResponse& block, int64_t seen) {
    for (const v1::BlockTxView& tx : block.txs()) {
      std::optional<Bytes> raw = FromHex(tx.tx_id());
      if (!raw) continue;
      std::optional<ledger::Hash> id = ledger::HashFromBytes(*raw);
      if (!id) continue;
      std::optional<uint32_t> index = work_.Find(*id);
      if (!index) continue;  // a registration
      TxSlot& slot = work_.slot(*index);
      int64_t expected = 0;
      if (!slot.commit_ns.compare_exchange_strong(expected, seen)) continue;
      slot.result_ok = tx.code() == "OK";
      work_.committed(slot.signer)++;
      committed_++;
    }
  }

  Workload& work_;
  std::unique_ptr<node::Client> client_;
  std::atomic<uint64_t> next_height_;
  CommitSignal& signal_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> committed_{0};
  std::thread thread_;
  std::mutex mu_;  // guards errors_
  std::map<std::string, uint64_t> errors_;
};

// --- Submitting ------------------------------------------------------------------------------

struct PhasePlan {
  std::string name;
  int64_t start_ns = 0, window_start_ns = 0, end_ns = 0;
  double rate_per_thread = 0;  // paced when > 0, else as fast as the in-flight bound allows
  int64_t max_inflight = 0;
  size_t batch = 1;    // transactions per POST at most
  size_t threads = 0;  // submitter threads 0 .. threads - 1 take part
};

struct SubmitterStats {
  uint64_t accepted = 0;
  uint64_t refused_retried = 0;  // refusals whose transaction was submitted again
  uint64_t refused_dropped = 0;  // refusals that cannot succeed by retrying
  std::map<std::string, uint64_t> refusals;
  uint64_t posts = 0;       // answered POSTs
  double post_seconds = 0;  // wall time inside answered POSTs
  bool exhausted = false;   // ran out of pre-signed transactions before the end
};

// Refusals that say "later": the same transaction is submitted again.
bool Retryable(const std::string& code) {
  return code == "MEMPOOL_FULL" || code == "MEMPOOL_BUSY" || code == "BUSY" || code == "ACCOUNT_QUEUE_FULL" ||
         code == "NODE_UNREACHABLE";
}

class Submitters {
 public:
  Submitters(Workload& work, std::vector<std::unique_ptr<node::Client>> clients, const CommitPoller& poller,
             CommitSignal& signal)
      : work_(work), clients_(std::move(clients)), poller_(poller), signal_(signal) {}

  int64_t accepted() const { return accepted_; }
  int64_t inflight() const { return accepted_ - poller_.committed(); }

  // Runs one phase on the plan's threads and returns each thread's figures.
  std::vector<SubmitterStats> Run(const PhasePlan& plan) {
    GS_ASSERT(plan.threads >= 1 && plan.threads <= clients_.size());
    std::vector<SubmitterStats> stats(plan.threads);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < plan.threads; ++t) {
      threads.emplace_back([&, t] { stats[t] = RunThread(t, plan); });
    }
    for (std::thread& thread : threads) thread.join();
    return stats;
  }

  // Every thread submits `bytes` again and again until `end_ns`: the cost of a submission that
  // admission refuses before any signature check. Counts the answers' codes; `post_seconds` is
  // the wall time inside the POSTs.
  std::vector<SubmitterStats> Probe(const std::string& bytes, int64_t end_ns) {
    std::vector<SubmitterStats> stats(clients_.size());
    std::vector<std::thread> threads;
    for (size_t t = 0; t < clients_.size(); ++t) {
      threads.emplace_back([&, t] {
        while (!g_interrupted && NowNs() < end_ns) {
          const int64_t start = NowNs();
          Result<v1::SubmitTxResponse> answer = clients_[t]->SubmitTx(bytes);
          stats[t].post_seconds += static_cast<double>(NowNs() - start) / 1e9;
          stats[t].refusals[answer.ok() ? answer->code() : answer.status().code()]++;
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    return stats;
  }

 private:
  // Thread t owns signers t, t + T, t + 2T, ... and submits their transactions in nonce order, to
  // its own node, in batches (POST /v1/txs/batch) of at most `batch` transactions: one per signer,
  // round robin over its signers, so that a refusal never leaves a signer's later transaction
  // waiting behind a gap. Paced phases send the transactions that are due (at most `batch`).
  SubmitterStats RunThread(size_t t, const PhasePlan& plan) {
    SubmitterStats stats;
    node::Client& client = *clients_[t];
    std::vector<size_t> signers;
    for (size_t s = t; s < work_.signers(); s += clients_.size()) signers.push_back(s);
    const int64_t interval_ns = plan.rate_per_thread > 0 ? static_cast<int64_t>(1e9 / plan.rate_per_thread) : 0;
    int64_t next_due = plan.start_ns;
    size_t turn = 0;
    while (!g_interrupted) {
      const int64_t now = NowNs();
      if (now >= plan.end_ns) break;
      const int64_t room = plan.max_inflight - inflight();
      if (room <= 0) {
        signal_.WaitFor(kPollInterval, [&] { return inflight() < plan.max_inflight; });
        continue;
      }
      if (interval_ns > 0 && now < next_due) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min(next_due, plan.end_ns) - now));
        continue;
      }
      size_t wanted = std::min<size_t>(plan.batch, static_cast<size_t>(room));
      if (interval_ns > 0) wanted = std::min<size_t>(wanted, static_cast<size_t>((now - next_due) / interval_ns + 1));
      // The next signers with a transaction left and room in the mempool's per-signer bounds.
      std::vector<size_t> batch;
      bool any_left = false;
      for (size_t k = 0; k < signers.size() && batch.size() < wanted; ++k) {
        const size_t s = signers[(turn + k) % signers.size()];
        Workload::Stream& stream = work_.stream(s);
        if (stream.dropped || stream.next >= stream.slots.size()) continue;
        any_left = true;
        if (stream.accepted - work_.committed(s) < kMaxInflightPerSigner) batch.push_back(s);
      }
      if (!any_left) {
        stats.exhausted = true;
        break;
      }
      if (batch.empty()) {
        signal_.WaitFor(kPollInterval, [] { return false; });
        continue;
      }
      turn = (std::find(signers.begin(), signers.end(), batch.back()) - signers.begin()) + 1;
      SubmitBatch(client, batch, stats);
      if (interval_ns > 0) next_due += static_cast<int64_t>(batch.size()) * interval_ns;
    }
    return stats;
  }

  // Submits each signer's next transaction in one request and books the answers.
  void SubmitBatch(node::Client& client, const std::vector<size_t>& signers, SubmitterStats& stats) {
    std::vector<std::string> txs;
    for (size_t s : signers) txs.push_back(work_.slot(work_.stream(s).slots[work_.stream(s).next]).bytes);
    const int64_t start = NowNs();
    for (size_t s : signers) work_.slot(work_.stream(s).slots[work_.stream(s).next]).submit_ns = start;
    Result<v1::SubmitTxBatchResponse> answers = client.SubmitTxBatch(txs);
    const double seconds = static_cast<double>(NowNs() - start) / 1e9;
    if (!answers.ok()) {
      stats.refusals[answers.status().code()] += signers.size();
      stats.refused_retried += signers.size();
      std::this_thread::sleep_for(milliseconds(1));
      return;
    }
    stats.post_seconds += seconds;
    stats.posts++;
    bool retry_later = false;
    for (size_t i = 0; i < signers.size(); ++i) {
      const std::string& code = answers->results(static_cast<int>(i)).code();
      Workload::Stream& stream = work_.stream(signers[i]);
      if (code == "OK" || code == "ALREADY_KNOWN") {
        work_.slot(stream.slots[stream.next]).accepted = true;
        stats.accepted++;
        stream.accepted++;
        stream.next++;
        accepted_++;
        continue;
      }
      stats.refusals[code]++;
      if (Retryable(code)) {
        stats.refused_retried++;
        retry_later = true;
        continue;
      }
      // Cannot commit: the signer's later nonces would wait behind it forever, so drop the signer.
      stats.refused_dropped++;
      stream.dropped = true;
    }
    if (retry_later) std::this_thread::sleep_for(milliseconds(1));
  }

  Workload& work_;
  std::vector<std::unique_ptr<node::Client>> clients_;
  const CommitPoller& poller_;
  CommitSignal& signal_;
  std::atomic<int64_t> accepted_{0};
};

// --- Phases ----------------------------------------------------------------------------------

struct PhaseResult {
  std::string name;
  double window_s = 0;
  double target_tx_per_s = 0;  // paced phases
  double offered_tx_per_s = 0;  // accepted submissions inside the window, per second
  double committed_tx_per_s = 0;
  uint64_t committed_in_window = 0, blocks_in_window = 0;  // node 0's metrics
  uint64_t failed_results = 0;    // transactions submitted in the window whose result is not OK
  uint64_t poller_lag_max = 0;    // blocks node 0 had committed and the poller had not yet seen
  uint64_t latency_samples = 0, uncommitted = 0;
  double p50_ms = 0, p99_ms = 0, mean_ms = 0, max_ms = 0;
  uint64_t accepted = 0, refused_retried = 0, refused_dropped = 0;
  std::map<std::string, uint64_t> refusals;
  bool exhausted = false;
  uint64_t posts = 0;
  double post_ms_mean = 0;  // per POST (a batch of transactions)
  std::vector<double> node_cpu_s;
  double client_cpu_s = 0;
  double mempool_node0_mean = 0, mempool_node0_max = 0;
  std::string load_average_after;
};

std::unique_ptr<node::Client> ClientOf(const node::Network& network, size_t i) {
  const node::HostPort& api = network.nodes[i].api;
  Result<std::unique_ptr<node::Client>> client =
      node::Client::Create("http://" + api.host + ":" + std::to_string(api.port), kClientTimeout);
  GS_ASSERT(client.ok());  // the address comes from InitNetwork
  return *std::move(client);
}

std::vector<double> NodeCpu(node::Supervisor& supervisor) {
  std::vector<double> cpu;
  for (size_t i = 0; i < supervisor.size(); ++i) cpu.push_back(CpuSeconds(supervisor.pid(i)));
  return cpu;
}

// Node 0's counters since it started (GET /metrics), independent of the poller.
struct Counters {
  uint64_t height = 0;
  uint64_t txs_committed = 0;
};

Result<Counters> ReadCounters(node::Client& client) {
  Result<std::string> text = client.GetMetrics();
  if (!text.ok()) return text.status();
  auto value = [&](std::string_view name) -> std::optional<uint64_t> {
    const std::string prefix = "\n" + std::string(name) + " ";
    const size_t at = text->find(prefix);
    if (at == std::string::npos) return std::nullopt;
    char* end = nullptr;
    const unsigned long long v = std::strtoull(text->c_str() + at + prefix.size(), &end, 10);
    if (end == text->c_str() + at + prefix.size()) return std::nullopt;
    return v;
  };
  std::optional<uint64_t> height = value("gongshe_height"), txs = value("gongshe_txs_committed_total");
  if (!height || !txs) return Status{"BAD_METRICS", "node 0's metrics lack gongshe_height or gongshe_txs_committed_total"};
  return Counters{*height, *txs};
}

// Sleeps until `deadline` while sampling node 0's mempool size and how far the poller lags.
void SampleUntil(int64_t deadline, node::Client& status_client, const CommitPoller& poller,
                 std::vector<double>& mempool, uint64_t& poller_lag_max) {
  while (!g_interrupted && NowNs() < deadline) {
    Result<v1::StatusResponse> status = status_client.GetStatus();
    if (status.ok()) {
      mempool.push_back(static_cast<double>(status->mempool_txs()));
      const uint64_t seen = poller.seen_height();
      if (status->height() > seen) poller_lag_max = std::max(poller_lag_max, status->height() - seen);
    }
    const int64_t left = deadline - NowNs();
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::clamp<int64_t>(left, 0, kStatusInterval.count() * 1'000'000)));
  }
}

Result<PhaseResult> RunPhase(const PhasePlan& plan, Workload& work, Submitters& submitters, CommitPoller& poller,
                             node::Supervisor& supervisor, node::Client& status_client) {
  PhaseResult result;
  result.name = plan.name;
  result.target_tx_per_s = plan.rate_per_thread * static_cast<double>(plan.threads);
  std::vector<SubmitterStats> stats;
  std::thread runner([&] { stats = submitters.Run(plan); });

  std::vector<double> mempool;
  uint64_t lag_in_warmup = 0;
  SampleUntil(plan.window_start_ns, status_client, poller, mempool, lag_in_warmup);
  mempool.clear();
  const std::vector<double> cpu_before = NodeCpu(supervisor);
  const double client_before = CpuSeconds(::getpid());
  const Result<Counters> counters_before = ReadCounters(status_client);
  const int64_t window_start = NowNs();
  SampleUntil(plan.end_ns, status_client, poller, mempool, result.poller_lag_max);
  const int64_t window_end = NowNs();
  const Result<Counters> counters_after = ReadCounters(status_client);
  const std::vector<double> cpu_after = NodeCpu(supervisor);
  result.client_cpu_s = CpuSeconds(::getpid()) - client_before;
  for (size_t i = 0; i < cpu_after.size(); ++i) result.node_cpu_s.push_back(cpu_after[i] - cpu_before[i]);
  runner.join();

  // Drain: what was accepted commits (or the limit passes) before the next phase starts.
  const int64_t drain_deadline = NowNs() + std::chrono::nanoseconds(kDrainLimit).count();
  while (!g_interrupted && submitters.inflight() > 0 && NowNs() < drain_deadline) std::this_thread::sleep_for(milliseconds(20));
  result.load_average_after = LoadAverage();

  if (!counters_before.ok()) return counters_before.status();
  if (!counters_after.ok()) return counters_after.status();
  result.window_s = static_cast<double>(window_end - window_start) / 1e9;
  result.blocks_in_window = counters_after->height - counters_before->height;
  result.committed_in_window = counters_after->txs_committed - counters_before->txs_committed;
  result.committed_tx_per_s = static_cast<double>(result.committed_in_window) / result.window_s;

  std::vector<double> latencies;
  uint64_t offered = 0;
  for (size_t i = 0; i < work.presigned(); ++i) {
    const TxSlot& slot = work.slot(static_cast<uint32_t>(i));
    const int64_t submitted = slot.submit_ns;
    if (!slot.accepted || submitted < window_start || submitted >= window_end) continue;
    ++offered;
    const int64_t committed = slot.commit_ns;
    if (committed == 0) {
      result.uncommitted++;
      continue;
    }
    if (!slot.result_ok) result.failed_results++;
    latencies.push_back(static_cast<double>(committed - submitted) / 1e6);
  }
  std::sort(latencies.begin(), latencies.end());
  result.offered_tx_per_s = static_cast<double>(offered) / result.window_s;
  result.latency_samples = latencies.size();
  result.p50_ms = Quantile(latencies, 0.50);
  result.p99_ms = Quantile(latencies, 0.99);
  result.max_ms = latencies.empty() ? 0 : latencies.back();
  double sum = 0;
  for (double l : latencies) sum += l;
  result.mean_ms = latencies.empty() ? 0 : sum / static_cast<double>(latencies.size());

  double post_seconds = 0;
  for (const SubmitterStats& s : stats) {
    result.accepted += s.accepted;
    result.refused_retried += s.refused_retried;
    result.refused_dropped += s.refused_dropped;
    for (const auto& [code, n] : s.refusals) result.refusals[code] += n;
    result.exhausted = result.exhausted || s.exhausted;
    post_seconds += s.post_seconds;
    result.posts += s.posts;
  }
  result.post_ms_mean = result.posts ? post_seconds * 1e3 / static_cast<double>(result.posts) : 0;
  if (!mempool.empty()) {
    result.mempool_node0_max = *std::max_element(mempool.begin(), mempool.end());
    double total = 0;
    for (double m : mempool) total += m;
    result.mempool_node0_mean = total / static_cast<double>(mempool.size());
  }
  return result;
}

// The HTTP probe: what one refused submission costs (HTTP, JSON, base64, the hand-off to a
// worker, hashing, decoding), with no signature check and nothing gossiped.
struct HttpProbe {
  double seconds = 0;
  uint64_t requests = 0;
  std::map<std::string, uint64_t> codes;
  double node_cpu_s = 0, client_cpu_s = 0, post_ms_mean = 0;
};

HttpProbe RunHttpProbe(const std::string& bytes, Submitters& submitters, node::Supervisor& supervisor) {
  HttpProbe probe;
  const std::vector<double> cpu_before = NodeCpu(supervisor);
  const double client_before = CpuSeconds(::getpid());
  const int64_t start = NowNs();
  std::vector<SubmitterStats> stats = submitters.Probe(bytes, start + std::chrono::nanoseconds(kHttpProbe).count());
  probe.seconds = static_cast<double>(NowNs() - start) / 1e9;
  probe.client_cpu_s = CpuSeconds(::getpid()) - client_before;
  const std::vector<double> cpu_after = NodeCpu(supervisor);
  for (size_t i = 0; i < cpu_after.size(); ++i) probe.node_cpu_s += cpu_after[i] - cpu_before[i];
  double post_seconds = 0;
  for (const SubmitterStats& s : stats) {
    for (const auto& [code, n] : s.refusals) {
      probe.codes[code] += n;
      probe.requests += n;
    }
    post_seconds += s.post_seconds;
  }
  probe.post_ms_mean = probe.requests ? post_seconds * 1e3 / static_cast<double>(probe.requests) : 0;
  return probe;
}

// --- Setup -----------------------------------------------------------------------------------

// Each commune's registrar registers its workplaces and members, kRegisterBatch at a time, and
// waits for each batch to commit with result OK.
Status RegisterAccounts(const node::Network& network, const Workload& work) {
  for (size_t c = 0; c < work.communes(); ++c) {
    Result<ledger::KeyPair> registrar = ledger::ReadKeyFile(network.nodes[c].home + "/" + node::kRegistrarKeyFile);
    if (!registrar.ok()) return registrar.status();
    std::vector<std::pair<ledger::PublicKey, v1::Role>> accounts;
    for (uint32_t w = 0; w < work.workplaces_per_commune(); ++w) {
      accounts.emplace_back(work.workplace(c * work.workplaces_per_commune() + w).public_key(), v1::ROLE_WORKPLACE);
    }
    for (uint32_t m = 0; m < work.members_per_commune(); ++m) {
      accounts.emplace_back(work.member(c * work.members_per_commune() + m).public_key(), v1::ROLE_MEMBER);
    }
    std::unique_ptr<node::Client> client = ClientOf(network, c);
    for (size_t first = 0; first < accounts.size(); first += kRegisterBatch) {
      std::vector<ledger::Hash> ids;
      for (size_t a = first; a < std::min(accounts.size(), first + kRegisterBatch); ++a) {
        const std::string tx = work.builder().Register(*registrar, a + 1, accounts[a].first, accounts[a].second);
        Result<v1::SubmitTxResponse> answer = client->SubmitTx(tx);
        if (!answer.ok()) return answer.status();
        ids.push_back(ledger::Sha256(AsBytes(tx)));
      }
      Result<v1::TxResponse> last = client->GetTx(ids.back(), milliseconds(20'000));
      if (!last.ok()) return last.status();
      for (const ledger::Hash& id : ids) {
        Result<v1::TxResponse> tx = client->GetTx(id);
        if (!tx.ok()) return tx.status();
        if (tx->code() != "OK") return Status{"SETUP", "registration failed: " + tx->code() + " " + tx->message()};
      }
    }
  }
  return Status::Ok();
}

// --- Output ----------------------------------------------------------------------------------

std::string JsonCodes(const std::map<std::string, uint64_t>& codes) {
  std::string out = "{";
  for (const auto& [code, n] : codes) {
    if (out.size() > 1) out += ", ";
    out += "\"" + code + "\": " + std::to_string(n);
  }
  return out + "}";
}

std::string PhaseJson(const PhaseResult& r, double bound) {
  std::string cpu = "[";
  double node_total = 0;
  for (size_t i = 0; i < r.node_cpu_s.size(); ++i) {
    cpu += (i ? ", " : "") + Fixed(r.node_cpu_s[i], 2);
    node_total += r.node_cpu_s[i];
  }
  cpu += "]";
  const double per_tx = r.committed_in_window ? 1e6 / static_cast<double>(r.committed_in_window) : 0;
  return "{\"window_s\": " + Fixed(r.window_s, 2) + ", \"target_tx_per_s\": " + Fixed(r.target_tx_per_s, 0) +
         ", \"offered_tx_per_s\": " + Fixed(r.offered_tx_per_s, 0) +
         ", \"committed_tx_per_s\": " + Fixed(r.committed_tx_per_s, 0) +
         ", \"ratio_to_bound\": " + Fixed(r.committed_tx_per_s / bound, 3) +
         ", \"committed_in_window\": " + std::to_string(r.committed_in_window) +
         ", \"failed_results\": " + std::to_string(r.failed_results) +
         ", \"poller_lag_max_blocks\": " + std::to_string(r.poller_lag_max) +
         ", \"blocks_in_window\": " + std::to_string(r.blocks_in_window) + ", \"txs_per_block\": " +
         Fixed(r.blocks_in_window ? static_cast<double>(r.committed_in_window) / static_cast<double>(r.blocks_in_window) : 0, 1) +
         ", \"latency_ms\": {\"p50\": " + Fixed(r.p50_ms, 1) + ", \"p99\": " + Fixed(r.p99_ms, 1) +
         ", \"mean\": " + Fixed(r.mean_ms, 1) + ", \"max\": " + Fixed(r.max_ms, 1) +
         ", \"samples\": " + std::to_string(r.latency_samples) + "}" +
         ", \"uncommitted_after_drain\": " + std::to_string(r.uncommitted) +
         ", \"accepted\": " + std::to_string(r.accepted) + ", \"refused_retried\": " + std::to_string(r.refused_retried) +
         ", \"refused_dropped\": " + std::to_string(r.refused_dropped) + ", \"refusals\": " + JsonCodes(r.refusals) +
         ", \"presigned_exhausted\": " + (r.exhausted ? "true" : "false") +
         ", \"posts\": " + std::to_string(r.posts) +
         ", \"txs_per_post\": " + Fixed(r.posts ? static_cast<double>(r.accepted) / static_cast<double>(r.posts) : 0, 1) +
         ", \"post_ms_mean\": " + Fixed(r.post_ms_mean, 3) + ", \"node_cpu_s\": " + cpu +
         ", \"client_cpu_s\": " + Fixed(r.client_cpu_s, 2) +
         ", \"node_cpu_us_per_committed_tx\": " + Fixed(node_total * per_tx, 1) +
         ", \"client_cpu_us_per_committed_tx\": " + Fixed(r.client_cpu_s * per_tx, 1) +
         ", \"mempool_txs_node0\": {\"mean\": " + Fixed(r.mempool_node0_mean, 0) +
         ", \"max\": " + Fixed(r.mempool_node0_max, 0) + "}, \"load_average_after\": \"" + r.load_average_after + "\"}";
}

void LogPhase(const PhaseResult& r, double bound) {
  double node_total = 0;
  for (double c : r.node_cpu_s) node_total += c;
  Log(r.name + ": committed " + Fixed(r.committed_tx_per_s, 0) + " tx/s (" + Fixed(r.committed_tx_per_s / bound, 3) +
      " of the bound) over " + Fixed(r.window_s, 1) + " s, offered " + Fixed(r.offered_tx_per_s, 0) + " tx/s" +
      (r.target_tx_per_s > 0 ? " (target " + Fixed(r.target_tx_per_s, 0) + ")" : ""));
  Log(r.name + ": latency p50 " + Fixed(r.p50_ms, 1) + " ms, p99 " + Fixed(r.p99_ms, 1) + " ms, mean " +
      Fixed(r.mean_ms, 1) + " ms (" + std::to_string(r.latency_samples) + " txs, " + std::to_string(r.uncommitted) +
      " uncommitted)");
  Log(r.name + ": " + std::to_string(r.blocks_in_window) + " blocks, refusals " + JsonCodes(r.refusals) +
      ", failed results " + std::to_string(r.failed_results) + ", poller lag <= " +
      std::to_string(r.poller_lag_max) + " blocks, POST " + Fixed(r.post_ms_mean, 2) + " ms (" +
      Fixed(r.posts ? static_cast<double>(r.accepted) / static_cast<double>(r.posts) : 0, 1) +
      " txs each), CPU nodes " + Fixed(node_total, 1) + " s + client " + Fixed(r.client_cpu_s, 1) + " s in " +
      Fixed(r.window_s, 1) + " s, node 0 mempool mean " + Fixed(r.mempool_node0_mean, 0));
}

std::string ProbeJson(const HttpProbe& p) {
  const double per = p.requests ? 1e6 / static_cast<double>(p.requests) : 0;
  return "{\"seconds\": " + Fixed(p.seconds, 2) + ", \"requests\": " + std::to_string(p.requests) +
         ", \"requests_per_s\": " + Fixed(static_cast<double>(p.requests) / p.seconds, 0) +
         ", \"codes\": " + JsonCodes(p.codes) + ", \"post_ms_mean\": " + Fixed(p.post_ms_mean, 3) +
         ", \"node_cpu_us_per_request\": " + Fixed(p.node_cpu_s * per, 1) +
         ", \"client_cpu_us_per_request\": " + Fixed(p.client_cpu_s * per, 1) + "}";
}

void LogProbe(const HttpProbe& p) {
  const double per = p.requests ? 1e6 / static_cast<double>(p.requests) : 0;
  Log("http probe: " + Fixed(static_cast<double>(p.requests) / p.seconds, 0) + " refused submissions/s " +
      JsonCodes(p.codes) + ", POST " + Fixed(p.post_ms_mean, 2) + " ms, CPU per request: nodes " +
      Fixed(p.node_cpu_s * per, 1) + " us, client " + Fixed(p.client_cpu_s * per, 1) + " us");
}

// --- The run ---------------------------------------------------------------------------------

struct VerifyFigures {
  std::vector<double> before, after;
};

Status RunNetwork(const Options& options, const node::Network& network, Workload& work, node::Supervisor& supervisor,
                  std::vector<PhaseResult>& phases, HttpProbe& probe, double bound) {
  GS_RETURN_IF_ERROR(supervisor.StartAll());
  GS_RETURN_IF_ERROR(node::WaitUntilServing(supervisor, network, std::chrono::seconds(30), [] { return g_interrupted.load(); }));
  Log("nodes serving; registering " + std::to_string(work.signers()) + " workplaces and " +
      std::to_string(work.communes() * work.members_per_commune()) + " members");
  GS_RETURN_IF_ERROR(RegisterAccounts(network, work));
  std::unique_ptr<node::Client> status_client = ClientOf(network, 0);
  Result<v1::StatusResponse> status = status_client->GetStatus();
  if (!status.ok()) return status.status();

  CommitSignal signal;
  CommitPoller poller(work, ClientOf(network, 0), status->height(), signal);
  std::vector<std::unique_ptr<node::Client>> clients;
  for (size_t t = 0; t < options.threads; ++t) clients.push_back(ClientOf(network, t % network.nodes.size()));
  Submitters submitters(work, std::move(clients), poller, signal);
  const int64_t second = 1'000'000'000;

  auto plan = [&](const std::string& name, uint32_t seconds, double rate_per_thread) {
    PhasePlan p;
    p.name = name;
    p.start_ns = NowNs();
    p.window_start_ns = p.start_ns + options.warmup_s * second;
    p.end_ns = p.window_start_ns + seconds * second;
    p.rate_per_thread = rate_per_thread;
    p.max_inflight = options.inflight;
    p.batch = options.batch;
    p.threads = options.threads;
    return p;
  };

  poller.Start();
  Log("full load: " + std::to_string(options.threads) + " threads, " + std::to_string(options.inflight) + " in flight, " +
      std::to_string(options.warmup_s) + " s warm-up + " + std::to_string(options.full_s) + " s");
  Result<PhaseResult> full = RunPhase(plan("full load", options.full_s, 0), work, submitters, poller, supervisor,
                                     *status_client);
  poller.Stop();
  if (!full.ok()) return full.status();
  phases.push_back(*std::move(full));
  LogPhase(phases.back(), bound);
  if (g_interrupted) return Status{"INTERRUPTED", "interrupted"};

  const double half_rate = phases.back().committed_tx_per_s / 2;
  if (half_rate <= 0) return Status{"NO_COMMITS", "nothing committed at full load"};
  const double half_txs = std::min<double>(
      half_rate * (options.warmup_s + options.half_s) * 1.2 + 2.0 * options.threads, kMaxPresigned);
  work.Presign(static_cast<size_t>(std::ceil(half_txs / static_cast<double>(work.signers()))) + 1, 2);
  poller.Start();
  Log("half load: " + Fixed(half_rate, 0) + " tx/s paced, " + std::to_string(options.warmup_s) + " s warm-up + " +
      std::to_string(options.half_s) + " s");
  Result<PhaseResult> half = RunPhase(plan("half load", options.half_s, half_rate / options.threads), work, submitters,
                                     poller, supervisor, *status_client);
  poller.Stop();
  if (!half.ok()) return half.status();
  phases.push_back(*std::move(half));
  LogPhase(phases.back(), bound);
  if (g_interrupted) return Status{"INTERRUPTED", "interrupted"};

  // Diagnosis: the pipeline's latency with one transaction in flight (one thread, node 0).
  work.Presign(64, 2);
  poller.Start();
  PhasePlan one = plan("one in flight", kOneInFlightSeconds, 0);
  one.window_start_ns = one.start_ns + second;
  one.end_ns = one.window_start_ns + kOneInFlightSeconds * second;
  one.max_inflight = 1;
  one.threads = 1;
  Log("one in flight: 1 s warm-up + " + std::to_string(kOneInFlightSeconds) + " s");
  Result<PhaseResult> single = RunPhase(one, work, submitters, poller, supervisor, *status_client);
  poller.Stop();
  if (!single.ok()) return single.status();
  phases.push_back(*std::move(single));
  LogPhase(phases.back(), bound);
  if (g_interrupted) return Status{"INTERRUPTED", "interrupted"};

  // Diagnosis: the HTTP cost of a submission, with a transaction signed for another chain.
  const std::string other_chain = ledger::TxBuilder("gongshe-e2e-probe")
                                      .Attend(work.workplace(0), 1, work.member(0).public_key(),
                                              network.genesis_time_ms / 1000, 1);
  probe = RunHttpProbe(other_chain, submitters, supervisor);
  LogProbe(probe);
  for (const auto& [code, n] : poller.errors()) Log("poller errors: " + code + " x" + std::to_string(n));
  if (g_interrupted) return Status{"INTERRUPTED", "interrupted"};
  return Status::Ok();
}

int Run(const Options& options) {
  const std::string load_before = LoadAverage();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::string dir = (std::filesystem::temp_directory_path() / "gongshe-e2e-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    Log("cannot create a temporary folder: " + std::string(std::strerror(errno)));
    return 1;
  }
  // Away from the default devnet and the tests' ports.
  std::optional<uint32_t> base_port = node::FindFreeBasePort(options.validators, 40000, 2000);
  if (!base_port) {
    Log("no free ports on 127.0.0.1");
    std::filesystem::remove(dir);
    return 1;
  }
  node::InitOptions init;
  init.dir = dir;
  init.validators = options.validators;
  init.devnet = false;  // 7-day weeks: the shifts' week never closes under the run
  init.base_port = *base_port;
  init.log_level = options.log_level;
  Result<node::Network> network = node::InitNetwork(init);
  if (!network.ok()) {
    Log("init: " + network.status().ToString());
    return 1;
  }

  Workload work(*network, options);
  // Enough for the full load at the bound's rate (the most the network can verify), measured on
  // a first small batch.
  work.Presign(kVerifySample / work.signers() + 1, cores);
  VerifyFigures verify;
  verify.before = VerifyRates(work, network->chain_id, kVerifySample, kVerifyRepetitions);
  const double bound_estimate = Median(verify.before) * cores / options.validators;
  const double full_txs = std::min<double>(bound_estimate * (options.warmup_s + options.full_s) + options.inflight,
                                           kMaxPresigned);
  work.Presign(static_cast<size_t>(std::ceil(full_txs / static_cast<double>(work.signers()))), cores);
  Log("verification on one core: " + Fixed(Median(verify.before), 0) + "/s; pre-signed " +
      std::to_string(work.presigned()) + " transactions for " + std::to_string(work.signers()) + " signers");

  std::vector<PhaseResult> phases;
  HttpProbe probe;
  node::Supervisor supervisor(node::NodeChildren(GONGSHE_BINARY, *network));
  Status status = RunNetwork(options, *network, work, supervisor, phases, probe, bound_estimate);
  const size_t killed = supervisor.Stop(std::chrono::seconds(5));
  if (!status.ok()) {
    Log("failed: " + status.ToString() + "\nnode 0's log (" + dir + "):\n" +
        node::LogTail(network->nodes[0].home + "/" + node::kNodeLogFile, 30));
    return 1;
  }
  verify.after = VerifyRates(work, network->chain_id, kVerifySample, kVerifyRepetitions);
  const std::string load_after = LoadAverage();
  if (!options.keep) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  std::vector<double> all = verify.before;
  all.insert(all.end(), verify.after.begin(), verify.after.end());
  const double single = Median(all);
  const double bound = single * cores / options.validators;
  const PhaseResult& full = phases[0];
  const PhaseResult& half = phases[1];
  const bool throughput_met = full.committed_tx_per_s >= 0.6 * bound;
  const bool latency_met = half.latency_samples > 0 && half.p50_ms <= 50;

  Log("verification (decode + verify) on one core: " + Fixed(Median(verify.before), 0) + "/s before, " +
      Fixed(Median(verify.after), 0) + "/s after, median " + Fixed(single, 0) + "/s");
  Log("bound: " + Fixed(single, 0) + " x " + std::to_string(cores) + " cores / " + std::to_string(options.validators) +
      " validators = " + Fixed(bound, 0) + " tx/s");
  for (const PhaseResult& phase : phases) LogPhase(phase, bound);
  LogProbe(probe);
  Log(std::string("target committed tx/s >= 0.6 x bound: ") + (throughput_met ? "met" : "NOT met") + " (" +
      Fixed(full.committed_tx_per_s / bound, 3) + ")");
  Log(std::string("target p50 <= 50 ms at half load: ") + (latency_met ? "met" : "NOT met") + " (" +
      Fixed(half.p50_ms, 1) + " ms)");
  Log("load average before " + load_before + ", after " + load_after +
      (killed ? "; " + std::to_string(killed) + " nodes needed SIGKILL" : ""));

  std::printf(
      "{\"benchmark\": \"e2e_devnet\", \"validators\": %u, \"cores\": %u, \"client_threads\": %u, "
      "\"inflight_limit\": %u, \"signers\": %zu, \"members\": %zu, \"warmup_s\": %u, "
      "\"verify_single_core_per_s\": {\"before\": %.0f, \"after\": %.0f, \"median\": %.0f}, "
      "\"bound_tx_per_s\": %.0f, \"full_load\": %s, \"half_load\": %s, \"one_in_flight\": %s, "
      "\"http_probe\": %s, "
      "\"target_throughput_ratio\": 0.6, \"throughput_target_met\": %s, "
      "\"target_half_load_p50_ms\": 50, \"latency_target_met\": %s, "
      "\"load_average_before\": \"%s\", \"load_average_after\": \"%s\"}\n",
      options.validators, cores, options.threads, options.inflight, work.signers(),
      work.communes() * work.members_per_commune(), options.warmup_s, Median(verify.before), Median(verify.after),
      single, bound, PhaseJson(full, bound).c_str(), PhaseJson(half, bound).c_str(),
      PhaseJson(phases[2], bound).c_str(), ProbeJson(probe).c_str(), throughput_met ? "true" : "false",
      latency_met ? "true" : "false", load_before.c_str(), load_after.c_str());
  return 0;
}

void OnSignal(int) { g_interrupted = true; }

}  // namespace
}  // namespace gongshe::bench

int main(int argc, char** argv) {
  std::optional<gongshe::bench::Options> options = gongshe::bench::ParseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: %s [--validators 1..16] [--threads 1..256] [--inflight N] [--batch 1..1000] [--warmup-s S] [--full-s S] "
                 "[--half-s S] [--workplaces N] [--members N] [--keep] [--log-level L]\n"
                 "(workplaces x validators must be at least threads)\n",
                 argv[0]);
    return 2;
  }
  struct sigaction action {};
  action.sa_handler = gongshe::bench::OnSignal;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  return gongshe::bench::Run(*options);
}
