// White-box fork test: a thread that does not survive a fork may have stopped between two stores
// of its pool's list or slot bookkeeping. Such a state is built here by hand (the thread is parked,
// its pool edited the way an interrupted operation leaves it), then the process forks: the child
// must get every page of the dead thread back once the objects on it are freed.
#include "internal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "support/events.h"

namespace {

using rca::detail::page_desc;
using rca::detail::pool;

// In the child: no gtest; a failed check exits with its line.
#define CHILD_CHECK(cond)                                                                          \
  do {                                                                                             \
    if (!(cond)) _exit(__LINE__ % 250 + 1);                                                        \
  } while (0)

TEST(ForkChildInternals, PagesOfADeadThreadWithTornBookkeepingAllComeBack) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca_config_t cfg;
  rca_config_init(&cfg);
  cfg.placement = RCA_PLACEMENT_THREAD;
  cfg.handle_kind = RCA_HANDLE_KIND_POINTER;
  cfg.slot_bits = 32;
  cfg.checks = 0;
  rca_heap_t *heap = rca_heap_new(&cfg);
  ASSERT_NE(heap, nullptr) << rca_last_error();
  const std::size_t per_page = rca::detail::kPageSize / 4;

  // The mutator fills three pages exactly, so they all sit in its pool's full list, then parks.
  std::vector<void *> objs;
  std::atomic<int> phase{0};
  std::thread mutator([&] {
    for (std::size_t i = 0; i < 3 * per_page; ++i) objs.push_back(rca_obj_alloc(heap, 16));
    phase.store(1, std::memory_order_release);
    while (phase.load(std::memory_order_acquire) != 2) std::this_thread::yield();
    for (void *o : objs) rca_obj_free(heap, o);
  });
  while (phase.load(std::memory_order_acquire) != 1) std::this_thread::yield();
  for (void *o : objs) ASSERT_NE(o, nullptr);

  ASSERT_EQ(heap->pools.size(), 1u);
  pool *p = heap->pools[0];
  ASSERT_EQ(p->full.count, 3u);
  ASSERT_EQ(p->avail.head, nullptr);
  page_desc *first = p->full.head;
  page_desc *second = first->next;
  ASSERT_NE(second, nullptr);
  // Torn remove: `full.remove(first)` stopped after its first store (the head moved on, the next
  // page still points back at it).
  p->full.head = second;
  // Torn take: a slot of the second page taken from the bitmap, `used` not yet bumped.
  second->used -= 1;

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(60);
    rca_stats_t st;
    rca_heap_stats(heap, &st);
    CHILD_CHECK(st.live_objects == 3 * per_page);
    CHILD_CHECK(st.refcount_pages == 3);
    for (void *o : objs) rca_obj_free(heap, o);
    rca_heap_stats(heap, &st);
    CHILD_CHECK(st.live_objects == 0);
    CHILD_CHECK(st.live_slots == 0);
    CHILD_CHECK(st.refcount_pages == 0);  // each of the dead thread's pages came back
    std::vector<void *> mine;
    for (std::size_t i = 0; i < 2 * per_page; ++i) {
      mine.push_back(rca_obj_alloc(heap, 16));
      CHILD_CHECK(mine.back() != nullptr);
    }
    for (void *o : mine) rca_obj_free(heap, o);
    rca_heap_stats(heap, &st);
    CHILD_CHECK(st.live_slots == 0);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  // Put the parent's bookkeeping back as the interrupted operations would have left it.
  p->full.head = first;
  second->used += 1;
  phase.store(2, std::memory_order_release);
  mutator.join();
  EXPECT_TRUE(WIFEXITED(status)) << "child killed by signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "a check failed in the child (exit code = line % 250 + 1)";
  rca_stats_t st;
  rca_heap_stats(heap, &st);
  EXPECT_EQ(st.live_slots, 0u);
  rca_heap_destroy(heap);
}

}  // namespace
