// Fork safety: fork while other threads allocate and free. The child (only the forking thread
// survives) must be able to allocate and free at once (the atfork handlers took every heap lock
// before the fork; other threads' pools are abandoned in the child), and it must see the heap
// exactly as it was at the fork: the same stats, the same counts, every object intact.
//
// "At the fork" needs a moment when no mutator is inside an operation, or the child inherits a
// half-done one (a slot taken, its counter not yet bumped: the child would leak it, which is
// expected and no business of rca's). The test's own atfork prepare handler provides that moment:
// each mutator holds its gate during one operation, and the handler, registered after rca's and
// so run before it, closes every gate and takes the reference snapshot. The mutators are stopped
// only between operations; they still run while the parent forks again and again.
// A second test forks with no gate at all and asks only that the child never deadlocks and can
// use the heap.
#include <rca/rca.h>

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <pthread.h>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "support/events.h"

// Which sanitizer runtime is linked (gcc says so with a macro, clang with __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define FORK_TEST_ASAN 1
#elif defined(__SANITIZE_THREAD__)
#define FORK_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FORK_TEST_ASAN 1
#elif __has_feature(thread_sanitizer)
#define FORK_TEST_TSAN 1
#endif
#endif

namespace {

struct fork_config {
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
  unsigned slot_bits;
  int checks;
};

std::string name_of(const testing::TestParamInfo<fork_config> &i) {
  return std::string(rca_placement_name(i.param.placement)) + "_" +
         rca_handle_kind_name(i.param.handle_kind) + "_" + std::to_string(i.param.slot_bits) +
         (i.param.checks ? "_checked" : "");
}

struct obj_rec {
  void *obj;
  std::uint64_t count;
  std::uint32_t tag;
};

struct mutator {
  std::mutex gate;            // held for the length of one operation
  std::vector<obj_rec> objs;  // changed only with the gate held
  std::thread thread;
};

struct world {
  rca_heap_t *heap = nullptr;
  std::vector<mutator *> mutators;
  rca_stats_t at_fork{};  // taken by the prepare handler with every gate closed
  bool gated = false;
};
world *g_world = nullptr;  // read by the atfork handlers

void prepare() {
  if (!g_world || !g_world->gated) return;
  for (mutator *m : g_world->mutators) m->gate.lock();
  rca_heap_stats(g_world->heap, &g_world->at_fork);
}
void after() {
  if (!g_world || !g_world->gated) return;
  for (mutator *m : g_world->mutators) m->gate.unlock();
}

// Registered once, after rca's own handlers (a heap has been made): prepare handlers run in
// reverse order of registration, so ours closes the gates before rca takes its locks.
void register_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    rca_heap_t *h = rca_heap_new(nullptr);
    rca_heap_destroy(h);
    pthread_atfork(prepare, after, after);
  });
}

std::atomic<bool> g_stop{false};
// Mutators that have reached their loop. A thread that has been created but has not got there yet
// may still be inside its runtime's start-up code (ASan's thread start mallocs and frees, outside
// any gate), so the first fork waits for all of them.
std::atomic<unsigned> g_running{0};

void put_tag(rca_heap_t *heap, void *obj, std::uint32_t tag) {
  std::memcpy(static_cast<char *>(obj) + rca_header_size(heap), &tag, 4);
}
std::uint32_t get_tag(rca_heap_t *heap, const void *obj) {
  std::uint32_t t;
  std::memcpy(&t, static_cast<const char *>(obj) + rca_header_size(heap), 4);
  return t;
}

void mutate(rca_heap_t *heap, mutator *m, unsigned id) {
  std::mt19937 rng(id);
  std::uint32_t tag = id << 24;
  g_running.fetch_add(1);
  while (!g_stop.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> g(m->gate);
    const unsigned r = rng() % 10;
    if (r < 4 && m->objs.size() < 2000) {
      void *o = rca_obj_alloc(heap, rca_header_size(heap) + 8);
      if (!o) continue;
      put_tag(heap, o, ++tag);
      m->objs.push_back({o, 1, tag});
    } else if (r < 7 && !m->objs.empty()) {
      obj_rec &o = m->objs[rng() % m->objs.size()];
      rca_obj_incref(heap, o.obj);
      ++o.count;
    } else if (!m->objs.empty()) {
      const std::size_t i = rng() % m->objs.size();
      rca_obj_free(heap, m->objs[i].obj);
      m->objs[i] = m->objs.back();
      m->objs.pop_back();
    }
  }
}

void tally(void *, std::size_t, std::size_t live, void *arg) {
  *static_cast<std::size_t *>(arg) += live;
}

// In the child: no gtest (its state belongs to the parent); a failed check exits with its line.
#define CHILD_CHECK(c)                                                                             \
  do {                                                                                             \
    if (!(c)) {                                                                                    \
      std::fprintf(stderr, "fork child: check failed at line %d: %s\n", __LINE__, #c);             \
      _exit(1);                                                                                    \
    }                                                                                              \
  } while (0)

// The child's work: the heap is exactly the parent's at the fork, and fully usable.
[[noreturn]] void child_main(world &w, const std::vector<obj_rec> &mine, bool exact) {
  alarm(120);  // a lock left held by a thread that does not exist here: die, do not hang
  rca_heap_t *heap = w.heap;
  rca_stats_t st;
  rca_heap_stats(heap, &st);
  std::size_t expect_live = mine.size();
  if (exact) {
    CHILD_CHECK(st.live_objects == w.at_fork.live_objects);
    CHILD_CHECK(st.live_slots == w.at_fork.live_slots);
    CHILD_CHECK(st.objects_allocated == w.at_fork.objects_allocated);
    CHILD_CHECK(st.objects_freed == w.at_fork.objects_freed);
    CHILD_CHECK(st.slots_allocated == w.at_fork.slots_allocated);
    CHILD_CHECK(st.object_bytes == w.at_fork.object_bytes);
    for (mutator *m : w.mutators) {
      expect_live += m->objs.size();
      for (const obj_rec &o : m->objs) {
        CHILD_CHECK(rca_obj_count(heap, o.obj) == o.count);
        CHILD_CHECK(get_tag(heap, o.obj) == o.tag);
      }
    }
    CHILD_CHECK(st.live_objects == expect_live);
    std::size_t page_live = 0;
    rca_heap_visit_pages(heap, tally, &page_live);
    const rca_placement_t p = rca_heap_config(heap)->placement;
    if (p != RCA_PLACEMENT_INLINE && p != RCA_PLACEMENT_EMBEDDED)
      CHILD_CHECK(page_live == st.live_slots);
  }
  for (const obj_rec &o : mine) {
    CHILD_CHECK(rca_obj_count(heap, o.obj) == o.count);
    CHILD_CHECK(get_tag(heap, o.obj) == o.tag);
  }
  // The dead threads' objects are the child's now: free them (frees into abandoned pools).
  if (exact)
    for (mutator *m : w.mutators)
      for (const obj_rec &o : m->objs) rca_obj_free(heap, o.obj);
  // Allocate and free freely.
  std::vector<void *> fresh;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 3000; ++i) {
      void *o = rca_obj_alloc(heap, rca_header_size(heap) + 16);
      CHILD_CHECK(o != nullptr);
      rca_obj_incref(heap, o);
      fresh.push_back(o);
    }
    for (void *o : fresh) {
      CHILD_CHECK(rca_obj_count(heap, o) == 2);
      CHILD_CHECK(rca_obj_decref(heap, o) == 0);
      CHILD_CHECK(rca_obj_release(heap, o) == 1);
    }
    fresh.clear();
  }
  for (const obj_rec &o : mine) rca_obj_free(heap, o.obj);
  rca_heap_stats(heap, &st);
  if (exact) {
    CHILD_CHECK(st.live_objects == 0);
    CHILD_CHECK(st.live_slots == 0);
    std::size_t page_live = 0;
    rca_heap_visit_pages(heap, tally, &page_live);
    CHILD_CHECK(page_live == 0);
  }
  _exit(0);
}

void run(const fork_config &p, bool gated, int forks) {
  register_handlers_once();
  rca_config_t cfg;
  rca_config_init(&cfg);
  cfg.placement = p.placement;
  cfg.handle_kind = p.handle_kind;
  cfg.slot_bits = p.slot_bits;
  cfg.checks = p.checks;
  world w;
  w.heap = rca_heap_new(&cfg);
  ASSERT_NE(w.heap, nullptr) << rca_last_error();
  w.gated = gated;

  // The forking thread's own objects, with counts it does not change while forking.
  std::vector<obj_rec> mine;
  for (std::uint32_t i = 0; i < 500; ++i) {
    void *o = rca_obj_alloc(w.heap, rca_header_size(w.heap) + 8);
    ASSERT_NE(o, nullptr);
    put_tag(w.heap, o, 0xf0000000u + i);
    for (std::uint32_t k = 0; k < i % 5; ++k) rca_obj_incref(w.heap, o);
    mine.push_back({o, 1 + i % 5, 0xf0000000u + i});
  }

  g_stop = false;
  g_running = 0;
  for (unsigned i = 0; i < 3; ++i) w.mutators.push_back(new mutator());
  g_world = &w;
  // Stop and join the mutators however this function leaves (a failed ASSERT returns early):
  // threads left running would go on allocating through the next test's forks.
  struct stop_mutators {
    world &w;
    ~stop_mutators() {
      g_stop = true;
      for (mutator *m : w.mutators)
        if (m->thread.joinable()) m->thread.join();
      g_world = nullptr;
    }
  } stopper{w};
  for (unsigned i = 0; i < 3; ++i)
    w.mutators[i]->thread = std::thread(mutate, w.heap, w.mutators[i], i + 1);
  while (g_running.load() < w.mutators.size())
    std::this_thread::sleep_for(std::chrono::microseconds(100));

  for (int f = 0; f < forks; ++f) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the mutators get going
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) child_main(w, mine, gated);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status))
        << "fork " << f << ": child killed by signal "
        << (WIFSIGNALED(status) ? WTERMSIG(status) : 0)
        << (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? " (SIGALRM: deadlocked)" : "");
    ASSERT_EQ(WEXITSTATUS(status), 0) << "fork " << f << ": a check failed in the child";
  }

  g_stop = true;
  for (mutator *m : w.mutators) m->thread.join();
  g_world = nullptr;
  // The parent is untouched by its children: its own objects are as it left them.
  std::size_t live = mine.size();
  for (const obj_rec &o : mine) {
    EXPECT_EQ(rca_obj_count(w.heap, o.obj), o.count);
    EXPECT_EQ(get_tag(w.heap, o.obj), o.tag);
    rca_obj_free(w.heap, o.obj);
  }
  for (mutator *m : w.mutators) {
    live += m->objs.size();
    for (const obj_rec &o : m->objs) {
      EXPECT_EQ(rca_obj_count(w.heap, o.obj), o.count);
      rca_obj_free(w.heap, o.obj);
    }
    delete m;
  }
  w.mutators.clear();  // deleted: nothing left for the stopper
  (void)live;
  rca_stats_t st;
  rca_heap_stats(w.heap, &st);
  EXPECT_EQ(st.live_objects, 0u);
  EXPECT_EQ(st.live_slots, 0u);
  rca_heap_destroy(w.heap);
}

class ForkSafety : public testing::TestWithParam<fork_config> {};

TEST_P(ForkSafety, ChildSeesTheHeapAsAtTheForkAndUsesIt) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  run(GetParam(), true, 6);
}
TEST_P(ForkSafety, ForkAnywhereNeverDeadlocks) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
#if defined(FORK_TEST_ASAN)
  // gcc 12's ASan allocator takes no lock around fork: a mutator inside malloc at the fork leaves
  // the child's malloc deadlocked in __sanitizer::SizeClassAllocator64 (seen here; rca is not on
  // that stack). The gated test above never forks with a mutator inside malloc.
  GTEST_SKIP() << "the ASan runtime's allocator is not fork-safe with other threads in malloc";
#elif defined(FORK_TEST_TSAN)
  // gcc 12's TSan runtime does not take its metadata allocators' locks around fork either: a
  // mutator inside malloc (or creating a sync object) at the fork leaves the child spinning for
  // ever in __tsan::DenseSlabAlloc<MBlock>::Refill under the next malloc (gdb on hung children,
  // 2 of 10 runs on a loaded machine, and once in CI; rca is not on that stack).
  GTEST_SKIP()
      << "the TSan runtime's metadata allocator is not fork-safe with other threads in malloc";
#endif
  // Unsanitized forks are cheap: take many, since each lands at another random point (a torn page
  // of a thread caught mid-allocation is what this test exists to meet).
  run(GetParam(), false, 40);
}

INSTANTIATE_TEST_SUITE_P(
    Placements, ForkSafety,
    testing::Values(fork_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32, 1},
                    fork_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, 64, 0},
                    fork_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32, 0},
                    fork_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX, 64, 1},
                    fork_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER, 32, 0},
                    fork_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX, 32, 1},
                    fork_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER, 64, 0}),
    name_of);

}  // namespace
