// Misuse in checked configurations dies with one line that names the operation and the object
// (or its slot) and the heap: decref below zero, use after free (incref of a zero count), double
// free, a pointer that is not from this heap, an object freed through the wrong heap, a raw block
// freed as an object and the reverse, a bare slot freed twice or by the wrong heap. Every
// placement, both handle widths, both slot widths. What unchecked (release) configurations do
// instead is pinned down at the end of this file and in test_counts.cpp (RELIABILITY.md).
#include <rca/rca.h>
#include <rca/refcount.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

struct misuse_config {
  rca_placement_t placement;
  rca_handle_kind_t handle;
  unsigned slot_bits;
};

std::string name_of(const testing::TestParamInfo<misuse_config> &i) {
  return std::string(rca_placement_name(i.param.placement)) + "_" +
         rca_handle_name(i.param.handle) + "_" + std::to_string(i.param.slot_bits);
}

rca_heap_t *make(const misuse_config &p, int checks) {
  rca_config_t c;
  rca_config_init(&c);
  c.placement = p.placement;
  c.handle = p.handle;
  c.slot_bits = p.slot_bits;
  c.checks = checks;
  rca_heap_t *h = rca_heap_new(&c);
  if (!h) std::abort();
  return h;
}

bool has_pages(rca_placement_t p) {
  return p == RCA_PLACEMENT_SHARED || p == RCA_PLACEMENT_THREAD || p == RCA_PLACEMENT_PADDED;
}

// What a zero-count message names: the slot, its index and its heap when the count lives in
// refcount pages; the count's address (the object's, or 8 bytes into it) when inline/embedded.
std::string count_named(const misuse_config &p) {
  const std::string heap = std::string("heap #[0-9]+ \\(") + rca_placement_name(p.placement) + ", " +
                           rca_handle_name(p.handle) + ", " + std::to_string(p.slot_bits) + "-bit";
  return has_pages(p.placement) ? "slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " + heap
                                : std::string("count at 0x[0-9a-f]+");
}
std::string heap_named(const misuse_config &p) {
  return std::string("heap #[0-9]+ \\(") + rca_placement_name(p.placement) + ", " +
         (p.placement == RCA_PLACEMENT_INLINE ? "no handle" : rca_handle_name(p.handle)) + ", " +
         std::to_string(p.slot_bits) + "-bit";
}

class MisuseDeathTest : public testing::TestWithParam<misuse_config> {};

TEST_P(MisuseDeathTest, DecrefBelowZero) {
  const misuse_config p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        void *o = rca_obj_alloc(h, 32);
        if (rca_obj_decref(h, o) != 1) std::abort();  // zero: the owner should free it now
        rca_obj_decref(h, o);
      },
      "rca: decref below zero: " + count_named(p));
}

TEST_P(MisuseDeathTest, UseAfterFreeIncrefOfZero) {
  const misuse_config p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        void *o = rca_obj_alloc(h, 32);
        rca_obj_decref(h, o);
        rca_obj_incref(h, o);
      },
      "rca: incref of a count of zero \\(use after free\\?\\): " + count_named(p));
}

TEST_P(MisuseDeathTest, DoubleFreeOfAnObject) {
  const misuse_config p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        void *keep = rca_obj_alloc(h, 32);
        void *o = rca_obj_alloc(h, 32);
        rca_obj_free(h, o);
        rca_obj_free(h, o);
        (void)keep;
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of " + heap_named(p) +
          ".* \\(double free, or a pointer from elsewhere\\)");
}

TEST_P(MisuseDeathTest, PointerNotFromThisHeap) {
  const misuse_config p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        void *elsewhere = std::malloc(64);
        rca_obj_free(h, elsewhere);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of " + heap_named(p));
}

TEST_P(MisuseDeathTest, ObjectFreedThroughTheWrongHeap) {
  const misuse_config p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *a = make(p, 1);
        rca_heap_t *b = make(p, 1);
        void *o = rca_obj_alloc(a, 32);
        rca_obj_free(b, o);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of " + heap_named(p));
}

TEST_P(MisuseDeathTest, RawBlockAndObjectAreNotInterchangeable) {
  const misuse_config p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        rca_obj_free(h, rca_malloc(h, 32));
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is a raw block of " + heap_named(p) + ".*, not an object");
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        rca_free(h, rca_obj_alloc(h, 32));
      },
      "rca: rca_free: 0x[0-9a-f]+ is an? object of " + heap_named(p) + ".*, not a raw block");
  EXPECT_DEATH(
      {
        rca_heap_t *h = make(p, 1);
        void *r = rca_malloc(h, 32);
        rca_free(h, r);
        rca_realloc(h, r, 64);
      },
      "rca: rca_realloc: 0x[0-9a-f]+ is not a live block of " + heap_named(p));
}

// Bare slots in refcount pages (embedded bare slots live in the caller's memory: nothing to check).
class ArenaMisuseDeathTest : public testing::TestWithParam<misuse_config> {};

TEST_P(ArenaMisuseDeathTest, BareSlotFreedTwice) {
  const misuse_config p = GetParam();
  // The slot bitmap catches it with the registry off, too.
  for (const int checks : std::vector<int>{0, 1}) {
    EXPECT_DEATH(
        {
          rca_heap_t *h = make(p, checks);
          rca_handle_t keep = rca_slot_alloc(h, nullptr);
          rca_handle_t s = rca_slot_alloc(h, nullptr);
          rca_slot_free(h, s);
          rca_slot_free(h, s);
          (void)keep;
        },
        "rca: rca_slot_free: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " + heap_named(p));
  }
}

TEST_P(ArenaMisuseDeathTest, BareSlotOfAnotherHeap) {
  const misuse_config p = GetParam();
  if (p.handle == RCA_HANDLE_POINTER) {
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_heap_t *b = make(p, 0);
          rca_slot_free(b, rca_slot_alloc(a, nullptr));
        },
        "rca: rca_slot_free: 0x[0-9a-f]+ is not a slot of " + heap_named(p) +
            ".* \\(outside its refcount arena: a handle from another heap\\?\\)");
  } else {
    // An index carries no heap: one beyond this heap's arena is caught by range, one inside it
    // names a slot of this heap; that slot being free, it is reported as a double free. (When it
    // is live, the wrong slot is freed: RELIABILITY.md.)
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_slot_free(a, rca_handle_t(0xfffffff0u));
        },
        "rca: rca_slot_free: index [0-9]+ is outside " + heap_named(p) +
            ".* \\(a handle from another heap\\?\\)");
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_heap_t *b = make(p, 0);
          rca_handle_t s = rca_slot_alloc(a, nullptr);
          rca_slot_alloc(a, nullptr);
          rca_slot_free(b, s);
        },
        "rca: rca_slot_free: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " + heap_named(p));
  }
}

TEST_P(ArenaMisuseDeathTest, ObjectOfAnotherHeapWithoutTheRegistry) {
  const misuse_config p = GetParam();
  if (p.handle == RCA_HANDLE_POINTER) {  // the slot address lies outside this heap's arena
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_heap_t *b = make(p, 0);
          rca_obj_free(b, rca_obj_alloc(a, 32));
        },
        "rca: rca_obj_free: 0x[0-9a-f]+ is not a slot of " + heap_named(p) +
            ".* \\(outside its refcount arena: a handle from another heap\\?\\)");
  } else {
    // The index names a slot of this heap; here that slot is free, so it is caught as a double
    // free. (Were it live, it would be freed: index heaps need checks=1, RELIABILITY.md.)
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_heap_t *b = make(p, 0);
          rca_obj_free(b, rca_obj_alloc(a, 32));
        },
        "rca: rca_obj_free: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " + heap_named(p));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Placements, MisuseDeathTest,
    testing::Values(misuse_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_INDEX, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_INDEX, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_INDEX, 64}),
    name_of);
INSTANTIATE_TEST_SUITE_P(
    Placements, ArenaMisuseDeathTest,
    testing::Values(misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_INDEX, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_INDEX, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_INDEX, 64}),
    name_of);

// ---- the hot path's own checks: every semantics with Checked = true ---------------------------

template <class C>
class CheckedCounterDeathTest : public testing::Test {};
using CheckedCounters = testing::Types<
    rca::rc::counter<std::uint32_t, false, true, true, true>,
    rca::rc::counter<std::uint32_t, true, true, false, true>,
    rca::rc::counter<std::uint32_t, false, false, false, true>,
    rca::rc::counter<std::uint32_t, true, false, true, true>,
    rca::rc::counter<std::uint64_t, false, true, false, true>,
    rca::rc::counter<std::uint64_t, true, true, true, true>,
    rca::rc::counter<std::uint64_t, false, false, true, true>,
    rca::rc::counter<std::uint64_t, true, false, false, true>>;
TYPED_TEST_SUITE(CheckedCounterDeathTest, CheckedCounters);

TYPED_TEST(CheckedCounterDeathTest, ZeroCountMisuseAborts) {
  using C = TypeParam;
  typename C::slot s = 1;
  EXPECT_TRUE(C::decref(&s));
  // The count is not in any heap: the message names its address.
  EXPECT_DEATH(C::decref(&s), "rca: decref below zero: count at 0x[0-9a-f]+");
  EXPECT_DEATH(C::incref(&s), "rca: incref of a count of zero \\(use after free\\?\\): count at 0x[0-9a-f]+");
}

// ---- what unchecked heaps do (documented in RELIABILITY.md) -------------------------------------

TEST(UncheckedHeap, ZeroCountMisuseDiesAnywayInTheGenericPath) {
  // rca_obj_incref/decref are the tools' path and always checked, whatever the heap's checks.
  rca_config_t c;
  rca_config_init(&c);
  c.checks = 0;
  EXPECT_DEATH(
      {
        rca_heap_t *h = rca_heap_new(&c);
        void *o = rca_obj_alloc(h, 16);
        rca_obj_decref(h, o);
        rca_obj_decref(h, o);
      },
      "rca: decref below zero: slot");
}

TEST(UncheckedHeap, ForeignPointerWithoutRegistryIsReadAsAnObject) {
  // checks=0 and no registry: a pointer that is not an object is not recognised; its first bytes
  // are taken for a handle. A zero header makes a slot at the arena base (the guard page), which
  // the range check refuses: the process still dies with a message instead of corrupting memory.
  rca_config_t c;
  rca_config_init(&c);
  c.checks = 0;
  c.track_objects = 0;
  c.handle = RCA_HANDLE_INDEX;
  EXPECT_DEATH(
      {
        rca_heap_t *h = rca_heap_new(&c);
        alignas(8) unsigned char fake[32] = {};
        rca_obj_free(h, fake);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a slot of heap #[0-9]+ .* \\(outside its refcount arena");
}

}  // namespace
