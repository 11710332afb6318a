// State commitment update cost: batches of 3,000 random updates (2,000 changed values, 500
// inserts, 500 deletes, so the size holds) into trees of 10^4, 10^5 and 10^6 keys over MemKv,
// written through an Overlay as a block does. Prints one JSON object.
//
//   gongshe_state_tree_bench [--sizes=10000,100000,1000000] [--batches=20]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "ledger/state_tree.h"

namespace gongshe::ledger {
namespace {

constexpr size_t kBatch = 3000;
constexpr size_t kChanges = 2000, kInserts = 500, kDeletes = 500;
static_assert(kChanges + kInserts + kDeletes == kBatch);

class CountingReader final : public KvReader {
 public:
  explicit CountingReader(const KvReader& base) : base_(base) {}
  std::optional<std::string> Get(const std::string& key) const override {
    ++gets;
    return base_.Get(key);
  }
  mutable size_t gets = 0;

 private:
  const KvReader& base_;
};

Hash RandomHash(std::mt19937_64& rng) {
  Hash h;
  for (size_t i = 0; i < h.size(); i += 8) {
    const uint64_t v = rng();
    for (size_t j = 0; j < 8; ++j) h[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return h;
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// CPU time of this thread: the machine is shared, so wall time overstates the cost.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

struct Figures {
  size_t keys = 0;
  double build_ms = 0;
  std::vector<double> update_ms;      // CPU time
  std::vector<double> update_wall_ms;
  double gets = 0, puts = 0, deletes = 0, bytes_written = 0, write_back_ms = 0;
};

Figures Run(size_t keys_wanted, size_t batches) {
  std::mt19937_64 rng(keys_wanted);
  MemKv kv;
  std::vector<Hash> keys;
  Figures f;
  f.keys = keys_wanted;

  // Build in chunks of 50,000 inserts.
  const auto build_start = std::chrono::steady_clock::now();
  while (keys.size() < keys_wanted) {
    std::vector<StateUpdate> chunk;
    for (size_t i = 0; i < 50000 && keys.size() < keys_wanted; ++i) {
      keys.push_back(RandomHash(rng));
      chunk.push_back({keys.back(), RandomHash(rng)});
    }
    Overlay overlay(kv);
    UpdateState(kv, chunk, overlay);
    overlay.WriteTo(kv);
  }
  f.build_ms = MsSince(build_start);

  for (size_t b = 0; b < batches; ++b) {
    // Distinct positions in `keys` for the changes and deletes.
    std::set<size_t> picked;
    while (picked.size() < kChanges + kDeletes) picked.insert(rng() % keys.size());
    std::vector<size_t> positions(picked.begin(), picked.end());
    std::shuffle(positions.begin(), positions.end(), rng);
    std::vector<StateUpdate> updates;
    updates.reserve(kBatch);
    for (size_t i = 0; i < kChanges; ++i) updates.push_back({keys[positions[i]], RandomHash(rng)});
    for (size_t i = kChanges; i < positions.size(); ++i) updates.push_back({keys[positions[i]], std::nullopt});
    std::vector<Hash> inserted;
    for (size_t i = 0; i < kInserts; ++i) {
      inserted.push_back(RandomHash(rng));
      updates.push_back({inserted.back(), RandomHash(rng)});
    }

    CountingReader reader(kv);
    Overlay overlay(kv);
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = ThreadCpuMs();
    UpdateState(reader, updates, overlay);
    f.update_ms.push_back(ThreadCpuMs() - cpu_start);
    f.update_wall_ms.push_back(MsSince(start));

    f.gets += static_cast<double>(reader.gets);
    for (const auto& [key, value] : overlay.writes()) {
      if (value) {
        f.puts += 1;
        f.bytes_written += static_cast<double>(key.size() + value->size());
      } else {
        f.deletes += 1;
      }
    }
    const auto write_start = std::chrono::steady_clock::now();
    overlay.WriteTo(kv);
    f.write_back_ms += MsSince(write_start);

    // Keep `keys` equal to the stored key set: drop the deleted, add the inserted.
    std::vector<size_t> gone(positions.begin() + kChanges, positions.end());
    std::sort(gone.rbegin(), gone.rend());
    for (size_t p : gone) {
      keys[p] = keys.back();
      keys.pop_back();
    }
    keys.insert(keys.end(), inserted.begin(), inserted.end());
  }
  return f;
}

void Print(const Figures& f, bool last) {
  std::vector<double> ms = f.update_ms;
  std::sort(ms.begin(), ms.end());
  double total = 0;
  for (double m : ms) total += m;
  const double n = static_cast<double>(ms.size());
  const double mean = total / n;
  double wall_total = 0;
  for (double m : f.update_wall_ms) wall_total += m;
  std::printf(
      "    {\"keys\": %zu, \"build_ms\": %.1f, \"batches\": %zu, \"updates_per_batch\": %zu,\n"
      "     \"cpu_ms_per_batch_mean\": %.3f, \"cpu_ms_per_batch_median\": %.3f,"
      " \"cpu_ms_per_batch_max\": %.3f, \"wall_ms_per_batch_mean\": %.3f,\n"
      "     \"updates_per_cpu_s\": %.0f, \"gets_per_batch\": %.0f, \"puts_per_batch\": %.0f,\n"
      "     \"deletes_per_batch\": %.0f, \"bytes_written_per_batch\": %.0f,"
      " \"overlay_write_back_ms_per_batch\": %.3f}%s\n",
      f.keys, f.build_ms, ms.size(), kBatch, mean, ms[ms.size() / 2], ms.back(), wall_total / n,
      static_cast<double>(kBatch) / (mean / 1000.0), f.gets / n, f.puts / n, f.deletes / n,
      f.bytes_written / n, f.write_back_ms / n, last ? "" : ",");
}

std::vector<size_t> ParseSizes(const std::string& list) {
  std::vector<size_t> sizes;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    sizes.push_back(std::strtoull(list.substr(pos, comma - pos).c_str(), nullptr, 10));
    pos = comma + 1;
  }
  return sizes;
}

}  // namespace
}  // namespace gongshe::ledger

int main(int argc, char** argv) {
  using namespace gongshe::ledger;
  std::vector<size_t> sizes = {10000, 100000, 1000000};
  size_t batches = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--sizes=", 0) == 0) sizes = ParseSizes(arg.substr(8));
    else if (arg.rfind("--batches=", 0) == 0) batches = std::strtoull(arg.c_str() + 10, nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--sizes=N,N,...] [--batches=N]\n", argv[0]);
      return 2;
    }
  }
  for (size_t s : sizes) {
    if (s < kChanges + kDeletes || batches == 0) {
      std::fprintf(stderr, "each size must be at least %zu keys and batches at least 1\n",
                   kChanges + kDeletes);
      return 2;
    }
  }
  std::printf("{\"benchmark\": \"state_tree_update\", \"store\": \"MemKv via Overlay\",\n  \"results\": [\n");
  for (size_t i = 0; i < sizes.size(); ++i) Print(Run(sizes[i], batches), i + 1 == sizes.size());
  std::printf("  ]}\n");
  return 0;
}
