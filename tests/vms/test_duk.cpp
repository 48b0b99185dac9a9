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

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> v;
  std::size_t at = 0;
  for (std::size_t nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
    v.push_back(text.substr(at, nl - at));
  if (at < text.size()) v.push_back(text.substr(at));
  return v;
}

std::string bin(const std::string &variant) {
  return std::string(RCA_VMS_BIN_DIR) + "/rca-duk-" + variant;
}
std::string js(const std::string &name) { return std::string(RCA_VMS_JS_DIR) + "/" + name; }
bool is_inline(const std::string &v) { return v.rfind("inline", 0) == 0; }
// Computed builds: no count in the header, no slot; counts in refcount pages all the same.
bool is_computed(const std::string &v) { return v.rfind("computed", 0) == 0; }
bool has_freeze(const std::string &v) { return v.find("nofreeze") == std::string::npos; }
bool is_side(const std::string &v) {
  return v.size() > 5 && v.compare(v.size() - 5, 5, "-side") == 0;
}
// Every heap object of a handle build holds a slot for its count, and of the inline side-bits
// build one for its position; computed builds (no side-bits variant) hold none.
bool has_slots(const std::string &v) { return (!is_inline(v) && !is_computed(v)) || is_side(v); }
// The placements a build runs under (the first is its default).
std::vector<std::string> placements_of(const std::string &v) {
  if (is_computed(v)) return {"computed"};
  if (!has_slots(v)) return {"inline"};
  return {"shared", "thread", "padded"};
}

// Programs and a small size each (test mode): semantics, not speed.
struct program {
  const char *file, *size;
};
const program kPrograms[] = {{"binary_trees.js", "6"},    {"richards.js", "2"},
                             {"string_build.js", "3000"}, {"sort.js", "3000"},
                             {"dict.js", "6000"},         {"numeric.js", "1"}};

// The run's accounting lines must say: Duktape's lists == the patch's counter == rca's live slots
// (handle builds; inline and computed builds have no slots), and zero of both after destroy.
void expect_exact_accounting(const result &r, const std::string &variant) {
  const auto live = lines(r.out, "rca-duk accounting when=after_run");
  ASSERT_EQ(live.size(), 1u) << r.out;
  const long objects = num(live[0], "duk_objects");
  EXPECT_GT(objects, 100) << "a Duktape heap holds at least its built-ins";
  EXPECT_EQ(num(live[0], "duk_live"), objects);
  EXPECT_EQ(num(live[0], "rca_live_slots"), has_slots(variant) ? objects : 0) << r.out;
  // Outside a collection no object is REACHABLE or TEMPROOT (side planes empty), and the object
  // walk reads refzero_list through 'prev', as Duktape links it.
  EXPECT_EQ(num(live[0], "side_reachable"), 0) << r.out;
  EXPECT_EQ(num(live[0], "side_temproot"), 0) << r.out;
  EXPECT_EQ(num(live[0], "refzero_walk_ok"), 1) << r.out;
  const auto dead = lines(r.out, "rca-duk accounting when=destroyed");
  ASSERT_EQ(dead.size(), 1u) << r.out;
  EXPECT_EQ(num(dead[0], "duk_live"), 0);
  EXPECT_EQ(num(dead[0], "rca_live_slots"), 0);
  EXPECT_EQ(num(dead[0], "side_bits_set"), 0) << "side bitmaps must be empty after destroy";
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
  const std::string pl = is_computed(v) ? "computed" : has_slots(v) ? "padded" : "inline";
  const result r = run("RCA_PLACEMENT=" + pl + " " + bin(v) + " " + js("dict.js") + " 500");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(lines(r.out, "rca-duk run").at(0).at("placement"), pl);
}

TEST_P(DukVariant, PreforkReportsEveryWorker) {
  const std::string v = GetParam();
  for (bool freeze : {false, true}) {
    if (freeze && !has_freeze(v)) continue;
    SCOPED_TRACE(freeze ? "frozen" : "not frozen");
    const result r = run(bin(v) + " --prefork 2 " + (freeze ? "--freeze " : "") +
                         js("prefork_setup.js") + " " + js("prefork_task.js") + " 3000");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto workers = lines(r.out, "rca-duk worker ");
    ASSERT_EQ(workers.size(), 2u) << r.out;
    for (const auto &w : workers) {
      EXPECT_EQ(w.at("ok"), "1");
      ASSERT_TRUE(w.count("obj_pages_shared")) << "pagemap figures missing: " << r.out;
      EXPECT_GT(num(w, "obj_pages_shared"), 0);
      EXPECT_LE(num(w, "obj_pages_private"), num(w, "obj_pages_shared"));
      EXPECT_LE(num(w, "rc_pages_private"), num(w, "rc_pages_shared"));
      EXPECT_GE(num(w, "minflt"), 0);
      // Handle and computed builds keep every count in refcount pages; inline builds have none
      // (the inline side-bits build has slots for positions only).
      if (is_inline(v) && !is_side(v)) {
        EXPECT_EQ(num(w, "rc_pages_shared"), 0);
      } else {
        EXPECT_GT(num(w, "rc_pages_shared"), 0);
      }
      // Not frozen, the task's increfs must write every refcount page it reads through.
      if (!freeze && !is_inline(v)) {
        EXPECT_GT(num(w, "rc_pages_private"), 0);
      }
    }
    const auto pre = lines(r.out, "rca-duk prefork ");
    ASSERT_EQ(pre.size(), 1u);
    if (freeze) {
      EXPECT_GT(num(pre[0], "frozen"), 1000);
    }
    for (const auto &a : lines(r.out, "rca-duk accounting")) EXPECT_EQ(a.at("ok"), "1") << r.out;
  }
}

TEST_P(DukVariant, ThreadsShareOneRcaHeapWithExactAccounting) {
  const std::string v = GetParam();
  const std::string pl = is_computed(v) ? "computed" : has_slots(v) ? "thread" : "inline";
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

// The prefork host's bugs: thaw before the task is popped (else its decref is lost and it
// outlives its last reference), inline freeze thawed, collector held off without sending
// allocations into the slow path.
TEST_P(DukVariant, PreforkThawsBeforePopAndHoldsTheCollectorOffCheaply) {
  const std::string v = GetParam();
  const std::string scripts = js("prefork_setup.js") + " " + js("prefork_task.js") + " 2000";
  // A task that allocates far more than the collector's trigger allowance (about the live heap):
  // held off by the prevent count alone, every allocation after that would call the collector.
  const std::string churn = ::testing::TempDir() + "rca_vms_churn_" + v + ".js";
  std::ofstream(churn)
      << "var s = 0;\nfor (var i = 0; i < 30000; i++) { var o = { a: i, b: [i] }; s += o.b[0]; }\n"
         "if (s !== 30000 * 29999 / 2) throw new Error('churn: ' + s);\ns;\n";
  const result plain =
      run(bin(v) + " --prefork 1 " + js("prefork_setup.js") + " " + churn + " 2000");
  std::remove(churn.c_str());
  ASSERT_EQ(plain.status, 0) << plain.out;
  const auto wgc = lines(plain.out, "rca-duk worker_gc");
  ASSERT_EQ(wgc.size(), 1u) << plain.out;
  EXPECT_EQ(num(wgc[0], "ms_runs"), 0) << plain.out;
  EXPECT_EQ(num(wgc[0], "ms_rejected"), 0)
      << "an allocation took the held-off collector's slow path";
  if (has_freeze(v)) {
    const result unfrozen = run(bin(v) + " --prefork 1 " + scripts);
    ASSERT_EQ(unfrozen.status, 0) << unfrozen.out;
    const auto after = lines(unfrozen.out, "rca-duk accounting when=after_prefork");
    ASSERT_EQ(after.size(), 1u);
    const result frozen = run(bin(v) + " --prefork 1 --freeze " + scripts);
    ASSERT_EQ(frozen.status, 0) << frozen.out;
    const auto fa = lines(frozen.out, "rca-duk accounting when=after_prefork");
    ASSERT_EQ(fa.size(), 1u);
    EXPECT_EQ(num(fa[0], "duk_objects"), num(after[0], "duk_objects"))
        << "frozen, the popped task was not freed: " << frozen.out;
    EXPECT_GT(num(lines(frozen.out, "rca-duk thaw").at(0), "thawed"), 1000) << frozen.out;
  }
  // Collection on: a forced full collection after each of 3 tasks runs in the worker.
  const result gc = run(bin(v) + " --prefork 1 --gc-per-task --tasks 3 " + scripts);
  ASSERT_EQ(gc.status, 0) << gc.out;
  const auto g = lines(gc.out, "rca-duk worker_gc");
  ASSERT_EQ(g.size(), 1u) << gc.out;
  EXPECT_GE(num(g[0], "ms_runs"), 3);
  const auto w = lines(gc.out, "rca-duk worker ");
  EXPECT_EQ(num(w.at(0), "tasks"), 3);
  EXPECT_LE(num(w.at(0), "task_ms_min"), num(w.at(0), "task_ms_median"));
  EXPECT_LE(num(w.at(0), "task_ms_median"), num(w.at(0), "task_ms_max"));
  const auto mem = lines(gc.out, "rca-duk prefork_memory");
  ASSERT_EQ(mem.size(), 1u) << gc.out;
  if (!mem[0].count("memory")) {
    EXPECT_GT(num(mem[0], "pss_kb_sum"), 0);
    EXPECT_GE(num(mem[0], "rss_kb_sum"), num(mem[0], "pss_kb_sum"));
    EXPECT_GE(num(mem[0], "pss_kb_sum"), num(mem[0], "uss_kb_sum"));
  }
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
    if (has_slots(v)) return v;
  return kVariants.front();
}

TEST(DukErrors, UnknownPlacement) {
  const result r = run(bin(any_handle_build()) + " --placement sideways " + js("dict.js"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("unknown placement 'sideways'"), std::string::npos) << r.out;
}

TEST(DukErrors, PlacementThatDoesNotFitTheBuild) {
  for (const auto &v : kVariants) {
    const result r =
        run(bin(v) + " --placement " + (has_slots(v) ? "inline " : "shared ") + js("dict.js"));
    EXPECT_EQ(r.status, 2) << v;
    EXPECT_NE(r.out.find("placement"), std::string::npos) << r.out;
  }
}

TEST(DukErrors, MissingScript) {
  const result r = run(bin(kVariants.front()) + " /nonexistent/dir/missing.js");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("cannot read script '/nonexistent/dir/missing.js'"), std::string::npos)
      << r.out;
}

TEST(DukErrors, JsExceptionExitsNonZeroWithTheMessage) {
  const std::string path = ::testing::TempDir() + "rca_vms_throw.js";
  std::ofstream(path)
      << "var a = [1, 2];\nif (a.length === 2) throw new Error('self-check failed: 42');\n";
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
    const result r = run(bin(v) + " --prefork 1 --freeze " + js("prefork_setup.js") + " " +
                         js("prefork_task.js") + " 10");
    EXPECT_EQ(r.status, 2) << v;
    EXPECT_NE(r.out.find("freeze check"), std::string::npos) << r.out;
  }
}

TEST(DukErrors, ThreadsWithSideBitsNeedTheThreadPlacement) {
  for (const auto &v : kVariants) {
    if (!is_side(v)) continue;
    const result r = run(bin(v) + " --placement shared --threads 2 " + js("dict.js") + " 100");
    EXPECT_EQ(r.status, 2) << v;
    EXPECT_NE(r.out.find("needs --placement thread"), std::string::npos) << r.out;
  }
}

TEST(DukBackends, ObjectMemoryFromEveryBackend) {
  for (const char *b : {"system", "mimalloc", "jemalloc"}) {
    SCOPED_TRACE(b);
    const result r =
        run(bin(any_handle_build()) + " --backend " + b + " " + js("dict.js") + " 2000");
    if (r.status == 2 && r.out.find("is not available") != std::string::npos)
      continue;  // not on this machine
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_EQ(lines(r.out, "rca-duk run").at(0).at("backend"), b);
    for (const auto &a : lines(r.out, "rca-duk accounting")) EXPECT_EQ(a.at("ok"), "1") << r.out;
  }
  const result bad = run(bin(any_handle_build()) + " --backend tcmalloc " + js("dict.js"));
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.out.find("unknown backend 'tcmalloc'"), std::string::npos) << bad.out;
}

// Finalizer order, resurrection and re-finalization: the same transcript in every build, mark
// bits in the header or in side bitmaps.
TEST(DukSideBits, FinalizerTranscriptIsTheSameInEveryBuild) {
  std::string first, first_variant;
  for (const auto &v : kVariants) {
    SCOPED_TRACE(v);
    const result r = run(bin(v) + " " + js("finalizers.js") + " 40");
    ASSERT_EQ(r.status, 0) << r.out;
    std::string transcript;
    for (const auto &l : split_lines(r.out))
      if (l.rfind("fin-log ", 0) == 0) transcript += l + "\n";
    EXPECT_GT(transcript.size(), 100u) << r.out;
    expect_exact_accounting(r, v);
    if (first_variant.empty()) {
      first = transcript;
      first_variant = v;
    } else {
      EXPECT_EQ(transcript, first) << v << " differs from " << first_variant;
    }
  }
}

// In a fork child a full collection of a side-bits build with frozen counts writes no object
// page beyond those of objects the task freed or mutated: the same task with and without a
// forced collection makes (almost) the same object pages private. With the mark bits in the
// header the collection writes every object page (the comparison that shows the test can fail).
TEST(DukSideBits, ForkedFullCollectionLeavesObjectPagesShared) {
#if defined(__SANITIZE_THREAD__)
  // TSan's runtime makes a thousand object pages private in a fork child by itself (1309 of
  // 6596 without a collection, 1617 with one): page counts mean nothing there.
  GTEST_SKIP() << "page counts under ThreadSanitizer";
#endif
  const std::string scripts = js("prefork_setup.js") + " " + js("prefork_task.js") + " 20000";
  auto private_pages = [&](const std::string &v, bool gc) {
    const result r =
        run(bin(v) + " --prefork 1 --freeze " + (gc ? "--gc-per-task " : "") + scripts);
    EXPECT_EQ(r.status, 0) << r.out;
    const auto w = lines(r.out, "rca-duk worker ");
    EXPECT_EQ(w.size(), 1u) << r.out;
    if (w.empty() || !w[0].count("obj_pages_private")) return std::pair<long, long>(-1, -1);
    if (gc) {
      EXPECT_GE(num(lines(r.out, "rca-duk worker_gc").at(0), "ms_runs"), 1) << r.out;
    }
    return std::pair<long, long>(num(w[0], "obj_pages_private"), num(w[0], "obj_pages_shared"));
  };
  int checked = 0;
  for (const auto &v : kVariants) {
    if (!has_freeze(v)) continue;
    SCOPED_TRACE(v);
    const auto without = private_pages(v, false), with = private_pages(v, true);
    if (without.first < 0 || with.first < 0) continue;  // pagemap unreadable: reported as NA
    ++checked;
    if (is_side(v)) {
      // Freed or mutated by the collection itself: the task's garbage (a few objects) and the
      // few thread and heap structures it updates; never the data set.
      EXPECT_LE(with.first - without.first, with.second / 50 + 8)
          << "a collection made " << with.first << " of " << with.second
          << " object pages private (" << without.first << " without it)";
    } else {
      // Header mark bits: the collection writes every page holding an object (a fifth of the
      // shared pages at least; sanitizer builds count their allocator's pages as shared too).
      EXPECT_GT(with.first - without.first, with.second / 5)
          << "header mark bits: object pages written";
    }
  }
  if (!checked) GTEST_SKIP() << "pagemap not readable here";
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
