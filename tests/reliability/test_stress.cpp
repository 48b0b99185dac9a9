// Stress: threads allocate, share, hand over and free objects while other threads exit and new
// ones start; at the end nothing is lost: live slots == live objects == 0, every count a thread
// saw matched what it had done, and the arena is back to the pages it held at the start.
//
// Size: 4 threads at a time, 16 in all, 40000 operations each, per configuration (well under a
// second in release, seconds under asan/tsan). RCA_STRESS_SCALE=N multiplies the operations per
// thread and the number of threads started (a long run: RCA_STRESS_SCALE=50).
#include <rca/rca.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/events.h"

namespace {

struct stress_config {
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
  unsigned slot_bits;
};

std::string name_of(const testing::TestParamInfo<stress_config> &i) {
  return std::string(rca_placement_name(i.param.placement)) + "_" +
         rca_handle_kind_name(i.param.handle_kind) + "_" + std::to_string(i.param.slot_bits);
}

unsigned scale() {
  const char *s = std::getenv("RCA_STRESS_SCALE");
  const long v = s ? std::strtol(s, nullptr, 10) : 1;
  return v > 0 ? static_cast<unsigned>(v) : 1;
}

// An object a thread owns, with what it knows of it.
struct item {
  void *obj;
  std::uint64_t count;  // the count this owner expects (owners change only through the mailbox)
  std::uint32_t tag;    // written in the body: two live objects never overlap
  unsigned maker;       // the thread that allocated it
};

struct shared_state {
  rca_heap_t *heap;
  std::mutex mailbox_lock;
  std::deque<item> mailbox;  // objects handed from thread to thread
  std::vector<void *> hot;   // objects every thread increfs and decrefs at once
  std::atomic<std::uint64_t> ops{0}, allocs{0}, frees{0}, cross_frees{0}, handovers{0};
  std::atomic<unsigned> failures{0};  // checks failed inside threads (reported by the test)
};

void put_tag(rca_heap_t *heap, void *obj, std::uint32_t tag) {
  std::memcpy(static_cast<char *>(obj) + rca_header_size(heap), &tag, 4);
}
std::uint32_t get_tag(rca_heap_t *heap, const void *obj) {
  std::uint32_t t;
  std::memcpy(&t, static_cast<const char *>(obj) + rca_header_size(heap), 4);
  return t;
}

void worker(shared_state &s, unsigned id, unsigned ops) {
  rca_heap_t *heap = s.heap;
  std::mt19937 rng(id * 7919u + 1);
  std::vector<item> mine;
  std::uint32_t next_tag = id << 20;
  std::uint64_t local_frees = 0, local_cross = 0, local_allocs = 0, local_handovers = 0;
  auto check = [&](bool ok) {
    if (!ok) s.failures.fetch_add(1, std::memory_order_relaxed);
  };
  auto free_item = [&](const item &it) {
    check(get_tag(heap, it.obj) == it.tag);
    check(rca_obj_count(heap, it.obj) == it.count);
    // Drop the references down to the last one, then release: the last decref frees.
    for (std::uint64_t c = it.count; c > 1; --c) check(rca_obj_decref(heap, it.obj) == 0);
    check(rca_obj_release(heap, it.obj) == 1);
    ++local_frees;
    if (it.maker != id) ++local_cross;
  };
  const std::size_t obj_size = rca_header_size(heap) + 4 + id % 24;
  for (unsigned n = 0; n < ops; ++n) {
    const unsigned r = rng() % 100;
    if (r < 35 && mine.size() < 1024) {
      void *o = rca_obj_alloc(heap, obj_size);
      check(o != nullptr);
      if (!o) continue;
      check(rca_obj_count(heap, o) == 1);
      put_tag(heap, o, ++next_tag);
      mine.push_back({o, 1, next_tag, id});
      ++local_allocs;
    } else if (r < 55 && !mine.empty()) {
      item &it = mine[rng() % mine.size()];
      if (rng() % 2 || it.count == 1) {
        rca_obj_incref(heap, it.obj);
        ++it.count;
      } else {
        check(rca_obj_decref(heap, it.obj) == 0);
        --it.count;
      }
      check(rca_obj_count(heap, it.obj) == it.count);
    } else if (r < 70 && !mine.empty()) {
      const std::size_t i = rng() % mine.size();
      free_item(mine[i]);
      mine[i] = mine.back();
      mine.pop_back();
    } else if (r < 80 && !mine.empty()) {  // hand an object over to whichever thread takes it
      const std::size_t i = rng() % mine.size();
      {
        std::lock_guard<std::mutex> g(s.mailbox_lock);
        s.mailbox.push_back(mine[i]);
      }
      mine[i] = mine.back();
      mine.pop_back();
      ++local_handovers;
    } else if (r < 90) {  // take one over: it was made by another thread, maybe one that exited
      std::lock_guard<std::mutex> g(s.mailbox_lock);
      if (!s.mailbox.empty()) {
        mine.push_back(s.mailbox.front());
        s.mailbox.pop_front();
      }
    } else {  // counts that every thread changes at once: atomic, each slot on shared pages
      void *h = s.hot[rng() % s.hot.size()];
      rca_obj_incref(heap, h);
      check(rca_obj_count(heap, h) >= 2);
      check(rca_obj_decref(heap, h) == 0);
    }
  }
  // What is left outlives the thread: its pages are abandoned with live slots, to be freed by
  // other threads (remote frees) or adopted by new ones.
  {
    std::lock_guard<std::mutex> g(s.mailbox_lock);
    for (const item &it : mine) s.mailbox.push_back(it);
  }
  s.ops.fetch_add(ops);
  s.allocs.fetch_add(local_allocs);
  s.frees.fetch_add(local_frees);
  s.cross_frees.fetch_add(local_cross);
  s.handovers.fetch_add(local_handovers);
}

struct page_tally {
  std::size_t pages = 0, live = 0;
};
void tally(void *, std::size_t, std::size_t live, void *arg) {
  auto *t = static_cast<page_tally *>(arg);
  ++t->pages;
  t->live += live;
}

class Stress : public testing::TestWithParam<stress_config> {};

TEST_P(Stress, ThreadsComeAndGoNothingLost) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  const stress_config p = GetParam();
  rca_config_t cfg;
  rca_config_init(&cfg);
  cfg.placement = p.placement;
  cfg.handle_kind = p.handle_kind;
  cfg.slot_bits = p.slot_bits;
  cfg.checks = 0;  // the registry lock would serialise the threads and hide races
  rca_heap_t *heap = rca_heap_new(&cfg);
  ASSERT_NE(heap, nullptr) << rca_last_error();

  // The starting level: the main thread's pool holds the page it keeps for reuse.
  rca_obj_free(heap, rca_obj_alloc(heap, 32));
  rca_stats_t st0;
  rca_heap_stats(heap, &st0);

  shared_state s;
  s.heap = heap;
  for (int i = 0; i < 16; ++i) s.hot.push_back(rca_obj_alloc(heap, 32));

  const unsigned k = scale();
  const unsigned concurrent = 4, total = 16 * k, ops = 40000 * k;
  // Thread i starts once thread i - concurrent has exited: exits and starts overlap the whole run.
  std::vector<std::thread> threads(total);
  for (unsigned i = 0; i < total; ++i) {
    if (i >= concurrent) threads[i - concurrent].join();
    threads[i] = std::thread(worker, std::ref(s), i + 1, ops);
  }
  for (unsigned i = total >= concurrent ? total - concurrent : 0; i < total; ++i) threads[i].join();
  EXPECT_EQ(s.failures.load(), 0u) << "a count, a tag or a release result differed inside a thread";

  rca_stats_t mid;
  rca_heap_stats(heap, &mid);
  EXPECT_EQ(mid.live_objects, s.mailbox.size() + s.hot.size());
  if (p.placement != RCA_PLACEMENT_INLINE) {
    EXPECT_EQ(mid.live_slots, mid.live_objects);
  }
  {
    page_tally t;
    rca_heap_visit_pages(heap, tally, &t);
    EXPECT_EQ(t.live, p.placement == RCA_PLACEMENT_INLINE || p.placement == RCA_PLACEMENT_EMBEDDED
                          ? 0
                          : mid.live_slots);
  }

  // The main thread frees what the exited threads left behind: frees into abandoned pages.
  std::uint64_t main_frees = 0;
  for (const item &it : s.mailbox) {
    EXPECT_EQ(get_tag(heap, it.obj), it.tag);
    ASSERT_EQ(rca_obj_count(heap, it.obj), it.count);
    for (std::uint64_t c = it.count; c > 1; --c) rca_obj_decref(heap, it.obj);
    EXPECT_EQ(rca_obj_release(heap, it.obj), 1);
    ++main_frees;
  }
  for (void *h : s.hot) {
    EXPECT_EQ(rca_obj_count(heap, h), 1u) << "concurrent increfs and decrefs did not balance";
    rca_obj_free(heap, h);
  }

  rca_stats_t st;
  rca_heap_stats(heap, &st);
  EXPECT_EQ(st.live_objects, 0u);
  EXPECT_EQ(st.live_slots, 0u);
  EXPECT_EQ(st.objects_allocated, st.objects_freed);
  EXPECT_EQ(st.objects_allocated - st0.objects_allocated, s.allocs.load() + s.hot.size());
  EXPECT_EQ(st.object_bytes, 0u);
  EXPECT_EQ(st.refcount_pages, st0.refcount_pages)
      << "refcount pages leaked (peak " << st.refcount_pages_peak << ")";
  page_tally t;
  rca_heap_visit_pages(heap, tally, &t);
  EXPECT_EQ(t.live, 0u);
  EXPECT_EQ(t.pages, st.refcount_pages);

  // A fresh round of allocations still works and lands in the pages kept.
  void *again = rca_obj_alloc(heap, 32);
  ASSERT_NE(again, nullptr);
  rca_obj_free(heap, again);

  const std::string figures =
      std::to_string(total) + " threads (" + std::to_string(concurrent) + " at a time) x " +
      std::to_string(ops) + " ops = " + std::to_string(s.ops.load()) + " ops; " +
      std::to_string(s.allocs.load()) + " allocs, " + std::to_string(s.frees.load() + main_frees) +
      " frees, " + std::to_string(s.cross_frees.load() + main_frees) + " by another thread, " +
      std::to_string(s.handovers.load()) + " handovers; peak " +
      std::to_string(st.refcount_pages_peak) + " refcount pages";
  RecordProperty("figures", figures);
  std::printf("[ figures  ] %s\n", figures.c_str());
  rca_heap_destroy(heap);
}

INSTANTIATE_TEST_SUITE_P(
    Placements, Stress,
    testing::Values(stress_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32},
                    stress_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, 64},
                    stress_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32},
                    stress_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX, 64},
                    stress_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER, 32},
                    stress_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX, 64},
                    stress_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_INDEX, 32},
                    stress_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER, 64}),
    name_of);

}  // namespace
