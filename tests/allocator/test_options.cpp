// The option table: names, environment variables, sizes and booleans.
#include <rca/rca.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "support/events.h"

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
  ASSERT_EQ(rca_handle_kind_parse("INDEX", &h), 0) << "case-insensitive";
  EXPECT_EQ(h, RCA_HANDLE_KIND_INDEX);
}

TEST(Options, EnvironmentSetsEveryField) {
  setenv("RCA_PLACEMENT", "padded", 1);
  setenv("RCA_HANDLE_KIND", "index", 1);
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
  EXPECT_EQ(c.handle_kind, RCA_HANDLE_KIND_INDEX);
  EXPECT_EQ(c.slot_bits, 64u);
  EXPECT_EQ(c.backend, RCA_BACKEND_JEMALLOC);
  EXPECT_EQ(c.arena_limit, 16u << 20);
  EXPECT_EQ(c.retain_pages, 64u);
  EXPECT_EQ(c.checks, 0);
  EXPECT_EQ(c.track_objects, 1);
  EXPECT_EQ(c.show_stats, 0);
  for (const char *v :
       {"RCA_PLACEMENT", "RCA_HANDLE_KIND", "RCA_SLOT_BITS", "RCA_BACKEND", "RCA_ARENA_LIMIT",
        "RCA_RETAIN_PAGES", "RCA_CHECKS", "RCA_TRACK_OBJECTS", "RCA_SHOW_STATS"})
    unsetenv(v);
}

// "handle" named the kind before 0.2; the old name and RCA_HANDLE still set it, the new one wins.
TEST(Options, OldHandleNameStillSetsTheKind) {
  rca_config_t c;
  rca_config_init(&c);
  ASSERT_EQ(rca_config_set(&c, "handle", "index"), 0) << rca_last_error();
  EXPECT_EQ(c.handle_kind, RCA_HANDLE_KIND_INDEX);
  EXPECT_EQ(rca_config_set(&c, "handle", "slot"), -1);
  EXPECT_STREQ(rca_last_error(), "unknown handle kind 'slot' (expected pointer|index)");
  rca_config_init(&c);
  setenv("RCA_HANDLE", "index", 1);
  ASSERT_EQ(rca_config_from_env(&c), 0) << rca_last_error();
  EXPECT_EQ(c.handle_kind, RCA_HANDLE_KIND_INDEX);
  setenv("RCA_HANDLE_KIND", "pointer", 1);
  ASSERT_EQ(rca_config_from_env(&c), 0) << rca_last_error();
  EXPECT_EQ(c.handle_kind, RCA_HANDLE_KIND_POINTER);
  unsetenv("RCA_HANDLE");
  unsetenv("RCA_HANDLE_KIND");
}

// Every option by number reads back what its name set, and what the field holds.
TEST(Options, ByNumberAndByNameAreTheSameOption) {
  const char *text[RCA_OPTION_COUNT] = {"thread", "index", "64", "jemalloc", "16m", "64",
                                        "off",    "on",    "0",  "granule",  "1g"};
  const std::int64_t want[RCA_OPTION_COUNT] = {
      RCA_PLACEMENT_THREAD, RCA_HANDLE_KIND_INDEX, 64, RCA_BACKEND_JEMALLOC, 16 << 20, 64, 0, 1, 0,
      RCA_ADDRESS_GRANULE,  std::int64_t(1) << 30};
  rca_config_t by_name, by_number;
  std::memset(&by_name, 0, sizeof by_name);  // (memcmp below: no stray padding bytes)
  std::memset(&by_number, 0, sizeof by_number);
  rca_config_init(&by_name);
  rca_config_init(&by_number);
  for (int i = 0; i < RCA_OPTION_COUNT; ++i) {
    const auto o = static_cast<rca_option_t>(i);
    ASSERT_EQ(rca_config_set(&by_name, rca_option_name(o), text[i]), 0) << rca_last_error();
    std::int64_t v = -7;
    ASSERT_EQ(rca_option_get(&by_name, o, &v), 0) << rca_last_error();
    EXPECT_EQ(v, want[i]) << rca_option_name(o);
    ASSERT_EQ(rca_option_set(&by_number, o, want[i]), 0) << rca_last_error();
  }
  EXPECT_EQ(std::memcmp(&by_name, &by_number, sizeof by_name), 0);
  EXPECT_EQ(by_number.placement, RCA_PLACEMENT_THREAD);
  EXPECT_EQ(by_number.handle_kind, RCA_HANDLE_KIND_INDEX);
  EXPECT_EQ(by_number.slot_bits, 64u);
  EXPECT_EQ(by_number.arena_limit, 16u << 20);
  EXPECT_EQ(by_number.object_limit, std::size_t(1) << 30);
  EXPECT_STREQ(rca_option_name(RCA_OPTION_COUNT), "?");
  rca::config cpp;
  EXPECT_EQ(cpp.option(RCA_OPTION_SLOT_BITS, 64).option(RCA_OPTION_SLOT_BITS), 64);
  EXPECT_THROW(cpp.option(RCA_OPTION_SLOT_BITS, 48), std::invalid_argument);
}

TEST(Options, BadValuesByNumberSayWhatWasExpected) {
  rca_config_t c;
  rca_config_init(&c);
  const rca_config_t before = c;
  auto refused = [&](rca_option_t o, std::int64_t v, const char *message) {
    errno = 0;
    EXPECT_EQ(rca_option_set(&c, o, v), -1) << rca_option_name(o) << " = " << v;
    EXPECT_EQ(errno, EINVAL);
    EXPECT_STREQ(rca_last_error(), message);
  };
  refused(RCA_OPTION_PLACEMENT, RCA_PLACEMENT_COUNT, "option placement: 6 out of range (0..5)");
  refused(RCA_OPTION_HANDLE_KIND, -1, "option handle_kind: -1 out of range (0..1)");
  refused(RCA_OPTION_SLOT_BITS, 48, "option slot_bits: 48 (expected 32|64)");
  refused(RCA_OPTION_CHECKS, 2, "option checks: 2 (expected 0, 1, or -1 for the default)");
  refused(RCA_OPTION_ARENA_LIMIT, -4096, "option arena_limit: -4096 is negative");
  refused(static_cast<rca_option_t>(99), 1, "rca_option_set: unknown option 99 (0..10)");
  EXPECT_EQ(std::memcmp(&c, &before, sizeof c), 0) << "a refused value changed the config";
  std::int64_t v;
  EXPECT_EQ(rca_option_get(&c, static_cast<rca_option_t>(-1), &v), -1);
  EXPECT_STREQ(rca_last_error(), "rca_option_get: unknown option -1 (0..10)");
  EXPECT_EQ(rca_option_get(&c, RCA_OPTION_CHECKS, nullptr), -1);
  EXPECT_STREQ(rca_last_error(), "rca_option_get: null argument");
}

TEST(Options, BadValuesSayWhatWasExpected) {
  rca_config_t c;
  rca_config_init(&c);
  EXPECT_EQ(rca_config_set(&c, "slot_bits", "48"), -1);
  EXPECT_STREQ(rca_last_error(), "option slot_bits: '48' (expected 32|64)");
  EXPECT_EQ(rca_config_set(&c, "arena_limit", "lots"), -1);
  EXPECT_STREQ(rca_last_error(),
               "option arena_limit: 'lots' is not a size (e.g. 4096, 64k, 16m, 1g)");
  EXPECT_EQ(rca_config_set(&c, "checks", "maybe"), -1);
  EXPECT_STREQ(rca_last_error(),
               "option checks: 'maybe' is not a boolean (1|0|on|off|yes|no|true|false)");
  EXPECT_EQ(rca_config_set(&c, "arena_limit", "1k"), 0);
  EXPECT_EQ(rca_heap_new(&c), nullptr) << "below one refcount page";
  EXPECT_NE(std::string(rca_last_error()).find("below one refcount page"), std::string::npos);
}

TEST(Options, ShowStatsPrintsWhenTheHeapIsDestroyed) {
  RCA_SKIP_WITHOUT_EVENT_COUNTERS();
  testing::internal::CaptureStderr();
  {
    // checks on: the heap tracks the object and frees it on destroy.
    rca::heap heap(
        rca::config().placement(RCA_PLACEMENT_SHARED).checks(true).set("show_stats", "1"));
    void *o = heap.alloc(16);
    (void)o;
  }
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_NE(out.find("rca stats: heap #"), std::string::npos) << out;
  EXPECT_NE(out.find("live objects    1"), std::string::npos) << out;
}

}  // namespace

// Issue 10, defect 4: a size suffix wrapped the value round (18014398509481988k became 4096,
// ...984k became 0, i.e. the default) without a word.
TEST(Options, SizeSuffixesThatOverflowAreRefused) {
  rca_config_t c;
  rca_config_init(&c);
  for (const char *v :
       {"18014398509481988k", "18014398509481984k", "17592186044416m", "17179869184g"}) {
    errno = 0;
    EXPECT_EQ(rca_config_set(&c, "arena_limit", v), -1) << v;
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(std::string(rca_last_error()),
              std::string("option arena_limit: '") + v + "' does not fit in 64 bits");
    EXPECT_EQ(rca_config_set(&c, "retain_pages", v), -1) << v;
  }
  EXPECT_EQ(c.arena_limit, std::size_t(1) << 30) << "a refused value leaves the field as it was";
  EXPECT_EQ(rca_config_set(&c, "arena_limit", "18014398509481983k"), 0) << "the largest that fits";
  EXPECT_EQ(c.arena_limit, std::size_t(18014398509481983ull) << 10);
  setenv("RCA_ARENA_LIMIT", "18014398509481984k", 1);
  rca_config_init(&c);
  EXPECT_EQ(rca_config_from_env(&c), -1);
  EXPECT_STREQ(rca_last_error(),
               "RCA_ARENA_LIMIT: option arena_limit: '18014398509481984k' does not fit in 64 bits");
  unsetenv("RCA_ARENA_LIMIT");
}

// Issue 10, defect 5: limits beyond what 32-bit indexes reach were clamped silently (1000g
// reserved 16 GiB while the config said 1000g), and SIZE_MAX wrapped to a heap with no page.
TEST(Options, ArenaLimitsBeyondTheIndexRangeAreRefused) {
  for (unsigned bits : {32u, 64u}) {
    const std::size_t most = (std::size_t(1) << 32) * (bits / 8) - 4096;
    for (const char *v : {"1000g", "18446744073709551615"}) {
      rca_config_t c;
      rca_config_init(&c);
      c.slot_bits = bits;
      ASSERT_EQ(rca_config_set(&c, "arena_limit", v), 0);
      errno = 0;
      EXPECT_EQ(rca_heap_new(&c), nullptr) << v;
      EXPECT_EQ(errno, EINVAL);
      EXPECT_EQ(std::string(rca_last_error()),
                "arena_limit " + std::to_string(c.arena_limit) +
                    " is above the largest arena 32-bit indexes reach with " +
                    std::to_string(bits) + "-bit slots (" + std::to_string(most) +
                    " bytes: 2^32 slots less the guard page)");
    }
    rca_config_t c;
    rca_config_init(&c);
    c.slot_bits = bits;
    c.arena_limit = most;  // the largest accepted: reserved as asked
    rca_heap_t *h = rca_heap_new(&c);
    ASSERT_NE(h, nullptr) << rca_last_error();
    EXPECT_EQ(rca_heap_config(h)->arena_limit, most);
    rca_stats_t st;
    rca_heap_stats(h, &st);
    EXPECT_EQ(st.arena_reserved, most + 4096) << "the limit plus the guard page, not clamped";
    rca_heap_destroy(h);
  }
}

// Issue 10, defect 3: a hot path compiled for 32-bit counts on a heap made with
// RCA_SLOT_BITS=64 counted the wrong object; the width check says so before any count is touched.
TEST(Options, HotPathWidthMismatchIsReported) {
  rca_config_t c;
  rca_config_init(&c);
  c.slot_bits = 64;
  rca_heap_t *h = rca_heap_new(&c);
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(rca_heap_check_slot_bits(h, 64), 0);
  errno = 0;
  EXPECT_EQ(rca_heap_check_slot_bits(h, 32), -1);
  EXPECT_EQ(errno, EINVAL);
  EXPECT_NE(std::string(rca_last_error())
                .find("has 64-bit slots, but the hot path was compiled with RCA_SLOT_BITS=32"),
            std::string::npos)
      << rca_last_error();
  EXPECT_EQ(rca_heap_check_hot_path(h), -1) << "this file's hot path is the default, 32-bit";
  rca_heap_destroy(h);
}
