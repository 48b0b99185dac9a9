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

#include "support/events.h"

namespace {

struct misuse_config {
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
  unsigned slot_bits;
};

std::string name_of(const testing::TestParamInfo<misuse_config> &i) {
  return std::string(rca_placement_name(i.param.placement)) + "_" +
         rca_handle_kind_name(i.param.handle_kind) + "_" + std::to_string(i.param.slot_bits);
}

rca_heap_t *make(const misuse_config &p, int checks) {
  rca_config_t c;
  rca_config_init(&c);
  c.placement = p.placement;
  c.handle_kind = p.handle_kind;
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
  const std::string heap = std::string("heap #[0-9]+ \\(") + rca_placement_name(p.placement) +
                           ", " + rca_handle_kind_name(p.handle_kind) + ", " +
                           std::to_string(p.slot_bits) + "-bit";
  return has_pages(p.placement) ? "slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " + heap
                                : std::string("count at 0x[0-9a-f]+");
}
std::string heap_named(const misuse_config &p) {
  return std::string("heap #[0-9]+ \\(") + rca_placement_name(p.placement) + ", " +
         (p.placement == RCA_PLACEMENT_INLINE ? "no handle" : rca_handle_kind_name(p.handle_kind)) +
         ", " + std::to_string(p.slot_bits) + "-bit";
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
        "rca: rca_slot_free: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " +
            heap_named(p));
  }
}

TEST_P(ArenaMisuseDeathTest, BareSlotOfAnotherHeap) {
  const misuse_config p = GetParam();
  if (p.handle_kind == RCA_HANDLE_KIND_POINTER) {
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
        "rca: rca_slot_free: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of " +
            heap_named(p));
  }
}

TEST_P(ArenaMisuseDeathTest, ObjectOfAnotherHeapWithoutTheRegistry) {
  const misuse_config p = GetParam();
  if (p.handle_kind ==
      RCA_HANDLE_KIND_POINTER) {  // the slot address lies outside this heap's arena
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_heap_t *b = make(p, 0);
          rca_obj_free(b, rca_obj_alloc(a, 32));
        },
        "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of " + heap_named(p) +
            ".* \\(its header names no slot of this heap: an object of another heap");
  } else {
    // The index names a slot of this heap; here that slot is free (ReleaseDefaultsDeathTest
    // covers a live one: the object tag tells them apart).
    EXPECT_DEATH(
        {
          rca_heap_t *a = make(p, 0);
          rca_heap_t *b = make(p, 0);
          rca_obj_free(b, rca_obj_alloc(a, 32));
        },
        "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of " + heap_named(p) +
            ".* \\(its slot is free: freed already, or not an object");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Placements, MisuseDeathTest,
    testing::Values(misuse_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_INDEX, 64}),
    name_of);
INSTANTIATE_TEST_SUITE_P(
    Placements, ArenaMisuseDeathTest,
    testing::Values(misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER, 64},
                    misuse_config{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER, 32},
                    misuse_config{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_INDEX, 64}),
    name_of);

// ---- the hot path's own checks: every semantics with Checked = true ---------------------------

template <class C>
class CheckedCounterDeathTest : public testing::Test {};
using CheckedCounters = testing::Types<rca::rc::counter<std::uint32_t, false, true, true, true>,
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
  EXPECT_DEATH(C::incref(&s),
               "rca: incref of a count of zero \\(use after free\\?\\): count at 0x[0-9a-f]+");
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
  c.handle_kind = RCA_HANDLE_KIND_INDEX;
  EXPECT_DEATH(
      {
        rca_heap_t *h = rca_heap_new(&c);
        alignas(8) unsigned char fake[32] = {};
        rca_obj_free(h, fake);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ .* \\(its header names "
      "no slot of this heap");
}

// ---- release defaults (checks off, no registry for arena placements): issue 10 ------------------

rca_heap_t *make_default(rca_placement_t placement, rca_handle_kind_t handle_kind,
                         rca_backend_t backend) {
  rca_config_t c;
  rca_config_init(&c);
  c.placement = placement;
  c.handle_kind = handle_kind;
  c.backend = backend;
  c.checks = 0;  // the release default, in every build of the library
  rca_heap_t *h = rca_heap_new(&c);
  if (!h) std::abort();
  return h;
}

// jemalloc keeps a freed small object's bytes as they were (its free lists are bitmaps), so the
// header of a freed object still names its old slot: the case where only the slot's object tag
// can tell. The system malloc writes its free-list link over the header. Reading freed jemalloc
// memory is also invisible to ASan (the tests run under it).
bool have_jemalloc() { return rca_backend_available(RCA_BACKEND_JEMALLOC) != 0; }

struct arena_case {
  rca_placement_t placement;
  rca_handle_kind_t handle_kind;
};
std::string arena_case_name(const testing::TestParamInfo<arena_case> &i) {
  return std::string(rca_placement_name(i.param.placement)) + "_" +
         rca_handle_kind_name(i.param.handle_kind);
}
class ReleaseDefaultsDeathTest : public testing::TestWithParam<arena_case> {};

// Defect 10: a double free whose slot had gone to another object released that object's slot
// (two live objects then shared one).
TEST_P(ReleaseDefaultsDeathTest, DoubleFreeAfterTheSlotWasReusedIsCaught) {
  if (!have_jemalloc()) GTEST_SKIP() << "jemalloc backend not built in";
  const arena_case p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *h = make_default(p.placement, p.handle_kind, RCA_BACKEND_JEMALLOC);
        void *a = rca_obj_alloc(h, 32);
        rca_obj_free(h, a);
        void *b = rca_obj_alloc(h, 256);  // another size class: other memory, a's old slot
        if (b == a || rca_obj_slot(h, b) != rca_obj_slot(h, a)) std::abort();
        rca_obj_free(h, a);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ \\(" +
          std::string(rca_placement_name(p.placement)) +
          ".*\\(its slot is another object's: freed already and the slot reused");
}

// Defect 10: an index names a slot in any index heap; freeing heap a's object through heap b
// released b's live slot (live_objects 1 -> 0).
TEST_P(ReleaseDefaultsDeathTest, ObjectOfAnotherHeapIsCaught) {
  const arena_case p = GetParam();
  EXPECT_DEATH(
      {
        rca_heap_t *a = make_default(p.placement, p.handle_kind, RCA_BACKEND_SYSTEM);
        rca_heap_t *b = make_default(p.placement, p.handle_kind, RCA_BACKEND_SYSTEM);
        void *oa = rca_obj_alloc(a, 32);
        void *ob = rca_obj_alloc(b, 32);
        (void)ob;
        rca_obj_free(b, oa);
      },
      p.handle_kind == RCA_HANDLE_KIND_INDEX
          ? "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ .*\\(its slot "
            "is another object's"
          : "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ .*\\(its header "
            "names no slot of this heap");
}

// Defect 6: the generic operations on a freed object died with SIGSEGV (following the free-list
// link in its header) or wrote into freed memory.
TEST_P(ReleaseDefaultsDeathTest, GenericOperationsOnAFreedObjectAreCaught) {
  if (!have_jemalloc()) GTEST_SKIP() << "jemalloc backend not built in";
  const arena_case p = GetParam();
  for (int op = 0; op < 3; ++op)
    EXPECT_DEATH(
        {
          rca_heap_t *h = make_default(p.placement, p.handle_kind, RCA_BACKEND_JEMALLOC);
          void *a = rca_obj_alloc(h, 32);
          rca_obj_free(h, a);
          if (op == 0) rca_obj_incref(h, a);
          if (op == 1) rca_obj_decref(h, a);
          if (op == 2) (void)rca_obj_count(h, a);
        },
        std::string("rca: ") +
            (op == 0   ? "rca_obj_incref"
             : op == 1 ? "rca_obj_decref"
                       : "rca_obj_count") +
            ": 0x[0-9a-f]+ is not a live object of heap #[0-9]+ .*\\(its slot is free");
}

INSTANTIATE_TEST_SUITE_P(Placements, ReleaseDefaultsDeathTest,
                         testing::Values(arena_case{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER},
                                         arena_case{RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX},
                                         arena_case{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_POINTER},
                                         arena_case{RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX},
                                         arena_case{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_POINTER},
                                         arena_case{RCA_PLACEMENT_PADDED, RCA_HANDLE_KIND_INDEX}),
                         arena_case_name);

// Defect 6 for the placements without refcount pages: they track their objects by default, and
// the registry answers before the freed header is read (the system backend's link is there).
TEST(ReleaseDefaultsDeathTest, GenericOperationsOnAFreedObjectWithoutPages) {
  for (rca_placement_t pl : {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_EMBEDDED})
    EXPECT_DEATH(
        {
          rca_heap_t *h = make_default(pl, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
          void *a = rca_obj_alloc(h, 32);
          rca_obj_free(h, a);
          rca_obj_incref(h, a);
        },
        std::string("rca: rca_obj_incref: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ \\(") +
            rca_placement_name(pl) + ".*\\(freed already, or a pointer from elsewhere\\)");
}

// Defect 7: an embedded heap took any handle at rca_slot_free, and counted it (slots_freed ended
// above slots_allocated).
TEST(ReleaseDefaultsDeathTest, EmbeddedBareSlotMisuseIsCaught) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  const std::string msg =
      "rca: rca_slot_free: 0x[0-9a-f]+ is not a live slot of heap #[0-9]+ \\(embedded, pointer, "
      "32-bit, system\\) \\(double free, or a pointer from elsewhere\\)";
  EXPECT_DEATH(
      {
        rca_heap_t *h =
            make_default(RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
        alignas(8) static std::uint64_t garbage = 7;
        rca_slot_free(h, reinterpret_cast<rca_handle_t>(&garbage));
      },
      msg);
  EXPECT_DEATH(
      {
        rca_heap_t *h =
            make_default(RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
        alignas(8) static std::uint64_t mine = 0;
        rca_handle_t s = rca_slot_alloc(h, &mine);
        rca_slot_free(h, s);
        rca_slot_free(h, s);
      },
      msg);
  EXPECT_DEATH(
      {
        rca_heap_t *a =
            make_default(RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
        rca_heap_t *b =
            make_default(RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
        alignas(8) static std::uint64_t theirs = 0;
        rca_slot_free(b, rca_slot_alloc(a, &theirs));
      },
      msg);
  // The legitimate cycle leaves the counters balanced.
  rca_heap_t *h = make_default(RCA_PLACEMENT_EMBEDDED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
  std::uint64_t slots[3];
  for (auto &s : slots) rca_slot_free(h, rca_slot_alloc(h, &s));
  rca_stats_t st;
  rca_heap_stats(h, &st);
  EXPECT_EQ(st.slots_allocated, 3u);
  EXPECT_EQ(st.slots_freed, 3u);
  EXPECT_EQ(st.live_slots, 0u);
  rca_heap_destroy(h);
}

// An object's slot is not a bare slot.
TEST(ReleaseDefaultsDeathTest, ObjectSlotFreedAsABareSlotIsCaught) {
  EXPECT_DEATH(
      {
        rca_heap_t *h =
            make_default(RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
        void *o = rca_obj_alloc(h, 32);
        rca_slot_free(h, reinterpret_cast<rca_handle_t>(rca_obj_slot(h, o)));
      },
      "rca: rca_slot_free: slot 0x[0-9a-f]+ of heap #[0-9]+ \\(shared.* is an object's \\(free the "
      "object with rca_obj_free\\)");
}

// Destroyed heaps: their use died with SIGSEGV, and a stale pointer destroyed a newer heap that
// got the same address.
TEST(DestroyedHeapDeathTest, UseOfADestroyedHeapIsCaught) {
  const char *msg = "is not a live heap \\(destroyed\\)";
  auto dead = [] {
    rca_heap_t *h = make_default(RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
    rca_heap_destroy(h);
    return h;
  };
  EXPECT_DEATH(rca_obj_alloc(dead(), 16), std::string("rca: rca_obj_alloc: 0x[0-9a-f]+ ") + msg);
  EXPECT_DEATH(
      {
        rca_heap_t *h =
            make_default(RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
        void *o = rca_obj_alloc(h, 16);
        rca_heap_destroy(h);
        rca_obj_free(h, o);
      },
      std::string("rca: rca_obj_free: 0x[0-9a-f]+ ") + msg);
  EXPECT_DEATH(
      {
        rca_stats_t st;
        rca_heap_stats(dead(), &st);
      },
      std::string("rca: rca_heap_stats: 0x[0-9a-f]+ ") + msg);
  EXPECT_DEATH(rca_heap_destroy(dead()), std::string("rca: rca_heap_destroy: 0x[0-9a-f]+ ") + msg);
  EXPECT_DEATH(rca_slot_alloc(dead(), nullptr),
               std::string("rca: rca_slot_alloc: 0x[0-9a-f]+ ") + msg);
}

TEST(DestroyedHeap, ANewHeapNeverTakesTheAddressOfARecentlyDestroyedOne) {
  rca_heap_t *old = make_default(RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
  rca_heap_destroy(old);
  std::vector<rca_heap_t *> made;
  for (int i = 0; i < 200; ++i) {  // within the quarantine (256 destroyed heaps)
    rca_heap_t *h = make_default(RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, RCA_BACKEND_SYSTEM);
    EXPECT_NE(h, old) << "heap " << i;
    made.push_back(h);
    if (i % 2) {  // destroyed ones join the quarantine too
      rca_heap_destroy(made.back());
      made.pop_back();
    }
  }
  for (rca_heap_t *h : made) rca_heap_destroy(h);
  // So a stale pointer still dies with the message instead of destroying a newer heap.
  EXPECT_DEATH(rca_heap_destroy(old), "rca: rca_heap_destroy: 0x[0-9a-f]+ is not a live heap");
}

}  // namespace
