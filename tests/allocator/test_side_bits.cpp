// Side bitmaps (rca_side_bits): one bit per slot position per plane, positions distinct for live
// slots, exact counts, bulk clear, clear errors; in a fork child, setting and clearing bits
// writes plane pages only, and a bulk clear of an empty plane writes none.
#include "support/configs.h"
#include "support/pagemap.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <set>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

class SideBits : public ::testing::TestWithParam<rca_test::heap_case> {};

TEST_P(SideBits, PositionsAreDistinctAndCountsExact) {
  rca::heap heap(GetParam().config());
  rca_side_bits_t sb;
  ASSERT_EQ(rca_side_bits(heap.get(), 4, &sb), 0) << rca_last_error();
  EXPECT_EQ(sb.plane[4], nullptr);
  std::vector<rca_handle_t> slots;
  for (int i = 0; i < 3000; ++i) slots.push_back(rca_slot_alloc(heap.get(), nullptr));
  std::set<std::size_t> seen;
  for (std::size_t k = 0; k < slots.size(); ++k) {
    const std::size_t pos = rca_side_position(heap.get(), slots[k]);
    EXPECT_EQ(pos, rca_side_pos_of_slot(&sb, rca_slot_ptr(heap.get(), slots[k])));
    EXPECT_LT(pos, sb.positions);
    EXPECT_TRUE(seen.insert(pos).second) << "position " << pos << " given twice";
    EXPECT_EQ(rca_side_test(&sb, 0, pos), 0) << "a fresh plane is all zero";
    rca_side_set(&sb, 0, pos);
    if (k % 3 == 0) rca_side_set(&sb, 2, pos);
  }
  EXPECT_EQ(rca_side_count(heap.get(), 0), 3000u);
  EXPECT_EQ(rca_side_count(heap.get(), 1), 0u);
  EXPECT_EQ(rca_side_count(heap.get(), 2), 1000u);
  for (std::size_t k = 0; k < slots.size(); k += 2)
    rca_side_reset(&sb, 0, rca_side_position(heap.get(), slots[k]));
  EXPECT_EQ(rca_side_count(heap.get(), 0), 1500u);
  rca_side_clear(heap.get(), 0);
  EXPECT_EQ(rca_side_count(heap.get(), 0), 0u);
  EXPECT_EQ(rca_side_count(heap.get(), 2), 1000u) << "a bulk clear leaves the other planes";
  // A second call describes the same planes.
  rca_side_bits_t again;
  ASSERT_EQ(rca_side_bits(heap.get(), 4, &again), 0);
  EXPECT_EQ(again.plane[2], sb.plane[2]);
  void *lo = nullptr, *hi = nullptr;
  rca_side_range(heap.get(), &lo, &hi);
  EXPECT_EQ(lo, static_cast<void *>(sb.plane[0]));
  EXPECT_GE(static_cast<char *>(hi), reinterpret_cast<char *>(sb.plane[3] + sb.positions / 64));
  for (rca_handle_t h : slots) rca_slot_free(heap.get(), h);
}

TEST_P(SideBits, ChildSetsBitsWithoutWritingObjectPagesAndClearsEmptyPlanesWithoutWriting) {
  rca::config cfg = GetParam().config();
  cfg.checks(false);
  rca::heap heap(cfg);
  rca_side_bits_t sb;
  ASSERT_EQ(rca_side_bits(heap.get(), 2, &sb), 0);
  std::vector<void *> objs;
  for (int i = 0; i < 20000; ++i) objs.push_back(heap.alloc(64));
  std::set<std::uintptr_t> page_set, side_set;
  std::vector<std::size_t> pos;
  for (void *o : objs) {
    page_set.insert(reinterpret_cast<std::uintptr_t>(o) / 4096 * 4096);
    pos.push_back(rca_side_pos_of_slot(&sb, rca_obj_slot(heap.get(), o)));
    side_set.insert(reinterpret_cast<std::uintptr_t>(&sb.plane[0][pos.back() / 64]) / 4096 * 4096);
  }
  std::vector<std::uintptr_t> obj_pages(page_set.begin(), page_set.end());
  std::vector<std::uintptr_t> side_pages(side_set.begin(), side_set.end());
  // Every page of both planes up to the arena's high-water mark, read (present) before the fork.
  void *lo = nullptr, *hi = nullptr;
  rca_side_range(heap.get(), &lo, &hi);
  EXPECT_EQ(rca_side_count(heap.get(), 1), 0u);
  struct report {
    long obj_written, side_written, plane1_written;
  } r{};
  std::vector<std::uintptr_t> plane1_pages;
  for (std::uintptr_t p : side_pages)
    plane1_pages.push_back(p + (reinterpret_cast<std::uintptr_t>(sb.plane[1]) -
                                reinterpret_cast<std::uintptr_t>(sb.plane[0])));
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  if (pid == 0) {
    report c{};
    for (std::size_t p : pos) rca_side_set(&sb, 0, p);  // a mark over every object
    rca_side_clear(heap.get(), 0);
    rca_side_clear(heap.get(), 1);  // all zero: must write nothing
    c.obj_written = rca_test::count_exclusive(obj_pages.data(), obj_pages.size());
    c.side_written = rca_test::count_exclusive(side_pages.data(), side_pages.size());
    c.plane1_written = rca_test::count_exclusive(plane1_pages.data(), plane1_pages.size());
    _exit(write(fds[1], &c, sizeof c) == sizeof c ? 0 : 1);
  }
  close(fds[1]);
  ASSERT_EQ(read(fds[0], &r, sizeof r), static_cast<ssize_t>(sizeof r));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(r.obj_written, 0) << "of " << obj_pages.size() << " object pages";
  // Pages of plane 0 that held a mark were written: new pages (no copy) or copies, both exclusive.
  EXPECT_EQ(r.side_written, static_cast<long>(side_pages.size()));
  EXPECT_LE(r.plane1_written, 0) << "a bulk clear of an empty plane wrote it";
  EXPECT_EQ(rca_side_count(heap.get(), 0), 0u) << "the child's marks stay in the child";
  for (void *o : objs) heap.free(o);
}

INSTANTIATE_TEST_SUITE_P(Placements, SideBits, ::testing::ValuesIn(rca_test::out_of_line_cases()),
                         [](const auto &info) { return info.param.name(); });

TEST(SideBitsErrors, NoRefcountPagesAndBadPlaneCounts) {
  rca::config inl;
  inl.placement(RCA_PLACEMENT_INLINE).track_objects(false);
  rca::heap heap(inl);
  rca_side_bits_t sb;
  errno = 0;
  EXPECT_EQ(rca_side_bits(heap.get(), 2, &sb), -1);
  EXPECT_EQ(errno, ENOTSUP);
  EXPECT_NE(std::string(rca_last_error()).find("no slots"), std::string::npos) << rca_last_error();
  EXPECT_EQ(rca_side_count(heap.get(), 0), 0u);
  void *lo = &sb, *hi = &sb;
  rca_side_range(heap.get(), &lo, &hi);
  EXPECT_EQ(lo, nullptr);
  EXPECT_EQ(hi, nullptr);

  rca::heap shared(rca::config().placement(RCA_PLACEMENT_SHARED));
  EXPECT_EQ(rca_side_bits(shared.get(), 0, &sb), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_EQ(rca_side_bits(shared.get(), RCA_SIDE_PLANES_MAX + 1, &sb), -1);
  EXPECT_EQ(errno, EINVAL);
  ASSERT_EQ(rca_side_bits(shared.get(), 2, &sb), 0);
  EXPECT_EQ(rca_side_bits(shared.get(), 3, &sb), -1) << "a second call asks for another count";
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(std::string(rca_last_error()).find("as many as the first call"), std::string::npos);
}

}  // namespace
