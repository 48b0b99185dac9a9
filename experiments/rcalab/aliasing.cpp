// C4 — "the compiler cannot know what the pointer actually refers to and what it might alias",
// and modern CPUs make that cheap.
//
// Runs the kernels of aliasing_kernels.cpp (three builds x inline/handle/span/granule x u32/f64
// fields) on objects from an inline heap, a shared-pointer heap and computed heaps (address span,
// address granule): ns per object, hardware instructions
// when available, and otherwise instructions per object from callgrind (the kernels alone,
// --toggle-collect). The assembly of each build is copied to <out>/asm/, and the static
// instruction count of each kernel is a row too.
#include "../harness/environment.hpp"
#include "../harness/measure.hpp"
#include "experiment.hpp"
#include "objects.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#ifndef RCALAB_ASM_DIR
#define RCALAB_ASM_DIR ""
#endif

extern "C" {
// clang-format does not settle on one layout of this macro: off for it.
// clang-format off
#define RCA_LAB_DECLARE_ONE(build, layout, field) \
  double rca_lab_alias_##build##_##layout##_##field(void *const *, std::size_t, std::uintptr_t);
#define RCA_LAB_DECLARE(build)               \
  RCA_LAB_DECLARE_ONE(build, inline, u32)    \
  RCA_LAB_DECLARE_ONE(build, inline, f64)    \
  RCA_LAB_DECLARE_ONE(build, handle, u32)    \
  RCA_LAB_DECLARE_ONE(build, handle, f64)    \
  RCA_LAB_DECLARE_ONE(build, span, u32)      \
  RCA_LAB_DECLARE_ONE(build, span, f64)      \
  RCA_LAB_DECLARE_ONE(build, granule, u32)   \
  RCA_LAB_DECLARE_ONE(build, granule, f64)
// clang-format on
RCA_LAB_DECLARE(strict)
RCA_LAB_DECLARE(nostrict)
RCA_LAB_DECLARE(restrict)
}

namespace rca::lab {
namespace {

using kernel_fn = double (*)(void *const *, std::size_t, std::uintptr_t);
struct kernel {
  const char *build, *layout, *field;
  kernel_fn fn;
  std::string name() const {
    return std::string("rca_lab_alias_") + build + "_" + layout + "_" + field;
  }
};

#define RCA_LAB_KERNEL_ROW(build, layout, field)                                                   \
  { #build, #layout, #field, rca_lab_alias_##build##_##layout##_##field }
#define RCA_LAB_KERNELS(build)                                                                     \
  RCA_LAB_KERNEL_ROW(build, inline, u32), RCA_LAB_KERNEL_ROW(build, inline, f64),                  \
      RCA_LAB_KERNEL_ROW(build, handle, u32), RCA_LAB_KERNEL_ROW(build, handle, f64),              \
      RCA_LAB_KERNEL_ROW(build, span, u32), RCA_LAB_KERNEL_ROW(build, span, f64),                  \
      RCA_LAB_KERNEL_ROW(build, granule, u32), RCA_LAB_KERNEL_ROW(build, granule, f64)
const kernel kKernels[] = {RCA_LAB_KERNELS(strict), RCA_LAB_KERNELS(nostrict),
                           RCA_LAB_KERNELS(restrict)};

const char *build_flags(const std::string &b) {
  return b == "strict"     ? "default (-fstrict-aliasing at -O2+)"
         : b == "nostrict" ? "-fno-strict-aliasing"
                           : "__restrict on object and slot";
}

// Objects visited per repetition: ~16 Mi natively (tens of ms); 1 Mi under callgrind (nested),
// where every instruction costs ~50x.
std::size_t passes_for(std::size_t n, bool nested, std::size_t ops = 16u << 20) {
  return std::max<std::size_t>(1, (nested ? 1u << 20 : ops) / n);
}

// Static instruction count of a function in a GNU as listing (between its label and .cfi_endproc).
long static_instructions(const std::string &asm_text, const std::string &fn) {
  std::istringstream in(asm_text);
  bool inside = false;
  long count = 0;
  for (std::string line; std::getline(in, line);) {
    if (!inside) {
      if (line == fn + ":") inside = true;
      continue;
    }
    if (line.find(".cfi_endproc") != std::string::npos || line.rfind("\t.size", 0) == 0) break;
    if (line.size() > 1 && line[0] == '\t' && line[1] != '.') ++count;
  }
  return inside ? count : -1;
}

// Instructions per kernel from callgrind, collected only inside the kernels.
std::map<std::string, double> callgrind_ir(std::size_t n, std::string &why) {
  std::map<std::string, double> out;
  if (run_capture("command -v valgrind").empty() ||
      run_capture("command -v callgrind_annotate").empty()) {
    why = "valgrind not found";
    return out;
  }
  char tmpl[] = "/tmp/rcalab-callgrind-XXXXXX";
  if (!mkdtemp(tmpl)) {
    why = "mkdtemp failed";
    return out;
  }
  std::string dir = tmpl, file = dir + "/callgrind.out";
  std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::string cmd = "RCALAB_NESTED=1 valgrind --tool=callgrind --callgrind-out-file='" + file +
                    "' --toggle-collect='rca_lab_alias_*' '" + self +
                    "' aliasing --callgrind off --reps 1 --warmup 0 --objects " +
                    std::to_string(n) + " --out - >/dev/null 2>&1 && callgrind_annotate '" + file +
                    "' 2>/dev/null";
  std::string text = run_capture(cmd);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("rca_lab_alias_");
    if (at == std::string::npos) continue;
    std::string num;
    for (char ch : line.substr(0, line.find_first_of("( ", line.find_first_not_of(' '))))
      if (ch >= '0' && ch <= '9') num += ch;
    std::string fn = line.substr(at, line.find_first_of(" [", at) - at);
    if (!num.empty()) out[fn] = std::stod(num);
  }
  std::filesystem::remove_all(dir);
  if (out.empty()) why = "callgrind produced no kernel counts";
  return out;
}

}  // namespace

int run_aliasing(context &ctx) {
  const options &opt = ctx.opt;
  const std::size_t n = opt.objects.empty() ? (opt.quick ? 4096 : 65536) : opt.objects.front();
  const std::size_t passes =
      passes_for(n, std::getenv("RCALAB_NESTED") != nullptr, ops_target(opt, 16u << 20, 16u << 20));
  const bool nested = std::getenv("RCALAB_NESTED") != nullptr;

  // Objects: an inline heap, a shared-pointer heap and two computed heaps, fields filled.
  population inl({RCA_PLACEMENT_INLINE, RCA_HANDLE_KIND_POINTER, 32}, n, opt.object_bytes);
  population hnd({RCA_PLACEMENT_SHARED, RCA_HANDLE_KIND_POINTER, 32}, n, opt.object_bytes);
  population spn({RCA_PLACEMENT_COMPUTED, RCA_HANDLE_KIND_POINTER, 32, RCA_ADDRESS_SPAN}, n,
                 opt.object_bytes);
  population gra({RCA_PLACEMENT_COMPUTED, RCA_HANDLE_KIND_POINTER, 32, RCA_ADDRESS_GRANULE}, n,
                 opt.object_bytes);
  const std::uintptr_t bias = rca_computed_bias(gra.heap.get());
  auto population_of = [&](const kernel &k) -> const population & {
    const std::string l = k.layout;
    return l == "inline" ? inl : l == "handle" ? hnd : l == "span" ? spn : gra;
  };
  for (auto *pop : {&inl, &hnd, &spn, &gra})
    for (std::size_t i = 0; i < n; ++i) {
      char *p = static_cast<char *>(pop->objs[i]) + kPayloadOffset;
      // Normal doubles (subnormals would add microcode assists to the f64 kernels); the u32
      // kernels read the same bytes as integers, which is fine for them.
      double d[2] = {static_cast<double>(i) * 0.5 + 1.0, 3.0};
      std::memcpy(p, d, sizeof d);
    }

  // Assembly beside the results.
  std::map<std::string, std::string> asm_text;
  for (const char *b : {"strict", "nostrict", "restrict"}) {
    std::string src = std::string(RCALAB_ASM_DIR) + "/aliasing_" + b + ".s";
    std::ifstream f(src);
    if (!f) continue;
    std::stringstream ss;
    ss << f.rdbuf();
    asm_text[b] = ss.str();
    if (opt.out != "-") {
      std::filesystem::create_directories(opt.out + "/asm");
      std::ofstream(opt.out + "/asm/aliasing_" + b + ".s") << asm_text[b];
    }
  }

  std::map<std::string, double> ir;
  std::string ir_why = "not requested";
  const bool hw_instr = ctx.counters.available(event::instructions);
  if (!nested && (opt.callgrind == "on" || (opt.callgrind == "auto" && !hw_instr)))
    ir = callgrind_ir(std::min<std::size_t>(n, 4096), ir_why);

  // Every kernel is compared with the others: interleave their repetitions.
  std::vector<std::function<double()>> bodies;
  for (const kernel &k : kKernels) {
    const population &pop = population_of(k);
    bodies.push_back([&pop, &k, n, passes, bias] {
      double sum = 0, t0 = now_ns();
      for (std::size_t p = 0; p < passes; ++p) sum += k.fn(pop.objs.data(), n, bias);
      double t1 = now_ns();
      asm volatile("" ::"x"(sum));
      return (t1 - t0) / static_cast<double>(n * passes);
    });
  }
  auto series = repeat_interleaved(ctx.counters, opt.warmup, opt.reps, bodies);
  for (std::size_t ki = 0; ki < std::size(kKernels); ++ki) {
    const kernel &k = kKernels[ki];
    const population &pop = population_of(k);
    row r = ctx.base("aliasing", "C4");
    r.set("variant", std::string(k.build) + "/" + k.field)
        .set("placement", rca_placement_name(pop.lay.placement));
    r.set("handle", pop.lay.handle_kind_name()).set("slot_bits", 32).set("semantics", "plain");
    r.set("backend", pop.lay.placement == RCA_PLACEMENT_COMPUTED ? "rca" : "system");
    r.set("objects", n)
        .set("object_bytes", opt.object_bytes)
        .set("working_set_bytes", n * opt.object_bytes)
        .set("threads", 1);
    r.set("method", "wall_clock")
        .param("build", k.build)
        .param("flags", build_flags(k.build))
        .param("field_type", k.field);
    r.param("kernel", k.name())
        .param("passes", static_cast<double>(passes))
        .param("reps", "interleaved");
    emit_series(ctx.out, "aliasing", r, "ns_per_object", "ns", series[ki]);
    auto cpu = cpu_per_op(series[ki], static_cast<double>(n * passes));
    if (!cpu.empty()) {
      row c = r;
      c.set("method", "task_clock");
      emit_series(ctx.out, "aliasing", c, "cpu_ns_per_object", "ns", cpu);
    }
    if (auto it = asm_text.find(k.build); it != asm_text.end()) {
      row s = r;
      long c = static_instructions(it->second, k.name());
      s.set("method", "asm_listing")
          .set("rep", 0)
          .set("stat", "raw")
          .set("metric", "static_instructions")
          .set("unit", "instructions");
      s.set("value", c >= 0 ? std::optional<double>(static_cast<double>(c)) : std::nullopt);
      ctx.out.write("aliasing", s);
    }
    if (auto it = ir.find(k.name()); it != ir.end()) {
      row s = r;
      const std::size_t cn = std::min<std::size_t>(n, 4096);
      s.set("method", "callgrind")
          .set("objects", cn)
          .set("rep", 0)
          .set("stat", "raw")
          .set("metric", "instructions_per_object");
      s.set("unit", "instructions")
          .set("value", it->second / static_cast<double>(cn * passes_for(cn, true)));
      ctx.out.write("aliasing", s);
    }
  }
  if (!nested && ir.empty() && !hw_instr)
    ctx.note("aliasing: no instruction counts: %s", ir_why.c_str());

  // Verdicts: experiments/plots/verdicts.py reads these rows (rule table there).
  return 0;
}

}  // namespace rca::lab
