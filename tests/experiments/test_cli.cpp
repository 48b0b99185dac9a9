// rcalab as a user runs it: usage errors exit 2 with a message; every subcommand runs in a tiny
// configuration and prints well-formed rows (CSV and JSON lines) with the environment filled in.
#include "harness/rows.hpp"
#include "harness/simulate.hpp"
#include "lab_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace rca::lab {
namespace {

const std::string kBin = RCALAB_BIN;

TEST(LabCli, UnknownFlagExits2WithAMessage) {
  auto r = test::run(kBin + " freeze --no-such-flag");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown flag '--no-such-flag'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--help"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(LabCli, BadValuesExit2) {
  for (const char *args :
       {"indirection --reps 0", "indirection --reps x", "cow --placement nowhere",
        "threads --threads", "ipc --format xml", "alloc --backend tcmalloc",
        "freeze --working-set 12Q", "cow --quick=1"}) {
    auto r = test::run(kBin + " " + args);
    EXPECT_EQ(r.status, 2) << args;
    EXPECT_FALSE(r.err.empty()) << args;
  }
}

TEST(LabCli, UnknownSubcommandAndNoArgumentsExit2) {
  EXPECT_EQ(test::run(kBin + " frobnicate").status, 2);
  EXPECT_EQ(test::run(kBin).status, 2);
  EXPECT_EQ(test::run(kBin + " list extra").status, 2);
}

TEST(LabCli, HelpAndListNameEverySubcommand) {
  auto help = test::run(kBin + " --help");
  auto list = test::run(kBin + " list");
  ASSERT_EQ(help.status, 0);
  ASSERT_EQ(list.status, 0);
  for (const char *s :
       {"indirection", "freeze", "threads", "aliasing", "cow", "ipc", "alloc", "all"})
    EXPECT_NE(help.out.find(s), std::string::npos) << s;
  for (const char *s : {"indirection", "freeze", "threads", "aliasing", "cow", "ipc", "alloc"})
    EXPECT_NE(list.out.find(std::string(s) + "\t"), std::string::npos) << s;
  auto sub = test::run(kBin + " cow --help");
  EXPECT_EQ(sub.status, 0);
  EXPECT_NE(sub.out.find("C5"), std::string::npos);
}

struct tiny {
  const char *sub, *args;
};

// Tiny configurations: a few seconds each even under sanitizers.
const tiny kTiny[] = {
    {"indirection",
     "--working-set 16K --placement inline,shared,padded --handle-kind pointer,index --callgrind "
     "off"},
    {"freeze", "--working-set 16K --placement inline,thread --handle-kind pointer"},
    {"threads", "--threads 1,2 --objects 256 --placement inline,shared,thread --callgrind off"},
    {"aliasing", "--objects 256 --callgrind off"},
    {"cow", "--objects 3000 --children 1 --placement inline,shared --slot-bits 32 --stride 64"},
    {"ipc", "--objects 800"},
    {"alloc",
     "--objects 3000 --threads 1 --placement inline,shared --backend system --callgrind off"},
};

void PrintTo(const tiny &t, std::ostream *os) { *os << t.sub << ' ' << t.args; }

class LabSubcommand : public ::testing::TestWithParam<tiny> {};

void check_rows(const std::string &sub, const std::vector<std::vector<std::string>> &rows) {
  ASSERT_GE(rows.size(), 2u) << "no rows";
  ASSERT_EQ(rows[0], schema_columns());
  const auto &cols = rows[0];
  auto idx = [&](const std::string &c) { return test::column_of(cols, c); };
  std::size_t medians = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto &r = rows[i];
    ASSERT_EQ(r.size(), cols.size()) << "row " << i;
    EXPECT_EQ(r[idx("experiment")], sub);
    EXPECT_EQ(r[idx("schema")], std::to_string(kSchemaVersion));
    for (const auto &e : environment_columns())
      EXPECT_FALSE(r[idx(e)].empty()) << e << " empty in row " << i;
    EXPECT_FALSE(r[idx("metric")].empty());
    EXPECT_FALSE(r[idx("unit")].empty());
    const std::string &stat = r[idx("stat")], &value = r[idx("value")];
    if (stat == "unavailable") {
      EXPECT_TRUE(value.empty()) << "an unavailable measurement must be NA, row " << i;
      continue;
    }
    EXPECT_TRUE(stat == "raw" || stat == "median") << stat;
    // static_instructions / bytes_per_object may be NA where the method could not run.
    if (!value.empty()) EXPECT_TRUE(std::isfinite(std::stod(value))) << "row " << i;
    if (stat == "median") {
      ++medians;
      double med = std::stod(value), lo = std::stod(r[idx("min")]), hi = std::stod(r[idx("max")]);
      EXPECT_LE(lo, med);
      EXPECT_LE(med, hi);
    }
  }
  EXPECT_GT(medians, 0u);
}

TEST_P(LabSubcommand, TinyRunGivesWellFormedRows) {
  const tiny t = GetParam();
  const std::string common = " --quick --ops 64k --reps 2 --warmup 0 --out - --label ci ";
  auto csv = test::run(kBin + " " + t.sub + common + "--format csv " + t.args);
  ASSERT_EQ(csv.status, 0) << csv.err;
  check_rows(t.sub, test::parse_csv(csv.out));

  auto json = test::run(kBin + " " + t.sub + common + "--format json " + t.args);
  ASSERT_EQ(json.status, 0) << json.err;
  std::istringstream lines(json.out);
  std::size_t n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    auto obj = test::parse_json_object(line);
    ASSERT_EQ(obj.size(), schema_columns().size());
    EXPECT_EQ(obj[1].first, "experiment");
    EXPECT_EQ(obj[1].second.str, t.sub);
  }
  EXPECT_GT(n, 0u);
}

INSTANTIATE_TEST_SUITE_P(All, LabSubcommand, ::testing::ValuesIn(kTiny),
                         [](const ::testing::TestParamInfo<tiny> &i) {
                           return std::string(i.param.sub);
                         });

// The simulated rows (harness/simulate.hpp): rcalab runs itself under callgrind and writes
// instructions, misses and the cycle estimate per operation for every simulated layout.
TEST(LabCli, SimulatedRowsUnderCallgrind) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer build cannot run under valgrind";
#endif
  if (test::run("command -v valgrind").status != 0) GTEST_SKIP() << "valgrind not installed";
  auto r = test::run(kBin +
                     " indirection --callgrind on --working-set 16K --placement inline,shared "
                     "--handle-kind pointer "
                     "--reps 1 --warmup 0 --ops 64k --out - --format csv");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = test::parse_csv(r.out);
  ASSERT_GE(rows.size(), 2u);
  const auto &cols = rows[0];
  auto idx = [&](const std::string &c) { return test::column_of(cols, c); };
  std::map<std::string, int> seen;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const std::string &metric = rows[i][idx("metric")];
    if (metric.rfind("sim_", 0) != 0) continue;
    ++seen[metric];
    EXPECT_EQ(rows[i][idx("method")], kSimMethod);
    const double v = std::stod(rows[i][idx("value")]);
    if (metric == "sim_instructions_per_op")
      EXPECT_GT(v, 1.0) << "an incref or decref is several instructions";
    if (metric == "sim_cycles_per_op") EXPECT_GE(v, 1.0);
    EXPECT_GE(v, 0.0);
  }
  // inline and shared/pointer, sequential and random: four series per metric.
  for (const char *m : {"sim_instructions_per_op", "sim_d1_misses_per_op", "sim_ll_misses_per_op",
                        "sim_cycles_per_op"})
    EXPECT_EQ(seen[m], 4) << m;
}

// alloc's checks rows: instructions per alloc+free with the release defaults and with checks on
// for every layout, and the compiled-out series unavailable, with the reason, when no unchecked
// library is named.
TEST(LabCli, AllocChecksCostRows) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "a sanitizer build cannot run under valgrind";
#endif
  if (test::run("command -v valgrind").status != 0) GTEST_SKIP() << "valgrind not installed";
  auto r = test::run("env -u RCALAB_UNCHECKED_LIB " + kBin +
                     " alloc --callgrind on --objects 3000 --threads 1 --placement inline,shared "
                     "--handle-kind pointer --backend system --reps 1 --warmup 0 --ops 16k --out - "
                     "--format csv");
  ASSERT_EQ(r.status, 0) << r.err;
  const auto rows = test::parse_csv(r.out);
  ASSERT_GE(rows.size(), 2u);
  const auto &cols = rows[0];
  auto idx = [&](const std::string &c) { return test::column_of(cols, c); };
  std::map<std::string, double> instructions;  // placement|variant -> per alloc+free
  int unavailable = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto &row = rows[i];
    if (row[idx("metric")] != "sim_instructions_per_op") continue;
    const std::string key = row[idx("placement")] + "|" + row[idx("variant")];
    if (row[idx("variant")] == "release_checks_compiled_out") {
      EXPECT_EQ(row[idx("stat")], "unavailable");
      EXPECT_NE(row[idx("params")].find("RCALAB_UNCHECKED_LIB"), std::string::npos);
      ++unavailable;
      continue;
    }
    instructions[key] = std::stod(row[idx("value")]);
  }
  EXPECT_EQ(unavailable, 2);
  for (const char *p : {"inline", "shared"}) {
    const double release = instructions[std::string(p) + "|checks_release_defaults"],
                 checked = instructions[std::string(p) + "|checks_on"];
    EXPECT_GT(release, 50.0) << p << ": an alloc+free pair is dozens of instructions at least";
    if (std::string(p) == "inline") {
      // An inline heap tracks its objects by default (freeze needs the registry), so checks on
      // do the same work per object: only the registry's probe lengths differ with addresses.
      EXPECT_NEAR(checked, release, 0.03 * release) << p << ": checks on add no work inline";
    } else {
      // Out of line, release defaults keep no registry; checks on add its insert and erase.
      EXPECT_GT(checked, 1.2 * release) << p << ": checks on add the registry's work";
    }
  }
}

TEST(LabCli, OutFolderGetsFilesPerExperimentAndEnvironment) {
  char tmpl[] = "/tmp/rcalab-test-dir-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  auto r = test::run(
      kBin + " freeze --reps 1 --warmup 0 --ops 64k --working-set 16K --placement inline --out " +
      dir);
  EXPECT_EQ(r.status, 0) << r.err;
  for (const char *f : {"/freeze.csv", "/freeze.jsonl", "/environment.json"}) {
    std::ifstream in(dir + f);
    EXPECT_TRUE(in.good()) << f;
  }
  EXPECT_NE(r.out.find("C2"), std::string::npos) << "the claim line is printed";
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace rca::lab
