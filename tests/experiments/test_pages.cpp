// Page accounting: a fork child writes k object pages and m refcount pages; the harness must
// report exactly k and m (pagemap bit 56, docs/DESIGN.md section 7).
#include "harness/pages.hpp"
#include "rcalab/objects.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>
#include <set>

namespace rca::lab {
namespace {

struct region {
  explicit region(std::size_t pages) : bytes(pages * page_size()) {
    p = static_cast<char *>(
        mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) throw std::runtime_error("mmap");
    std::memset(p, 1, bytes);  // present in the parent before fork
  }
  ~region() { munmap(p, bytes); }
  char *p;
  std::size_t bytes;
};

class LabPages : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(LabPages, SyntheticHeapAttributesPagesExactly) {
  const auto [k, m] = GetParam();
  region objects(40), refcounts(24);
  page_set op, rp;
  op.add(objects.p, objects.bytes);
  rp.add(refcounts.p, refcounts.bytes);
  op.finish();
  rp.finish();
  const std::size_t ps = page_size();
  page_report r = account_writes(op, rp, [&, k = k, m = m] {
    volatile char sink = 0;
    for (std::size_t i = 0; i < objects.bytes; i += ps) sink = sink + objects.p[i];  // read all
    for (std::size_t i = 0; i < refcounts.bytes; i += ps) sink = sink + refcounts.p[i];
    for (int i = 0; i < k; ++i)
      objects.p[static_cast<std::size_t>(3 * i + 1) * ps + 17] = 2;  // spread out
    for (int i = 0; i < m; ++i) refcounts.p[static_cast<std::size_t>(2 * i) * ps] = 2;
  });
  EXPECT_EQ(r.object_pages, 40u);
  EXPECT_EQ(r.refcount_pages, 24u);
  EXPECT_EQ(r.exclusive_before, 0u);
  EXPECT_EQ(r.object_private, static_cast<std::uint64_t>(k));
  EXPECT_EQ(r.refcount_private, static_cast<std::uint64_t>(m));
}

INSTANTIATE_TEST_SUITE_P(Counts, LabPages,
                         ::testing::Values(std::pair{0, 0}, std::pair{5, 3}, std::pair{13, 0},
                                           std::pair{0, 11}, std::pair{1, 12}));

// With a real heap: increfs in the child dirty exactly the refcount pages holding the touched
// slots (shared placement) and no object page.
TEST(LabPagesHeap, SharedSlotsDirtyOnlyRefcountPages) {
  layout l{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32};
  population pop(l, 4096, 64);
  const std::size_t touched = 700;
  std::set<std::uintptr_t> slot_pages;
  for (std::size_t i = 0; i < touched; ++i)
    slot_pages.insert(reinterpret_cast<std::uintptr_t>(pop.heap.slot_of(pop.objs[i])) /
                      page_size());
  page_report r = account_writes(pop.object_pages(), pop.refcount_pages(), [&] {
    for (std::size_t i = 0; i < touched; ++i) {
      auto *s =
          slot_of<std::uint32_t, rca::rc::pointer_handle<std::uint32_t>>(pop.objs[i], nullptr);
      plain_rc<std::uint32_t>::incref(s);
    }
  });
  EXPECT_EQ(r.object_private, 0u);
  EXPECT_EQ(r.refcount_private, slot_pages.size());
}

TEST(LabPagesHeap, InlineCountsDirtyTheObjectPages) {
  layout l{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32};
  population pop(l, 2048, 64);
  std::set<std::uintptr_t> pages;
  for (std::size_t i = 0; i < 300; ++i)
    pages.insert(reinterpret_cast<std::uintptr_t>(pop.objs[i]) / page_size());
  page_report r = account_writes(pop.object_pages(), pop.refcount_pages(), [&] {
    for (std::size_t i = 0; i < 300; ++i)
      plain_rc<std::uint32_t>::incref(static_cast<std::uint32_t *>(pop.objs[i]));
  });
  EXPECT_EQ(r.object_private, pages.size());
  EXPECT_EQ(r.refcount_private, 0u);
}

TEST(LabPagesProbe, ProbesSayWhatTheyFound) {
  EXPECT_FALSE(probe_soft_dirty().empty());
  EXPECT_FALSE(probe_pagemap_scan().empty());
  EXPECT_EQ(probe_pagemap_exclusive(), "works");
}

}  // namespace
}  // namespace rca::lab
