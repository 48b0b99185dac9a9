// Tests that read rca's event counters (live objects and slots, object bytes, the allocated and
// freed counts) skip, saying why, in a build with RCA_STATS=OFF, which has none to read.
#pragma once

#include <gtest/gtest.h>
#include <rca/rca.h>

namespace rca_test {

inline bool events_counted() {
  static const bool counted = [] {
    rca_config_t c;
    rca_config_init(&c);
    c.placement = RCA_PLACEMENT_INLINE;
    rca_heap_t *h = rca_heap_new(&c);
    rca_stats_t s;
    rca_heap_stats(h, &s);
    rca_heap_destroy(h);
    return s.events_counted != 0;
  }();
  return counted;
}

}  // namespace rca_test

#define RCA_SKIP_WITHOUT_EVENT_COUNTERS()                                                          \
  do {                                                                                             \
    if (!::rca_test::events_counted())                                                             \
      GTEST_SKIP() << "rca was built with RCA_STATS=OFF: no event counters to read";               \
  } while (0)
