// rcalab vm — claims C7, C5 and C3 in real VMs: Duktape retrofitted with rca (rca-duk-<variant>)
// and CPython on rca (rca-python), each run as a child process.
//
// C7  time of each count location, placement and freeze setting vs inline (Duktape as shipped:
//     inline count, no freeze check) on the JS suite: per program and geomean. Repetitions are
//     interleaved across configurations (rep 1 of every configuration, then rep 2, ...) so that
//     drift of the machine spreads over all of them. The value is the VM process's CPU time for
//     compile + run of the program (process start and heap setup excluded; wall time is kept as
//     a second series); counters cover the whole child process (inherited perf events).
// C7s the same comparison simulated: one run per configuration under cachegrind with explicit
//     cache sizes (instructions, D1 and LL misses; deterministic, so no repetitions), for
//     machines without hardware counters or with noisy neighbours.
// C5  pages a read-only forked worker makes private: inline vs out-of-line (per placement), not
//     frozen vs frozen; CPython's inline anchor (on rca, and on its own pymalloc) beside it.
// C5k prefork workers that collect garbage, as a server operator measures them: K = 1, 2, 4, 8
//     workers each run the task T times with the collector on (voluntary, or a forced full
//     collection after each task); per worker the pages made private split object / refcount /
//     GC metadata (the side bitmaps of the -side builds), and for all processes together the
//     summed PSS and USS (smaps_rollup) against one process's RSS; time per task.
// C3  N independent Duktape heaps in N threads sharing one rca heap: shared vs thread vs padded
//     refcount pages vs inline, wall time.
#include "vm_parts.hpp"
#include "rcalab/experiment.hpp"
#include "harness/command.hpp"
#include "harness/measure.hpp"
#include "harness/progress.hpp"

#include <sys/stat.h>
#include <sys/wait.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace rca::lab {
namespace {

#ifndef RCA_VMS_BIN_DIR
#define RCA_VMS_BIN_DIR ""
#endif
#ifndef RCA_VMS_JS_DIR
#define RCA_VMS_JS_DIR ""
#endif
#ifndef RCA_VMS_PY_DIR
#define RCA_VMS_PY_DIR ""
#endif

using kv = key_values;

double num(const kv &m, const std::string &k) {
  auto it = m.find(k);
  return it == m.end() ? NAN : std::atof(it->second.c_str());
}

bool exists(const std::string &p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string duk(const std::string &variant) {
  return std::string(RCA_VMS_BIN_DIR) + "/rca-duk-" + variant;
}
std::string js(const std::string &f) { return std::string(RCA_VMS_JS_DIR) + "/" + f; }

struct config {
  std::string variant, placement;
  std::string name() const { return variant + "/" + placement; }
  std::string handle_kind() const {
    if (variant.rfind("computed", 0) == 0) return "span";  // the address function, no handle
    return variant.rfind("idx", 0) == 0   ? "index"
           : variant.rfind("ptr", 0) == 0 ? "pointer"
                                          : "none";
  }
  std::string semantics() const {
    return variant.find("nofreeze") != std::string::npos ? "plain" : "plain+freeze_check";
  }
};

row vm_row(context &ctx, const char *claim, const config &c, const std::string &backend) {
  row r = ctx.base("vm", claim);
  r.set("variant", c.variant).set("placement", c.placement).set("handle", c.handle_kind());
  r.set("slot_bits", 32)
      .set("semantics", c.semantics())
      .set("backend", c.placement == "computed" ? "rca" : backend);
  return r;
}

// The computed builds (no count in the header), where they were built: `variants` in that order.
void add_computed(std::vector<config> &configs, std::initializer_list<const char *> variants) {
  for (const char *v : variants)
    if (exists(duk(v))) configs.push_back({v, "computed"});
}

std::string backend_of(const options &opt) {
  return opt.backends.empty() ? "system" : rca_backend_name(opt.backends.front());
}

// Placements of handle builds to run: --placements (handle ones), or the experiment's default.
std::vector<std::string> handle_placements(const options &opt, std::vector<std::string> dflt) {
  std::vector<std::string> v;
  for (auto p : opt.placements)
    if (p == RCA_PLACEMENT_SHARED || p == RCA_PLACEMENT_THREAD || p == RCA_PLACEMENT_PADDED)
      v.push_back(rca_placement_name(p));
  return v.empty() ? dflt : v;
}

// ---- C7 -----------------------------------------------------------------------------------------

int part_c7(context &ctx) {
  const options &opt = ctx.opt;
  const std::string backend = backend_of(opt);
  struct program {
    const char *file, *size, *quick_size;
  };
  const std::vector<program> programs = {
      {"binary_trees.js", "12", "10"},       {"richards.js", "30", "8"},
      {"string_build.js", "60000", "15000"}, {"sort.js", "40000", "10000"},
      {"dict.js", "200000", "50000"},        {"numeric.js", "6", "2"}};
  std::vector<config> configs = {{"inline-nofreeze", "inline"}, {"inline-freeze", "inline"}};
  for (const auto &pl : handle_placements(opt, {"shared", "thread", "padded"})) {
    configs.push_back({"idx-nofreeze", pl});
    configs.push_back({"idx-freeze", pl});
  }
  configs.push_back({"ptr-nofreeze", "shared"});
  configs.push_back({"ptr-freeze", "shared"});
  add_computed(configs, {"computed-nofreeze", "computed-freeze"});
  const config &baseline = configs.front();

  std::map<std::pair<std::string, std::string>, summary> med;              // (config, program)
  std::map<std::pair<std::string, std::string>, std::vector<double>> cpu;  // its repetitions
  progress bar("vm C7", programs.size());
  for (const auto &p : programs) {
    const char *size = opt.quick ? p.quick_size : p.size;
    std::vector<std::vector<sample>> samples(configs.size()), wall(configs.size());
    std::vector<kv> last_stats(configs.size());
    for (int rep = -opt.warmup; rep < opt.reps; ++rep) {
      for (std::size_t c = 0; c < configs.size(); ++c) {
        const std::string cmd = duk(configs[c].variant) + " --placement " + configs[c].placement +
                                " --backend " + backend + " " + js(p.file) + " " + size;
        ctx.counters.start();
        command_output o = run_command(cmd);
        counter_values cv = ctx.counters.stop();
        const auto res = key_value_lines(o.out, "rca-duk result");
        if (o.status != 0 || res.size() != 1) {
          ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
          return 1;
        }
        const auto st = key_value_lines(o.out, "rca-duk stats");
        if (!st.empty()) last_stats[c] = st[0];
        if (rep >= 0) {
          samples[c].push_back(sample{num(res[0], "cpu_ms"), cv});
          wall[c].push_back(sample{num(res[0], "ms"), cv});
        }
      }
    }
    for (std::size_t c = 0; c < configs.size(); ++c) {
      row r = vm_row(ctx, "C7", configs[c], backend);
      r.set("threads", 1).set("method", "vm_process_cputime");
      r.param("program", p.file).param("size", size);
      r.param("refcount_pages_peak", num(last_stats[c], "refcount_pages_peak"));
      r.param("slots_allocated", num(last_stats[c], "slots_allocated"));
      med[{configs[c].name(), p.file}] =
          emit_series(ctx.out, "vm", r, "run_cpu_ms", "ms", samples[c]);
      for (const sample &s : samples[c]) cpu[{configs[c].name(), p.file}].push_back(s.value);
      r.set("method", "vm_wall_clock");
      emit_series(ctx.out, "vm", r, "run_wall_ms", "ms", wall[c]);
    }
    bar.step(p.file);
  }

  // Per program ratio to the baseline, and the geomean of the ratios, per configuration; each with
  // its bootstrap interval, paired by repetition (every configuration ran in each repetition).
  for (const auto &c : configs) {
    double logsum = 0;
    int n = 0, beyond = 0;
    std::vector<compared_series> all;
    for (const auto &p : programs) {
      const summary &a = med[{c.name(), p.file}], &b = med[{baseline.name(), p.file}];
      const double ratio = a.median / b.median;
      all.push_back({cpu[{c.name(), p.file}], cpu[{baseline.name(), p.file}]});
      const interval ci = bootstrap_ratio({all.back()}, /*paired=*/true);
      row r = vm_row(ctx, "C7", c, backend);
      r.set("threads", 1)
          .set("method", "ratio_of_medians")
          .param("program", p.file)
          .param("baseline", baseline.name());
      r.set("stat", "ratio").set("metric", "time_vs_inline").set("value", ratio).set("unit", "x");
      r.set("min", a.min / b.max).set("max", a.max / b.min).set("ci_lo", ci.lo).set("ci_hi", ci.hi);
      ctx.out.write("vm", r);
      logsum += std::log(ratio);
      beyond += beyond_noise(a, b);
      ++n;
    }
    const double geo = std::exp(logsum / n);
    row r = vm_row(ctx, "C7", c, backend);
    r.set("threads", 1).set("method", "geomean_of_ratios").param("baseline", baseline.name());
    r.param("programs_beyond_noise", static_cast<double>(beyond));
    r.set("stat", "geomean")
        .set("n", n)
        .set("metric", "time_vs_inline")
        .set("value", geo)
        .set("unit", "x");
    const interval ci = bootstrap_ratio(all, /*paired=*/true);
    r.set("ci_lo", ci.lo).set("ci_hi", ci.hi);
    ctx.out.write("vm", r);
    ctx.note("C7 %-22s geomean %.4fx vs %s (%d of %d programs beyond noise)", c.name().c_str(), geo,
             baseline.name().c_str(), beyond, n);
  }
  return 0;
}

// ---- C7 simulated
// ----------------------------------------------------------------------------------

}  // namespace

std::map<std::string, double> cachegrind_summary(const std::string &text) {
  std::map<std::string, double> m;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find("== ");
    if (line.rfind("==", 0) != 0 || eq == std::string::npos) continue;
    std::string rest = line.substr(eq + 3);
    const auto colon = rest.find(':');
    if (colon == std::string::npos) continue;
    std::string key = rest.substr(0, colon), val;
    for (char ch : rest.substr(colon + 1)) {
      if (ch == '(') break;
      if (ch >= '0' && ch <= '9') val += ch;
    }
    std::string k;
    for (char ch : key)
      if (ch != ' ') k += ch;
    if (!val.empty()) m[k] = std::atof(val.c_str());
  }
  return m;
}

const char *const kCachegrindMethod = "cachegrind I1=32K/8 D1=32K/8 LL=32M/16 line 64";

std::string cachegrind_command(const std::string &out_file) {
  return "valgrind --tool=cachegrind --cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 "
         "--LL=33554432,16,64 --cachegrind-out-file=" +
         out_file + " ";
}

namespace {

int part_c7sim(context &ctx) {
  const options &opt = ctx.opt;
  const std::string backend = backend_of(opt);
  char cg_file[] = "/tmp/rcalab-vm-cachegrind-XXXXXX";
  const int cg_fd = mkstemp(cg_file);
  if (cg_fd < 0) {
    ctx.note("vm: mkstemp failed: no simulated C7");
    return 0;
  }
  close(cg_fd);
  const std::string cg = cachegrind_command(cg_file);
  const char *method = kCachegrindMethod;
  if (run_command("valgrind --version").status != 0) {
    ctx.note("vm: valgrind not found: no simulated C7");
    return 0;
  }
  struct program {
    const char *file, *size;
  };
  const std::vector<program> programs = {{"binary_trees.js", "9"},    {"richards.js", "4"},
                                         {"string_build.js", "8000"}, {"sort.js", "5000"},
                                         {"dict.js", "25000"},        {"numeric.js", "1"}};
  std::vector<config> configs = {{"inline-nofreeze", "inline"}, {"inline-freeze", "inline"}};
  for (const auto &pl : handle_placements(opt, {"shared", "thread", "padded"}))
    configs.push_back({"idx-freeze", pl});
  configs.push_back({"idx-nofreeze", "shared"});
  configs.push_back({"ptr-nofreeze", "shared"});
  configs.push_back({"ptr-freeze", "shared"});
  add_computed(configs, {"computed-nofreeze", "computed-freeze"});
  const std::vector<std::pair<const char *, const char *>> metrics = {
      {"Irefs", "instructions"},
      {"D1misses", "d1_misses"},
      {"LLmisses", "ll_misses"},
      {"InRca", "instructions_in_rca"},
      {"InMutex", "instructions_in_pthread_mutex"}};
  std::map<std::pair<std::string, std::string>, std::map<std::string, double>> got;
  progress bar("vm C7 simulated", programs.size());
  for (const auto &p : programs) {
    for (const auto &c : configs) {
      const std::string cmd = cg + duk(c.variant) + " --placement " + c.placement + " --backend " +
                              backend + " " + js(p.file) + " " + p.size;
      command_output o = run_command(cmd);
      auto m = cachegrind_summary(o.out);
      if (o.status != 0 || !m.count("Irefs")) {
        ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
        return 1;
      }
      // Where the instructions went: rca's own functions, and the mutexes they take (Duktape
      // and glibc malloc take none), from cg_annotate's per-function table.
      command_output ann = run_command(
          "cg_annotate --show=Ir --threshold=0 --auto=no --show-percs=no " + std::string(cg_file));
      double in_rca = 0, in_mutex = 0;
      std::istringstream al(ann.out);
      for (std::string line; std::getline(al, line);) {
        std::size_t i = 0;
        while (i < line.size() && line[i] == ' ') ++i;
        std::string digits;
        for (; i < line.size() &&
               (std::isdigit(static_cast<unsigned char>(line[i])) || line[i] == ',');
             ++i)
          if (line[i] != ',') digits += line[i];
        if (digits.empty() || line.find("PROGRAM TOTALS") != std::string::npos) continue;
        const std::string fn = line.substr(i);
        if (fn.find("rca_") != std::string::npos || fn.find("rca::") != std::string::npos)
          in_rca += std::atof(digits.c_str());
        else if (fn.find("pthread_mutex") != std::string::npos)
          in_mutex += std::atof(digits.c_str());
      }
      m["InRca"] = in_rca;
      m["InMutex"] = in_mutex;
      got[{c.name(), p.file}] = m;
      for (const auto &[key, metric] : metrics) {
        row r = vm_row(ctx, "C7", c, backend);
        r.set("threads", 1).set("method", method).param("program", p.file).param("size", p.size);
        r.param("scope", "whole process");
        r.set("rep", 0)
            .set("stat", "raw")
            .set("n", 1)
            .set("metric", metric)
            .set("value", m[key])
            .set("unit", "count");
        ctx.out.write("vm", r);
      }
    }
    bar.step(p.file);
  }
  std::remove(cg_file);
  const config &baseline = configs.front();
  for (const auto &c : configs) {
    // The extra instructions over the baseline, and the part of them spent inside rca (slot
    // allocation and release, pool locks) rather than on the count hops in Duktape's code.
    double extra = 0, extra_rca = 0;
    for (const auto &p : programs) {
      auto &a = got[{c.name(), p.file}], &b = got[{baseline.name(), p.file}];
      extra += a["Irefs"] - b["Irefs"];
      extra_rca += (a["InRca"] + a["InMutex"]) - (b["InRca"] + b["InMutex"]);
    }
    if (c.name() != baseline.name()) {
      row r = vm_row(ctx, "C7", c, backend);
      r.set("threads", 1).set("method", method).param("baseline", baseline.name());
      r.set("stat", "sum")
          .set("n", static_cast<int>(programs.size()))
          .set("metric", "extra_instructions_share_in_rca");
      r.set("value", extra > 0 ? extra_rca / extra : NAN).set("unit", "fraction");
      ctx.out.write("vm", r);
      ctx.note(
          "C7s %-22s extra instructions over %s: %.0f, of which %.1f%% inside rca (slots, pool "
          "locks)",
          c.name().c_str(), baseline.name().c_str(), extra,
          extra > 0 ? 100.0 * extra_rca / extra : 0.0);
    }
    for (const auto &[key, metric] : metrics) {
      double logsum = 0;
      int n = 0;
      for (const auto &p : programs) {
        const double a = got[{c.name(), p.file}][key], b = got[{baseline.name(), p.file}][key];
        if (a <= 0 || b <= 0) continue;
        logsum += std::log(a / b);
        ++n;
      }
      if (!n) continue;
      const double geo = std::exp(logsum / n);
      row r = vm_row(ctx, "C7", c, backend);
      r.set("threads", 1).set("method", method).param("baseline", baseline.name());
      r.set("stat", "geomean")
          .set("n", n)
          .set("metric", std::string(metric) + "_vs_inline")
          .set("value", geo)
          .set("unit", "x");
      r.set("ci_lo", geo).set("ci_hi", geo);  // one simulated run each: an exact measure
      ctx.out.write("vm", r);
      ctx.note("C7s %-22s %-12s geomean %.4fx vs %s", c.name().c_str(), metric, geo,
               baseline.name().c_str());
    }
  }
  return 0;
}

// ---- C5 -----------------------------------------------------------------------------------------

void emit_workers(context &ctx, const config &c, const std::string &backend, const std::string &vm,
                  bool frozen, const std::string &records, const std::vector<kv> &workers,
                  summary *heap_pct) {
  auto series = [&](const char *metric, const char *unit, const char *key) {
    std::vector<sample> s;
    for (const auto &w : workers) {
      sample x;
      x.value = num(w, key);
      x.counters[event::minor_faults] = num(w, "minflt");
      s.push_back(x);
    }
    row r = vm_row(ctx, "C5", c, backend);
    r.set("threads", 1).set("method", "pagemap_exclusive_bit56");
    r.param("vm", vm).param("frozen", frozen ? "1" : "0").param("records", records);
    r.param("workers", static_cast<double>(workers.size()));
    if (!workers.empty()) {
      r.param("obj_pages_shared", num(workers[0], "obj_pages_shared"));
      r.param("rc_pages_shared", num(workers[0], "rc_pages_shared"));
    }
    return emit_series(ctx.out, "vm", r, metric, unit, s);
  };
  *heap_pct = series("heap_private_pct", "%", "heap_private_pct");
  series("object_pages_private", "pages", "obj_pages_private");
  series("refcount_pages_private", "pages", "rc_pages_private");
  series("worker_ms", "ms", "ms");
}

int part_c5(context &ctx) {
  const options &opt = ctx.opt;
  const std::string backend = backend_of(opt);
  const int workers = opt.children ? opt.children : 2;
  const std::string records =
      opt.objects.empty() ? (opt.quick ? "50000" : "200000") : std::to_string(opt.objects.front());
  std::vector<config> configs = {{"inline-freeze", "inline"}};
  for (const auto &pl : handle_placements(opt, {"shared", "thread", "padded"}))
    configs.push_back({"idx-freeze", pl});
  configs.push_back({"ptr-freeze", "shared"});
  add_computed(configs, {"computed-freeze"});
  for (const auto &c : configs) {
    for (bool frozen : {false, true}) {
      const std::string cmd = duk(c.variant) + " --placement " + c.placement + " --backend " +
                              backend + " --prefork " + std::to_string(workers) +
                              (frozen ? " --freeze " : " ") + js("prefork_setup.js") + " " +
                              js("prefork_task.js") + " " + records;
      command_output o = run_command(cmd);
      const auto ws = key_value_lines(o.out, "rca-duk worker ");
      if (o.status != 0 || ws.size() != std::size_t(workers) || !ws[0].count("heap_private_pct")) {
        ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
        return 1;
      }
      summary s;
      emit_workers(ctx, c, backend, "duktape", frozen, records, ws, &s);
      ctx.note(
          "C5 duktape %-20s %-6s heap private %.2f%% (objects %s/%s pages, refcounts %s/%s pages)",
          c.name().c_str(), frozen ? "frozen" : "", s.median, ws[0].at("obj_pages_private").c_str(),
          ws[0].at("obj_pages_shared").c_str(), ws[0].at("rc_pages_private").c_str(),
          ws[0].at("rc_pages_shared").c_str());
    }
  }
  // CPython's inline anchor: on rca (system backend) and on CPython's own allocator.
  const std::string py = std::string(RCA_VMS_BIN_DIR) + "/rca-python";
  if (exists(py)) {
    const std::string n = opt.quick ? "200000" : "1000000";
    for (bool on_rca : {true, false}) {
      const std::string cmd = py + (on_rca ? " --backend " + backend : std::string(" --no-rca")) +
                              " --prefork " + std::to_string(workers) + " " + RCA_VMS_PY_DIR +
                              "/cow_setup.py " + RCA_VMS_PY_DIR + "/cow_task.py " + n;
      command_output o = run_command(cmd);
      const auto ws = key_value_lines(o.out, "rca-python worker ");
      if (o.status != 0 || ws.size() != std::size_t(workers) || !ws[0].count("heap_private_pct")) {
        ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
        return 1;
      }
      summary s;
      config c{on_rca ? "cpython-on-rca" : "cpython-pymalloc", "inline"};
      emit_workers(ctx, c, on_rca ? backend : "pymalloc", "cpython", false, n, ws, &s);
      ctx.note("C5 cpython %-20s heap private %.2f%% (1M-tuple anchor: %s tuples)",
               c.variant.c_str(), s.median, n.c_str());
    }
  } else {
    ctx.note("vm: %s not built: no CPython anchor", py.c_str());
  }
  // Verdicts: experiments/plots/verdicts.py (rules C5 vm, C7, C2 vm, C3 vm).
  return 0;
}

// ---- C5k: prefork workers that collect
// -----------------------------------------------------------

// One prefork run's rows: per worker series (private pages by kind, time per task) and the
// memory of all processes together. Returns the heap private share and PSS / one RSS.
struct prefork_result {
  summary heap_pct, pss_ratio;
  bool have_memory = false;
};

prefork_result emit_prefork(context &ctx, const config &c, const std::string &backend,
                            const std::string &vm, const std::string &gc,
                            const std::string &records, int tasks, int k, bool counts_frozen,
                            const std::vector<kv> &workers, const kv &memory) {
  prefork_result res;
  auto base = [&](const char *method) {
    row r = vm_row(ctx, "C5", c, backend);
    r.set("threads", 1).set("method", method);
    // counts_frozen, not frozen: the C5 vm verdict (read-only workers, collector held off) must
    // not take these rows of collecting workers for its own.
    r.param("vm", vm)
        .param("counts_frozen", counts_frozen ? "1" : "0")
        .param("gc", gc)
        .param("records", records);
    r.param("tasks", static_cast<double>(tasks)).param("workers", static_cast<double>(k));
    return r;
  };
  auto series = [&](const char *metric, const char *unit, const char *key, const char *method) {
    std::vector<sample> s;
    for (const auto &w : workers) {
      sample x;
      x.value = num(w, key);
      x.counters[event::minor_faults] = num(w, "minflt");
      s.push_back(x);
    }
    return emit_series(ctx.out, "vm", base(method), metric, unit, s);
  };
  res.heap_pct = series("heap_private_pct", "%", "heap_private_pct", "pagemap_exclusive_bit56");
  series("object_pages_private", "pages", "obj_pages_private", "pagemap_exclusive_bit56");
  series("refcount_pages_private", "pages", "rc_pages_private", "pagemap_exclusive_bit56");
  series("gc_pages_private", "pages", "gc_pages_private", "pagemap_exclusive_bit56");
  series("gc_pages_new", "pages", "gc_pages_new", "pagemap_exclusive_bit56");
  series("task_ms", "ms", "task_ms_median", "worker_median_of_tasks");
  series("task_ms_min", "ms", "task_ms_min", "worker_min_of_tasks");
  series("task_ms_max", "ms", "task_ms_max", "worker_max_of_tasks");
  if (memory.count("pss_kb_sum")) {
    res.have_memory = true;
    for (const char *key :
         {"pss_kb_sum", "uss_kb_sum", "rss_kb_sum", "one_rss_kb", "pss_vs_one_rss"}) {
      row r = base("smaps_rollup_parent_and_workers");
      const bool ratio = std::string(key) == "pss_vs_one_rss";
      r.set("rep", 0)
          .set("stat", "raw")
          .set("n", 1)
          .set("metric", key)
          .set("value", num(memory, key));
      r.set("unit", ratio ? "x" : "kB");
      ctx.out.write("vm", r);
    }
    const double ratio = num(memory, "pss_vs_one_rss");
    res.pss_ratio = summary{ratio, ratio, ratio};
  }
  return res;
}

int part_c5k(context &ctx) {
  const options &opt = ctx.opt;
  const std::string backend = backend_of(opt);
  const std::vector<int> ks =
      opt.children ? std::vector<int>{opt.children} : std::vector<int>{1, 2, 4, 8};
  const std::string records =
      opt.objects.empty() ? (opt.quick ? "50000" : "200000") : std::to_string(opt.objects.front());
  const int tasks = opt.quick ? 3 : 8;
  // Counts frozen in every configuration (the setting where a collection is the only writer
  // left); mark bits in the header (Duktape as shipped) or in side bitmaps.
  std::vector<config> configs = {
      {"inline-freeze", "inline"}, {"idx-freeze", "shared"}, {"ptr-freeze", "shared"}};
  for (const char *v : {"inline-freeze-side", "idx-freeze-side", "ptr-freeze-side"})
    if (exists(duk(v))) configs.push_back({v, "shared"});
    else ctx.note("vm: %s not built: no side-bits rows for it", duk(v).c_str());
  const std::vector<std::pair<std::string, std::string>> gcs = {
      {"voluntary", "--worker-gc"}, {"forced_per_task", "--gc-per-task"}};
  std::map<std::string, prefork_result> got;
  progress bar("vm C5k", configs.size());
  for (const auto &c : configs) {
    for (const auto &[gc, flag] : gcs) {
      for (int k : ks) {
        const std::string cmd = duk(c.variant) + " --placement " + c.placement + " --backend " +
                                backend + " --prefork " + std::to_string(k) + " --freeze " + flag +
                                " --tasks " + std::to_string(tasks) + " " + js("prefork_setup.js") +
                                " " + js("prefork_task.js") + " " + records;
        command_output o = run_command(cmd);
        const auto ws = key_value_lines(o.out, "rca-duk worker ");
        const auto mem = key_value_lines(o.out, "rca-duk prefork_memory");
        if (o.status != 0 || ws.size() != std::size_t(k) || !ws[0].count("heap_private_pct") ||
            mem.size() != 1) {
          ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
          return 1;
        }
        const prefork_result r =
            emit_prefork(ctx, c, backend, "duktape", gc, records, tasks, k, true, ws, mem[0]);
        got[c.variant + " " + gc + " " + std::to_string(k)] = r;
        ctx.note(
            "C5k duktape %-20s %-15s K=%d heap private %.2f%% [%.2f..%.2f] (obj %s/%s, rc %s/%s, "
            "gc %s/%s "
            "+%s new) task %s ms [%s..%s]; PSS sum %s kB, USS sum %s kB, one RSS %s kB, PSS/one %s",
            c.variant.c_str(), gc.c_str(), k, r.heap_pct.median, r.heap_pct.min, r.heap_pct.max,
            ws[0].at("obj_pages_private").c_str(), ws[0].at("obj_pages_shared").c_str(),
            ws[0].at("rc_pages_private").c_str(), ws[0].at("rc_pages_shared").c_str(),
            ws[0].at("gc_pages_private").c_str(), ws[0].at("gc_pages_shared").c_str(),
            ws[0].at("gc_pages_new").c_str(), ws[0].at("task_ms_median").c_str(),
            ws[0].at("task_ms_min").c_str(), ws[0].at("task_ms_max").c_str(),
            mem[0].count("pss_kb_sum") ? mem[0].at("pss_kb_sum").c_str() : "NA",
            mem[0].count("uss_kb_sum") ? mem[0].at("uss_kb_sum").c_str() : "NA",
            mem[0].count("one_rss_kb") ? mem[0].at("one_rss_kb").c_str() : "NA",
            mem[0].count("pss_vs_one_rss") ? mem[0].at("pss_vs_one_rss").c_str() : "NA");
      }
    }
    bar.step(c.variant);
  }
  // CPython on rca (counts inline, GC header inline): the same K and a forced gc.collect() per
  // task, with and without gc.freeze().
  const std::string py = std::string(RCA_VMS_BIN_DIR) + "/rca-python";
  if (exists(py)) {
    const std::string n = opt.quick ? "200000" : "1000000";
    for (bool freeze : {false, true}) {
      for (int k : ks) {
        const std::string cmd = py + " --backend " + backend + " --prefork " + std::to_string(k) +
                                (freeze ? " --freeze" : "") + " --gc-per-task --tasks " +
                                std::to_string(tasks) + " " + RCA_VMS_PY_DIR + "/cow_setup.py " +
                                RCA_VMS_PY_DIR + "/cow_task.py " + n;
        command_output o = run_command(cmd);
        const auto ws = key_value_lines(o.out, "rca-python worker ");
        const auto mem = key_value_lines(o.out, "rca-python prefork_memory");
        if (o.status != 0 || ws.size() != std::size_t(k) || !ws[0].count("heap_private_pct") ||
            mem.size() != 1) {
          ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
          return 1;
        }
        config c{freeze ? "cpython-on-rca-gcfreeze" : "cpython-on-rca", "inline"};
        const prefork_result r = emit_prefork(ctx, c, backend, "cpython", "forced_per_task", n,
                                              tasks, k, false, ws, mem[0]);
        ctx.note("C5k cpython %-24s K=%d heap private %.2f%% task %s ms [%s..%s]; PSS/one RSS %.3f",
                 c.variant.c_str(), k, r.heap_pct.median, ws[0].at("task_ms_median").c_str(),
                 ws[0].at("task_ms_min").c_str(), ws[0].at("task_ms_max").c_str(),
                 r.have_memory ? r.pss_ratio.median : NAN);
      }
    }
  } else {
    ctx.note("vm: %s not built: no CPython rows in C5k", py.c_str());
  }
  // Rows only: verdicts come from experiments/plots/verdicts.py. The figures to hold against the
  // side-bits targets (heap private per worker, PSS / one RSS at the largest K):
  const int kmax = ks.back();
  for (const char *v : {"idx-freeze-side", "idx-freeze"}) {
    auto it = got.find(std::string(v) + " forced_per_task " + std::to_string(kmax));
    if (it != got.end())
      ctx.note(
          "C5k %s, full collection per task, K=%d: heap private max %.2f%%, summed PSS %.3fx one "
          "RSS",
          v, kmax, it->second.heap_pct.max,
          it->second.have_memory ? it->second.pss_ratio.median : NAN);
  }
  return 0;
}

// ---- C3 -----------------------------------------------------------------------------------------

int part_c3(context &ctx) {
  const options &opt = ctx.opt;
  const std::string backend = backend_of(opt);
  std::vector<unsigned> threads = opt.threads;
  if (threads.empty()) threads = {1, 2};
  const std::string size = opt.quick ? "9" : "11";
  std::vector<config> configs = {{"inline-freeze", "inline"}};
  for (const auto &pl : handle_placements(opt, {"shared", "thread", "padded"}))
    configs.push_back({"idx-freeze", pl});
  add_computed(configs, {"computed-freeze"});
  for (unsigned n : threads) {
    std::vector<std::vector<sample>> samples(configs.size()), cpu(configs.size());
    for (int rep = -opt.warmup; rep < opt.reps; ++rep) {
      for (std::size_t c = 0; c < configs.size(); ++c) {
        const std::string cmd = duk(configs[c].variant) + " --placement " + configs[c].placement +
                                " --backend " + backend + " --threads " + std::to_string(n) + " " +
                                js("binary_trees.js") + " " + size;
        ctx.counters.start();
        command_output o = run_command(cmd);
        counter_values cv = ctx.counters.stop();
        const auto t = key_value_lines(o.out, "rca-duk threads");
        if (o.status != 0 || t.size() != 1) {
          ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
          return 1;
        }
        if (rep >= 0) {
          samples[c].push_back(sample{num(t[0], "wall_ms"), cv});
          cpu[c].push_back(sample{num(t[0], "cpu_ms_sum"), cv});
        }
      }
    }
    for (std::size_t c = 0; c < configs.size(); ++c) {
      row r = vm_row(ctx, "C3", configs[c], backend);
      r.set("threads", n)
          .set("method", "vm_internal_clock")
          .param("program", "binary_trees.js")
          .param("size", size);
      const summary s = emit_series(ctx.out, "vm", r, "wall_ms", "ms", samples[c]);
      r.set("method", "vm_threads_cputime_sum");
      const summary sc = emit_series(ctx.out, "vm", r, "cpu_ms_sum", "ms", cpu[c]);
      ctx.note(
          "C3 duktape %-20s threads=%u wall %.1f ms [%.1f..%.1f], cpu sum %.1f ms [%.1f..%.1f]",
          configs[c].name().c_str(), n, s.median, s.min, s.max, sc.median, sc.min, sc.max);
    }
  }
  return 0;
}

// ---- C6 with CPython's pickle -----------------------------------------------------------------

// The same comparison as rcalab ipc, with Python's own pickle through the CPython host: a graph of
// the same shape pickled, piped to a forked child and unpickled, against raw bytes of the same
// length (python/scripts/ipc_pickle.py; repetitions interleaved).
int part_c6(context &ctx) {
  const options &opt = ctx.opt;
  const std::string py = std::string(RCA_VMS_BIN_DIR) + "/rca-python";
  if (!exists(py)) {
    ctx.note("vm: %s not built: no pickle comparison (C6)", py.c_str());
    return 0;
  }
  const std::string records =
      opt.objects.empty() ? (opt.quick ? "20000" : "200000")
                          : std::to_string(std::max<std::size_t>(1, opt.objects.front() / 8));
  const std::string backend = backend_of(opt);
  const std::string cmd = py + " --backend " + backend + " " + RCA_VMS_PY_DIR + "/ipc_pickle.py " +
                          records + " " + std::to_string(opt.reps) + " " +
                          std::to_string(opt.warmup);
  command_output o = run_command(cmd);
  const auto reps = key_value_lines(o.out, "rca-python ipc");
  if (o.status != 0 || reps.size() != 2 * static_cast<std::size_t>(opt.reps)) {
    ctx.note("vm: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
    return 1;
  }
  std::map<std::string, std::vector<sample>> series;
  for (const auto &r : reps) {
    const std::string mode = r.at("mode");
    const double objects = num(r, "objects");
    series[mode + "|round_trip_ns"].push_back(sample{num(r, "ns"), {}});
    if (mode == "pickle") {
      series[mode + "|serialise_ns_per_object"].push_back(sample{num(r, "dumps_ns") / objects, {}});
      series[mode + "|deserialise_ns_per_object"].push_back(
          sample{num(r, "loads_ns") / objects, {}});
    }
  }
  for (const char *mode : {"raw", "pickle"}) {
    row r = vm_row(ctx, "C6", {mode, "inline"}, backend);
    r.set("handle", "none")
        .set("semantics", "none")
        .set("threads", 2)
        .set("method", "cpython_pipe");
    r.set("objects", num(reps[0], "objects")).set("working_set_bytes", num(reps[0], "bytes"));
    r.param("vm", "cpython")
        .param("transport", "pipe")
        .param("records", records)
        .param("reps", "interleaved");
    r.param("serialiser", std::string(mode) == "pickle" ? "pickle protocol 5" : "none");
    for (const auto &[key, samples] : series) {
      if (key.rfind(std::string(mode) + "|", 0) != 0) continue;
      emit_series(ctx.out, "vm", r, key.substr(key.find('|') + 1), "ns", samples);
    }
  }
  return 0;
}

}  // namespace

int run_vm(context &ctx) {
  // RCALAB_VM_PARTS=c7,c7s,c5,c5k,c3,c6,py7,py7s,py5,py8 picks parts; the flags are rcalab's own.
  // --quick leaves out the cachegrind parts (c7s: about 15 minutes on 2 cores). c6: Python's
  // pickle. py*: CPython 3.11 per count variant and Debian's stock python3.11 (cpython.cpp).
  const char *parts_env = std::getenv("RCALAB_VM_PARTS");
  const std::string parts = parts_env       ? parts_env
                            : ctx.opt.quick ? "c7,c5,c5k,c3,c6,py7,py5,py8"
                                            : "c7,c7s,c5,c5k,c3,c6,py7,py7s,py5,py8";
  const std::vector<std::string> known = {"c7", "c7s", "c5",   "c5k", "c3",
                                          "c6", "py7", "py7s", "py5", "py8"};
  std::vector<std::string> want;
  std::istringstream in(parts);
  for (std::string p; std::getline(in, p, ',');) {
    if (p.empty()) continue;
    if (std::find(known.begin(), known.end(), p) == known.end()) {
      ctx.note(
          "vm: unknown part '%s' in RCALAB_VM_PARTS (known: c7 c7s c5 c5k c3 c6 py7 py7s py5 "
          "py8)",
          p.c_str());
      return 2;
    }
    want.push_back(p);
  }
  auto has = [&](const char *p) { return std::find(want.begin(), want.end(), p) != want.end(); };
  const bool duktape_parts =
      std::any_of(want.begin(), want.end(), [](const std::string &p) { return p[0] == 'c'; });
  if (duktape_parts && (std::string(RCA_VMS_BIN_DIR).empty() || !exists(duk("idx-freeze")) ||
                        !exists(duk("inline-nofreeze")))) {
    ctx.note(
        "vm: the Duktape builds are missing (configure with -DRCA_BUILD_VMS=ON and the default "
        "RCA_DUK_VARIANTS; build the rca-duk target)");
    return 2;
  }
  int rc = 0;
  if (has("c7") && (rc = part_c7(ctx)) != 0) return rc;
  if (has("c7s") && (rc = part_c7sim(ctx)) != 0) return rc;
  if (has("c5") && (rc = part_c5(ctx)) != 0) return rc;
  if (has("c5k") && (rc = part_c5k(ctx)) != 0) return rc;
  if (has("c3") && (rc = part_c3(ctx)) != 0) return rc;
  if (has("c6") && (rc = part_c6(ctx)) != 0) return rc;
  for (const char *p : {"py7", "py7s", "py5", "py8"})
    if (has(p) && (rc = run_cpython_part(ctx, p)) != 0) return rc;
  return 0;
}

}  // namespace rca::lab
