// White-box test of the placement table (allocator/placement/): every rca_placement_t value has
// the table made for it, and the public names and properties come from that table.
#include "internal.h"
#include "placement/placement.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using rca::detail::placement_of;

TEST(PlacementTable, EachValueGetsItsOwnTable) {
  for (int p = 0; p < RCA_PLACEMENT_COUNT; ++p) {
    const auto id = static_cast<rca_placement_t>(p);
    const rca::detail::placement_ops &ops = placement_of(id);
    EXPECT_EQ(ops.id, id) << "table.cpp lists the placements out of enum order";
    EXPECT_STREQ(ops.name, rca_placement_name(id));
    rca_placement_t parsed;
    ASSERT_EQ(rca_placement_parse(ops.name, &parsed), 0) << rca_last_error();
    EXPECT_EQ(parsed, id);
    for (auto *fn : {reinterpret_cast<const void *>(ops.resolve),
                     reinterpret_cast<const void *>(ops.header_size),
                     reinterpret_cast<const void *>(ops.obj_alloc),
                     reinterpret_cast<const void *>(ops.obj_free),
                     reinterpret_cast<const void *>(ops.obj_slot),
                     reinterpret_cast<const void *>(ops.slot_alloc),
                     reinterpret_cast<const void *>(ops.slot_free),
                     reinterpret_cast<const void *>(ops.slot_ptr)})
      EXPECT_NE(fn, nullptr) << ops.name << " leaves an operation out";
  }
}

TEST(PlacementTable, HeapUsesItsPlacementsTable) {
  for (int p = 0; p < RCA_PLACEMENT_COUNT; ++p) {
    rca_config_t cfg;
    rca_config_init(&cfg);
    cfg.placement = static_cast<rca_placement_t>(p);
    rca_heap_t *heap = rca_heap_new(&cfg);
    ASSERT_NE(heap, nullptr) << rca_last_error();
    EXPECT_EQ(heap->placement, &placement_of(cfg.placement));
    EXPECT_EQ(rca_header_size(heap), heap->placement->header_size(*rca_heap_config(heap)));
    const unsigned stride = heap->placement->slot_stride ? heap->placement->slot_stride : 4u;
    EXPECT_EQ(heap->slot_stride, stride);
    rca_heap_destroy(heap);
  }
}

}  // namespace
