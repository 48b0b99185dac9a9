// Counters: an event the kernel refuses is unavailable (NA in rows), never a 0.
#include "harness/counters.hpp"
#include "harness/measure.hpp"
#include "harness/rows.hpp"
#include "lab_support.hpp"

#include <gtest/gtest.h>

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
  if (!g.available(event::task_clock_ns)) GTEST_SKIP() << "task-clock refused: " << g.why(event::task_clock_ns);
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
  auto col = [&](const char *name) { return static_cast<std::size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin()); };
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

}  // namespace
}  // namespace rca::lab
