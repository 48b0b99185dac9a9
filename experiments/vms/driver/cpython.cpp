// rcalab vm, CPython parts: CPython 3.11 built per count variant (experiments/vms/python,
// -DRCA_BUILD_CPYTHON=ON; `inline` is the same source unpatched) and Debian's stock python3.11
// as a second baseline (built with PGO and LTO, so it is the faster one; the variants are
// compared with `inline`, which differs from them only by the patch).
//
// py7   C7: time of each program (python/bench, listed in programs.txt) per interpreter, the
//       repetitions interleaved across interpreters; the program's own process CPU time of its
//       work (interpreter start and imports excluded); ratios to inline and to stock per program
//       and their geomean, each with a paired 95 % bootstrap interval.
// py7s  C7 under cachegrind (explicit geometry, deterministic: this decides): instructions and
//       D1/LL misses of each program minus those of the same program at size 0 (interpreter
//       start and the program's imports), and their geomeans over the programs.
// py5   C5: python/bench/prefork.py builds >= 1 M objects, optionally gc.freeze() and
//       _rca.freeze() (the refcount-page sweep), forks K read-only workers (the library
//       librca_vm_prefork.so: the probe and lines of the Duktape host); per worker the pages made
//       private split object / refcount, and the workers' summed PSS; the freeze sweep's time.
// py8   C8: python/c8's extension, compiled against Debian's stock 3.11 headers (legacy
//       ob_refcnt++), loaded into every interpreter: ok, wrong counts, or a crash with its signal.
//
// Which variants exist is decided at run time: every variant CMake was configured to build and
// every variant this file knows, each available when <build>/cpython/<variant>/build/python
// runs. The others get one row each with stat=unavailable and the reason, never a value.
#include "vm_parts.hpp"
#include "harness/command.hpp"
#include "harness/progress.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace rca::lab {
namespace {

#ifndef RCA_CPYTHON_ROOT
#define RCA_CPYTHON_ROOT ""  // <build>/cpython
#endif
#ifndef RCA_CPYTHON_CONFIGURED
#define RCA_CPYTHON_CONFIGURED ""  // RCA_CPYTHON_VARIANTS, comma-separated ("" when not configured)
#endif
#ifndef RCA_VMS_PYBENCH_DIR
#define RCA_VMS_PYBENCH_DIR ""
#endif
#ifndef RCA_VMS_C8_DIR
#define RCA_VMS_C8_DIR ""
#endif
#ifndef RCA_VMS_PREFORK_LIB
#define RCA_VMS_PREFORK_LIB ""
#endif

constexpr const char *kStockPython = "/usr/bin/python3.11";
// Variants this driver knows even when CMake was not asked for them (reported unavailable).
constexpr const char *kKnownVariants[] = {"inline",       "idx-nofreeze", "idx-freeze",
                                          "ptr-nofreeze", "ptr-freeze",   "idx-freeze-legacy"};

using kv = key_values;

double num(const kv &m, const std::string &k) {
  auto it = m.find(k);
  return it == m.end() || it->second == "NA" ? NAN : std::atof(it->second.c_str());
}

bool exists(const std::string &p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string last_line(const std::string &text) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  const auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Free text as a parameter value: the params column separates with ';' and '='.
std::string text_param(std::string s) {
  for (char &c : s) {
    if (c == ';') c = ',';
    else if (c == '=') c = ':';
    else if (c == '\n' || c == '\t') c = ' ';
  }
  return s.size() > 160 ? s.substr(0, 160) : s;
}

struct interpreter {
  std::string name;  // stock | inline | <idx|ptr|...>-<freeze|nofreeze>[-...][@backend]
  std::string path;
  std::string why;  // "" = available
  // "@B" after an -rcamem build's name: the same interpreter with RCA_BACKEND=B, a run-time
  // choice of where its object memory comes from (default: the heap's default, system).
  std::string backend_override() const {
    const auto at = name.find('@');
    return at == std::string::npos ? std::string() : name.substr(at + 1);
  }
  std::string build() const { return name.substr(0, name.find('@')); }
  bool available() const { return why.empty(); }
  std::string kind() const { return name.substr(0, name.find('-')); }
  bool patched() const { return name != "stock" && name != "inline"; }
  bool rca_memory() const { return kind() == "computed" || build().ends_with("-rcamem"); }
  // Where object memory comes from: pymalloc, or the rca heap's backend (computed: rca's spans).
  std::string backend() const {
    if (name == "stock") return "pymalloc(debian)";
    if (!rca_memory()) return "pymalloc";
    if (kind() == "computed") return "rca";
    return backend_override().empty() ? "system" : backend_override();
  }
  std::string variant() const { return "cpython-" + name; }
  std::string handle() const {
    const std::string k = kind();
    return k == "idx" ? "index" : k == "ptr" ? "pointer" : k == "computed" ? "span" : "none";
  }
  bool freeze_check() const {
    return name.find("-freeze") != std::string::npos && name.find("nofreeze") == std::string::npos;
  }
  std::string placement() const {
    return !patched() ? "inline" : kind() == "computed" ? "computed" : "shared";
  }
  // rca's options in the environment (patched builds), before any wrapper such as valgrind
  // (which would measure `env` alone: it does not follow an exec).
  std::string env() const {
    if (!patched()) return std::string();
    std::string e = "env RCA_PLACEMENT=" + placement() + " ";
    if (!backend_override().empty()) e += "RCA_BACKEND=" + backend_override() + " ";
    return e;
  }
  // The interpreter without Python's own environment variables and user site.
  std::string argv() const { return path + " -E -s"; }
  std::string command() const { return env() + argv(); }
};

std::vector<std::string> split(const std::string &s, char sep) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string x; std::getline(in, x, sep);)
    if (!x.empty()) out.push_back(x);
  return out;
}

// Stock first, then the configured variants, then the known ones not configured.
std::vector<interpreter> interpreters() {
  std::vector<interpreter> out;
  interpreter stock{"stock", kStockPython, ""};
  if (!exists(kStockPython)) stock.why = std::string(kStockPython) + " is missing (python3.11)";
  out.push_back(stock);
  const std::vector<std::string> configured = split(RCA_CPYTHON_CONFIGURED, ',');
  std::vector<std::string> names = configured;
  for (const char *v : kKnownVariants)
    if (std::find(names.begin(), names.end(), v) == names.end()) names.push_back(v);
  for (const auto &v : names) {
    interpreter it{v, std::string(RCA_CPYTHON_ROOT) + "/" + v + "/build/python", ""};
    const bool is_configured =
        std::find(configured.begin(), configured.end(), v) != configured.end();
    if (!is_configured)
      it.why = "not configured (-DRCA_BUILD_CPYTHON=ON, RCA_CPYTHON_VARIANTS without " + v + ")";
    else if (!exists(it.path))
      it.why = "configured but not built: " + it.path + " is missing (target cpython-" + v + ")";
    out.push_back(it);
  }
  // RCALAB_VM_PYTHONS=stock,inline,...: only these (a run that adds builds to an earlier one);
  // <build>-rcamem@<backend> adds that build run with RCA_BACKEND=<backend>.
  if (const char *only = std::getenv("RCALAB_VM_PYTHONS")) {
    const std::vector<std::string> keep = split(only, ',');
    for (const auto &k : keep) {
      const auto at = k.find('@');
      if (at == std::string::npos) continue;
      auto base = std::find_if(out.begin(), out.end(),
                               [&](const interpreter &it) { return it.name == k.substr(0, at); });
      interpreter it{k, base == out.end() ? std::string() : base->path,
                     base == out.end() ? "no build " + k.substr(0, at) : base->why};
      static const char *const kBackends[] = {"system", "mimalloc", "jemalloc", "rca"};
      if (it.available() && !it.build().ends_with("-rcamem"))
        it.why = k + ": @backend needs an -rcamem build (the others keep pymalloc)";
      else if (it.available() &&
               std::find_if(std::begin(kBackends), std::end(kBackends), [&](const char *b) {
                 return it.backend_override() == b;
               }) == std::end(kBackends))
        it.why = k + ": unknown backend (system, mimalloc, jemalloc, rca)";
      out.push_back(it);
    }
    std::erase_if(out, [&](const interpreter &it) {
      return std::find(keep.begin(), keep.end(), it.name) == keep.end();
    });
  }
  for (auto &it : out) {
    if (!it.available()) continue;
    command_output o =
        run_command(it.command() + " -c 'import sys; print(sys.version_info[:2] == (3, 11))'");
    if (o.status != 0 || last_line(o.out) != "True")
      it.why = it.path + " does not run as CPython 3.11 (exit " + std::to_string(o.status) +
               "): " + last_line(o.out);
  }
  return out;
}

struct program {
  std::string name;
  std::string full, quick, sim;
  std::string file() const { return std::string(RCA_VMS_PYBENCH_DIR) + "/" + name + ".py"; }
};

// python/bench/programs.txt: "name full quick sim" per line, '#' comments.
std::vector<program> programs(context &ctx) {
  std::vector<program> out;
  const std::string path = std::string(RCA_VMS_PYBENCH_DIR) + "/programs.txt";
  std::ifstream in(path);
  if (!in) {
    ctx.note("vm: cannot read %s: no CPython programs", path.c_str());
    return out;
  }
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream w(line);
    program p;
    if (!(w >> p.name >> p.full >> p.quick >> p.sim)) {
      ctx.note("vm: %s: bad line '%s' (want: name full quick sim)", path.c_str(), line.c_str());
      return {};
    }
    out.push_back(p);
  }
  return out;
}

row py_row(context &ctx, const char *claim, const interpreter &it) {
  row r = ctx.base("vm", claim);
  r.set("variant", it.variant()).set("placement", it.placement()).set("handle", it.handle());
  r.set("semantics", it.freeze_check() ? "plain+freeze_check" : "plain");
  r.set("backend", it.backend()).set("threads", 1);
  if (it.patched()) r.set("slot_bits", 32);
  r.param("vm", "cpython");
  return r;
}

// One row per interpreter that is not available: the part's main metric, NA, and why.
void emit_unavailable(context &ctx, const char *claim, const char *part, const char *metric,
                      const std::vector<interpreter> &its) {
  for (const auto &it : its) {
    if (it.available()) continue;
    row r = py_row(ctx, claim, it);
    r.set("method", part).param("unavailable", text_param(it.why));
    r.set("stat", "unavailable").set("metric", metric).na("value");
    ctx.out.write("vm", r);
    ctx.note("vm %s: cpython %s unavailable: %s", part, it.name.c_str(), it.why.c_str());
  }
}

std::vector<const interpreter *> available(const std::vector<interpreter> &its) {
  std::vector<const interpreter *> out;
  for (const auto &it : its)
    if (it.available()) out.push_back(&it);
  return out;
}

const interpreter *find(const std::vector<const interpreter *> &its, const std::string &name) {
  for (const auto *it : its)
    if (it->name == name) return it;
  return nullptr;
}

// A program that failed on an interpreter (its self-check, or a crash): a row that says so.
void emit_failed(context &ctx, const char *claim, const char *part, const interpreter &it,
                 const program &p, const std::string &size, const command_output &o) {
  row r = py_row(ctx, claim, it);
  r.set("method", part).param("program", p.name + ".py").param("size", size);
  const int sig = o.status > 128 ? o.status - 128 : 0;
  r.param("failed", sig ? "signal " + std::to_string(sig) : "exit " + std::to_string(o.status));
  r.param("detail", text_param(last_line(o.out)));
  r.set("stat", "failed").set("metric", "run_cpu_ms").na("value");
  ctx.out.write("vm", r);
  ctx.note("vm %s: %s on cpython %s failed (exit %d): %s", part, p.name.c_str(), it.name.c_str(),
           o.status, last_line(o.out).c_str());
}

// ---- py7: time -----------------------------------------------------------------------------

int part_py7(context &ctx) {
  const options &opt = ctx.opt;
  const auto progs = programs(ctx);
  if (progs.empty()) return 1;
  const auto all = interpreters();
  emit_unavailable(ctx, "C7", "py7", "run_cpu_ms", all);
  const auto its = available(all);
  std::map<std::pair<std::string, std::string>, std::vector<double>> cpu;  // (interp, program)
  std::map<std::pair<std::string, std::string>, summary> med;
  progress bar("vm C7 cpython", progs.size());
  for (const auto &p : progs) {
    const std::string &size = opt.quick ? p.quick : p.full;
    std::vector<std::vector<sample>> cpu_s(its.size()), wall_s(its.size());
    std::vector<bool> failed(its.size());
    for (int rep = -opt.warmup; rep < opt.reps; ++rep) {
      for (std::size_t i = 0; i < its.size(); ++i) {
        if (failed[i]) continue;
        const std::string cmd = its[i]->command() + " " + p.file() + " " + size;
        ctx.counters.start();
        command_output o = run_command(cmd);
        counter_values cv = ctx.counters.stop();
        const auto res = key_value_lines(o.out, "bench ");
        if (o.status != 0 || res.size() != 1 || !res[0].count("cpu_ms")) {
          emit_failed(ctx, "C7", "py7", *its[i], p, size, o);
          failed[i] = true;
          continue;
        }
        if (rep >= 0) {
          cpu_s[i].push_back(sample{num(res[0], "cpu_ms"), cv});
          wall_s[i].push_back(sample{num(res[0], "wall_ms"), cv});
        }
      }
    }
    for (std::size_t i = 0; i < its.size(); ++i) {
      if (failed[i] || cpu_s[i].empty()) continue;
      row r = py_row(ctx, "C7", *its[i]);
      r.set("method", "program_process_cputime").param("program", p.name + ".py");
      r.param("size", size).param("reps", "interleaved");
      med[{its[i]->name, p.name}] = emit_series(ctx.out, "vm", r, "run_cpu_ms", "ms", cpu_s[i]);
      for (const auto &s : cpu_s[i]) cpu[{its[i]->name, p.name}].push_back(s.value);
      r.set("method", "program_wall_clock");
      emit_series(ctx.out, "vm", r, "run_wall_ms", "ms", wall_s[i]);
    }
    bar.step(p.name);
  }
  // Ratios per program and their geomean against each baseline that ran: inline (the same
  // source unpatched) and Debian's stock build.
  for (const char *base_name : {"inline", "stock"}) {
    const interpreter *base = find(its, base_name);
    const std::string metric = std::string("time_vs_") + base_name;
    if (!base) {
      ctx.note("vm py7: cpython %s not available: no %s rows", base_name, metric.c_str());
      continue;
    }
    for (const interpreter *it : its) {
      if (it == base) continue;
      std::vector<compared_series> series;
      double logsum = 0;
      int n = 0, beyond = 0;
      for (const auto &p : progs) {
        const auto a = med.find({it->name, p.name}), b = med.find({base->name, p.name});
        if (a == med.end() || b == med.end()) continue;
        series.push_back({cpu[{it->name, p.name}], cpu[{base->name, p.name}]});
        const interval ci = bootstrap_ratio({series.back()}, /*paired=*/true);
        const double ratio = a->second.median / b->second.median;
        row r = py_row(ctx, "C7", *it);
        r.set("method", "ratio_of_medians").param("program", p.name + ".py");
        r.param("baseline", base->variant());
        r.set("stat", "ratio").set("metric", metric).set("value", ratio).set("unit", "x");
        r.set("min", a->second.min / b->second.max).set("max", a->second.max / b->second.min);
        r.set("ci_lo", ci.lo).set("ci_hi", ci.hi);
        ctx.out.write("vm", r);
        logsum += std::log(ratio);
        beyond += beyond_noise(a->second, b->second);
        ++n;
      }
      if (!n) continue;
      const double geo = std::exp(logsum / n);
      const interval ci = bootstrap_ratio(series, /*paired=*/true);
      row r = py_row(ctx, "C7", *it);
      r.set("method", "geomean_of_ratios").param("baseline", base->variant());
      r.param("programs_beyond_noise", static_cast<double>(beyond));
      r.set("stat", "geomean").set("n", n).set("metric", metric).set("value", geo);
      r.set("unit", "x").set("ci_lo", ci.lo).set("ci_hi", ci.hi);
      ctx.out.write("vm", r);
      ctx.note("C7 cpython %-14s geomean %.4fx [%.4f, %.4f] vs %s (%d of %d programs beyond noise)",
               it->name.c_str(), geo, ci.lo, ci.hi, base_name, beyond, n);
    }
  }
  return 0;
}

// ---- py7s: cachegrind ----------------------------------------------------------------------

int part_py7s(context &ctx) {
  const auto progs = programs(ctx);
  if (progs.empty()) return 1;
  const auto all = interpreters();
  if (run_command("valgrind --version").status != 0) {
    ctx.note("vm py7s: valgrind not found: no simulated C7 for CPython");
    return 0;
  }
  emit_unavailable(ctx, "C7", "py7s", "instructions", all);
  const auto its = available(all);
  char cg_file[] = "/tmp/rcalab-vm-py-cachegrind-XXXXXX";
  const int fd = mkstemp(cg_file);
  if (fd < 0) {
    ctx.note("vm py7s: mkstemp failed: no simulated C7 for CPython");
    return 0;
  }
  close(fd);
  const std::string cg = cachegrind_command(cg_file);
  const std::vector<std::pair<const char *, const char *>> metrics = {
      {"Irefs", "instructions"}, {"D1misses", "d1_misses"}, {"LLmisses", "ll_misses"}};
  std::map<std::pair<std::string, std::string>, std::map<std::string, double>> got;
  progress bar("vm C7 cpython simulated", progs.size());
  for (const auto &p : progs) {
    for (const interpreter *it : its) {
      std::map<std::string, double> run[2];  // [0]: size 0 (start + imports), [1]: the program
      // Runs first, outside valgrind, at both sizes write the byte code of every module the
      // program imports (__pycache__), at start or only once it works: else the size-0 run of a
      // fresh build compiles the first (the net instructions came out short by that: pickling.py's
      // by half), and the measured run the second (pickling.py 1.21x inline's instead of 1.12x).
      run_command(it->command() + " " + p.file() + " 0");
      run_command(it->command() + " " + p.file() + " " + p.sim);
      bool ok = true;
      for (int k = 0; k < 2 && ok; ++k) {
        const std::string size = k ? p.sim : "0";
        command_output o = run_command(it->env() + cg + it->argv() + " " + p.file() + " " + size);
        run[k] = cachegrind_summary(o.out);
        if (o.status != 0 || !run[k].count("Irefs") ||
            key_value_lines(o.out, "bench ").size() != 1) {
          emit_failed(ctx, "C7", "py7s", *it, p, size, o);
          ok = false;
        }
      }
      if (!ok) continue;
      for (const auto &[key, metric] : metrics) {
        const double net = run[1][key] - run[0][key];
        got[{it->name, p.name}][metric] = net;
        row r = py_row(ctx, "C7", *it);
        r.set("method", kCachegrindMethod).param("program", p.name + ".py").param("size", p.sim);
        r.param("scope", "program minus its size-0 run (interpreter start and imports)");
        r.set("rep", 0).set("stat", "raw").set("n", 1).set("metric", metric).set("value", net);
        r.set("unit", "count");
        ctx.out.write("vm", r);
        row w = r;
        w.set("metric", std::string(metric) + "_process").set("value", run[1][key]);
        ctx.out.write("vm", w);
      }
    }
    bar.step(p.name);
  }
  std::remove(cg_file);
  for (const char *base_name : {"inline", "stock"}) {
    const interpreter *base = find(its, base_name);
    if (!base) continue;
    for (const interpreter *it : its) {
      if (it == base) continue;
      for (const auto &[key, metric] : metrics) {
        double logsum = 0;
        int n = 0;
        for (const auto &p : progs) {
          const auto a = got.find({it->name, p.name}), b = got.find({base->name, p.name});
          if (a == got.end() || b == got.end()) continue;
          const double x = a->second.at(metric), y = b->second.at(metric);
          if (x <= 0 || y <= 0) continue;
          logsum += std::log(x / y);
          ++n;
        }
        if (!n) continue;
        const double geo = std::exp(logsum / n);
        row r = py_row(ctx, "C7", *it);
        r.set("method", kCachegrindMethod).param("baseline", base->variant());
        r.set("stat", "geomean").set("n", n).set("value", geo).set("unit", "x");
        r.set("metric", std::string(metric) + "_vs_" + base_name);
        r.set("ci_lo", geo).set("ci_hi", geo);  // one simulated run each: an exact measure
        ctx.out.write("vm", r);
        ctx.note("C7s cpython %-14s %-12s geomean %.4fx vs %s", it->name.c_str(), metric, geo,
                 base_name);
      }
    }
  }
  return 0;
}

// ---- py5: prefork --------------------------------------------------------------------------

int part_py5(context &ctx) {
  const options &opt = ctx.opt;
  const auto all = interpreters();
  const std::string lib = RCA_VMS_PREFORK_LIB;
  if (lib.empty() || !exists(lib)) {
    ctx.note("vm py5: %s is not built (target rca_vm_prefork): no CPython prefork rows",
             lib.empty() ? "librca_vm_prefork.so" : lib.c_str());
    for (auto it : all) {
      if (it.available()) it.why = "librca_vm_prefork.so not built (target rca_vm_prefork)";
      emit_unavailable(ctx, "C5", "py5", "heap_private_pct", {it});
    }
    return 0;
  }
  emit_unavailable(ctx, "C5", "py5", "heap_private_pct", all);
  const auto its = available(all);
  const int workers = opt.children ? opt.children : 2;
  // 7 objects per record: 150000 records are 1.05 M objects.
  const std::string records = opt.objects.empty()
                                  ? (opt.quick ? "30000" : "150000")
                                  : std::to_string(std::max<std::size_t>(1, opt.objects[0] / 7));
  progress bar("vm C5 cpython", its.size());
  for (const interpreter *it : its) {
    for (int freeze : {0, 1}) {
      const std::string cmd = it->command() + " " + RCA_VMS_PYBENCH_DIR + "/prefork.py " + lib +
                              " " + std::to_string(workers) + " " + records + " 1 " +
                              std::to_string(freeze);
      command_output o = run_command(cmd);
      const auto setup = key_value_lines(o.out, "cpython setup ");
      const auto ws = key_value_lines(o.out, "cpython worker ");
      const auto mem = key_value_lines(o.out, "cpython prefork_memory");
      if (o.status != 0 || setup.size() != 1 || ws.size() != std::size_t(workers) ||
          mem.size() != 1) {
        ctx.note("vm py5: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
        row r = py_row(ctx, "C5", *it);
        r.set("method", "py5").param("gc_freeze", freeze ? "1" : "0");
        r.param("failed", "exit " + std::to_string(o.status));
        r.param("detail", text_param(last_line(o.out)));
        r.set("stat", "failed").set("metric", "heap_private_pct").na("value");
        ctx.out.write("vm", r);
        continue;
      }
      const kv &s = setup[0];
      // frozen: the counts themselves were frozen (_rca.freeze); gc_freeze: gc.freeze() ran.
      const bool counts_frozen =
          !std::isnan(num(s, "counts_frozen")) && num(s, "counts_frozen") > 0;
      auto base = [&](const char *method) {
        row r = py_row(ctx, "C5", *it);
        r.set("method", method).set("objects", num(s, "objects"));
        r.param("frozen", counts_frozen ? "1" : "0").param("gc_freeze", freeze ? "1" : "0");
        r.param("records", records).param("workers", static_cast<double>(workers));
        r.param("obj_pages_shared", num(ws[0], "obj_pages_shared"));
        r.param("rc_pages_shared", num(ws[0], "rc_pages_shared"));
        return r;
      };
      auto series = [&](const char *metric, const char *unit, auto value) {
        std::vector<sample> v;
        for (const auto &w : ws) {
          sample x;
          x.value = value(w);
          x.counters[event::minor_faults] = num(w, "minflt");
          v.push_back(x);
        }
        return emit_series(ctx.out, "vm", base("pagemap_exclusive_bit56"), metric, unit, v);
      };
      if (!ws[0].count("heap_private_pct")) {
        row r = base("pagemap_exclusive_bit56");
        r.param("unavailable", "the workers could not read /proc/self/pagemap");
        r.set("stat", "unavailable").set("metric", "heap_private_pct").na("value");
        ctx.out.write("vm", r);
      } else {
        const summary heap =
            series("heap_private_pct", "%", [](const kv &w) { return num(w, "heap_private_pct"); });
        series("object_pages_private", "pages",
               [](const kv &w) { return num(w, "obj_pages_private"); });
        series("refcount_pages_private", "pages",
               [](const kv &w) { return num(w, "rc_pages_private"); });
        // Issue 13's target: private pages at most 1.1x the refcount pages a worker touches.
        if (it->patched())
          series("private_vs_refcount_pages", "x", [](const kv &w) {
            const double rc = num(w, "rc_pages_private");
            return rc > 0 ? (rc + num(w, "obj_pages_private")) / rc : NAN;
          });
        ctx.note(
            "C5 cpython %-14s %-9s heap private %.2f%% (objects %s/%s pages, refcounts "
            "%s/%s pages)",
            it->name.c_str(),
            counts_frozen ? "frozen"
            : freeze      ? "gc.freeze"
                          : "",
            heap.median, ws[0].at("obj_pages_private").c_str(),
            ws[0].at("obj_pages_shared").c_str(), ws[0].at("rc_pages_private").c_str(),
            ws[0].at("rc_pages_shared").c_str());
      }
      series("worker_ms", "ms", [](const kv &w) { return num(w, "ms"); });
      if (mem[0].count("pss_kb_sum")) {
        for (const char *key :
             {"pss_kb_sum", "uss_kb_sum", "rss_kb_sum", "one_rss_kb", "pss_vs_one_rss"}) {
          row r = base("smaps_rollup_parent_and_workers");
          r.set("rep", 0).set("stat", "raw").set("n", 1).set("metric", key);
          r.set("value", num(mem[0], key))
              .set("unit", std::string(key) == "pss_vs_one_rss" ? "x" : "kB");
          ctx.out.write("vm", r);
        }
      } else {
        row r = base("smaps_rollup_parent_and_workers");
        r.param("unavailable", "smaps_rollup could not be read");
        r.set("stat", "unavailable").set("metric", "pss_kb_sum").na("value");
        ctx.out.write("vm", r);
      }
      // The setup's own times: building, gc.freeze(), and the refcount-page sweep (ms per million
      // counts frozen; once per process: prefork.py says why a sweep is never undone).
      {
        row r = base("setup_wall_clock");
        emit_series(ctx.out, "vm", r, "build_ms", "ms", {sample{num(s, "build_ms"), {}}});
        if (freeze)
          emit_series(ctx.out, "vm", r, "gc_freeze_ms", "ms", {sample{num(s, "gc_freeze_ms"), {}}});
        if (counts_frozen) {
          const std::vector<sample> per_million{
              sample{num(s, "rca_freeze_ms") * 1e6 / num(s, "counts_frozen"), {}}};
          r.param("counts_frozen", num(s, "counts_frozen"));
          const summary f =
              emit_series(ctx.out, "vm", r, "freeze_ms_per_million_counts", "ms", per_million);
          ctx.note(
              "C5 cpython %-14s freeze sweep %.1f ms per million counts [%.1f..%.1f] (%s "
              "counts)",
              it->name.c_str(), f.median, f.min, f.max, s.at("counts_frozen").c_str());
        }
      }
      ctx.note("C5 cpython %-14s %-9s summed PSS %s kB (one RSS %s kB, PSS/one %s)",
               it->name.c_str(),
               counts_frozen ? "frozen"
               : freeze      ? "gc.freeze"
                             : "",
               mem[0].count("pss_kb_sum") ? mem[0].at("pss_kb_sum").c_str() : "NA",
               mem[0].count("one_rss_kb") ? mem[0].at("one_rss_kb").c_str() : "NA",
               mem[0].count("pss_vs_one_rss") ? mem[0].at("pss_vs_one_rss").c_str() : "NA");
    }
    bar.step(it->name);
  }
  return 0;
}

// ---- py8: legacy extension -----------------------------------------------------------------

int part_py8(context &ctx) {
  const auto all = interpreters();
  emit_unavailable(ctx, "C8", "py8", "c8_ok", all);
  const auto its = available(all);
  const std::string c8 = std::string(RCA_VMS_C8_DIR) + "/c8.py";
  if (its.empty() || !exists(c8) || !exists(kStockPython) ||
      run_command("/usr/bin/python3.11-config --includes >/dev/null && gcc --version >/dev/null")
              .status != 0) {
    ctx.note(
        "vm py8: needs %s, python3.11-config and gcc (the extension is built against stock "
        "3.11 headers): no C8 rows",
        c8.c_str());
    return 0;
  }
  char dir[] = "/tmp/rcalab-vm-c8-XXXXXX";
  if (!mkdtemp(dir)) {
    ctx.note("vm py8: mkdtemp failed: no C8 rows");
    return 0;
  }
  // One c8.py per interpreter, under that build's own rca options (the computed builds refuse
  // any placement but theirs).
  std::vector<key_values> lines;
  for (const interpreter *it : its) {
    const std::string cmd =
        it->env() + kStockPython + " " + c8 + " " + dir + " " + it->name + "=" + it->path;
    command_output o = run_command(cmd);
    auto got = key_value_lines(o.out, "c8 ");
    if (o.status != 0 || got.empty()) {
      run_command(std::string("rm -rf ") + dir);
      ctx.note("vm py8: %s failed (exit %d):\n%s", cmd.c_str(), o.status, o.out.c_str());
      return 1;
    }
    lines.insert(lines.end(), got.begin(), got.end());
  }
  run_command(std::string("rm -rf ") + dir);
  for (const auto &l : lines) {
    const interpreter *it = find(its, l.at("variant"));
    if (!it) continue;
    row r = py_row(ctx, "C8", *it);
    const std::string outcome = l.at("outcome");
    r.set("method", "stock_3.11_extension").param("scenario", l.at("scenario"));
    r.param("outcome", outcome).param("rc", l.at("rc"));
    r.param("detail", text_param(l.count("detail") ? l.at("detail") : ""));
    r.set("rep", 0).set("stat", "raw").set("n", 1).set("metric", "c8_ok");
    r.set("value", outcome == "ok" ? 1.0 : 0.0).set("unit", "bool");
    ctx.out.write("vm", r);
    ctx.note("C8 cpython %-14s %-6s %s (rc %s) %s", it->name.c_str(), l.at("scenario").c_str(),
             outcome.c_str(), l.at("rc").c_str(), l.count("detail") ? l.at("detail").c_str() : "");
  }
  return 0;
}

}  // namespace

int run_cpython_part(context &ctx, const std::string &part) {
  if (std::string(RCA_VMS_PYBENCH_DIR).empty()) {
    ctx.note("vm %s: rcalab was built without the VMs (RCA_BUILD_VMS=OFF): no CPython rows",
             part.c_str());
    return 0;
  }
  if (part == "py7") return part_py7(ctx);
  if (part == "py7s") return part_py7s(ctx);
  if (part == "py5") return part_py5(ctx);
  if (part == "py8") return part_py8(ctx);
  ctx.note("vm: unknown CPython part '%s'", part.c_str());
  return 2;
}

}  // namespace rca::lab
