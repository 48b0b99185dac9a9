// larson: a server's churn (Larson & Krishnan, "Memory allocation for long-running server
// applications", ISMM 1998; the version in mimalloc-bench). Each thread owns an array of live
// blocks (sizes 8..1000 B) and replaces a random one per step: free it, allocate another. After
// `steps` a thread ends and a new thread takes its array over, so every block outlives the
// thread that made it and is freed by another one (at one thread too: the successor). The work
// figure is the number of replacements.
#include "workload.hpp"

#include <thread>
#include <vector>

namespace {

constexpr const char *kName = "larson";
constexpr std::size_t kMin = 8, kMax = 1000;

struct block {
  void *p;
  std::size_t size;
};

void churn(std::vector<block> &blocks, std::size_t steps, std::uint64_t seed,
           std::uint64_t &bytes) {
  mbench::rng r(seed);
  std::uint64_t sum = 0;  // a local: the threads' totals sit side by side in one vector
  for (std::size_t i = 0; i < steps; ++i) {
    block &b = blocks[r.below(blocks.size())];
    mbench::give(kName, b.p, b.size);
    b.size = r.range(kMin, kMax);
    b.p = mbench::take(kName, b.size);
    sum += b.size;
  }
  bytes += sum;
}

}  // namespace

int main(int argc, char **argv) {
  const mbench::args a = mbench::parse(argc, argv, kName);
  const std::size_t per_thread = 1000;  // live blocks per thread (larson's chperthread)
  const std::size_t generations = mbench::scaled(a, 160, 2);
  const std::size_t steps = 25000;  // replacements per thread per generation
  std::vector<std::vector<block>> arrays(a.threads);
  std::vector<std::uint64_t> bytes(a.threads);
  mbench::rng init(a.seed);
  for (auto &arr : arrays) {
    arr.resize(per_thread);
    for (auto &b : arr) {
      b.size = init.range(kMin, kMax);
      b.p = mbench::take(kName, b.size);
    }
  }
  const double t0 = mbench::now_ms();
  for (std::size_t g = 0; g < generations; ++g) {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < a.threads; ++t)
      pool.emplace_back(churn, std::ref(arrays[t]), steps, a.seed + g * a.threads + t + 1,
                        std::ref(bytes[t]));
    for (auto &th : pool) th.join();
    // Rotate the arrays so that a thread of the next generation also frees blocks another
    // thread index made (with one thread the successor thread alone does that).
    if (a.threads > 1) std::swap(arrays.front(), arrays.back());
  }
  const double ms = mbench::now_ms() - t0;
  std::uint64_t total = 0;
  for (unsigned t = 0; t < a.threads; ++t) {
    total += bytes[t];
    for (auto &b : arrays[t]) mbench::give(kName, b.p, b.size);
  }
  mbench::report(kName, a, ms, generations * steps * a.threads, total);
  return 0;
}
