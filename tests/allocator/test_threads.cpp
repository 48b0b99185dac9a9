// Cross-thread allocation and free under every out-of-line placement: objects made by one thread
// are released by another, counts are shared atomically, and the accounting balances.
#include "support/configs.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace {

class CrossThread : public ::testing::TestWithParam<rca_test::heap_case> {};

TEST_P(CrossThread, ProducersAndConsumersBalance) {
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

}  // namespace
