// Ed25519 verification throughput: one core (plain crypto_sign_verify_detached) against
// BatchVerifier on every core, over the same signatures. Prints one JSON object.
//
//   gongshe_sig_verify_bench [signatures=4096] [repetitions=7]

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "common/thread_pool.h"
#include "ledger/batch_verify.h"
#include "ledger/crypto.h"

namespace gongshe::ledger {
namespace {

constexpr std::string_view kChainId = "gongshe-bench";
constexpr size_t kPayloadSize = 200;  // about one signed transaction body

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double SecondsOf(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int Run(size_t count, size_t repetitions) {
  InitCrypto();
  std::vector<KeyPair> keys;
  for (int i = 0; i < 16; ++i) keys.push_back(KeyPair::Generate());
  std::vector<Bytes> payloads(count, Bytes(kPayloadSize));
  std::vector<Bytes> messages(count);  // SignBytes, for the single-core loop
  std::vector<VerifyItem> items;
  items.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    randombytes_buf(payloads[i].data(), payloads[i].size());
    const KeyPair& key = keys[i % keys.size()];
    items.push_back({key.public_key(), kTxDomain, kChainId, payloads[i], key.Sign(kTxDomain, kChainId, payloads[i])});
    messages[i] = SignBytes(kTxDomain, kChainId, payloads[i]);
  }

  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  ThreadPool pool(std::max<size_t>(1, cores - 1), 64);
  const BatchVerifier verifier(pool);

  std::vector<double> single_rates, parallel_rates;
  for (size_t rep = 0; rep < repetitions; ++rep) {
    size_t valid = 0;
    const double single = SecondsOf([&] {
      for (size_t i = 0; i < count; ++i) {
        valid += crypto_sign_verify_detached(items[i].signature.data(), messages[i].data(), messages[i].size(),
                                             items[i].key.data()) == 0;
      }
    });
    std::vector<bool> results;
    const double parallel = SecondsOf([&] { results = verifier.VerifyBatch(items); });
    // Every signature is valid: anything else means the benchmark measured a broken path.
    if (valid != count || std::count(results.begin(), results.end(), true) != static_cast<long>(count)) {
      std::fprintf(stderr, "verification failed\n");
      return 1;
    }
    single_rates.push_back(static_cast<double>(count) / single);
    parallel_rates.push_back(static_cast<double>(count) / parallel);
  }
  const double single = Median(single_rates), parallel = Median(parallel_rates);
  std::printf(
      "{\"benchmark\": \"sig_verify\", \"signatures\": %zu, \"payload_bytes\": %zu, \"repetitions\": %zu, "
      "\"threads\": %zu, \"single_core_verifications_per_s\": %.0f, "
      "\"batch_verifier_verifications_per_s\": %.0f, \"ratio_parallel_over_single\": %.3f}\n",
      count, kPayloadSize, repetitions, pool.workers() + 1, single, parallel, parallel / single);
  return 0;
}

}  // namespace
}  // namespace gongshe::ledger

int main(int argc, char** argv) {
  const long count = argc > 1 ? std::atol(argv[1]) : 4096;
  const long repetitions = argc > 2 ? std::atol(argv[2]) : 7;
  if (argc > 3 || count <= 0 || repetitions <= 0) {
    std::fprintf(stderr, "usage: %s [signatures>0] [repetitions>0]\n", argv[0]);
    return 2;
  }
  return gongshe::ledger::Run(static_cast<size_t>(count), static_cast<size_t>(repetitions));
}
