// Bad input gets a clear error: fatal misuse aborts with a message naming the object, the heap
// and the operation; bad configuration fails with errno and rca_last_error().
#include "support/configs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

rca::config checked(rca_placement_t p, rca_handle_kind_t h = RCA_HANDLE_KIND_POINTER) {
  rca::config c;
  c.placement(p).handle_kind(h).checks(true);
  return c;
}

TEST(ErrorsDeathTest, DoubleFreeOfAnObject) {
  for (auto p : {RCA_PLACEMENT_INLINE, RCA_PLACEMENT_EMBEDDED, RCA_PLACEMENT_SHARED,
                 RCA_PLACEMENT_THREAD, RCA_PLACEMENT_PADDED}) {
    EXPECT_DEATH(
        {
          rca::heap heap(checked(p));
          void *keep = heap.alloc(32);  // the heap stays non-empty
          void *o = heap.alloc(32);
          heap.free(o);
          heap.free(o);
          (void)keep;
        },
        "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ \\(.*\\) \\(double "
        "free")
        << rca_placement_name(p);
  }
}

TEST(ErrorsDeathTest, DoubleFreeOfASlotWithoutTheRegistry) {
  // Checks off: the slot bitmap still catches a second free of the same slot.
  EXPECT_DEATH(
      {
        rca::heap heap(
            rca::config().placement(RCA_PLACEMENT_SHARED).checks(false).track_objects(false));
        void *keep = heap.alloc(16);
        rca_handle_t h = heap.slot_alloc();
        heap.slot_free(h);
        heap.slot_free(h);
        (void)keep;
      },
      "rca: rca_slot_free: double free of slot 0x[0-9a-f]+ \\(index [0-9]+\\) of heap #[0-9]+ "
      "\\(shared");
}

TEST(ErrorsDeathTest, PointerNotFromThisHeap) {
  EXPECT_DEATH(
      {
        rca::heap heap(checked(RCA_PLACEMENT_THREAD));
        int local = 0;
        heap.free(&local);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ \\(thread");
}

TEST(ErrorsDeathTest, ObjectFreedThroughTheWrongHeap) {
  EXPECT_DEATH(
      {
        rca::heap a(checked(RCA_PLACEMENT_SHARED));
        rca::heap b(checked(RCA_PLACEMENT_SHARED));
        void *o = a.alloc(16);
        b.free(o);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+");
  // Without the registry the handle's range check catches it.
  EXPECT_DEATH(
      {
        rca::heap a(
            rca::config().placement(RCA_PLACEMENT_SHARED).checks(false).track_objects(false));
        rca::heap b(
            rca::config().placement(RCA_PLACEMENT_SHARED).checks(false).track_objects(false));
        void *o = a.alloc(16);
        b.free(o);
      },
      "rca: rca_obj_free: 0x[0-9a-f]+ is not a live object of heap #[0-9]+ .* \\(its header names "
      "no slot of this heap: an object of another heap, or not an object; slot 0x[0-9a-f]+\\)");
}

TEST(ErrorsDeathTest, IndexHandleFromAnotherHeap) {
  EXPECT_DEATH(
      {
        rca::heap a(checked(RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_INDEX));
        a.slot_free(rca_handle_t(1) << 31);
      },
      "rca: rca_slot_free: index [0-9]+ is outside heap #[0-9]+ .* \\(a handle from another "
      "heap\\?\\)");
}

TEST(ErrorsDeathTest, DecrefBelowZeroNamesTheSlotAndHeap) {
  EXPECT_DEATH(
      {
        rca::heap heap(checked(RCA_PLACEMENT_SHARED));
        void *o = heap.alloc(16);
        rca_obj_decref(heap.get(), o);  // reaches zero; the caller should free now
        rca_obj_decref(heap.get(), o);
      },
      "rca: decref below zero: slot 0x[0-9a-f]+ \\(index [0-9]+\\) of heap #[0-9]+ \\(shared");
  EXPECT_DEATH(
      {
        rca::heap heap(checked(RCA_PLACEMENT_INLINE));
        void *o = heap.alloc(16);
        rca_obj_decref(heap.get(), o);
        rca_obj_incref(heap.get(), o);
      },
      "rca: incref of a count of zero \\(use after free\\?\\): count at 0x[0-9a-f]+");
}

TEST(Errors, UnknownPlacementOrBackendName) {
  rca_config_t c;
  rca_config_init(&c);
  EXPECT_EQ(rca_config_set(&c, "placement", "sideways"), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_STREQ(
      rca_last_error(),
      "unknown placement 'sideways' (expected inline|embedded|shared|thread|padded|computed)");
  EXPECT_EQ(rca_config_set(&c, "backend", "tcmalloc"), -1);
  EXPECT_STREQ(rca_last_error(),
               "unknown backend 'tcmalloc' (expected system|mimalloc|jemalloc|rca)");
  EXPECT_EQ(rca_config_set(&c, "colour", "red"), -1);
  EXPECT_NE(std::string(rca_last_error()).find("unknown option 'colour'"), std::string::npos);
}

TEST(Errors, BadEnvironmentFailsHeapCreation) {
  setenv("RCA_PLACEMENT", "sideways", 1);
  errno = 0;
  EXPECT_EQ(rca_heap_new(nullptr), nullptr);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_STREQ(rca_last_error(),
               "RCA_PLACEMENT: unknown placement 'sideways' (expected "
               "inline|embedded|shared|thread|padded|computed)");
  unsetenv("RCA_PLACEMENT");
  setenv("RCA_BACKEND", "nope", 1);
  EXPECT_THROW(rca::config::from_env(), std::invalid_argument);
  unsetenv("RCA_BACKEND");
}

}  // namespace
