// pymix: the allocation pattern of an interpreter like CPython run with PYTHONMALLOC=malloc.
// Sizes follow CPython 3.11's common objects on 64-bit (int/float 24-32 B, tuples and short
// strings 40-64 B, small instances and lists 56-104 B, dicts and their key tables 200-600 B);
// most objects die young (a nursery of the last 256 objects, each replaced at random), one in
// eight joins a long-lived set of 20 000 objects that turns over slowly, and lists grow item by
// item with CPython's over-allocation (list_resize: n + n/8 + 6, rounded down to 4), through
// realloc. Threads run independent interpreters (no block crosses threads).
// Work figure: allocations (realloc of a list counts as one).
#include "workload.hpp"

#include <thread>
#include <vector>

namespace {

constexpr const char *kName = "pymix";

// (bytes, weight): shares of allocations by size, CPython 3.11 on x86-64.
constexpr std::pair<std::size_t, unsigned> kSizes[] = {
    {16, 3},  {24, 10}, {32, 22}, {40, 8},  {48, 12}, {56, 10}, {64, 8},
    {72, 5},  {80, 4},  {96, 4},  {104, 3}, {128, 3}, {160, 2}, {200, 1},
    {232, 2}, {288, 1}, {360, 1}, {472, 1}, {512, 1}, {640, 1}, {1200, 1}};

std::size_t pick_size(mbench::rng &r) {
  static const unsigned total = [] {
    unsigned t = 0;
    for (auto [s, w] : kSizes) t += w;
    return t;
  }();
  unsigned x = static_cast<unsigned>(r.below(total));
  for (auto [s, w] : kSizes) {
    if (x < w) return s;
    x -= w;
  }
  return 32;
}

struct block {
  void *p = nullptr;
  std::size_t size = 0;
};

// A Python list: an array of 8-byte items grown by list_resize's rule.
struct pylist {
  std::uint64_t *items = nullptr;
  std::size_t len = 0, allocated = 0, target = 0;
};

struct totals {
  std::uint64_t ops = 0, bytes = 0;
};

void interpreter(std::size_t steps, std::uint64_t seed, totals &out) {
  mbench::rng r(seed);
  std::vector<block> nursery(256), old(20000);
  std::vector<pylist> lists(64);
  totals t;
  auto fresh = [&](block &b) {
    if (b.p) mbench::give(kName, b.p, b.size);
    b.size = pick_size(r);
    b.p = mbench::take(kName, b.size);
    ++t.ops;
    t.bytes += b.size;
  };
  for (std::size_t i = 0; i < steps; ++i) {
    fresh(nursery[r.below(nursery.size())]);
    if (r.below(8) == 0) fresh(old[r.below(old.size())]);
    if (r.below(4) == 0) {  // an append to one of the lists
      pylist &l = lists[r.below(lists.size())];
      if (!l.target) l.target = r.below(16) ? r.range(1, 64) : r.range(64, 20000);
      if (l.len == l.allocated) {
        const std::size_t n = l.len + 1;
        const std::size_t grown = (n + (n >> 3) + 6) & ~std::size_t(3);
        auto *p = static_cast<std::uint64_t *>(std::realloc(l.items, grown * 8));
        if (!p) mbench::fail(kName, "realloc returned NULL");
        l.items = p;
        l.allocated = grown;
        ++t.ops;
        t.bytes += grown * 8;
      }
      l.items[l.len] = l.len * 0x9E3779B97F4A7C15ull;
      if (++l.len == l.target) {  // the list dies: its items must have survived every move
        for (std::size_t k = 0; k < l.len; ++k)
          if (l.items[k] != k * 0x9E3779B97F4A7C15ull)
            mbench::fail(kName, "a list item changed across realloc");
        std::free(l.items);
        l = pylist{};
      }
    }
  }
  for (auto *v : {&nursery, &old})
    for (block &b : *v)
      if (b.p) mbench::give(kName, b.p, b.size);
  for (pylist &l : lists) std::free(l.items);
  out = t;
}

}  // namespace

int main(int argc, char **argv) {
  const mbench::args a = mbench::parse(argc, argv, kName);
  const std::size_t steps = mbench::scaled(a, 6e6, a.threads) / a.threads;  // per thread
  std::vector<totals> per(a.threads);
  const double t0 = mbench::now_ms();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < a.threads; ++t)
    pool.emplace_back(interpreter, steps, a.seed + t, std::ref(per[t]));
  for (auto &th : pool) th.join();
  const double ms = mbench::now_ms() - t0;
  totals sum;
  for (auto &p : per) {
    sum.ops += p.ops;
    sum.bytes += p.bytes;
  }
  mbench::report(kName, a, ms, sum.ops, sum.bytes);
  return 0;
}
