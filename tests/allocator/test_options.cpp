// The option table: names, environment variables, sizes and booleans.
#include <rca/rca.hpp>

#include <gtest/gtest.h>

#include <cstdlib>

namespace {

TEST(Options, NamesRoundTrip) {
  for (int p = 0; p < RCA_PLACEMENT_COUNT; ++p) {
    rca_placement_t out;
    ASSERT_EQ(rca_placement_parse(rca_placement_name(static_cast<rca_placement_t>(p)), &out), 0);
    EXPECT_EQ(out, p);
  }
  for (int b = 0; b < RCA_BACKEND_COUNT; ++b) {
    rca_backend_t out;
    ASSERT_EQ(rca_backend_parse(rca_backend_name(static_cast<rca_backend_t>(b)), &out), 0);
    EXPECT_EQ(out, b);
  }
  rca_handle_kind_t h;
  ASSERT_EQ(rca_handle_parse("INDEX", &h), 0) << "case-insensitive";
  EXPECT_EQ(h, RCA_HANDLE_INDEX);
}

TEST(Options, EnvironmentSetsEveryField) {
  setenv("RCA_PLACEMENT", "padded", 1);
  setenv("RCA_HANDLE", "index", 1);
  setenv("RCA_SLOT_BITS", "64", 1);
  setenv("RCA_BACKEND", "jemalloc", 1);
  setenv("RCA_ARENA_LIMIT", "16m", 1);
  setenv("RCA_RETAIN_PAGES", "64", 1);
  setenv("RCA_CHECKS", "off", 1);
  setenv("RCA_TRACK_OBJECTS", "yes", 1);
  setenv("RCA_SHOW_STATS", "0", 1);
  rca_config_t c;
  rca_config_init(&c);
  ASSERT_EQ(rca_config_from_env(&c), 0) << rca_last_error();
  EXPECT_EQ(c.placement, RCA_PLACEMENT_PADDED);
  EXPECT_EQ(c.handle, RCA_HANDLE_INDEX);
  EXPECT_EQ(c.slot_bits, 64u);
  EXPECT_EQ(c.backend, RCA_BACKEND_JEMALLOC);
  EXPECT_EQ(c.arena_limit, 16u << 20);
  EXPECT_EQ(c.retain_pages, 64u);
  EXPECT_EQ(c.checks, 0);
  EXPECT_EQ(c.track_objects, 1);
  EXPECT_EQ(c.show_stats, 0);
  for (const char *v : {"RCA_PLACEMENT", "RCA_HANDLE", "RCA_SLOT_BITS", "RCA_BACKEND",
                        "RCA_ARENA_LIMIT", "RCA_RETAIN_PAGES", "RCA_CHECKS", "RCA_TRACK_OBJECTS", "RCA_SHOW_STATS"})
    unsetenv(v);
}

TEST(Options, BadValuesSayWhatWasExpected) {
  rca_config_t c;
  rca_config_init(&c);
  EXPECT_EQ(rca_config_set(&c, "slot_bits", "48"), -1);
  EXPECT_STREQ(rca_last_error(), "option slot_bits: '48' (expected 32|64)");
  EXPECT_EQ(rca_config_set(&c, "arena_limit", "lots"), -1);
  EXPECT_STREQ(rca_last_error(), "option arena_limit: 'lots' is not a size (e.g. 4096, 64k, 16m, 1g)");
  EXPECT_EQ(rca_config_set(&c, "checks", "maybe"), -1);
  EXPECT_STREQ(rca_last_error(), "option checks: 'maybe' is not a boolean (1|0|on|off|yes|no|true|false)");
  EXPECT_EQ(rca_config_set(&c, "arena_limit", "1k"), 0);
  EXPECT_EQ(rca_heap_new(&c), nullptr) << "below one refcount page";
  EXPECT_NE(std::string(rca_last_error()).find("below one refcount page"), std::string::npos);
}

TEST(Options, ShowStatsPrintsWhenTheHeapIsDestroyed) {
  testing::internal::CaptureStderr();
  {
    // checks on: the heap tracks the object and frees it on destroy.
    rca::heap heap(rca::config().placement(RCA_PLACEMENT_SHARED).checks(true).set("show_stats", "1"));
    void *o = heap.alloc(16);
    (void)o;
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("rca stats: heap #"), std::string::npos) << out;
  EXPECT_NE(out.find("live objects    1"), std::string::npos) << out;
}

}  // namespace
