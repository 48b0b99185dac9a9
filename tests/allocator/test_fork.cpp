// Fork: the child sees the parent's counts and allocates and frees freely; a freeze in the child
// writes refcount pages only (pagemap's exclusive bit, see support/pagemap.h).
#include "support/configs.h"
#include "support/events.h"
#include "support/pagemap.h"

#include <gtest/gtest.h>

#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

struct child_report {
  long object_pages_written;
  long refcount_pages_written;
  long counts_ok;
  long frozen;
  long alloc_free_ok;
};

// Runs fn in a fork child and returns what it wrote to the pipe.
template <class Fn>
child_report in_child(Fn fn) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    child_report r = fn();
    ssize_t n = write(fds[1], &r, sizeof r);
    _exit(n == sizeof r ? 0 : 1);
  }
  close(fds[1]);
  child_report r{};
  EXPECT_EQ(read(fds[0], &r, sizeof r), static_cast<ssize_t>(sizeof r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return r;
}

class ForkTest : public ::testing::TestWithParam<rca_test::heap_case> {};

TEST_P(ForkTest, ChildReadsCountsThenAllocatesAndFrees) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(GetParam().config());
  std::vector<void *> objs;
  for (int i = 0; i < 2000; ++i) {
    objs.push_back(heap.alloc(32));
    for (int k = 0; k < i % 4; ++k) rca_obj_incref(heap.get(), objs.back());
  }
  // Another thread holds slots of its own when the fork happens (its pool must be abandoned).
  std::vector<void *> theirs;
  std::thread([&] {
    for (int i = 0; i < 100; ++i) theirs.push_back(heap.alloc(16));
  }).join();
  child_report r = in_child([&] {
    child_report c{};
    c.counts_ok = 1;
    for (int i = 0; i < 2000; ++i) c.counts_ok &= heap.count(objs[i]) == 1u + i % 4;
    std::vector<void *> mine;
    for (int i = 0; i < 5000; ++i) mine.push_back(heap.alloc(16));
    for (void *o : mine) heap.free(o);
    for (void *o : theirs) heap.free(o);
    c.alloc_free_ok = heap.stats().live_objects == 2000;
    return c;
  });
  EXPECT_EQ(r.counts_ok, 1);
  EXPECT_EQ(r.alloc_free_ok, 1);
  for (void *o : objs) heap.free(o);
  for (void *o : theirs) heap.free(o);
}

TEST_P(ForkTest, FreezeInChildWritesOnlyRefcountPages) {
  rca::config cfg = GetParam().config();
  cfg.checks(false).track_objects(GetParam().placement == RCA_PLACEMENT_INLINE);
  rca::heap heap(cfg);
  std::vector<void *> objs;
  for (int i = 0; i < 20000; ++i) objs.push_back(heap.alloc(64));
  // The pages to watch, computed before the fork so the child allocates nothing to find them.
  std::set<std::uintptr_t> obj_pages_set;
  for (void *o : objs) obj_pages_set.insert(reinterpret_cast<std::uintptr_t>(o) / 4096 * 4096);
  std::vector<std::uintptr_t> obj_pages(obj_pages_set.begin(), obj_pages_set.end());
  std::vector<std::uintptr_t> rc_pages;
  rca_heap_visit_pages(
      heap.get(),
      [](void *page, size_t, size_t, void *arg) {
        static_cast<std::vector<std::uintptr_t> *>(arg)->push_back(
            reinterpret_cast<std::uintptr_t>(page));
      },
      &rc_pages);
  child_report r = in_child([&] {
    child_report c{};
    c.frozen = heap.freeze();
    c.object_pages_written = rca_test::count_exclusive(obj_pages.data(), obj_pages.size());
    c.refcount_pages_written = rca_test::count_exclusive(rc_pages.data(), rc_pages.size());
    return c;
  });
  EXPECT_EQ(r.frozen, 20000);
  if (GetParam().placement == RCA_PLACEMENT_INLINE) {
    // Inline counts: freezing writes every object page.
    EXPECT_EQ(r.object_pages_written, static_cast<long>(obj_pages.size()));
    EXPECT_TRUE(rc_pages.empty());
  } else {
    EXPECT_EQ(r.object_pages_written, 0) << "of " << obj_pages.size() << " object pages";
    EXPECT_EQ(r.refcount_pages_written, static_cast<long>(rc_pages.size()));
    if (GetParam().computed()) {
      // 1023 blocks of 64 bytes per span, the first 64 bytes in. By span their counts take one
      // page (4 bytes each); by granule block i's count is 16 * (i + 1) bytes into the span's
      // window (one 4-byte position per 16 bytes), so a span's blocks 0..k-1 reach page
      // 16 * k / 4096 of it.
      const std::size_t full = 20000 / 1023, last = 20000 % 1023;
      const std::size_t expect =
          GetParam().address == RCA_ADDRESS_SPAN
              ? full + (last ? 1 : 0)
              : full * (16 * 1023 / 4096 + 1) + (last ? 16 * last / 4096 + 1 : 0);
      EXPECT_EQ(rc_pages.size(), expect);
    } else {
      const std::size_t per_page = GetParam().placement == RCA_PLACEMENT_PADDED ? 64 : 1024;
      EXPECT_EQ(rc_pages.size(), (20000 + per_page - 1) / per_page);
    }
  }
  for (void *o : objs) heap.free(o);
}

std::vector<rca_test::heap_case> fork_cases() {
  auto v = rca_test::out_of_line_cases();
  v.push_back({RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32, RCA_BACKEND_SYSTEM});
  for (auto a : {RCA_ADDRESS_SPAN, RCA_ADDRESS_GRANULE})
    v.push_back({RCA_PLACEMENT_COMPUTED, RCA_HANDLE_KIND_POINTER, 32, RCA_BACKEND_RCA, a});
  return v;
}

INSTANTIATE_TEST_SUITE_P(Placements, ForkTest, ::testing::ValuesIn(fork_cases()),
                         [](const auto &info) { return info.param.name(); });

}  // namespace
