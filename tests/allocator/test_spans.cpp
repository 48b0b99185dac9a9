// rca's span allocator and the computed placement: where counts are (unique among live objects,
// in refcount pages, stable, reused only after a free) for every size class and both address
// functions; frees from other threads and from after a thread's exit; fork while others
// allocate; exhaustion; and the one-line abort for a bad free.
#include "support/configs.h"
#include "support/events.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kTsan = true;
#else
constexpr bool kTsan = false;
#endif

struct computed_case {
  rca_address_t address;
  unsigned slot_bits;
  std::string name() const {
    return std::string(rca_address_name(address)) + "_" + std::to_string(slot_bits);
  }
};

void PrintTo(const computed_case &c, std::ostream *os) { *os << c.name(); }

rca::config computed_config(const computed_case &c) {
  rca::config cfg;
  cfg.placement(RCA_PLACEMENT_COMPUTED).slot_bits(c.slot_bits).checks(false).track_objects(false);
  cfg.raw().address = c.address;
  return cfg;
}

// Every size class (16..128 by 16, then four per doubling to 8 KiB) and three large sizes.
std::vector<std::size_t> every_size() {
  std::vector<std::size_t> v;
  for (std::size_t s = 16; s <= 128; s += 16) v.push_back(s);
  for (std::size_t b = 128; b < 8192; b *= 2)
    for (std::size_t i = 1; i <= 4; ++i) v.push_back(b + i * b / 4);
  v.push_back(8193);
  v.push_back(100000);
  v.push_back(300000);
  return v;
}

class ComputedTest : public ::testing::TestWithParam<computed_case> {
 protected:
  void *count_fn(rca_heap_t *h, const void *obj) const {
    const unsigned sb = GetParam().slot_bits / 8;
    return GetParam().address == RCA_ADDRESS_SPAN
               ? rca_computed_span_count(obj, sb)
               : rca_computed_granule_count(rca_computed_bias(h), obj, sb);
  }
};

TEST_P(ComputedTest, CountAddressesAreUniqueInRefcountPagesStableAndReusedOnlyAfterFree) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(computed_config(GetParam()));
  rca_heap_t *h = heap.get();
  auto [lo, hi] = heap.arena_range();
  struct live_object {
    void *obj;
    std::size_t size;
    void *count;
  };
  std::vector<live_object> live;
  for (std::size_t size : every_size()) {
    const int n = size > 8192 ? 3 : 150;
    for (int i = 0; i < n; ++i) {
      void *o = heap.alloc(size);
      ASSERT_NE(o, nullptr) << size;
      EXPECT_GE(rca_usable_size(h, o), size);
      std::memset(o, 0xab, size);  // the object is all the caller's: no header
      void *c = heap.slot_of(o);
      EXPECT_EQ(c, count_fn(h, o)) << "the inline function agrees, size " << size;
      EXPECT_EQ(heap.count(o), 1u);
      live.push_back({o, size, c});
    }
  }
  auto check_all = [&] {
    std::set<void *> counts;
    for (const live_object &l : live) {
      EXPECT_EQ(heap.slot_of(l.obj), l.count) << "stable for the object's life";
      EXPECT_TRUE(counts.insert(l.count).second) << "unique among live objects";
      EXPECT_GE(l.count, lo);
      EXPECT_LT(l.count, hi);
      // In refcount pages: the count range holds no object.
      EXPECT_TRUE(static_cast<char *>(l.obj) + l.size <= lo || l.obj >= hi)
          << "an object inside the count range";
    }
  };
  check_all();
  // Counts change only through their own object.
  for (std::size_t i = 0; i < live.size(); i += 3) rca_obj_incref(h, live[i].obj);
  for (std::size_t i = 0; i < live.size(); ++i)
    EXPECT_EQ(heap.count(live[i].obj), i % 3 == 0 ? 2u : 1u);
  // Free every other object; the new ones may take freed counts, never a live one's.
  std::set<void *> freed_counts;
  std::vector<live_object> kept;
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (i % 2) {
      freed_counts.insert(live[i].count);
      heap.free(live[i].obj);
    } else {
      kept.push_back(live[i]);
    }
  }
  live = kept;
  std::size_t reused = 0;
  for (std::size_t size : every_size()) {
    for (int i = 0; i < (size > 8192 ? 2 : 100); ++i) {
      void *o = heap.alloc(size);
      ASSERT_NE(o, nullptr);
      void *c = heap.slot_of(o);
      reused += freed_counts.count(c);
      live.push_back({o, size, c});
    }
  }
  EXPECT_GT(reused, 0u) << "freed counts are reused";
  check_all();
  for (std::size_t i = 0; i < live.size(); ++i)
    if (heap.count(live[i].obj) == 2) rca_obj_decref(h, live[i].obj);
  for (const live_object &l : live) EXPECT_EQ(rca_obj_release(h, l.obj), 1);
  const rca_stats_t s = heap.stats();
  EXPECT_EQ(s.live_objects, 0u);
  EXPECT_EQ(s.object_bytes, 0u);
}

TEST_P(ComputedTest, FreesFromAnotherThreadComeBackToTheOwner) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(computed_config(GetParam()));
  constexpr int kN = 20000;
  std::vector<void *> objs(kN);
  for (int round = 0; round < 3; ++round) {
    std::thread([&] {
      for (int i = 0; i < kN; ++i) objs[i] = heap.alloc(16 + (i % 7) * 16);
    }).join();
    // The allocating thread has exited: later rounds adopt its abandoned spans.
    std::set<void *> counts;
    for (void *o : objs) EXPECT_TRUE(counts.insert(heap.slot_of(o)).second);
    std::thread t1([&] {
      for (int i = 0; i < kN; i += 2) heap.free(objs[i]);
    });
    std::thread t2([&] {
      for (int i = 1; i < kN; i += 2) heap.free(objs[i]);
    });
    t1.join();
    t2.join();
    EXPECT_EQ(heap.stats().live_objects, 0u);
  }
  // Everything came back: the spans can hold a fresh population without growing past one
  // population's worth of count pages.
  const std::size_t peak = heap.stats().refcount_pages_peak;
  for (int i = 0; i < kN; ++i) objs[i] = heap.alloc(16 + (i % 7) * 16);
  EXPECT_LE(heap.stats().refcount_pages, peak);
  for (void *o : objs) heap.free(o);
}

// A span's owner reuses the blocks other threads freed before it hands out a block never used
// (mimalloc's order): otherwise the span's bump grows to its end first, and every whole-heap
// count walk (freeze, thaw, rca_heap_visit_pages) pays for each block below it.
TEST_P(ComputedTest, BlocksOtherThreadsFreedAreReusedBeforeNewOnes) {
  rca::heap heap(computed_config(GetParam()));
  constexpr int kN = 64;
  std::vector<void *> objs(kN);
  for (void *&o : objs) o = heap.alloc(16);
  std::thread([&] {
    for (void *o : objs) heap.free(o);
  }).join();
  const std::set<void *> freed(objs.begin(), objs.end());
  std::vector<void *> again(kN);
  for (void *&o : again) {
    o = heap.alloc(16);
    EXPECT_EQ(freed.count(o), 1u) << "a new block while blocks freed by another thread waited";
  }
  for (void *o : again) heap.free(o);
}

TEST_P(ComputedTest, RemoteFreesWhileTheOwnerAllocates) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(computed_config(GetParam()));
  constexpr int kN = 50000;
  std::vector<std::atomic<void *>> handoff(kN);
  std::thread producer([&] {
    for (int i = 0; i < kN; ++i) {
      void *o = heap.alloc(32 + (i % 3) * 32);
      rca_obj_incref(heap.get(), o);
      handoff[i].store(o, std::memory_order_release);
    }
  });
  std::thread consumer([&] {
    for (int i = 0; i < kN; ++i) {
      void *o;
      while (!(o = handoff[i].load(std::memory_order_acquire))) std::this_thread::yield();
      EXPECT_EQ(heap.count(o), 2u);
      EXPECT_EQ(rca_obj_decref(heap.get(), o), 0);
      EXPECT_EQ(rca_obj_release(heap.get(), o), 1);
    }
  });
  producer.join();
  consumer.join();
  EXPECT_EQ(heap.stats().live_objects, 0u);
}

TEST_P(ComputedTest, ForkWhileOtherThreadsAllocate) {
  if (kTsan) GTEST_SKIP() << "forks while other threads are inside malloc (TSan's own allocator)";
  rca::heap heap(computed_config(GetParam()));
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t)
    workers.emplace_back([&, t] {
      std::vector<void *> mine;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = 0; i < 200; ++i) mine.push_back(heap.alloc(16 + ((i + t) % 9) * 16));
        for (void *o : mine) heap.free(o);
        mine.clear();
      }
    });
  for (int f = 0; f < 20; ++f) {
    pid_t pid = fork();
    if (pid == 0) {
      // Only this thread exists here: allocate, count and free freely.
      std::vector<void *> objs;
      for (int i = 0; i < 5000; ++i) objs.push_back(heap.alloc(16 + (i % 9) * 16));
      std::set<void *> counts;
      for (void *o : objs)
        if (!counts.insert(heap.slot_of(o)).second || heap.count(o) != 1) _exit(2);
      for (void *o : objs) heap.free(o);
      _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "fork " << f;
  }
  stop = true;
  for (auto &w : workers) w.join();
}

TEST_P(ComputedTest, ExhaustionGivesNullWithAnErrorAndTheHeapStaysUsable) {
  rca::config cfg = computed_config(GetParam());
  cfg.raw().object_limit = std::size_t(1) << 20;  // 16 spans
  rca::heap heap(cfg);
  std::vector<void *> objs;
  void *o;
  errno = 0;
  while ((o = heap.alloc(1000)) != nullptr) objs.push_back(o);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_NE(std::string(rca_last_error()).find("object memory exhausted"), std::string::npos)
      << rca_last_error();
  EXPECT_GE(objs.size(), 16u * 60);
  EXPECT_EQ(heap.alloc(300000), nullptr) << "a large block does not fit either";
  heap.free(objs.back());
  objs.pop_back();
  o = heap.alloc(1000);
  ASSERT_NE(o, nullptr) << "a freed block serves again";
  EXPECT_EQ(heap.count(o), 1u);
  objs.push_back(o);
  for (void *p : objs) heap.free(p);
  // Empty spans went back to the region: a large block fits now.
  o = heap.alloc(300000);
  EXPECT_NE(o, nullptr) << rca_last_error();
  heap.free(o);
}

TEST_P(ComputedTest, FreezeSweepsCountsOnly) {
  rca::heap heap(computed_config(GetParam()));
  rca_heap_t *h = heap.get();
  std::vector<void *> objs;
  for (int i = 0; i < 1000; ++i) objs.push_back(heap.alloc(16 + (i % 5) * 48));
  void *raw = rca_malloc(h, 64);  // raw blocks have no count to freeze
  for (int i = 0; i < 500; i += 2) heap.free(objs[i]);
  EXPECT_EQ(rca_heap_freeze(h), 1000 - 250);
  for (int i = 0; i < 1000; ++i)
    if (i >= 500 || i % 2) {
      const std::uint64_t c = heap.count(objs[i]);
      EXPECT_TRUE(GetParam().slot_bits == 32 ? (c & RCA_RC_FROZEN_BIT32)
                                             : (c & RCA_RC_FROZEN_BIT64));
    }
  EXPECT_EQ(rca_heap_thaw(h), 1000 - 250);
  for (int i = 0; i < 1000; ++i)
    if (i >= 500 || i % 2) {
      EXPECT_EQ(heap.count(objs[i]), 1u);
      heap.free(objs[i]);
    }
  rca_free(h, raw);
}

// A block freed while frozen leaves no saved count behind: the next block at its position,
// frozen by its own overflow, stays frozen through thaw (found by the fuzzer: thaw restored the
// dead block's count into it).
TEST_P(ComputedTest, ThawRestoresNoCountOfAFreedBlock) {
  rca::heap heap(computed_config(GetParam()));
  rca_heap_t *h = heap.get();
  void *a = heap.alloc(32);
  for (int i = 0; i < 4; ++i) rca_obj_incref(h, a);
  ASSERT_EQ(rca_heap_freeze(h), 1);
  heap.free(a);
  void *b = heap.alloc(32);
  ASSERT_EQ(b, a);  // the same block, so the same count position
  const std::uint64_t frozen =
      GetParam().slot_bits == 32 ? RCA_RC_FROZEN_BIT32 : RCA_RC_FROZEN_BIT64;
  void *count = rca_obj_slot(h, b);
  if (GetParam().slot_bits == 32) *static_cast<std::uint32_t *>(count) = std::uint32_t(frozen);
  else *static_cast<std::uint64_t *>(count) = frozen;
  EXPECT_EQ(rca_heap_thaw(h), 0);
  EXPECT_EQ(heap.count(b), frozen);
  heap.free(b);
}

TEST_P(ComputedTest, RawMemoryAndRealloc) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(computed_config(GetParam()));
  rca_heap_t *h = heap.get();
  char *p = static_cast<char *>(rca_malloc(h, 40));
  ASSERT_NE(p, nullptr);
  std::memset(p, 7, 40);
  p = static_cast<char *>(rca_realloc(h, p, 5000));
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(p[i], 7);
  EXPECT_GE(rca_usable_size(h, p), 5000u);
  p = static_cast<char *>(rca_realloc(h, p, 200000));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p[39], 7);
  rca_free(h, p);
  EXPECT_EQ(heap.stats().object_bytes, 0u);
}

// What a VM with headers of its own before the object (CPython's GC header) and statically
// allocated objects relies on: the object range holds every block, and the span function maps
// any address inside a block to that block's count.
TEST_P(ComputedTest, ObjectRangeHoldsEveryBlockAndTheSpanFunctionTakesInteriorAddresses) {
  rca::heap heap(computed_config(GetParam()));
  rca_heap_t *h = heap.get();
  void *lo = nullptr, *hi = nullptr;
  rca_heap_object_range(h, &lo, &hi);
  ASSERT_NE(lo, nullptr);
  ASSERT_LT(lo, hi);
  static int outside = 0;
  EXPECT_FALSE(&outside >= lo && &outside < hi) << "a static object is outside";
  std::vector<void *> blocks;
  for (std::size_t size : every_size()) {
    for (int i = 0; i < 3; ++i) {
      char *o = static_cast<char *>(i == 2 ? rca_malloc(h, size) : heap.alloc(size));
      ASSERT_NE(o, nullptr);
      EXPECT_TRUE(o >= lo && o + size <= hi) << size;
      if (GetParam().address == RCA_ADDRESS_SPAN && i < 2) {
        const unsigned sb = GetParam().slot_bits / 8;
        const std::size_t usable = rca_usable_size(h, o);
        for (std::size_t off : {std::size_t(16), std::size_t(32), usable / 2, usable - 1}) {
          if (off < usable && size <= 8192) {
            EXPECT_EQ(rca_computed_span_count(o + off, sb), heap.slot_of(o))
                << "size " << size << ", " << off << " bytes in";
          }
        }
      }
      blocks.push_back(o);
    }
  }
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (i % 3 == 2) rca_free(h, blocks[i]);
    else heap.free(blocks[i]);
  }
}

TEST(ObjectRange, EmptyWithoutSpans) {
  rca::config cfg;
  cfg.placement(RCA_PLACEMENT_SHARED).backend(RCA_BACKEND_SYSTEM);
  rca::heap heap(cfg);
  void *lo = &lo, *hi = &hi;
  rca_heap_object_range(heap.get(), &lo, &hi);
  EXPECT_EQ(lo, nullptr);
  EXPECT_EQ(hi, nullptr);
}

using ComputedDeathTest = ComputedTest;

TEST_P(ComputedDeathTest, BadFreesAbortWithOneLine) {
  const char *heap_re = " of heap #[0-9]+ \\(computed, .*, rca\\)";
  EXPECT_DEATH(
      {
        rca::heap heap(computed_config(GetParam()));
        void *keep = heap.alloc(32);
        void *o = heap.alloc(32);
        heap.free(o);
        heap.free(o);
        (void)keep;
      },
      std::string("rca: rca_obj_free: 0x[0-9a-f]+ is a block freed twice") + heap_re);
  EXPECT_DEATH(
      {
        rca::heap heap(computed_config(GetParam()));
        char *o = static_cast<char *>(heap.alloc(64));
        heap.free(o + 16);
      },
      std::string("rca: rca_obj_free: 0x[0-9a-f]+ is an interior pointer") + heap_re);
  EXPECT_DEATH(
      {
        rca::heap heap(computed_config(GetParam()));
        char *o = static_cast<char *>(heap.alloc(100000));
        heap.free(o + 70000);
      },
      std::string("rca: rca_obj_free: 0x[0-9a-f]+ is an interior pointer \\(inside a large "
                  "block\\)") +
          heap_re);
  EXPECT_DEATH(
      {
        rca::heap heap(computed_config(GetParam()));
        int on_stack = 0;
        heap.free(&on_stack);
      },
      std::string("rca: rca_obj_free: 0x[0-9a-f]+ is not a block \\(outside the object "
                  "region\\)") +
          heap_re);
  EXPECT_DEATH(
      {
        rca::heap heap(computed_config(GetParam()));
        char *o = static_cast<char *>(heap.alloc(48));
        heap.free(o + 48 * 5);  // a block of the span never handed out
      },
      std::string("rca: rca_obj_free: 0x[0-9a-f]+ is not a block \\(never handed out\\)") +
          heap_re);
  EXPECT_DEATH(
      {
        rca::heap heap(computed_config(GetParam()));
        void *raw = rca_malloc(heap.get(), 48);
        rca_free(heap.get(), raw);
        rca_free(heap.get(), raw);
      },
      std::string("rca: rca_free: 0x[0-9a-f]+ is a block freed twice") + heap_re);
}

const computed_case kCases[] = {{RCA_ADDRESS_SPAN, 32},
                                {RCA_ADDRESS_GRANULE, 32},
                                {RCA_ADDRESS_SPAN, 64},
                                {RCA_ADDRESS_GRANULE, 64}};
INSTANTIATE_TEST_SUITE_P(Both, ComputedTest, ::testing::ValuesIn(kCases),
                         [](const auto &info) { return info.param.name(); });
INSTANTIATE_TEST_SUITE_P(Both, ComputedDeathTest, ::testing::ValuesIn(kCases),
                         [](const auto &info) { return info.param.name(); });

// Backend rca under another placement: objects and raw blocks from spans, slots as before.
TEST(BackendRca, ServesOtherPlacements) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  for (auto p : {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_SHARED, RCA_PLACEMENT_THREAD}) {
    rca::heap heap(rca::config().placement(p).backend(RCA_BACKEND_RCA).checks(false));
    std::vector<void *> objs;
    for (int i = 0; i < 5000; ++i) objs.push_back(heap.alloc(24 + (i % 11) * 40));
    for (void *o : objs) EXPECT_EQ(heap.count(o), 1u);
    std::thread([&] {
      for (std::size_t i = 0; i < objs.size(); i += 2) heap.free(objs[i]);
    }).join();
    for (std::size_t i = 1; i < objs.size(); i += 2) heap.free(objs[i]);
    EXPECT_EQ(heap.stats().live_objects, 0u);
    EXPECT_EQ(heap.stats().object_bytes, 0u);
  }
}

}  // namespace
