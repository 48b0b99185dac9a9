// Where slots land: shared pages interleave threads, thread pages never do, padded slots sit
// alone on their lines; cross-thread frees, adoption after thread exit, arena exhaustion.
#include "support/configs.h"
#include "support/events.h"

#include <gtest/gtest.h>

#include <barrier>
#include <cerrno>
#include <set>
#include <thread>
#include <vector>

namespace {

// Two threads allocate alternately (lock-step through a barrier); returns the refcount pages
// each thread's slots landed on.
std::pair<std::set<std::uintptr_t>, std::set<std::uintptr_t>> alternate(rca::heap &heap, int n,
                                                                        std::vector<void *> &objs) {
  std::set<std::uintptr_t> pages[2];
  std::barrier sync(2);
  std::vector<void *> mine[2];
  auto work = [&](int t) {
    for (int i = 0; i < n; ++i) {
      if (t == 1) sync.arrive_and_wait();  // thread 1 allocates right after thread 0
      void *o = heap.alloc(32);
      mine[t].push_back(o);
      pages[t].insert(reinterpret_cast<std::uintptr_t>(heap.slot_of(o)) / 4096);
      if (t == 0) sync.arrive_and_wait();
      sync.arrive_and_wait();
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  for (auto &m : mine) objs.insert(objs.end(), m.begin(), m.end());
  return {pages[0], pages[1]};
}

bool intersects(const std::set<std::uintptr_t> &a, const std::set<std::uintptr_t> &b) {
  for (auto x : a)
    if (b.count(x)) return true;
  return false;
}

TEST(Placement, SharedPagesInterleaveThreads) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_SHARED));
  std::vector<void *> objs;
  auto [p0, p1] = alternate(heap, 200, objs);
  EXPECT_TRUE(intersects(p0, p1)) << "threads' slots share refcount pages under shared";
  for (void *o : objs) heap.free(o);
  EXPECT_EQ(heap.stats().live_slots, 0u);
}

TEST(Placement, ThreadPagesNeverMixThreads) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_THREAD));
  std::vector<void *> objs;
  auto [p0, p1] = alternate(heap, 2000, objs);
  EXPECT_FALSE(intersects(p0, p1)) << "each thread allocates from its own refcount pages";
  EXPECT_GE(p0.size(), 2u);
  for (void *o : objs) heap.free(o);  // frees from the main thread: all remote
  EXPECT_EQ(heap.stats().live_slots, 0u);
  EXPECT_EQ(heap.stats().refcount_pages, 0u) << "pages of exited threads are reclaimed once empty";
}

TEST(Placement, PaddedSlotsSitAloneOnTheirLines) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_PADDED));
  std::vector<void *> objs;
  std::set<std::uintptr_t> lines;
  for (int i = 0; i < 500; ++i) {
    objs.push_back(heap.alloc(16));
    auto addr = reinterpret_cast<std::uintptr_t>(heap.slot_of(objs.back()));
    EXPECT_EQ(addr % 64, 0u);
    lines.insert(addr / 64);
  }
  EXPECT_EQ(lines.size(), 500u);
  EXPECT_EQ(heap.stats().slot_bytes, 500u * 64);
  for (void *o : objs) heap.free(o);
}

TEST(Placement, CrossThreadFreesReturnToTheOwner) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_THREAD));
  std::vector<void *> objs;
  std::set<void *> first_slots;
  std::barrier sync(2);
  std::thread owner([&] {
    for (int i = 0; i < 1024; ++i) objs.push_back(heap.alloc(16));  // one full page of slots
    for (void *o : objs) first_slots.insert(heap.slot_of(o));
    const std::size_t pages_before = heap.stats().refcount_pages;
    sync.arrive_and_wait();  // the other thread frees them all
    sync.arrive_and_wait();
    // The owner collects the remote frees instead of taking a new page.
    std::vector<void *> again;
    for (int i = 0; i < 1024; ++i) again.push_back(heap.alloc(16));
    std::size_t reused = 0;
    for (void *o : again) reused += first_slots.count(heap.slot_of(o));
    EXPECT_EQ(reused, 1024u);
    EXPECT_EQ(heap.stats().refcount_pages, pages_before);
    for (void *o : again) heap.free(o);
  });
  std::thread other([&] {
    sync.arrive_and_wait();
    for (void *o : objs) heap.free(o);
    sync.arrive_and_wait();
  });
  owner.join();
  other.join();
  EXPECT_EQ(heap.stats().live_slots, 0u);
}

TEST(Placement, PagesOfExitedThreadsAreAdopted) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_THREAD));
  std::vector<void *> objs;
  std::thread([&] {
    for (int i = 0; i < 3000; ++i) objs.push_back(heap.alloc(16));
  }).join();
  const std::size_t pages = heap.stats().refcount_pages;
  EXPECT_EQ(pages, 3u);  // 1024 32-bit slots a page
  // Free every other object, then a new thread allocates: it adopts the half-empty pages.
  std::vector<void *> kept;
  for (std::size_t i = 0; i < objs.size(); ++i)
    (i % 2 ? kept.push_back(objs[i]) : heap.free(objs[i]));
  std::thread([&] {
    for (int i = 0; i < 1500; ++i) kept.push_back(heap.alloc(16));
  }).join();
  EXPECT_EQ(heap.stats().refcount_pages, pages) << "adopted, not fresh pages";
  for (void *o : kept) heap.free(o);
  EXPECT_EQ(heap.stats().live_slots, 0u);
  EXPECT_EQ(heap.stats().refcount_pages, 0u);
}

class ArenaLimit : public ::testing::TestWithParam<rca_test::heap_case> {};

TEST_P(ArenaLimit, ExhaustionReturnsNullWithEnomemAndRecovers) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::config c = GetParam().config();
  c.arena_limit(2 * 4096);  // two refcount pages
  rca::heap heap(c);
  const std::size_t per_page = GetParam().placement == RCA_PLACEMENT_PADDED ? 64 : 1024;
  std::vector<void *> objs;
  for (std::size_t i = 0; i < 2 * per_page; ++i) {
    objs.push_back(heap.alloc(16));
    ASSERT_NE(objs.back(), nullptr) << i;
  }
  errno = 0;
  EXPECT_EQ(heap.alloc(16), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_EQ(heap.slot_alloc(), 0u);
  EXPECT_EQ(heap.stats().live_slots, 2 * per_page) << "no slot leaked by the failures";
  EXPECT_EQ(heap.stats().live_objects, 2 * per_page) << "the object memory went back too";
  heap.free(objs.back());
  objs.pop_back();
  void *again = heap.alloc(16);
  EXPECT_NE(again, nullptr) << "allocation works again after a free";
  objs.push_back(again);
  for (void *o : objs) heap.free(o);
  EXPECT_EQ(heap.stats().live_slots, 0u);
}

INSTANTIATE_TEST_SUITE_P(OutOfLine, ArenaLimit, ::testing::ValuesIn(rca_test::out_of_line_cases()),
                         [](const auto &info) { return info.param.name(); });

}  // namespace
