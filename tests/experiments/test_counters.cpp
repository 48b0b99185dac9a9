// Counters: an event the kernel refuses is unavailable (NA in rows), never a 0.
#include "harness/counters.hpp"
#include "harness/measure.hpp"
#include "harness/rows.hpp"
#include "lab_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace rca::lab {
namespace {

TEST(LabCounters, EveryEventIsEitherOpenOrExplained) {
  counter_group g(true);
  for (std::size_t i = 0; i < kEventCount; ++i) {
    auto e = static_cast<event>(i);
    if (g.available(e)) EXPECT_TRUE(g.why(e).empty()) << event_name(e);
    else EXPECT_FALSE(g.why(e).empty()) << event_name(e) << " refused without a reason";
  }
}

TEST(LabCounters, RefusedEventsReadAsUnavailable) {
  counter_group g(true);
  g.start();
  volatile double x = 0;
  for (int i = 0; i < 1000000; ++i) x = x + i;
  counter_values v = g.stop();
  std::size_t refused = 0;
  for (std::size_t i = 0; i < kEventCount; ++i) {
    auto e = static_cast<event>(i);
    if (!g.available(e)) {
      ++refused;
      EXPECT_FALSE(v[e].has_value()) << event_name(e) << " is refused but has a value";
    }
  }
  // On the project's VMs every hardware event is refused; elsewhere this path may be empty.
  if (refused == 0) GTEST_SKIP() << "every event opened here: the NA path is not exercised";
}

TEST(LabCounters, TaskClockCountsWork) {
  counter_group g(true);
  if (!g.available(event::task_clock_ns))
    GTEST_SKIP() << "task-clock refused: " << g.why(event::task_clock_ns);
  g.start();
  volatile double x = 0;
  for (int i = 0; i < 2000000; ++i) x = x + i;
  counter_values v = g.stop();
  ASSERT_TRUE(v[event::task_clock_ns].has_value());
  EXPECT_GT(*v[event::task_clock_ns], 0.0);
}

TEST(LabCounters, UnavailableCountersAreNAInRowsNotZero) {
  std::ostringstream csv, json;
  sink cs(csv, format::csv), js(json, format::json);
  std::vector<sample> samples(3);
  for (auto &s : samples) {
    s.value = 1.5;
    s.counters[event::task_clock_ns] = 100.0;  // cycles etc. stay unavailable
  }
  samples[1].counters[event::cycles] = 7.0;  // one rep had cycles: the median must still be NA
  row base;
  base.set("experiment", "unit");
  emit_series(cs, "unit", base, "m", "ns", samples);
  emit_series(js, "unit", base, "m", "ns", samples);

  auto rows = test::parse_csv(csv.str());
  ASSERT_EQ(rows.size(), 1u + 4u);  // header, 3 raw, 1 median
  const auto &cols = rows[0];
  auto col = [&](const char *name) { return test::column_of(cols, name); };
  for (std::size_t r = 1; r < rows.size(); ++r) {
    EXPECT_EQ(rows[r][col("instructions")], "") << "row " << r;
    EXPECT_EQ(rows[r][col("task_clock_ns")], "100") << "row " << r;
  }
  EXPECT_EQ(rows[2][col("cycles")], "7");  // raw rep 1
  EXPECT_EQ(rows[4][col("cycles")], "");   // median over reps that lacked it: NA
  std::istringstream lines(json.str());
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    auto obj = test::parse_json_object(line);
    for (auto &[k, v] : obj)
      if (k == "instructions") EXPECT_EQ(v.k, test::json_value::kind::null);
  }
  EXPECT_EQ(n, 4);
}

// The bootstrap interval of a ratio of medians (rows' ci_lo, ci_hi) on data whose answer is known.
TEST(LabBootstrap, ConstantSeriesGiveTheExactRatio) {
  const interval ci = bootstrap_ratio({{{3, 3, 3, 3, 3}, {1, 1, 1, 1, 1}}}, /*paired=*/false);
  EXPECT_DOUBLE_EQ(ci.lo, 3);
  EXPECT_DOUBLE_EQ(ci.hi, 3);
  // Two programs at 2x and 8x: the geometric mean, 4x.
  const interval geo = bootstrap_ratio({{{2, 2, 2}, {1, 1, 1}}, {{8, 8, 8}, {1, 1, 1}}}, true);
  EXPECT_DOUBLE_EQ(geo.lo, 4);
  EXPECT_DOUBLE_EQ(geo.hi, 4);
}

TEST(LabBootstrap, PairingCancelsNoiseSharedByARepetition) {
  // Every repetition of a is 1.1x the repetition of b that ran beside it; the machine's load moves
  // both from 10 to 18.
  const std::vector<double> b = {14, 10, 17, 12, 18, 11, 16, 13, 15};
  std::vector<double> a;
  for (double x : b) a.push_back(1.1 * x);
  const interval paired = bootstrap_ratio({{a, b}}, true);
  EXPECT_NEAR(paired.lo, 1.1, 1e-12);
  EXPECT_NEAR(paired.hi, 1.1, 1e-12);
  const interval unpaired = bootstrap_ratio({{a, b}}, false);
  EXPECT_LT(unpaired.lo, 1.05);
  EXPECT_GT(unpaired.hi, 1.15);
  EXPECT_GE(unpaired.lo, 11.0 / 18);  // never beyond min(a)/max(b) .. max(a)/min(b)
  EXPECT_LE(unpaired.hi, 1.1 * 18 / 10);
}

TEST(LabBootstrap, SameRowsSameIntervalAndEmptyIsNA) {
  const compared_series s = {{5, 7, 6, 9, 5.5, 6.5}, {5, 6, 5, 7, 6, 5.5}};
  const interval x = bootstrap_ratio({s}, true), y = bootstrap_ratio({s}, true);
  EXPECT_EQ(x.lo, y.lo);
  EXPECT_EQ(x.hi, y.hi);
  EXPECT_LE(x.lo, 6.25 / 5.75);  // the ratio of the medians lies inside
  EXPECT_GE(x.hi, 6.25 / 5.75);
  EXPECT_TRUE(std::isnan(bootstrap_ratio({{{}, {1, 2}}}, true).lo));
  EXPECT_TRUE(std::isnan(bootstrap_ratio({}, false).hi));
}

}  // namespace
}  // namespace rca::lab
