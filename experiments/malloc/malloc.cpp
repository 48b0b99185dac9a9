// rcalab malloc — rca's allocator as the process's malloc (librca_malloc.so by LD_PRELOAD)
// against glibc's malloc and Debian's mimalloc and jemalloc, on an allocator suite: the
// programs beside this file (one per workload from the literature, each checking its own data)
// and whole programs (Duktape as shipped, Python with PYTHONMALLOC=malloc).
//
// Every run is its own process; repetitions are interleaved (repetition i of every allocator
// before repetition i+1 of any, the allocators' order rotated per repetition), so a burst of
// load from elsewhere lands on all of them. Per run: the workload's own clock around its
// measured region (time_ms), and from wait4 the process's CPU time (cpu_ms) and peak RSS
// (peak_rss_kib). Then per workload the ratio of each allocator's median to mimalloc's with the
// 95 % bootstrap interval paired by repetition, and per thread count the geomean of the ratios
// with its interval; rca's geomean is also given against jemalloc. An allocator that cannot run
// here (library missing, preload refused) gets `unavailable` rows with the reason, never
// numbers. Targets (issue 14) are judged by experiments/plots/malloc_table.py from these rows.
#include "harness/command.hpp"
#include "harness/measure.hpp"
#include "harness/progress.hpp"
#include "rcalab/experiment.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace rca::lab {
namespace {

#ifndef RCA_MALLOC_BIN_DIR
#define RCA_MALLOC_BIN_DIR ""
#endif
#ifndef RCA_MALLOC_SOURCE_DIR
#define RCA_MALLOC_SOURCE_DIR ""
#endif
#ifndef RCA_MALLOC_RCA_LIB
#define RCA_MALLOC_RCA_LIB ""
#endif
#ifndef RCA_VMS_BIN_DIR
#define RCA_VMS_BIN_DIR ""
#endif
#ifndef RCA_VMS_JS_DIR
#define RCA_VMS_JS_DIR ""
#endif
#ifndef RCA_MALLOC_MIMALLOC
#define RCA_MALLOC_MIMALLOC "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2"
#endif
#ifndef RCA_MALLOC_JEMALLOC
#define RCA_MALLOC_JEMALLOC "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
#endif
#ifndef RCA_MALLOC_PY_SCRIPTS
#define RCA_MALLOC_PY_SCRIPTS ""
#endif

constexpr const char *kPython = "/usr/bin/python3";
constexpr const char *kDuktape = "rca-duk-inline-nofreeze";  // Duktape as shipped: inline counts

bool exists(const std::string &p) {
  struct stat st;
  return !p.empty() && stat(p.c_str(), &st) == 0;
}

std::string real(const std::string &p) {
  char buf[PATH_MAX];
  return realpath(p.c_str(), buf) ? std::string(buf) : p;
}

// ---- allocators ---------------------------------------------------------------------------------

struct allocator {
  std::string name;         ///< the backend column: system (glibc), mimalloc, jemalloc, rca
  std::string lib;          ///< preloaded library; empty for system
  std::string unavailable;  ///< why it cannot run here; empty when it can
  std::vector<std::pair<std::string, std::string>> env() const {
    return {{"LD_PRELOAD", lib}};  // empty: removed, so glibc's malloc serves
  }
};

std::string default_lib(const std::string &name) {
  if (name == "mimalloc") return RCA_MALLOC_MIMALLOC;
  if (name == "jemalloc") return RCA_MALLOC_JEMALLOC;
  if (name == "rca") return RCA_MALLOC_RCA_LIB;
  return "";
}

std::string bin(const std::string &workload) {
  return std::string(RCA_MALLOC_BIN_DIR) + "/malloc-" + workload;
}

// One tiny run of a workload program under the preload: the library named in its result line
// must be the one preloaded (ld.so only warns, and runs on glibc's malloc, when a preload fails).
std::string probe(const allocator &a) {
  if (a.lib.empty()) return "";
  if (!exists(a.lib)) return "library not found: " + a.lib;
  const process_output o = run_process({bin("larson"), "--scale", "0.05"}, a.env());
  const auto res = key_value_lines(o.out, "malloc-bench result");
  if (o.status != 0 || res.size() != 1) {
    std::string first = o.out.substr(0, o.out.find('\n'));
    return "preload failed (exit " + std::to_string(o.status) + "): " + first;
  }
  const std::string got = res[0].count("malloc_lib") ? res[0].at("malloc_lib") : "";
  if (real(got) != real(a.lib)) return "preload did not take: malloc came from " + got;
  return "";
}

std::vector<allocator> allocators(context &ctx) {
  std::vector<std::string> names;
  for (auto b : ctx.opt.backends) names.push_back(rca_backend_name(b));
  if (names.empty()) names = {"system", "mimalloc", "jemalloc", "rca"};
  std::vector<allocator> v;
  for (const auto &n : names) {
    allocator a{n, default_lib(n), ""};
    for (const auto &[name, path] : ctx.opt.malloc_libs)
      if (name == n) a.lib = path;
    if (n == "rca" && a.lib.empty())
      a.unavailable = "librca_malloc.so is not built in this tree (CMake target rca_malloc)";
    else a.unavailable = probe(a);
    if (!a.unavailable.empty())
      ctx.note("malloc: %s unavailable: %s", n.c_str(), a.unavailable.c_str());
    v.push_back(a);
  }
  return v;
}

// ---- workloads ----------------------------------------------------------------------------------

struct workload {
  std::string name, kind;  ///< kind: program | duktape | python
  std::vector<unsigned> threads;
  std::string what;  ///< the work figure's unit, for the human-readable line
};

const std::vector<workload> &workloads() {
  static const std::vector<workload> v = {
      {"larson", "program", {1, 2}, "replacements"},
      {"prodcons", "program", {2}, "blocks"},
      {"cache_scratch", "program", {1, 2}, "bytes written"},
      {"cache_thrash", "program", {1, 2}, "bytes written"},
      {"xmalloc", "program", {1, 2}, "blocks"},
      {"pymix", "program", {1, 2}, "allocations"},
      {"realloc_growth", "program", {1, 2}, "reallocs"},
      {"large_mix", "program", {1, 2}, "buffers"},
      {"duk_binary_trees", "duktape", {1}, "runs"},
      {"duk_richards", "duktape", {1}, "runs"},
      {"duk_string_build", "duktape", {1}, "runs"},
      {"duk_sort", "duktape", {1}, "runs"},
      {"duk_dict", "duktape", {1}, "runs"},
      {"duk_numeric", "duktape", {1}, "runs"},
      {"python_objects", "python", {1}, "records"},
      {"python_cow", "python", {1}, "tuples"},
  };
  return v;
}

// Duktape programs and their sizes (the suite of rcalab vm's C7), full and quick.
struct js_program {
  const char *file, *size, *quick_size;
};
js_program js_of(const std::string &workload) {
  static const std::map<std::string, js_program> m = {
      {"duk_binary_trees", {"binary_trees.js", "12", "9"}},
      {"duk_richards", {"richards.js", "30", "4"}},
      {"duk_string_build", {"string_build.js", "60000", "8000"}},
      {"duk_sort", {"sort.js", "40000", "5000"}},
      {"duk_dict", {"dict.js", "200000", "25000"}},
      {"duk_numeric", {"numeric.js", "6", "1"}}};
  return m.at(workload);
}

struct run_spec {
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string prefix, size;  ///< the result line's prefix; the size parameter for the rows
  std::string unavailable;
};

run_spec spec_of(const options &opt, const workload &w, unsigned threads) {
  run_spec s;
  if (w.kind == "program") {
    s.size = opt.quick ? "0.1" : "1";
    s.argv = {bin(w.name), "--threads", std::to_string(threads), "--scale",
              s.size,      "--seed",    std::to_string(opt.seed)};
    s.prefix = "malloc-bench result";
    if (!exists(s.argv[0])) s.unavailable = "workload program not built: " + s.argv[0];
  } else if (w.kind == "duktape") {
    const js_program p = js_of(w.name);
    s.size = opt.quick ? p.quick_size : p.size;
    const std::string duk = std::string(RCA_VMS_BIN_DIR) + "/" + kDuktape;
    s.argv = {duk,
              "--placement",
              "inline",
              "--backend",
              "system",
              "--no-stats",
              std::string(RCA_VMS_JS_DIR) + "/" + p.file,
              s.size};
    s.prefix = "rca-duk result";
    if (!exists(duk))
      s.unavailable = std::string("Duktape not built (") + kDuktape + ": RCA_BUILD_VMS=ON)";
  } else {
    const bool objects = w.name == "python_objects";
    s.size = objects ? (opt.quick ? "10000" : "60000") : (opt.quick ? "100000" : "1000000");
    const std::string script = std::string(RCA_MALLOC_SOURCE_DIR) + "/python_workloads.py";
    s.argv = {kPython, script, objects ? "objects" : "cow"};
    if (!objects) s.argv.push_back(RCA_MALLOC_PY_SCRIPTS);
    s.argv.push_back(s.size);
    s.env = {{"PYTHONMALLOC", "malloc"}};
    s.prefix = "malloc-bench result";
    if (!exists(kPython)) s.unavailable = std::string(kPython) + " not found";
  }
  return s;
}

// The machine's 1-minute load average (other jobs share these cores): kept with every series.
std::string load1() {
  FILE *f = std::fopen("/proc/loadavg", "r");
  if (!f) return "NA";
  char buf[32] = {0};
  const int got = std::fscanf(f, "%31s", buf);
  std::fclose(f);
  return got == 1 ? buf : "NA";
}

double num(const key_values &m, const std::string &k) {
  auto it = m.find(k);
  return it == m.end() ? NAN : std::atof(it->second.c_str());
}

// ---- rows ---------------------------------------------------------------------------------------

row malloc_row(context &ctx, const allocator &a, const std::string &variant, unsigned threads) {
  row r = ctx.base("malloc", "-");
  r.set("variant", variant).set("placement", "none").set("handle", "none");
  r.set("semantics", "none").set("backend", a.name).set("threads", threads);
  return r;
}

struct series_set {
  std::vector<sample> time, cpu, rss;
};

struct config_result {
  std::string workload;
  unsigned threads;
  std::map<std::string, series_set> by_alloc;  ///< allocator -> repetitions
};

// Ratio of one metric's repetitions, allocator a over baseline b: median ratio and interval.
struct ratio {
  double value = NAN;
  interval ci{NAN, NAN};
};
std::vector<double> values(const std::vector<sample> &s) {
  std::vector<double> v;
  for (const auto &x : s) v.push_back(x.value);
  return v;
}
ratio ratio_of(const std::vector<sample> &a, const std::vector<sample> &b) {
  ratio r;
  if (a.empty() || b.empty()) return r;
  r.value = summarize(values(a)).median / summarize(values(b)).median;
  r.ci = bootstrap_ratio({{values(a), values(b)}}, /*paired=*/true);
  return r;
}

const std::vector<std::pair<const char *, std::vector<sample> series_set::*>> kMetrics = {
    {"time", &series_set::time}, {"cpu", &series_set::cpu}, {"rss", &series_set::rss}};

void emit_ratio(context &ctx, const allocator &a, const std::string &variant, unsigned threads,
                const std::string &metric, const std::string &baseline, const char *stat,
                const char *method, double value, interval ci, int n) {
  row r = malloc_row(ctx, a, variant, threads);
  r.set("method", method).param("baseline", baseline).param("reps", "interleaved");
  r.set("stat", stat).set("metric", metric).set("value", value).set("unit", "x");
  if (n) r.set("n", n);
  r.set("ci_lo", ci.lo).set("ci_hi", ci.hi);
  ctx.out.write("malloc", r);
}

// Instructions of each workload program at one thread under callgrind (deterministic, unlike
// time): one small run per allocator, the whole process counted (workload and allocator; the
// workload's own share is the same under every allocator). callgrind does not replace malloc, so
// the preloaded allocator is the one counted.
void part_instructions(context &ctx, const std::vector<workload> &chosen,
                       const std::vector<const allocator *> &ready) {
  const options &opt = ctx.opt;
  if (opt.callgrind == "off" || (opt.callgrind == "auto" && opt.quick)) return;
  if (run_command("valgrind --version").status != 0) {
    ctx.note("malloc: valgrind not found: no instruction counts");
    return;
  }
  const std::string scale = opt.quick ? "0.005" : "0.02";
  const char *method = "callgrind";
  std::map<std::string, std::map<std::string, double>> ir;  // workload -> allocator -> Ir
  for (const auto &w : chosen) {
    if (w.kind != "program" || !exists(bin(w.name))) continue;
    for (const allocator *a : ready) {
      auto env = a->env();
      // rca reserves 64 GiB of address space for its spans by default; valgrind cannot map that.
      if (a->name == "rca") env.emplace_back("RCA_OBJECT_LIMIT", "4g");
      const process_output o = run_process(
          {"/usr/bin/valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", bin(w.name),
           "--threads", "1", "--scale", scale, "--seed", std::to_string(opt.seed)},
          env);
      const auto res = key_value_lines(o.out, "malloc-bench result");
      const auto pos = o.out.find("Collected : ");
      const std::string lib =
          res.size() == 1 && res[0].count("malloc_lib") ? res[0].at("malloc_lib") : std::string();
      if (o.status != 0 || res.size() != 1 || pos == std::string::npos ||
          (!a->lib.empty() && real(lib) != real(a->lib))) {
        const auto at = o.out.find(a->name + ":");
        const std::string why =
            "callgrind run failed (exit " + std::to_string(o.status) + ")" +
            (at == std::string::npos ? std::string()
                                     : ": " + o.out.substr(at, o.out.find('\n', at) - at));
        ctx.note("malloc: %s with %s: %s", w.name.c_str(), a->name.c_str(), why.c_str());
        row r = malloc_row(ctx, *a, w.name, 1);
        r.param("workload", w.name).param("unavailable", why);
        r.set("method", method).set("stat", "unavailable").set("metric", "instructions");
        r.set("unit", "count");
        ctx.out.write("malloc", r);
        continue;
      }
      const double n = std::atof(o.out.c_str() + pos + 12);
      ir[w.name][a->name] = n;
      row r = malloc_row(ctx, *a, w.name, 1);
      r.param("workload", w.name).param("kind", w.kind).param("size", scale);
      r.param("scope", "whole process");
      if (!a->lib.empty()) r.param("lib", a->lib);
      if (a->name == "rca") r.param("rca_object_limit", "4g");
      r.set("method", method).set("rep", 0).set("stat", "raw").set("n", 1);
      r.set("metric", "instructions").set("value", n).set("unit", "count");
      ctx.out.write("malloc", r);
    }
  }
  // Ratios to mimalloc and their geomean: exact measures, so the interval is the value.
  for (const allocator *a : ready) {
    if (a->name == "mimalloc") continue;
    double logsum = 0;
    int n = 0;
    for (const auto &[w, by] : ir) {
      if (!by.count(a->name) || !by.count("mimalloc")) continue;
      const double q = by.at(a->name) / by.at("mimalloc");
      emit_ratio(ctx, *a, w, 1, "instructions_vs_mimalloc", "mimalloc", "ratio", method, q, {q, q},
                 0);
      logsum += std::log(q);
      ++n;
    }
    if (!n) continue;
    const double geo = std::exp(logsum / n);
    emit_ratio(ctx, *a, "geomean", 1, "instructions_vs_mimalloc", "mimalloc", "geomean", method,
               geo, {geo, geo}, n);
    ctx.note("malloc geomean 1 thr %-8s instructions_vs_mimalloc %.3fx (callgrind, %d workloads)",
             a->name.c_str(), geo, n);
  }
}

}  // namespace

int run_malloc(context &ctx) {
  const options &opt = ctx.opt;
  if (std::string(RCA_MALLOC_BIN_DIR).empty()) {
    ctx.note("malloc: the workload programs are not part of this build");
    return 2;
  }
  std::vector<workload> chosen;
  for (const auto &w : workloads())
    if (opt.workloads.empty() ||
        std::find(opt.workloads.begin(), opt.workloads.end(), w.name) != opt.workloads.end())
      chosen.push_back(w);
  for (const auto &name : opt.workloads)
    if (std::none_of(workloads().begin(), workloads().end(),
                     [&](const workload &w) { return w.name == name; })) {
      std::string known;
      for (const auto &w : workloads()) known += (known.empty() ? "" : ",") + w.name;
      ctx.note("malloc: unknown workload '%s' (known: %s)", name.c_str(), known.c_str());
      return 2;
    }
  for (const auto &[name, path] : opt.malloc_libs)
    if (name != "mimalloc" && name != "jemalloc" && name != "rca") {
      ctx.note("malloc: --malloc-lib %s=%s: only mimalloc, jemalloc and rca are preloaded",
               name.c_str(), path.c_str());
      return 2;
    }
  const std::vector<allocator> allocs = allocators(ctx);
  std::vector<const allocator *> ready;
  for (const auto &a : allocs)
    if (a.unavailable.empty()) ready.push_back(&a);

  std::vector<config_result> results;
  std::size_t configs = 0;
  for (const auto &w : chosen) configs += w.threads.size();
  progress bar("malloc", configs);
  for (const auto &w : chosen) {
    for (unsigned t : w.threads) {
      if (!opt.threads.empty() &&
          std::find(opt.threads.begin(), opt.threads.end(), t) == opt.threads.end())
        continue;
      const run_spec spec = spec_of(opt, w, t);
      // Rows for what cannot run: the workload here, or an allocator.
      for (const auto &a : allocs) {
        const std::string why = !spec.unavailable.empty() ? spec.unavailable : a.unavailable;
        if (why.empty()) continue;
        row r = malloc_row(ctx, a, w.name, t);
        r.param("workload", w.name).param("unavailable", why);
        r.set("stat", "unavailable").set("metric", "time_ms").set("unit", "ms");
        ctx.out.write("malloc", r);
      }
      if (!spec.unavailable.empty()) {
        ctx.note("malloc: %s unavailable: %s", w.name.c_str(), spec.unavailable.c_str());
        bar.step(w.name);
        continue;
      }
      config_result res{w.name, t, {}};
      const std::string load_before = load1();
      std::map<std::string, double> last_ops;
      for (int rep = -opt.warmup; rep < opt.reps; ++rep) {
        for (std::size_t k = 0; k < ready.size(); ++k) {
          // Rotated order: no allocator always runs right after the same other one.
          const std::size_t shift = static_cast<std::size_t>(rep + opt.warmup) % ready.size();
          const allocator &a = *ready[(k + shift) % ready.size()];
          auto env = a.env();
          env.insert(env.end(), spec.env.begin(), spec.env.end());
          const process_output o = run_process(spec.argv, env);
          const auto lines = key_value_lines(o.out, spec.prefix);
          std::string cmd;
          for (const auto &x : spec.argv) cmd += (cmd.empty() ? "" : " ") + x;
          if (o.status != 0 || lines.size() != 1 || std::isnan(num(lines[0], "ms"))) {
            ctx.note("malloc: %s under %s failed (exit %d):\n%s", cmd.c_str(), a.name.c_str(),
                     o.status, o.out.c_str());
            return 1;
          }
          if (o.out.find("cannot be preloaded") != std::string::npos) {
            ctx.note("malloc: %s: the preload of %s was refused:\n%s", cmd.c_str(), a.lib.c_str(),
                     o.out.c_str());
            return 1;
          }
          const std::string lib = lines[0].count("malloc_lib") ? lines[0].at("malloc_lib") : "-";
          if (lib != "-" && !a.lib.empty() && real(lib) != real(a.lib)) {
            ctx.note("malloc: %s under %s: malloc came from %s", cmd.c_str(), a.name.c_str(),
                     lib.c_str());
            return 1;
          }
          last_ops[a.name] = num(lines[0], "ops");
          if (rep < 0) continue;
          series_set &s = res.by_alloc[a.name];
          s.time.push_back(sample{num(lines[0], "ms"), {}});
          s.cpu.push_back(sample{o.cpu_ms, {}});
          s.rss.push_back(sample{o.max_rss_kib, {}});
        }
      }
      const std::string load_after = load1();
      for (const allocator *a : ready) {
        series_set &s = res.by_alloc[a->name];
        row r = malloc_row(ctx, *a, w.name, t);
        r.param("workload", w.name).param("kind", w.kind).param("size", spec.size);
        r.param("ops", last_ops[a->name]).param("reps", "interleaved");
        r.param("load1_before", load_before).param("load1_after", load_after);
        if (!a->lib.empty()) r.param("lib", a->lib);
        r.set("method", "workload_clock");
        const summary st = emit_series(ctx.out, "malloc", r, "time_ms", "ms", s.time);
        r.set("method", "wait4_rusage");
        emit_series(ctx.out, "malloc", r, "cpu_ms", "ms", s.cpu);
        const summary sr = emit_series(ctx.out, "malloc", r, "peak_rss_kib", "KiB", s.rss);
        ctx.note("malloc %-16s %u thr %-8s time %9.1f ms [%.1f..%.1f]  peak RSS %8.0f KiB",
                 w.name.c_str(), t, a->name.c_str(), st.median, st.min, st.max, sr.median);
      }
      results.push_back(std::move(res));
      bar.step(w.name);
    }
  }

  part_instructions(ctx, chosen, ready);

  // Ratios to the baselines per workload, and geomeans per thread count, each with its interval.
  for (const char *baseline : {"mimalloc", "jemalloc"}) {
    const bool have_base = std::any_of(ready.begin(), ready.end(),
                                       [&](const allocator *a) { return a->name == baseline; });
    if (!have_base) {
      ctx.note("malloc: %s unavailable: no ratios to it", baseline);
      continue;
    }
    for (const allocator *a : ready) {
      if (a->name == baseline) continue;
      std::map<unsigned, std::map<std::string, std::vector<compared_series>>> pooled;
      std::map<unsigned, std::map<std::string, std::pair<double, int>>> logs;  // sum, n
      for (const auto &res : results) {
        const series_set &sa = res.by_alloc.at(a->name), &sb = res.by_alloc.at(baseline);
        for (const auto &[metric, member] : kMetrics) {
          const ratio q = ratio_of(sa.*member, sb.*member);
          const std::string name = std::string(metric) + "_vs_" + baseline;
          if (std::string(baseline) == "mimalloc")  // per workload: against mimalloc only
            emit_ratio(ctx, *a, res.workload, res.threads, name, baseline, "ratio",
                       "ratio_of_medians", q.value, q.ci, 0);
          pooled[res.threads][metric].push_back({values(sa.*member), values(sb.*member)});
          auto &l = logs[res.threads][metric];
          l.first += std::log(q.value);
          ++l.second;
        }
      }
      for (const auto &[threads, by_metric] : pooled) {
        for (const auto &[metric, series] : by_metric) {
          const auto [logsum, n] = logs[threads][metric];
          const double geo = std::exp(logsum / n);
          const interval ci = bootstrap_ratio(series, /*paired=*/true);
          const std::string name = metric + "_vs_" + baseline;
          emit_ratio(ctx, *a, "geomean", threads, name, baseline, "geomean", "geomean_of_ratios",
                     geo, ci, n);
          if (metric != "cpu")
            ctx.note("malloc geomean %u thr %-8s %s %.3fx [%.3f, %.3f] over %d workloads", threads,
                     a->name.c_str(), name.c_str(), geo, ci.lo, ci.hi, n);
        }
      }
    }
  }
  return 0;
}

}  // namespace rca::lab
