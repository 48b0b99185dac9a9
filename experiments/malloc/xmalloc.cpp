// xmalloc: many threads churning blocks through shared bins (after Lever & Boreham's
// xmalloc-test, "malloc() Performance in a Multithreaded Linux Environment", USENIX 2000, as
// mimalloc-bench runs it). More threads than cores (4 per --threads), each one allocating a
// batch of small blocks (8..256 B), dropping it into a random bin and freeing whatever batch it
// takes out of another bin: most frees are remote, from whichever thread came by, and threads
// are preempted while holding thread-local caches. Work figure: blocks allocated and freed.
#include "workload.hpp"

#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr const char *kName = "xmalloc";
constexpr std::size_t kBins = 64, kBatch = 64;

struct item {
  void *p;
  std::size_t size;
};
using batch = std::vector<item>;

struct alignas(64) bin {
  std::mutex m;
  std::vector<batch *> batches;
};

}  // namespace

int main(int argc, char **argv) {
  const mbench::args a = mbench::parse(argc, argv, kName);
  const unsigned workers = 4 * a.threads;
  const std::size_t rounds = mbench::scaled(a, 96000, workers) / workers;  // batches per worker
  std::vector<bin> bins(kBins);
  std::vector<std::uint64_t> made(workers), freed(workers), bytes(workers);
  auto drop = [&](bin &b) {
    std::uint64_t n = 0;
    std::vector<batch *> taken;
    {
      std::lock_guard lock(b.m);
      taken.swap(b.batches);
    }
    for (batch *bt : taken) {
      for (const item &it : *bt) mbench::give(kName, it.p, it.size);
      n += bt->size();
      delete bt;
    }
    return n;
  };
  const double t0 = mbench::now_ms();
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      mbench::rng r(a.seed + w);
      std::uint64_t n_made = 0, n_freed = 0, n_bytes = 0;
      for (std::size_t i = 0; i < rounds; ++i) {
        auto *bt = new batch(kBatch);
        for (item &it : *bt) {
          it.size = r.range(8, 256);
          it.p = mbench::take(kName, it.size);
          n_bytes += it.size;
        }
        n_made += kBatch;
        {
          bin &b = bins[r.below(kBins)];
          std::lock_guard lock(b.m);
          b.batches.push_back(bt);
        }
        n_freed += drop(bins[r.below(kBins)]);
      }
      made[w] = n_made;
      freed[w] = n_freed;
      bytes[w] = n_bytes;
    });
  for (auto &th : pool) th.join();
  const double ms = mbench::now_ms() - t0;
  std::uint64_t m = 0, f = 0, by = 0;
  for (auto x : made) m += x;
  for (auto x : bytes) by += x;
  for (auto x : freed) f += x;
  for (bin &b : bins) f += drop(b);  // what was left in the bins (not timed)
  if (m != f) mbench::fail(kName, "a different number of blocks was freed than made");
  mbench::report(kName, a, ms, m, by);
  return 0;
}
