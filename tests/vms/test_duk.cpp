// Duktape retrofitted with rca: every variant built runs every JS program's self-check, with
// exact slot accounting after the run and after duk_destroy_heap; prefork and threads modes;
// clear errors.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "vm_process.hpp"

using namespace rca::vms::test;

namespace {

const std::vector<std::string> kVariants = {RCA_VMS_VARIANTS};

std::string bin(const std::string &variant) { return std::string(RCA_VMS_BIN_DIR) + "/rca-duk-" + variant; }
std::string js(const std::string &name) { return std::string(RCA_VMS_JS_DIR) + "/" + name; }
bool is_inline(const std::string &v) { return v.rfind("inline", 0) == 0; }
// Computed builds: no count in the header, no slot; counts in refcount pages all the same.
bool is_computed(const std::string &v) { return v.rfind("computed", 0) == 0; }
bool has_slots(const std::string &v) { return !is_inline(v) && !is_computed(v); }
// The placements a build runs under (the first is its default).
std::vector<std::string> placements_of(const std::string &v) {
  if (is_inline(v)) return {"inline"};
  if (is_computed(v)) return {"computed"};
  return {"shared", "thread", "padded"};
}
bool has_freeze(const std::string &v) { return v.find("nofreeze") == std::string::npos; }

// Programs and a small size each (test mode): semantics, not speed.
struct program {
  const char *file, *size;
};
const program kPrograms[] = {{"binary_trees.js", "6"}, {"richards.js", "2"}, {"string_build.js", "3000"},
                             {"sort.js", "3000"},      {"dict.js", "6000"},  {"numeric.js", "1"}};

// The run's accounting lines must say: Duktape's lists == the patch's counter == rca's live slots
// (handle builds; inline and computed builds have no slots), and zero of both after destroy.
void expect_exact_accounting(const result &r, const std::string &variant) {
  const auto live = lines(r.out, "rca-duk accounting when=after_run");
  ASSERT_EQ(live.size(), 1u) << r.out;
  const long objects = num(live[0], "duk_objects");
  EXPECT_GT(objects, 100) << "a Duktape heap holds at least its built-ins";
  EXPECT_EQ(num(live[0], "duk_live"), objects);
  EXPECT_EQ(num(live[0], "rca_live_slots"), has_slots(variant) ? objects : 0) << r.out;
  const auto dead = lines(r.out, "rca-duk accounting when=destroyed");
  ASSERT_EQ(dead.size(), 1u) << r.out;
  EXPECT_EQ(num(dead[0], "duk_live"), 0);
  EXPECT_EQ(num(dead[0], "rca_live_slots"), 0);
  const auto stats = lines(r.out, "rca-duk stats");
  ASSERT_EQ(stats.size(), 1u) << r.out;
  EXPECT_EQ(num(stats[0], "slots_allocated"), num(stats[0], "slots_freed"));
  if (has_slots(variant)) {
    EXPECT_GE(num(stats[0], "slots_allocated"), objects);
  }
}

class DukVariant : public ::testing::TestWithParam<std::string> {};

TEST_P(DukVariant, EveryProgramPassesItsSelfCheckWithExactAccounting) {
  const std::string v = GetParam();
  for (const program &p : kPrograms) {
    SCOPED_TRACE(p.file);
    const result r = run(bin(v) + " " + js(p.file) + " " + p.size);
    ASSERT_EQ(r.status, 0) << r.out;
    const auto res = lines(r.out, "rca-duk result");
    ASSERT_EQ(res.size(), 1u) << r.out;
    expect_exact_accounting(r, v);
  }
}

TEST_P(DukVariant, EveryPlacementOfTheBuildRuns) {
  const std::string v = GetParam();
  for (const auto &pl : placements_of(v)) {
    SCOPED_TRACE(pl);
    const result r = run(bin(v) + " --placement " + pl + " --repeat 2 " + js("richards.js") + " 1");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto head = lines(r.out, "rca-duk run");
    ASSERT_EQ(head.size(), 1u);
    EXPECT_EQ(head[0].at("placement"), pl);
    EXPECT_EQ(lines(r.out, "rca-duk result").size(), 2u) << "--repeat 2: two fresh heaps";
    for (const auto &a : lines(r.out, "rca-duk accounting")) EXPECT_EQ(a.at("ok"), "1") << r.out;
  }
}

TEST_P(DukVariant, PlacementFromTheEnvironment) {
  const std::string v = GetParam();
  const std::string pl = is_inline(v) ? "inline" : is_computed(v) ? "computed" : "padded";
  const result r = run("RCA_PLACEMENT=" + pl + " " + bin(v) + " " + js("dict.js") + " 500");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(lines(r.out, "rca-duk run").at(0).at("placement"), pl);
}

TEST_P(DukVariant, PreforkReportsEveryWorker) {
  const std::string v = GetParam();
  for (bool freeze : {false, true}) {
    if (freeze && !has_freeze(v)) continue;
    SCOPED_TRACE(freeze ? "frozen" : "not frozen");
    const result r = run(bin(v) + " --prefork 2 " + (freeze ? "--freeze " : "") + js("prefork_setup.js") + " " +
                         js("prefork_task.js") + " 3000");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto workers = lines(r.out, "rca-duk worker");
    ASSERT_EQ(workers.size(), 2u) << r.out;
    for (const auto &w : workers) {
      EXPECT_EQ(w.at("ok"), "1");
      ASSERT_TRUE(w.count("obj_pages_shared")) << "pagemap figures missing: " << r.out;
      EXPECT_GT(num(w, "obj_pages_shared"), 0);
      EXPECT_LE(num(w, "obj_pages_private"), num(w, "obj_pages_shared"));
      EXPECT_LE(num(w, "rc_pages_private"), num(w, "rc_pages_shared"));
      EXPECT_GE(num(w, "minflt"), 0);
      // Handle builds keep every count in refcount pages; inline builds have none.
      if (is_inline(v)) {
        EXPECT_EQ(num(w, "rc_pages_shared"), 0);
      } else {
        EXPECT_GT(num(w, "rc_pages_shared"), 0);
      }
      // Not frozen, the task's increfs must write every refcount page it reads through.
      if (!freeze && !is_inline(v)) {
        EXPECT_GT(num(w, "rc_pages_private"), 0);
      }
    }
    const auto pre = lines(r.out, "rca-duk prefork");
    ASSERT_EQ(pre.size(), 1u);
    if (freeze) {
      EXPECT_GT(num(pre[0], "frozen"), 1000);
    }
    for (const auto &a : lines(r.out, "rca-duk accounting")) EXPECT_EQ(a.at("ok"), "1") << r.out;
  }
}

TEST_P(DukVariant, ThreadsShareOneRcaHeapWithExactAccounting) {
  const std::string v = GetParam();
  const std::string pl = is_inline(v) ? "inline" : is_computed(v) ? "computed" : "thread";
  const result r = run(bin(v) + " --placement " + pl + " --threads 3 " + js("dict.js") + " 2000");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto ts = lines(r.out, "rca-duk thread ");
  ASSERT_EQ(ts.size(), 3u) << r.out;
  long sum = 0;
  for (const auto &t : ts) {
    EXPECT_EQ(t.at("ok"), "1");
    EXPECT_EQ(num(t, "destroyed_live"), 0);
    sum += num(t, "duk_objects");
  }
  const auto all = lines(r.out, "rca-duk accounting when=all_threads_live");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(num(all[0], "duk_objects"), sum);
  EXPECT_EQ(num(all[0], "rca_live_slots"), has_slots(v) ? sum : 0);
  EXPECT_EQ(num(lines(r.out, "rca-duk threads").at(0), "rca_live_slots_after"), 0);
}

INSTANTIATE_TEST_SUITE_P(Variants, DukVariant, ::testing::ValuesIn(kVariants),
                         [](const auto &info) {
                           std::string s = info.param;
                           for (char &c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// ---- errors -----------------------------------------------------------------------------------

std::string any_handle_build() {
  for (const auto &v : kVariants)
    if (!is_inline(v)) return v;
  return kVariants.front();
}

TEST(DukErrors, UnknownPlacement) {
  const result r = run(bin(any_handle_build()) + " --placement sideways " + js("dict.js"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown placement 'sideways'"), std::string::npos) << r.out;
}

TEST(DukErrors, PlacementThatDoesNotFitTheBuild) {
  for (const auto &v : kVariants) {
    const result r = run(bin(v) + " --placement " + (is_inline(v) ? "shared " : "inline ") + js("dict.js"));
    EXPECT_EQ(r.status, 2) << v;
    EXPECT_NE(r.out.find("placement"), std::string::npos) << r.out;
  }
}

TEST(DukErrors, MissingScript) {
  const result r = run(bin(kVariants.front()) + " /nonexistent/dir/missing.js");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cannot read script '/nonexistent/dir/missing.js'"), std::string::npos) << r.out;
}

TEST(DukErrors, JsExceptionExitsNonZeroWithTheMessage) {
  const std::string path = ::testing::TempDir() + "rca_vms_throw.js";
  std::ofstream(path) << "var a = [1, 2];\nif (a.length === 2) throw new Error('self-check failed: 42');\n";
  const result r = run(bin(kVariants.front()) + " " + path);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("JS exception"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("self-check failed: 42"), std::string::npos) << r.out;
  std::remove(path.c_str());
}

TEST(DukErrors, SyntaxErrorExitsNonZero) {
  const std::string path = ::testing::TempDir() + "rca_vms_syntax.js";
  std::ofstream(path) << "var = ;\n";
  const result r = run(bin(kVariants.front()) + " " + path);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("SyntaxError"), std::string::npos) << r.out;
  std::remove(path.c_str());
}

TEST(DukErrors, FreezeNeedsTheFreezeCheck) {
  for (const auto &v : kVariants) {
    if (has_freeze(v)) continue;
    const result r = run(bin(v) + " --prefork 1 --freeze " + js("prefork_setup.js") + " " + js("prefork_task.js") + " 10");
    EXPECT_EQ(r.status, 2) << v;
    EXPECT_NE(r.out.find("freeze check"), std::string::npos) << r.out;
  }
}

TEST(DukBackends, ObjectMemoryFromEveryBackend) {
  for (const char *b : {"system", "mimalloc", "jemalloc"}) {
    SCOPED_TRACE(b);
    const result r = run(bin(any_handle_build()) + " --backend " + b + " " + js("dict.js") + " 2000");
    if (r.status == 2 && r.out.find("is not available") != std::string::npos) continue;  // not on this machine
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(lines(r.out, "rca-duk run").at(0).at("backend"), b);
    for (const auto &a : lines(r.out, "rca-duk accounting")) EXPECT_EQ(a.at("ok"), "1") << r.out;
  }
  const result bad = run(bin(any_handle_build()) + " --backend tcmalloc " + js("dict.js"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("unknown backend 'tcmalloc'"), std::string::npos) << bad.out;
}

TEST(DukLauncher, PicksTheVariant) {
  const std::string launcher = std::string(RCA_VMS_BIN_DIR) + "/rca-duk";
  const std::string v = kVariants.back();
  const result r = run(launcher + " --variant " + v + " " + js("dict.js") + " 500");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(lines(r.out, "rca-duk run").at(0).at("variant"), v);
  const result bad = run(launcher + " --variant nonesuch " + js("dict.js"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("no build of variant 'nonesuch'"), std::string::npos) << bad.out;
}

}  // namespace
