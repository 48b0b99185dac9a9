// Cross-thread allocation and free under every out-of-line placement: objects made by one thread
// are released by another, counts are shared atomically, and the accounting balances.
#include "support/configs.h"
#include "support/events.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace {

class CrossThread : public ::testing::TestWithParam<rca_test::heap_case> {};

TEST_P(CrossThread, ProducersAndConsumersBalance) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(GetParam().config());
  constexpr int kThreads = 4, kPerThread = 5000;
  // Each thread allocates a batch, increfs the previous thread's batch, then releases its own
  // references to both: every object ends with two releases from two different threads.
  std::vector<std::vector<void *>> batches(kThreads);
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) batches[t].push_back(heap.alloc(24));
    });
  for (auto &t : ts) t.join();
  ts.clear();
  for (int t = 0; t < kThreads; ++t)
    for (void *o : batches[t]) rca_obj_incref(heap.get(), o);
  std::atomic<int> freed{0};
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      // Thread t drops one reference of its own batch and one of the next thread's batch.
      for (void *o : batches[t]) freed += rca_obj_release(heap.get(), o);
      for (void *o : batches[(t + 1) % kThreads]) freed += rca_obj_release(heap.get(), o);
    });
  for (auto &t : ts) t.join();
  EXPECT_EQ(freed.load(), kThreads * kPerThread);
  const rca_stats_t s = heap.stats();
  EXPECT_EQ(s.live_objects, 0u);
  EXPECT_EQ(s.live_slots, 0u);
  EXPECT_LE(s.refcount_pages, 1u);
}

INSTANTIATE_TEST_SUITE_P(OutOfLine, CrossThread, ::testing::ValuesIn(rca_test::out_of_line_cases()),
                         [](const auto &info) { return info.param.name(); });

// Every thread counts its allocations and frees in its own pool, and rca_heap_stats sums them:
// counts of threads that have exited, of threads that only free, and of a pool handed to a new
// thread must all stay in the sums, exactly.
class ThreadCounters : public ::testing::TestWithParam<rca_test::heap_case> {};

TEST_P(ThreadCounters, SumsKeepExitedFreeOnlyAndRecycledThreads) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(GetParam().config());
  const bool has_slots = GetParam().has_slots();
  constexpr std::size_t kMade = 300, kRaw = 7;
  std::vector<void *> objs, raws;
  std::thread([&] {  // allocates, then exits: its pool goes back to the heap
    for (std::size_t i = 0; i < kMade; ++i) objs.push_back(heap.alloc(40));
    for (std::size_t i = 0; i < kRaw; ++i) raws.push_back(rca_malloc(heap.get(), 100));
  })
      .join();
  rca_stats_t s = heap.stats();
  EXPECT_EQ(s.objects_allocated, kMade);
  EXPECT_EQ(s.objects_freed, 0u);
  EXPECT_EQ(s.live_objects, kMade);
  EXPECT_EQ(s.slots_allocated, has_slots ? kMade : 0u);
  EXPECT_GE(s.object_bytes, kMade * 40 + kRaw * 100);
  std::thread([&] {  // frees a third, never allocated: counts the frees in a pool of its own
    for (std::size_t i = 0; i < kMade / 3; ++i) rca_obj_free(heap.get(), objs[i]);
    for (void *r : raws) rca_free(heap.get(), r);
  })
      .join();
  std::thread([&] {  // reuses an exited thread's pool: adds to the counts already in it
    for (std::size_t i = 0; i < 10; ++i) objs.push_back(heap.alloc(40));
  })
      .join();
  s = heap.stats();
  EXPECT_EQ(s.objects_allocated, kMade + 10);
  EXPECT_EQ(s.objects_freed, kMade / 3);
  EXPECT_EQ(s.live_objects, kMade + 10 - kMade / 3);
  EXPECT_EQ(s.live_slots, has_slots ? kMade + 10 - kMade / 3 : 0u);
  for (std::size_t i = kMade / 3; i < objs.size(); ++i) rca_obj_free(heap.get(), objs[i]);
  s = heap.stats();
  EXPECT_EQ(s.objects_allocated, s.objects_freed);
  EXPECT_EQ(s.slots_allocated, s.slots_freed);
  EXPECT_EQ(s.live_objects, 0u);
  EXPECT_EQ(s.live_slots, 0u);
  EXPECT_EQ(s.object_bytes, 0u);
}

INSTANTIATE_TEST_SUITE_P(AllPlacements, ThreadCounters,
                         ::testing::ValuesIn(rca_test::system_cases()),
                         [](const auto &info) { return info.param.name(); });

}  // namespace
