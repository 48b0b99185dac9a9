// realloc_growth: buffers that grow by appends, as string builders, vectors and I/O buffers do.
// Half the buffers realloc to the exact new length at every append (a naive string builder:
// the allocator's in-place growth decides the cost), half double their capacity when full.
// Appends are mostly small (1..64 B), one in 32 is 1..8 KiB; a buffer grows to a length drawn
// log-uniformly from 256 B to 1 MiB, its content is checked, and it is freed. Threads run
// independent sets of buffers. Work figure: realloc calls (bytes: bytes appended).
#include "workload.hpp"

#include <cmath>
#include <thread>
#include <vector>

namespace {

constexpr const char *kName = "realloc_growth";

struct buffer {
  unsigned char *p = nullptr;
  std::size_t len = 0, cap = 0, target = 0;
  bool exact = false;
  unsigned char salt = 0;
};

unsigned char byte_at(const buffer &b, std::size_t i) {
  return static_cast<unsigned char>((i * 131) ^ b.salt);
}

struct totals {
  std::uint64_t reallocs = 0, bytes = 0;
};

void grow(std::size_t appends, std::uint64_t seed, totals &out) {
  mbench::rng r(seed);
  std::vector<buffer> bufs(32);
  totals t;
  auto restart = [&](buffer &b, std::size_t i) {
    if (b.p) {
      for (std::size_t k = 0; k < b.len; ++k)
        if (b.p[k] != byte_at(b, k)) mbench::fail(kName, "a buffer's content changed in realloc");
      std::free(b.p);
    }
    b = buffer{};
    b.exact = i % 2 == 0;
    b.salt = static_cast<unsigned char>(r.next());
    const double lg = 8 + static_cast<double>(r.below(1201)) / 100.0;  // 2^8 .. 2^20
    b.target = static_cast<std::size_t>(std::exp2(lg));
  };
  for (std::size_t i = 0; i < bufs.size(); ++i) restart(bufs[i], i);
  for (std::size_t s = 0; s < appends; ++s) {
    const std::size_t i = r.below(bufs.size());
    buffer &b = bufs[i];
    const std::size_t add = r.below(32) ? r.range(1, 64) : r.range(1024, 8192);
    const std::size_t need = b.len + add;
    if (need > b.cap) {
      const std::size_t cap = b.exact ? need : std::max(need, b.cap ? 2 * b.cap : 64);
      auto *p = static_cast<unsigned char *>(std::realloc(b.p, cap));
      if (!p) mbench::fail(kName, "realloc returned NULL");
      b.p = p;
      b.cap = cap;
      ++t.reallocs;
    }
    t.bytes += add;
    for (std::size_t k = b.len; k < need; ++k) b.p[k] = byte_at(b, k);
    b.len = need;
    if (b.len >= b.target) restart(b, i);
  }
  for (buffer &b : bufs) {
    restart(b, 0);
    std::free(b.p);
  }
  out = t;
}

}  // namespace

int main(int argc, char **argv) {
  const mbench::args a = mbench::parse(argc, argv, kName);
  const std::size_t appends = mbench::scaled(a, 1.5e6, a.threads) / a.threads;  // per thread
  std::vector<totals> per(a.threads);
  const double t0 = mbench::now_ms();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < a.threads; ++t)
    pool.emplace_back(grow, appends, a.seed + t, std::ref(per[t]));
  for (auto &th : pool) th.join();
  const double ms = mbench::now_ms() - t0;
  totals sum;
  for (auto &p : per) {
    sum.reallocs += p.reallocs;
    sum.bytes += p.bytes;
  }
  mbench::report(kName, a, ms, sum.reallocs, sum.bytes);
  return 0;
}
