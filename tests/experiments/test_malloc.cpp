// rcalab malloc as a user runs it: rows in the harness's schema, each allocator's series or its
// `unavailable` rows (never numbers), ratios to mimalloc with intervals where mimalloc ran, and
// usage errors that exit 2 naming what was wrong. Two small workloads, two repetitions: the
// times themselves are not tested.
#include "harness/rows.hpp"
#include "lab_support.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace rca::lab {
namespace {

const std::string kBin = RCALAB_BIN;
const std::string kRun = kBin +
                         " malloc --quick --reps 2 --warmup 0 --threads 1 --out - --format csv "
                         "--label ci --workloads larson,cache_thrash ";

struct table {
  std::vector<std::vector<std::string>> rows;
  std::size_t col(const std::string &c) const { return test::column_of(rows.at(0), c); }
  const std::string &at(std::size_t i, const std::string &c) const { return rows[i][col(c)]; }
};

table run_rows(const std::string &args) {
  auto r = test::run(kRun + args);
  EXPECT_EQ(r.status, 0) << r.err;
  table t{test::parse_csv(r.out)};
  EXPECT_GE(t.rows.size(), 2u) << r.err;
  if (!t.rows.empty()) {
    EXPECT_EQ(t.rows[0], schema_columns());
  }
  return t;
}

bool exists(const std::string &p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

TEST(LabMalloc, MissingLibraryIsUnavailableNeverANumber) {
  const table t =
      run_rows("--backend system,mimalloc,rca --malloc-lib rca=/nonexistent/librca_malloc.so");
  std::map<std::string, std::set<std::string>> stats;  // backend -> stats seen
  std::set<std::string> rca_workloads;
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    ASSERT_EQ(t.rows[i].size(), t.rows[0].size()) << "row " << i;
    EXPECT_EQ(t.at(i, "experiment"), "malloc");
    EXPECT_EQ(t.at(i, "schema"), std::to_string(kSchemaVersion));
    const std::string &backend = t.at(i, "backend"), &stat = t.at(i, "stat");
    stats[backend].insert(stat);
    if (backend == "rca") {
      EXPECT_EQ(stat, "unavailable") << "row " << i;
      EXPECT_TRUE(t.at(i, "value").empty()) << "an unavailable allocator must be NA, row " << i;
      EXPECT_NE(t.at(i, "params").find("unavailable=library not found: /nonexistent"),
                std::string::npos)
          << t.at(i, "params");
      rca_workloads.insert(t.at(i, "variant"));
    }
  }
  EXPECT_EQ(rca_workloads, (std::set<std::string>{"larson", "cache_thrash"}));
  EXPECT_TRUE(stats["system"].count("median"));
  // Every median of a measured allocator: time, CPU time and peak RSS, positive, min <= med <= max.
  std::map<std::string, int> metrics;
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    if (t.at(i, "stat") != "median") continue;
    ++metrics[t.at(i, "backend") + "/" + t.at(i, "metric")];
    const double v = std::stod(t.at(i, "value"));
    EXPECT_GT(v, 0) << "row " << i;
    EXPECT_LE(std::stod(t.at(i, "min")), v);
    EXPECT_LE(v, std::stod(t.at(i, "max")));
    EXPECT_EQ(t.at(i, "n"), "2");
    EXPECT_NE(t.at(i, "params").find("load1_before="), std::string::npos);
  }
  for (const char *m : {"time_ms", "cpu_ms", "peak_rss_kib"})
    EXPECT_EQ(metrics[std::string("system/") + m], 2) << m;

  // Ratios to mimalloc where mimalloc could run (its preload is refused under sanitizers).
  if (!stats["mimalloc"].count("median")) GTEST_SKIP() << "mimalloc did not run here";
  int ratios = 0, geomeans = 0;
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    const std::string &stat = t.at(i, "stat");
    if (stat != "ratio" && stat != "geomean") continue;
    EXPECT_EQ(t.at(i, "backend"), "system") << "only glibc has a baseline to compare with";
    const double v = std::stod(t.at(i, "value")), lo = std::stod(t.at(i, "ci_lo")),
                 hi = std::stod(t.at(i, "ci_hi"));
    EXPECT_TRUE(std::isfinite(v) && v > 0);
    EXPECT_LE(lo, hi);
    EXPECT_GT(lo, 0);
    EXPECT_NE(t.at(i, "params").find("baseline=mimalloc"), std::string::npos);
    if (stat == "ratio") ++ratios;
    if (stat == "geomean") {
      ++geomeans;
      EXPECT_EQ(t.at(i, "n"), "2") << "two workloads at one thread";
      EXPECT_EQ(t.at(i, "variant"), "geomean");
    }
  }
  EXPECT_EQ(ratios, 2 * 3);  // two workloads x time, cpu, rss
  EXPECT_EQ(geomeans, 3);
}

// A library that loads but defines no malloc: the preload "works" and glibc still serves, so the
// allocator must be reported unavailable rather than measured as if it were that allocator.
TEST(LabMalloc, PreloadThatDoesNotTakeIsUnavailable) {
  const std::string libm = "/lib/x86_64-linux-gnu/libm.so.6";
  if (!exists(libm)) GTEST_SKIP() << libm << " not here";
  const table t = run_rows("--backend system,jemalloc --malloc-lib jemalloc=" + libm);
  int unavailable = 0;
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    if (t.at(i, "backend") != "jemalloc") continue;
    EXPECT_EQ(t.at(i, "stat"), "unavailable");
    EXPECT_TRUE(t.at(i, "value").empty());
    EXPECT_NE(t.at(i, "params").find("unavailable=preload"), std::string::npos)
        << t.at(i, "params");
    ++unavailable;
  }
  EXPECT_EQ(unavailable, 2);
}

TEST(LabMalloc, UsageErrorsExit2) {
  auto r = test::run(kRun + "--workloads larson,no_such_workload");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown workload 'no_such_workload'"), std::string::npos) << r.err;
  r = test::run(kRun + "--malloc-lib tcmalloc=/x.so");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("only mimalloc, jemalloc and rca"), std::string::npos) << r.err;
  r = test::run(kRun + "--malloc-lib rca");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("bad value 'rca' for --malloc-lib"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rca::lab
