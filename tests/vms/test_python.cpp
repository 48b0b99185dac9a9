// CPython 3.11 on rca: a million objects allocated and freed with balanced accounting, the
// prefork anchor reports its workers, and errors are clear.
#include <gtest/gtest.h>

#include <string>

#include "vm_process.hpp"

using namespace rca::vms::test;

namespace {

#if RCA_VMS_HAVE_PYTHON
const std::string kPy = std::string(RCA_VMS_BIN_DIR) + "/rca-python";
std::string py(const std::string &f) { return std::string(RCA_VMS_PY_DIR) + "/" + f; }
// CPython deliberately leaves objects alive at exit; a leak checker would report those, not rca.
const std::string kEnv = "ASAN_OPTIONS=detect_leaks=0 ";

TEST(RcaPython, MillionObjectsAllocatedAndFreedWithBalancedStats) {
  const result r = run(kEnv + kPy + " " + py("alloc_free.py") + " 1000000");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto script = lines(r.out, "alloc_free");
  ASSERT_EQ(script.size(), 1u) << r.out;
  EXPECT_GE(num(script[0], "rca_allocs"), 1000000);
  const auto bal = lines(r.out, "rca-python balance");
  ASSERT_EQ(bal.size(), 1u) << r.out;
  EXPECT_EQ(bal[0].at("ok"), "1") << r.out;
  EXPECT_EQ(num(bal[0], "allocs") - num(bal[0], "frees"), num(bal[0], "live_blocks"));
  EXPECT_EQ(num(bal[0], "set_bytes"), num(bal[0], "rca_object_bytes"));
  EXPECT_EQ(lines(r.out, "rca-python stats").size(), 1u);
}

TEST(RcaPython, PreforkAnchorReportsEveryWorker) {
  const result r =
      run(kEnv + kPy + " --prefork 2 " + py("cow_setup.py") + " " + py("cow_task.py") + " 20000");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto ws = lines(r.out, "rca-python worker");
  ASSERT_EQ(ws.size(), 2u) << r.out;
  for (const auto &w : ws) {
    EXPECT_EQ(w.at("ok"), "1");
    EXPECT_GT(num(w, "obj_pages_shared"), 0) << r.out;
    // Inline counts: iterating writes the count of every tuple, so pages must go private.
    EXPECT_GT(num(w, "obj_pages_private"), 0) << r.out;
  }
}

TEST(RcaPython, PreforkWorkersCollectAndReportTheirMemory) {
  const result r = run(kEnv + kPy + " --prefork 2 --gc-per-task --tasks 3 " + py("cow_setup.py") +
                       " " + py("cow_task.py") + " 20000");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto ws = lines(r.out, "rca-python worker ");
  ASSERT_EQ(ws.size(), 2u) << r.out;
  for (const auto &w : ws) {
    EXPECT_EQ(num(w, "tasks"), 3);
    EXPECT_EQ(num(w, "rc_pages_shared"), 0) << "CPython keeps its counts inline";
  }
  const auto mem = lines(r.out, "rca-python prefork_memory");
  ASSERT_EQ(mem.size(), 1u) << r.out;
  if (!mem[0].count("memory")) {
    EXPECT_GT(num(mem[0], "one_rss_kb"), 0);
    EXPECT_GE(num(mem[0], "pss_kb_sum"), num(mem[0], "uss_kb_sum"));
  }
  const result bad = run(kEnv + kPy + " --tasks 2 " + py("raise.py"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("apply to --prefork"), std::string::npos) << bad.out;
}

TEST(RcaPython, UncaughtExceptionExitsNonZero) {
  const result r = run(kEnv + kPy + " " + py("raise.py"));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("expected failure from raise.py"), std::string::npos) << r.out;
}

TEST(RcaPython, MissingScriptAndUnknownPlacement) {
  result r = run(kEnv + kPy + " /nonexistent/x.py");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cannot read script"), std::string::npos) << r.out;
  r = run(kEnv + kPy + " --placement sideways " + py("raise.py"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown placement 'sideways'"), std::string::npos) << r.out;
}
#else
TEST(RcaPython, NotBuilt) {
  GTEST_SKIP() << "python3.11-config not found: rca-python is not built";
}
#endif

}  // namespace
