// rca_slot_alloc_batch and rca_slot_free_batch: the same slots, counts and accounting as one call
// per slot (checked against a twin heap that takes single calls), the same checks on bad input,
// and a clear refusal on heaps without slots.
#include "support/configs.h"
#include "support/events.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>
#include <thread>
#include <vector>

namespace {

// Handles as offsets from the heap's slot base, so that two heaps' handles compare.
std::vector<std::uintptr_t> positions(const rca::heap &heap, const std::vector<rca_handle_t> &hs) {
  const auto base = reinterpret_cast<std::uintptr_t>(heap.slot_base());
  std::vector<std::uintptr_t> v;
  for (rca_handle_t h : hs) v.push_back(reinterpret_cast<std::uintptr_t>(heap.slot_ptr(h)) - base);
  return v;
}

void expect_same_accounting(const rca::heap &batch, const rca::heap &single, const char *when) {
  const rca::stats b = batch.stats(), s = single.stats();
  EXPECT_EQ(b.live_slots, s.live_slots) << when;
  EXPECT_EQ(b.slots_allocated, s.slots_allocated) << when;
  EXPECT_EQ(b.slots_freed, s.slots_freed) << when;
  EXPECT_EQ(b.refcount_pages, s.refcount_pages) << when;
  EXPECT_EQ(b.refcount_pages_peak, s.refcount_pages_peak) << when;
  EXPECT_EQ(b.slot_bytes, s.slot_bytes) << when;
}

std::uint64_t count_at(const rca::heap &heap, rca_handle_t h) {
  void *slot = heap.slot_ptr(h);
  if (heap.cfg().slot_bits == 32) return *static_cast<std::uint32_t *>(slot);
  return *static_cast<std::uint64_t *>(slot);
}

std::vector<rca_test::heap_case> arena_cases() {
  std::vector<rca_test::heap_case> v = rca_test::out_of_line_cases();
  for (auto p : {RCA_PLACEMENT_SHARED, RCA_PLACEMENT_THREAD, RCA_PLACEMENT_PADDED})
    v.push_back({p, RCA_HANDLE_KIND_INDEX, 64, RCA_BACKEND_SYSTEM});
  return v;
}

class SlotBatch : public ::testing::TestWithParam<rca_test::heap_case> {};

// Across several pages, with frees that leave holes in them: every step leaves the batch heap as
// the twin that took one call per slot left its own.
TEST_P(SlotBatch, SameSlotsAndAccountingAsSingleCalls) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap batch(GetParam().config()), single(GetParam().config());
  const std::size_t n = GetParam().placement == RCA_PLACEMENT_PADDED ? 300 : 3000;

  std::vector<rca_handle_t> b(n), s(n);
  ASSERT_EQ(batch.slot_alloc_batch(b), n);
  for (auto &h : s) h = single.slot_alloc();
  EXPECT_EQ(positions(batch, b), positions(single, s));
  EXPECT_EQ(std::set<rca_handle_t>(b.begin(), b.end()).size(), n) << "every handle once";
  for (rca_handle_t h : b) ASSERT_EQ(count_at(batch, h), 1u);
  expect_same_accounting(batch, single, "after taking");

  // Free every third slot in a shuffled order (the batch crosses pages back and forth).
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n; i += 3) order.push_back(i);
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  std::vector<rca_handle_t> bf, sf;
  for (std::size_t i : order) {
    bf.push_back(b[i]);
    sf.push_back(s[i]);
  }
  batch.slot_free_batch(bf);
  for (rca_handle_t h : sf) single.slot_free(h);
  expect_same_accounting(batch, single, "after freeing a third");

  // The holes are refilled the same way, and the batch goes on onto fresh pages.
  const std::size_t more = order.size() + n / 2;
  std::vector<rca_handle_t> b2(more), s2(more);
  ASSERT_EQ(batch.slot_alloc_batch(b2), more);
  for (auto &h : s2) h = single.slot_alloc();
  EXPECT_EQ(positions(batch, b2), positions(single, s2));
  expect_same_accounting(batch, single, "after refilling");

  // Everything back: no slot and no page left (single frees on the batch heap, batch frees of
  // the rest: the two kinds mix).
  std::vector<rca_handle_t> live_b, live_s;
  for (std::size_t i = 0; i < n; ++i)
    if (i % 3 != 0) {
      live_b.push_back(b[i]);
      live_s.push_back(s[i]);
    }
  live_b.insert(live_b.end(), b2.begin(), b2.end());
  live_s.insert(live_s.end(), s2.begin(), s2.end());
  for (std::size_t i = 0; i < 10; ++i) batch.slot_free(live_b[i]);
  batch.slot_free_batch(std::span<const rca_handle_t>(live_b).subspan(10));
  for (rca_handle_t h : live_s) single.slot_free(h);
  expect_same_accounting(batch, single, "after freeing all");
  EXPECT_EQ(batch.stats().live_slots, 0u);
}

TEST_P(SlotBatch, EmptyBatchesDoNothing) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(GetParam().config());
  errno = 0;
  EXPECT_EQ(rca_slot_alloc_batch(heap.get(), nullptr, 0, nullptr), 0u);
  EXPECT_EQ(errno, 0);
  rca_slot_free_batch(heap.get(), nullptr, 0);
  EXPECT_EQ(heap.stats().slots_allocated, 0u);
  EXPECT_EQ(heap.stats().refcount_pages, 0u);
}

TEST_P(SlotBatch, ExhaustionGivesWhatIsLeftWithEnomemAndRecovers) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::config c = GetParam().config();
  c.arena_limit(2 * 4096);  // two refcount pages
  rca::heap heap(c);
  const std::size_t per_page =
      4096 / (GetParam().placement == RCA_PLACEMENT_PADDED ? 64 : GetParam().slot_bits / 8);
  std::vector<rca_handle_t> first(per_page + 5);
  ASSERT_EQ(heap.slot_alloc_batch(first), per_page + 5);
  std::vector<rca_handle_t> rest(per_page);
  errno = 0;
  EXPECT_EQ(heap.slot_alloc_batch(rest), per_page - 5) << "what the arena had";
  EXPECT_EQ(errno, ENOMEM);
  EXPECT_NE(std::strstr(rca_last_error(), "refcount arena exhausted"), nullptr) << rca_last_error();
  EXPECT_EQ(heap.stats().live_slots, 2 * per_page) << "every slot handed out is counted";
  EXPECT_EQ(heap.slot_alloc(), 0u);
  heap.slot_free_batch(std::span<const rca_handle_t>(first).first(3));
  std::vector<rca_handle_t> again(3);
  EXPECT_EQ(heap.slot_alloc_batch(again), 3u) << "works again after frees";
  heap.slot_free_batch(again);
  heap.slot_free_batch(std::span<const rca_handle_t>(first).subspan(3));
  heap.slot_free_batch(std::span<const rca_handle_t>(rest).first(per_page - 5));
  EXPECT_EQ(heap.stats().live_slots, 0u);
  EXPECT_EQ(heap.stats().refcount_pages, 1u) << "the pool keeps its last page with room";
}

// Objects' slots and bare slots from batches share the pages; an object's slot is never taken by
// a batch, and a batch's slot is never an object's.
TEST_P(SlotBatch, ObjectsAndBatchesShareThePages) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(GetParam().config());
  std::vector<void *> objs;
  for (int i = 0; i < 100; ++i) objs.push_back(heap.alloc(32));
  for (int i = 0; i < 100; i += 2) heap.free(objs[i]);
  std::vector<rca_handle_t> hs(500);
  ASSERT_EQ(heap.slot_alloc_batch(hs), 500u);
  std::set<void *> slots;
  for (rca_handle_t h : hs) slots.insert(heap.slot_ptr(h));
  for (int i = 1; i < 100; i += 2) EXPECT_EQ(slots.count(heap.slot_of(objs[i])), 0u);
  EXPECT_EQ(heap.stats().live_slots, 550u);
  heap.slot_free_batch(hs);
  for (int i = 1; i < 100; i += 2) heap.free(objs[i]);
  EXPECT_EQ(heap.stats().live_slots, 0u);
}

INSTANTIATE_TEST_SUITE_P(OutOfLine, SlotBatch, ::testing::ValuesIn(arena_cases()),
                         [](const auto &info) { return info.param.name(); });

// Thread placement: a batch freed by a thread that does not own the slots' pages goes through the
// remote path one by one, and the owner gets the slots back.
TEST(SlotBatchThreads, BatchOfAnotherThreadsSlotsIsFreedRemotely) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_THREAD).handle_kind(RCA_HANDLE_KIND_INDEX));
  std::vector<rca_handle_t> hs(2500);
  std::size_t got = 0;
  std::thread([&] { got = heap.slot_alloc_batch(hs); }).join();
  ASSERT_EQ(got, hs.size());
  // Mine and theirs mixed in one batch.
  std::vector<rca_handle_t> own(300);
  ASSERT_EQ(heap.slot_alloc_batch(own), own.size());
  std::vector<rca_handle_t> mixed(hs);
  mixed.insert(mixed.begin() + 1000, own.begin(), own.end());
  heap.slot_free_batch(mixed);
  EXPECT_EQ(heap.stats().live_slots, 0u);
  EXPECT_EQ(heap.stats().slots_freed, 2800u);
  EXPECT_EQ(heap.stats().refcount_pages, 1u) << "the exited thread's pages went back; mine stays";
}

TEST(SlotBatchEmbedded, TakesTheCallersSlots) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  rca::heap heap(rca::config().placement(RCA_PLACEMENT_EMBEDDED).checks(true));
  std::uint64_t storage[4] = {7, 7, 7, 7};
  void *slots[4] = {&storage[0], &storage[1], &storage[2], &storage[3]};
  rca_handle_t hs[4];
  ASSERT_EQ(heap.slot_alloc_batch(hs, slots), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(heap.slot_ptr(hs[i]), slots[i]);
    EXPECT_EQ(*static_cast<std::uint32_t *>(slots[i]), 1u);
  }
  EXPECT_EQ(heap.stats().live_slots, 4u);
  heap.slot_free_batch(hs);
  EXPECT_EQ(heap.stats().live_slots, 0u);
  EXPECT_EQ(heap.stats().slots_freed, 4u);

  void *with_null[2] = {&storage[0], nullptr};
  errno = 0;
  EXPECT_EQ(heap.slot_alloc_batch(std::span<rca_handle_t>(hs, 2), with_null), 0u);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_STREQ(rca_last_error(),
               "rca_slot_alloc_batch: an embedded heap needs the slot inside each object "
               "(embedded_slots[1] is null)");
  EXPECT_EQ(heap.slot_alloc_batch(std::span<rca_handle_t>(hs, 2)), 0u);
  EXPECT_EQ(heap.stats().live_slots, 0u) << "a refused batch takes nothing";
}

TEST(SlotBatchNoSlots, InlineAndComputedHeapsRefuseBatches) {
  rca::heap in(rca::config().placement(RCA_PLACEMENT_INLINE));
  rca_handle_t hs[8];
  errno = 0;
  EXPECT_EQ(in.slot_alloc_batch(hs), 0u);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_STREQ(rca_last_error(),
               "rca_slot_alloc_batch: an inline heap has no slots (the count is the header)");
  rca::heap computed(rca::config().placement(RCA_PLACEMENT_COMPUTED));
  errno = 0;
  EXPECT_EQ(computed.slot_alloc_batch(hs), 0u);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(std::strstr(rca_last_error(), "rca_slot_alloc_batch: a computed heap has no slots"),
            nullptr)
      << rca_last_error();
}

TEST(SlotBatchDeathTest, FreeOnAHeapWithoutSlots) {
  for (auto p : {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_COMPUTED})
    EXPECT_DEATH(
        {
          rca::heap heap(rca::config().placement(p));
          rca_slot_free_batch(heap.get(), nullptr, 0);
        },
        "rca: rca_slot_free_batch: 0 handles given to heap #[0-9]+ \\(.*\\), which has no slots")
        << rca_placement_name(p);
}

// A batch from handles (a braced list's commas would split a death test's macro arguments).
template <class... H>
std::vector<rca_handle_t> batch_of(H... h) {
  return {rca_handle_t(h)...};
}

rca::config unchecked(rca_placement_t p, rca_handle_kind_t h = RCA_HANDLE_KIND_POINTER) {
  // Checks off: what catches misuse is the slot bitmap and the object tags, as for rca_slot_free.
  return rca::config().placement(p).handle_kind(h).checks(false).track_objects(false);
}

TEST(SlotBatchDeathTest, AHandleTwiceInOneBatch) {
  for (auto p : {RCA_PLACEMENT_SHARED, RCA_PLACEMENT_THREAD, RCA_PLACEMENT_PADDED})
    EXPECT_DEATH(
        {
          rca::heap heap(unchecked(p, RCA_HANDLE_KIND_INDEX));
          rca_handle_t hs[4];
          heap.slot_alloc_batch(hs);
          heap.slot_free_batch(batch_of(hs[0], hs[1], hs[2], hs[1]));
        },
        "rca: rca_slot_free_batch: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of heap "
        "#[0-9]+ \\(")
        << rca_placement_name(p);
}

TEST(SlotBatchDeathTest, AHandleFreedBefore) {
  EXPECT_DEATH(
      {
        rca::heap heap(unchecked(RCA_PLACEMENT_SHARED));
        rca_handle_t hs[3];
        heap.slot_alloc_batch(hs);
        heap.slot_free(hs[2]);
        heap.slot_free_batch(hs);
      },
      "rca: rca_slot_free_batch: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of heap "
      "#[0-9]+ \\(shared");
}

TEST(SlotBatchDeathTest, AnObjectsSlot) {
  EXPECT_DEATH(
      {
        rca::heap heap(unchecked(RCA_PLACEMENT_SHARED));
        void *obj = heap.alloc(16);
        rca_handle_t hs[2];
        heap.slot_alloc_batch(hs);
        heap.slot_free_batch(batch_of(hs[0], reinterpret_cast<rca_handle_t>(heap.slot_of(obj))));
      },
      "rca: rca_slot_free_batch: slot 0x[0-9a-f]+ of heap #[0-9]+ \\(.*\\) is an object's \\(free "
      "the object with rca_obj_free\\)");
}

TEST(SlotBatchDeathTest, HandlesFromAnotherHeap) {
  EXPECT_DEATH(
      {
        rca::heap a(unchecked(RCA_PLACEMENT_SHARED));
        rca::heap b(unchecked(RCA_PLACEMENT_SHARED));
        rca_handle_t mine[2];
        rca_handle_t theirs[1];
        b.slot_alloc_batch(mine);
        a.slot_alloc_batch(theirs);
        b.slot_free_batch(batch_of(mine[0], theirs[0], mine[1]));
      },
      "rca: rca_slot_free_batch: 0x[0-9a-f]+ is not a slot of heap #[0-9]+ \\(.*\\) \\(outside "
      "its refcount arena: a handle from another heap\\?\\)");
  EXPECT_DEATH(
      {
        rca::heap a(unchecked(RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX));
        rca_handle_t hs[2];
        a.slot_alloc_batch(hs);
        a.slot_free_batch(batch_of(hs[0], rca_handle_t(1) << 31, hs[1]));
      },
      "rca: rca_slot_free_batch: index [0-9]+ is outside heap #[0-9]+ .* \\(a handle from another "
      "heap\\?\\)");
  EXPECT_DEATH(
      {
        rca::heap a(unchecked(RCA_PLACEMENT_PADDED));
        rca_handle_t hs[1];
        a.slot_alloc_batch(hs);
        a.slot_free_batch(batch_of(hs[0] + 4));
      },
      "rca: rca_slot_free_batch: 0x[0-9a-f]+ is not a slot of heap #[0-9]+ \\(.*\\) "
      "\\(misaligned\\)");
}

TEST(SlotBatchDeathTest, NullArray) {
  EXPECT_DEATH(
      {
        rca::heap heap(unchecked(RCA_PLACEMENT_SHARED));
        rca_slot_free_batch(heap.get(), nullptr, 3);
      },
      "rca: rca_slot_free_batch: 3 handles given to heap #[0-9]+ \\(.*\\) in a null array");
  rca::heap heap(unchecked(RCA_PLACEMENT_SHARED));
  errno = 0;
  EXPECT_EQ(rca_slot_alloc_batch(heap.get(), nullptr, 3, nullptr), 0u);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_STREQ(rca_last_error(), "rca_slot_alloc_batch: no array for the 3 handles (out is null)");
}

TEST(SlotBatchDeathTest, EmbeddedHandlesFreedTwice) {
  EXPECT_DEATH(
      {
        rca::heap heap(rca::config().placement(RCA_PLACEMENT_EMBEDDED).checks(true));
        std::uint64_t storage[2];
        void *slots[2];
        slots[0] = &storage[0];
        slots[1] = &storage[1];
        rca_handle_t hs[2];
        heap.slot_alloc_batch(hs, slots);
        heap.slot_free_batch(batch_of(hs[0], hs[1], hs[0]));
      },
      "rca: rca_slot_free_batch: 0x[0-9a-f]+ is not a live slot of heap #[0-9]+ \\(.*\\) "
      "\\(double free");
  EXPECT_DEATH(
      {
        rca::heap heap(rca::config().placement(RCA_PLACEMENT_EMBEDDED));
        heap.slot_free_batch(batch_of(0));
      },
      "rca: rca_slot_free_batch: null handle given to heap #[0-9]+");
}

}  // namespace
