// rca malloc's layer (allocator/malloc/) called directly, without replacing the process's malloc:
// so it also runs under ASan and TSan, which check the layer's own memory use and its
// cross-thread protocol (thread_free lists, abandonment, fork). The C and C++ programs beside
// this file test the exported entry points under the preload.
#include "malloc/malloc.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace ml = rca::detail::malloc_layer;
using rca::detail::kSpanBytes;
using rca::detail::span_region;
using rca::detail::span_state;

namespace {

bool aligned(const void *p, std::size_t a) {
  return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

// Spans of exited threads still waiting for adoption.
std::size_t abandoned_spans() {
  rca_heap_t *heap = ml::process_heap();
  std::lock_guard<std::mutex> g(heap->spans.lock);
  std::size_t n = 0;
  for (std::size_t u = 0; u < heap->spans.next_fresh; ++u)
    n += heap->spans.descs[u].state.load(std::memory_order_relaxed) == span_state::abandoned;
  return n;
}

TEST(MallocInternals, EverySizeClassAndLargeAndHuge) {
  std::vector<std::pair<unsigned char *, std::size_t>> blocks;
  for (std::size_t n = 0; n <= 9000; n += (n < 300 ? 1 : 97)) blocks.push_back({nullptr, n});
  for (std::size_t n : {std::size_t(70000), std::size_t(1) << 20, std::size_t(40) << 20})
    blocks.push_back({nullptr, n});
  unsigned seed = 0;
  for (auto &[p, n] : blocks) {
    p = static_cast<unsigned char *>(ml::alloc(n));
    ASSERT_NE(p, nullptr) << n;
    EXPECT_TRUE(aligned(p, 16)) << n;
    EXPECT_GE(ml::usable_size(p), n);
    std::memset(p, static_cast<int>(++seed & 0xff), n);
  }
  seed = 0;
  for (auto &[p, n] : blocks) {
    ++seed;
    if (n) {
      EXPECT_EQ(p[0], seed & 0xff);
      EXPECT_EQ(p[n - 1], seed & 0xff);
    }
    ml::dealloc(p);
  }
  EXPECT_EQ(ml::usable_size(nullptr), 0u);
  ml::dealloc(nullptr);
}

TEST(MallocInternals, HugeBlocksHaveMappingsOfTheirOwn) {
  const ml::huge_totals before = ml::huge_stats();
  void *p = ml::alloc(ml::kHugeMin);
  ASSERT_NE(p, nullptr);
  EXPECT_GE(ml::huge_size(p), ml::kHugeMin);
  EXPECT_EQ(ml::huge_stats().blocks, before.blocks + 1);
  void *q = ml::realloc_block(p, ml::kHugeMin * 2);  // mremap
  ASSERT_NE(q, nullptr);
  EXPECT_GE(ml::huge_size(q), ml::kHugeMin * 2);
  ml::dealloc(q);
  EXPECT_EQ(ml::huge_stats().blocks, before.blocks);
  int local = 0;
  EXPECT_FALSE(ml::huge_free(&local));
  EXPECT_EQ(ml::huge_size(&local), 0u);
}

TEST(MallocInternals, AlignmentsUpToSeveralUnits) {
  for (std::size_t a = 8; a <= (std::size_t(4) << 20); a *= 2)
    for (std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(100), std::size_t(5000),
                          std::size_t(70000)}) {
      void *p = ml::alloc_aligned(a, n);
      ASSERT_NE(p, nullptr) << a << " " << n;
      EXPECT_TRUE(aligned(p, a)) << a << " " << n;
      EXPECT_GE(ml::usable_size(p), n);
      std::memset(p, 1, n);
      ml::dealloc(p);
    }
}

TEST(MallocInternals, ReallocKeepsContentsAcrossClasses) {
  std::size_t n = 1;
  auto *p = static_cast<unsigned char *>(ml::alloc(n));
  p[0] = 42;
  while (n < (std::size_t(3) << 20)) {
    const std::size_t next = n * 2 + 3;
    p = static_cast<unsigned char *>(ml::realloc_block(p, next));
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(p[0], 42);
    if (n > 1) {
      ASSERT_EQ(p[n - 1], static_cast<unsigned char>(n));
    }
    std::memset(p + n, 0, next - n);
    p[next - 1] = static_cast<unsigned char>(next);
    n = next;
  }
  p = static_cast<unsigned char *>(ml::realloc_block(p, 10));
  EXPECT_EQ(p[0], 42);
  void *same = ml::realloc_block(p, 12);  // still class 16
  EXPECT_EQ(same, p);
  EXPECT_EQ(ml::realloc_block(same, 0), nullptr);
}

// 4 KiB pages of [p, p+bytes) resident in memory (mincore).
std::size_t resident_pages(const void *p, std::size_t bytes) {
  std::vector<unsigned char> v(bytes / 4096);
  if (mincore(const_cast<void *>(p), bytes, v.data()) != 0) return SIZE_MAX;
  std::size_t n = 0;
  for (unsigned char c : v) n += c & 1;
  return n;
}

template <class Fn>
auto locked(Fn fn) {
  span_region &r = ml::process_heap()->spans;
  std::lock_guard<std::mutex> g(r.lock);
  return fn(r);
}

TEST(MallocInternals, ReallocOfALargeBlockShrinksAndGrowsInPlace) {
  auto *p = static_cast<unsigned char *>(ml::alloc(8 * kSpanBytes));
  ASSERT_NE(p, nullptr);
  for (std::size_t i = 0; i < 8 * kSpanBytes; i += 4096) p[i] = static_cast<unsigned char>(i >> 12);
  const std::size_t in_use = locked([](span_region &r) { return r.units_in_use; });
  // Shrinking gives the tail units back.
  EXPECT_EQ(ml::realloc_block(p, 2 * kSpanBytes), p);
  EXPECT_EQ(ml::usable_size(p), 2 * kSpanBytes);
  EXPECT_EQ(locked([](span_region &r) { return r.units_in_use; }), in_use - 6);
  // Those units are free: growing takes them back, and the block keeps its address and contents.
  EXPECT_EQ(ml::realloc_block(p, 5 * kSpanBytes - 100), p);
  EXPECT_EQ(ml::usable_size(p), 5 * kSpanBytes);
  EXPECT_EQ(locked([](span_region &r) { return r.units_in_use; }), in_use - 3);
  for (std::size_t i = 0; i < 2 * kSpanBytes; i += 4096)
    ASSERT_EQ(p[i], static_cast<unsigned char>(i >> 12)) << i;
  locked([p](span_region &r) {
    const std::size_t u = static_cast<std::size_t>(reinterpret_cast<char *>(p) - r.base) >> 16;
    EXPECT_EQ(r.descs[u].units, 5u);
    EXPECT_EQ(r.descs[u + 4].state.load(), span_state::tail);
    EXPECT_EQ(r.descs[u + 5].state.load(), span_state::unused);
    return 0;
  });
  std::memset(p, 7, 5 * kSpanBytes - 100);  // all of it is the block's
  // Below a large block's size it moves to a size class.
  auto *q = static_cast<unsigned char *>(ml::realloc_block(p, 1000));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q[999], 7);
  ml::dealloc(q);
}

// The retention policy's two sides, with the process heap's limit set for the test: a freed
// block's units stay committed (resident) up to the limit and serve the next large block, which
// then does not read zero (calloc clears it); beyond the limit they go back to the OS.
TEST(MallocInternals, FreedUnitsStayCommittedUpToTheRetainLimit) {
  const auto policy =
      locked([](span_region &r) { return std::make_pair(r.retain_units, r.retain_percent); });
  EXPECT_EQ(policy.second, ml::options().retain_percent);
  locked([](span_region &r) {
    // Units in use and kept stay within kRetainAbovePeak percent past the peak in use.
    EXPECT_EQ(r.retain_above_peak, ml::kRetainAbovePeak);
    const std::size_t limit = rca::detail::spans_retain_limit(r);
    EXPECT_LE(r.committed_free_units, limit);
    if (limit > r.retain_units) {
      EXPECT_LE((r.units_in_use + limit) * 100, r.units_peak * (100 + ml::kRetainAbovePeak));
    }
    return 0;
  });
  constexpr std::size_t kBytes = 16 * kSpanBytes;
  locked([](span_region &r) {
    r.retain_units = r.committed_free_units + 1000;
    r.retain_percent = 0;
    return 0;
  });
  void *a = ml::alloc(kBytes);
  ASSERT_NE(a, nullptr);
  const std::size_t kept = locked([](span_region &r) { return r.committed_free_units; });
  std::memset(a, 0xAB, kBytes);
  ml::dealloc(a);
  EXPECT_EQ(locked([](span_region &r) { return r.committed_free_units; }), kept + 16);
  EXPECT_EQ(resident_pages(a, kBytes), kBytes / 4096);
  // The next block of that size takes committed units, not fresh ones.
  const std::size_t fresh = locked([](span_region &r) { return r.next_fresh; });
  void *b = ml::alloc(kBytes);
  EXPECT_EQ(locked([](span_region &r) { return r.committed_free_units; }), kept);
  EXPECT_EQ(locked([](span_region &r) { return r.next_fresh; }), fresh);
  EXPECT_FALSE(locked(
      [b](span_region &r) { return r.descs[(static_cast<char *>(b) - r.base) >> 16].zeroed; }));
  ml::dealloc(b);
  auto *c = static_cast<unsigned char *>(ml::calloc_block(1, kBytes));
  ASSERT_NE(c, nullptr);
  for (std::size_t i = 0; i < kBytes; ++i) ASSERT_EQ(c[i], 0) << i;
  // With no units to keep, a freed block's pages go back at once, and every other committed run.
  locked([](span_region &r) { return r.retain_units = 0; });
  ml::dealloc(c);
  EXPECT_EQ(locked([](span_region &r) { return r.committed_free_units; }), 0u);
  EXPECT_EQ(resident_pages(c, kBytes), 0u);
  locked([policy](span_region &r) {
    r.retain_units = policy.first;
    r.retain_percent = policy.second;
    return 0;
  });
}

// A block longer than every committed run takes the committed run together with the fresh (or
// decommitted) units after it, instead of faulting in all of its pages elsewhere.
TEST(MallocInternals, ALongerBlockExtendsACommittedRun) {
  const auto policy =
      locked([](span_region &r) { return std::make_pair(r.retain_units, r.retain_percent); });
  locked([](span_region &r) { return r.retain_percent = r.retain_units = 0; });
  ml::dealloc(ml::alloc(2 * kSpanBytes));  // a free trims every committed run
  ASSERT_EQ(locked([](span_region &r) { return r.committed_free_units; }), 0u);
  locked([](span_region &r) { return r.retain_units = 100000; });
  // 200 units: longer than any free run the tests before left, so fresh ones at the region's top.
  auto *p = static_cast<unsigned char *>(ml::alloc(200 * kSpanBytes));
  ASSERT_NE(p, nullptr);
  const std::size_t top = locked([](span_region &r) { return r.next_fresh; });
  ASSERT_EQ(locked([p](span_region &r) { return (reinterpret_cast<char *>(p) - r.base) >> 16; }),
            top - 200);
  std::memset(p, 0x5A, 200 * kSpanBytes);
  ASSERT_EQ(ml::realloc_block(p, 2 * kSpanBytes), p);  // units 2..199 free and committed
  EXPECT_EQ(locked([](span_region &r) { return r.committed_free_units; }), 198u);
  auto *q = static_cast<unsigned char *>(ml::alloc(300 * kSpanBytes));
  EXPECT_EQ(q, p + 2 * kSpanBytes);
  EXPECT_EQ(locked([](span_region &r) { return r.next_fresh; }), top + 102);
  EXPECT_EQ(locked([](span_region &r) { return r.committed_free_units; }), 0u);
  EXPECT_FALSE(locked([q](span_region &r) {
    return r.descs[(reinterpret_cast<char *>(q) - r.base) >> 16].zeroed;
  }));
  ml::dealloc(q);
  ml::dealloc(p);
  locked([policy](span_region &r) {
    r.retain_units = policy.first;
    r.retain_percent = policy.second;
    return 0;
  });
}

// Threads that grow, shrink, allocate and free large blocks at once, some freed by the other
// thread: the region's runs, retention and in-place resizing under its lock (TSan checks the
// protocol); every block keeps its contents.
TEST(MallocInternals, LargeBlocksResizedByThreadsAtOnce) {
  std::mutex handoff_lock;
  std::vector<unsigned char *> handoff;
  auto work = [&](unsigned seed) {
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    auto next = [&x] {
      x ^= x >> 12;
      x ^= x << 25;
      x ^= x >> 27;
      return x * 0x2545F4914F6CDD1Dull;
    };
    struct block {
      unsigned char *p = nullptr;
      std::size_t n = 0;
    } live[6];
    for (int step = 0; step < 400; ++step) {
      block &b = live[next() % 6];
      const std::size_t n = 9000 + next() % (3 * kSpanBytes);
      if (!b.p) {
        b.p = static_cast<unsigned char *>(ml::alloc(n));
      } else {
        for (std::size_t i = 0; i < b.n; i += 997) ASSERT_EQ(b.p[i], static_cast<unsigned char>(i));
        if (next() % 4 == 0) {
          std::lock_guard<std::mutex> g(handoff_lock);
          handoff.push_back(b.p);  // the other thread (or this one) frees it
          b.p = static_cast<unsigned char *>(ml::alloc(n));
        } else {
          b.p = static_cast<unsigned char *>(ml::realloc_block(b.p, n));
        }
      }
      ASSERT_NE(b.p, nullptr);
      for (std::size_t i = 0; i < n; i += 997) b.p[i] = static_cast<unsigned char>(i);
      b.n = n;
      unsigned char *other = nullptr;
      {
        std::lock_guard<std::mutex> g(handoff_lock);
        if (!handoff.empty()) {
          other = handoff.back();
          handoff.pop_back();
        }
      }
      ml::dealloc(other);
    }
    for (block &b : live) ml::dealloc(b.p);
  };
  std::thread a(work, 1), b(work, 2);
  a.join();
  b.join();
  for (unsigned char *p : handoff) ml::dealloc(p);
  locked([](span_region &r) {
    EXPECT_LE(r.committed_free_units, rca::detail::spans_retain_limit(r));
    return 0;
  });
}

TEST(MallocInternals, CallocZeroesReusedMemoryAndRefusesOverflow) {
  for (std::size_t n : {std::size_t(48), std::size_t(5000), std::size_t(100000)}) {
    void *p = ml::alloc(n);
    std::memset(p, 0xEE, n);
    ml::dealloc(p);
    auto *q = static_cast<unsigned char *>(ml::calloc_block(1, n));
    ASSERT_NE(q, nullptr);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(q[i], 0) << n << " at " << i;
    ml::dealloc(q);
  }
  errno = 0;
  EXPECT_EQ(ml::calloc_block(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
}

// One thread allocates, another frees (the thread_free path), concurrently.
TEST(MallocInternals, FreesFromAnotherThread) {
  constexpr int kBlocks = 100000;
  std::vector<std::atomic<void *>> handoff(kBlocks);
  std::thread producer([&] {
    for (int i = 0; i < kBlocks; ++i) {
      auto *p = static_cast<unsigned char *>(ml::alloc(static_cast<std::size_t>(i % 1000) + 1));
      p[0] = static_cast<unsigned char>(i);
      handoff[i].store(p, std::memory_order_release);
    }
  });
  std::thread consumer([&] {
    ml::dealloc(ml::alloc(1));  // a cache of its own: its frees take the remote fast path
    for (int i = 0; i < kBlocks; ++i) {
      void *p;
      while (!(p = handoff[i].load(std::memory_order_acquire))) std::this_thread::yield();
      ASSERT_EQ(static_cast<unsigned char *>(p)[0], static_cast<unsigned char>(i));
      ml::dealloc(p);
    }
  });
  producer.join();
  consumer.join();
}

rca::detail::span_desc *span_of(const void *p) {
  return ml::g_region.desc_at(ml::g_region.offset(p));
}

// Allocates blocks of `size` on the calling thread until its span runs dry and the next block
// comes from another span: the dry span is then on the thread's full list. Returns its blocks.
std::vector<void *> fill_one_span(std::size_t size) {
  std::vector<void *> blocks{ml::alloc(size)};
  rca::detail::span_desc *d = span_of(blocks[0]);
  for (;;) {
    void *p = ml::alloc(size);
    if (span_of(p) != d) {
      ml::dealloc(p);
      return blocks;
    }
    blocks.push_back(p);
  }
}

// How many allocations of `size` until one lands in span d (0: none within `limit`).
std::size_t allocations_until_reused(std::size_t size, rca::detail::span_desc *d, std::size_t limit,
                                     std::vector<void *> &made) {
  for (std::size_t i = 1; i <= limit; ++i) {
    made.push_back(ml::alloc(size));
    if (span_of(made.back()) == d) return i;
  }
  return 0;
}

// Blocks freed by another thread into full spans of two classes are both reused by the owner
// once its current span of each class runs dry: the sweep of one class's full spans does not
// forget that the other's got frees too (one pending bit per class).
TEST(MallocInternals, RemoteFreesIntoFullSpansOfEveryClassAreReused) {
  std::thread owner([] {
    constexpr std::size_t kX = 1536, kY = 3072;  // 42 and 21 blocks a span
    std::vector<void *> xs = fill_one_span(kX), ys = fill_one_span(kY);
    rca::detail::span_desc *dx = span_of(xs[0]), *dy = span_of(ys[0]);
    ASSERT_TRUE(dx->in_full);
    ASSERT_TRUE(dy->in_full);
    std::thread([&] {
      for (void *p : xs) ml::dealloc(p);
      for (void *p : ys) ml::dealloc(p);
    }).join();
    // The current span of each class has at most a span's capacity of room left.
    std::vector<void *> made;
    EXPECT_NE(allocations_until_reused(kX, dx, dx->capacity + 1, made), 0u);
    EXPECT_NE(allocations_until_reused(kY, dy, dy->capacity + 1, made), 0u);
    for (void *p : made) ml::dealloc(p);
  });
  owner.join();
}

// A block freed into a full span by its owner puts the span back among those with room, behind
// the span in use: the next allocations still come from that one (else each such free would
// make the next allocation take the freed block and the one after it a slow path).
TEST(MallocInternals, FreeIntoAFullSpanKeepsTheHeadSpan) {
  std::thread([] {
    std::vector<void *> full = fill_one_span(1536);
    rca::detail::span_desc *d = span_of(full[0]);
    void *next = ml::alloc(1536);  // from the span after the full one
    rca::detail::span_desc *head = span_of(next);
    ASSERT_NE(head, d);
    ASSERT_TRUE(d->in_full);
    ml::dealloc(full.back());
    full.pop_back();
    EXPECT_FALSE(d->in_full);
    void *after = ml::alloc(1536);
    EXPECT_EQ(span_of(after), head);
    for (void *p : full) ml::dealloc(p);
    ml::dealloc(next);
    ml::dealloc(after);
  }).join();
}

// A thread that frees a block of an exited thread's span takes the span over: its later frees
// into it are local ones (no region lock per block), and its allocations may use the span.
TEST(MallocInternals, FreeIntoAnAbandonedSpanAdoptsIt) {
  std::vector<void *> blocks;
  std::thread([&] {
    for (int i = 0; i < 100; ++i) blocks.push_back(ml::alloc(2000));
  }).join();
  rca::detail::span_desc *d = span_of(blocks[0]);
  ASSERT_EQ(d->state.load(), span_state::abandoned);
  std::uint32_t in_d = 0;
  for (void *p : blocks) in_d += span_of(p) == d;
  std::thread([&] {
    ml::dealloc(blocks[0]);
    EXPECT_EQ(d->state.load(), span_state::owned);
    EXPECT_EQ(d->owner.load(), &ml::thread_cache_of()->spans.spans);
    EXPECT_EQ(d->used, in_d - 1);
    for (std::size_t i = 1; i < blocks.size(); ++i)
      if (span_of(blocks[i]) == d) ml::dealloc(blocks[i]);
    EXPECT_EQ(d->used, 0u);
    for (std::size_t i = 1; i < blocks.size(); ++i)
      if (span_of(blocks[i]) != d) ml::dealloc(blocks[i]);
  }).join();
}

// A bad pointer freed by a thread that does not own its span fails the remote fast path's
// checks and aborts in span_free with the one-line message.
TEST(MallocInternalsDeathTest, BadRemoteFreesAbortWithOneLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto *p = static_cast<char *>(ml::alloc(64));
  auto *fresh = static_cast<char *>(ml::alloc(64));  // the last handed out: fresh + 64 never was
  auto remote_free = [](void *q) {
    std::thread([q] {
      ml::dealloc(ml::alloc(1));
      ml::dealloc(q);
    }).join();
  };
  EXPECT_DEATH(remote_free(p + 16), "free: 0x[0-9a-f]+ is an interior pointer");
  if (span_of(fresh + 64) == span_of(fresh)) {
    EXPECT_DEATH(remote_free(fresh + 64),
                 "free: 0x[0-9a-f]+ is not a block \\(never handed out\\)");
  }
  ml::dealloc(p);
  ml::dealloc(fresh);
}

// Threads that exit with live blocks abandon their spans; freeing the blocks afterwards releases
// them or hands them to the freeing thread, and a span that still holds a block stays abandoned
// until then.
TEST(MallocInternals, ExitedThreadsSpansAreReleasedWhenEmpty) {
  const std::size_t before = abandoned_spans();
  std::vector<void *> left;
  std::mutex m;
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      std::vector<void *> mine;
      for (int i = 0; i < 3000; ++i)
        mine.push_back(ml::alloc(static_cast<std::size_t>(i % 900) + 1));
      std::lock_guard<std::mutex> g(m);
      left.insert(left.end(), mine.begin(), mine.end());
    });
  for (auto &t : ts) t.join();
  EXPECT_GT(abandoned_spans(), before);
  for (void *p : left) ml::dealloc(p);
  EXPECT_EQ(abandoned_spans(), before);
}

// The totals behind mallinfo2 and RCA_SHOW_STATS count each live block once at its class size.
TEST(MallocInternals, TotalsCountLiveBlocks) {
  const ml::heap_totals before = ml::gather_totals();
  const unsigned cls = rca::detail::class_of(1000);
  std::vector<void *> blocks;
  for (int i = 0; i < 100; ++i) blocks.push_back(ml::alloc(1000));
  void *huge = ml::alloc(ml::kHugeMin);
  const ml::heap_totals during = ml::gather_totals();
  EXPECT_EQ(during.live_bytes - before.live_bytes, 100u * rca::detail::class_size(cls));
  EXPECT_EQ(during.cls[cls].blocks - before.cls[cls].blocks, 100u);
  EXPECT_EQ(during.huge.blocks, before.huge.blocks + 1);
  EXPECT_GE(during.huge.bytes - before.huge.bytes, ml::kHugeMin);
  for (void *p : blocks) ml::dealloc(p);
  ml::dealloc(huge);
  const ml::heap_totals after = ml::gather_totals();
  EXPECT_EQ(after.live_bytes, before.live_bytes);
  EXPECT_EQ(after.huge.blocks, before.huge.blocks);
}

bool resident(const void *p) {
  unsigned char v = 0;
  const auto page = reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t(4095);
  EXPECT_EQ(mincore(reinterpret_cast<void *>(page), 4096, &v), 0);
  return v & 1;
}

// malloc_trim: the free units kept committed (and the calling thread's spare spans) go back to
// the OS; their pages are no longer resident.
TEST(MallocInternals, TrimDecommitsFreeUnits) {
  ml::trim(0);  // earlier tests' free units: those below fit the retain limit
  EXPECT_EQ(ml::gather_totals().committed_free_units, 0u);
  std::vector<void *> blocks;
  std::thread([&] {  // 60000 bytes: a unit each; the thread's spares go back when it exits
    for (int i = 0; i < 40; ++i) blocks.push_back(std::memset(ml::alloc(60000), 1, 60000));
    for (void *p : blocks) ml::dealloc(p);
  })
      .join();
  for (int i = 0; i < 4; ++i) ml::dealloc(std::memset(ml::alloc(60000), 1, 60000));  // spares
  EXPECT_GT(ml::gather_totals().committed_free_units, 0u);
  std::size_t before = 0;
  for (void *p : blocks) before += resident(p);
  EXPECT_GT(before, 0u);
  EXPECT_TRUE(ml::trim(0));
  EXPECT_EQ(ml::gather_totals().committed_free_units, 0u);
  EXPECT_EQ(ml::gather_totals().spare_spans, 0u);
  for (void *p : blocks) EXPECT_FALSE(resident(p)) << p;
  EXPECT_FALSE(ml::trim(0));
}

// The child of a fork made while other threads allocate can allocate and free at once.
TEST(MallocInternals, ForkWhileOtherThreadsAllocate) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < 2; ++t)
    ts.emplace_back([&] {
      void *keep[32] = {};
      for (unsigned i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        ml::dealloc(keep[i % 32]);
        keep[i % 32] = ml::alloc((i * 131) % 12000 + 1);
      }
      for (void *p : keep) ml::dealloc(p);
    });
  for (int round = 0; round < 10; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::vector<void *> blocks;
      blocks.reserve(5000);
      for (int i = 0; i < 5000; ++i) blocks.push_back(ml::alloc((i * 131) % 12000 + 1));
      for (void *p : blocks) ml::dealloc(p);
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  stop = true;
  for (auto &t : ts) t.join();
}

// Run with RCA_OBJECT_LIMIT=1m (its own ctest entry): small blocks run out with ENOMEM, larger
// ones go on in mappings of their own.
TEST(MallocInternals, ExhaustedRegion) {
  if (ml::options().region_bytes > (std::size_t(1) << 20))
    GTEST_SKIP() << "runs under RCA_OBJECT_LIMIT=1m (ctest malloc_internals_exhaustion)";
  std::vector<void *> blocks;
  void *p;
  errno = 0;
  while ((p = ml::alloc(1000)) != nullptr) blocks.push_back(p);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_GE(blocks.size(), 16u * 60);  // 16 units of 64 KiB of 1024-byte blocks
  void *large = ml::alloc(100000);
  ASSERT_NE(large, nullptr);
  EXPECT_GE(ml::huge_size(large), 100000u);
  ml::dealloc(large);
  for (void *b : blocks) ml::dealloc(b);
  EXPECT_NE(p = ml::alloc(1000), nullptr);
  ml::dealloc(p);
}

}  // namespace
