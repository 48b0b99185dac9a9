// large_mix: big buffers (64 KiB..16 MiB, log-uniform), as an interpreter's arrays, images and
// I/O buffers. Each thread keeps 8 alive and replaces one at random per step; a new buffer has
// every 4 KiB page written (so the cost of fresh pages, and what the allocator keeps mapped
// between frees, count), and is checked page by page before it is freed. Peak RSS shows how
// much freed memory the allocator holds on to. Work figure: buffers allocated.
#include "workload.hpp"

#include <cmath>
#include <thread>
#include <vector>

namespace {

constexpr const char *kName = "large_mix";
constexpr std::size_t kPage = 4096;

struct buffer {
  std::uint64_t *p = nullptr;
  std::size_t size = 0;
};

std::uint64_t word_at(const buffer &b, std::size_t page) {
  return mbench::tag_of(b.p, b.size) + page;
}

struct totals {
  std::uint64_t buffers = 0, bytes = 0;
};

void churn(std::size_t steps, std::uint64_t seed, totals &out) {
  mbench::rng r(seed);
  std::vector<buffer> live(8);
  totals t;
  auto release = [&](buffer &b) {
    if (!b.p) return;
    for (std::size_t pg = 0; pg < b.size / kPage; ++pg)
      if (b.p[pg * (kPage / 8)] != word_at(b, pg)) mbench::fail(kName, "a page lost its word");
    std::free(b.p);
    b = buffer{};
  };
  for (std::size_t s = 0; s < steps; ++s) {
    buffer &b = live[r.below(live.size())];
    release(b);
    const double lg = 16 + static_cast<double>(r.below(801)) / 100.0;  // 2^16 .. 2^24
    b.size = static_cast<std::size_t>(std::exp2(lg)) & ~(kPage - 1);
    b.p = static_cast<std::uint64_t *>(std::malloc(b.size));
    if (!b.p) mbench::fail(kName, "malloc returned NULL");
    for (std::size_t pg = 0; pg < b.size / kPage; ++pg) b.p[pg * (kPage / 8)] = word_at(b, pg);
    ++t.buffers;
    t.bytes += b.size;
  }
  for (buffer &b : live) release(b);
  out = t;
}

}  // namespace

int main(int argc, char **argv) {
  const mbench::args a = mbench::parse(argc, argv, kName);
  const std::size_t steps = mbench::scaled(a, 1600, a.threads) / a.threads;  // per thread
  std::vector<totals> per(a.threads);
  const double t0 = mbench::now_ms();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < a.threads; ++t)
    pool.emplace_back(churn, steps, a.seed + t, std::ref(per[t]));
  for (auto &th : pool) th.join();
  const double ms = mbench::now_ms() - t0;
  totals sum;
  for (auto &p : per) {
    sum.buffers += p.buffers;
    sum.bytes += p.bytes;
  }
  mbench::report(kName, a, ms, sum.buffers, sum.bytes);
  return 0;
}
